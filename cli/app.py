"""The ``syndtrace`` command line: parse options, call the library, print.

Results go to stdout (a rich table or tree, or JSON with ``--json``); diagnostics go to stderr. Library
errors become a one-line message and exit code 1 (3 when another run holds the lock); usage errors
exit 2 (Typer's own).
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import sys
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli import jobs
from cli.present import export as exporter
from cli.present import terminal as render
from cli.present.tables import audit_table, compare_pages, export_object, search_articles, stories_table, story_tree
from crawler.errors import SyndtraceError, UserInputError
from crawler.options import CrawlOptions, help_of
from crawler.page.urls import canonicalize_url, is_fetchable
from crawler.run import run_worker
from crawler.storage.store import Store
from crawler.watchlist import parse_every
from crawler.watchlist import watch as repeat_every
from dedupe.spark_job import SparkOptions
from dedupe.trace.verdicts import COPY_VERDICTS

app = typer.Typer(
    name="syndtrace",
    help="Trace where a news story spread, who copied whom, and whether each copy credits the original.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[Path, typer.Option("--db", envvar="SYNDTRACE_DB", help="SQLite database file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
DEFAULT_DB = Path("syndtrace.db")
CRAWL = CrawlOptions()   # the crawl settings' defaults; their help comes from the same fields
DelayOption = Annotated[float, typer.Option(help=help_of(CrawlOptions, "delay"), min=0)]
ProxyOption = Annotated[str | None, typer.Option(help=help_of(CrawlOptions, "proxy"))]


def handles_errors(fn):
    """Turn library errors into a one-line message and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SyndtraceError as exc:
            err.print(f"Error: {exc}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except sqlite3.Error as exc:   # a full disk, a read-only file: the open transaction was rolled back
            err.print(f"Error: the database could not be written or read ({exc}); "
                      "check free disk space and file permissions. Nothing half-written was kept.", markup=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            err.print(f"Error: {exc.strerror or exc} ({exc.filename or 'file'})", markup=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("Interrupted; what was stored so far is kept.")
            raise typer.Exit(130) from None

    return wrapper


def _store(db: Path, create: bool = False) -> Store:
    return Store(db, create=create)


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.ERROR if quiet else logging.WARNING, format="%(message)s", stream=sys.stderr)


# -- crawling and importing ----------------------------------------------------------------------------
@app.command()
@handles_errors
def demo(db: DbOption = DEFAULT_DB, as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Run the offline demo: serve the bundled mini-web on 127.0.0.1, crawl it, and trace the Common Dreams story.

    Example: syndtrace demo --db demo.db
    """
    _setup_logging(quiet)
    if not quiet and not as_json:
        err.print("Serving the demo web on 127.0.0.1 and crawling it…")
    result = jobs.run_demo(str(db))
    store = _store(db)
    if as_json:
        _print_json(export_object(store))
        return
    out.print(render.crawl_summary(result.crawl, result.grouping))
    if result.story_id is None:
        raise UserInputError("the demo found no story with copies; see the log above")
    out.print(render.lineage_tree(story_tree(store, result.story_id)))


@app.command()
@handles_errors
def crawl(
    urls: Annotated[list[str] | None, typer.Argument(help="Start URLs: site home pages or any pages.")] = None,
    seeds_file: Annotated[Path | None, typer.Option(help="File with one start URL a line.")] = None,
    sites_file: Annotated[Path | None, typer.Option(help="TOML watch list ([[site]] url, feed, max_pages, delay).")] = None,
    proxy: ProxyOption = CRAWL.proxy,
    delay: DelayOption = CRAWL.delay,
    concurrency: Annotated[int, typer.Option(help=help_of(CrawlOptions, "concurrency"), min=1)] = CRAWL.concurrency,
    per_site: Annotated[int, typer.Option(help=help_of(CrawlOptions, "per_site"), min=1)] = CRAWL.per_site,
    max_pages: Annotated[int, typer.Option(help=help_of(CrawlOptions, "max_pages"), min=0)] = CRAWL.max_pages,
    offsite: Annotated[bool, typer.Option(help=help_of(CrawlOptions, "offsite"))] = CRAWL.offsite,
    redis: Annotated[str | None, typer.Option(help="redis://HOST:PORT/DB: coordinate a distributed crawl; "
                                                      "start more workers with 'syndtrace worker'.")] = None,
    crawl_name: Annotated[str, typer.Option(help="Name of the distributed crawl in Redis.")] = "default",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Scrapy's log.")] = False,
    db: DbOption = DEFAULT_DB,
    quiet: QuietOption = False,
) -> None:
    """Crawl sites, extract articles, store them, and update stories, lineage and audit.

    Example: syndtrace crawl https://www.commondreams.org/ https://www.globalresearch.ca/ --max-pages 500
    """
    _setup_logging(quiet)
    seeds = list(urls or [])
    if seeds_file:
        try:
            seeds += [line.strip() for line in seeds_file.read_text().splitlines()
                      if line.strip() and not line.startswith("#")]
        except OSError as exc:
            raise UserInputError(f"cannot read {seeds_file}: {exc.strerror}") from None
    bad = [u for u in seeds if not is_fetchable(u)]
    if bad:
        raise UserInputError(f"not an http(s) URL: {bad[0]}")
    if proxy and not is_fetchable(proxy):
        raise UserInputError(f"--proxy must be an http:// URL, got {proxy!r}")
    options = CrawlOptions(seeds=tuple(seeds), proxy=proxy, delay=delay, concurrency=concurrency,
                           per_site=per_site, max_pages=max_pages, offsite=offsite,
                           log_level="INFO" if verbose else ("ERROR" if quiet else "WARNING"))
    if sites_file or not seeds:
        options = jobs.watch_list_options(str(db), str(sites_file) if sites_file else None, options)
    if redis:
        report, grouping = jobs.crawl_distributed_and_trace(str(db), replace(options, redis_url=redis), crawl_name,
                                                            progress=render.progress(err, quiet))
    else:
        report, grouping = jobs.crawl_and_trace(str(db), options, progress=render.progress(err, quiet))
    if not quiet:
        out.print(render.crawl_summary(report, grouping))


@app.command()
@handles_errors
def worker(
    redis: Annotated[str, typer.Option(help="redis://HOST:PORT/DB of the coordinating 'syndtrace crawl --redis'.")],
    crawl_name: Annotated[str, typer.Option(help="Name of the distributed crawl to join.")] = "default",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the crawl to be published.", min=0)] = 60.0,
) -> None:
    """Join a distributed crawl: share its frontier in Redis, fetch and extract, send results to the coordinator.

    Example: syndtrace worker --redis redis://crawlhub:6379/0
    """
    run_worker(redis, crawl_name, timeout=wait)


@app.command()
@handles_errors
def watch(
    every: Annotated[str, typer.Option(help="How often: 6h, 30m, 1d…")] = "6h",
    runs: Annotated[int, typer.Option(help="Stop after this many runs (0: until interrupted).", min=0)] = 0,
    sites_file: Annotated[Path | None, typer.Option(help="TOML watch list instead of the database's.")] = None,
    delay: DelayOption = CRAWL.delay,
    proxy: ProxyOption = CRAWL.proxy,
    db: DbOption = DEFAULT_DB,
    quiet: QuietOption = False,
) -> None:
    """Crawl the watch list again and again, for people without cron; each run reports what is new.

    Example: syndtrace watch --every 6h
    """
    _setup_logging(quiet)
    seconds = parse_every(every)
    options = jobs.watch_list_options(str(db), str(sites_file) if sites_file else None,
                                      CrawlOptions(delay=delay, proxy=proxy, log_level="ERROR" if quiet else "WARNING"))

    def once() -> None:
        result = jobs.watch_round(str(db), options)
        if result.skipped:
            err.print(f"skipped this round: {result.skipped}", markup=False)
        elif not quiet:
            out.print(render.crawl_summary(result.crawl, result.grouping))

    repeat_every(once, seconds, runs)


sites_app = typer.Typer(help="The watch list: sites that 'syndtrace crawl' with no URLs (and 'watch') crawl.",
                        no_args_is_help=True)
app.add_typer(sites_app, name="sites")


@sites_app.command("add")
@handles_errors
def sites_add(
    url: Annotated[str, typer.Argument(help="The site's home page.")],
    feed: Annotated[str | None, typer.Option(help="Its RSS or Atom feed.")] = None,
    max_pages: Annotated[int | None, typer.Option(help="Pages per run at most.", min=1)] = None,
    delay: Annotated[float | None, typer.Option(help="Seconds between its requests.", min=0)] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Add a site to the watch list (or update its settings).

    Example: syndtrace sites add https://www.commondreams.org/ --feed https://www.commondreams.org/rss.xml
    """
    for value in (url, feed):
        if value and not is_fetchable(value):
            raise UserInputError(f"not an http(s) URL: {value}")
    _store(db, create=True).add_site(canonicalize_url(url), canonicalize_url(feed) if feed else None, max_pages, delay)
    out.print(f"watching {url}")


@sites_app.command("list")
@handles_errors
def sites_list(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """List the watch list.

    Example: syndtrace sites list --json
    """
    rows = _store(db, create=True).watch_list()
    if as_json:
        _print_json(rows)
    else:
        out.print(render.sites_table(rows))


@sites_app.command("remove")
@handles_errors
def sites_remove(url: Annotated[str, typer.Argument(help="The site's URL as added.")], db: DbOption = DEFAULT_DB) -> None:
    """Remove a site from the watch list.

    Example: syndtrace sites remove https://www.commondreams.org/
    """
    if not _store(db, create=True).remove_site(canonicalize_url(url)):
        raise UserInputError(f"not on the watch list: {url}")
    out.print(f"removed {url}")


@app.command()
@handles_errors
def ingest(
    files: Annotated[list[Path], typer.Argument(help="WARC or WARC.gz files.")],
    db: DbOption = DEFAULT_DB,
    quiet: QuietOption = False,
) -> None:
    """Import the HTTP responses of WARC files (URL and capture time from the WARC headers) as pages.

    Example: syndtrace ingest CC-MAIN-20240101-00001.warc.gz
    """
    _setup_logging(quiet)
    report, grouping = jobs.ingest_and_trace(str(db), [str(f) for f in files], progress=render.progress(err, quiet))
    if not quiet:
        out.print(f"{report.records} records from {report.files} file(s): {report.stored} stored, "
                  f"{report.skipped} skipped, {len(report.problems)} problem(s); "
                  f"{grouping.stories} stories ({grouping.stories_with_copies} with copies)")


class Engine(str, Enum):
    local = "local"
    spark = "spark"


def _spark_options(engine: Engine, master: str | None, workers: int | None, stage_dir: Path | None,
                   conf: list[str]) -> SparkOptions | None:
    """The Spark options of ``rebuild``, or None for the local engine.

    Raises:
        UserInputError: a Spark option without ``--engine spark``, or a setting that is not KEY=VALUE.
    """
    if engine is Engine.local:
        given = [name for name, value in (("--master", master), ("--workers", workers), ("--stage-dir", stage_dir),
                                          ("--conf", conf)) if value]
        if given:
            raise UserInputError(f"{', '.join(given)} only apply with --engine spark")
        return None
    bad = [c for c in conf if "=" not in c or not c.split("=", 1)[0].strip()]
    if bad:
        raise UserInputError(f"--conf takes KEY=VALUE, not {bad[0]!r}")
    if stage_dir is not None and not stage_dir.is_dir():
        raise UserInputError(f"--stage-dir {stage_dir} is not a folder")
    pairs = tuple((k.strip(), v) for k, v in (c.split("=", 1) for c in conf))
    return SparkOptions(master=master, workers=workers, stage_dir=str(stage_dir) if stage_dir else None, conf=pairs)


@app.command()
@handles_errors
def rebuild(
    extract: Annotated[bool, typer.Option(help="Also re-extract every stored page first.")] = False,
    engine: Annotated[Engine, typer.Option(help="Where grouping runs: here, or on Apache Spark "
                                                 "(pip install 'syndtrace[spark]'); the same stories either way.")
                      ] = Engine.local,
    master: Annotated[str | None, typer.Option(help=help_of(SparkOptions, "master"))] = None,
    workers: Annotated[int | None, typer.Option(help=help_of(SparkOptions, "workers"), min=1)] = None,
    stage_dir: Annotated[Path | None, typer.Option(help=help_of(SparkOptions, "stage_dir"))] = None,
    conf: Annotated[list[str] | None, typer.Option(help="A Spark setting, KEY=VALUE (repeat the option for more).")
                    ] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Recompute signatures, stories, lineage and audit from the stored pages, and time each stage.

    Example: syndtrace rebuild --extract; syndtrace rebuild --engine spark --master spark://HOST:7077
    """
    _setup_logging(quiet)
    spark = _spark_options(engine, master, workers, stage_dir, conf or [])
    report = jobs.rebuild(_store(db), extract=extract, progress=render.progress(err, quiet), spark=spark)
    if as_json:
        _print_json(report.__dict__)
        return
    out.print(render.group_report(report))


# -- reports ------------------------------------------------------------------------------------------
@app.command()
@handles_errors
def stories(
    since: Annotated[str | None, typer.Option(help="Only stories first published on or after this date.")] = None,
    site: Annotated[str | None, typer.Option(help="Only stories with a page on this host.")] = None,
    min_copies: Annotated[int, typer.Option(help="Only stories with at least this many copies.", min=0)] = 0,
    sort: Annotated[str, typer.Option(help="spread or recent.")] = "spread",
    new: Annotated[bool, typer.Option("--new", help="Only stories with pages that appeared in the last run.")] = False,
    limit: Annotated[int, typer.Option(help="Rows at most (0: all).", min=0)] = 50,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """List stories: origin, copies, sites, first and last dates, uncredited copies.

    Example: syndtrace stories --min-copies 2 --sort spread
    """
    store = _store(db)
    run = None
    if new:
        last = store.last_finished_run()
        run = last["id"] if last else -1
    rows = stories_table(store, since=since, site=site, min_copies=min_copies, sort=sort, new_in_run=run)
    rows = rows[:limit] if limit else rows
    if as_json:
        _print_json(rows)
    else:
        out.print(render.stories_table(rows))


@app.command()
@handles_errors
def lineage(
    ref: Annotated[str, typer.Argument(help="A URL of any copy, or a story id.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Show a story's lineage as a tree: origin, every chain of copies, and each copy's credit verdict.

    Example: syndtrace lineage http://globalresearch.ca/bombshell-iraqi-officials/5690015
    """
    tree = story_tree(_store(db), ref)
    if as_json:
        _print_json(tree)
    else:
        out.print(render.lineage_tree(tree))


@app.command()
@handles_errors
def audit(
    origin_site: Annotated[str | None, typer.Option(help="Only copies of this publisher's originals (host).")] = None,
    verdict: Annotated[str | None, typer.Option(help="Comma-separated verdicts, e.g. uncredited,misattributed.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Audit every copy's attribution: credits, links, byline, copyright line, licence and conflicts.

    Example: syndtrace audit --origin-site commondreams.org --verdict uncredited,misattributed
    """
    verdicts = [v.strip() for v in verdict.split(",")] if verdict else None
    known = {v.value for v in COPY_VERDICTS}
    if verdicts and not set(verdicts) <= known:
        raise UserInputError(f"unknown verdict {min(set(verdicts) - known)!r}: use {', '.join(sorted(known))}")
    if fmt not in ("table", "csv", "json"):
        raise UserInputError(f"unknown format {fmt!r}: use table, csv or json")
    rows = audit_table(_store(db), origin_site=origin_site, verdicts=verdicts)
    if fmt == "json":
        _print_json(rows)
    elif fmt == "csv":
        render.write_csv(sys.stdout, rows)
    else:
        out.print(render.audit_table(rows))


@app.command()
@handles_errors
def export(
    fmt: Annotated[str, typer.Option("--format", help="json, csv, graphml, html or warc.")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    story: Annotated[str | None, typer.Option(help="With --format warc: the story (id or URL) to export.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Export the results: json (the result format), csv, graphml (copy graph), html (report) or warc (evidence).

    Example: syndtrace export --format json -o result.json
    """
    store = _store(db)
    written = exporter.export(store, fmt, str(output) if output else None, story=story)
    if output:
        err.print(f"wrote {written} to {output}")


@app.command()
@handles_errors
def status(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """What the database holds, and the last runs with their figures.

    Example: syndtrace status --db syndtrace.db
    """
    store = _store(db)
    info = {"db": str(db), "schema_version": store.schema_version(), "counts": store.counts(), "runs": store.runs(10)}
    if as_json:
        _print_json(info)
    else:
        out.print(render.status(info))


@app.command()
@handles_errors
def search(
    text: Annotated[str, typer.Argument(help="Words to find in titles and bodies (SQLite FTS syntax).")],
    limit: Annotated[int, typer.Option(min=1, help="Rows at most.")] = 20,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Full-text search over stored article titles and bodies.

    Example: syndtrace search "Soleimani rocket"
    """
    rows = search_articles(_store(db), text, limit)
    if as_json:
        _print_json(rows)
    else:
        out.print(render.search_table(rows))


@app.command()
@handles_errors
def diff(
    url_a: Annotated[str, typer.Argument(help="The earlier page (e.g. the origin).")],
    url_b: Annotated[str, typer.Argument(help="The copy.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """What a copy added and removed relative to another page, passage by passage.

    Example: syndtrace diff http://commondreams.org/news/x http://globalresearch.ca/x/5690015
    """
    result = compare_pages(_store(db), url_a, url_b)
    if as_json:
        _print_json(result)
    else:
        out.print(render.diff(result))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
