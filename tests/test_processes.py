"""A run's processes live and stop together (issue 17): a killed command takes its crawl process and
extraction workers with it and frees the database; SIGTERM is a clean stop, recorded as such."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from crawler.localserver import LocalWeb
from tests.conftest import query
from tests.test_crawl import article, write
from tests.test_faults import article_html
from tests.test_hostile_files import write_warc

CLI = [sys.executable, "-m", "cli.app"]


def children(pid: int) -> set[int]:
    """Every descendant of a process, from /proc."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as fh:
                    kids = {int(k) for k in fh.read().split()}
            except FileNotFoundError:
                continue
            todo.extend(kids - found)
            found |= kids
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(condition, timeout: float = 60.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def count(db: str, table: str) -> int:
    try:
        return query(db, f"select count(*) from {table}")[0][0]
    except Exception:  # noqa: BLE001 (not created yet)
        return 0


# -- item 3: a killed `rebuild --extract` leaves no worker holding the lock ---------------------------------

def test_killed_rebuild_extract_leaves_no_process_and_no_lock(tmp_path):
    warc = tmp_path / "pages.warc.gz"
    write_warc(warc, [(f"http://one.example/news/story-{i}.html", "text/html; charset=utf-8",
                       article_html(f"Story {i}", 12).encode()) for i in range(400)])
    db = str(tmp_path / "rebuild.db")
    assert subprocess.run(CLI + ["ingest", str(warc), "--db", db, "--quiet"], check=False).returncode == 0
    proc = subprocess.Popen(CLI + ["rebuild", "--extract", "--db", db, "--quiet"], stderr=subprocess.DEVNULL)
    assert wait_until(lambda: len(children(proc.pid)) >= 2), "the rebuild started no extraction workers"
    workers = children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert wait_until(lambda: not any(alive(w) for w in workers), timeout=10), "extraction workers outlived their run"
    again = subprocess.run(CLI + ["rebuild", "--extract", "--db", db, "--quiet"], capture_output=True, text=True,
                           timeout=300, check=False)
    assert again.returncode == 0, again.stderr   # and re-extraction commits as it reads, page after page


# -- item 4: SIGTERM stops the whole crawl, records it, frees the database -------------------------------

@pytest.fixture
def slow_web(tmp_path):
    root = str(tmp_path / "sites")
    links = "".join(f'<a href="/2021/03/story-{i}.html">s{i}</a>' for i in range(60))
    write(root, "slow.example", "/", f"<html><body>{links}</body></html>")
    write(root, "slow.example", "/robots.txt", "User-agent: *\nAllow: /\n")
    for i in range(60):
        write(root, "slow.example", f"/2021/03/story-{i}.html", article(f"Slow story {i}"))
    with LocalWeb(root, latency=0.25) as server:
        yield server


def crawl_cmd(web, db: str) -> list[str]:
    return CLI + ["crawl", "http://slow.example/", "--proxy", web.proxy, "--delay", "0", "--per-site", "2",
                  "--db", db]


def test_sigterm_stops_the_whole_crawl_and_records_it(slow_web, tmp_path):
    db = str(tmp_path / "term.db")
    proc = subprocess.Popen(crawl_cmd(slow_web, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: count(db, "fetches") >= 4), "the crawl did not start"
    crawlers = children(proc.pid)
    proc.send_signal(signal.SIGTERM)   # the parent only, as `kill PID` does
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err, err
    assert not any(alive(c) for c in crawlers), "the crawl process outlived its command"
    fetched = len(slow_web.requests)
    time.sleep(1.0)
    assert len(slow_web.requests) == fetched   # nothing crawls on
    assert [r["status"] for r in query(db, "select status from runs")] == ["stopped"]
    again = subprocess.run(crawl_cmd(slow_web, db), capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr   # the lock was released; the next run completes the crawl
    assert count(db, "articles") == 61


def test_kill_9_of_a_crawl_takes_its_crawl_process_and_is_marked_killed(slow_web, tmp_path):
    db = str(tmp_path / "kill.db")
    proc = subprocess.Popen(crawl_cmd(slow_web, db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_until(lambda: count(db, "fetches") >= 4), "the crawl did not start"
    crawlers = children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert wait_until(lambda: not any(alive(c) for c in crawlers), timeout=10), "the crawl process outlived its command"
    assert subprocess.run(CLI + ["status", "--db", db], capture_output=True, check=False).returncode == 0
    again = subprocess.run(crawl_cmd(slow_web, db), capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in query(db, "select status from runs order by id")] == ["killed", "finished"]


_DYING_POOL = """
import os, signal, sys
from dedupe.pool import KernelPool, WorkerDiedError

def die_on_third(i, payload):
    if i == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return payload   # results big enough to fill the pipe back, too

if __name__ == "__main__":
    try:
        with KernelPool(2) as pool:   # batches big enough to fill the pipe to the workers
            list(pool.map(die_on_third, ((i, (i, b"x" * 100_000)) for i in range(40))))
    except WorkerDiedError as exc:
        print(exc)
"""


def test_a_grouping_worker_that_dies_stops_the_pass_with_one_line_not_a_hang(tmp_path):
    """The executor stops the other workers with SIGTERM, which they ignore (their parent stops them), and a
    worker blocked handing back a result no one reads kept it waiting for ever."""
    script = tmp_path / "dying_pool.py"
    script.write_text(_DYING_POOL)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(script)], check=False, capture_output=True, text=True, timeout=60,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("a grouping worker process died in die_on_third") and done.stdout.count("\n") == 1
