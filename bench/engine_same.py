"""Does the Spark engine give the local path's stories? Both rebuild copies of one database, then compare.

    python bench/syndweb_eval.py --seed 1 --stories 400            # a crawled syndweb: /tmp/syndweb-eval-1-400
    python bench/engine_same.py --db /tmp/syndweb-eval-1-400/syndtrace.db [--workers 2] \
        [--truth /tmp/syndweb-eval-1-400/web/truth.json --syndweb ../shared/syndweb]

``syndtrace rebuild`` and ``syndtrace rebuild --engine spark --master spark://127.0.0.1:PORT`` (a standalone
cluster of ``--workers`` one-core workers started here, ``bench/spark_cluster.py``) run on two copies of the
database. Printed: pairwise precision, recall and F1 and B³ F1 of the Spark stories against the local ones
(1.000 when they are the same), whether each results table is identical row for row, the wall time of
both commands (ratio, same run) and, with ``--truth``, syndweb's score.py on both exports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from math import comb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.spark_cluster import StandaloneCluster
from crawler.storage.store import Store


def syndtrace(*args: str) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", "from cli.app import main; main()", *args], capture_output=True,
                         text=True, check=True, cwd=tempfile.gettempdir()).stdout
    return time.perf_counter() - start, out


def partition(db: str) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("select url, story_id from members"))
    finally:
        conn.close()


def pairwise(pred: dict[str, str], truth: dict[str, str]) -> tuple[float, float, float]:
    urls = sorted(set(pred) & set(truth))
    both = sum(comb(n, 2) for n in Counter((pred[u], truth[u]) for u in urls).values())
    p_pairs = sum(comb(n, 2) for n in Counter(pred[u] for u in urls).values())
    t_pairs = sum(comb(n, 2) for n in Counter(truth[u] for u in urls).values())
    precision, recall = (both / p_pairs if p_pairs else 1.0), (both / t_pairs if t_pairs else 1.0)
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def b_cubed_f1(pred: dict[str, str], truth: dict[str, str]) -> float:
    urls = sorted(set(pred) & set(truth))
    cells = Counter((pred[u], truth[u]) for u in urls)
    by_pred, by_truth = Counter(pred[u] for u in urls), Counter(truth[u] for u in urls)
    precision = sum(cells[(pred[u], truth[u])] / by_pred[pred[u]] for u in urls) / len(urls)
    recall = sum(cells[(pred[u], truth[u])] / by_truth[truth[u]] for u in urls) / len(urls)
    return 2 * precision * recall / (precision + recall)


def grouped_rows(db: str) -> dict[str, list[tuple]]:
    """The tables a grouping pass writes, row for row (the storage layer's own list)."""
    store = Store(db, create=False)
    try:
        return store.grouping_rows()
    finally:
        store.close()


def differing_tables(db: str, other: str) -> list[str]:
    """Tables whose rows differ between two grouped databases (empty: the same grouping)."""
    mine, theirs = grouped_rows(db), grouped_rows(other)
    return [table for table in mine if mine[table] != theirs[table]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--truth", default=None, help="syndweb's truth file, to score both exports with score.py")
    ap.add_argument("--syndweb", default=os.path.join(ROOT, "..", "shared", "syndweb"))
    args = ap.parse_args()
    print(f"load {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="engine-same-") as work:
        local, spark = os.path.join(work, "local.db"), os.path.join(work, "spark.db")
        shutil.copy(args.db, local)
        shutil.copy(args.db, spark)
        local_s, _ = syndtrace("rebuild", "--db", local, "--json", "--quiet")
        with StandaloneCluster(workers=args.workers, cores=1, memory="4g") as cluster:
            spark_s, _ = syndtrace("rebuild", "--engine", "spark", "--master", cluster.master_url, "--db", spark,
                                   "--json", "--quiet")
        a, b = partition(local), partition(spark)
        precision, recall, f1 = pairwise(b, a)
        print(f"{len(a)} articles, {len(set(a.values()))} local stories, {len(set(b.values()))} spark stories")
        print(f"spark vs local: pairwise P {precision:.3f} R {recall:.3f} F1 {f1:.3f}; B3 F1 {b_cubed_f1(b, a):.3f}")
        differing = differing_tables(local, spark)
        same = {table: table not in differing for table in grouped_rows(local)}
        print("identical tables: " + ", ".join(f"{t} {'yes' if s else 'NO'}" for t, s in same.items()))
        print(f"wall: local rebuild {local_s:.1f} s, spark rebuild ({args.workers} workers) {spark_s:.1f} s "
              f"({spark_s / local_s:.2f}x); load {os.getloadavg()[0]:.1f}")
        if args.truth:
            for name, db in (("local", local), ("spark", spark)):
                out = os.path.join(work, f"{name}.json")
                syndtrace("export", "--format", "json", "-o", out, "--db", db)
                score = subprocess.run([sys.executable, os.path.join(args.syndweb, "score.py"), "--truth", args.truth,
                                        "--result", out],
                                       capture_output=True, text=True, check=False).stdout
                print(f"--- score.py, {name}\n{score.strip()}")
        print(json.dumps({"f1": f1, "same_tables": same, "local_s": local_s, "spark_s": spark_s}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
