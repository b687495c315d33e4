"""A crawl's progress, from the crawl process to the command that started it, and fetch outcomes in words.

The crawl process (``crawler.crawl_process``) writes JSON lines on a file descriptor its parent passes
(``--progress-fd``): ``{"kind": "progress", …}`` with the pages fetched, the queue, the pages in flight,
the outcomes so far by kind and the pages per site; ``{"kind": "log", "message": …}`` for what would
have gone to stderr (one line, no traceback, unless the crawl is verbose). The parent renders them
(``crawler.run`` reads them; the CLI draws them). Neither side imports Scrapy here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable

FD_ENV = "SYNDTRACE_PROGRESS_FD"
EVERY_SECONDS = 0.5   # at most this often, so a fast crawl does not flood the pipe

# outcome → (one, many): "1 server error", "2 server errors", "17 not found"
WORDS = {
    "fetched": ("fetched", "fetched"), "not_modified": ("not modified (304)", "not modified (304)"),
    "not_found": ("not found (404)", "not found (404)"), "gone": ("gone (410)", "gone (410)"),
    "forbidden": ("forbidden (401/403)", "forbidden (401/403)"),
    "rate_limited": ("rate limited (429)", "rate limited (429)"),
    "client_error": ("other client error (4xx)", "other client errors (4xx)"),
    "server_error": ("server error (5xx)", "server errors (5xx)"),
    "timeout": ("timed out", "timed out"), "dns": ("unknown host", "unknown hosts"),
    "refused": ("connection refused", "connections refused"), "network": ("network error", "network errors"),
    "too_large": ("too large", "too large"), "robots": ("refused by robots.txt", "refused by robots.txt"),
    "not_allowed": ("not allowed (scheme or address)", "not allowed (scheme or address)"),
}
FETCHED = ("fetched", "not_modified")   # the outcomes of a page that answered
FAILED = tuple(k for k in WORDS if k not in FETCHED and k != "robots")


def outcome_of(status: int | None, error: str | None = None) -> str:
    """The kind of a failed fetch, from its HTTP status (0: no answer) and error message."""
    status = status or 0
    if status == 304:
        return "not_modified"
    if status in (404, 410):
        return "not_found" if status == 404 else "gone"
    if status in (401, 403):
        return "forbidden"
    if status == 429:
        return "rate_limited"
    if 400 <= status < 500:
        return "client_error"
    if status >= 500:
        return "server_error"
    text = (error or "").lower()
    for kind, pattern in (("robots", r"robots\.txt"), ("not_allowed", r"scheme not allowed|not allowed"),
                          ("too_large", r"maxsize|larger than|too large|warnsize|cancell?ed download"),
                          ("timeout", r"timeout|timed out|took longer"), ("dns", r"dns|no address|name resolution"),
                          ("refused", r"refused")):
        if re.search(pattern, text):
            return kind
    return "network"


def in_words(counts: dict[str, int], kinds: tuple[str, ...] | None = None) -> str:
    """``{"not_found": 17, "server_error": 2}`` → ``"17 not found (404), 2 server errors (5xx)"``."""
    parts = []
    for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n and (kinds is None or kind in kinds):
            one, many = WORDS.get(kind, (kind, kind))
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


class ProgressWriter:
    """The crawl process's side: counts outcomes and pages per site, and writes them at most every
    :data:`EVERY_SECONDS` (always when ``final``). Without a descriptor it only counts."""

    def __init__(self, fd: int | None):
        self.stream = os.fdopen(fd, "w", buffering=1, encoding="utf-8") if fd is not None else None
        self.outcomes: Counter[str] = Counter()
        self.sites: dict[str, Counter[str]] = {}
        self.started = time.monotonic()
        self.last = 0.0

    def count(self, outcome: str, site: str | None = None) -> None:
        self.outcomes[outcome] += 1
        if site:
            self.sites.setdefault(site, Counter())["fetched" if outcome in FETCHED else "failed"] += 1

    def fetched(self) -> int:
        return sum(self.outcomes[k] for k in FETCHED)

    def report(self, queued: int = 0, in_flight: int = 0, final: bool = False, reason: str | None = None) -> None:
        now = time.monotonic()
        if not final and now - self.last < EVERY_SECONDS:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        busiest = sorted(self.sites.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        self.send({"kind": "final" if final else "progress", "fetched": self.fetched(), "queued": queued,
                   "in_flight": in_flight, "seconds": round(elapsed, 2), "rate": round(self.fetched() / elapsed, 2),
                   "outcomes": {k: v for k, v in self.outcomes.items() if v}, "reason": reason,
                   "sites": {site: dict(c) for site, c in (busiest if final else busiest[:SITES_SHOWN])},
                   "site_count": len(self.sites)})

    def log(self, message: str) -> None:
        self.send({"kind": "log", "message": message})

    def send(self, event: dict) -> None:
        if self.stream is None:
            return
        try:
            self.stream.write(json.dumps(event) + "\n")
        except (OSError, ValueError):   # the parent stopped listening: the crawl goes on
            self.stream = None


SITES_SHOWN = 8   # sites in a progress event (all of them in the final one)
_CHANNEL: list[ProgressWriter] = []   # the crawl process's one writer (crawler.crawl_process opens it)


def open_channel(fd: int | None) -> ProgressWriter:
    """The crawl process's writer on ``fd`` (made once; ``channel`` finds it again)."""
    _CHANNEL[:] = [ProgressWriter(fd)]
    return _CHANNEL[0]


def channel() -> ProgressWriter | None:
    return _CHANNEL[0] if _CHANNEL else None


FOR_USER = {"for_user": True}   # ``extra`` of a warning people must see without -v (a site skipped as too slow)


class ChannelLogHandler(logging.Handler):
    """Log records as one-line ``log`` events (no traceback): what the crawl has to say reaches the parent,
    which shows it without breaking its live display. Below ``level``, only warnings logged with
    ``extra=FOR_USER`` pass."""

    def __init__(self, writer: ProgressWriter, level: int = logging.ERROR):
        super().__init__(min(level, logging.WARNING))
        self.threshold = level
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < self.threshold and not getattr(record, "for_user", False):
            return
        try:
            message = (record.getMessage().strip().splitlines() or [""])[0]
        except Exception:  # noqa: BLE001 (a bad log call must not stop the crawl)
            return
        if not message.startswith(PER_REQUEST):   # counted by outcome, listed by 'syndtrace status --errors'
            self.writer.log(f"{record.levelname.lower()}: {message[:300]}")


PER_REQUEST = ("Error downloading", "Gave up retrying")   # Scrapy's words for one request that failed


def read_events(fd: int, on_event: Callable[[dict], None]) -> threading.Thread:
    """The parent's side: a thread that reads JSON lines from ``fd`` until it closes, calling ``on_event``."""

    def pump() -> None:
        with os.fdopen(fd, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    on_event(event)

    thread = threading.Thread(target=pump, name="crawl-progress", daemon=True)
    thread.start()
    return thread
