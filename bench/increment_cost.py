"""What a +10% increment costs against a rebuild of the same grown database, in one process, in CPU seconds.

    python bench/increment_cost.py BASE.db N --workdir DIR [--workers W] [--sites K] [--profile FILE] [--cold] [--floor]

BASE.db is a database of N articles built by ``bench/scale.py --direct --build-only --keep --sizes N`` (with
the code measured: a pass of other code keeps other state). A copy of it gets the +10% pages of
``bench/scale.py --direct`` (70% new stories, 30% new copies of stored ones) through the storage layer; then
``update_stories`` runs as an increment and, on the same grown database, as a rebuild (``full=True``). Each is
timed in wall and CPU seconds (this process and its grouping workers), so the ratio holds on a shared
machine better than wall seconds do. Every table a grouping writes is compared between the increment and the
rebuild, and the increment's tables are printed as checksums (two trees must print the same ones). With
``--sites K`` only the +10% pages of the first K sites are added (a crawl of a few sites of the watch list; the
+10% touches every site, and changes each one's furniture). Importing
datasketch (and scipy), paid once by any process that groups, is timed first and apart (``import_cpu``):
``cpu_ratio`` leaves it out of both passes, ``cpu_ratio_own_process`` counts it in both.

``--floor`` measures what an increment cannot avoid while a story a new copy joins is traced again whole (its
tables must be a rebuild's): a copy of the grown database cut down to the stories
holding an added page (those pages and every stored page beside them) is rebuilt in the same run.
``floor_ratio`` is that rebuild's CPU over the whole rebuild's: the cost of tracing what was added at a rebuild's
own cost per page. It overstates the floor by signing and relating the stored pages again (an increment keeps
theirs) and understates it by looking candidates up among those pages only (an increment looks among all).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import importlib
import json
import os
import resource
import shutil
import sqlite3
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.corpus import SyndicatedCorpus
from bench.scale import copy_keeping, delta_pages, write_direct
from crawler.storage.store import Store
from dedupe.options import GroupingOptions
from dedupe.pipeline import update_stories


def grouped(db: str, options: GroupingOptions, full: bool, profile: str | None) -> tuple[dict, dict]:
    """One grouping pass timed (wall, CPU with its workers), its report, and the tables it left."""
    store = Store(db)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, wall = time.process_time(), time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    report = update_stories(store, options, full=full)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu + after.ru_utime - children.ru_utime + after.ru_stime - children.ru_stime
    rows = store.grouping_rows()
    store.close()
    return {"wall": round(wall, 2), "cpu": round(cpu, 2), "report": report.__dict__}, rows


def imported_cpu() -> float:
    """CPU seconds of importing datasketch (and scipy with it), paid once per process: before either pass is
    timed, so that neither pays it (in the same process the second would not); ``cpu_ratio_own_process`` adds
    it to both, as when each runs in a process of its own (``syndtrace group``, ``syndtrace rebuild``)."""
    cpu = time.process_time()
    importlib.import_module("datasketch")
    return round(time.process_time() - cpu, 2)


def cut_to_touched(src: str, dst: str, added: list[str]) -> dict:
    """A copy of the grouped ``src`` holding only the pages of the stories that hold an ``added`` page, and how
    many pages and stories that is."""
    touched = "select story_id from members where url in (select value from json_each(?))"
    conn = sqlite3.connect(src)
    stories = conn.execute(f"select count(distinct story_id) from ({touched})", [json.dumps(added)]).fetchone()[0]
    conn.close()
    pages = copy_keeping(src, dst, f"select url from members where story_id in ({touched})", [json.dumps(added)])
    return {"pages": pages, "stories": stories}


def drop_page_cache() -> None:
    """What the kernel caches of every file, dropped (``echo 1 > /proc/sys/vm/drop_caches``, as root)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("1\n")
    except OSError as exc:
        raise SystemExit(f"--cold needs root to drop the page cache: {exc}") from None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", help="database of N articles (bench/scale.py --direct --build-only --keep)")
    ap.add_argument("n", type=int, help="its size N")
    ap.add_argument("--workdir", required=True, help="where the grown copy is made")
    ap.add_argument("--workers", type=int, default=0, help="grouping workers (0: one per CPU)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sites", type=int, help="add only the +10%% pages of this many sites (default: of every site)")
    ap.add_argument("--profile", help="write a cProfile of the increment here")
    ap.add_argument("--no-rebuild", action="store_true", help="time the increment only")
    ap.add_argument("--cold", action="store_true",
                    help="drop the page cache before the increment (root only): a file larger than memory is read cold")
    ap.add_argument("--floor", action="store_true",
                    help="also rebuild a copy cut to the stories holding an added page (see above)")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    db = os.path.join(args.workdir, "grown.db")
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copy(args.base, db)   # a base left by bench/scale.py is closed: its WAL is checkpointed
    corpus = SyndicatedCorpus(n_sites=max(25, args.n // 500), seed=args.seed)
    pages = [p for p in delta_pages(corpus, args.n, 0.3) if args.sites is None or p.site < args.sites]
    write_direct(db, corpus, iter(pages))
    options = GroupingOptions(workers=args.workers)
    out: dict = {"load_before": os.getloadavg(), "pages_added": len(pages), "import_cpu": imported_cpu()}
    if args.cold:
        drop_page_cache()
    out["increment"], incremental = grouped(db, options, False, args.profile)
    out["increment_tables"] = {t: hashlib.sha1(repr(r).encode()).hexdigest()[:12] for t, r in incremental.items()}
    print(json.dumps(out), flush=True)
    if not args.no_rebuild:
        out["rebuild"], rebuilt = grouped(db, options, True, None)
        out["cpu_ratio"] = round(out["increment"]["cpu"] / out["rebuild"]["cpu"], 3)
        out["cpu_ratio_own_process"] = round((out["increment"]["cpu"] + out["import_cpu"])
                                             / (out["rebuild"]["cpu"] + out["import_cpu"]), 3)
        out["wall_ratio"] = round(out["increment"]["wall"] / out["rebuild"]["wall"], 3)
        out["tables_differ"] = [t for t in rebuilt if rebuilt[t] != incremental[t]]
        if args.floor:
            cut = os.path.join(args.workdir, "touched.db")
            out["touched"] = cut_to_touched(db, cut, [p.url for p in pages])
            out["touched_rebuild"], _ = grouped(cut, options, True, None)
            out["floor_ratio"] = round(out["touched_rebuild"]["cpu"] / out["rebuild"]["cpu"], 3)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
