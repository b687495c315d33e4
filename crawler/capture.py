"""From one capture to stored rows: the library step shared by the crawl pipeline, the distributed
coordinator, WARC ingest and re-extraction.

``extract_capture`` is pure and picklable, so ingest, re-extraction and the crawl run it in worker processes
(:class:`ExtractionPool`); ``store_capture`` and ``store_extracted`` do the writing in the process that owns
the database.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Self

from crawler.batches import batched
from crawler.errors import SyndtraceError
from crawler.lifecycle import kill_workers, worker_started
from crawler.page.extract import extract_page
from crawler.page.urls import site_of
from crawler.storage.records import FetchRecord
from crawler.storage.store import Store

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


# the bytes that the WHATWG MIME sniffing standard calls binary: no text has many of them
_BINARY_BYTES = bytes([*range(0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_HTML_START = re.compile(rb"<(!doctype\s+html|html|head|body|title|!--|meta|div|p|h1|table|script|style)[\s>/]", re.I)
BINARY_SHARE = 0.05   # random bytes hold ~10% binary bytes; a page with a few stray controls well under 1%


def looks_binary(body: bytes) -> bool:
    """What a browser would not render as a page: a head that does not open with HTML and holds more than a
    few percent of binary bytes. One NUL or a run of control characters in a page does not make it binary."""
    head = body[:4096]
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    if controls <= BINARY_SHARE * len(head):
        return False
    return not _HTML_START.match(head.translate(None, _BINARY_BYTES).lstrip(b" \t\r\n\x0c\xef\xbb\xbf"))


def is_html(content_type: str, body: bytes) -> bool:
    """HTML by declared type, or by sniffing when the type is missing or generic; never binary content."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in HTML_TYPES:
        return not looks_binary(body)
    if ctype in ("", "application/octet-stream", "text/plain"):
        head = body[:512].translate(None, _BINARY_BYTES).lstrip().lower()
        return head.startswith((b"<!doctype html", b"<html")) and not looks_binary(body)
    return False


def why_not_html(content_type: str, body: bytes) -> str:
    if not body.strip():
        return "empty page"
    if looks_binary(body):
        return "binary content"
    return f"not HTML ({(content_type or 'no content type').split(';')[0]})"


def extract_capture(body: bytes, url: str, headers: dict) -> dict:
    """The articles-table row for one HTML capture (runs in a worker process)."""
    page = extract_page(body, url, headers)
    text = page.text or ""
    return {
        "url": url, "site": site_of(url), "page_type": page.page_type, "title": page.title, "author": page.author,
        "authors": page.authors,
        "published": page.published, "modified": page.modified, "site_name": page.site_name,
        "canonical": page.canonical, "language": page.language, "text": text, "paragraphs": page.paragraphs,
        "words": len(text.split()), "attribution": page.attribution or {}, "evidence": page.evidence or {},
        "content_hash": hashlib.sha1(body).hexdigest(),
    }


def store_capture(store: Store, rec: FetchRecord, run_id: int | None = None) -> str:
    """Save the raw capture; returns 'new', 'changed', 'unchanged' or 'failed'."""
    if rec.status >= 400 or rec.status == 0:
        store.save_failure(rec.url, rec.status, rec.error or f"HTTP {rec.status}", run_id)
        return "failed"
    twin = store.same_page_elsewhere(rec)
    if twin:
        store.save_alias(rec.url, twin)
        return "duplicate"
    return store.save_fetch(rec, run_id)


def needs_extraction(store: Store, rec: FetchRecord, state: str) -> bool:
    if not (200 <= rec.status < 300) or state == "duplicate":
        return False
    content_type = rec.content_type or rec.headers.get("content-type", "")
    if not is_html(content_type, rec.body):
        if not re.search(r"xml|rss|atom", content_type, re.I):   # sitemaps and feeds are kept, not skipped
            logger.warning("skipped %s: %s", rec.url, why_not_html(content_type, rec.body))
        return False
    if state == "unchanged":
        stored = store.article_content_hash(rec.url)
        return stored is None or stored != rec.content_hash
    return True


def store_extracted(store: Store, row: dict) -> None:
    """Save an extracted page and learn its outlet name."""
    store.save_article(row)
    if row.get("site_name") and row.get("page_type") in ("home", "article", "section"):
        store.save_outlet(row["site"], row["site_name"])


def process_capture(store: Store, rec: FetchRecord, run_id: int | None = None, extracted: dict | None = None) -> str:
    """Store and extract in one go (ingest, the distributed crawl's coordinator with what a worker
    ``extracted``, and tests; the single-process crawl splits this across processes)."""
    state = store_capture(store, rec, run_id)
    if state not in ("failed", "duplicate") and needs_extraction(store, rec, state):
        try:
            store_extracted(store, extracted or extract_capture(rec.body, rec.url, rec.headers))
        except Exception as exc:  # noqa: BLE001 (a page that breaks the extractor must not stop the run)
            logger.warning("could not extract %s: %s", rec.url, exc)
            return "error"
    return state


