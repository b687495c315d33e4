"""A full grouping pass on Apache Spark: the same stages as ``dedupe.pipeline.update_stories(full=True)``,
with the per-article and per-pair work spread over a Spark cluster.

    texts (staged) → paragraph identities → site furniture (counted by (site, paragraph)) → prints and
    signatures → band keys, shuffled by (band, key) → candidate pairs → relations (two joins on article
    number bring both prints to ``relate_pair``) → stories, contains links, lineage, versions and audit
    (the local stages, in the driver) → the database

Every task calls the kernels the local stages call (``dedupe.stages``, ``dedupe.normalise``,
``dedupe.index``), so the same stored articles give the same signatures, relations and stories; a change
inside a kernel needs no change here. The driver stages the stored texts as pickled batches in a folder
every worker can read (``stage_dir``: a shared file system on a cluster), and streams the signatures and
edges back into the database as they come; the database is written only by the driver, under the run lock.

pyspark is an optional dependency (``pip install 'syndtrace[spark]'``, plus a Java 17 runtime): it is
imported in this module's functions only, so commands that do not use it start without it. What cannot
work (no pyspark, no Java, an unreachable master, a JVM that will not start, a failed job) is an
``EngineError``: one line and exit code 5.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import socket
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crawler.errors import EngineError
from crawler.storage.store import Store
from dedupe.index import band_columns, band_keys, bucket_pairs, lsh_bands
from dedupe.normalise import furniture_on_page, furniture_votes, is_furniture, paragraph_hashes, writer_of
from dedupe.options import GroupingOptions, SparkOptions
from dedupe.pipeline import GroupReport
from dedupe.relate import Edge
from dedupe.signature import SignatureParams, leads_to_bytes
from dedupe.stages import (
    Furniture,
    Progress,
    SigningPlan,
    cluster_touched,
    edge_row,
    fingerprint_digest,
    link_captions,
    no_progress,
    relate_pair,
    save_results,
    settle_numeric_dates,
    settle_title_affixes,
    sign_article,
    signature_row,
    stored_text_hash,
    trace_groups,
)

# log4j lines (date, time, level) and the notes Spark prints at every start
_ROUTINE_LOG = re.compile(r"\d\d/\d\d/\d\d \d\d:\d\d:\d\d (INFO|WARN|DEBUG) |Setting default log level|To adjust logging level"
                          r"|Using Spark's default log4j profile|WARNING: ")
SHIPPED_PACKAGES = ("crawler", "dedupe")   # the code every executor runs, shipped from the driver's own tree


@dataclass
class Staged:
    """The stored texts as batch files, and every article's URL by number (URL order)."""

    files: list[str]
    urls: list[str] = field(default_factory=list)


def spark_context(options: SparkOptions, folder: str):
    """A SparkContext for ``options.master``; the driver JVM's own output goes to ``folder``/spark.log, so that
    the command's output stays its own (``--json``) and a failure is one line.

    Raises:
        EngineError: pyspark or a Java runtime is missing, the master cannot be reached, or Spark does not start.
    """
    try:
        from pyspark import SparkConf, SparkContext
        from pyspark.java_gateway import launch_gateway
    except ImportError:
        raise EngineError("the spark engine needs pyspark: pip install 'syndtrace[spark]'") from None
    if java_runtime() is None:
        raise EngineError("the spark engine needs a Java 17 runtime: no java on PATH and JAVA_HOME is not set "
                          "(Debian: apt-get install openjdk-17-jre-headless)")
    master = options.master_url()
    check_reachable(master)
    conf = SparkConf().setAppName("syndtrace-grouping").setMaster(master)
    conf.set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
    if master.startswith("local") or "//127.0.0.1:" in master or "//localhost:" in master:
        # a cluster on this machine: executors run this interpreter and reach the driver on the loopback only
        conf.set("spark.pyspark.python", os.environ.get("PYSPARK_PYTHON", sys.executable))
        conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
    for key, value in options.settings():
        conf.set(key, value)
    log_path = os.path.join(folder, "spark.log")
    try:
        with open(log_path, "ab") as log:
            sc = SparkContext(conf=conf, gateway=launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log}))
    except Exception as exc:  # noqa: BLE001 (whatever stops Spark from starting: one line, not a traceback)
        raise EngineError(f"could not start Spark on {master}: {jvm_error(log_path) or engine_message(exc)}") from None
    sc.setLogLevel("ERROR")
    return sc


