"""One crawl in this process: the child that ``crawler.run`` starts as ``python -m crawler.crawl_process``.

The only place a Scrapy ``CrawlerProcess`` is made. Keeping it out of ``crawler.run`` means the parent
process, and every command that does not crawl, never imports Scrapy or Twisted.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import warnings

from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.utils.project import get_project_settings

from crawler.distributed import URL_ENV
from crawler.lifecycle import die_with_parent_from_env
from crawler.options import OPTIONS_ENV, WARN_BYTES, CrawlOptions
from crawler.progress import ChannelLogHandler, open_channel
from crawler.shared_frontier import frontier_settings


def scrapy_settings(db_path: str, options: CrawlOptions, run_id: int | None) -> dict:
    """Scrapy setting overrides for one crawl."""
    settings = {
        "SYNDTRACE_DB": db_path,
        "SYNDTRACE_OPTIONS": options.to_json(),
        "SYNDTRACE_RUN_ID": run_id,
        "CONCURRENT_REQUESTS": options.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": options.per_site,
        "DOWNLOAD_DELAY": options.delay,
        "AUTOTHROTTLE_ENABLED": options.autothrottle and options.delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(options.delay, 0.1),
        "USER_AGENT": options.user_agent,
        "DOWNLOAD_TIMEOUT": options.timeout,
        "RETRY_TIMES": options.retries,
        "DOWNLOAD_MAXSIZE": options.max_bytes,
        "DOWNLOAD_WARNSIZE": min(options.max_bytes, WARN_BYTES),
        "LOG_LEVEL": options.log_level,
    }
    if options.max_pages:
        settings["CLOSESPIDER_PAGECOUNT"] = options.max_pages
    slots = {host: {"delay": delay} for host, _limit, delay in options.site_limits if delay is not None and delay >= 0}
    if slots:
        settings["DOWNLOAD_SLOTS"] = slots
    return settings


def crawl_here(db_path: str, options: CrawlOptions, run_id: int | None, redis_crawl: str | None = None,
               redis_url: str | None = None, seed: bool = True, extra_settings: dict | None = None) -> None:
    """Run the spider in this process (the child side of run_crawl); with ``redis_crawl``, as one process of
    that distributed crawl, seeding its frontier if ``seed``."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    settings.setdict({**scrapy_settings(db_path, options, run_id), **(extra_settings or {})}, priority="cmdline")
    if redis_crawl:
        # scrapy-redis 0.9.1 passes the old 'spider' argument to the stats collector
        warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")
        for name, value in frontier_settings(redis_url, redis_crawl, seed).items():
            settings.set(name, {**settings.getdict(name), **value} if isinstance(value, dict) else value,
                         priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl("news", options_json=options.to_json())
    keep_out_of_collections()
    process.start()


# allocations between two collections of the youngest generation (Python's default is 700): a page makes thousands of
# short-lived objects (requests, Deferreds, headers, rows), so 700 meant ~600 young and ~60 middle collections a crawl
# of 2,000 pages for little garbage; with 10,000, ~25 and ~2, and the reactor's CPU 8% lower (7.5 → 6.9 s)
YOUNG_OBJECTS = 10_000


def keep_out_of_collections() -> None:
    """Move what start-up made (Scrapy, Twisted, lxml, sqlite-utils and their ~100,000 objects, which live as long as
    this process) out of the garbage collector's sight (``gc.freeze``): otherwise every full collection during the
    crawl walks them again, ~0.1 s each, some 7% of the reactor's CPU. Collect young objects every ``YOUNG_OBJECTS``
    allocations. The extraction workers forked later inherit both, and freeze what their own warm-up loads."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


def open_progress(fd: int | None, options: CrawlOptions) -> dict:
    """Open the progress channel to the parent; unless the crawl is verbose, the log goes there too, errors
    only and one line each, instead of Scrapy's log (tracebacks) on stderr. Returns setting overrides."""
    writer = open_channel(fd)
    if fd is None or options.log_level in ("INFO", "DEBUG"):
        return {}
    logging.getLogger().addHandler(ChannelLogHandler(writer))
    return {"LOG_ENABLED": False}


def main(argv: list[str] | None = None) -> int:
    die_with_parent_from_env()
    ap = argparse.ArgumentParser(description="Run one syndtrace crawl in this process (started by crawler.run).")
    ap.add_argument("--db", required=True)
    ap.add_argument("--run-id", type=int, default=None)
    ap.add_argument("--options", default=os.environ.get(OPTIONS_ENV),
                    help=f"CrawlOptions as JSON (default: ${OPTIONS_ENV}, where crawler.run puts them)")
    ap.add_argument("--redis-crawl", default=None,
                    help="name of the distributed crawl to join (its Redis URL in $SYNDTRACE_REDIS_URL)")
    ap.add_argument("--worker", action="store_true", help="take from the shared frontier without seeding it")
    ap.add_argument("--progress-fd", type=int, default=None, help="write progress as JSON lines here (crawler.progress)")
    args = ap.parse_args(argv)
    if not args.options:
        ap.error(f"give --options or ${OPTIONS_ENV}")
    redis_url = None
    if args.redis_crawl:
        redis_url = os.environ[URL_ENV]
    options = CrawlOptions.from_json(args.options)
    crawl_here(args.db, options, args.run_id, args.redis_crawl, redis_url, seed=not args.worker,
               extra_settings=open_progress(args.progress_fd, options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
