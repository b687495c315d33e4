"""Distributed crawls: many crawl processes share one frontier and one duplicate filter in Redis.

Design (see README, "Distributed crawls"):
- Frontier and duplicate filter: scrapy-redis 0.9.1's ``Scheduler`` and ``RFPDupeFilter``, which work
  with the pinned Scrapy. Its ``RedisSpider`` is not used (it relies on ``start_requests``, replaced by
  ``async def start()``); the glue here is what it would have provided: the crawl's options published
  in Redis for workers, and an idle rule so a worker does not quit while others still add links.
- Results: workers never open the SQLite file. Each capture, with its extracted article, is pushed to a
  Redis list; the coordinator (``syndtrace crawl --redis``), the only writer, drains it into the DB,
  then groups. This works across machines and keeps SQLite single-writer.
- Nothing is home-made that Redis already does: the queue is a Redis sorted set, the filter a Redis set,
  the results a Redis list.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import time
import zlib
from urllib.parse import urlsplit, urlunsplit

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from dedupe.errors import UserInputError

logger = logging.getLogger(__name__)

PREFIX = "syndtrace"


def safe_redis_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def connect(url: str):
    """A Redis client, checked with PING; a clear error (password hidden) if it cannot be reached."""
    import redis

    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise UserInputError(f"--redis takes redis://HOST:PORT/DB, got {safe_redis_url(url)!r}")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5)
        client.ping()
    except redis.RedisError as exc:
        raise UserInputError(f"cannot reach Redis at {safe_redis_url(url)}: {str(exc).splitlines()[0]}") from None
    return client


class Keys:
    """Redis key names of one distributed crawl."""

    def __init__(self, crawl: str):
        base = f"{PREFIX}:{crawl}"
        self.options = f"{base}:options"
        self.results = f"{base}:results"
        self.workers = f"{base}:workers"
        self.activity = f"{base}:activity"
        self.queue = f"{base}:requests"
        self.dupefilter = f"{base}:dupefilter"


def scrapy_settings(redis_url: str, crawl: str) -> dict:
    keys = Keys(crawl)
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "REDIS_URL": redis_url,
        "SYNDTRACE_REDIS_CRAWL": crawl,
        "EXTENSIONS": {"crawler.middlewares.StoreExtension": None,
                       "crawler.distributed.SharedFrontierExtension": 0},
        "ITEM_PIPELINES": {"crawler.distributed.RedisResultsPipeline": 300},
        "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.SchemeGuardMiddleware": 50},
    }


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class SharedFrontierExtension:
    """Keeps a worker alive while the shared frontier may still grow, and registers it with the crawl."""

    def __init__(self, crawler, idle_grace: float = 6.0):
        self.crawler = crawler
        self.keys = Keys(crawler.settings.get("SYNDTRACE_REDIS_CRAWL"))
        self.client = connect(crawler.settings.get("REDIS_URL"))
        self.idle_grace = idle_grace
        self.me = worker_id()
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.idle, signal=signals.spider_idle)
        crawler.signals.connect(self.active, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def opened(self, spider):
        self.client.hset(self.keys.workers, self.me, "running")
        self.active()

    def active(self, *args, **kwargs):
        self.client.set(self.keys.activity, time.time())

    def idle(self, spider):
        queued = self.client.zcard(self.keys.queue)
        last = float(self.client.get(self.keys.activity) or 0)
        if queued or time.time() - last < self.idle_grace:
            raise DontCloseSpider

    def closed(self, spider):
        self.client.hset(self.keys.workers, self.me, "done")


def encode_result(capture: dict, article: dict | None) -> bytes:
    payload = dict(capture)
    payload["body"] = base64.b64encode(capture["body"]).decode()
    return zlib.compress(json.dumps({"capture": payload, "article": article}, default=str).encode())


def decode_result(blob: bytes) -> tuple[dict, dict | None]:
    data = json.loads(zlib.decompress(blob))
    data["capture"]["body"] = base64.b64decode(data["capture"]["body"])
    return data["capture"], data["article"]


class RedisResultsPipeline:
    """Workers' pipeline: extract the page here, push capture and article to the crawl's results list."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.keys = Keys(crawler.settings.get("SYNDTRACE_REDIS_CRAWL"))
        self.client = connect(crawler.settings.get("REDIS_URL"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        from crawler.process import extract_capture, is_html

        capture = {k: item.get(k) for k in ("url", "requested_url", "final_url", "status", "headers", "body",
                                             "fetched_at", "error")}
        article = None
        if 200 <= item["status"] < 300 and is_html(item["headers"].get("content-type", ""), item["body"]):
            try:
                article = extract_capture(item["body"], item["url"], item["headers"])
            except Exception as exc:
                logger.warning("could not extract %s: %s", item["url"], exc)
        self.client.rpush(self.keys.results, encode_result(capture, article))
        return item


def publish_options(client, crawl: str, options_json: str) -> None:
    """The coordinator tells workers what to crawl, and starts a fresh frontier and filter."""
    keys = Keys(crawl)
    client.delete(keys.queue, keys.dupefilter, keys.workers, keys.results, keys.activity)
    client.set(keys.options, options_json)


def wait_for_options(client, crawl: str, timeout: float = 60.0) -> str:
    keys = Keys(crawl)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = client.get(keys.options)
        if raw:
            return raw.decode()
        time.sleep(0.5)
    raise UserInputError(f"no crawl named {crawl!r} was started in Redis within {timeout:.0f} s")


def drain_results(client, crawl: str, store, run_id: int | None, limit: int = 0) -> dict[str, int]:
    """Write queued worker results into the database; returns counts by state."""
    from crawler.process import store_capture, store_extracted
    from dedupe.storage import FetchRecord

    keys = Keys(crawl)
    counts = {"new": 0, "changed": 0, "unchanged": 0, "failed": 0}
    done = 0
    while not limit or done < limit:
        blob = client.lpop(keys.results)
        if blob is None:
            break
        capture, article = decode_result(blob)
        rec = FetchRecord(url=capture["url"], requested_url=capture["requested_url"], final_url=capture["final_url"],
                          status=capture["status"], headers=capture["headers"] or {}, body=capture["body"],
                          fetched_at=capture["fetched_at"], content_type=(capture["headers"] or {}).get("content-type", ""),
                          error=capture.get("error"))
        state = store_capture(store, rec, run_id)
        counts[state] = counts.get(state, 0) + 1
        if article and state != "failed":
            store_extracted(store, article)
        done += 1
    return counts


def workers_done(client, crawl: str) -> bool:
    states = client.hvals(Keys(crawl).workers)
    return bool(states) and all(s == b"done" for s in states)


def fetched_by_worker(client, crawl: str) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(Keys(crawl).workers).items()}
