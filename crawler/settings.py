"""Scrapy settings of the syndtrace crawler: polite defaults, hardened downloads.

``crawler.run`` overrides some of these from :class:`crawler.options.CrawlOptions`.
"""

from crawler.options import USER_AGENT

BOT_NAME = "syndtrace"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = USER_AGENT
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False   # no control port: a crawler for audits opens no listening socket

# Only http and https are ever fetched.
DOWNLOAD_HANDLERS = {"file": None, "s3": None, "ftp": None, "data": None}

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SchemeGuardMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.retry.BackoffRetryMiddleware": 550,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
    "crawler.middlewares.RedirectRecorderMiddleware": 650,
}
EXTENSIONS = {"crawler.middlewares.StoreExtension": 0}
ITEM_PIPELINES = {"crawler.pipelines.StorePipeline": 300}
HTTPERROR_ALLOWED_CODES = [304, 404, 410]

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "WARNING"

SYNDTRACE_DB = "syndtrace.db"
SYNDTRACE_OPTIONS = None  # JSON of CrawlOptions, set by crawler.run
SYNDTRACE_RUN_ID = None
