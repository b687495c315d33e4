"""A whole ``syndtrace rebuild`` against the plain datasketch recipe, on the same stored articles, same run.

    python bench/rebuild_vs_plain.py --warc /tmp/syndtrace-ingest/web.warc.gz
                                     [--db /tmp/syndtrace-rebuild/web.db] [--rounds 2] [--json FILE]

The WARC is a crawled syndweb web (issue 14 measures the 4,000-story web of seed 4, written by
``bench/ingest_throughput.py --build``); it is ingested once with ``syndtrace ingest`` into ``--db`` (kept
and reused when it exists). Then, alternating so that both see the same machine load, each in a child
process:

- **plain recipe**: every article page's stored paragraphs, word 5-shingles as strings (the same words),
  one ``MinHash.update`` per shingle, ``MinHashLSH`` at threshold 0.5 (insert, then a query per article),
  union-find over the pairs found. Only the grouping is timed (reading the texts and importing datasketch
  are not): the baseline is given every advantage;
- **rebuild**: the whole ``syndtrace rebuild --json`` command on a fresh copy of the database, timed from
  outside (interpreter start-up, every stage — signatures, candidates, alignment, stories, lineage,
  audit — and the writes included).

Printed: each round's seconds, the ratio plain / rebuild, the rebuild's stages, the signature stage's
articles per second, and the lineage stage's share of the rebuild. Figures are ratios within one run; the
load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time

import numpy as np
from datasketch import MinHash, MinHashLSH

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.grouping import shingle_strings
from crawler.storage.store import Store
from dedupe.group import components
from dedupe.index import lsh_bands
from dedupe.options import GroupingOptions
from dedupe.signature import SignatureParams, sign
from dedupe.stages import (
    LineageEvidence,
    articles_by_group,
    find_furniture,
    plan_signing,
    read_corpus,
    sign_changed,
)
from dedupe.trace.audit import audit_story
from dedupe.trace.lineage import decide
from dedupe.trace.versions import find_versions

PLAIN_THRESHOLD = 0.5


def child_plain(db: str) -> int:
    """The plain recipe over the database's article pages: prints JSON with its seconds and stories."""
    conn = sqlite3.connect(db)
    texts = {url: json.loads(paragraphs or "[]") for url, paragraphs in
             conn.execute("select url, paragraphs from articles where page_type = 'article' order by url")}
    conn.close()
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=PLAIN_THRESHOLD, num_perm=128)
    sigs = {}
    for url, paragraphs in texts.items():
        m = MinHash(num_perm=128, seed=1)
        for shingle in shingle_strings(paragraphs, 5):
            m.update(shingle.encode("utf-8"))
        sigs[url] = m
        lsh.insert(url, m)
    pairs = [(url, other) for url, m in sigs.items() for other in lsh.query(m) if other != url]
    stories = components(list(texts), pairs)
    print(json.dumps({"seconds": time.perf_counter() - started, "articles": len(texts), "stories": len(stories)}))
    return 0


def child_sign(db: str) -> int:
    """The signature stage alone (``dedupe.stages.sign_changed`` of every article), in wall and CPU seconds:
    CPU time is what one core spends, whatever else the machine runs. The compiled permutation kernel is loaded
    before the clock starts (a process pays it once, like datasketch's import) and its CPU seconds given apart.
    Prints JSON."""
    store = Store(db)
    options = GroupingOptions()
    lsh_bands(options.lsh_threshold, options.num_perm)   # datasketch imported before the clock starts
    corpus = read_corpus(store, options, True)
    furniture = find_furniture(corpus, options)
    plan = plan_signing(corpus, furniture, True)
    load_cpu = time.process_time()
    sign(np.zeros(1, dtype=np.uint32), SignatureParams(**options.signature_params()))   # numba: import, kernel
    load_cpu = time.process_time() - load_cpu
    wall, cpu = time.perf_counter(), time.process_time()
    sign_changed(store, corpus, plan, furniture, options, True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"articles": len(plan.changed), "wall_s": wall, "cpu_s": cpu, "kernel_load_cpu_s": load_cpu}))
    return 0


def child_lineage(db: str) -> int:
    """Lineage, versions and audit of every story of a rebuilt database, timed story by story (wall seconds),
    summed by story size: is the cost per member flat as stories grow? Prints JSON."""
    store = Store(db)
    options = GroupingOptions()
    evidence = LineageEvidence(store, find_furniture(read_corpus(store, options, False), options))
    groups: dict[str, list[str]] = {}
    for url, story in store.member_stories().items():
        groups.setdefault(story, []).append(url)
    ordered = sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])
    by_size: dict[int, list[float]] = {}
    for arts in articles_by_group(store, ordered, options.lineage_batch):
        started = time.perf_counter()
        members = [evidence.member(a) for a in arts]
        decisions = decide(members, evidence.generic, options.lineage)
        find_versions(members, decisions, options.lineage)
        audit_story(members, decisions)
        bucket = by_size.setdefault(min(len(arts), 2 ** (len(arts).bit_length() - 1)), [0, 0.0, 0])
        bucket[0] += 1
        bucket[1] += time.perf_counter() - started
        bucket[2] += len(arts)
    print(json.dumps({str(size): {"stories": n, "members": m, "us_per_member": 1e6 * cpu / m}
                      for size, (n, cpu, m) in sorted(by_size.items())}))
    return 0


