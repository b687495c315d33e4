"""The Scrapy side of a distributed crawl: what each crawl process loads to share the Redis frontier.

Setting overrides for scrapy-redis's scheduler and duplicate filter, the extension that keeps a process in
the shared crawl until the whole crawl has run dry, the workers' results pipeline and redirect recorder.
The design is described in ``crawler.distributed``, which holds the Redis side the parent process uses.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall

from crawler.capture import ExtractionPool, is_html
from crawler.distributed import HEARTBEAT, POLL, SETTLE_MS, STALE_AFTER, Keys, connect, encode_result, worker_id
from crawler.middlewares import RedirectRecorderMiddleware
from crawler.options import CrawlOptions

logger = logging.getLogger(__name__)


def frontier_settings(redis_url: str, crawl: str, seed: bool) -> dict:
    """Setting overrides that make one crawl process part of the distributed crawl ``crawl``."""
    keys = Keys(crawl)
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_PERSIST": True,          # a closing worker must not clear the others' frontier
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "REDIS_URL": redis_url,
        "SYNDTRACE_REDIS_CRAWL": crawl,
        "SYNDTRACE_SEED_FRONTIER": seed,
        "CLOSESPIDER_PAGECOUNT": 0,         # --max-pages counts every worker's pages (SharedFrontierExtension)
        # component dicts are merged into the project's: only the parts that would open SQLite are swapped
        "EXTENSIONS": {"crawler.middlewares.StoreExtension": None,
                       "crawler.shared_frontier.SharedFrontierExtension": 0},
        "ITEM_PIPELINES": {"crawler.pipelines.StorePipeline": None,
                           "crawler.shared_frontier.RedisResultsPipeline": 300},
        # no conditional requests: after a 304 a worker has no stored copy whose links it could follow
        "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.ConditionalRequestMiddleware": None,
                                   "crawler.middlewares.RedirectRecorderMiddleware": None,
                                   "crawler.shared_frontier.RedisRedirectRecorder": 650},
    }


class SharedFrontierExtension:
    """One crawl process's part in the shared crawl: registers and beats, counts its downloads in flight,
    and closes only when the whole crawl has run dry, the crawl is withdrawn, or --max-pages is reached."""

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.keys = Keys(settings.get("SYNDTRACE_REDIS_CRAWL"))
        self.client = connect(settings.get("REDIS_URL"))
        self.seeds = settings.getbool("SYNDTRACE_SEED_FRONTIER")
        raw = settings.get("SYNDTRACE_OPTIONS")
        self.max_pages = CrawlOptions.from_json(raw).max_pages if raw else 0
        self.me = worker_id()
        self.beat = LoopingCall(self.heartbeat)
        self.closing = False
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.idle, signal=signals.spider_idle)
        crawler.signals.connect(self.reached, signal=signals.request_reached_downloader)
        crawler.signals.connect(self.left, signal=signals.request_left_downloader)
        crawler.signals.connect(self.received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def opened(self, spider):
        pipe = self.client.pipeline()
        pipe.hset(self.keys.workers, self.me, "running").set(self.keys.alive(self.me), 1, ex=STALE_AFTER)
        pipe.exists(self.keys.options)
        if self.seeds:
            pipe.set(self.keys.seeded, 1).set(self.keys.activity, 1, px=SETTLE_MS)
        if not pipe.execute()[2]:
            self.closing = True
            raise CloseSpider("crawl withdrawn")   # it ended between this worker reading it and joining
        self.beat.start(HEARTBEAT, now=False)

    def heartbeat(self):
        pipe = self.client.pipeline(transaction=False)
        live, pages = pipe.set(self.keys.alive(self.me), 1, ex=STALE_AFTER).exists(self.keys.options) \
            .get(self.keys.pages).execute()[1:]
        if not live:
            self.close("crawl withdrawn")
        elif self.max_pages and int(pages or 0) >= self.max_pages:
            self.close("closespider_pagecount")

    def _inflight(self, step: int) -> None:
        self.client.pipeline(transaction=False).hincrby(self.keys.inflight, self.me, step) \
            .set(self.keys.activity, 1, px=SETTLE_MS).execute()

    def reached(self, request, spider):
        self._inflight(1)

    def left(self, request, spider):
        self._inflight(-1)

    def received(self, response, request, spider):
        if self.max_pages and self.client.incr(self.keys.pages) >= self.max_pages:
            self.close("closespider_pagecount")

    def idle(self, spider):
        if self.closing:
            return
        pipe = self.client.pipeline(transaction=False)
        seeded, queued, recent, inflight = pipe.exists(self.keys.seeded).zcard(self.keys.queue) \
            .exists(self.keys.activity).hgetall(self.keys.inflight).execute()
        others = [w.decode() for w, n in inflight.items() if int(n) > 0 and w.decode() != self.me]
        busy = bool(others) and bool(self.client.exists(*(self.keys.alive(w) for w in others)))
        if not seeded or queued or busy or recent:
            # Scrapy asks an idle scheduler again only on its 5 s heartbeat; others' links come sooner
            self.crawler.engine._slot.nextcall.schedule(POLL)
            raise DontCloseSpider

    def close(self, reason: str) -> None:
        if not self.closing:
            self.closing = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def closed(self, spider, reason):
        self.closing = True
        if self.beat.running:
            self.beat.stop()
        self.client.pipeline().hset(self.keys.workers, self.me, "done").hdel(self.keys.inflight, self.me) \
            .delete(self.keys.alive(self.me)).execute()


class RedisResultsPipeline:
    """Workers' pipeline: extract the page here, push capture and article to the crawl's results list."""

    def __init__(self, crawler):
        self.keys = Keys(crawler.settings.get("SYNDTRACE_REDIS_CRAWL"))
        self.client = connect(crawler.settings.get("REDIS_URL"))
        raw = crawler.settings.get("SYNDTRACE_OPTIONS")
        self.options = CrawlOptions.from_json(raw) if raw else CrawlOptions()
        self.me = worker_id()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.extract = ExtractionPool(self.options.extract_workers, background=True)

    def close_spider(self):
        self.extract.close()

    async def process_item(self, item):
        capture = {k: item.get(k) for k in ("url", "requested_url", "final_url", "status", "headers", "body",
                                             "fetched_at", "error")}
        result = {"worker": self.me, "capture": capture, "article": None}
        if 200 <= item["status"] < 300 and is_html(item["headers"].get("content-type", ""), item["body"]):
            try:
                result["article"] = await self.extract.extract(item["body"], item["url"], item["headers"])
            except Exception as exc:  # noqa: BLE001 (reported to the coordinator, the crawl goes on)
                logger.warning("could not extract %s: %s", item["url"], exc)
                result["extract_error"] = str(exc)[:200]
        self.client.rpush(self.keys.results, encode_result(result))
        return item


class RedisRedirectRecorder(RedirectRecorderMiddleware):
    """Workers' redirect recorder: the alias goes to the results list, for the coordinator to store."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.keys = Keys(crawler.settings.get("SYNDTRACE_REDIS_CRAWL"))
        self.client = connect(crawler.settings.get("REDIS_URL"))

    def save_alias(self, source: str, target: str, status: int) -> None:
        self.client.rpush(self.keys.results, encode_result({"worker": worker_id(), "alias": [source, target, status]}))
