"""Sitemaps, sitemap indexes and feeds, read as a stream: the URLs they list come out one at a time.

A listing file is bounded in what it can cost: gzip is inflated in chunks (a 1 MB file that expands to
1 GB is read only up to ``ReadLimits.max_sitemap_bytes``, never held whole), the XML is parsed
incrementally with entities unresolved and every finished entry cleared, and the caller takes only as
many URLs as it needs (a sitemap of a million URLs read for 40 pages is read for 40 pages).
"""

from __future__ import annotations

import itertools
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator

import lxml.etree

from crawler.options import LIMITS
from crawler.page.urls import canonicalize_url, is_fetchable, site_of, url_key

CHUNK = 64 * 1024
LISTING_ROOTS = ("urlset", "sitemapindex", "rss", "rdf", "feed")
ENTRY_TAGS = ("url", "sitemap", "item", "entry")


def inflated(body: bytes, max_bytes: int) -> Iterator[bytes]:
    """The bytes of a listing file in chunks, gunzipped when gzipped, never more than ``max_bytes`` in all."""
    left = max_bytes
    if body[:2] != b"\x1f\x8b":
        for start in range(0, min(len(body), max_bytes), CHUNK):
            yield body[start:min(start + CHUNK, max_bytes)]
        return
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = body
    while left > 0 and not inflate.eof:
        try:
            chunk = inflate.decompress(data, min(CHUNK, left))
        except zlib.error:
            return   # a corrupt or cut gzip stream: what was inflated so far has been read
        data = inflate.unconsumed_tail
        if not chunk and not data:
            return
        left -= len(chunk)
        yield chunk


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _entry(kind: str, el) -> tuple[str, str] | None:
    """("page" or "listing", URL) for an element that names one, else None."""
    name, parent = _local(el.tag), el.getparent()
    parent_name = _local(parent.tag) if parent is not None else ""
    if name == "loc" and parent_name in ("url", "sitemap"):
        url = (el.text or "").strip()
        return ("listing" if parent_name == "sitemap" else "page", url) if url else None
    if name != "link" or parent_name not in ("item", "entry"):
        return None
    if kind == "feed":   # Atom: <link href rel="alternate">
        href = (el.get("href") or "").strip()
        return ("page", href) if href and el.get("rel", "alternate") == "alternate" else None
    url = (el.text or "").strip()
    return ("page", url) if url else None


def listing_entries(body: bytes, max_bytes: int = LIMITS.max_sitemap_bytes) -> Iterator[tuple[str, str]]:
    """("page", URL) for each page and ("listing", URL) for each nested sitemap that a sitemap, sitemap index
    or RSS/Atom feed lists, in order, as the file is read; nothing for anything else. Only http(s) URLs."""
    parser = lxml.etree.XMLPullParser(events=("start", "end"), recover=True, resolve_entities=False,
                                      no_network=True, huge_tree=False)
    kind = None
    started = False
    for chunk in itertools.chain(inflated(body, max_bytes), [None]):   # None: the end, close the parser
        if chunk is not None and not started:
            chunk = chunk.lstrip()
            started = bool(chunk)
        try:
            parser.feed(chunk) if chunk is not None else parser.close()
        except lxml.etree.XMLSyntaxError:
            return
        for event, el in parser.read_events():
            if kind is None:
                kind = _local(el.tag)
                if kind not in LISTING_ROOTS:
                    return
            if event == "end":
                yield from _finished(kind, el)


def _finished(kind: str, el) -> Iterator[tuple[str, str]]:
    entry = _entry(kind, el)
    if entry and is_fetchable(entry[1]):
        yield entry
    if _local(el.tag) in ENTRY_TAGS:   # a finished entry is not needed again: keep memory flat
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]


