"""The ``syndtrace`` command line: parse options, call the library, print.

Reports go to stdout: a table or tree laid out for the terminal, one line per row when piped, or
``--json``, ``--csv``, ``--nl`` (``cli.present.formats``). Progress and diagnostics go to stderr.
Errors are one line (``-v`` adds the traceback); exit codes are listed in :data:`EXIT_CODES`.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
import traceback
from dataclasses import replace
from enum import Enum
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperArgument, TyperCommand

from cli import jobs
from cli.inputs import parse_date, resolve_site
from cli.present import export as exporter
from cli.present import terminal as render
from cli.present.datasette import database_name, metadata_for
from cli.present.escape import for_terminal
from cli.present.formats import Format, choose, to_json, write_rows
from cli.present.tables import (
    audit_by_site,
    audit_table,
    compare_pages,
    export_object,
    plain_snippets,
    search_articles,
    stories_table,
    story_tree,
    whats_new,
)
from crawler.errors import SyndtraceError, UserInputError
from crawler.options import CrawlOptions, help_of
from crawler.page.urls import canonicalize_url, is_fetchable, without_userinfo
from crawler.run import run_worker
from crawler.storage.store import Store
from crawler.watchlist import parse_every
from dedupe.options import SparkOptions
from dedupe.trace.verdicts import COPY_VERDICTS, Verdict

EXIT_CODES = {
    0: "done",
    1: "an error: bad input, an unreadable file, a database that cannot be used, a crawl process that failed",
    2: "a usage error: unknown command or option, an option value of the wrong type or range",
    3: "another syndtrace run holds the database (scheduled runs that overlap: try later)",
    4: "a crawl could fetch nothing: no start URL answered, or the proxy cannot be reached",
    5: "rebuild --engine spark cannot run: pyspark or Java missing, the master unreachable, or the job failed",
    130: "interrupted (Ctrl-C); what was stored so far is kept",
}
EPILOG = "\b\nExit codes:\n" + "\n".join(f"  {code:<4} {what}" for code, what in EXIT_CODES.items())

app = typer.Typer(
    name="syndtrace",
    help="Trace where a news story spread, who copied whom, and whether each copy credits the original.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


class _PlainArgument(TyperArgument):
    """An argument shown by its metavar (URL, FILE) in --help, without a Python type (``<list[str]>``)."""

    def display_type_rich(self, ctx) -> None:
        return None


class _Command(TyperCommand):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _PlainArgument


def command(target: typer.Typer = app, name: str | None = None):
    """``@app.command()`` with readable argument help."""
    return target.command(name, cls=_Command)


out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)
DEBUG = {"traceback": False}   # -v before the command, or a command's own --verbose


def _version(value: bool) -> None:
    if value:
        try:
            version = package_metadata.version("syndtrace")
        except package_metadata.PackageNotFoundError:
            version = "unknown (not installed)"
        sys.stdout.write(f"syndtrace {version}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks of errors.")] = False,
) -> None:
    DEBUG["traceback"] = verbose


# -- options shared by the commands ---------------------------------------------------------------------
DbOption = Annotated[Path, typer.Option("--db", envvar="SYNDTRACE_DB", metavar="FILE", help="SQLite database file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]
CsvOption = Annotated[bool, typer.Option("--csv", help="CSV instead of a table (lists joined with '; ').")]
NlOption = Annotated[bool, typer.Option("--nl", help="One JSON object a line instead of a table.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show Scrapy's log and tracebacks.")]
DEFAULT_DB = Path("syndtrace.db")
CRAWL = CrawlOptions()   # the crawl settings' defaults; their help comes from the same fields
SPARK = SparkOptions()   # the Spark engine's defaults (rebuild --engine spark)
MAX_DELAY = 3600.0
UrlsArgument = Annotated[list[str] | None, typer.Argument(metavar="URL",
                                                          help="Start URLs: site home pages or any pages.")]
SeedsFileOption = Annotated[Path | None, typer.Option(metavar="FILE", help="File with one start URL a line.")]
SitesFileOption = Annotated[Path | None, typer.Option(metavar="FILE", help="TOML watch list ([[site]] url, feed, "
                                                                         "max_pages, delay).")]
DelayOption = Annotated[float, typer.Option(metavar="SECONDS", min=0, max=MAX_DELAY, help=help_of(CrawlOptions, "delay"))]
ProxyOption = Annotated[str | None, typer.Option(metavar="URL", help=help_of(CrawlOptions, "proxy"))]
ConcurrencyOption = Annotated[int, typer.Option(metavar="N", min=1, help=help_of(CrawlOptions, "concurrency"))]
PerSiteOption = Annotated[int, typer.Option(metavar="N", min=1, help=help_of(CrawlOptions, "per_site"))]
MaxPagesOption = Annotated[int, typer.Option(metavar="N", min=0, help=help_of(CrawlOptions, "max_pages"))]
OffsiteOption = Annotated[bool, typer.Option(help=help_of(CrawlOptions, "offsite"))]
PrivateTargetsOption = Annotated[bool, typer.Option(help=help_of(CrawlOptions, "private_targets"))]


def _db_message(exc: sqlite3.Error) -> str:
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in text or "not a database" in text):
        return (f"the database file is damaged ({text}); restore it from a backup, or start a new one "
                "with another --db. Nothing was written.")
    return (f"the database could not be written or read ({text}); check free disk space and file "
            "permissions. Nothing half-written was kept.")


def _fail(message: str, code: int) -> None:
    if DEBUG["traceback"]:
        traceback.print_exc()
    err.print(f"Error: {for_terminal(message)}", markup=False)
    raise typer.Exit(code) from None


def _quiet_pipe() -> None:
    """The reader of our output went away (``| head``): stop quietly, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):   # a test runner's stdout has no file descriptor
        pass
    raise typer.Exit(0)


