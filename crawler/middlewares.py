"""Downloader middlewares and the extension that gives the crawl its database.

- StoreExtension opens the :class:`crawler.storage.store.Store` when the spider opens and closes it after.
- SchemeGuardMiddleware refuses every scheme but http and https, redirects included.
- PrivateTargetMiddleware refuses hosts that are private, loopback or link-local addresses (links, sitemaps
  and redirects alike), and GuardedResolver refuses names that resolve to one (``crawler.targets``).
- SkippedSiteMiddleware refuses requests to sites the spider gave up on once their robots.txt was read
  (a Crawl-delay too long to ever finish).
- ConditionalRequestMiddleware sends If-None-Match / If-Modified-Since for pages already stored and turns
  a 304 into the stored page, so links are still followed but nothing unchanged is downloaded again.
- ProxyMiddleware is Scrapy's proxy middleware with the environment's ``no_proxy`` read once per host.
- QuietLogFormatter leaves out Scrapy's DEBUG line for every response and item unless the crawl logs at DEBUG.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urljoin, urlsplit
from urllib.request import proxy_bypass

from scrapy import signals
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.logformatter import LogFormatter
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from crawler.options import CrawlOptions
from crawler.page.urls import is_fetchable, url_key
from crawler.storage.store import Store
from crawler.targets import TargetGuard

logger = logging.getLogger(__name__)


def crawl_store(crawler) -> Store:
    """The crawl's Store, opened on first use by whichever component asks first (pipeline or middleware)."""
    store = getattr(crawler, "syndtrace_store", None)
    if store is None:
        store = crawler.syndtrace_store = Store(crawler.settings.get("SYNDTRACE_DB"))
        crawler.syndtrace_validators = store.validators()
    return store


class StoreExtension:
    """Owns the crawl's Store: opened when the spider opens, closed when it closes."""

    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        crawl_store(self.crawler)

    def spider_closed(self, spider):
        store = getattr(self.crawler, "syndtrace_store", None)
        if store is not None:
            store.close()


class SchemeGuardMiddleware:
    """Only http and https leave this crawler: never file:, ftp:, data: or others, even via redirects."""

    def process_request(self, request):
        if not request.url.lower().startswith(("http://", "https://")):
            logger.warning("refused non-http(s) URL %s", request.url[:200])
            raise IgnoreRequest(f"scheme not allowed: {request.url[:80]}")


def target_guard(crawler) -> TargetGuard:
    """The crawl's guard against private targets (one per crawl, shared by the middleware and the resolver)."""
    guard = getattr(crawler, "syndtrace_guard", None)
    if guard is None:
        raw = crawler.settings.get("SYNDTRACE_OPTIONS")
        proxy = os.environ.get("http_proxy") or os.environ.get("HTTP_PROXY")
        guard = crawler.syndtrace_guard = TargetGuard(CrawlOptions.from_json(raw) if raw else CrawlOptions(), proxy)
    return guard


class PrivateTargetMiddleware:
    """No request to a private, loopback or link-local address that a page, a sitemap or a redirect names."""

    def __init__(self, crawler):
        self.guard = target_guard(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        why = self.guard.refusal(urlsplit(request.url).hostname)
        if why:
            raise IgnoreRequest(f"refused: {why}")   # the spider's errback records and logs it


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's resolver, refusing a name that resolves to a private, loopback or link-local address (a host
    name pointed at 127.0.0.1 is the same attack as the address itself)."""

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.guard = target_guard(crawler)
        return resolver

    def getHostByName(self, name, timeout=()):
        return super().getHostByName(name, timeout).addCallback(self._checked, name)

    def _checked(self, address: str, name: str) -> str:
        why = self.guard.refusal(name, address)
        if why:
            raise DNSLookupError(f"refused: {why}")
        return address


class CrawlerHolder:
    """A component that reads the running crawl's state (spider, stored validators): Scrapy builds it from its
    crawler."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)


class SkippedSiteMiddleware(CrawlerHolder):
    """Runs after robots.txt is read (Scrapy's RobotsTxtMiddleware is at 100): a site the spider skipped
    (``NewsSpider.too_slow``) gets no request at all, not even the one that made Scrapy read its robots.txt."""

    def process_request(self, request):
        if urlsplit(request.url).hostname in getattr(self.crawler.spider, "too_slow", ()):
            raise IgnoreRequest("site skipped: its robots.txt asks for a Crawl-delay too long to finish a crawl")


