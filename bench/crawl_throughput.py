"""Crawl throughput: ``syndtrace crawl`` (fetch + extract + store, then group) against a bare Scrapy fetch of
the same pages, same server, same concurrency, in the same run.

    python bench/crawl_throughput.py [--stories 400] [--seed 7] [--concurrency 16] [--per-site 8]
                                     [--rounds 2] [--syndweb ../shared/syndweb] [--workdir /tmp/syndtrace-crawl]
                                     [--other-tree DIR]

A syndweb web is generated and served by syndweb's own server (virtual hosts + HTTP proxy, access log,
127.0.0.1 only). ``syndtrace crawl --delay 0 --concurrency C --per-site P`` crawls it into a fresh
database; the server's access log then gives every request syndtrace made (robots.txt, sitemaps, feeds,
listings, articles, 404s, redirect hops). The baseline is a minimal Scrapy spider that requests exactly
that list through the same proxy, with the same concurrency limits (``CONCURRENT_ITEMS`` included: syndtrace's
setting) and reactor, and does nothing with the responses (no robots.txt middleware, no redirects followed,
no retries, no storage); a second baseline keeps Scrapy's default ``CONCURRENT_ITEMS`` (100), for reference.
Rounds alternate syndtrace and the baselines so all see the same machine load; the best round of each is
compared. ``--other-tree DIR`` crawls with a second checkout too in every round (main against a branch).

CPU seconds (user + system) are given for each process: the baselines' and the whole ``syndtrace crawl``
command's exactly (``getrusage`` of reaped children), the crawl process's and its extraction workers' by
reading ``/proc`` every 0.2 s while the command runs (Linux only; what a process spends in its last 0.2 s
is missed), and the server's from ``/proc`` before and after.

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
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time

import scrapy
from scrapy.crawler import CrawlerProcess

from crawler import settings as crawl_settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRAPY_DEFAULT_ITEMS = 100   # Scrapy's CONCURRENT_ITEMS


# -- the baseline spider (runs in a child process) ------------------------------------------------------
def child_baseline(urls_file: str, concurrency: int, per_site: int, items: int) -> int:
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
        "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": per_site, "CONCURRENT_ITEMS": items,
        "DOWNLOAD_DELAY": 0,
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


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def proc_cpu(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, from /proc; None when it is gone (or not on Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TreeCPU(threading.Thread):
    """Reads the CPU seconds of a command's crawl process (its child running crawler.crawl_process) and of that
    process's children (the extraction workers) every 0.2 s while the command runs."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.done = root, threading.Event()
        self.crawl: dict[int, float] = {}
        self.workers: dict[int, float] = {}

    def run(self) -> None:
        while not self.done.wait(0.2):
            table = {pid: info for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
                     if (info := proc_cpu(pid)) is not None}
            for pid, (ppid, cpu) in table.items():
                if ppid == self.root and _is_crawl_process(pid):
                    self.crawl[pid] = cpu
                elif ppid in self.crawl:
                    self.workers[pid] = cpu

    def stop(self) -> dict:
        self.done.set()
        self.join()
        return {"crawl_cpu": sum(self.crawl.values()), "workers_cpu": sum(self.workers.values()),
                "workers": len(self.workers)}