def handles_errors(fn):
    """Turn library errors into a one-line message and an exit code (:data:`EXIT_CODES`), never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs.get("verbose"):
            DEBUG["traceback"] = True
        try:
            return fn(*args, **kwargs)
        except BrokenPipeError:
            _quiet_pipe()
        except SyndtraceError as exc:
            _fail(str(exc), exc.exit_code)
        except sqlite3.Error as exc:   # a full disk, a read-only file: the open transaction was rolled back
            _fail(_db_message(exc), 1)
        except OSError as exc:
            _fail(f"{exc.strerror or exc} ({exc.filename or 'file'})", 1)
        except KeyboardInterrupt:
            err.print("Interrupted; what was stored so far is kept.")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 (a bug must still be one line; -v shows where)
            _fail(f"unexpected {type(exc).__name__}: {exc} (a bug: 'syndtrace -v …' shows the traceback)", 1)

    return wrapper


def _store(db: Path, create: bool = False) -> Store:
    return Store(db, create=create)


def width() -> int | None:
    """Columns to lay reports out in: the terminal's, or None when piped (one line per row, nothing cut)."""
    return out.width if out.is_terminal else None


def show(text: Text) -> None:
    out.print(text, soft_wrap=True)   # laid out already: rich must not wrap it again


def emit(fmt: Format, rows: list[dict], render_table, document=None) -> None:
    """A report in the format asked for: ``render_table(rows, width)`` for people, else JSON, CSV or JSON lines."""
    if fmt is Format.TABLE:
        show(render_table(rows if document is None else document, width()))
    else:
        write_rows(sys.stdout, fmt, rows, document)
    sys.stdout.flush()


def _setup_logging(quiet: bool) -> None:
    jobs.setup_logging(quiet)


