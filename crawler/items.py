"""What the spider hands to the pipeline: one HTTP capture."""

from __future__ import annotations

import scrapy


class PageItem(scrapy.Item):
    url = scrapy.Field()            # URL key of the final page
    requested_url = scrapy.Field()  # first URL asked for (before redirects)
    final_url = scrapy.Field()      # URL as served after redirects
    status = scrapy.Field()
    headers = scrapy.Field()        # dict of str -> str
    body = scrapy.Field()           # bytes
    fetched_at = scrapy.Field()     # ISO 8601 UTC
    cached = scrapy.Field()         # True: the server said 304, body is the stored copy
    error = scrapy.Field()          # why the fetch failed, if it did