class ExtractionWorkerDied(SyndtraceError):
    """A page's extraction ended its worker process (a crash in a parser, the out-of-memory killer)."""


class ExtractionPool:
    """Extraction on every core: worker processes that die with this one and ignore stop signals
    (``crawler.lifecycle``), fed a bounded window of pages, their results handed back in the order given, so
    that storing them gives what serial extraction gives. One worker asked for: extraction in this process.

    The workers start at once and read a small page first (:func:`extraction_worker_started`), so no real
    page waits for trafilatura's and dateparser's start-up. ``background`` workers run at a lower priority
    (``BACKGROUND_NICE``): a crawl's reactor, which feeds them, always gets a core when it has work, and
    extraction takes what is left instead of slowing every fetch.

    A page that takes its worker down costs that page only: the workers are replaced, and the pages that were
    in flight are read again one at a time, so the one that kills a worker again is known and kept raw.
    """

    def __init__(self, workers: int = 0, window: int = 0, background: bool = False):
        self.workers = workers or os.cpu_count() or 1
        # pages in flight: three tasks a worker, enough to keep every worker busy
        self.window = window or 3 * PAGES_PER_TASK * self.workers
        self.nice = BACKGROUND_NICE if background else 0
        self.executor: ProcessPoolExecutor | None = None
        self._retry_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        if self.workers > 1:
            self._start_workers()

    def _start_workers(self) -> None:
        self.executor = ProcessPoolExecutor(self.workers, initializer=extraction_worker_started,
                                            initargs=(os.getpid(), self.nice))
        self.executor.submit(os.getpid)   # start the workers now, not when the first page comes

    def _replace_workers(self, broken: ProcessPoolExecutor) -> None:
        """New workers for ``broken`` (unless a caller that saw the same breakage already replaced them), the
        survivors killed first (:func:`crawler.lifecycle.kill_workers`)."""
        if self.executor is not broken:
            return
        kill_workers(broken)
        broken.shutdown(wait=True, cancel_futures=True)
        self._start_workers()

    def ordered(self, jobs: Iterable[tuple[Any, tuple | None]]) -> Iterator[tuple[Any, dict | None]]:
        """(tag, article row or None) for each (tag, (body, url, headers)) job, in the order of the jobs; a job
        of None is passed through (a capture that needs no extraction keeps its place). Consecutive jobs go to a
        worker ``PAGES_PER_TASK`` at a time. Reads ``jobs`` only as far as the window allows, so a stream of
        captures is never held whole."""
        pending: deque[tuple[list, Future | None]] = deque()   # a task's (tag, job) pairs, its rows to come
        tasks_in_flight = max(1, -(-self.window // PAGES_PER_TASK))
        for task in batched(jobs, PAGES_PER_TASK):
            pending.append((task, self._submit_task([job for _tag, job in task])))
            while len(pending) > tasks_in_flight or (pending and _done(pending[0][1])):
                yield from self._next_results(pending)
        while pending:
            yield from self._next_results(pending)

    def _next_results(self, pending: deque) -> list[tuple[Any, dict | None]]:
        """The first pending task's (tag, row) pairs. If a worker died, every page in flight is read again one
        at a time (:meth:`_alone`), so that only the page that kills a worker again is lost."""
        try:
            rows = None if pending[0][1] is None else pending[0][1].result()
        except BrokenProcessPool:
            self._replace_workers(self.executor)
            redone = [(task, _finished([self._alone(job) for _tag, job in task])) for task, _ in pending]
            pending.clear()
            pending.extend(redone)
            rows = pending[0][1].result()
        task = pending.popleft()[0]
        return [(tag, None) for tag, _job in task] if rows is None else \
            [(tag, row) for (tag, _job), row in zip(task, rows, strict=True)]

    def _alone(self, job: tuple | None) -> dict | None:
        """One page read while no other is in flight: if its worker dies, this page is the cause."""
        if job is None:
            return None
        executor = self.executor
        try:
            return executor.submit(extract_safely, job).result()
        except BrokenProcessPool:
            logger.warning("could not extract %s: its extraction worker died (kept raw)", job[1])
            self._replace_workers(executor)
            return None

    def _submit_task(self, jobs: list[tuple | None]) -> Future | None:
        """The rows of a task's jobs to come (None: the task has nothing to extract)."""
        if not any(jobs):
            return None
        if self.executor is not None:
            return self.executor.submit(extract_all_safely, jobs)
        return _finished(extract_all_safely(jobs))

    async def extract(self, body: bytes, url: str, headers: dict) -> dict:
        """One page's row, without blocking the caller's event loop (the crawl's reactor). A page whose worker
        died is read once more on new workers, those second tries one at a time, so that the page that kills
        a worker again is the one that fails.

        Raises:
            ExtractionWorkerDied: this page took its worker down twice (it is kept raw).
        """
        if self.executor is None:
            return extract_capture(body, url, headers)
        loop = asyncio.get_running_loop()
        executor = self.executor
        try:
            return await loop.run_in_executor(executor, extract_capture, body, url, headers)
        except BrokenProcessPool:
            self._replace_workers(executor)
        async with self._second_tries(loop):
            executor = self.executor
            try:
                return await loop.run_in_executor(executor, extract_capture, body, url, headers)
            except BrokenProcessPool:
                self._replace_workers(executor)
        raise ExtractionWorkerDied(f"the extraction worker died reading {url} (kept raw)")

    def _second_tries(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        if self._retry_lock is None or self._retry_lock[0] is not loop:
            self._retry_lock = (loop, asyncio.Lock())
        return self._retry_lock[1]

    def close(self) -> None:
        """Stop the workers; pages not yet started are dropped (a stop, or the end of a stream)."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


BACKGROUND_NICE = 10   # CPU share against the reactor's nice 0: about one tenth while both want the core
# pages a worker is sent at once by ``ordered``: every task costs this process (its pool threads' queueing,
# pickling and waking) about a third of a millisecond whatever its size. Ingesting a 13,445-record WARC took
# (load 7-9) 13.8 CPU s in the ingesting process with one page a task (0.7 s of it the zlib level since lowered), 9.4 with
# 4, 8.9 with 8, 8.8 with 16; 4 keeps the pages in flight (``window``, their bodies in memory) at 24 for two workers
PAGES_PER_TASK = 4

# a small article whose date only its URL states and whose date line is in words: reading it loads everything
# extraction loads (trafilatura, the date parser's language data, htmldate) on a real page
_WARM_UP_PAGE = (b'<html lang="en"><head><title>Warm-up</title></head><body><article><h1>Warm-up</h1>'
                 b'<p>By Ann Writer</p><p>' + b'A sentence of the warm-up article. ' * 12 +
                 b'</p><p>Filed in the spring of 2021</p><p>Source: Example News</p></article></body></html>')
_WARM_UP_URL = "http://warm-up.invalid/2021/03/05/warm-up.html"


def extraction_worker_started(parent: int, nice: int = 0) -> None:
    """Initializer of extraction workers: die with the parent (``crawler.lifecycle``), lower this worker's
    priority by ``nice``, and extract one small page, so that the imports and the date parser's language data
    are loaded before the first real page, while the crawl is still reading robots.txt and sitemaps.

    What is loaded by then lives as long as the worker, so it is moved out of the garbage collector's sight
    (``gc.freeze``): otherwise every full collection walks the libraries' hundreds of thousands of objects
    again, some 5-10% of a worker's CPU."""
    worker_started(parent)
    if nice:
        os.nice(nice)
    extract_safely((_WARM_UP_PAGE, _WARM_UP_URL, {}))
    gc.collect()
    gc.freeze()


def _done(future: Future | None) -> bool:
    return future is None or future.done()


def _finished(result: Any) -> Future:
    done: Future = Future()
    done.set_result(result)
    return done


def extract_all_safely(jobs: list[tuple | None]) -> list[dict | None]:
    """The rows of one task's pages (None for a job of None, and for a page the extractor breaks on)."""
    return [None if job is None else extract_safely(job) for job in jobs]


def extract_safely(job: tuple) -> dict | None:
    """The row of one page, or None when the extractor breaks on it (the run goes on; the page is kept raw)."""
    try:
        return extract_capture(*job)
    except Exception as exc:  # noqa: BLE001 (a page that breaks the extractor must not stop the run)
        logger.warning("could not extract %s: %s", job[1], exc)
        return None


def reextract_all(store: Store, progress: Callable[[str, int, int], None] | None = None, workers: int = 0,
                  batch: int = 200) -> int:
    """Re-run extraction on every stored HTML capture (after an extractor upgrade), streamed through the pool
    and written in transactions of ``batch`` pages; returns the pages extracted."""
    total = store.counts()["fetches"]
    jobs = ((None, (r["body"], r["url"], r["headers"]) if is_html(r["headers"].get("content-type", ""), r["body"])
             else None) for r in store.iter_fetches())
    done = extracted = 0
    with ExtractionPool(workers) as pool:
        for chunk in batched(pool.ordered(jobs), batch):
            with store.batch():
                for _tag, row in chunk:
                    done += 1
                    if row is not None:
                        store_extracted(store, row)
                        extracted += 1
            if progress:
                progress("extract", done, max(done, total))
    return extracted