def _is_crawl_process(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"crawler.crawl_process" in fh.read()
    except OSError:
        return False


def syndtrace_command(tree: str | None) -> tuple[list[str], dict, str]:
    """The command that runs ``syndtrace`` and the folder to run it in: another checkout's code, or the one on
    PATH (tools/tree-env). The crawl process (``python -m``) imports from its working folder first, so each
    command runs in its own checkout."""
    if tree:
        tree = os.path.abspath(tree)
        return [sys.executable, "-P", "-m", "cli.app"], dict(os.environ, PYTHONPATH=tree), tree
    exe = shutil.which("syndtrace")
    return ([exe] if exe else [sys.executable, "-c", "from cli.app import main; main()"]), dict(os.environ), ROOT


def run_syndtrace(args, seeds: str, port: int, db: str, server_pid: int, tree: str | None = None) -> dict:
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    cmd, env, cwd = syndtrace_command(tree)
    cmd += ["crawl", "--seeds-file", seeds, "--proxy", f"http://127.0.0.1:{port}", "--delay", "0",
            "--concurrency", str(args.concurrency), "--per-site", str(args.per_site), "--db", db]
    server_before, cpu_before = proc_cpu(server_pid), children_cpu()
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
    tree_cpu = TreeCPU(child.pid)
    tree_cpu.start()
    stdout, stderr = child.communicate()
    total = time.perf_counter() - start
    cpu = tree_cpu.stop()
    if child.returncode != 0:
        sys.stderr.write(stderr[-4000:])
        raise SystemExit(f"syndtrace crawl failed (exit {child.returncode})")
    m = re.search(r"(\d+) pages fetched in ([\d.]+) s.*?\n(\d+) stories", stdout, re.S)
    if not m:
        raise SystemExit(f"unexpected syndtrace output: {stdout!r}")
    return {"total_seconds": total, "crawl_seconds": float(m.group(2)), "pages_stored": int(m.group(1)),
            "stories": int(m.group(3)), "command_cpu": children_cpu() - cpu_before, **cpu,
            "server_cpu": _server_cpu(server_pid, server_before)}


def _server_cpu(pid: int, before: tuple[int, float] | None) -> float | None:
    after = proc_cpu(pid)
    return after[1] - before[1] if after and before else None


def run_baseline(args, urls_file: str, port: int, server_pid: int, items: int) -> dict:
    env = dict(os.environ, http_proxy=f"http://127.0.0.1:{port}", HTTP_PROXY=f"http://127.0.0.1:{port}")
    cmd = [sys.executable, os.path.abspath(__file__), "--child-baseline", urls_file, str(args.concurrency),
           str(args.per_site), str(items)]
    server_before, cpu_before = proc_cpu(server_pid), children_cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    total = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"baseline spider failed (exit {done.returncode})")
    return {"total_seconds": total, "cpu": children_cpu() - cpu_before, "items": items,
            "server_cpu": _server_cpu(server_pid, server_before), **json.loads(done.stdout.strip().splitlines()[-1])}


def crawl_round(args, label: str, tree: str | None, r: int, paths: dict, port: int, server_pid: int) -> dict:
    """One syndtrace crawl into a fresh database, with the requests it made (from the server's log)."""
    mark = log_lines(paths["log"])
    db = os.path.join(paths["work"], f"crawl-{'other' if tree else 'this'}-{r}.db")
    result = run_syndtrace(args, paths["seeds"], port, db, server_pid, tree)
    reqs = [q for q in requests_since(paths["log"], mark) if q["method"] in ("GET", "HEAD")]
    result.update(label=label, round=r + 1, requests=len(reqs),
                  statuses={str(s): sum(1 for q in reqs if q["status"] == s) for s in sorted({q["status"] for q in reqs})})
    if not os.path.exists(paths["urls"]):
        with open(paths["urls"], "w") as fh:
            fh.writelines(f"http://{q['host']}{q['path']}\n" for q in reqs)
    print(f"round {r + 1} {label}: {result['requests']} requests, crawl {result['crawl_seconds']:.1f} s, "
          f"crawl + group {result['total_seconds']:.1f} s, {result['pages_stored']} pages stored, "
          f"{result['stories']} stories; CPU s: crawl process {result['crawl_cpu']:.1f}, "
          f"{result['workers']} workers {result['workers_cpu']:.1f}, whole command {result['command_cpu']:.1f}, "
          f"server {result['server_cpu'] or 0:.1f}; statuses {result['statuses']}", flush=True)
    return result


def baseline_round(args, items: int, r: int, paths: dict, port: int, server_pid: int) -> dict:
    mark = log_lines(paths["log"])
    result = run_baseline(args, paths["urls"], port, server_pid, items)
    result.update(label=f"bare Scrapy, CONCURRENT_ITEMS {items}", round=r + 1,
                  requests=len(requests_since(paths["log"], mark)))
    print(f"round {r + 1} {result['label']}: {result['requests']} requests, {result['responses']} responses, "
          f"{result['total_seconds']:.1f} s (fetching {result['fetch_seconds']:.1f} s), CPU {result['cpu']:.1f} s, "
          f"server {result['server_cpu'] or 0:.1f} s", flush=True)
    return result