# -- crawling and importing ----------------------------------------------------------------------------
@command()
@handles_errors
def demo(db: Annotated[Path, typer.Option("--db", metavar="FILE", help="Database for the demo (a new file, or one "
                                                                       "only the demo wrote).")] = Path("syndtrace-demo.db"),
         as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Run the offline demo: serve the bundled mini-web on 127.0.0.1, crawl it, and trace the Common Dreams story.

    Example: syndtrace demo --db demo.db
    """
    _setup_logging(quiet)
    jobs.check_demo_database(str(db))
    if not quiet and not as_json:
        err.print("Serving the demo web on 127.0.0.1 and crawling it…")
    with render.CrawlDisplay(err, quiet or as_json) as display:
        result = jobs.run_demo(str(db), on_event=display)
    store = _store(db)
    if as_json:
        write_rows(sys.stdout, Format.JSON, [], export_object(store))
        return
    show(render.crawl_summary(result.crawl, result.grouping, width()))
    if result.story_id is None:
        raise UserInputError("the demo found no story with copies; see the log above")
    show(render.lineage_tree(story_tree(store, result.story_id), width()))


def _crawl_options(urls, seeds_file, proxy, delay, concurrency, per_site, max_pages, offsite, quiet,
                   verbose, private_targets: bool = False) -> CrawlOptions:
    seeds = list(urls or [])
    if seeds_file:
        seeds += jobs.read_seeds_file(str(seeds_file))
    bad = [u for u in seeds if not is_fetchable(u)]
    if bad:
        raise UserInputError(f"not an http(s) URL: {without_userinfo(bad[0])}")
    if proxy and not is_fetchable(proxy):
        raise UserInputError(f"--proxy must be an http:// URL, got {without_userinfo(proxy)!r}")
    return CrawlOptions(seeds=tuple(seeds), proxy=proxy, delay=delay, concurrency=concurrency,
                        per_site=per_site, max_pages=max_pages, offsite=offsite, private_targets=private_targets,
                        log_level="INFO" if verbose else ("ERROR" if quiet else "WARNING"))


@command()
@handles_errors
def crawl(
    urls: UrlsArgument = None,
    seeds_file: SeedsFileOption = None,
    sites_file: SitesFileOption = None,
    proxy: ProxyOption = CRAWL.proxy,
    delay: DelayOption = CRAWL.delay,
    concurrency: ConcurrencyOption = CRAWL.concurrency,
    per_site: PerSiteOption = CRAWL.per_site,
    max_pages: MaxPagesOption = CRAWL.max_pages,
    offsite: OffsiteOption = CRAWL.offsite,
    private_targets: PrivateTargetsOption = CRAWL.private_targets,
    redis: Annotated[str | None, typer.Option(metavar="URL", help="redis://HOST:PORT/DB: coordinate a distributed "
                                                                  "crawl; start more workers with 'syndtrace worker'.")] = None,
    crawl_name: Annotated[str, typer.Option(metavar="NAME", help="Name of the distributed crawl in Redis.")] = "default",
    verbose: VerboseOption = False,
    db: DbOption = DEFAULT_DB,
    quiet: QuietOption = False,
) -> None:
    """Crawl sites, extract articles, store them, and update stories, lineage and audit.

    With no URL, crawls the watch list ('syndtrace sites'). Shows live progress on a terminal and a summary at the
    end; exits 4 when nothing could be fetched.

    Example: syndtrace crawl https://www.commondreams.org/ https://www.globalresearch.ca/ --max-pages 500
    """
    _setup_logging(quiet)
    options = _crawl_options(urls, seeds_file, proxy, delay, concurrency, per_site, max_pages, offsite, quiet, verbose,
                             private_targets)
    if sites_file or not options.seeds:
        options = jobs.watch_list_options(str(db), str(sites_file) if sites_file else None, options)
    if redis:
        report, grouping = jobs.crawl_distributed_and_trace(str(db), replace(options, redis_url=redis), crawl_name,
                                                            progress=render.progress(err, quiet))
    else:
        with render.CrawlDisplay(err, quiet) as display:
            report, grouping = jobs.crawl_and_trace(str(db), options, progress=render.progress(err, quiet),
                                                    on_event=display)
    if not quiet:
        show(render.crawl_summary(report, grouping, width()))


@command()
@handles_errors
def worker(
    redis: Annotated[str, typer.Option(metavar="URL", help="redis://HOST:PORT/DB of the coordinating "
                                                           "'syndtrace crawl --redis'.")],
    crawl_name: Annotated[str, typer.Option(metavar="NAME", help="Name of the distributed crawl to join.")] = "default",
    wait: Annotated[float, typer.Option(metavar="SECONDS", min=0, max=86400,
                                        help="Seconds to wait for the crawl to be published.")] = 60.0,
) -> None:
    """Join a distributed crawl: share its frontier in Redis, fetch and extract, send results to the coordinator.

    Example: syndtrace worker --redis redis://crawlhub:6379/0
    """
    run_worker(redis, crawl_name, timeout=wait)


@command()
@handles_errors
def watch(
    urls: UrlsArgument = None,
    every: Annotated[str, typer.Option(metavar="DURATION", help="How often, with a unit: 30m, 6h, 1d "
                                                                "(at least 1m).")] = "6h",
    runs: Annotated[int, typer.Option(metavar="N", min=0, help="Stop after this many runs (0: until interrupted).")] = 0,
    seeds_file: SeedsFileOption = None,
    sites_file: SitesFileOption = None,
    proxy: ProxyOption = CRAWL.proxy,
    delay: DelayOption = CRAWL.delay,
    concurrency: ConcurrencyOption = CRAWL.concurrency,
    per_site: PerSiteOption = CRAWL.per_site,
    max_pages: MaxPagesOption = CRAWL.max_pages,
    offsite: OffsiteOption = CRAWL.offsite,
    verbose: VerboseOption = False,
    db: DbOption = DEFAULT_DB,
    quiet: QuietOption = False,
) -> None:
    """Crawl the watch list (and any URLs) again and again, for people without cron; each run reports what is new.

    Takes the options of 'syndtrace crawl'. A round that fails (no network, proxy down) is retried later, waiting
    longer after each failure in a row; the failures are summed up, not repeated. With --runs, the exit code is the
    last round's (4: it could fetch nothing).

    Example: syndtrace watch --every 6h
    """
    _setup_logging(quiet)
    seconds = parse_every(every)
    options = _crawl_options(urls, seeds_file, proxy, delay, concurrency, per_site, max_pages, offsite, quiet, verbose)
    options = jobs.watch_list_options(str(db), str(sites_file) if sites_file else None, options)

    def once() -> jobs.WatchRound:
        with render.CrawlDisplay(err, quiet) as display:
            result = jobs.watch_round(str(db), options, progress=render.progress(err, quiet), on_event=display)
        if result.crawl and not quiet:
            show(render.crawl_summary(result.crawl, result.grouping, width()))
        return result

    last = jobs.watch(once, seconds, runs, say=lambda text: err.print(for_terminal(text), markup=False))
    if last.failed:   # the last round failed: say so in the exit code too (its message was printed)
        raise typer.Exit(last.exit_code)


sites_app = typer.Typer(help="The watch list: sites that 'syndtrace crawl' with no URLs (and 'watch') crawl.",
                        no_args_is_help=True)
app.add_typer(sites_app, name="sites")


@command(sites_app, "add")
@handles_errors
def sites_add(
    url: Annotated[str, typer.Argument(metavar="URL", help="The site's home page.")],
    feed: Annotated[str | None, typer.Option(metavar="URL", help="Its RSS or Atom feed.")] = None,
    max_pages: Annotated[int | None, typer.Option(metavar="N", min=1, help="Pages per run at most.")] = None,
    delay: Annotated[float | None, typer.Option(metavar="SECONDS", min=0, max=MAX_DELAY,
                                                help="Seconds between its requests.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Add a site to the watch list (or update its settings).

    Example: syndtrace sites add https://www.commondreams.org/ --feed https://www.commondreams.org/rss.xml
    """
    for value in (url, feed):
        if value and not is_fetchable(value):
            raise UserInputError(f"not an http(s) URL: {without_userinfo(value)}")
    _store(db, create=True).add_site(canonicalize_url(url), canonicalize_url(feed) if feed else None, max_pages, delay)
    out.print(f"watching {for_terminal(without_userinfo(url))}", markup=False)


@command(sites_app, "list")
@handles_errors
def sites_list(db: DbOption = DEFAULT_DB, as_json: JsonOption = False, as_csv: CsvOption = False,
               as_nl: NlOption = False) -> None:
    """List the watch list.

    Example: syndtrace sites list --json
    """
    rows = [{**r, "url": without_userinfo(r["url"]), "feed": r["feed"] and without_userinfo(r["feed"])}
            for r in _store(db, create=True).watch_list()]
    emit(choose(as_json, as_csv, as_nl), rows, render.sites)


@command(sites_app, "remove")
@handles_errors
def sites_remove(url: Annotated[str, typer.Argument(metavar="URL", help="The site's URL as added.")],
                 db: DbOption = DEFAULT_DB) -> None:
    """Remove a site from the watch list.

    Example: syndtrace sites remove https://www.commondreams.org/
    """
    if not _store(db, create=True).remove_site(canonicalize_url(url)):
        raise UserInputError(f"not on the watch list: {without_userinfo(url)}")
    out.print(f"removed {for_terminal(without_userinfo(url))}", markup=False)


@command()
@handles_errors
def ingest(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="WARC or WARC.gz files.")],
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
                  f"{grouping.stories} stories ({grouping.stories_with_copies} with copies)", markup=False)


