"""Which distributed engine for grouping: the same job on Spark, Dask and Ray, and in one local process.

    pip install 'pyspark==4.3.0' 'dask[distributed]==2026.8.0' 'ray[data]==2.60.0'   # all three, for this bench
    python bench/engine_choice.py --db scale-100000.db [--workers 1,2] [--engines local,spark,dask,ray]

The job is the heavy half of a full grouping pass, the half a cluster would run: read every stored
article's text (staged once, before any timing, as pickled batches of 5,000 articles: what every engine
reads), paragraph identities, site furniture counted by (site, paragraph), signatures (whole text and
leads), band keys shuffled by (band, key) into candidate pairs, and verification of every pair (two joins
by article number); the verified edges come back to the driver. Every engine calls the same task functions
of ``dedupe.spark_job`` (which call the local stages' kernels), each through its own primitives: Spark RDDs
(``reduceByKey``, ``groupByKey``, ``join``) on a standalone cluster of N one-core workers, Dask bags
(``foldby``, ``groupby`` with the task shuffle) on a ``LocalCluster`` of N one-thread worker processes, Ray
Data (``groupby().map_groups``, ``join``) on a local Ray of N CPUs. "local" is the same job in one process
with the local stages' numpy banding (``banded_pairs``), the baseline.

Each run is a child process; the parent samples the proportional set size (PSS, so that shared memory is
counted once) of the child and every process it starts, every 0.25 s: "peak MB, all processes". "start s"
is the time to bring the cluster up and connect; "job s" is the rest. Every engine must return the same
edges as the local run (checked).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import dask
import dask.bag as db
import numpy as np
import ray
from distributed import Client, LocalCluster
from pyspark import SparkConf, SparkContext

from bench.spark_cluster import StandaloneCluster
from crawler.storage.store import Store
from dedupe.index import banded_pairs, bucket_pairs, lsh_bands
from dedupe.normalise import is_furniture, site_furniture
from dedupe.options import GroupingOptions
from dedupe.spark_job import identify, keyed_bands, read_batch, relate_task, sign_task, stage_texts, votes

OPTIONS = GroupingOptions()
BANDS, ROWS = lsh_bands(OPTIONS.lsh_threshold, OPTIONS.num_perm)


def add(x: int, y: int) -> int:
    return x + y


# -- the job on each engine: files → relations found (compared as (a, b, kind, basis, containment, jaccard)) --
def run_local(files: list[str], workers: int) -> tuple[float, list]:
    articles = [identify(r) for f in files for r in read_batch(f)]
    furniture = site_furniture(((a[2], a[5]) for a in articles), OPTIONS.furniture_min_pages)
    signed = [sign_task(a, furniture, OPTIONS) for a in articles]
    del articles
    rows = [(s[0], m) for s in signed if s[1][2].n_words for m in s[2]]
    owners = np.array([o for o, _ in rows], dtype=np.int64)
    matrix = np.array([m for _, m in rows], dtype=np.uint32).reshape(-1, OPTIONS.num_perm)
    pairs = banded_pairs(owners, matrix, np.ones(len(signed), dtype=bool), BANDS, ROWS)
    edges = [relate_task((b, (signed[a][1], signed[b][1])), OPTIONS)
             for a, b in pairs.tolist()]
    return 0.0, [e for e in edges if e is not None]


def run_spark(files: list[str], workers: int) -> tuple[float, list]:
    start = time.perf_counter()
    cluster = StandaloneCluster(workers=workers, cores=1, memory="6g").__enter__()
    conf = (SparkConf().setMaster(cluster.master_url).setAppName("engine-choice").set("spark.ui.enabled", "false")
            .set("spark.ui.showConsoleProgress", "false").set("spark.driver.host", "127.0.0.1")
            .set("spark.driver.bindAddress", "127.0.0.1").set("spark.pyspark.python", sys.executable)
            .set("spark.executor.memory", "4g"))
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    started = time.perf_counter() - start
    try:
        articles = sc.parallelize(files, len(files)).flatMap(read_batch).map(identify).persist()
        counted = articles.flatMap(votes).reduceByKey(add)
        furniture: dict[str, set[int]] = {}
        for (site, h), _ in counted.filter(lambda kv: is_furniture(kv[1], OPTIONS.furniture_min_pages)).collect():
            furniture.setdefault(site, set()).add(h)
        shared = sc.broadcast(furniture)
        signed = articles.map(lambda a: sign_task(a, shared.value, OPTIONS)).persist()
        signed.count()
        articles.unpersist()
        pairs = (signed.flatMap(lambda s: keyed_bands(s, BANDS, ROWS)).groupByKey()
                 .flatMap(lambda kv: bucket_pairs(list(kv[1]))).distinct())
        prints = signed.map(lambda s: (s[0], s[1]))
        joined = pairs.join(prints).map(lambda kv: (kv[1][0], kv[1][1])).join(prints)
        edges = joined.map(lambda kv: relate_task(kv, OPTIONS)).filter(lambda e: e is not None).collect()
    finally:
        sc.stop()
        cluster.__exit__(None, None, None)
    return started, edges


def run_dask(files: list[str], workers: int) -> tuple[float, list]:
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, memory_limit="6GiB")
    client = Client(cluster)
    started = time.perf_counter() - start
    try:
        with dask.config.set({"dataframe.shuffle.method": "tasks"}):
            articles = db.from_sequence(files, npartitions=len(files)).map(read_batch).flatten().map(identify)
            articles = articles.persist()
            counted = articles.map(votes).flatten().foldby(lambda kv: kv[0], lambda acc, kv: acc + kv[1], 0, add, 0)
            furniture: dict[str, set[int]] = {}
            for (site, h), n in counted.compute():
                if is_furniture(n, OPTIONS.furniture_min_pages):
                    furniture.setdefault(site, set()).add(h)
            signed = articles.map(sign_task, furniture, OPTIONS).persist()
            del articles
            pairs = (signed.map(keyed_bands, BANDS, ROWS).flatten().groupby(lambda kv: kv[0], shuffle="tasks")
                     .map(lambda kv: bucket_pairs([n for _, n in kv[1]])).flatten().distinct())
            # a join is a group by key of both sides: pair (a, b) meets article a, then article b
            prints = signed.map(lambda s: (s[0], ("print", s[1])))
            firsts = db.concat([pairs.map(lambda p: (p[0], ("pair", p[1]))), prints]).groupby(
                lambda kv: kv[0], shuffle="tasks").map(_meet_first).flatten()
            edges = db.concat([firsts, prints]).groupby(lambda kv: kv[0], shuffle="tasks").map(_meet_second).flatten()
            edges = edges.compute()
    finally:
        client.close()
        cluster.close()
    return started, edges


def _meet_first(group) -> list:
    _, items = group
    mine = next((v for _, v in items if v[0] == "print"), None)
    return [(v[1], ("half", mine[1])) for _, v in items if v[0] == "pair"] if mine else []


def _meet_second(group) -> list:
    number, items = group
    mine = next((v for _, v in items if v[0] == "print"), None)
    out = []
    for _, v in items:
        if v[0] == "half" and mine:
            edge = relate_task((number, (v[1], mine[1])), OPTIONS)
            if edge is not None:
                out.append(edge)
    return out


def run_ray(files: list[str], workers: int) -> tuple[float, list]:
    start = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1",
             object_store_memory=2 * 2**30)
    started = time.perf_counter() - start
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        parts = max(workers * 2, len(files))
        files_ds = ray.data.from_items([{"file": f} for f in files], override_num_blocks=len(files))
        articles = files_ds.flat_map(lambda r: [{"a": pickle.dumps(identify(x))} for x in read_batch(r["file"])])
        articles = articles.materialize()
        votes_ds = articles.flat_map(lambda r: [{"site": s, "h": _signed(h), "n": n}
                                                for (s, h), n in votes(pickle.loads(r["a"]))])
        counted = votes_ds.groupby(["site", "h"], num_partitions=parts).sum("n")
        furniture: dict[str, set[int]] = {}
        for row in counted.iter_rows():
            if is_furniture(row["sum(n)"], OPTIONS.furniture_min_pages):
                furniture.setdefault(row["site"], set()).add(int(row["h"]) % 2**64)
        shared = ray.put(furniture)

        def sign(row):
            s = sign_task(pickle.loads(row["a"]), ray.get(shared), OPTIONS)
            return {"id": s[0], "s": pickle.dumps((*s[:3], None))}

        signed = articles.map(sign).materialize()
        keyed = signed.flat_map(lambda r: [{"band": k[0], "key": _signed(k[1]), "id": n}
                                           for k, n in keyed_bands(pickle.loads(r["s"]), BANDS, ROWS)])
        pairs = keyed.groupby(["band", "key"], num_partitions=parts).map_groups(_ray_bucket_pairs, batch_format="numpy")
        pairs = pairs.groupby(["a", "b"], num_partitions=parts).count()
        prints = signed.map(lambda r: {"id": r["id"], "p": pickle.dumps(pickle.loads(r["s"])[1])})
        first = pairs.join(prints.rename_columns({"id": "a", "p": "pa"}), "inner", parts, on=("a",))
        both = first.join(prints.rename_columns({"id": "b", "p": "pb"}), "inner", parts, on=("b",))
        edges = []
        for row in both.iter_rows():
            edge = relate_task((row["b"], (pickle.loads(row["pa"]), pickle.loads(row["pb"]))), OPTIONS)
            if edge is not None:
                edges.append(edge)
    finally:
        ray.shutdown()
    return started, edges


def _signed(x: int) -> int:
    """A 64-bit hash as Arrow's int64 (Ray groups by Arrow columns; uint64 above 2^63 would be pickled)."""
    return x - 2**64 if x >= 2**63 else x


