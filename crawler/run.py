"""Run a crawl: the Scrapy process in a child, so a crawl can run many times in one program.

Twisted's reactor cannot be restarted inside one process; tests, ``syndtrace demo`` and ``watch`` all
crawl more than once, so each crawl runs ``python -m crawler.crawl_process`` and reports through the
database. This module is the parent's side and imports neither Scrapy nor Twisted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace

from crawler import distributed
from crawler.errors import CrawlError, UserInputError
from crawler.options import CrawlOptions
from crawler.storage.store import Store


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
    by_worker: dict[str, int] = field(default_factory=dict)   # pages fetched by each process of a distributed crawl


def _child(db_path: str, options: CrawlOptions, run_id: int | None, redis_crawl: str | None = None,
           seed: bool = True, wait: bool = True):
    env = os.environ.copy()
    if options.proxy:
        env["http_proxy"] = env["HTTP_PROXY"] = options.proxy
        env["https_proxy"] = env["HTTPS_PROXY"] = options.proxy
    if options.redis_url:
        env[distributed.URL_ENV] = options.redis_url   # not on the command line, which any local user can read
        options = replace(options, redis_url=None)
    project_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = project_root + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "crawler.crawl_process", "--db", os.path.abspath(db_path), "--options", options.to_json()]
    if run_id is not None:
        cmd += ["--run-id", str(run_id)]
    if redis_crawl:
        cmd += ["--redis-crawl", redis_crawl] + ([] if seed else ["--worker"])
    if wait:
        return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, check=False)
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
        row = store.run(run_id)
        status = "crawled" if proc.returncode == 0 else "failed"
        store.finish_run(run_id, status)
        if proc.returncode != 0:
            raise CrawlError(f"the crawl process failed (exit {proc.returncode}); pages stored so far are kept")
        return CrawlReport(run_id, status, row["pages_fetched"] or 0, row["new"] or 0, row["changed"] or 0,
                           row["unchanged"] or 0, row["errors"] or 0, round(time.monotonic() - started, 2))
    finally:
        store.close()


def run_worker(redis_url: str, crawl: str = "default", timeout: float = 60.0) -> None:
    """Join a distributed crawl as a worker: fetch and extract; results go to Redis for the coordinator.

    Raises:
        UserInputError: Redis cannot be reached, or no such crawl was started within ``timeout`` seconds.
        CrawlError: the crawl process failed.
    """
    client = distributed.connect(redis_url)
    options = replace(distributed.wait_for_options(client, crawl, timeout), redis_url=redis_url)
    proc = _child(os.devnull, options, None, redis_crawl=crawl, seed=False)
    if proc.returncode != 0:
        raise CrawlError(f"the worker's crawl process failed (exit {proc.returncode})")


def coordinate_crawl(db_path: str, store: Store, coordinator: distributed.Coordinator,
                     options: CrawlOptions) -> CrawlReport:
    """Coordinate a distributed crawl: publish it, seed and crawl it in one process of this machine, and
    store every worker's results (this process is the only writer). The caller holds the run lock.

    Returns:
        the run's figures, status 'crawled', with the pages fetched by each worker.
    """
    coordinator.publish(options)
    try:
        run_id = store.start_run("crawl", {"seeds": list(options.seeds), "concurrency": options.concurrency,
                                           "redis": distributed.safe_redis_url(options.redis_url),
                                           "crawl": coordinator.crawl})
        started = time.monotonic()
        child = _child(db_path, options, None, redis_crawl=coordinator.crawl, wait=False)
        coordinator.collect(store, run_id, lambda: child.poll() is None)
    finally:
        coordinator.clear()
    states = coordinator.states
    fetched = states["new"] + states["changed"] + states["unchanged"] + states["duplicate"]
    unchanged, errors = states["unchanged"] + states["duplicate"], states["failed"] + coordinator.extract_errors
    store.finish_run(run_id, "crawled", pages_fetched=fetched, new=states["new"], changed=states["changed"],
                     unchanged=unchanged, errors=errors)
    if child.returncode != 0:
        store.finish_run(run_id, "failed")
        raise CrawlError(f"the crawl process failed (exit {child.returncode}); pages stored so far are kept")
    return CrawlReport(run_id, "crawled", fetched, states["new"], states["changed"], unchanged, errors,
                       round(time.monotonic() - started, 2), dict(coordinator.by_worker.most_common()))