class Engine(str, Enum):
    local = "local"
    spark = "spark"


def _spark_options(engine: Engine, master: str | None, workers: int | None, stage_dir: Path | None,
                   conf: list[str]) -> SparkOptions | None:
    """The Spark options of ``rebuild`` (checked by :class:`SparkOptions`), or None for the local engine.

    Raises:
        UserInputError: a Spark option without ``--engine spark``, or a bad Spark option.
    """
    if engine is Engine.local:
        given = [name for name, value in (("--master", master), ("--workers", workers), ("--stage-dir", stage_dir),
                                          ("--conf", conf)) if value]
        if given:
            raise UserInputError(f"{', '.join(given)} only apply with --engine spark")
        return None
    return SparkOptions(master=master, workers=workers, stage_dir=str(stage_dir) if stage_dir else None,
                        conf=tuple(conf))


@command()
@handles_errors
def rebuild(
    extract: Annotated[bool, typer.Option(help="Also re-extract every stored page first.")] = False,
    engine: Annotated[Engine, typer.Option(help="Where grouping runs: here, or on Apache Spark "
                                                 "(pip install 'syndtrace[spark]'); the same stories either way.")
                      ] = Engine.local,
    master: Annotated[str | None, typer.Option(help=help_of(SparkOptions, "master"))] = SPARK.master,
    workers: Annotated[int | None, typer.Option(help=help_of(SparkOptions, "workers"), min=1)] = SPARK.workers,
    stage_dir: Annotated[Path | None, typer.Option(help=help_of(SparkOptions, "stage_dir"))] = None,
    conf: Annotated[list[str] | None, typer.Option(help=help_of(SparkOptions, "conf"))] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    as_nl: NlOption = False,
    quiet: QuietOption = False,
) -> None:
    """Recompute signatures, stories, lineage and audit from the stored pages, and time each stage.

    Example: syndtrace rebuild --extract; syndtrace rebuild --engine spark --master spark://HOST:7077
    """
    _setup_logging(quiet)
    spark = _spark_options(engine, master, workers, stage_dir, conf or [])
    report = jobs.rebuild(_store(db), extract=extract, progress=render.progress(err, quiet), spark=spark)
    rows = [{"stage": stage, "seconds": seconds} for stage, seconds in report.timings.items()]
    emit(choose(as_json, as_csv, as_nl), rows, lambda _doc, w: render.group_report(report, w), report.__dict__)


