"""The runs a command starts, as plain library functions: fetch or import pages (crawler), then bring
stories, lineage and audit up to date (dedupe), under the database's run lock so two runs never overlap.

This is the only place where crawling and grouping meet; ``crawler`` never imports ``dedupe``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources

from crawler import distributed
from crawler.capture import reextract_all
from crawler.errors import LockedError, UserInputError
from crawler.localserver import LocalWeb
from crawler.options import CrawlOptions
from crawler.run import CrawlReport, coordinate_crawl, run_crawl
from crawler.storage.store import Store
from crawler.warc import IngestReport, ingest_files
from crawler.watchlist import WatchedSite, load_sites_file, options_for
from dedupe.options import GroupingOptions
from dedupe.pipeline import GroupReport, Progress, update_stories
from dedupe.spark_job import SparkOptions, run_on_spark

DEMO_ORIGIN_HOST = "commondreams.example"


def crawl_and_trace(db_path: str, options: CrawlOptions, kind: str = "crawl",
                    progress: Progress | None = None) -> tuple[CrawlReport, GroupReport]:
    """Crawl, then bring stories, lineage and audit up to date; holds the database's run lock throughout.

    Raises:
        LockedError: another run holds the lock (nothing is touched).
    """
    guard = Store(db_path)
    try:
        with guard.run_lock():
            report = run_crawl(db_path, options, kind=kind)
            store = Store(db_path)
            try:
                grouping = update_stories(store, run_id=report.run_id, progress=progress)
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
    coordinator = distributed.Coordinator(distributed.connect(options.redis_url), crawl)
    store = Store(db_path)
    try:
        with store.run_lock():
            report = coordinate_crawl(db_path, store, coordinator, options)
            grouping = update_stories(store, run_id=report.run_id, progress=progress)
            store.finish_run(report.run_id, "finished", stories_new=store.new_members(report.run_id))
            return replace(report, status="finished"), grouping
    finally:
        store.close()


def ingest_and_trace(db_path: str, paths: list[str],
                     progress: Progress | None = None) -> tuple[IngestReport, GroupReport]:
    """Ingest WARC files and update stories, under the database's run lock."""
    store = Store(db_path)
    try:
        with store.run_lock():
            report = ingest_files(store, paths, progress=progress)
            run_id = report.run_id
            grouping = update_stories(store, run_id=run_id, progress=progress)
            store.finish_run(run_id, "finished", pages_fetched=report.stored, new=report.stored,
                             errors=report.skipped + len(report.problems), stories_new=store.new_members(run_id))
            return report, grouping
    finally:
        store.close()


def rebuild(store: Store, *, extract: bool = False, options: GroupingOptions | None = None,
            progress: Progress | None = None, spark: SparkOptions | None = None) -> GroupReport:
    """Recompute everything from stored pages under the run lock (optionally re-extracting them first), here or,
    with ``spark``, on a Spark cluster (the same stories either way)."""
    with store.run_lock():
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


@dataclass
class WatchRound:
    crawl: CrawlReport | None = None
    grouping: GroupReport | None = None
    skipped: str | None = None   # why this round did not run (another run held the database)


def watch_round(db_path: str, options: CrawlOptions) -> WatchRound:
    """One round of ``syndtrace watch``: a round that finds the database busy is skipped, not fatal."""
    try:
        crawl, grouping = crawl_and_trace(db_path, options)
    except LockedError as exc:   # another run (cron, a manual crawl) is busy: skip this round, not the watch
        return WatchRound(skipped=str(exc))
    return WatchRound(crawl, grouping)


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
        if not sites:
            raise UserInputError("nothing to crawl: give URLs, --seeds-file, --sites-file, or 'syndtrace sites add URL'")
    merged = options_for(sites, options)
    return merged if not options.seeds else replace(merged, seeds=options.seeds + merged.seeds)


def demo_sites_root() -> str:
    return str(resources.files("cli.demo_web") / "sites")


@dataclass
class DemoResult:
    crawl: CrawlReport
    grouping: GroupReport
    story_id: str | None
    seeds: list[str]


def run_demo(db_path: str) -> DemoResult:
    """Serve the bundled mini-web on 127.0.0.1, crawl it through the local server as proxy, group and trace it."""
    with LocalWeb(demo_sites_root()) as web:
        seeds = [f"http://{host}/" for host in web.hosts()]
        options = CrawlOptions(seeds=tuple(seeds), proxy=web.proxy, delay=0, concurrency=8, per_site=4,
                               autothrottle=False, extract_workers=1)
        crawl, grouping = crawl_and_trace(db_path, options, kind="demo")
    store = Store(db_path)
    try:
        return DemoResult(crawl, grouping, store.story_with_copies_on(DEMO_ORIGIN_HOST), seeds)
    finally:
        store.close()
