"""The runs a command starts, as plain library functions: fetch or import pages (crawler), then bring
stories, lineage and audit up to date (dedupe), under the database's run lock so two runs never overlap.

This is the only place where crawling and grouping meet; ``crawler`` never imports ``dedupe``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import resources

from crawler import distributed
from crawler.capture import reextract_all
from crawler.errors import CrawlError, LockedError, Stopped, UserInputError
from crawler.lifecycle import stop_on_signals
from crawler.localserver import LocalWeb
from crawler.options import CrawlOptions
from crawler.page.urls import without_userinfo
from crawler.progress import WORDS, outcome_of
from crawler.run import CrawlReport, check_crawl_options, coordinate_crawl, run_crawl
from crawler.storage.store import Store
from crawler.warc import IngestReport, ingest_files
from crawler.watchlist import WatchedSite, load_sites_file, options_for, read_text_file
from dedupe.options import GroupingOptions, SparkOptions
from dedupe.pipeline import GroupReport, Progress, update_stories
from dedupe.spark_job import run_on_spark

DEMO_ORIGIN_HOST = "commondreams.example"


def crawl_and_trace(db_path: str, options: CrawlOptions, kind: str = "crawl", progress: Progress | None = None,
                    on_event: Callable[[dict], None] | None = None) -> tuple[CrawlReport, GroupReport]:
    """Crawl, then bring stories, lineage and audit up to date; holds the database's run lock throughout.
    ``on_event`` receives the crawl's live progress (``crawler.progress``).

    Raises:
        LockedError: another run holds the lock (nothing is touched).
        UserInputError: options no crawl could finish (nothing is touched).
        NothingFetchedError: the proxy cannot be reached or no page answered (nothing is grouped).
    """
    check_crawl_options(options)
    guard = Store(db_path)
    try:
        with guard.run_lock(), stop_on_signals():
            report = run_crawl(db_path, options, kind=kind, on_event=on_event)
            store = Store(db_path)
            try:
                grouping = _group(store, report.run_id, progress)
                store.finish_run(report.run_id, "finished", stories_new=store.new_members(report.run_id))
            finally:
                store.close()
            return report, grouping
    finally:
        guard.close()


def crawl_distributed_and_trace(db_path: str, options: CrawlOptions, crawl: str = "default",
                                progress: Progress | None = None) -> tuple[CrawlReport, GroupReport]:
    """Coordinate a distributed crawl (``crawler.run.coordinate_crawl``), then group everything the workers
    sent, once, here. Holds the database's run lock throughout; the report counts pages by worker."""
    if not options.seeds:
        raise UserInputError("nothing to crawl: give URLs, --seeds-file, or add sites to the watch list")
    check_crawl_options(options)
    coordinator = distributed.Coordinator(distributed.connect(options.redis_url), crawl)
    store = Store(db_path)
    try:
        with store.run_lock(), stop_on_signals():
            report = coordinate_crawl(db_path, store, coordinator, options)
            grouping = _group(store, report.run_id, progress)
            store.finish_run(report.run_id, "finished", stories_new=store.new_members(report.run_id))
            return replace(report, status="finished"), grouping
    finally:
        store.close()


def ingest_and_trace(db_path: str, paths: list[str],
                     progress: Progress | None = None) -> tuple[IngestReport, GroupReport]:
    """Ingest WARC files and update stories, under the database's run lock."""
    store = Store(db_path)
    try:
        with store.run_lock(), stop_on_signals():
            report = ingest_files(store, paths, progress=progress)
            run_id = report.run_id
            grouping = _group(store, run_id, progress)
            store.finish_run(run_id, "finished", pages_fetched=report.stored, new=report.stored,
                             errors=report.skipped + len(report.problems), stories_new=store.new_members(run_id))
            return report, grouping
    finally:
        store.close()


