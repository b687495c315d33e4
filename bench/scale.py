"""Scale of grouping: ingest, full rebuild and incremental update at 10k, 50k and 100k articles.

    python bench/scale.py [--sizes 10000,50000,100000] [--seed 1] [--workdir /tmp/syndtrace-scale]
                          [--svg bench/scale.svg] [--json results.json]

For each size N, a synthetic news web (``bench.corpus.SyndicatedCorpus``: stories with 1–6 copies —
credited reprints, excerpts, edited copies, uncredited scrapes, copies of copies — site furniture, and
hard negatives sharing press-release paragraphs) is written as a WARC of HTML pages, then, each step in
a child process whose time and peak RSS (``os.wait4``) are measured:

1. ingest: the WARC into a fresh database (``cli.jobs.ingest_and_trace``, the function behind
   ``syndtrace ingest``: extraction, storage, then the first grouping, whose share is timed separately);
2. incremental: another WARC of N/10 new articles — 70% new stories, 30% new copies of stories already
   stored — ingested the same way; its grouping step (``update_stories``) is the incremental update;
3. rebuild: ``syndtrace rebuild --json`` on the grown database (signatures, candidates, verification,
   stories, lineage, audit recomputed from the stored extracted text; no re-extraction). The
   incremental update must have produced the same stories as this full rebuild of the same database.

With ``--direct`` (for 1M articles, where writing and extracting the WARC would take hours), steps 1 and 2
write the generator's pages through the storage layer as extraction would store them (``write_direct``: the
page's paragraphs and credit line, its title, author, date and credit), then time the first grouping
(``update_stories``) alone; no WARC is written and nothing is extracted. ``python bench/scale.py --direct
--build-only --sizes 1000000 --keep`` leaves such a database for other benches (a Spark run).

Figures are ratios against the full rebuild measured in the same run; "rebuild µs/article" shows how
the cost per article grows with N. Pairwise precision and recall of the stories against the
generator's truth are printed as a sanity check of the corpus.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from itertools import islice
from math import comb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.corpus import Page, SyndicatedCorpus, write_warc
from cli import jobs
from crawler.page.urls import site_of, url_key
from crawler.storage.records import FetchRecord
from crawler.storage.store import Store
from dedupe.pipeline import update_stories

# peak memory a grouping may reach: 1.5 GB at 100k articles (issue 5), 3 GB at 1M (issue 14)
MEMORY_LIMITS_MB = {100_000: 1536, 1_000_000: 3072}
REBUILD_LIMIT_S = {1_000_000: 600}   # a 1M rebuild within 10 minutes (issue 14)


# -- children ------------------------------------------------------------------------------------------
def child_ingest(db: str, warc: str) -> int:
    """`syndtrace ingest` in this process, with its grouping step timed on its own; prints JSON."""
    spent: dict[str, float] = {}
    update_stories = jobs.update_stories

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return update_stories(*args, **kwargs)
        finally:
            spent["group"] = time.perf_counter() - start

    jobs.update_stories = timed   # the name ingest_and_trace calls
    start = time.perf_counter()
    report, grouping = jobs.ingest_and_trace(db, [warc])
    print(json.dumps({"seconds": time.perf_counter() - start, "group_seconds": spent["group"],
                      "stored": report.stored, "skipped": report.skipped, "grouping": grouping.__dict__}))
    return 0


# -- the direct builder (--direct) ----------------------------------------------------------------------
def stored_rows(corpus: SyndicatedCorpus, page: Page) -> tuple[FetchRecord, dict]:
    """The capture and the article row extraction stores for a generated page, made without its HTML: the
    body paragraphs and the credit line (what ``bench.corpus.SyndicatedCorpus.html`` puts in the article),
    and the credit as the attribution reader records it. The capture's body is a stand-in (the URL)."""
    fetched = (page.published.replace(tzinfo=None)).isoformat() + "Z"
    capture = FetchRecord(url=page.url, requested_url=page.url, final_url=page.url, status=200,
                          headers={"content-type": "text/html; charset=utf-8"}, body=page.url.encode(),
                          fetched_at=fetched, content_type="text/html; charset=utf-8", source="direct")
    credit = f"Source: {page.credit_name}" if page.credit_url else None
    paragraphs = page.paragraphs + ([credit] if credit else [])
    credits = [{"outlet": page.credit_name, "host": site_of(page.credit_url), "url": page.credit_url,
                "role": "source", "text": credit}] if credit else []
    row = {"url": page.url, "site": corpus.host(page.site), "page_type": "article", "title": page.title,
           "author": page.author, "authors": [page.author], "published": page.published.isoformat(),
           "site_name": corpus.site_names[page.site], "canonical": page.url, "language": "en",
           "paragraphs": paragraphs, "text": "\n".join(paragraphs), "words": sum(len(p.split()) for p in paragraphs),
           "attribution": {"credits": credits, "content_links": [page.credit_url] if credit else [],
                           "statements": [credit] if credit else [], "cue_lines": []},
           "content_hash": capture.content_hash}
    return capture, row