def report(crawls: dict[str, list[dict]], baselines: dict[int, list[dict]], rounds: int) -> None:
    """The best round of each: times and rates against each baseline, and CPU per request."""
    best = {items: min(runs, key=lambda x: x["total_seconds"]) for items, runs in baselines.items()}
    fair = best[crawl_settings.CONCURRENT_ITEMS]
    rows = [(b["label"] + (" (baseline)" if b is fair else ""), b["requests"], b["total_seconds"], b["cpu"], None)
            for b in best.values()]
    for label, runs in crawls.items():
        crawl = min(runs, key=lambda x: x["crawl_seconds"])
        whole = min(runs, key=lambda x: x["total_seconds"])
        rows.append((f"{label}: fetch + extract + store", crawl["requests"], crawl["crawl_seconds"],
                     crawl["crawl_cpu"], crawl["workers_cpu"]))
        rows.append((f"{label}: + group + trace (whole command)", whole["requests"], whole["total_seconds"],
                     whole["command_cpu"], None))
    heads = " | ".join(f"× {b['label'].removeprefix('bare Scrapy, ')}" for b in best.values())
    print(f"\n| | requests | seconds | pages/s | {heads} | CPU ms/request (crawl process + workers) |")
    print("|---|---:|---:|---:|" + "---:|" * len(best) + "---:|")
    for name, n, secs, cpu, workers in rows:
        ratios = " | ".join(f"{b['total_seconds'] / secs:.2f}" for b in best.values())
        cpu_text = f"{1000 * cpu / n:.1f}" + (f" + {1000 * workers / n:.1f}" if workers is not None else "")
        print(f"| {name} | {n} | {secs:.1f} | {n / secs:.1f} | {ratios} | {cpu_text} |")
    print(f"\n(best of {rounds} round(s) each; the baseline URL list is the {fair['requests']} requests of the first "
          f"crawl; the whole command's CPU includes grouping)")


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--child-baseline":
        return child_baseline(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stories", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--per-site", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2, help="syndtrace/baseline pairs, alternated")
    ap.add_argument("--syndweb", default=os.path.join(ROOT, "..", "shared", "syndweb"))
    ap.add_argument("--workdir", default="/tmp/syndtrace-crawl")
    ap.add_argument("--other-tree", default=None, help="also crawl with this checkout's code in every round")
    ap.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = ap.parse_args()

    syndweb = os.path.abspath(args.syndweb)
    if not os.path.exists(os.path.join(syndweb, "serve.py")):
        raise SystemExit(f"no syndweb at {syndweb} (give --syndweb PATH)")
    work = os.path.abspath(args.workdir)
    paths = {"work": work, "web": os.path.join(work, "web"), "log": os.path.join(work, "access.jsonl"),
             "urls": os.path.join(work, "urls.txt"), "seeds": os.path.join(work, "web", "seeds.txt")}
    os.makedirs(work, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(syndweb, "generate.py"), "--out", paths["web"], "--stories",
                    str(args.stories), "--seed", str(args.seed), "--quiet"], check=True)
    for stale in (paths["log"], paths["urls"]):
        if os.path.exists(stale):
            os.remove(stale)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"syndweb --stories {args.stories} --seed {args.seed}; concurrency {args.concurrency}, "
          f"per site {args.per_site}; os.getloadavg() {os.getloadavg()}", flush=True)

    trees = {"syndtrace": None, **({f"syndtrace {args.other_tree}": args.other_tree} if args.other_tree else {})}
    crawls: dict[str, list[dict]] = {label: [] for label in trees}
    baselines: dict[int, list[dict]] = {items: [] for items in (crawl_settings.CONCURRENT_ITEMS, SCRAPY_DEFAULT_ITEMS)}
    server, port = start_server(syndweb, paths["web"], paths["log"])
    try:
        for r in range(args.rounds):
            for label, tree in trees.items():
                crawls[label].append(crawl_round(args, label, tree, r, paths, port, server.pid))
            for items, runs in baselines.items():
                runs.append(baseline_round(args, items, r, paths, port, server.pid))
            print(f"  load average {os.getloadavg()}", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    report(crawls, baselines, args.rounds)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"crawls": crawls, "baselines": {str(k): v for k, v in baselines.items()}}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
