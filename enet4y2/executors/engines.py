"""Where shards run: a local process pool or Ray actors. Each worker opens the model once
and takes shard after shard; a worker that dies is replaced and its shard retried (at most
`retries` times), then reported. An error from the work itself (a model that does not load,
a class-count mismatch) ends the run: every worker would hit it again."""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from enet4y2.errors import MissingDependencyError, UsageError
from enet4y2.executors.jobs import Job, ShardResult, Worker
from enet4y2.executors.runs import Shard

EXECUTORS = ("local", "ray")
Done = Callable[[Shard, ShardResult], None]
#: shard id -> why it failed
Failed = dict[int, str]

_WORKER: Worker | None = None
IN_FLIGHT = 2  # shards queued on each Ray actor


def _pool_run(job: Job, shard: Shard) -> ShardResult:
    """In a pool process: the model opened on the first shard, kept for the next ones."""
    global _WORKER
    if _WORKER is None:
        _WORKER = Worker(job)
    return _WORKER.run(shard)


def _set_threads(threads: int) -> None:
    """In a pool process, before darknet loads: OpenMP threads for this worker's share of
    the cores (OpenMP's spin-waits make oversubscribed threads very slow)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)


def threads_per_worker(workers: int) -> int:
    """OMP_NUM_THREADS when set, else this machine's cores shared among the workers."""
    given = os.environ.get("OMP_NUM_THREADS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return max(1, (os.cpu_count() or 1) // workers)


class _Retries:
    def __init__(self, retries: int) -> None:
        self.retries = retries
        self.attempts: Counter = Counter()
        self.failed: Failed = {}

    def lost(self, shard: Shard, why: str, queue: deque) -> None:
        """The shard's worker died: queue the shard again, or give up on it."""
        self.attempts[shard.id] += 1
        if self.attempts[shard.id] > self.retries:
            self.failed[shard.id] = f"{why} ({self.attempts[shard.id]} tries)"
        else:
            queue.append(shard)


class LocalPool:
    """`workers` spawned processes on this machine."""

    def __init__(self, job: Job, workers: int = 1, retries: int = 2) -> None:
        self.job, self.workers, self.retries = job, workers, retries

    def run(self, todo: Sequence[Shard], done: Done) -> Failed:
        retries = _Retries(self.retries)
        queue = deque(todo)
        context = multiprocessing.get_context("spawn")  # no fork of darknet's threads
        while queue:
            size = min(self.workers, len(queue))
            pool = ProcessPoolExecutor(size, mp_context=context, initializer=_set_threads,
                                       initargs=(threads_per_worker(self.workers),))
            running: dict = {}
            try:
                while queue or running:
                    while queue and len(running) < size:  # no more than one each: a broken
                        shard = queue.popleft()         # pool charges only those running
                        running[pool.submit(_pool_run, self.job, shard)] = shard
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    broken = False
                    for future in finished:
                        shard = running.pop(future)
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            retries.lost(shard, "a worker process died", queue)
                            broken = True
                            continue
                        done(shard, result)
                    if broken:  # the pool is unusable: the others are lost too
                        for shard in running.values():
                            retries.lost(shard, "a worker process died", queue)
                        break
            finally:
                pool.shutdown(wait=False, cancel_futures=True)
        return retries.failed


class ShardActor:
    """A Ray actor: the model opened on the first shard, kept for the next ones."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.worker: Worker | None = None

    def run(self, shard: Shard) -> ShardResult:
        if self.worker is None:
            self.worker = Worker(self.job)
        return self.worker.run(shard)


def import_ray():
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("ray", "ray", "--executor ray") from None
    return ray


class RayActors:
    """`workers` Ray actors (`cpus` CPUs, as many OpenMP threads, and `gpus` GPUs each) on
    the cluster at `address`: an existing `ray.init` in this process, else a cluster started
    here (address None), else the one at `address` (`auto`, host:port, ray://...)."""

    def __init__(self, job: Job, workers: int = 1, *, address: str | None = None,
                 gpus: float = 0.0, cpus: int = 1, retries: int = 2) -> None:
        self.job, self.workers, self.address = job, workers, address
        self.gpus, self.cpus, self.retries = gpus, cpus, retries

    def _connect(self, ray) -> bool:
        if ray.is_initialized():
            return False
        try:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     logging_level="ERROR")
        except ConnectionError as exc:
            raise UsageError(f"--address {self.address}: no Ray cluster there "
                             f"({str(exc).splitlines()[0]})") from None
        return True

    def _check_resources(self, ray) -> None:
        have = ray.cluster_resources()
        for what, each in (("CPU", self.cpus), ("GPU", self.gpus)):
            need = each * self.workers
            if need and have.get(what, 0.0) < need:
                raise UsageError(f"the Ray cluster has {have.get(what, 0.0):g} {what}s; "
                                 f"--workers {self.workers} needs {need:g}")

    def run(self, todo: Sequence[Shard], done: Done) -> Failed:
        ray = import_ray()
        started = self._connect(ray)
        actors: list = []
        try:
            self._check_resources(ray)
            actor_class = ray.remote(num_cpus=self.cpus, num_gpus=self.gpus, runtime_env={
                "env_vars": {"OMP_NUM_THREADS": str(self.cpus)}})(ShardActor)
            actors = [actor_class.remote(self.job)
                      for _ in range(min(self.workers, len(todo)))]
            return self._dispatch(ray, actor_class, actors, todo, done)
        finally:
            for actor in actors:
                ray.kill(actor)
            if started:
                ray.shutdown()

    def _dispatch(self, ray, actor_class, actors: list, todo: Sequence[Shard],
                  done: Done) -> Failed:
        retries = _Retries(self.retries)
        # two shards queued on each actor: the next one starts with no round trip between
        queue, idle = deque(todo), [a for a in actors for _ in range(IN_FLIGHT)]
        running: dict = {}
        while queue or running:
            while idle and queue:
                actor, shard = idle.pop(0), queue.popleft()
                running[actor.run.remote(shard)] = (actor, shard)
            (ref,), _ = ray.wait(list(running), num_returns=1)
            actor, shard = running.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the work raised: fatal
                raise exc.cause if isinstance(exc.cause, Exception) else exc from None
            except ray.exceptions.RayActorError as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "died"
                retries.lost(shard, f"a Ray worker died: {reason}", queue)
                if actor in actors:  # its first lost shard: replace it
                    actors.remove(actor)
                    idle = [a for a in idle if a is not actor]
                    replacement = actor_class.remote(self.job)
                    actors.append(replacement)
                    idle.extend([replacement] * IN_FLIGHT)
                continue
            done(shard, result)
            idle.append(actor)
        return retries.failed
