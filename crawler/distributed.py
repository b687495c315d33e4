"""Distributed crawls: many crawl processes share one frontier and one duplicate filter in Redis.

This module is the Redis side that the parent process needs (publishing a crawl, waiting for one, draining
results, the key names); the Scrapy components each crawl process loads are in ``crawler.shared_frontier``,
so a command that does not crawl never imports Scrapy or Twisted.

Design (see README, "Distributed crawls"):
- Frontier and duplicate filter: scrapy-redis 0.9.1's ``Scheduler`` and ``RFPDupeFilter``, which work
  with the pinned Scrapy. Its ``RedisSpider`` is not used (it relies on ``start_requests``, replaced by
  ``async def start()``); the glue here is what it would have provided: the crawl's options published
  in Redis for workers, and an idle rule so a worker does not quit while others still add links.
- Roles: the coordinator (``syndtrace crawl --redis``) publishes the crawl and its own crawl process seeds
  the frontier; workers (``syndtrace worker``) only take from it, so one that comes late fetches nothing twice.
- Results: workers never open the SQLite file. Each capture with its extracted article, and each redirect,
  is pushed to a Redis list; the coordinator, the only writer, drains it into the DB, then groups. This
  works across machines and keeps SQLite single-writer.
- Ending: a process closes when the frontier is empty, no live process has a download in flight, and
  nothing happened for ``SETTLE_MS`` (the last pages' links may still be on their way). The
  coordinator waits for every live worker, then withdraws the crawl. A worker silent for ``STALE_AFTER``
  seconds counts as gone (its in-flight pages are lost); a coordinator gone for ``OPTIONS_TTL`` seconds
  lets the crawl expire, and its workers stop. All of these are Redis key expiries, so the machines'
  clocks need not agree.
- Politeness and limits are per process: each worker keeps its own delay, per-site concurrency and the
  watch list's per-site page limits, and applies a robots.txt Crawl-delay only if it read that robots.txt
  itself. Only --max-pages counts across workers.
- The Redis URL, which may carry a password, reaches crawl processes through the environment: never a
  command line (``ps`` shows those), never Redis, never a message (``safe_redis_url``).
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
from collections import Counter
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from crawler.capture import process_capture
from crawler.errors import UserInputError
from crawler.options import CrawlOptions
from crawler.page.urls import without_userinfo
from crawler.storage.records import FetchRecord

logger = logging.getLogger(__name__)

PREFIX = "syndtrace"
URL_ENV = "SYNDTRACE_REDIS_URL"
HEARTBEAT = 1.0       # seconds between a crawl process's signs of life
STALE_AFTER = 15      # seconds: a process silent this long is gone
SETTLE_MS = 2000      # quiet milliseconds before an idle process may close
POLL = 0.25           # an idle process looks at the frontier this often (Scrapy alone: every 5 s)
OPTIONS_TTL = 30      # seconds a crawl outlives its coordinator's last refresh


def safe_redis_url(url: str) -> str:
    """The URL with any password (user part or ``password=`` parameter) replaced, for messages and logs."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, hostport = netloc.rpartition("@")
            netloc = f"{userinfo.split(':')[0]}:***@{hostport}"
        query = urlencode([(k, "***" if k.lower() == "password" else v)
                           for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "(an unreadable Redis URL)"


def _scrub(text: str, url: str) -> str:
    """``text`` without the URL's password, should a library have echoed it."""
    try:
        secrets = [urlsplit(url).password] + [v for k, v in parse_qsl(urlsplit(url).query) if k.lower() == "password"]
    except ValueError:
        secrets = []
    for secret in filter(None, secrets):
        text = text.replace(secret, "***")
    return text


def connect(url: str):
    """A Redis client, checked with PING; a clear error (password hidden) if it cannot be reached."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise UserInputError(f"--redis takes redis://HOST:PORT/DB, got {safe_redis_url(url)!r}")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        reason = _scrub((str(exc).splitlines() or [type(exc).__name__])[0], url)
        raise UserInputError(f"cannot reach Redis at {safe_redis_url(url)}: {reason}") from None
    return client


class Keys:
    """Redis key names of one distributed crawl."""

    def __init__(self, crawl: str):
        base = f"{PREFIX}:{crawl}"
        self.options = f"{base}:options"        # the crawl's CrawlOptions; gone once the crawl is withdrawn
        self.seeded = f"{base}:seeded"          # the frontier has been seeded: empty now means done
        self.queue = f"{base}:requests"
        self.dupefilter = f"{base}:dupefilter"
        self.results = f"{base}:results"
        self.workers = f"{base}:workers"        # worker id -> running | done | gone
        self.inflight = f"{base}:inflight"      # worker id -> downloads in flight
        self.activity = f"{base}:activity"      # exists for SETTLE_MS after any download starts or ends
        self.pages = f"{base}:pages"            # responses so far, for --max-pages
        self.base = base

    def alive(self, worker: str) -> str:
        """Exists while ``worker`` beats."""
        return f"{self.base}:alive:{worker}"

    def shared(self) -> list[str]:
        return [v for k, v in vars(self).items() if k != "base"]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def encode_result(result: dict) -> bytes:
    """A worker's result (a capture with its article, or a redirect) as one compressed JSON blob."""
    if "capture" in result:
        capture = result["capture"]
        result = {**result, "capture": {**capture, "body": base64.b64encode(capture["body"]).decode()}}
    return zlib.compress(json.dumps(result, default=str).encode())


def decode_result(blob: bytes) -> dict:
    result = json.loads(zlib.decompress(blob))
    if "capture" in result:
        result["capture"]["body"] = base64.b64decode(result["capture"]["body"])
    return result


def wait_for_options(client, crawl: str, timeout: float = 60.0) -> CrawlOptions:
    """The options of the crawl named ``crawl``, once a coordinator has published it."""
    keys = Keys(crawl)
    deadline = time.monotonic() + timeout
    while True:
        raw = client.get(keys.options)
        if raw:
            return CrawlOptions.from_json(raw.decode())
        if time.monotonic() >= deadline:
            raise UserInputError(f"no crawl named {crawl!r} was started in Redis within {timeout:.0f} s")
        time.sleep(0.2)


class Coordinator:
    """The coordinator's side of a distributed crawl: publish it, collect every worker's results into the
    database (the only writer), know when all are done, withdraw the crawl and clear its keys."""

    def __init__(self, client, crawl: str):
        self.client = client
        self.crawl = crawl
        self.keys = Keys(crawl)
        self.states: Counter = Counter()       # pages stored, by store_capture's state
        self.by_worker: Counter = Counter()    # pages fetched, by worker id
        self.extract_errors = 0

    def publish(self, options: CrawlOptions) -> None:
        """Announce the crawl (without the Redis URL or any credentials: a proxy that needs them is left to each
        worker's own environment) with a fresh frontier and filter; refuses to take over a crawl of the same
        name that another coordinator keeps alive."""
        proxy = options.proxy if options.proxy and without_userinfo(options.proxy) == options.proxy else None
        shared = replace(options, redis_url=None, proxy=proxy,
                         seeds=tuple(without_userinfo(u) for u in options.seeds)).to_json()
        if not self.client.set(self.keys.options, shared, nx=True, ex=OPTIONS_TTL):
            raise UserInputError(f"a crawl named {self.crawl!r} is already running in this Redis; "
                                 "give another --crawl-name or wait for it")
        self.clear(but=self.keys.options)

    def collect(self, store, run_id: int | None, own_crawl_running, interval: float = 0.5) -> None:
        """Drain results until this machine's crawl process and every live worker are done."""
        while own_crawl_running():
            self.client.expire(self.keys.options, OPTIONS_TTL)
            self.drain(store, run_id)
            time.sleep(interval)
        self.client.set(self.keys.seeded, 1)   # even if the own process died before seeding: workers may end
        while not self.workers_finished():
            self.client.expire(self.keys.options, OPTIONS_TTL)
            self.drain(store, run_id)
            time.sleep(interval)
        self.client.delete(self.keys.options)   # a worker joining from now on leaves at once ...
        while not self.workers_finished():       # ... and one that joined just before is waited for
            self.drain(store, run_id)
            time.sleep(interval)
        self.drain(store, run_id)

    def workers_finished(self) -> bool:
        """Every worker that joined is done, or silent long enough to count as gone."""
        finished = True
        for worker, state in self.client.hgetall(self.keys.workers).items():
            if state in (b"done", b"gone"):
                continue
            if self.client.exists(self.keys.alive(worker.decode())):
                finished = False
            else:
                logger.warning("worker %s stopped answering; pages it was fetching are lost", worker.decode())
                self.client.hset(self.keys.workers, worker, "gone")
        return finished

    def drain(self, store, run_id: int | None, batch: int = 100) -> None:
        """Write queued results into the database, the way the single-process pipeline would."""
        while blobs := self.client.lpop(self.keys.results, batch):
            for blob in blobs:
                result = decode_result(blob)
                if "alias" in result:
                    store.save_alias(*result["alias"])
                    continue
                state = process_capture(store, FetchRecord.from_capture(result["capture"]), run_id,
                                        extracted=result["article"])
                self.states[state] += 1
                if state == "failed":
                    continue
                self.by_worker[result["worker"]] += 1
                self.extract_errors += "extract_error" in result

    def clear(self, but: str | None = None) -> None:
        """Delete the crawl's keys (``but`` one)."""
        workers = [self.keys.alive(w.decode()) for w in self.client.hkeys(self.keys.workers)]
        self.client.delete(*(k for k in self.keys.shared() + workers if k != but))
