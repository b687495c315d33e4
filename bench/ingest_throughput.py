"""Ingest throughput: ``syndtrace ingest`` of a crawled syndweb written to one WARC, against plain trafilatura
extracting the same pages one after another, in the same run.

    python bench/ingest_throughput.py --warc /tmp/syndtrace-ingest/web.warc.gz
                                      [--build --stories 4000 --seed 4 --syndweb ../shared/syndweb]
                                      [--rounds 2] [--workdir /tmp/syndtrace-ingest] [--json FILE]

``--build`` (or a missing ``--warc``) generates the syndweb web, serves it with syndweb's own server on
127.0.0.1, crawls it once with ``syndtrace crawl`` and writes every stored capture to the WARC (third-party
pages are never involved: syndweb's are synthetic). Then, in alternating rounds so that all see the same
machine load:

- **trafilatura**: ``trafilatura.bare_extraction(html, url=url, with_metadata=True)`` (body and metadata, the
  plain recipe) on every HTML response record, serially, in one process; time per page;
- **ingest**: the whole ``syndtrace ingest WARC`` command into a fresh database (reading, storing, extraction
  in the pool, grouping and tracing), interpreter start-up included; time per record;
- **ingest, one process**: the same library calls with extraction in the ingesting process
  (``ingest_files(..., workers=1)`` then ``update_stories``); time per record.

The best round of each is compared; the figures print as ratios to trafilatura's time per page.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time

import trafilatura
from warcio.archiveiterator import ArchiveIterator

from crawler.storage.store import Store
from crawler.warc import ingest_files, write_story_warc
from dedupe.pipeline import update_stories

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child_trafilatura(warc: str) -> int:
    """Plain trafilatura over every HTML response record, one after another: seconds and pages."""
    pages = []
    with open(warc, "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type == "response" and rec.http_headers is not None and \
                    "html" in (rec.http_headers.get_header("Content-Type") or ""):
                pages.append((rec.rec_headers.get_header("WARC-Target-URI"), rec.content_stream().read()))
    started = time.perf_counter()
    for url, body in pages:
        trafilatura.bare_extraction(body, url=url, with_metadata=True)
    print(json.dumps({"pages": len(pages), "seconds": time.perf_counter() - started}))
    return 0


def child_serial_ingest(db: str, warc: str) -> int:
    """The library's ingest with extraction in this process, then grouping: seconds and records."""
    started = time.perf_counter()
    store = Store(db)
    report = ingest_files(store, [warc], workers=1)
    update_stories(store, run_id=report.run_id)
    print(json.dumps({"records": report.records, "seconds": time.perf_counter() - started}))
    return 0


def fresh(db: str) -> str:
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    return db


def syndtrace(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("syndtrace")
    cmd = ([exe] if exe else [sys.executable, "-m", "cli.app"]) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)


def build_warc(args, warc: str) -> None:
    """Generate, serve and crawl a syndweb web once, then write every stored capture to ``warc``."""
    work = os.path.abspath(args.workdir)
    web, db = os.path.join(work, "web"), fresh(os.path.join(work, "crawl.db"))
    subprocess.run([sys.executable, os.path.join(args.syndweb, "generate.py"), "--out", web, "--stories",
                    str(args.stories), "--seed", str(args.seed), "--quiet"], check=True)
    server = subprocess.Popen([sys.executable, os.path.join(args.syndweb, "serve.py"), web, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        while port is None:
            m = re.search(r"127\.0\.0\.1:(\d+)", server.stdout.readline())
            port = m and int(m.group(1))
        done = syndtrace("crawl", "--seeds-file", os.path.join(web, "seeds.txt"), "--proxy",
                         f"http://127.0.0.1:{port}", "--delay", "0", "--concurrency", "16", "--per-site", "8",
                         "--db", db, "--quiet")
        if done.returncode != 0:
            raise SystemExit(f"the crawl failed: {done.stderr[-2000:]}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    store = Store(db)
    urls = [r["url"] for r in store.iter_fetches()]
    print(f"built {warc}: {write_story_warc(store, urls, warc)} records", flush=True)


def run_round(warc: str, work: str) -> dict:
    out = {}
    child = [sys.executable, os.path.abspath(__file__)]
    done = subprocess.run(child + ["--child-trafilatura", warc], capture_output=True, text=True, cwd=ROOT, check=True)
    out["trafilatura"] = json.loads(done.stdout.strip().splitlines()[-1])
    started = time.perf_counter()
    done = syndtrace("ingest", warc, "--db", fresh(os.path.join(work, "ingest.db")), "--quiet")
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"syndtrace ingest failed: {done.stderr[-2000:]}")
    out["ingest"] = {"seconds": seconds}
    done = subprocess.run(child + ["--child-serial", fresh(os.path.join(work, "serial.db")), warc],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    out["serial"] = json.loads(done.stdout.strip().splitlines()[-1])
    out["ingest"]["records"] = out["serial"]["records"]
    return out


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child-trafilatura":
        return child_trafilatura(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "--child-serial":
        return child_serial_ingest(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warc", default=None)
    ap.add_argument("--build", action="store_true", help="crawl a syndweb web and write the WARC first")
    ap.add_argument("--stories", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--syndweb", default=os.path.join(ROOT, "..", "shared", "syndweb"))
    ap.add_argument("--workdir", default="/tmp/syndtrace-ingest")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = ap.parse_args()
    args.syndweb = os.path.abspath(args.syndweb)
    os.makedirs(args.workdir, exist_ok=True)
    warc = os.path.abspath(args.warc or os.path.join(args.workdir, "web.warc.gz"))
    if args.build or not os.path.exists(warc):
        build_warc(args, warc)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}; {warc}", flush=True)
    rounds = []
    for r in range(args.rounds):
        rounds.append(run_round(warc, os.path.abspath(args.workdir)))
        print(f"round {r + 1}: {json.dumps(rounds[-1])}", flush=True)
    best = {k: min((x[k] for x in rounds), key=lambda v: v["seconds"]) for k in rounds[0]}
    per_page = best["trafilatura"]["seconds"] / best["trafilatura"]["pages"] * 1000
    rows = [("plain trafilatura, serial (per HTML page)", best["trafilatura"]["pages"], per_page),
            ("syndtrace ingest, whole command (per record)", best["ingest"]["records"],
             best["ingest"]["seconds"] / best["ingest"]["records"] * 1000),
            ("syndtrace ingest, extraction in one process (per record)", best["serial"]["records"],
             best["serial"]["seconds"] / best["serial"]["records"] * 1000)]
    print("\n| | pages or records | ms each | × trafilatura |\n|---|---:|---:|---:|")
    for name, n, ms in rows:
        print(f"| {name} | {n} | {ms:.2f} | {ms / per_page:.2f} |")
    print(f"\n(best of {args.rounds} round(s) each; load average now {os.getloadavg()[0]:.1f})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rounds, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