def rebuild(store: Store, *, extract: bool = False, options: GroupingOptions | None = None,
            progress: Progress | None = None, spark: SparkOptions | None = None) -> GroupReport:
    """Recompute everything from stored pages under the run lock (optionally re-extracting them first), here or,
    with ``spark``, on a Spark cluster (the same stories either way)."""
    with store.run_lock(), stop_on_signals():
        report = GroupReport()
        if extract:
            with report.stage("extract"):
                reextract_all(store, progress=progress)
        if spark is not None:
            result = run_on_spark(store, options, spark, progress=progress)
        else:
            result = update_stories(store, options, full=True, progress=progress)
        result.timings = {**report.timings, **result.timings}
        return result


def _group(store: Store, run_id: int, progress: Progress | None) -> GroupReport:
    """Bring stories up to date after a run; a stop signal meanwhile records the run as stopped (the grouping's
    transaction is rolled back, and the next run groups these pages)."""
    try:
        return update_stories(store, run_id=run_id, progress=progress)
    except Stopped:
        store.finish_run(run_id, "stopped")
        raise


@dataclass
class WatchRound:
    crawl: CrawlReport | None = None
    grouping: GroupReport | None = None
    skipped: str | None = None   # why this round did not run (another run held the database)
    failed: str | None = None    # why this round's crawl failed (no network, proxy down): tried again later
    exit_code: int = 0           # the failure's exit code (crawler.errors), for the watch's own exit


def watch_round(db_path: str, options: CrawlOptions, progress: Progress | None = None,
                on_event: Callable[[dict], None] | None = None) -> WatchRound:
    """One round of ``syndtrace watch``: a round that finds the database busy is skipped, one whose crawl fails
    is reported; neither ends the watch."""
    try:
        crawl, grouping = crawl_and_trace(db_path, options, progress=progress, on_event=on_event)
    except LockedError as exc:   # another run (cron, a manual crawl) is busy: skip this round, not the watch
        return WatchRound(skipped=str(exc))
    except CrawlError as exc:
        return WatchRound(failed=str(exc), exit_code=exc.exit_code)
    return WatchRound(crawl, grouping)


BACKOFF_CAP = 86400.0   # after failures in a row, wait at most a day (or --every, if longer)


def retry_wait(every: float, failures: int) -> float:
    """Seconds to the next round: ``every``, doubled for each failure in a row after the first, capped."""
    if failures <= 1:
        return every
    return min(every * 2 ** (failures - 1), max(every, min(16 * every, BACKOFF_CAP)))


def _clock(seconds: float) -> str:
    when = datetime.now() + timedelta(seconds=seconds)
    return when.strftime("%H:%M" if seconds < 86400 else "%Y-%m-%d %H:%M")


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:.0f}s"


def pause(seconds: float) -> None:
    """How ``watch`` waits (tests replace it)."""
    time.sleep(seconds)


def watch(run_once: Callable[[], WatchRound], every: float, runs: int = 0,
          say: Callable[[str], None] = print) -> WatchRound:
    """Run rounds every ``every`` seconds (``runs`` times, or until interrupted); returns the last round.

    Says when the next round starts. Failed rounds back off (:func:`retry_wait`) and are summed up: the
    first failure is told in full, the next ones as a count, and the recovery once.
    """
    done = failures = 0
    first_failure, first_cause = "", ""
    while True:
        started = time.monotonic()
        result = run_once()
        done += 1
        if result.skipped:
            say(f"skipped this round: {result.skipped}")
        if result.failed:
            failures += 1
            if failures == 1:
                first_failure, first_cause = datetime.now().strftime("%H:%M"), result.failed
                say(f"round {done} failed: {result.failed}")
            else:
                cause = "the same cause" if result.failed == first_cause else result.failed
                say(f"round {done} failed again, {failures} in a row since {first_failure}: {cause}")
        elif failures:
            say(f"recovered after {failures} failed round{'s' if failures > 1 else ''}")
            failures = 0
        if runs and done >= runs:
            return result
        wait = max(0.0, retry_wait(every, failures) - (time.monotonic() - started))
        say(f"next round at {_clock(wait)} (in {_span(wait)}); Ctrl-C stops")
        pause(wait)


