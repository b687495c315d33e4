"""Retries with exponential backoff.

Scrapy's RetryMiddleware re-sends a request that met a 5xx status, a timeout or a reset at once; a
server that is struggling gets the same load again. Here a retried request first waits
``backoff × 2^(attempt-1)`` seconds (capped), without holding a download slot: the wait happens before
the request reaches the downloader.
"""

from __future__ import annotations

import asyncio

from scrapy.downloadermiddlewares.retry import RetryMiddleware

from crawler.options import CrawlOptions

MAX_BACKOFF = 60.0


class BackoffRetryMiddleware(RetryMiddleware):
    @classmethod
    def from_crawler(cls, crawler):
        middleware = super().from_crawler(crawler)
        raw = crawler.settings.get("SYNDTRACE_OPTIONS")
        middleware.backoff = (CrawlOptions.from_json(raw) if raw else CrawlOptions()).retry_backoff
        return middleware

    def _retry(self, request, reason):
        retry = super()._retry(request, reason)
        if retry is not None and self.backoff > 0:
            attempt = retry.meta.get("retry_times", 1)
            retry.meta["retry_wait"] = min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF)
        return retry

    async def process_request(self, request, spider=None):
        wait = request.meta.pop("retry_wait", 0)
        if wait:
            await asyncio.sleep(wait)
