"""The Scrapy side of live progress: an extension that counts every capture by outcome and site and sends
the figures, twice a second and once at the end, on the channel ``crawler.crawl_process`` opened
(``crawler.progress``)."""

from __future__ import annotations

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from crawler.page.urls import site_of
from crawler.progress import EVERY_SECONDS, channel, outcome_of


class ProgressExtension:
    """Counts captures (``item_scraped``: pages fetched, and failures the spider turns into items) and reads
    the queue, the downloads in flight and robots.txt refusals from Scrapy's stats."""

    def __init__(self, crawler, writer):
        self.crawler = crawler
        self.writer = writer
        self.task = None

    @classmethod
    def from_crawler(cls, crawler):
        writer = channel()
        if writer is None:
            raise NotConfigured("no progress channel")
        ext = cls(crawler, writer)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider) -> None:
        self.task = create_looping_call(self.report)
        self.task.start(EVERY_SECONDS, now=False)

    def item_scraped(self, item, response, spider) -> None:
        status = item.get("status") or 0
        if item.get("cached"):
            outcome = "not_modified"
        elif 200 <= status < 300:
            outcome = "fetched"
        else:
            outcome = outcome_of(status, item.get("error"))
        self.writer.count(outcome, site_of(item.get("final_url") or item.get("url") or ""))

    def report(self, final: bool = False, reason: str | None = None) -> None:
        stats = self.crawler.stats
        self.writer.outcomes["robots"] = stats.get_value("robotstxt/forbidden", 0)
        queued = (stats.get_value("scheduler/enqueued", 0) or 0) - (stats.get_value("scheduler/dequeued", 0) or 0)
        downloader = getattr(self.crawler.engine, "downloader", None)
        in_flight = len(getattr(downloader, "active", ()) or ())
        self.writer.report(max(queued, 0), in_flight, final=final, reason=reason)

    def spider_closed(self, spider, reason) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.report(final=True, reason=reason)
