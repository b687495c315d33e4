"""Grouping's pure kernels (normalising, signing, aligning) on every core, with the results of one process.

A :class:`KernelPool` maps a module-level function over batches in worker processes and hands the results
back in the order of the batches, so that what a pass stores does not depend on the number of workers. The
workers start at the first batch that is worth sending (small passes, like most tests and increments, stay
in this process), die with their parent and leave stopping to it, as extraction workers do
(``crawler.capture.ExtractionPool``). A value every batch reads (:class:`Shipped`) crosses to each worker once.
"""

from __future__ import annotations

import gc
import os
import pickle
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import IO, Any, Generic, Self, TypeVar

from crawler.errors import SyndtraceError
from crawler.lifecycle import kill_workers, worker_started

T = TypeVar("T")


class WorkerDiedError(SyndtraceError):
    """A worker process of a grouping pass ended abruptly (a signal, the out-of-memory killer)."""


class KernelPool:
    """``workers`` processes (0: one per CPU; 1: none, everything in this process)."""

    def __init__(self, workers: int = 0):
        self.workers = workers or os.cpu_count() or 1
        self.executor: ProcessPoolExecutor | None = None

    def map(self, kernel: Callable[..., Any], batches: Iterable[tuple[Any, tuple]], parallel: bool = True
            ) -> Iterator[tuple[Any, Any]]:
        """(tag, ``kernel(*args)``) for each (tag, args), in order; the tag stays in this process. Reads
        ``batches`` only a few ahead of the results, so a stream of texts is never held whole;
        ``parallel=False`` (too little work to ship) runs them here."""
        if not parallel or self.workers < 2:
            yield from ((tag, kernel(*args)) for tag, args in batches)
            return
        try:
            yield from self._shipped(self._executor(), kernel, batches)
        except BrokenProcessPool:
            raise self._died(kernel) from None

    def beside(self, kernel: Callable[..., T], *args: Any) -> Callable[[], T]:
        """Start ``kernel(*args)`` in a worker while this process goes on with other work; returns what waits
        for its result. With fewer than two workers nothing runs beside: the kernel runs here when its result is
        asked for."""
        if self.workers < 2:
            return lambda: kernel(*args)
        started = self._executor().submit(kernel, *args)

        def result() -> T:
            try:
                return started.result()
            except BrokenProcessPool:
                raise self._died(kernel) from None
        return result

    def _executor(self) -> ProcessPoolExecutor:
        if self.executor is None:
            self.executor = ProcessPoolExecutor(self.workers, initializer=_kernel_worker_started,
                                                initargs=(os.getpid(),))
        return self.executor

    def _died(self, kernel: Callable[..., Any]) -> WorkerDiedError:
        """The error of a pass whose worker died, its other workers killed."""
        kill_workers(self.executor)
        return WorkerDiedError(f"a grouping worker process died in {kernel.__name__.strip('_')} (killed, or out "
                               "of memory); the pass stopped: run it again")

    def _shipped(self, executor: ProcessPoolExecutor, kernel: Callable[..., Any],
                 batches: Iterable[tuple[Any, tuple]]) -> Iterator[tuple[Any, Any]]:
        pending: deque[tuple[Any, Future]] = deque()
        for tag, args in batches:
            pending.append((tag, executor.submit(kernel, *args)))
            while len(pending) > 3 * self.workers or (pending and pending[0][1].done()):
                tag, done = pending.popleft()
                yield tag, done.result()
        while pending:
            tag, done = pending.popleft()
            yield tag, done.result()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _kernel_worker_started(parent: int) -> None:
    """Initializer of a grouping worker: an extraction worker's (``worker_started``), and what it inherits from
    the pass at the fork (an increment's corpus, plan and evidence) kept out of its garbage collector
    (``gc.freeze``): a full collection went through all of it, touching, and so copying, every page it lies on
    (a 100k+10% increment's workers: 43,000 page faults and 0.8-1.0 CPU s of system time, 20,000 and 0.5 s frozen)."""
    worker_started(parent)
    gc.freeze()


def open_path(file: IO) -> str:
    """A path by which another process opens a file while this one holds it (Linux's ``/proc``): the file has no
    name, so that nothing is left behind, whichever way the process ends."""
    return f"/proc/{os.getpid()}/fd/{file.fileno()}"


_held: dict[str, Any] = {}   # in a worker: the last shipped value it loaded, by its token


class Shipped(Generic[T]):
    """A read-only value the kernels of every batch of a stage read (what the whole database says, for each
    batch of stories), pickled once into a temporary file: a batch carries this handle and each worker loads
    the value once, keeping the last one it loaded. Shipped with every batch, such a value (its size grows with
    the articles, and so does the number of batches) made the pickling grow with the square of the articles.
    In this process, and in a pass that runs its batches here, ``value`` is the value itself."""

    def __init__(self, value: T):
        self.value = value
        self.token = uuid.uuid4().hex
        self.file = tempfile.TemporaryFile(prefix="syndtrace-shipped-")  # noqa: SIM115 (held while batches run)
        pickle.dump(value, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.file.flush()
        self.path = open_path(self.file)

    def __getstate__(self) -> dict:
        return {"token": self.token, "path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.token, self.path, self.file = state["token"], state["path"], None
        if state["token"] not in _held:
            _held.clear()
            with open(state["path"], "rb") as loaded:
                _held[state["token"]] = pickle.load(loaded)
        self.value = _held[state["token"]]

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