# -- reports ------------------------------------------------------------------------------------------
@command()
@handles_errors
def stories(
    since: Annotated[str | None, typer.Option(metavar="DATE", help="Only stories first published on or after this "
                                                                   "date: 2021-12-01, 1 Dec 2021, 7d, yesterday.")] = None,
    site: Annotated[str | None, typer.Option(metavar="HOST", help="Only stories with a page on this site (host or "
                                                                  "URL).")] = None,
    min_copies: Annotated[int, typer.Option(metavar="N", min=0, help="Only stories with at least this many "
                                                                     "copies.")] = 0,
    sort: Annotated[str, typer.Option(metavar="ORDER", help="spread (most copied first) or recent.")] = "spread",
    new: Annotated[bool, typer.Option("--new", help="What the last run found: new stories, new copies of earlier "
                                                    "stories, copies gone (404/410), with their URLs.")] = False,
    limit: Annotated[int, typer.Option(metavar="N", min=0, help="Rows at most (0: all).")] = 50,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    as_nl: NlOption = False,
) -> None:
    """List stories: origin, first date, copies, and how many copies are uncredited or misattributed.

    Example: syndtrace stories --min-copies 2 --since 30d
    """
    fmt = choose(as_json, as_csv, as_nl)
    store = _store(db)
    since_day = parse_date(since).isoformat() if since else None
    host = resolve_site(site, store.sites()) if site else None
    rows = stories_table(store, since=since_day, site=host, min_copies=min_copies, sort=sort)
    if new:
        last = store.last_finished_run()
        rows = whats_new(store, last["id"], rows) if last else []
        emit(fmt, rows[:limit] if limit else rows, render.whats_new)
        return
    emit(fmt, rows[:limit] if limit else rows, render.stories)


