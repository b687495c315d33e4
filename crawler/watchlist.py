"""The watch list: sites crawled again and again, from the database or a TOML file.

A TOML watch list looks like::

    [[site]]
    url = "https://www.commondreams.org/"
    feed = "https://www.commondreams.org/rss.xml"
    max_pages = 500
    delay = 2.0
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace

from crawler.errors import UserInputError
from crawler.options import CrawlOptions
from crawler.page.urls import is_fetchable, site_of


@dataclass(frozen=True)
class WatchedSite:
    url: str
    feed: str | None = None
    max_pages: int | None = None
    delay: float | None = None


def load_sites_file(path: str) -> list[WatchedSite]:
    """Sites of a TOML watch list."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise UserInputError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{path} is not valid TOML: {exc}") from None
    sites = []
    for i, entry in enumerate(data.get("site", [])):
        url = entry.get("url") if isinstance(entry, dict) else None
        if not url or not is_fetchable(url):
            raise UserInputError(f"{path}: site {i + 1} needs an http(s) url")
        sites.append(WatchedSite(url, entry.get("feed"), entry.get("max_pages"), entry.get("delay")))
    if not sites:
        raise UserInputError(f"{path} lists no [[site]] entries")
    return sites


def options_for(sites: list[WatchedSite], base: CrawlOptions) -> CrawlOptions:
    """Crawl options covering every watched site, with per-site page limits and delays."""
    seeds = [s.url for s in sites] + [s.feed for s in sites if s.feed]
    limits = tuple((site_of(s.url), s.max_pages or 0, s.delay if s.delay is not None else -1.0) for s in sites
                   if s.max_pages or s.delay is not None)
    return replace(base, seeds=tuple(dict.fromkeys(seeds)), site_limits=limits)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """'6h', '30m', '1d', '90s' or plain seconds → seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not m or float(m.group(1)) <= 0:
        raise UserInputError(f"--every takes a duration like 6h, 30m or 1d, got {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def watch(run_once: Callable[[], object], every: float, runs: int = 0,
          sleep: Callable[[float], None] = time.sleep) -> int:
    """Run ``run_once`` every ``every`` seconds (``runs`` times, or forever when 0); returns runs done."""
    done = 0
    while True:
        started = time.monotonic()
        run_once()
        done += 1
        if runs and done >= runs:
            return done
        sleep(max(0.0, every - (time.monotonic() - started)))
