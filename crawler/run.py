"""Run a crawl: the Scrapy process in a child, so a crawl can run many times in one program.

Twisted's reactor cannot be restarted inside one process; tests, ``syndtrace demo`` and ``watch`` all
crawl more than once, so each crawl runs ``python -m crawler.crawl_process`` and reports through the
database. This module is the parent's side and imports neither Scrapy nor Twisted.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from crawler import distributed
from crawler.errors import CrawlError, Stopped, UserInputError
from crawler.lifecycle import child_env, stop_on_signals
from crawler.options import OPTIONS_ENV, CrawlOptions
from crawler.page.urls import without_userinfo
from crawler.storage.store import Store

STOP_GRACE = 10.0   # seconds a stopped crawl process has to close its spider before it is killed


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


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def check_crawl_options(options: CrawlOptions) -> None:
    """Refuse, before anything is written, options a crawl could never finish or reach: a delay that is not a
    finite number of seconds (``inf`` would stall a site for ever, ``nan`` compares false with every limit),
    and seeds whose host or port cannot exist.

    Raises:
        UserInputError: the first bad value, in one line.
    """
    delays = [("--delay", options.delay), ("--timeout", options.timeout), ("max_crawl_delay", options.max_crawl_delay)]
    delays += [(f"the delay of {host}", delay) for host, _limit, delay in options.site_limits if delay is not None]
    for name, value in delays:
        if not (isinstance(value, (int, float)) and math.isfinite(value)) or value < -1:
            raise UserInputError(f"{name} must be a finite number of seconds, got {value!r}")
    for url in options.seeds:
        problem = bad_target(url)
        if problem:
            raise UserInputError(f"cannot crawl {url!r}: {problem}")


def bad_target(url: str) -> str | None:
    """Why a URL cannot be fetched (no http(s) scheme, an impossible host or port), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"bad host or port ({exc})"
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return "not an http(s) URL"
    if port == 0:
        return "port 0"
    if ":" in host:
        return None   # an IPv6 literal, which urlsplit has checked
    try:
        labels = host.rstrip(".").encode("idna").decode("ascii").split(".")
    except UnicodeError:
        return "the host is not a valid name"
    return None if all(_HOST_LABEL.fullmatch(label) for label in labels) else "the host is not a valid name"


def _child(db_path: str, options: CrawlOptions, run_id: int | None, redis_crawl: str | None = None,
           seed: bool = True) -> subprocess.Popen:
    """Start the crawl process. It dies with this one (``crawler.lifecycle``), and its options (proxy and seed
    credentials included) and any Redis URL reach it through the environment, never a command line, which
    any local user can read."""
    env = child_env(os.environ.copy())
    if options.proxy:
        env["http_proxy"] = env["HTTP_PROXY"] = options.proxy
        env["https_proxy"] = env["HTTPS_PROXY"] = options.proxy
    if options.redis_url:
        env[distributed.URL_ENV] = options.redis_url
        options = replace(options, redis_url=None)
    env[OPTIONS_ENV] = options.to_json()
    project_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = project_root + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "crawler.crawl_process", "--db", os.path.abspath(db_path)]
    if run_id is not None:
        cmd += ["--run-id", str(run_id)]
    if redis_crawl:
        cmd += ["--redis-crawl", redis_crawl] + ([] if seed else ["--worker"])
    return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)


def wait_or_stop(child: subprocess.Popen) -> int:
    """The crawl process's exit code; a stop signal to this process stops it too, then is raised again.

    Raises:
        Stopped: SIGTERM, SIGHUP or SIGINT reached this process.
    """
    try:
        with stop_on_signals():
            return child.wait()
    except Stopped:
        stop_child(child)
        raise


def stop_child(child: subprocess.Popen, grace: float = STOP_GRACE) -> None:
    """Ask the crawl process to stop (Scrapy closes the spider and the pipeline records its counts), and
    kill it if it has not within ``grace`` seconds. Whatever it stored is kept either way."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def run_crawl(db_path: str, options: CrawlOptions, kind: str = "crawl") -> CrawlReport:
    """Crawl the seeds into the database at ``db_path``; returns the run's figures."""
    if not options.seeds:
        raise UserInputError("nothing to crawl: give URLs, --seeds-file, or add sites to the watch list")
    check_crawl_options(options)
    store = Store(db_path)
    run_id = store.start_run(kind, {"seeds": [without_userinfo(u) for u in options.seeds], "delay": options.delay,
                                    "concurrency": options.concurrency, "max_pages": options.max_pages})
    store.close()
    started = time.monotonic()
    child = _child(db_path, options, run_id)
    try:
        returncode = wait_or_stop(child)
    except Stopped:
        _record_stop(db_path, run_id)
        raise
    store = Store(db_path)
    try:
        row = store.run(run_id)
        status = "crawled" if returncode == 0 else "failed"
        store.finish_run(run_id, status)
        if returncode != 0:
            raise CrawlError(f"the crawl process failed (exit {returncode}); pages stored so far are kept")
        return CrawlReport(run_id, status, row["pages_fetched"] or 0, row["new"] or 0, row["changed"] or 0,
                           row["unchanged"] or 0, row["errors"] or 0, round(time.monotonic() - started, 2))
    finally:
        store.close()


def _record_stop(db_path: str, run_id: int) -> None:
    store = Store(db_path)
    try:
        store.finish_run(run_id, "stopped")
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
    returncode = wait_or_stop(_child(os.devnull, options, None, redis_crawl=crawl, seed=False))
    if returncode != 0:
        raise CrawlError(f"the worker's crawl process failed (exit {returncode})")


def coordinate_crawl(db_path: str, store: Store, coordinator: distributed.Coordinator,
                     options: CrawlOptions) -> CrawlReport:
    """Coordinate a distributed crawl: publish it, seed and crawl it in one process of this machine, and
    store every worker's results (this process is the only writer). The caller holds the run lock.

    Returns:
        the run's figures, status 'crawled', with the pages fetched by each worker.
    """
    coordinator.publish(options)
    try:
        run_id = store.start_run("crawl", {"seeds": [without_userinfo(u) for u in options.seeds],
                                           "concurrency": options.concurrency,
                                           "redis": distributed.safe_redis_url(options.redis_url),
                                           "crawl": coordinator.crawl})
        started = time.monotonic()
        child = _child(db_path, options, None, redis_crawl=coordinator.crawl)
        try:
            with stop_on_signals():
                coordinator.collect(store, run_id, lambda: child.poll() is None)
        except Stopped:
            stop_child(child)
            store.finish_run(run_id, "stopped")
            raise
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