@command()
@handles_errors
def lineage(
    ref: Annotated[str, typer.Argument(metavar="URL|STORY", help="A URL of any copy, or a story id.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    as_nl: NlOption = False,
) -> None:
    """Show a story's lineage as a tree: origin, every chain of copies, and each copy's credit verdict.

    --csv and --nl give one row per page, with its depth and parent.

    Example: syndtrace lineage http://globalresearch.ca/bombshell-iraqi-officials/5690015
    """
    tree = story_tree(_store(db), ref)
    emit(choose(as_json, as_csv, as_nl), render.lineage_rows(tree), render.lineage_tree, tree)


@command()
@handles_errors
def audit(
    origin_site: Annotated[str | None, typer.Option(metavar="HOST", help="Only copies of this publisher's originals "
                                                                         "(host or URL).")] = None,
    site: Annotated[str | None, typer.Option(metavar="HOST", help="Only copies on this site (host or URL).")] = None,
    verdict: Annotated[str | None, typer.Option(metavar="VERDICT[,VERDICT]", help="Only these verdicts, e.g. "
                                                                                  "uncredited,misattributed.")] = None,
    by: Annotated[str | None, typer.Option(metavar="site", help="'site': one row per copying site, its copies "
                                                                "counted by verdict.")] = None,
    fmt_name: Annotated[str | None, typer.Option("--format", metavar="FORMAT", help="table, json, csv or nl (as "
                                                                                    "--json, --csv, --nl).")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    as_nl: NlOption = False,
) -> None:
    """Audit every copy's attribution: credits, links, byline, copyright line, the licence checked and conflicts.

    Example: syndtrace audit --origin-site commondreams.org --verdict uncredited,misattributed
    """
    fmt = choose(as_json, as_csv, as_nl, fmt_name)
    verdicts = [v.strip().lower() for v in verdict.split(",") if v.strip()] if verdict else None
    known = {v.value for v in COPY_VERDICTS}
    if verdicts and not set(verdicts) <= known:
        raise UserInputError(f"unknown verdict {min(set(verdicts) - known)!r}: use {', '.join(sorted(known))}")
    if by not in (None, "site"):
        raise UserInputError(f"--by takes 'site', got {by!r}")
    store = _store(db)
    known_sites = store.sites() if (origin_site or site) else []
    rows = audit_table(store, origin_site=resolve_site(origin_site, known_sites) if origin_site else None,
                       verdicts=verdicts, site=resolve_site(site, known_sites) if site else None)
    if by:
        emit(fmt, audit_by_site(rows), render.audit_by_site)
    else:
        emit(fmt, rows, render.audit)


@command()
@handles_errors
def export(
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="json, csv, graphml, html or warc.")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="File to write (default: "
                                                                                       "stdout; warc needs one).")] = None,
    story: Annotated[str | None, typer.Option(metavar="URL|STORY", help="Only this story (an id or any URL of it); "
                                                                        "html: a one-story report to share.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Export the results: json (the result format), csv, graphml (copy graph), html (report) or warc (evidence).

    An existing file is replaced only once the new one is complete.

    Example: syndtrace export --format html --story st-fdbb12f6a6 -o story.html
    """
    written = exporter.export(_store(db), fmt, str(output) if output else None, story=story)
    if output:
        err.print(f"wrote {written} to {for_terminal(str(output))}", markup=False)


@command()
@handles_errors
def status(
    errors: Annotated[bool, typer.Option("--errors", help="List the pages that failed and why, instead.")] = False,
    run: Annotated[int | None, typer.Option(metavar="N", help="With --errors: this run (default: the last; 0: "
                                                              "every run).")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    as_nl: NlOption = False,
) -> None:
    """What the database holds, and the last runs with their figures; --errors lists failed pages and why.

    --csv and --nl give one row per run.

    Example: syndtrace status --errors
    """
    fmt = choose(as_json, as_csv, as_nl)
    store = _store(db)
    if errors:
        emit(fmt, jobs.failed_pages(store, run), render.errors)
        return
    runs = jobs.runs_with_options(store)
    info = {"db": str(db), "schema_version": store.schema_version(), "counts": store.counts(), "runs": runs}
    emit(fmt, runs, render.status, info)


@command()
@handles_errors
def search(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Words to find in titles and bodies.")],
    raw: Annotated[bool, typer.Option("--raw", help='TEXT is an SQLite FTS5 query: "a phrase", AND, OR, NOT, '
                                                    'prefix*.')] = False,
    limit: Annotated[int, typer.Option(metavar="N", min=1, help="Rows at most.")] = 20,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    as_nl: NlOption = False,
) -> None:
    """Full-text search over stored article titles and bodies, best matches first, with the passage that matched.

    Example: syndtrace search "al-qaeda U.S. rocket"
    """
    fmt = choose(as_json, as_csv, as_nl)
    rows = search_articles(_store(db), text, limit, raw=raw)
    emit(fmt, rows if fmt is Format.TABLE else plain_snippets(rows), render.search)


@command()
@handles_errors
def diff(
    url_a: Annotated[str, typer.Argument(metavar="URL_A", help="The earlier page (e.g. the origin).")],
    url_b: Annotated[str, typer.Argument(metavar="URL_B", help="The copy.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    as_nl: NlOption = False,
) -> None:
    """What a copy added and removed relative to another page, passage by passage.

    --csv and --nl give one row per passage added (+) or removed (-).

    Example: syndtrace diff http://commondreams.org/news/x http://globalresearch.ca/x/5690015
    """
    result = compare_pages(_store(db), url_a, url_b)
    rows = [{"change": sign, "passage": p} for sign, key in (("+", "added"), ("-", "removed")) for p in result[key]]
    emit(choose(as_json, as_csv, as_nl), rows, render.diff, result)


@command()
@handles_errors
def verdicts(as_json: JsonOption = False, as_csv: CsvOption = False, as_nl: NlOption = False) -> None:
    """What each verdict means, as the audit decides it (tried in this order).

    Example: syndtrace verdicts
    """
    rows = [{"verdict": v.value, "meaning": v.meaning} for v in Verdict.in_decision_order()]
    emit(choose(as_json, as_csv, as_nl), rows, render.verdicts)


@command(name="metadata")
@handles_errors
def datasette_metadata(
    db: DbOption = DEFAULT_DB,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="File to write (default: "
                                                                                       "stdout).")] = None,
) -> None:
    """Datasette metadata (what each table, view and column holds) for this database file, whatever its name.

    Example: syndtrace metadata --db news.db -o news-metadata.json && datasette news.db --metadata news-metadata.json
    """
    text = to_json(metadata_for(str(db)))
    if output:
        exporter.write_atomically(str(output), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        err.print(f"wrote Datasette metadata for database {database_name(str(db))!r} to {for_terminal(str(output))}",
                  markup=False)
    else:
        sys.stdout.write(text)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
