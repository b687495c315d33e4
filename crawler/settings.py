"""Scrapy settings of the syndtrace crawler: polite defaults, hardened downloads.

The defaults come from :class:`crawler.options.CrawlOptions`; ``crawler.crawl_process.scrapy_settings`` overrides
them with the options of each crawl.
"""

from crawler.options import WARN_BYTES, CrawlOptions

_DEFAULTS = CrawlOptions()

BOT_NAME = "syndtrace"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = _DEFAULTS.user_agent
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = _DEFAULTS.concurrency
CONCURRENT_REQUESTS_PER_DOMAIN = _DEFAULTS.per_site
# outputs of one response handled at once: Scrapy starts this many tasks for every response, and a page yields
# one capture (which waits for its extraction) and a few new links; Scrapy's 100 cost a sixth of the reactor's CPU
CONCURRENT_ITEMS = 4
DOWNLOAD_DELAY = _DEFAULTS.delay
AUTOTHROTTLE_ENABLED = _DEFAULTS.autothrottle
AUTOTHROTTLE_START_DELAY = _DEFAULTS.delay
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

DOWNLOAD_TIMEOUT = _DEFAULTS.timeout
DOWNLOAD_MAXSIZE = _DEFAULTS.max_bytes
DOWNLOAD_WARNSIZE = min(_DEFAULTS.max_bytes, WARN_BYTES)
RETRY_ENABLED = True
RETRY_TIMES = _DEFAULTS.retries
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
DNS_RESOLVER = "crawler.middlewares.GuardedResolver"   # no host name that resolves to a private address
REMOTE_CONTROL_ENABLED = False   # no control port: a crawler for audits opens no listening socket

# Only http and https are ever fetched.
DOWNLOAD_HANDLERS = {"file": None, "s3": None, "ftp": None, "data": None}

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SchemeGuardMiddleware": 50,
    "crawler.middlewares.PrivateTargetMiddleware": 60,
    "crawler.middlewares.SkippedSiteMiddleware": 120,   # after RobotsTxtMiddleware (100) has read robots.txt
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.retry.BackoffRetryMiddleware": 550,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
    "crawler.middlewares.RedirectRecorderMiddleware": 650,
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
    "crawler.middlewares.ProxyMiddleware": 750,   # Scrapy's, asking no_proxy once per host
}
EXTENSIONS = {"crawler.middlewares.StoreExtension": 0, "crawler.crawl_progress.ProgressExtension": 10}
ITEM_PIPELINES = {"crawler.pipelines.StorePipeline": 300}
HTTPERROR_ALLOWED_CODES = [304, 404, 410]

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = _DEFAULTS.log_level
LOG_FORMATTER = "crawler.middlewares.QuietLogFormatter"   # no DEBUG line a page unless the crawl logs at DEBUG

SYNDTRACE_DB = "syndtrace.db"
SYNDTRACE_OPTIONS = None  # JSON of CrawlOptions, set by crawler.crawl_process
SYNDTRACE_RUN_ID = None
