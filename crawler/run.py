"""Run a crawl: the Scrapy process in a child, so a crawl can run many times in one program.

Twisted's reactor cannot be restarted inside one process; tests, ``syndtrace demo`` and ``watch`` all
crawl more than once, so each crawl runs ``python -m crawler.run`` and reports through the database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from crawler.options import CrawlOptions
from dedupe.errors import SyndtraceError, UserInputError
from dedupe.storage import Store


class CrawlError(SyndtraceError):
    """The crawl process failed."""


@dataclass
class CrawlReport:
    run_id: int
    status: str
    pages_fetched: int
    new: int
    changed: int
    unchanged: int
    errors: int
    seconds: float


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
        "DOWNLOAD_WARNSIZE": min(options.max_bytes, 2 * 1024 * 1024),
        "LOG_LEVEL": options.log_level,
    }
    if options.max_pages:
        settings["CLOSESPIDER_PAGECOUNT"] = options.max_pages
    slots = {host: {"delay": delay} for host, _limit, delay in options.site_limits if delay is not None and delay >= 0}
    if slots:
        settings["DOWNLOAD_SLOTS"] = slots
    return settings


def crawl_here(db_path: str, options: CrawlOptions, run_id: int | None, redis_crawl: str | None = None) -> None:
    """Run the spider in this process (the child side of run_crawl)."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    settings.setdict(scrapy_settings(db_path, options, run_id), priority="cmdline")
    if options.redis_url and redis_crawl:
        from crawler import distributed

        settings.setdict(distributed.scrapy_settings(options.redis_url, redis_crawl), priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl("news", options_json=options.to_json())
    process.start()


def _child(db_path: str, options: CrawlOptions, run_id: int | None, redis_crawl: str | None = None,
           wait: bool = True):
    env = os.environ.copy()
    if options.proxy:
        env["http_proxy"] = env["HTTP_PROXY"] = options.proxy
        env["https_proxy"] = env["HTTPS_PROXY"] = options.proxy
    project_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = project_root + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "crawler.run", "--db", os.path.abspath(db_path), "--options", options.to_json()]
    if run_id is not None:
        cmd += ["--run-id", str(run_id)]
    if redis_crawl:
        cmd += ["--redis-crawl", redis_crawl]
    if wait:
        return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL)
    return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)


def run_crawl(db_path: str, options: CrawlOptions, kind: str = "crawl") -> CrawlReport:
    """Crawl the seeds into the database at ``db_path``; returns the run's figures."""
    if not options.seeds:
        raise UserInputError("nothing to crawl: give URLs, --seeds-file, or add sites to the watch list")
    store = Store(db_path)
    run_id = store.start_run(kind, {"seeds": list(options.seeds), "delay": options.delay,
                                    "concurrency": options.concurrency, "max_pages": options.max_pages})
    store.close()
    started = time.monotonic()
    proc = _child(db_path, options, run_id)
    store = Store(db_path)
    try:
        row = store.db["runs"].get(run_id)
        status = "crawled" if proc.returncode == 0 else "failed"
        store.finish_run(run_id, status)
        if proc.returncode != 0:
            raise CrawlError(f"the crawl process failed (exit {proc.returncode}); pages stored so far are kept")
        return CrawlReport(run_id, status, row["pages_fetched"] or 0, row["new"] or 0, row["changed"] or 0,
                           row["unchanged"] or 0, row["errors"] or 0, round(time.monotonic() - started, 2))
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run one syndtrace crawl in this process (used by run_crawl).")
    ap.add_argument("--db", required=True)
    ap.add_argument("--run-id", type=int, default=None)
    ap.add_argument("--options", required=True, help="CrawlOptions as JSON")
    ap.add_argument("--redis-crawl", default=None, help="name of the distributed crawl to join")
    args = ap.parse_args(argv)
    crawl_here(args.db, CrawlOptions.from_json(args.options), args.run_id, args.redis_crawl)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def crawl_and_trace(db_path: str, options: CrawlOptions, kind: str = "crawl", progress=None):
    """Crawl, then bring stories, lineage and audit up to date; holds the database's run lock throughout.

    Returns:
        (CrawlReport, GroupReport)

    Raises:
        LockedError: another run holds the lock (nothing is touched).
    """
    from dedupe.pipeline import update_stories

    guard = Store(db_path)
    try:
        with guard.run_lock():
            report = run_crawl(db_path, options, kind=kind)
            store = Store(db_path)
            try:
                grouping = update_stories(store, run_id=report.run_id, progress=progress)
                new_members = store.db.execute("select count(*) from members where first_run = ?",
                                               [report.run_id]).fetchone()[0]
                store.finish_run(report.run_id, "finished", stories_new=new_members)
            finally:
                store.close()
            return report, grouping
    finally:
        guard.close()


def run_worker(redis_url: str, crawl: str = "default", timeout: float = 60.0) -> int:
    """Join a distributed crawl as a worker: fetch and extract, results go to Redis. Returns the exit code."""
    from dataclasses import replace

    from crawler import distributed

    client = distributed.connect(redis_url)
    options = CrawlOptions.from_json(distributed.wait_for_options(client, crawl, timeout))
    options = replace(options, redis_url=redis_url)
    return _child(os.devnull, options, None, redis_crawl=crawl).returncode


def crawl_distributed(db_path: str, options: CrawlOptions, crawl: str = "default", progress=None,
                      wait_for_workers: float = 30.0):
    """Coordinate a distributed crawl: publish it, crawl as one worker, drain every worker's results into
    the database (the only writer), then group. Holds the database's run lock throughout.

    Returns:
        (CrawlReport, GroupReport)
    """
    from crawler import distributed
    from dedupe.pipeline import update_stories

    if not options.seeds:
        raise UserInputError("nothing to crawl: give URLs, --seeds-file, or add sites to the watch list")
    client = distributed.connect(options.redis_url)
    store = Store(db_path)
    try:
        with store.run_lock():
            run_id = store.start_run("crawl", {"seeds": list(options.seeds), "redis": distributed.safe_redis_url(
                options.redis_url), "crawl": crawl})
            distributed.publish_options(client, crawl, options.to_json())
            started = time.monotonic()
            child = _child(db_path, options, None, redis_crawl=crawl, wait=False)
            totals = {"new": 0, "changed": 0, "unchanged": 0, "failed": 0}

            def drain():
                for k, v in distributed.drain_results(client, crawl, store, run_id).items():
                    totals[k] = totals.get(k, 0) + v

            while child.poll() is None:
                drain()
                time.sleep(0.5)
            deadline = time.monotonic() + wait_for_workers
            while not distributed.workers_done(client, crawl) and time.monotonic() < deadline:
                drain()
                time.sleep(0.5)
            drain()
            fetched = totals["new"] + totals["changed"] + totals["unchanged"]
            store.finish_run(run_id, "crawled", pages_fetched=fetched, new=totals["new"], changed=totals["changed"],
                             unchanged=totals["unchanged"], errors=totals["failed"])
            if child.returncode != 0:
                store.finish_run(run_id, "failed")
                raise CrawlError(f"the crawl process failed (exit {child.returncode}); pages stored so far are kept")
            grouping = update_stories(store, run_id=run_id, progress=progress)
            new_members = store.db.execute("select count(*) from members where first_run = ?", [run_id]).fetchone()[0]
            store.finish_run(run_id, "finished", stories_new=new_members)
            report = CrawlReport(run_id, "finished", fetched, totals["new"], totals["changed"], totals["unchanged"],
                                 totals["failed"], round(time.monotonic() - started, 2))
            return report, grouping
    finally:
        store.close()
