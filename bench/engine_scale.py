"""Scaling of `syndtrace rebuild --engine spark` on this machine: 1 and 2 workers against the local rebuild.

    python bench/engine_scale.py --db scale-100000.db [--articles 20000,0] [--workers 1,2] [--json out.json]

For each size (the first N articles of the database in URL order, with their captures; 0: all), a copy of
the database is rebuilt by ``syndtrace rebuild`` (the baseline, measured in the same run) and by
``syndtrace rebuild --engine spark`` on a standalone cluster (``bench/spark_cluster.py``) of 1 and of 2
one-core workers on 127.0.0.1. Each command's wall time, the peak PSS of it and every process it and the
cluster start (driver, master, workers, executors, Python workers), its per-stage seconds and whether it
gives the local rebuild's stories are printed; the cluster's start-up is timed apart.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.engine_same import differing_tables
from bench.scale import copy_keeping
from bench.spark_cluster import StandaloneCluster


def tree_pss_mb(roots: list[int]) -> float:
    """PSS of these processes and all their descendants, in MB (shared pages counted once)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    children.setdefault(int(fh.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, todo, seen = 0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total / 1024


def measured(cmd: list[str], also: list[int]) -> tuple[float, float, str]:
    """Run a command; wall seconds, peak PSS (MB) of it and of the ``also`` processes' trees, stdout."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
        peak, done = 0.0, threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_pss_mb([proc.pid, *also]))
                time.sleep(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        start = time.perf_counter()
        sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        out.seek(0)
        text = out.read().decode()
    if code:
        raise SystemExit(f"failed (exit {code}): {' '.join(cmd)}")
    return wall, peak, text


def cut_to(src: str, dst: str, articles: int) -> int:
    """A copy of the database holding only its first ``articles`` article pages (URL order) and their captures."""
    return copy_keeping(src, dst, "select url from articles where page_type = 'article' order by url limit ?"
                        if articles else None, [articles] if articles else [])


def syndtrace(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cli.app import main; main()", *args]


def run_size(src: str, articles: int, workers: list[int], work: str) -> list[dict]:
    base = os.path.join(work, "base.db")
    n = cut_to(src, base, articles)
    out = []
    local = os.path.join(work, "local.db")
    shutil.copy(base, local)
    wall, peak, text = measured(syndtrace("rebuild", "--db", local, "--json", "--quiet"), [])
    out.append({"articles": n, "engine": "local", "workers": 1, "start_s": 0.0, "wall_s": wall, "peak_mb": peak,
                "timings": json.loads(text)["timings"], "same": True, "load": os.getloadavg()[0]})
    print(json.dumps(out[-1]), flush=True)
    for w in workers:
        db = os.path.join(work, f"spark-{w}.db")
        shutil.copy(base, db)
        start = time.perf_counter()
        with StandaloneCluster(workers=w, cores=1, memory="6g") as cluster:
            started = time.perf_counter() - start
            cmd = syndtrace("rebuild", "--engine", "spark", "--master", cluster.master_url, "--db", db, "--json",
                            "--quiet", "--conf", "spark.executor.memory=4g", "--conf", "spark.driver.memory=2g")
            wall, peak, text = measured(cmd, [p.pid for p in cluster.processes])
        differing = differing_tables(db, local)   # named, so a mismatch says where to look
        out.append({"articles": n, "engine": "spark", "workers": w, "start_s": started, "wall_s": wall,
                    "peak_mb": peak, "timings": json.loads(text)["timings"], "same": not differing,
                    "differing_tables": differing, "load": os.getloadavg()[0]})
        print(json.dumps(out[-1]), flush=True)
        os.remove(db)
    return out


def table(results: list[dict]) -> str:
    lines = [("| articles | engine | workers | cluster start s | rebuild s | × local | peak MB, all processes | "
             "same tables as local | load (1 min) |"), "|---:|---|---:|---:|---:|---:|---:|---|---:|"]
    for r in results:
        local = next(x for x in results if x["articles"] == r["articles"] and x["engine"] == "local")
        lines.append(f"| {r['articles']:,} | {r['engine']} | {r['workers']} | {r['start_s']:.1f} | {r['wall_s']:.1f} | "
                     f"{r['wall_s'] / local['wall_s']:.2f} | {r['peak_mb']:.0f} | {'yes' if r['same'] else 'NO'} | "
                     f"{r['load']:.1f} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--articles", default="20000,0")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs; load {os.getloadavg()}", flush=True)
    results: list[dict] = []
    for size in (int(a) for a in args.articles.split(",")):
        with tempfile.TemporaryDirectory(prefix="engine-scale-", dir=args.workdir) as work:
            results += run_size(args.db, size, [int(w) for w in args.workers.split(",")], work)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=1)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
