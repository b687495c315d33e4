"""What a person sees of a real crawl on 127.0.0.1: live progress from the crawl process, the end summary in
words, failed pages listed, honest exits, and what changed between two runs (new stories, new copies, gone
copies)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from crawler.localserver import LocalWeb
from crawler.options import CrawlOptions
from crawler.run import run_crawl
from tests.test_crawl import article, write
from tests.test_output import run_in_terminal, visible

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
ORIGIN, COPIER = "origin.example", "copier.example"


def credit(i: int) -> str:
    return f'<p>This article first appeared in <a href="http://{ORIGIN}/news/story-{i}.html">Origin</a>.</p>'


def build(root: str, stories: int = 4, copies: tuple[int, ...] = (0, 1)) -> None:
    links = "".join(f'<a href="/news/story-{i}.html">s{i}</a>' for i in range(stories))
    write(root, ORIGIN, "/", f'<html><body>{links}<a href="/missing.html">old</a><a href="/private/x.html">p</a>'
                             "</body></html>")
    write(root, ORIGIN, "/robots.txt", "User-agent: *\nDisallow: /private/\n")
    for i in range(stories):
        write(root, ORIGIN, f"/news/story-{i}.html", article(f"Origin story number {i}"))
    links = "".join(f'<a href="/copy-{i}.html">c{i}</a>' for i in copies)
    write(root, COPIER, "/", f"<html><body>{links}</body></html>")
    for i in copies:
        write(root, COPIER, f"/copy-{i}.html", article(f"Origin story number {i}", extra=credit(i), date="2021-03-06"))


@pytest.fixture
def news_web(tmp_path):
    root = str(tmp_path / "sites")
    build(root)
    with LocalWeb(root, latency=0.05) as web:
        yield web, root


def cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def seeds(web) -> list[str]:
    return [f"http://{ORIGIN}/", f"http://{COPIER}/", "--proxy", web.proxy, "--delay", "0"]


def test_the_summary_says_what_failed_in_words_and_status_lists_it(news_web, tmp_path):
    web, _root = news_web
    db = tmp_path / "n.db"
    result = cli("crawl", *seeds(web), "--db", db)
    assert result.exit_code == 0, result.output
    # the missing page and each site's /sitemap.xml, which robots.txt did not name and the crawler tried
    assert "not fetched: 3 not found (404), 1 refused by robots.txt" in result.stdout
    assert "stories, 2 with copies" in result.stdout
    failed = json.loads(cli("status", "--errors", "--json", "--db", db).stdout)
    assert sorted((f["url"], f["status"], f["why"]) for f in failed) == [
        (f"http://{COPIER}/sitemap.xml", 404, "not found (404)"), (f"http://{ORIGIN}/missing.html", 404, "not found (404)"),
        (f"http://{ORIGIN}/sitemap.xml", 404, "not found (404)")]


def test_progress_comes_from_the_crawl_process_while_it_runs(tmp_path):
    root = str(tmp_path / "sites")
    build(root, stories=10, copies=())
    events = []
    with LocalWeb(root, latency=0.25) as web:
        options = CrawlOptions(seeds=(f"http://{ORIGIN}/",), proxy=web.proxy, delay=0, concurrency=1, per_site=1,
                               autothrottle=False, extract_workers=1)
        report = run_crawl(str(tmp_path / "p.db"), options, on_event=events.append)
    progress = [e for e in events if e["kind"] == "progress"]
    final = [e for e in events if e["kind"] == "final"]
    assert progress and len(final) == 1, events
    assert any(e["fetched"] > 0 and e["queued"] + e["in_flight"] > 0 for e in progress)   # seen mid-crawl
    assert final[0]["fetched"] == report.pages_fetched == 11            # the home page and its 10 stories
    assert final[0]["outcomes"]["not_found"] == 2 and final[0]["sites"][ORIGIN]["fetched"] == 11
    assert report.outcomes == final[0]["outcomes"]


def test_a_terminal_shows_the_crawl_live(news_web, tmp_path):
    web, _root = news_web
    db = tmp_path / "live.db"
    screen = run_in_terminal(["crawl", *seeds(web), "--db", str(db)], columns=80)
    assert "pages fetched" in screen and "queued" in screen and "in flight" in screen, screen
    lines = visible(screen)
    assert any(line.startswith("crawl run 1: ") for line in lines) and "Traceback" not in screen


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crawl_process(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-P", "-m", "cli.app", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False, cwd=cwd)


def test_the_crawl_process_runs_syndtrace_not_a_crawler_package_of_the_working_folder(tmp_path):
    decoy = tmp_path / "crawler"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("")
    (decoy / "crawl_process.py").write_text(f"open({str(tmp_path / 'decoy-ran')!r}, 'w').close()\n")
    done = crawl_process("crawl", f"http://127.0.0.1:{closed_port()}/", "--delay", "0", "--db",
                         str(tmp_path / "d.db"), cwd=tmp_path)
    assert not (tmp_path / "decoy-ran").exists()
    assert done.returncode == 4 and "nothing could be fetched" in done.stderr, done.stderr


def test_a_crawl_that_can_fetch_nothing_exits_4_with_one_line(tmp_path):
    db = str(tmp_path / "f.db")
    port = closed_port()
    proxy = crawl_process("crawl", "http://news.example/", "--proxy", f"http://user:pw@127.0.0.1:{port}", "--db", db)
    assert proxy.returncode == 4 and proxy.stdout == ""
    expected = f"Error: cannot reach the proxy http://127.0.0.1:{port} (Connection refused); nothing was crawled"
    assert proxy.stderr.strip().splitlines() == [expected]
    seeds = crawl_process("crawl", f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{closed_port()}/", "--delay", "0",
                          "--db", db)
    assert seeds.returncode == 4, seeds.stderr
    assert seeds.stderr.strip().splitlines()[-1].startswith("Error: nothing could be fetched: 2 connections refused")
    assert "Traceback" not in seeds.stderr and len(seeds.stderr.strip().splitlines()) == 1, seeds.stderr
    runs = json.loads(cli("status", "--json", "--db", db).stdout)["runs"]
    assert runs[0]["status"] == "failed"
    verbose = crawl_process("crawl", f"http://127.0.0.1:{port}/", "--delay", "0", "--db", db, "-v")
    assert verbose.returncode == 4 and "Traceback" in verbose.stderr and "[scrapy" in verbose.stderr


def test_whats_new_tells_new_stories_new_copies_and_gone_copies(news_web, tmp_path):
    web, root = news_web
    db = tmp_path / "w.db"
    assert cli("crawl", *seeds(web), "--db", db, "--quiet").exit_code == 0
    first = json.loads(cli("stories", "--new", "--json", "--db", db).stdout)
    assert {r["what"] for r in first} == {"new story"} and len(first) == 4
    # the origin publishes story 4, the copier copies story 2, and its copy of story 1 now answers 404
    build(root, stories=5, copies=(0, 2))
    write(root, COPIER, "/", '<html><body><a href="/copy-0.html">a</a><a href="/copy-1.html">b</a>'
                             '<a href="/copy-2.html">c</a></body></html>')
    os.remove(os.path.join(root, COPIER, "copy-1.html"))
    second = cli("crawl", *seeds(web), "--db", db, "--quiet")
    assert second.exit_code == 0, second.output
    rows = json.loads(cli("stories", "--new", "--json", "--db", db).stdout)
    found = {(r["what"], tuple(r["urls"])) for r in rows}
    assert found == {("new story", (f"http://{ORIGIN}/news/story-4.html",)),
                     ("new copies", (f"http://{COPIER}/copy-2.html",)),
                     ("copies gone", (f"http://{COPIER}/copy-1.html",))}
    gone_url = f"http://{COPIER}/copy-1.html"
    tree = json.loads(cli("lineage", gone_url, "--json", "--db", db).stdout)
    assert tree["origin"]["children"][0]["gone_since"] == 2             # kept as evidence, marked
    assert "gone since run 2" in cli("lineage", gone_url, "--db", db).stdout
    audit = {a["url"]: a for a in json.loads(cli("audit", "--json", "--db", db).stdout)}
    assert audit[gone_url]["gone_since"] == 2 and audit[f"http://{COPIER}/copy-0.html"]["gone_since"] is None
    text = cli("stories", "--new", "--db", db).stdout
    assert "New stories (1)" in text and "New copies of earlier stories (1)" in text and "- " + gone_url in text
