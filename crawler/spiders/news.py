"""The news spider: chooses URLs and yields captures. Parsing and decisions live in crawler.page.urls."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.items import PageItem
from crawler.listings import ListingFrontier, listing_entries
from crawler.options import CrawlOptions
from crawler.page.urls import canonicalize_url, fast_links, is_fetchable, site_of, url_key
from crawler.progress import FOR_USER
from crawler.robots import robots_crawl_delay, robots_sitemaps

FEEDISH = (".xml", ".rss", ".atom", "/feed", "/rss", "/feed/", "/rss/", "/atom.xml", ".xml.gz")
LISTED_WINDOW = 64   # page URLs of sitemaps and feeds kept in the scheduler at once (more are read as it drains)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class NewsSpider(scrapy.Spider):
    """Crawls the seed sites through links, sitemaps and feeds; yields one PageItem per page."""

    name = "news"

    def __init__(self, options_json: str | None = None, seeds: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = CrawlOptions.from_json(options_json) if options_json else CrawlOptions(
            seeds=tuple((seeds or "").split(",")) if seeds else ())
        self.seed_urls = [canonicalize_url(s) for s in self.options.seeds if is_fetchable(s)]
        self.sites = {site_of(u) for u in self.seed_urls}
        if not self.options.offsite:
            self.allowed_domains = sorted(self.sites)
        self.page_limits = {host: int(limit) for host, limit, _delay in self.options.site_limits if limit}
        self.queued: dict[str, set[str]] = {}   # per limited site, the pages asked for so far
        self.crawl_delays: dict[str, float] = {}  # host -> robots.txt Crawl-delay above our own delay
        self.too_slow: set[str] = set()            # hosts whose Crawl-delay is above max_crawl_delay: skipped
        self.listings = ListingFrontier()
        # every URL this process has asked Scrapy for: a link seen again (a site's menus, on every page) is
        # dropped here instead of going through every spider middleware to the scheduler's duplicate filter
        self.requested: set[str] = set()

    def reaches(self, url: str) -> bool:
        """Would this crawl go to ``url`` at all: an http(s) URL of a site it crawls, not one it gave up on."""
        return is_fetchable(url) and urlsplit(url).hostname not in self.too_slow and \
            (self.options.offsite or site_of(url) in self.sites)

    def _allowed(self, url: str) -> bool:
        if not self.reaches(url):
            return False
        site = site_of(url)
        limit = self.page_limits.get(site)
        if not limit:
            return True
        queued = self.queued.setdefault(site, set())
        key = url_key(url)
        if key not in queued and len(queued) >= limit:
            return False
        queued.add(key)
        return True

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.dropped, signal=signals.request_dropped)
        return spider

    def _request(self, url: str, callback, listing_depth: int | None = None, **kwargs) -> scrapy.Request:
        url = canonicalize_url(url)
        self.requested.add(url)
        meta = {"requested_url": url_key(url)}
        if listing_depth is not None:
            meta.update(listing_depth=listing_depth, listing_site=site_of(url))
        if urlsplit(url).hostname in self.crawl_delays:
            meta["autothrottle_dont_adjust_delay"] = True   # AutoThrottle must not undercut a Crawl-delay
        return scrapy.Request(url, callback=callback, errback=self.failed, meta=meta, **kwargs)

    async def start(self):
        if not self.settings.getbool("SYNDTRACE_SEED_FRONTIER", True):
            return   # a distributed crawl's worker: the coordinator seeds the shared frontier
        for url in self.seed_urls:
            yield self._request(url, self.parse_page, priority=10)

    def robots_parsed(self, robotparser, request):
        """Scrapy fetched a host's robots.txt (once, before anything else there): honour its Crawl-delay
        on that host, or skip the host when the delay is too long to ever finish, and queue the sitemaps it
        names (or /sitemap.xml)."""
        parts = urlsplit(request.url)
        base = f"{parts.scheme}://{parts.netloc}"
        parsed = getattr(robotparser, "rp", None)   # Scrapy's Protego parser keeps the Protego object here
        delay = robots_crawl_delay(parsed, self.options.user_agent)
        if delay is not None and not (math.isfinite(delay) and delay <= self.options.max_crawl_delay):
            self.too_slow.add(parts.hostname)
            self.logger.warning("skipped %s: its robots.txt asks for a Crawl-delay of %s s, more than %s s; "
                                "a crawl at that pace would not end", base, delay, self.options.max_crawl_delay,
                                extra=FOR_USER)
            return
        if delay and delay > self.options.delay:
            self.crawl_delays[parts.hostname] = delay
            slot = self.crawler.engine.downloader.slots.get(self.crawler.engine.downloader.get_slot_key(request))
            if slot is not None:
                slot.delay = max(slot.delay, delay)
                slot.jitter = 0.0   # Scrapy's ±50% jitter would undercut the Crawl-delay
            self.logger.info("Crawl-delay %s s for %s", delay, base)
        for url in robots_sitemaps(parsed) or [f"{base}/sitemap.xml"]:
            if self._allowed(url):
                self.listings.add_listing(canonicalize_url(url), 0)
        for fed in self._feed():
            self.crawler.engine.crawl(fed)

    def parse_listing_file(self, response):
        """A sitemap, sitemap index or feed: stored (so a re-crawl asks whether it changed), then read as a
        stream from which page URLs are scheduled as the crawl takes them (:class:`ListingFrontier`)."""
        yield self._capture(response)
        site = response.meta.get("listing_site", "")
        if response.status == 200:
            self.listings.opened(listing_entries(response.body), response.meta.get("listing_depth", 0), site)
        else:
            self.listings.lost(site)
        yield from self._feed()

    def _feed(self, examine: int = 5000):
        """Requests for what the listings hold, while the scheduler has room for them."""
        scheduler = self.crawler.engine.scheduler
        room = LISTED_WINDOW - (len(scheduler) if scheduler is not None else 0)
        for kind, url, depth in self.listings.take(room, self._allowed, examine):
            if kind == "page":
                yield self._request(url, self.parse_page)
            else:
                yield self._request(url, self.parse_listing_file, priority=5, listing_depth=depth)
        for reason in self.listings.refused:
            self.logger.warning("not read: %s", reason)
        self.listings.refused.clear()

    def idle(self, spider):
        """Nothing left in the scheduler: read on in the listings (to their end if need be) before closing."""
        self.listings.idle()
        scheduler = self.crawler.engine.scheduler
        while self.listings.pending():
            for request in self._feed(examine=100_000):
                self.crawler.engine.crawl(request)
            if scheduler is not None and len(scheduler):
                raise DontCloseSpider

    def dropped(self, request, spider):
        """A listing request filtered as a duplicate will not come back."""
        if "listing_site" in request.meta:
            self.listings.lost(request.meta["listing_site"])

    @staticmethod
    def _capture(response) -> PageItem:
        headers = {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1")
                   for k, v in response.headers.items()}
        return PageItem(
            url=url_key(response.url), requested_url=response.meta.get("requested_url", url_key(response.url)),
            final_url=response.url, status=response.status, headers=headers, body=response.body,
            fetched_at=_now(), cached="cached" in response.flags,
        )

    def parse_page(self, response):
        yield self._capture(response)
        if response.status != 200 or not isinstance(response, scrapy.http.TextResponse):
            return
        for url in fast_links(response.body, response.url):
            if url in self.requested or not self._allowed(url):
                continue
            if urlsplit(url).path.lower().endswith(FEEDISH):
                self.listings.add_listing(url, 0)
            else:
                yield self._request(url, self.parse_page)
        yield from self._feed()

    def failed(self, failure):
        request = failure.request
        if "listing_site" in request.meta:
            self.listings.lost(request.meta["listing_site"])
        yield from self._feed()
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            self.logger.debug("robots.txt forbids %s", request.url)
            return
        if failure.check(HttpError):
            status = failure.value.response.status
            reason = f"HTTP {status}"
        else:
            status = 0
            reason = failure.getErrorMessage()[:200] or type(failure.value).__name__
        self.logger.warning("failed %s: %s", request.url, reason)
        yield PageItem(url=url_key(request.url), requested_url=url_key(request.url), final_url=request.url,
                       status=status, headers={}, body=b"", fetched_at=_now(), cached=False, error=reason)

