"""Child processes, one way: argument lists (never a shell), output streamed in chunks
and kept as a tail, the child killed and reaped on any exception (Ctrl-C included), and,
when asked, SIGINT/SIGTERM/SIGHUP forwarded to it and the child tied to our life.

`output()` is for the small questions (git, nvidia-smi, pkg-config, gcc); `Child` for
the long runs (upstream's make, darknet's map run, the training supervisor).
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Output kept in memory for failure reports (callers keep everything elsewhere).
TAIL_BYTES = 64 * 1024
#: Seconds a read waits before checking for signals again (see `Child.chunks`).
POLL = 0.25
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# Run before the real program: ask the kernel to SIGKILL us when our parent dies, make
# sure the parent did not die before that, then become the program (same pid).
_DEATH_WRAPPER = (
    "import ctypes,os,signal,sys\n"
    "ctypes.CDLL(None,use_errno=True).prctl(1,signal.SIGKILL)\n"  # PR_SET_PDEATHSIG
    "os.getppid()==int(sys.argv[1]) or os._exit(137)\n"
    "os.execvp(sys.argv[2],sys.argv[2:])\n"
)


@dataclass(frozen=True)
class Finished:
    """How a short command ended: exit status (None: it could not run or timed out),
    its stdout, and its stderr (or why it could not run)."""

    code: int | None
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def reason(self) -> str:
        """The last line of stderr: what a tool like git says went wrong."""
        lines = [line.strip() for line in self.err.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit status {self.code}"


def run(argv: Sequence[str], *, timeout: float = 30, cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> Finished:
    """Run a short command to the end, capturing its output; never raises for it."""
    try:
        done = subprocess.run([str(a) for a in argv], capture_output=True, timeout=timeout,
                              cwd=cwd, env=None if env is None else dict(env), input=stdin)
    except subprocess.TimeoutExpired:
        return Finished(None, "", f"timed out after {timeout:g} s")
    except OSError as exc:
        return Finished(None, "", exc.strerror or str(exc))
    return Finished(done.returncode, done.stdout.decode(errors="replace"),
                    done.stderr.decode(errors="replace"))


def output(argv: Sequence[str], **kwargs) -> str | None:
    """stdout of a short command, or None when it is missing, fails or times out."""
    done = run(argv, **kwargs)
    return done.out if done.ok else None


def succeeds(argv: Sequence[str], **kwargs) -> bool:
    """True when the command runs and exits 0."""
    return output(argv, **kwargs) is not None


class Child:
    """A long-running child whose stdout+stderr we read.

    >>> with Child(["make", "-C", "src"]) as child:
    ...     for chunk in child.chunks():
    ...         log.write(chunk)
    ...     status = child.wait()

    Leaving the block early (an exception, Ctrl-C) kills and reaps the child.
    `forward_signals`: from the moment the child is created, SIGINT/SIGTERM/SIGHUP sent
    to us go to the child (a second one kills it) and are recorded in `interrupted`;
    signals the caller's shell ignores (nohup) stay ignored. The child gets its own
    session, so a terminal's Ctrl-C reaches it once, through us. Main thread only.
    `die_with_parent`: the kernel kills the child if this process dies, even by SIGKILL
    (Linux; the child must be started from a thread that lives as long as it).
    """

    def __init__(self, argv: Sequence[str], *, cwd: str | Path | None = None,
                 env: Mapping[str, str] | None = None, forward_signals: bool = False,
                 die_with_parent: bool = False) -> None:
        self.argv = [str(a) for a in argv]
        self.cwd, self.env = cwd, env
        self.forward_signals = forward_signals
        self.die_with_parent = die_with_parent and sys.platform.startswith("linux")
        self.interrupted: int | None = None  # the first signal forwarded
        self.tail = bytearray()
        self._proc: subprocess.Popen | None = None
        self._restore: list[tuple[int, object]] = []

    # -- lifetime ------------------------------------------------------------------
    def __enter__(self) -> Child:
        if self._proc is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Start the child (OSError when the program cannot be run); once only."""
        if self._proc is not None:
            raise RuntimeError(f"{self.argv[0]} was already started")
        argv = self.argv
        if self.die_with_parent:
            _check_runnable(argv[0], self.cwd)  # the wrapper's execvp cannot tell us
            argv = [sys.executable, "-c", _DEATH_WRAPPER, str(os.getpid()), *argv]
        if self.forward_signals:
            self._install_handlers()
        try:
            self._proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=self.cwd,
                env=None if self.env is None else dict(self.env),
                start_new_session=self.forward_signals)
        except OSError:
            self._uninstall_handlers()
            raise
        if self.interrupted:  # a signal came while the child was starting
            self._proc.send_signal(self.interrupted)

    def close(self) -> None:
        """Kill the child if it still runs, reap it, restore signal handlers."""
        self._uninstall_handlers()
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    # -- running -------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self._running().pid

    def running(self) -> bool:
        return self._running().poll() is None

    def chunks(self) -> Iterator[bytes]:
        """Output as it comes, until the child closes it. Waits in short slices, so a
        signal the kernel delivered to another thread still runs our handler promptly
        (Python runs handlers in the main thread, between system calls)."""
        fd = self._running().stdout.fileno()  # type: ignore[union-attr]
        while True:
            while not select.select([fd], [], [], POLL)[0]:
                pass
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            self.tail += chunk
            del self.tail[:-TAIL_BYTES]
            yield chunk

    def lines(self) -> Iterator[str]:
        """Output line by line (`\\n` or `\\r`), decoded, without the line end."""
        pending = b""
        for chunk in self.chunks():
            pending += chunk
            *done, pending = pending.replace(b"\r", b"\n").split(b"\n")
            for line in done:
                yield line.decode(errors="replace")
        if pending:
            yield pending.decode(errors="replace")

    def wait(self, timeout: float | None = None) -> int:
        """The exit status (negative: killed by that signal); after `timeout` seconds
        the child is killed."""
        proc = self._running()
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def terminate(self) -> None:
        if self.running():
            self._running().terminate()

    def _running(self) -> subprocess.Popen:
        if self._proc is None:
            raise RuntimeError("the child was not started")
        return self._proc

    # -- signals -------------------------------------------------------------------
    def _install_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def forward(signum, _frame):
            proc = self._proc
            if proc is not None and proc.poll() is None:
                # A second signal means "now": the child may be stuck writing or in CUDA.
                proc.send_signal(signal.SIGKILL if self.interrupted else signum)
            self.interrupted = self.interrupted or signum

        for sig in FORWARDED:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                self._restore.append((sig, signal.signal(sig, forward)))

    def _uninstall_handlers(self) -> None:
        while self._restore:
            sig, handler = self._restore.pop()
            signal.signal(sig, handler)


def _check_runnable(program: str, cwd: str | Path | None) -> None:
    """Raise the OSError Popen would raise for a program that cannot be run."""
    if os.sep in program:
        path = Path(program) if Path(program).is_absolute() else Path(cwd or ".") / program
        if not path.is_file():
            raise FileNotFoundError(2, "No such file or directory", program)
        if not os.access(path, os.X_OK):
            raise PermissionError(13, "Permission denied", program)
    elif shutil.which(program) is None:
        raise FileNotFoundError(2, "No such file or directory", program)
