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
import tomllib
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


MAX_LIST_BYTES = 10 * 1024 * 1024   # a watch list or seeds file; more is not a list someone wrote


def read_text_file(path: str, limit: int = MAX_LIST_BYTES) -> str:
    """A small UTF-8 text file written by a person; a binary, huge or endless one (a device, a pipe that
    never ends) is refused after ``limit`` bytes.

    Raises:
        UserInputError: unreadable, larger than ``limit``, binary, or not UTF-8.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise UserInputError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise UserInputError(f"{path} is larger than {limit // (1024 * 1024)} MB; is it the right file?")
    if b"\x00" in data:
        raise UserInputError(f"{path} is a binary file, not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserInputError(f"{path} is not UTF-8 text") from None


def load_sites_file(path: str) -> list[WatchedSite]:
    """Sites of a TOML watch list."""
    try:
        data = tomllib.loads(read_text_file(path, MAX_LIST_BYTES))
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{path} is not valid TOML: {exc}") from None
    entries = data.get("site", [])
    if not isinstance(entries, list):
        raise UserInputError(f"{path}: 'site' must be a list of [[site]] tables, not {type(entries).__name__}")
    sites = [_site_entry(path, i + 1, entry) for i, entry in enumerate(entries)]
    if not sites:
        raise UserInputError(f"{path} lists no [[site]] entries")
    return sites


MAX_SITE_DELAY = 3600.0   # seconds between one site's requests; more is a mistake, not politeness


def _site_entry(path: str, n: int, entry) -> WatchedSite:
    """One [[site]] table, every value checked, so a bad file is one line naming the entry and the key."""
    if not isinstance(entry, dict):
        raise UserInputError(f"{path}: site {n} must be a [[site]] table")
    url, feed = entry.get("url"), entry.get("feed")
    if not isinstance(url, str) or not is_fetchable(url):
        raise UserInputError(f"{path}: site {n} needs an http(s) url")
    if feed is not None and (not isinstance(feed, str) or not is_fetchable(feed)):
        raise UserInputError(f"{path}: site {n}: feed must be an http(s) URL")
    max_pages, delay = entry.get("max_pages"), entry.get("delay")
    if max_pages is not None and (isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1):
        raise UserInputError(f"{path}: site {n}: max_pages must be a whole number of at least 1, got {max_pages!r}")
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float))
                              or not 0 <= delay <= MAX_SITE_DELAY):
        raise UserInputError(f"{path}: site {n}: delay must be a number of seconds from 0 to {MAX_SITE_DELAY:.0f}, "
                             f"got {delay!r}")
    unknown = sorted(set(entry) - {"url", "feed", "max_pages", "delay"})
    if unknown:
        raise UserInputError(f"{path}: site {n}: unknown key {unknown[0]!r} (use url, feed, max_pages, delay)")
    return WatchedSite(url, feed, max_pages, None if delay is None else float(delay))


def options_for(sites: list[WatchedSite], base: CrawlOptions) -> CrawlOptions:
    """Crawl options covering every watched site, with per-site page limits and delays."""
    seeds = [s.url for s in sites] + [s.feed for s in sites if s.feed]
    limits = tuple((site_of(s.url), s.max_pages or 0, s.delay if s.delay is not None else -1.0) for s in sites
                   if s.max_pages or s.delay is not None)
    return replace(base, seeds=tuple(dict.fromkeys(seeds)), site_limits=limits)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_EVERY = 60.0               # a crawl of a watch list every few seconds would hammer the sites
MAX_EVERY = 366 * 86400.0      # a year; longer waits are a typing mistake


def parse_every(text: str) -> float:
    """'30m', '6h', '1d', '1.5h', '90s' → seconds; the unit is required, from 1 minute to a year.

    Raises:
        UserInputError: no unit, not a number, or out of range.
    """
    m = re.fullmatch(r"\s*(\d{1,9}(?:\.\d{1,6})?)\s*([smhd])\s*", text or "")
    if not m:
        raise UserInputError(f"--every takes a number and a unit (s, m, h or d), like 30m, 6h or 1d; got {text!r}")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not MIN_EVERY <= seconds <= MAX_EVERY:
        raise UserInputError(f"--every must be between 1m and 366d, got {text!r}")
    return seconds