def jvm_error(log_path: str) -> str:
    """The first line of the driver JVM's output that is not Spark's routine logging (what made it fail)."""
    with open(log_path, errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if line and not _ROUTINE_LOG.match(line):
                return line.removeprefix("Error: ")
    return ""


def java_runtime() -> str | None:
    """The java command Spark will start (``$JAVA_HOME/bin/java``, else java on PATH), or None."""
    home = os.environ.get("JAVA_HOME")
    if home:
        path = os.path.join(home, "bin", "java")
        return path if os.access(path, os.X_OK) else None
    return shutil.which("java")


def check_reachable(master: str, timeout: float = 5.0) -> None:
    """A standalone master (``spark://HOST:PORT[,HOST:PORT…]``) must answer on one of its addresses, checked
    before any JVM starts: Spark itself retries an unreachable master for a minute, then gives up quietly.

    Raises:
        EngineError: none of the master's addresses accepts a connection.
    """
    if not master.startswith("spark://"):
        return
    problem = ""
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=timeout).close()
            return
        except OSError as exc:
            problem = exc.strerror or str(exc) or type(exc).__name__
    raise EngineError(f"cannot reach the Spark master at {master}: {problem}")


def engine_message(exc: BaseException) -> str:
    """One line from an error Spark raised: the Java exception's own message when there is one (a Py4J error
    starts with "An error occurred while calling …" and goes on with a Java stack trace)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    cause = next((line.lstrip(": ") for line in lines if line.startswith(": ")), lines[0] if lines else "")
    return cause or type(exc).__name__


def is_engine_error(exc: BaseException) -> bool:
    """An error raised by Spark or its Java bridge (a failed task, a lost cluster), not by our own code."""
    return type(exc).__module__.split(".")[0] in ("pyspark", "py4j")


def ship_code(sc, folder: str) -> None:
    """Zip the packages the tasks import and add them to the job, so executors run the driver's kernels."""
    root = Path(__file__).resolve().parent.parent
    path = os.path.join(folder, "syndtrace-code.zip")
    with zipfile.ZipFile(path, "w") as zf:
        for package in SHIPPED_PACKAGES:
            for file in sorted((root / package).rglob("*.py")):
                zf.write(file, file.relative_to(root).as_posix())
    sc.addPyFile(path)


# -- staging ---------------------------------------------------------------------------------------------
def stage_texts(store: Store, folder: str, batch: int) -> Staged:
    """Write every stored article's (number, url, site, paragraphs JSON) in batches of ``batch``, in URL order."""
    staged = Staged([])
    rows: list[tuple] = []

    def flush() -> None:
        path = os.path.join(folder, f"texts-{len(staged.files):06d}.pickle")
        with open(path, "wb") as fh:
            pickle.dump(rows, fh, protocol=pickle.HIGHEST_PROTOCOL)
        staged.files.append(path)
        rows.clear()

    for text in store.article_texts():
        rows.append((len(staged.urls), text.url, text.site, text.paragraphs_json))
        staged.urls.append(text.url)
        if len(rows) >= batch:
            flush()
    if rows or not staged.files:
        flush()
    return staged


def read_batch(path: str) -> list[tuple]:
    with open(path, "rb") as fh:
        return pickle.load(fh)


