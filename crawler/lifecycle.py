"""A run's processes live and stop together.

A run is one command's process, its crawl child and their extraction workers. Three rules hold them
together, so a killed or stopped run never leaves a process crawling, extracting or holding the database's
run lock:

- every child asks Linux to kill it when its parent dies (``PR_SET_PDEATHSIG``), so ``kill -9`` of a command
  takes its crawl process and workers with it (:func:`die_with_parent`);
- extraction workers ignore SIGINT and SIGTERM: their parent decides when they stop (:func:`worker_started`);
- SIGTERM, SIGHUP and SIGINT to a command become a clean stop (:func:`stop_on_signals`): the run is
  recorded as stopped, children are stopped, the lock is released, and the exit code is 128 + the signal.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import threading
from collections.abc import Iterator

from crawler.errors import Stopped

PR_SET_PDEATHSIG = 1
PARENT_ENV = "SYNDTRACE_PARENT_PID"   # the pid a crawl child must outlive no process of
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def die_with_parent(parent: int | None = None) -> None:
    """Have this process killed when its parent exits; exit at once if the parent is already gone.

    ``parent`` is the pid the parent had when it started this process (a process whose parent died before
    this call has been adopted by another; then it must not go on).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):   # not Linux: the parent's own stop handling still applies
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def worker_started(parent: int) -> None:
    """Initializer of extraction workers: they die with their parent and leave stopping to it."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    die_with_parent(parent)


def kill_workers(executor) -> None:
    """Kill the workers still alive in a process pool one of whose workers died. The executor would stop them
    with SIGTERM, which they ignore (:func:`worker_started`), and one blocked handing back a result the broken
    executor no longer reads keeps its shutdown waiting for ever (Python 3.11; ``_processes`` is the
    executor's own table of its workers, read with a guard)."""
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.kill()


def child_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of a child that must die with this process (read by :func:`die_with_parent_from_env`)."""
    return {**env, PARENT_ENV: str(os.getpid())}


def die_with_parent_from_env() -> None:
    """In a child started with :func:`child_env`: die with that parent."""
    parent = os.environ.get(PARENT_ENV)
    die_with_parent(int(parent) if parent and parent.isdigit() else None)


def _raise_stopped(signum: int, _frame) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Inside, SIGTERM, SIGHUP and SIGINT raise :class:`~crawler.errors.Stopped` in the main thread, so that
    ``finally`` blocks run: transactions roll back, the run is recorded as stopped, the lock is released.
    Outside the main thread (where Python cannot take signals) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

