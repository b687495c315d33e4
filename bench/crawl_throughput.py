"""Crawl throughput: ``syndtrace crawl`` (fetch + extract + store, then group) against a bare Scrapy fetch of
the same pages, same server, same concurrency, in the same run.

    python bench/crawl_throughput.py [--stories 400] [--seed 7] [--concurrency 16] [--per-site 8]
                                     [--rounds 2] [--syndweb ../shared/syndweb] [--workdir /tmp/syndtrace-crawl]

A syndweb web is generated and served by syndweb's own server (virtual hosts + HTTP proxy, access log,
127.0.0.1 only). ``syndtrace crawl --delay 0 --concurrency C --per-site P`` crawls it into a fresh
database; the server's access log then gives every request syndtrace made (robots.txt, sitemaps, feeds,
listings, articles, 404s, redirect hops). The baseline is a minimal Scrapy spider that requests exactly
that list through the same proxy, with the same concurrency limits and reactor, and does nothing with
the responses (no robots.txt middleware, no redirects followed, no retries, no storage). Rounds
alternate syndtrace and baseline so both see the same machine load; the best round of each is compared.

Pages/s counts requests answered. ``crawl`` is syndtrace's crawl process (fetch, extraction in worker
processes, SQLite writes); ``crawl + group`` is the whole ``syndtrace crawl`` command, grouping and
tracing included. Both are timed as whole processes, interpreter and Scrapy start-up included, as is
the baseline.
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

import scrapy
from scrapy.crawler import CrawlerProcess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- the baseline spider (runs in a child process) ------------------------------------------------------
def child_baseline(urls_file: str, concurrency: int, per_site: int) -> int:
    """Fetch every URL of the file once, through the *_proxy environment, and drop the responses."""
    with open(urls_file) as fh:
        urls = [line.strip() for line in fh if line.strip()]
    seen = {"responses": 0, "bytes": 0, "started": 0.0, "ended": 0.0}

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            seen["started"] = time.perf_counter()
            for url in urls:
                yield scrapy.Request(url, dont_filter=True, callback=self.parse, errback=self.failed,
                                     meta={"dont_redirect": True, "handle_httpstatus_all": True})

        def parse(self, response):
            seen["responses"] += 1
            seen["bytes"] += len(response.body)
            seen["ended"] = time.perf_counter()

        def failed(self, failure):
            seen["ended"] = time.perf_counter()

    process = CrawlerProcess({
        "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": per_site, "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False, "RETRY_ENABLED": False, "REDIRECT_ENABLED": False,
        "COOKIES_ENABLED": False, "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "ERROR",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7", "USER_AGENT": "bench-baseline",
    })
    process.crawl(Bare)
    process.start()
    print(json.dumps({"responses": seen["responses"], "bytes": seen["bytes"],
                      "fetch_seconds": seen["ended"] - seen["started"]}))
    return 0


# -- the harness -----------------------------------------------------------------------------------------
def start_server(syndweb: str, web: str, log: str) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen([sys.executable, os.path.join(syndweb, "serve.py"), web, "--port", "0", "--log", log],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        m = re.search(r"127\.0\.0\.1:(\d+)", server.stdout.readline())
        if m:
            return server, int(m.group(1))
    server.terminate()
    raise SystemExit("syndweb server did not start")


def log_lines(log: str) -> int:
    return sum(1 for _ in open(log)) if os.path.exists(log) else 0


def requests_since(log: str, start_line: int) -> list[dict]:
    with open(log) as fh:
        return [json.loads(line) for line in list(fh)[start_line:]]


def run_syndtrace(args, seeds: str, port: int, db: str) -> dict:
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    exe = shutil.which("syndtrace")
    cmd = ([exe] if exe else [sys.executable, "-c", "from cli.app import main; main()"]) + [
        "crawl", "--seeds-file", seeds, "--proxy", f"http://127.0.0.1:{port}", "--delay", "0",
        "--concurrency", str(args.concurrency), "--per-site", str(args.per_site), "--db", db]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    total = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"syndtrace crawl failed (exit {done.returncode})")
    m = re.search(r"(\d+) pages fetched in ([\d.]+) s.*?\n(\d+) stories", done.stdout, re.S)
    if not m:
        raise SystemExit(f"unexpected syndtrace output: {done.stdout!r}")
    return {"total_seconds": total, "crawl_seconds": float(m.group(2)), "pages_stored": int(m.group(1)),
            "stories": int(m.group(3))}


def run_baseline(args, urls_file: str, port: int) -> dict:
    env = dict(os.environ, http_proxy=f"http://127.0.0.1:{port}", HTTP_PROXY=f"http://127.0.0.1:{port}")
    cmd = [sys.executable, os.path.abspath(__file__), "--child-baseline", urls_file, str(args.concurrency),
           str(args.per_site)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    total = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"baseline spider failed (exit {done.returncode})")
    return {"total_seconds": total, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child-baseline":
        return child_baseline(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stories", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--per-site", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2, help="syndtrace/baseline pairs, alternated")
    ap.add_argument("--syndweb", default=os.path.join(ROOT, "..", "shared", "syndweb"))
    ap.add_argument("--workdir", default="/tmp/syndtrace-crawl")
    ap.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = ap.parse_args()

    syndweb = os.path.abspath(args.syndweb)
    if not os.path.exists(os.path.join(syndweb, "serve.py")):
        raise SystemExit(f"no syndweb at {syndweb} (give --syndweb PATH)")
    work = os.path.abspath(args.workdir)
    web, log = os.path.join(work, "web"), os.path.join(work, "access.jsonl")
    os.makedirs(work, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(syndweb, "generate.py"), "--out", web, "--stories",
                    str(args.stories), "--seed", str(args.seed), "--quiet"], check=True)
    if os.path.exists(log):
        os.remove(log)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"syndweb --stories {args.stories} --seed {args.seed}; concurrency {args.concurrency}, "
          f"per site {args.per_site}", flush=True)

    server, port = start_server(syndweb, web, log)
    ours, base = [], []
    urls_file = os.path.join(work, "urls.txt")
    try:
        for r in range(args.rounds):
            mark = log_lines(log)
            result = run_syndtrace(args, os.path.join(web, "seeds.txt"), port, os.path.join(work, f"crawl-{r}.db"))
            reqs = [q for q in requests_since(log, mark) if q["method"] in ("GET", "HEAD")]
            result["requests"] = len(reqs)
            result["statuses"] = {str(s): sum(1 for q in reqs if q["status"] == s)
                                  for s in sorted({q["status"] for q in reqs})}
            ours.append(result)
            if r == 0:
                with open(urls_file, "w") as fh:
                    fh.writelines(f"http://{q['host']}{q['path']}\n" for q in reqs)
                n_urls = len(reqs)
            print(f"round {r + 1} syndtrace: {result['requests']} requests, crawl {result['crawl_seconds']:.1f} s, "
                  f"crawl + group {result['total_seconds']:.1f} s, {result['pages_stored']} pages stored, "
                  f"{result['stories']} stories; statuses {result['statuses']}", flush=True)
            mark = log_lines(log)
            result = run_baseline(args, urls_file, port)
            result["requests"] = len(requests_since(log, mark))
            base.append(result)
            print(f"round {r + 1} baseline:  {result['requests']} requests, {result['responses']} responses, "
                  f"{result['total_seconds']:.1f} s (fetching {result['fetch_seconds']:.1f} s)", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)

    b = min(base, key=lambda x: x["total_seconds"])
    crawl = min(ours, key=lambda x: x["crawl_seconds"])
    whole = min(ours, key=lambda x: x["total_seconds"])
    rate = lambda n, s: n / s
    base_rate = rate(b["requests"], b["total_seconds"])
    rows = [("bare Scrapy fetch (baseline)", b["requests"], b["total_seconds"], base_rate),
            ("syndtrace crawl: fetch + extract + store", crawl["requests"], crawl["crawl_seconds"],
             rate(crawl["requests"], crawl["crawl_seconds"])),
            ("syndtrace crawl: + group + trace (whole command)", whole["requests"], whole["total_seconds"],
             rate(whole["requests"], whole["total_seconds"]))]
    print()
    print("| | requests | seconds | pages/s | × baseline |")
    print("|---|---:|---:|---:|---:|")
    for name, n, secs, pps in rows:
        print(f"| {name} | {n} | {secs:.1f} | {pps:.1f} | {pps / base_rate:.2f} |")
    print(f"\n(best of {args.rounds} round(s) each; baseline URL list: the {n_urls} requests of "
          f"syndtrace's first crawl)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"syndtrace": ours, "baseline": base}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
