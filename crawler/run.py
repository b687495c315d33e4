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
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from crawler import distributed
from crawler.errors import CrawlError, NothingFetchedError, Stopped, UserInputError
from crawler.lifecycle import child_env, stop_on_signals
from crawler.options import OPTIONS_ENV, CrawlOptions
from crawler.page.urls import url_key, without_userinfo
from crawler.progress import FAILED, FETCHED, in_words, outcome_of, read_events
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
    outcomes: dict[str, int] = field(default_factory=dict)    # captures by outcome (crawler.progress.WORDS)
    failed_seeds: list[tuple[str, str]] = field(default_factory=list)   # start URLs that failed, and why
    sites: int = 0                                            # sites that answered or failed


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
           seed: bool = True, progress_fd: int | None = None, stderr=None) -> subprocess.Popen:
    """Start the crawl process. It dies with this one (``crawler.lifecycle``), and its options (proxy and seed
    credentials included) and any Redis URL reach it through the environment, never a command line, which
    any local user can read; its progress comes back on ``progress_fd`` (``crawler.progress``)."""
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
    # -P: the user's working folder is not put first on the path (a ``crawler`` package there would run instead)
    cmd = [sys.executable, "-P", "-m", "crawler.crawl_process", "--db", os.path.abspath(db_path)]
    if run_id is not None:
        cmd += ["--run-id", str(run_id)]
    if redis_crawl:
        cmd += ["--redis-crawl", redis_crawl] + ([] if seed else ["--worker"])
    extra: dict = {"stderr": stderr}
    if progress_fd is not None:
        cmd += ["--progress-fd", str(progress_fd)]
        extra["pass_fds"] = (progress_fd,)
    return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, **extra)


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


def check_proxy(proxy: str, timeout: float = 5.0) -> None:
    """A proxy nothing listens on is refused at once, before a crawl starts.

    Raises:
        NothingFetchedError: no TCP connection to the proxy's host and port.
    """
    try:
        parts = urlsplit(proxy)
        address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    except ValueError:
        raise UserInputError(f"--proxy is not a valid URL: {without_userinfo(proxy)!r}") from None
    try:
        socket.create_connection(address, timeout=timeout).close()
    except OSError as exc:
        raise NothingFetchedError(f"cannot reach the proxy {without_userinfo(proxy)} "
                                  f"({exc.strerror or exc}); nothing was crawled") from None


def run_crawl(db_path: str, options: CrawlOptions, kind: str = "crawl",
              on_event: Callable[[dict], None] | None = None) -> CrawlReport:
    """Crawl the seeds into the database at ``db_path``; returns the run's figures. ``on_event`` receives the
    crawl process's progress events (``crawler.progress``) as they come.

    Raises:
        NothingFetchedError: the proxy cannot be reached, or not one page answered.
        CrawlError: the crawl process failed (its last error line in the message).
    """
    if not options.seeds:
        raise UserInputError("nothing to crawl: give URLs, --seeds-file, or add sites to the watch list")
    check_crawl_options(options)
    if options.proxy:
        check_proxy(options.proxy)
    store = Store(db_path)
    run_id = store.start_run(kind, {"seeds": [without_userinfo(u) for u in options.seeds], "delay": options.delay,
                                    "concurrency": options.concurrency, "max_pages": options.max_pages})
    store.close()
    started = time.monotonic()
    final: dict = {}

    def take(event: dict) -> None:
        if event.get("kind") == "final":
            final.update(event)
        if on_event is not None:
            on_event(event)

    read_fd, write_fd = os.pipe()
    reader = read_events(read_fd, take)
    verbose = options.log_level in ("INFO", "DEBUG")
    with tempfile.TemporaryFile() as child_errors:
        try:
            child = _child(db_path, options, run_id, progress_fd=write_fd, stderr=None if verbose else child_errors)
        finally:
            os.close(write_fd)
        try:
            returncode = wait_or_stop(child)
        except Stopped:
            reader.join(timeout=10)
            _record_stop(db_path, run_id)
            raise
        reader.join(timeout=10)
        child_errors.seek(0)
        last_error = next((line for line in reversed(child_errors.read().decode("utf-8", "replace").splitlines())
                           if line.strip()), "")
    return _judge_crawl(db_path, run_id, options, returncode, final, last_error, time.monotonic() - started)


def _judge_crawl(db_path: str, run_id: int, options: CrawlOptions, returncode: int, final: dict, last_error: str,
                 seconds: float) -> CrawlReport:
    """The run's figures, or the one-line reason it failed (the run is then marked 'failed')."""
    store = Store(db_path)
    try:
        row = store.run(run_id)
        outcomes = final.get("outcomes", {})
        seeds = {url_key(u): u for u in options.seeds}
        failed_seeds = [(seeds[f["url"]], outcome_of(f["status"], f["error"])) for f in store.failures(run_id)
                        if f["url"] in seeds]
        if returncode != 0:
            store.finish_run(run_id, "failed")
            why = f": {last_error[-300:]}" if last_error else ""
            raise CrawlError(f"the crawl process failed (exit {returncode}){why}; pages stored so far are kept "
                             "(-v shows its log)")
        if final and not any(outcomes.get(k) for k in FETCHED):
            store.finish_run(run_id, "failed")
            raise NothingFetchedError("nothing could be fetched: " + (in_words(outcomes, (*FAILED, "robots")) or
                                                                      "no page answered") +
                                      "; 'syndtrace status --errors' lists the URLs")
        store.finish_run(run_id, "crawled")
        return CrawlReport(run_id, "crawled", row["pages_fetched"] or 0, row["new"] or 0, row["changed"] or 0,
                           row["unchanged"] or 0, row["errors"] or 0, round(seconds, 2), outcomes=outcomes,
                           failed_seeds=failed_seeds, sites=final.get("site_count", 0))
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