class ListingFrontier:
    """The URLs that sitemaps and feeds list, handed out only as fast as the crawl can take them.

    Scheduling every URL of a listing at once costs a Scrapy request each (a million-URL sitemap took
    minutes and gigabytes even with ``--max-pages 40``). Here a fetched listing stays an open stream of
    entries and the spider takes page URLs from the newest one while its scheduler has room; nested
    sitemaps wait in a queue, and at most ``open_at_once`` listings of a site are open or being fetched, so
    memory holds a few listing bodies per site, not their URLs. Nesting deeper than ``max_depth`` (an index
    that names an ever-new index) and more than ``max_per_site`` listing files of one site are refused.
    """

    def __init__(self, max_depth: int = LIMITS.max_sitemap_depth, max_per_site: int = LIMITS.max_listing_files,
                 open_at_once: int = 2):
        self.max_depth = max_depth
        self.max_per_site = max_per_site
        self.open_at_once = open_at_once
        self.queued: dict[str, deque[tuple[str, int]]] = {}   # per site, listings to fetch: (URL, depth)
        self.open: list[tuple[Iterator[tuple[str, str]], int, str]] = []   # listings being read, newest last
        self.busy: Counter = Counter()     # per site, listings handed out or open
        self.per_site: Counter = Counter()
        self.seen: set[str] = set()        # listings queued so far (every page may link the same feed)
        self.refused: list[str] = []       # why listings were refused, for the log

    def add_listing(self, url: str, depth: int) -> bool:
        """Queue a listing file found at ``depth`` (0: robots.txt or a page names it); False if refused."""
        url = canonicalize_url(url)
        key = url_key(url)
        if key in self.seen:
            return False
        self.seen.add(key)
        site = site_of(url)
        if depth > self.max_depth:
            self.refused.append(f"{url}: sitemaps nested more than {self.max_depth} deep")
            return False
        self.per_site[site] += 1
        if self.per_site[site] > self.max_per_site:
            if self.per_site[site] == self.max_per_site + 1:
                self.refused.append(f"{site}: more than {self.max_per_site} sitemaps and feeds; the rest are not read")
            return False
        self.queued.setdefault(site, deque()).append((url, depth))
        return True

    def opened(self, entries: Iterator[tuple[str, str]], depth: int, site: str) -> None:
        """A listing of ``site`` came back: read its entries from now on (before older ones)."""
        self.open.append((entries, depth, site))

    def lost(self, site: str) -> None:
        """A listing of ``site`` handed out will not be read (failed, refused, dropped as a duplicate)."""
        self.busy[site] = max(0, self.busy[site] - 1)

    def idle(self) -> None:
        """The crawl is idle: no listing is in flight, whatever was counted."""
        self.busy = Counter(site for _entries, _depth, site in self.open)

    def pending(self) -> bool:
        return bool(self.open) or any(self.queued.values())

    def take(self, pages: int, allowed: Callable[[str], bool], examine: int = 5000) -> Iterator[tuple[str, str, int]]:
        """Listings to fetch as ("listing", URL, depth), and up to ``pages`` allowed page URLs as ("page", URL,
        depth); reads at most ``examine`` entries, so that one call never holds up the crawl for long."""
        while True:
            for site, queue in self.queued.items():
                while queue and self.busy[site] < self.open_at_once:
                    self.busy[site] += 1
                    yield ("listing", *queue.popleft())
            if examine <= 0 or pages <= 0 or not self.open:
                return
            for kind, url, depth in self._read_newest(examine):
                examine -= 1
                if kind == "end" or not allowed(url):
                    continue
                if kind == "listing":
                    self.add_listing(url, depth + 1)
                    continue
                yield (kind, url, depth)
                pages -= 1
                if pages <= 0:
                    break

    def _read_newest(self, examine: int) -> Iterator[tuple[str, str, int]]:
        """Entries of the newest open listing, then ("end", "", depth) once it is read to its end.

        Scrapy reads the spider's callbacks' output interleaved, so another reader may end this listing, or a
        newer one may open, while this one waits at a ``yield``: the listing read to its end is the one closed,
        and only once."""
        listing = self.open[-1]
        entries, depth, site = listing
        for _ in range(examine):
            entry = next(entries, None)
            if entry is None:
                if any(other is listing for other in self.open):
                    self.open.remove(listing)
                    self.lost(site)
                    yield ("end", "", depth)
                return
            yield (*entry, depth)
