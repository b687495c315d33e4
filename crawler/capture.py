"""From one capture to stored rows: the library step shared by the crawl pipeline, the distributed
coordinator, WARC ingest and re-extraction.

``extract_capture`` is pure and picklable, so the crawl runs it in worker processes (:class:`Extractor`);
``store_capture`` and ``store_extracted`` do the writing in the process that owns the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from crawler.options import CrawlOptions
from crawler.page.extract import extract_page
from crawler.page.urls import site_of
from crawler.storage.records import FetchRecord
from crawler.storage.store import Store

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str, body: bytes) -> bool:
    """HTML by declared type, or by sniffing when the type is missing or generic."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in HTML_TYPES:
        return b"\x00" not in body[:1024]
    if ctype in ("", "application/octet-stream", "text/plain"):
        head = body[:512].lstrip().lower()
        return head.startswith((b"<!doctype html", b"<html")) and b"\x00" not in body[:1024]
    return False


def why_not_html(content_type: str, body: bytes) -> str:
    if not body.strip():
        return "empty page"
    if b"\x00" in body[:1024]:
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


class Extractor:
    """Runs the extractor in a process pool (unless one worker is asked for), so fetching goes on meanwhile."""

    def __init__(self, options: CrawlOptions):
        workers = options.extract_workers or max(1, (os.cpu_count() or 1))
        self.pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None

    async def __call__(self, body: bytes, url: str, headers: dict) -> dict:
        if self.pool is None:
            return extract_capture(body, url, headers)
        return await asyncio.get_running_loop().run_in_executor(self.pool, extract_capture, body, url, headers)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def reextract_all(store: Store, progress: Callable[[str, int, int], None] | None = None, workers: int = 0) -> int:
    """Re-run extraction on every stored HTML capture (after an extractor upgrade); returns pages done."""
    jobs = [(r["body"], r["url"], r["headers"]) for r in store.iter_fetches()
            if is_html(r["headers"].get("content-type", ""), r["body"])]
    workers = workers or os.cpu_count() or 1
    done = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for row in pool.map(_extract_safely, jobs, chunksize=16):
            done += 1
            if row is not None:
                store_extracted(store, row)
            if progress:
                progress("extract", done, len(jobs))
    return done


def _extract_safely(job: tuple) -> dict | None:
    try:
        return extract_capture(*job)
    except Exception:  # noqa: BLE001 (a page that breaks the extractor is skipped)
        return None
