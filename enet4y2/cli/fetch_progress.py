"""Rich progress for the download engine: one bar per file and one for the total.

The engine only calls `Observer`/`Steps` methods (from worker threads); this module turns
them into bars on the shared terminal. rich's Progress is safe to update from threads.
"""

from __future__ import annotations

import threading

from rich.progress import Progress, TaskID

from enet4y2.fetch.coco import Steps
from enet4y2.fetch.download import Observer


class ProgressObserver(Observer):
    """Per-file bars plus a "total" bar (bytes, speed, ETA)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskID] = {}
        self._total = progress.add_task("total", total=None)

    def start(self, name: str, total: int | None, done: int) -> None:
        with self._lock:
            task = self._tasks.get(name)
            if task is None:
                self._tasks[name] = self.progress.add_task(name, total=total, completed=done)
            else:
                self.progress.update(task, total=total, completed=done)
        self._update_total()

    def advance(self, name: str, nbytes: int) -> None:
        self.progress.advance(self._tasks[name], nbytes)
        self.progress.advance(self._total, nbytes)

    def restart(self, name: str, done: int) -> None:
        task = self._tasks.get(name)
        if task is not None:
            self.progress.update(task, completed=done)
        self._update_total()

    def finish(self, name: str) -> None:
        task = self._tasks[name]
        total = _task(self.progress, task).total
        self.progress.update(task, completed=total if total is not None else None)
        self._update_total()

    def _update_total(self) -> None:
        with self._lock:
            tasks = [t for t in self.progress.tasks if t.id in self._tasks.values()]
            known = all(t.total is not None for t in tasks)
            total = sum(t.total or 0 for t in tasks) if known else None
            self.progress.update(self._total, total=total,
                                 completed=sum(t.completed for t in tasks))


class ProgressSteps(Steps):
    """One bar per step besides downloads (extraction in bytes, labels in files)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._tasks: dict[str, TaskID] = {}

    def begin(self, key: str, description: str, total: int | None) -> None:
        self._tasks[key] = self.progress.add_task(description, total=total)

    def advance(self, key: str, n: int) -> None:
        self.progress.advance(self._tasks[key], n)

    def end(self, key: str) -> None:
        task_id = self._tasks.pop(key, None)
        if task_id is not None:
            task = _task(self.progress, task_id)
            done = task.total or task.completed or 1
            self.progress.update(task_id, total=done, completed=done)


def _task(progress: Progress, task_id: TaskID):
    return next(t for t in progress.tasks if t.id == task_id)