def watch_list_options(db_path: str, sites_file: str | None, options: CrawlOptions) -> CrawlOptions:
    """Crawl options covering the watch list (a TOML file's, or the database's), plus ``options.seeds``."""
    if sites_file:
        sites = load_sites_file(sites_file)
    else:
        store = Store(db_path, create=True)
        try:
            sites = [WatchedSite(r["url"], r["feed"], r["max_pages"], r["delay"]) for r in store.watch_list()]
        finally:
            store.close()
        if not sites and not options.seeds:
            raise UserInputError("nothing to crawl: give URLs, --seeds-file, --sites-file, or 'syndtrace sites add URL'")
    merged = options_for(sites, options)
    return merged if not options.seeds else replace(merged, seeds=options.seeds + merged.seeds)


def read_seeds_file(path: str) -> list[str]:
    """Start URLs of a seeds file: one a line, ``#`` comments and blank lines skipped."""
    return [line.strip() for line in read_text_file(path).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def failed_pages(store: Store, run: int | None) -> list[dict]:
    """Pages that failed in a run (default: the last; 0: every run), with why in words."""
    if run is None:
        last = store.runs(1)
        run = last[0]["id"] if last else 0
    rows = store.failures(run or None)
    return [{"run": r["run"], "url": r["url"], "status": r["status"],
             "why": WORDS[outcome_of(r["status"], r["error"])][0], "error": r["error"], "when": r["seen_at"]}
            for r in rows]


def runs_with_options(store: Store, limit: int = 10) -> list[dict]:
    """The last runs, their options decoded (stored as JSON text), start URLs without credentials."""
    rows = store.runs(limit)
    for r in rows:
        try:
            r["options"] = json.loads(r["options"] or "{}")
        except ValueError:
            continue
        if isinstance(r["options"], dict) and isinstance(r["options"].get("seeds"), list):
            r["options"]["seeds"] = [without_userinfo(str(u)) for u in r["options"]["seeds"]]   # never print secrets
    return rows


def setup_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.ERROR if quiet else logging.WARNING, format="%(message)s", stream=sys.stderr)


def check_demo_database(db_path: str) -> None:
    """The demo writes its pages into a database of its own: a new file, or one only demos wrote.

    Raises:
        UserInputError: the file holds other runs (a real crawl's pages must not mix with the demo's).
    """
    if not os.path.exists(db_path):
        return
    store = Store(db_path, create=False)
    try:
        kinds = sorted(store.run_kinds() - {"demo"})
    finally:
        store.close()
    if kinds:
        raise UserInputError(f"{db_path} holds {', '.join(kinds)} runs; the demo writes its mini-web into a database "
                             "of its own: give a new --db FILE")


def demo_sites_root() -> str:
    return str(resources.files("cli.demo_web") / "sites")


@dataclass
class DemoResult:
    crawl: CrawlReport
    grouping: GroupReport
    story_id: str | None
    seeds: list[str]


def run_demo(db_path: str, on_event: Callable[[dict], None] | None = None) -> DemoResult:
    """Serve the bundled mini-web on 127.0.0.1, crawl it through the local server as proxy, group and trace it."""
    with LocalWeb(demo_sites_root()) as web:
        seeds = [f"http://{host}/" for host in web.hosts()]
        options = CrawlOptions(seeds=tuple(seeds), proxy=web.proxy, delay=0, concurrency=8, per_site=4,
                               autothrottle=False, extract_workers=1)
        crawl, grouping = crawl_and_trace(db_path, options, kind="demo", on_event=on_event)
    store = Store(db_path)
    try:
        return DemoResult(crawl, grouping, store.story_with_copies_on(DEMO_ORIGIN_HOST), seeds)
    finally:
        store.close()
