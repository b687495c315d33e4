"""The crawl's pipeline: hands each capture to the library (crawler.capture) and counts.

Distributed workers use ``crawler.shared_frontier.RedisResultsPipeline`` instead; both extract with
:class:`crawler.capture.ExtractionPool`.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack

from scrapy.utils.asyncio import create_looping_call

from crawler.capture import ExtractionPool, needs_extraction, store_capture, store_extracted
from crawler.errors import StorageError
from crawler.middlewares import crawl_store
from crawler.options import CrawlOptions
from crawler.storage.records import FetchRecord

logger = logging.getLogger(__name__)

COMMIT_SECONDS = 0.5   # what a killed crawl can lose of what it stored; a commit a page cost a fifth of storing it


class StorePipeline:
    """Raw capture stored at once; extraction in a process pool whose workers yield the CPU to the reactor; the
    article row written when it comes back. The crawl's writes are committed together every ``COMMIT_SECONDS``
    (and when the spider closes), not one transaction a page."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.run_id = crawler.settings.getint("SYNDTRACE_RUN_ID") or None
        raw = crawler.settings.get("SYNDTRACE_OPTIONS")
        self.options = CrawlOptions.from_json(raw) if raw else CrawlOptions()
        self.counts = {"pages_fetched": 0, "new": 0, "changed": 0, "unchanged": 0, "errors": 0}
        self.held = ExitStack()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.store = crawl_store(self.crawler)
        self.extract = ExtractionPool(self.options.extract_workers, background=True)
        self.held.enter_context(self.store.batch())
        self.committer = create_looping_call(self.commit)
        self.committer.start(COMMIT_SECONDS, now=False)

    def commit(self, reopen: bool = True) -> None:
        """Commit what the crawl wrote since the last commit (a failed commit is rolled back and logged: those
        pages are fetched again by the next crawl) and, unless the crawl is closing, go on in a new batch."""
        try:
            self.held.close()
        except StorageError as exc:
            logger.warning("%s", exc)
        if reopen:
            self.held.enter_context(self.store.batch())

    def close_spider(self):
        if self.committer.running:
            self.committer.stop()
        self.extract.close()
        self.commit(reopen=False)
        if self.run_id:
            self.store.finish_run(self.run_id, "crawled", **self.counts)

    async def process_item(self, item):
        rec = FetchRecord.from_capture(item)
        if item.get("cached"):
            self.counts["unchanged"] += 1
            state = "unchanged"
            self.store.note_fetched(rec.url, 304, self.run_id)
        else:
            state = store_capture(self.store, rec, self.run_id)
            if state == "failed":
                self.counts["errors"] += 1
                return item
            self.counts["pages_fetched"] += 1
            self.counts[state if state != "duplicate" else "unchanged"] += 1
        if needs_extraction(self.store, rec, state):
            try:
                store_extracted(self.store, await self.extract.extract(rec.body, rec.url, rec.headers))
            except Exception as exc:  # noqa: BLE001 (counted and logged, the crawl goes on)
                self.counts["errors"] += 1
                logger.warning("could not extract %s: %s", rec.url, exc)
        return item