def syndtrace(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("syndtrace")
    cmd = ([exe] if exe else [sys.executable, "-m", "cli.app"]) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def fresh_copy(db: str, copy: str) -> str:
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)
    shutil.copyfile(db, copy)
    return copy


def run_plain(db: str) -> dict:
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child-plain", db], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_sign(db: str, work: str) -> dict:
    copy = fresh_copy(db, os.path.join(work, "sign.db"))
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child-sign", copy], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_rebuild(db: str, work: str) -> dict:
    copy = fresh_copy(db, os.path.join(work, "rebuild.db"))
    started = time.perf_counter()
    done = syndtrace("rebuild", "--json", "--quiet", "--db", copy)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"syndtrace rebuild failed: {done.stderr[-2000:]}")
    return {"seconds": seconds, "report": json.loads(done.stdout)}


def ingest_once(warc: str, db: str) -> None:
    if os.path.exists(db):
        return
    print(f"ingesting {warc} into {db} (once)", flush=True)
    done = syndtrace("ingest", warc, "--db", db, "--quiet")
    if done.returncode != 0:
        raise SystemExit(f"syndtrace ingest failed: {done.stderr[-2000:]}")


def summary(rounds: list[dict]) -> dict:
    best_plain = min(r["plain"]["seconds"] for r in rounds)
    best = min(rounds, key=lambda r: r["rebuild"]["seconds"])
    report = best["rebuild"]["report"]
    stages = report["timings"]
    return {"plain_s": best_plain, "rebuild_s": best["rebuild"]["seconds"],
            "ratio_best": best_plain / best["rebuild"]["seconds"],
            "ratio_per_round": [r["plain"]["seconds"] / r["rebuild"]["seconds"] for r in rounds],
            "signature_articles_per_s": report["signed"] / max(stages["signature"], 1e-9),
            # "save" is a part of "lineage" (its rows are written batch by batch): the share is tracing's alone
            "lineage_share": (stages["lineage"] - stages.get("save", 0.0)) / best["rebuild"]["seconds"], "stages": stages,
            "articles": report["articles"], "stories": report["stories"]}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child-plain":
        return child_plain(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "--child-sign":
        return child_sign(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "--child-lineage":
        return child_lineage(sys.argv[2])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warc", required=True, help="the crawled web as one WARC")
    ap.add_argument("--db", default="/tmp/syndtrace-rebuild/web.db", help="ingested once, then reused")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = ap.parse_args()
    work = os.path.dirname(os.path.abspath(args.db))
    os.makedirs(work, exist_ok=True)
    ingest_once(args.warc, args.db)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; {args.db}", flush=True)
    rounds = []
    for i in range(args.rounds):
        before = load()
        plain = run_plain(args.db)
        rebuild = run_rebuild(args.db, work)
        rounds.append({"plain": plain, "rebuild": rebuild, "load_before": before, "load_after": load()})
        print(f"round {i + 1}: plain recipe {plain['seconds']:7.1f} s ({plain['stories']} stories), rebuild "
              f"{rebuild['seconds']:6.1f} s ({rebuild['report']['stories']} stories): "
              f"{plain['seconds'] / rebuild['seconds']:.2f}x; load {before} -> {load()}", flush=True)
    signing = run_sign(args.db, work)
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child-lineage", os.path.join(work, "rebuild.db")],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    lineage = json.loads(done.stdout.strip().splitlines()[-1])
    out = summary(rounds)
    out["sign_alone"], out["lineage_by_size"] = signing, lineage
    print(f"best of each: plain {out['plain_s']:.1f} s, rebuild {out['rebuild_s']:.1f} s: {out['ratio_best']:.2f}x")
    print(f"signature stage: {out['signature_articles_per_s']:.0f} articles/s ({out['articles']} articles); "
          f"lineage {out['lineage_share']:.1%} of the rebuild")
    print(f"signature stage alone: {signing['articles'] / signing['wall_s']:.0f} articles/s wall, "
          f"{signing['articles'] / signing['cpu_s']:.0f} articles per CPU second (one core; loading the compiled "
          f"kernel before it: {signing['kernel_load_cpu_s']:.2f} CPU s)")
    print("lineage µs per member, by story size (members: stories): " + ", ".join(
        f"{size}+: {v['us_per_member']:.0f} ({v['stories']})" for size, v in lineage.items()))
    print("stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in out["stages"].items()))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"summary": out, "rounds": rounds}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