class ConditionalRequestMiddleware(CrawlerHolder):
    """Re-crawls ask 'has this changed?' and reuse the stored copy when it has not."""

    def process_request(self, request):
        validators = getattr(self.crawler, "syndtrace_validators", {})
        known = validators.get(url_key(request.url))
        if known and not request.meta.get("dont_obey_robotstxt"):
            etag, last_modified = known
            if etag:
                request.headers.setdefault(b"If-None-Match", etag)
            if last_modified:
                request.headers.setdefault(b"If-Modified-Since", last_modified)
            request.meta["syndtrace_conditional"] = True

    def process_response(self, request, response):
        if response.status != 304 or not request.meta.get("syndtrace_conditional"):
            return response
        store = crawl_store(self.crawler)
        key = url_key(response.url)
        cached = store.cached_page(key)
        if cached is None:
            return response
        body, headers = cached
        return HtmlResponse(url=response.url, status=200, body=body, request=request,
                            headers={k: v for k, v in headers.items() if k in ("content-type", "etag", "last-modified")},
                            flags=["cached"])


class RedirectRecorderMiddleware(CrawlerHolder):
    """Records every redirect (source → target) as an alias, even when the target was already fetched and
    the redirected request is filtered as a duplicate: reports resolve shortened and moved URLs. A redirect
    the crawl refuses to follow (another scheme, a site not crawled, a private address) is not recorded."""

    def process_response(self, request, response):
        location = response.headers.get(b"Location")
        if response.status in (301, 302, 303, 307, 308) and location and \
                not request.meta.get("dont_obey_robotstxt"):
            target = urljoin(request.url, location.decode("latin-1"))
            reaches = getattr(self.crawler.spider, "reaches", is_fetchable)
            if url_key(target) != url_key(request.url) and reaches(target) and \
                    not target_guard(self.crawler).refusal(urlsplit(target).hostname):
                self.save_alias(url_key(request.url), url_key(target), response.status)
        return response

    def save_alias(self, source: str, target: str, status: int) -> None:
        crawl_store(self.crawler).save_alias(source, target, status)


class ProxyMiddleware(HttpProxyMiddleware):
    """Scrapy's proxy middleware (a request's ``proxy`` meta, else the ``*_proxy`` environment), deciding as it does,
    but asking ``no_proxy`` once per host: urllib's ``proxy_bypass`` reads the whole environment again on every
    call (~50 µs a request)."""

    def __init__(self, auth_encoding: str | None = "latin-1"):
        super().__init__(auth_encoding)
        self.bypassed: dict[str, bool] = {}   # host -> no_proxy names it

    def process_request(self, request):
        if "proxy" in request.meta or not self.proxies:
            return super().process_request(request)
        parsed = urlparse_cached(request)
        scheme, host = parsed.scheme, parsed.hostname
        if scheme in self.proxies and (scheme not in ("http", "https") or (host and not self._bypassed(host))):
            creds, proxy_url = self.proxies[scheme]
            self._set_proxy_and_creds(request, proxy_url, creds, scheme)
        else:
            self._set_proxy_and_creds(request, None, None, None)
        return None

    def _bypassed(self, host: str) -> bool:
        if host not in self.bypassed:
            self.bypassed[host] = bool(proxy_bypass(host))
        return self.bypassed[host]


class QuietLogFormatter(LogFormatter):
    """Scrapy's formatter, without its DEBUG lines "Crawled (200) <GET …>" and "Scraped from …" when the crawl logs
    above DEBUG: Scrapy builds each of them (the referer read, a log record made) for every response and every
    item even when no handler keeps DEBUG records, a few percent of the reactor's CPU."""

    def __init__(self, debug: bool = False):
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler):
        level = crawler.settings.get("LOG_LEVEL")
        return cls(logging.getLevelNamesMapping().get(str(level).upper(), level) == logging.DEBUG)

    def crawled(self, request, response, spider):
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(self, item, response, spider):
        return super().scraped(item, response, spider) if self.debug else None