def _ray_bucket_pairs(batch: dict) -> dict:
    found = bucket_pairs(batch["id"].tolist())
    return {"a": np.array([a for a, _ in found], dtype=np.int64), "b": np.array([b for _, b in found], dtype=np.int64)}


ENGINES = {"local": run_local, "spark": run_spark, "dask": run_dask, "ray": run_ray}


# -- measuring ----------------------------------------------------------------------------------------------
def tree_pss_mb(root: int) -> float:
    """PSS of a process and all its descendants, in MB (shared pages counted once)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total / 1024


def measured_child(engine: str, workers: int, manifest: str) -> dict:
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", engine, str(workers), manifest],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_pss_mb(proc.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode:
        return {"engine": engine, "workers": workers, "failed": proc.returncode}
    return {**json.loads(out.decode().strip().splitlines()[-1]), "wall_s": wall, "peak_mb": peak}


def child(engine: str, workers: int, manifest: str) -> int:
    with open(manifest) as fh:
        files = json.load(fh)
    start = time.perf_counter()
    started, edges = ENGINES[engine](files, workers)
    total = time.perf_counter() - start
    found = sorted((e.a, e.b, e.kind, e.basis, e.containment, e.jaccard) for e in edges)
    digest = hashlib.sha1(repr(found).encode()).hexdigest()[:12]
    print(json.dumps({"engine": engine, "workers": workers, "start_s": started, "job_s": total - started,
                      "edges": len(found), "digest": digest}))
    return 0


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        return child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="a syndtrace database (bench/scale.py --keep makes one)")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--engines", default="local,spark,dask,ray")
    ap.add_argument("--articles", type=int, default=0,
                    help="use only the first N articles in URL order (whole batches of 5,000; 0: all)")
    ap.add_argument("--stage-dir", default=None, help="where to stage the texts (default: a temporary folder)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load {os.getloadavg()}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="engine-choice-", dir=args.stage_dir) as folder:
        store = Store(args.db, create=False)
        staged = stage_texts(store, folder, 5000)
        store.close()
        files = staged.files[:-(-args.articles // 5000)] if args.articles else staged.files
        manifest = os.path.join(folder, "files.json")
        with open(manifest, "w") as fh:
            json.dump(files, fh)
        print(f"{min(len(staged.urls), 5000 * len(files))} articles staged in {len(files)} files", flush=True)
        rows = []
        for engine in args.engines.split(","):
            for workers in ([1] if engine == "local" else [int(w) for w in args.workers.split(",")]):
                row = measured_child(engine, workers, manifest)
                row["load"] = os.getloadavg()[0]
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.json:
                    with open(args.json, "w") as fh:
                        json.dump(rows, fh, indent=1)
    print(table(rows))
    return 0


def table(rows: list[dict]) -> str:
    base = next((r for r in rows if r["engine"] == "local" and "failed" not in r), None)
    lines = [("| engine | workers | start s | job s | wall s | × local wall | peak MB, all processes | edges | "
             "same edges as local | load (1 min) |"), "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        if "failed" in r:
            lines.append(f"| {r['engine']} | {r['workers']} | failed (exit {r['failed']}) | | | | | | | |")
            continue
        ratio = f"{r['wall_s'] / base['wall_s']:.2f}" if base else "—"
        same = "yes" if base and r["digest"] == base["digest"] and r["edges"] == base["edges"] else "NO"
        lines.append(f"| {r['engine']} | {r['workers']} | {r['start_s']:.1f} | {r['job_s']:.1f} | {r['wall_s']:.1f} | "
                     f"{ratio} | {r['peak_mb']:.0f} | {r['edges']:,} | {same} | {r['load']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