# -- tasks (each calls the local stages' kernels) -------------------------------------------------------
def identify(row: tuple) -> tuple:
    """(number, url, site, paragraphs, text hash, paragraph hashes) of one staged article."""
    number, url, site, paragraphs_json = row
    paragraphs = json.loads(paragraphs_json or "[]")
    return number, url, site, paragraphs, stored_text_hash(paragraphs_json), paragraph_hashes(paragraphs)


def votes(article: tuple) -> Iterator[tuple[tuple[str, int], int]]:
    _, _, site, _, _, hashes = article
    return (((site, h), 1) for h in furniture_votes(hashes))


def sign_task(article: tuple, furniture: dict[str, set[int]], options: GroupingOptions) -> tuple:
    """(number, (url, site, print), signature matrix, (signatures-table row, openings-table row)) of one
    article."""
    number, url, site, paragraphs, text_hash, hashes = article
    banned = furniture.get(site, set())
    signed = sign_article(paragraphs, banned, options, SignatureParams(**options.signature_params()))
    row = signature_row(url, signed.distinct, signed.full.to_bytes(), leads_to_bytes(signed.leads),
                        fingerprint_digest(hashes, banned), text_hash, hashes, options)
    return number, (url, site, signed.printed), signed.matrix(), (row, (url, signed.opening, signed.capture))


def keyed_bands(signed: tuple, bands: int, rows: int) -> Iterator[tuple[tuple[int, int], int]]:
    """((band, key), article number) for every band of every signature of an article with a text."""
    number, (_, _, printed), matrix, _ = signed
    if not printed.n_words:
        return
    for band in range(bands):
        for key in set(band_keys(matrix[:, band_columns(band, rows)]).tolist()):
            yield (band, key), number


def relate_task(joined: tuple, options: GroupingOptions) -> Edge | None:
    """The relation of one candidate pair, joined with both articles' (url, site, print)."""
    _, ((url_a, site_a, print_a), (url_b, site_b, print_b)) = joined
    return relate_pair(url_a, url_b, print_a, print_b, site_a == site_b, options)


# -- the driver ------------------------------------------------------------------------------------------
def run_on_spark(store: Store, options: GroupingOptions | None = None, spark: SparkOptions | None = None,
                 run_id: int | None = None, progress: Progress | None = None) -> GroupReport:
    """Recompute signatures, edges, stories, lineage and audit of every stored article on Spark."""
    options, spark = options or GroupingOptions(), spark or SparkOptions()
    report, say = GroupReport(full=True), progress or no_progress
    folder = tempfile.mkdtemp(prefix="syndtrace-stage-", dir=spark.stage_dir)
    try:
        with report.stage("start"):
            sc = spark_context(spark, folder)
            ship_code(sc, folder)
        try:
            edges, plan, furniture = distributed_edges(sc, store, options, spark, folder, report, say)
        except Exception as exc:
            if is_engine_error(exc):
                raise EngineError(f"the Spark job failed: {engine_message(exc)}") from exc
            raise
        finally:
            sc.stop()
        with report.stage("captions"):   # on this machine: what it aligns is a few short texts' openings
            pairs = [(e.a, e.b) for e in edges]
            pairs += link_captions(store, None, furniture, options)
        with report.stage("group"):
            grouping = cluster_touched(store, plan, pairs, options, full=True)
        with report.stage("lineage"):   # its rows saved batch by batch ("save" is a part of it)
            traced = trace_groups(store, grouping, furniture, options, run_id, report.add, say)
            report.stories_updated = save_results(store, traced, grouping, plan, True, report.stage, options.save)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report.stories, report.stories_with_copies = store.story_counts()
    return report