def write_direct(db: str, corpus: SyndicatedCorpus, pages: Iterable[Page]) -> int:
    """Store generated pages (read once, 5,000 to a transaction) as an ingest run would; returns how many."""
    store = Store(db)
    run = store.start_run("ingest", {"direct": True})
    pages, n = iter(pages), 0
    while batch := list(islice(pages, 5000)):
        with store.batch():
            for page in batch:
                capture, row = stored_rows(corpus, page)
                store.save_fetch(capture, run)
                store.save_article(row)
        n += len(batch)
    store.finish_run(run, pages_fetched=n, new=n)
    store.close()
    return n


def copy_keeping(src: str, dst: str, keep: str | None, params: Iterable = ()) -> int:
    """A copy of the database ``src`` holding only the pages (articles and their captures) whose URLs the query
    ``keep`` selects from the copy (every page when None), and how many article pages it holds: a large database
    cut to a size (bench/engine_scale.py), or to the stories an increment touched (bench/increment_cost.py)."""
    shutil.copy(src, dst)
    conn = sqlite3.connect(dst)
    with conn:
        if keep is not None:
            conn.execute(f"create temp table keep as {keep}", list(params))
            conn.execute("delete from articles where url not in (select url from temp.keep)")
            conn.execute("delete from fetches where url not in (select url from temp.keep)")
        n = conn.execute("select count(*) from articles where page_type = 'article'").fetchone()[0]
    conn.close()
    return n


def base_pages(corpus: SyndicatedCorpus, n: int):
    """The first ``n`` pages of consecutive stories, made one story at a time (1M pages do not fit in memory)."""
    made, story = 0, 0
    while made < n:
        for page in corpus.story_pages(story)[: n - made]:
            yield page
            made += 1
        story += 1


