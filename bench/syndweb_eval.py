"""Crawl a generated syndweb end to end and score the result (the independent yardstick).

    python bench/syndweb_eval.py --seed 1 --stories 400 [--syndweb ../shared/syndweb] [--workdir /tmp/sw]

Generates the web, serves it with syndweb's own server (virtual host + proxy, access log), runs
``syndtrace crawl`` through it, exports JSON, and prints score.py's table with the crawl-log audit.
Not a test: it needs ../shared and takes minutes on large webs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stories", type=int, default=400)
    ap.add_argument("--syndweb", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "syndweb"))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--extra", action="append", default=[], help="syndweb plugin(s) for unseen layouts/phrasings")
    ap.add_argument("--reuse", action="store_true", help="keep an existing generated web and DB")
    ap.add_argument("--recrawl", action="store_true", help="crawl a second time and audit re-downloads")
    ap.add_argument("--kill-after", type=float, default=0,
                    help="SIGKILL the first crawl (and its crawl process) after this many seconds, then resume it")
    args = ap.parse_args()

    syndweb = os.path.abspath(args.syndweb)
    work = args.workdir or f"/tmp/syndweb-eval-{args.seed}-{args.stories}"
    web, db = os.path.join(work, "web"), os.path.join(work, "syndtrace.db")
    log, result = os.path.join(work, "access.jsonl"), os.path.join(work, "result.json")
    os.makedirs(work, exist_ok=True)
    if not (args.reuse and os.path.exists(os.path.join(web, "truth.json"))):
        cmd = [sys.executable, os.path.join(syndweb, "generate.py"), "--out", web, "--stories", str(args.stories),
               "--seed", str(args.seed)]
        for extra in args.extra:
            cmd += ["--extra", extra]
        subprocess.run(cmd, check=True)
        for path in (db, db + "-wal", db + "-shm", log):
            if os.path.exists(path):
                os.remove(path)
    server = subprocess.Popen([sys.executable, os.path.join(syndweb, "serve.py"), web, "--port", "0", "--log", log],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        deadline = time.time() + 20
        while port is None and time.time() < deadline:
            line = server.stdout.readline()
            m = re.search(r"127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
        if port is None:
            raise SystemExit("syndweb server did not start")
        seeds = os.path.join(web, "seeds.txt")
        crawl = ["syndtrace", "crawl", "--seeds-file", seeds, "--proxy", f"http://127.0.0.1:{port}", "--delay", "0",
                 "--concurrency", str(args.concurrency), "--per-site", "8", "--db", db, "--quiet"]
        if args.kill_after:
            victim = subprocess.Popen(crawl, start_new_session=True)
            time.sleep(args.kill_after)
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()
            print(f"crawl killed with SIGKILL after {args.kill_after:.0f} s; resuming", flush=True)
        for attempt in range(2 if args.recrawl else 1):
            start = time.time()
            subprocess.run(crawl, check=True)
            print(f"crawl {attempt + 1}: {time.time() - start:.1f} s", flush=True)
            if attempt == 0 and args.recrawl:
                with open(log) as fh:
                    first_log_lines = sum(1 for _ in fh)
        if args.recrawl:
            with open(os.path.join(web, "truth.json")) as fh:
                truth = json.load(fh)
            articles = {u for u, e in truth["pages"].items() if e["page_type"] == "article"}
            with open(log) as fh:
                second = [json.loads(line) for line in list(fh)[first_log_lines:]]
            refetched = {f"http://{r['host']}{r['path']}".rstrip("/") for r in second if r["status"] == 200}
            again = len([u for u in articles if u.rstrip("/") in refetched])
            print(f"second crawl re-downloaded {again} of {len(articles)} article pages "
                  f"({again / max(len(articles), 1):.1%}); statuses: "
                  f"{dict(sorted(__import__('collections').Counter(r['status'] for r in second).items()))}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    conn = sqlite3.connect(db)
    rows, distinct = conn.execute("select count(*), count(distinct url) from fetches").fetchone()
    articles = conn.execute("select count(*) from articles").fetchone()[0]
    print(f"database: {rows} capture rows for {distinct} URLs, {articles} article rows, "
          f"integrity {conn.execute('pragma integrity_check').fetchone()[0]}")
    conn.close()
    subprocess.run(["syndtrace", "export", "--format", "json", "-o", result, "--db", db], check=True)
    subprocess.run([sys.executable, os.path.join(syndweb, "score.py"), "--truth", os.path.join(web, "truth.json"),
                    "--result", result, "--log", log], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