def distributed_edges(sc, store: Store, options: GroupingOptions, spark: SparkOptions, folder: str,
                      report: GroupReport, say: Progress) -> tuple[list[Edge], SigningPlan, Furniture]:
    """Normalise, count furniture, sign, band and verify on the cluster; save signatures and edges as they come."""
    with report.stage("normalise"):
        settle_numeric_dates(store)
        settle_title_affixes(store, options.furniture_min_pages)
        staged = stage_texts(store, folder, spark.batch)
        report.articles = report.signed = len(staged.urls)
        articles = sc.parallelize(staged.files, len(staged.files)).flatMap(read_batch).map(identify)
        articles.persist(_spill())
        min_pages = options.furniture_min_pages
        counted = articles.flatMap(votes).reduceByKey(lambda x, y: x + y)
        by_site: dict[str, set[int]] = {}
        for (site, h), _ in counted.filter(lambda kv: is_furniture(kv[1], min_pages)).toLocalIterator():
            by_site.setdefault(site, set()).add(h)
        furniture = Furniture(by_site, furniture_writers(sc, articles, by_site))
    with report.stage("signature"):
        shared = sc.broadcast(by_site)
        rows_and_prints = articles.map(lambda a: sign_task(a, shared.value, options)).persist(_spill())
        store.clear_signatures()   # signed pages no longer stored as articles lose theirs, as in a local full pass
        _save_in_batches(lambda rows: _save_signed(store, rows), (s[3] for s in rows_and_prints.toLocalIterator()),
                         say, "signature", len(staged.urls))
        articles.unpersist()
        signed = rows_and_prints.map(lambda s: (*s[:3], None)).persist(_spill())   # the rows are saved: drop them
        signed.count()
        rows_and_prints.unpersist()
    with report.stage("candidates"):
        bands, rows = lsh_bands(options.lsh_threshold, options.num_perm)
        pairs = (signed.flatMap(lambda s: keyed_bands(s, bands, rows)).groupByKey()
                 .flatMap(lambda kv: bucket_pairs(list(kv[1]))).distinct())
        pairs.persist(_spill())
        report.candidate_pairs = pairs.count()
    with report.stage("verify"):
        prints = signed.map(lambda s: (s[0], s[1]))
        by_first = pairs.join(prints).map(lambda kv: (kv[1][0], kv[1][1]))   # (b, (url, site, print) of a)
        edges_rdd = by_first.join(prints).map(lambda kv: relate_task(kv, options)).filter(lambda e: e is not None)
        edges = list(edges_rdd.toLocalIterator())
        store.save_edges(edge_row(e) for e in edges)
        report.edges_new = len(edges)
        signed.unpersist()
        pairs.unpersist()
    plan = SigningPlan(dict.fromkeys(staged.urls, ""), staged.urls, [])
    return edges, plan, furniture


def furniture_writers(sc, articles, by_site: dict[str, set[int]]) -> dict[int, str]:
    """Who wrote each furniture paragraph (``dedupe.stages.furniture_writers``, counted on the cluster): the
    pages of each site that carry it, by (paragraph, site), then the local kernel's decision."""
    every = sc.broadcast(set().union(*by_site.values()) if by_site else set())
    carried = articles.flatMap(lambda a: (((h, a[2]), 1) for h in furniture_on_page(a[5], every.value)))
    pages: dict[int, Counter] = defaultdict(Counter)
    for (h, site), n in carried.reduceByKey(lambda x, y: x + y).toLocalIterator():
        pages[h][site] = n
    return {h: site for h, by in pages.items() if (site := writer_of(by)) is not None}


def _spill():
    """Kept data spills to the executors' disks rather than failing when it outgrows their memory."""
    from pyspark import StorageLevel

    return StorageLevel.MEMORY_AND_DISK


def _save_signed(store: Store, rows: list[tuple[dict, tuple]]) -> None:
    store.save_signatures([signature for signature, _ in rows])
    store.save_openings([opening for _, opening in rows])


def _save_in_batches(save, rows: Iterable, say: Progress, stage: str, total: int, size: int = 1000) -> None:
    batch: list[dict] = []
    done = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            save(batch)
            done += len(batch)
            say(stage, done, total)
            batch = []
    save(batch)