def delta_pages(corpus: SyndicatedCorpus, n: int, join_share: float) -> list[Page]:
    """The +10% batch of size ``n``: new stories after those of the first ``n`` pages, and new copies of them."""
    made, next_story = 0, 0
    while made < n:
        made += corpus.story_size(next_story)
        next_story += 1
    n_join = int(n // 10 * join_share)
    delta, _ = corpus.pages(n // 10 - n_join, first_story=next_story)
    return delta + corpus.extra_copies(n_join, range(next_story))


def child_direct(db: str, n: int, seed: int, join_share: float, part: str) -> int:
    """Store the base (or +10%) pages of size ``n`` directly, then time the grouping pass; prints JSON."""
    corpus = SyndicatedCorpus(n_sites=max(25, n // 500), seed=seed)
    start = time.perf_counter()
    pages = base_pages(corpus, n) if part == "base" else iter(delta_pages(corpus, n, join_share))
    stored = write_direct(db, corpus, pages)
    written = time.perf_counter()
    store = Store(db)
    report = update_stories(store)
    store.close()
    done = time.perf_counter()
    print(json.dumps({"seconds": done - start, "write_seconds": written - start, "group_seconds": done - written,
                      "stored": stored, "skipped": 0, "grouping": report.__dict__}))
    return 0


def measured(cmd: list[str]) -> tuple[float, float, str]:
    """Run a command; its wall seconds, peak RSS in MB (its own high-water mark) and stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if proc.returncode != 0:
            sys.stderr.write(err.read().decode()[-4000:])
            raise SystemExit(f"failed (exit {proc.returncode}): {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024, text


def syndtrace_cmd() -> list[str]:
    exe = shutil.which("syndtrace")
    return [exe] if exe else [sys.executable, "-c", "from cli.app import main; main()"]


# -- checks --------------------------------------------------------------------------------------------
def partition(db: str) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("select url, story_id from members"))
    finally:
        conn.close()


def same_stories(a: dict[str, str], b: dict[str, str]) -> bool:
    def groups(p: dict[str, str]) -> set[frozenset]:
        by: dict[str, set] = {}
        for url, sid in p.items():
            by.setdefault(sid, set()).add(url)
        return {frozenset(g) for g in by.values()}
    return groups(a) == groups(b)


def pair_scores(pred: dict[str, str], truth: dict[str, int]) -> tuple[float, float]:
    """Pairwise precision and recall of the stories against the generator's truth."""
    urls = [u for u in truth if u in pred]
    cells = Counter((pred[u], truth[u]) for u in urls)
    tp = sum(comb(c, 2) for c in cells.values())
    pp = sum(comb(c, 2) for c in Counter(pred[u] for u in urls).values())
    tt = sum(comb(c, 2) for c in Counter(truth[u] for u in urls).values())
    return (tp / pp if pp else 1.0), (tp / tt if tt else 1.0)


# -- one size ------------------------------------------------------------------------------------------
def run_size(n: int, args, work: str) -> dict:
    say = lambda msg: print(f"  [{n}] {msg}", flush=True)
    corpus = SyndicatedCorpus(n_sites=max(25, n // 500), seed=args.seed)
    start = time.perf_counter()
    if args.direct:
        delta = delta_pages(corpus, n, args.join_share)
        truth = {url_key(p.url): p.story for p in delta}
        truth.update((url_key(p.url), p.story) for p in base_pages(corpus, n))
        size = 0
        say(f"generated {n} + {len(delta)} pages, {corpus.n_sites} sites (direct: no WARC), "
            f"{time.perf_counter() - start:.1f} s")
    else:
        base, next_story = corpus.pages(n)
        n_join = int(n // 10 * args.join_share)
        delta, _ = corpus.pages(n // 10 - n_join, first_story=next_story)
        delta += corpus.extra_copies(n_join, range(next_story))
        base_warc, delta_warc = os.path.join(work, f"base-{n}.warc.gz"), os.path.join(work, f"delta-{n}.warc.gz")
        size = write_warc(corpus, base, base_warc)
        write_warc(corpus, delta, delta_warc)
        truth = {url_key(p.url): p.story for p in base + delta}
        say(f"generated {len(base)} + {len(delta)} pages, {next_story} stories, {corpus.n_sites} sites, "
            f"WARC {size / 2**20:.0f} MB, {time.perf_counter() - start:.1f} s")
        del base
    n_delta = len(delta)
    del delta

    db = os.path.join(work, f"scale-{n}.db")
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    rebuild = syndtrace_cmd() + ["rebuild", "--json", "--quiet", "--db", db]
    if args.direct:
        child = [sys.executable, os.path.abspath(__file__), "--child-direct", db, str(n), str(args.seed),
                 str(args.join_share)]
        base_job, delta_job = child + ["base"], child + ["delta"]
    else:
        child = [sys.executable, os.path.abspath(__file__), "--child-ingest", db]
        base_job, delta_job = child + [base_warc], child + [delta_warc]

    ingest_s, ingest_mb, out = measured(base_job)
    ing = json.loads(out.strip().splitlines()[-1])
    say(f"ingest {ingest_s:.1f} s (its first grouping {ing['group_seconds']:.1f} s), peak {ingest_mb:.0f} MB, "
        f"{ing['grouping']['articles']} articles")
    if args.build_only:
        return {"n": n, "db": db, "ingest_s": ingest_s, "ingest_mb": ingest_mb}

    delta_s, delta_mb, out = measured(delta_job)
    inc = json.loads(out.strip().splitlines()[-1])
    incremental = partition(db)
    say(f"incremental: ingest {delta_s:.1f} s, grouping {inc['group_seconds']:.2f} s, peak {delta_mb:.0f} MB; "
        f"{inc['grouping']['signed']} signed, stages {inc['grouping']['timings']}")

    rebuild_s, rebuild_mb, out = measured(rebuild)
    reb = json.loads(out)
    full = partition(db)
    same = same_stories(incremental, full)
    precision, recall = pair_scores(full, truth)
    say(f"rebuild {rebuild_s:.1f} s, peak {rebuild_mb:.0f} MB, {reb['articles']} articles, {reb['stories']} stories "
        f"({reb['stories_with_copies']} with copies); same stories as incremental: {same}; "
        f"pair precision {precision:.4f} recall {recall:.4f}; stages {reb['timings']}")

    if not args.keep:
        for path in ([] if args.direct else [base_warc, delta_warc]) + [db, db + "-wal", db + "-shm", db + ".lock"]:
            if os.path.exists(path):
                os.remove(path)
    return {
        "n": n, "delta": n_delta, "stories": len(set(truth.values())), "sites": corpus.n_sites, "warc_mb": size / 2**20,
        "ingest_s": ingest_s, "ingest_group_s": ing["group_seconds"], "ingest_mb": ingest_mb,
        "incremental_ingest_s": delta_s, "incremental_s": inc["group_seconds"], "incremental_mb": delta_mb,
        "incremental_timings": inc["grouping"]["timings"], "incremental_signed": inc["grouping"]["signed"],
        "rebuild_s": rebuild_s, "rebuild_mb": rebuild_mb, "rebuild_timings": reb["timings"],
        "articles": reb["articles"], "stories_found": reb["stories"], "with_copies": reb["stories_with_copies"],
        "same_stories": same, "precision": precision, "recall": recall,
    }


# -- output --------------------------------------------------------------------------------------------
def table(rows: list[dict]) -> str:
    head = ("| N (+10%) | ingest N s | rebuild s | rebuild peak MB | incremental s | incremental / rebuild | "
            "rebuild µs/article | incremental ms/new article | same stories | pair P / R |")
    lines = [head, "|" + "|".join(["---:"] * 10) + "|"]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['ingest_s']:.0f} | {r['rebuild_s']:.1f} | {r['rebuild_mb']:.0f} | "
            f"{r['incremental_s']:.1f} | {r['incremental_s'] / r['rebuild_s']:.2f} | "
            f"{r['rebuild_s'] / r['articles'] * 1e6:.0f} | {r['incremental_s'] / r['delta'] * 1e3:.2f} | "
            f"{'yes' if r['same_stories'] else 'NO'} | {r['precision']:.3f} / {r['recall']:.3f} |")
    return "\n".join(lines)


def _size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def svg(rows: list[dict], path: str) -> None:
    """Two small line charts (seconds and peak MB against N), hand-written SVG: no plotting dependency. N and
    seconds on log scales, so that 10k and 1M both show; memory on a linear one, with each size's limit."""
    w, h, pad = 360, 240, 48
    xs = [r["n"] for r in rows]
    lx0, lx1 = math.log10(min(xs) / 1.6), math.log10(max(xs) * 1.6)

    def px(x0: int, x: float) -> float:
        return x0 + pad + (w - pad - 12) * (math.log10(x) - lx0) / (lx1 - lx0)

    def panel(x0: int, title: str, series: list[tuple[str, str, list[float]]], ticks: list[float],
              py, limits: list[tuple[float, str]]) -> str:
        left, right = x0 + pad, x0 + w - 12
        parts = [f'<text x="{x0 + w / 2}" y="14" text-anchor="middle" font-weight="bold">{title}</text>',
                 f'<line x1="{left}" y1="{py(ticks[0])}" x2="{right}" y2="{py(ticks[0])}" stroke="#000"/>',
                 f'<line x1="{left}" y1="{py(ticks[0])}" x2="{left}" y2="{py(ticks[-1])}" stroke="#000"/>']
        for y in ticks:
            parts.append(f'<text x="{left - 4}" y="{py(y) + 4}" text-anchor="end">{y:,.0f}</text>')
            parts.append(f'<line x1="{left}" y1="{py(y)}" x2="{right}" y2="{py(y)}" stroke="#ddd"/>')
        for x in xs:
            parts.append(f'<text x="{px(x0, x)}" y="{py(ticks[0]) + 16}" text-anchor="middle">{_size_label(x)}</text>')
        parts.append(f'<text x="{x0 + w / 2}" y="{h - 6}" text-anchor="middle">articles (log scale)</text>')
        for limit, label in limits:
            parts.append(f'<line x1="{left}" y1="{py(limit)}" x2="{right}" y2="{py(limit)}" stroke="#c00" '
                         f'stroke-dasharray="5,4"/><text x="{right}" y="{py(limit) - 4}" text-anchor="end" '
                         f'fill="#c00">{label}</text>')
        for i, (name, colour, ys) in enumerate(series):
            pts = " ".join(f"{px(x0, x):.1f},{py(y):.1f}" for x, y in zip(xs, ys))
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
            parts.extend(f'<circle cx="{px(x0, x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>' for x, y in zip(xs, ys))
            parts.append(f'<text x="{left + 8}" y="{30 + 14 * i}" fill="{colour}">{name}</text>')
        return "\n".join(parts)

    secs = [("full rebuild (N + 10%)", "#1f77b4", [r["rebuild_s"] for r in rows]),
            ("first grouping of an ingest (N)", "#888", [r["ingest_group_s"] for r in rows]),
            ("incremental (+10%)", "#2ca02c", [r["incremental_s"] for r in rows])]
    mem = [("full rebuild", "#1f77b4", [r["rebuild_mb"] for r in rows]),
           ("incremental ingest (" + ("store" if all(r["warc_mb"] == 0 for r in rows) else "extract")   # --direct
            + " + group)", "#2ca02c", [r["incremental_mb"] for r in rows])]
    decades = range(math.ceil(math.log10(max(max(s[2]) for s in secs) * 1.5)) + 1)
    sec_ticks = [10.0 ** d for d in decades]

    def sec_y(y: float) -> float:
        return 20 + (h - pad - 20) * (1 - math.log10(max(y, 1.0)) / math.log10(sec_ticks[-1]))

    limits = [(mb, f"limit {mb / 1024:.1f} GB at {_size_label(n)}") for n, mb in MEMORY_LIMITS_MB.items()
              if any(x >= n for x in xs)]
    top = max([mb for mb, _ in limits] + [max(s[2]) for s in mem]) * 1.4   # room above for the legend
    step = next(s for s in (250, 500, 1000, 2000, 5000) if top / s <= 6)
    mmax = math.ceil(top / step) * step
    mem_ticks = [float(t) for t in range(0, mmax + 1, step)]

    def mem_y(y: float) -> float:
        return 20 + (h - pad - 20) * (1 - y / mmax)

    time_limits = [(REBUILD_LIMIT_S[n], f"rebuild limit {REBUILD_LIMIT_S[n] / 60:.0f} min at {_size_label(n)}")
                   for n in REBUILD_LIMIT_S if any(x >= n for x in xs)]
    body = (panel(0, "grouping seconds", secs, sec_ticks, sec_y, time_limits) + "\n"
            + panel(w + 20, "peak RSS, MB", mem, mem_ticks, mem_y, limits))
    with open(path, "w") as fh:
        fh.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w + 20}" height="{h}" '
                 f'font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="#fff"/>\n'
                 f'{body}\n</svg>\n')


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child-ingest":
        return child_ingest(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 7 and sys.argv[1] == "--child-direct":
        db, n, seed, join_share, part = sys.argv[2:]
        return child_direct(db, int(n), int(seed), float(join_share), part)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,50000,100000", help="comma-separated article counts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--join-share", type=float, default=0.3,
                    help="share of the +10%% articles that are new copies of stories already stored")
    ap.add_argument("--workdir", default="/tmp/syndtrace-scale")
    ap.add_argument("--keep", action="store_true", help="keep the WARC files and databases")
    ap.add_argument("--direct", action="store_true",
                    help="store the generated articles through the storage layer, without WARC or extraction")
    ap.add_argument("--build-only", action="store_true", help="stop after building the first database (with --keep)")
    ap.add_argument("--svg", default=os.path.join(ROOT, "bench", "scale.svg"), help="chart to write ('' for none)")
    ap.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    os.makedirs(args.workdir, exist_ok=True)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
          flush=True)
    rows = []
    started = time.perf_counter()
    for n in sizes:
        rows.append(run_size(n, args, args.workdir))
        if args.build_only:
            print(f"built {rows[-1]['db']}")
            continue
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(rows, fh, indent=1)
    if args.build_only:
        return 0
    print()
    print(table(rows))
    biggest = max(rows, key=lambda r: r["n"])
    peak = max(biggest["rebuild_mb"], biggest["incremental_mb"])
    limit = next((mb for n, mb in sorted(MEMORY_LIMITS_MB.items()) if biggest["n"] <= n), max(MEMORY_LIMITS_MB.values()))
    print(f"\n{biggest['n']:,} articles group within {peak:.0f} MB peak RSS "
          f"({'within' if peak <= limit else 'OVER'} the {limit} MB requirement); "
          f"total {time.perf_counter() - started:.0f} s")
    if args.svg:
        svg(rows, args.svg)
        print(f"chart: {args.svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
