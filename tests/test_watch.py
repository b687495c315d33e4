"""The watch list and scheduled runs, through the CLI over a real local web."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from cli import jobs
from cli.app import app
from crawler.errors import UserInputError
from crawler.localserver import LocalWeb
from crawler.storage.store import Store
from crawler.watchlist import parse_every
from tests.test_crawl import article, write

runner = CliRunner()


@pytest.fixture
def little_web(tmp_path):
    root = str(tmp_path / "sites")
    links = "".join(f'<a href="/news/item-{i}.html">i{i}</a>' for i in range(5))
    write(root, "gamma.example", "/", f"<html><body>{links}</body></html>")
    for i in range(5):
        write(root, "gamma.example", f"/news/item-{i}.html", article(f"Gamma item {i}"))
    write(root, "delta.example", "/", '<html><body><a href="/reprint.html">r</a></body></html>')
    write(root, "delta.example", "/reprint.html",
          article("Gamma item 0", extra='<p>Source: <a href="http://gamma.example/news/item-0.html">Gamma</a></p>',
                  date="2021-03-05"))
    with LocalWeb(root) as server:
        yield server


def cli(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result


def test_sites_add_list_remove(tmp_path):
    db = tmp_path / "w.db"
    assert cli("sites", "add", "https://www.commondreams.org/", "--feed", "https://www.commondreams.org/rss.xml",
               "--max-pages", 50, "--delay", 2, "--db", db).exit_code == 0
    assert cli("sites", "add", "https://www.globalresearch.ca/", "--db", db).exit_code == 0
    rows = json.loads(cli("sites", "list", "--json", "--db", db).stdout)
    assert [(r["url"], r["feed"], r["max_pages"], r["delay"]) for r in rows] == [
        ("https://www.commondreams.org/", "https://www.commondreams.org/rss.xml", 50, 2.0),
        ("https://www.globalresearch.ca/", None, None, None)]
    assert cli("sites", "remove", "https://www.globalresearch.ca/", "--db", db).exit_code == 0
    assert len(json.loads(cli("sites", "list", "--json", "--db", db).stdout)) == 1
    bad = cli("sites", "add", "ftp://files.example/", "--db", db)
    assert bad.exit_code == 1 and "not an http(s) URL" in bad.output
    missing = cli("sites", "remove", "https://never.example/", "--db", db)
    assert missing.exit_code == 1 and len(missing.output.strip().splitlines()) == 1


def test_crawl_without_urls_crawls_the_watch_list_and_reports_what_is_new(little_web, tmp_path):
    db = tmp_path / "w.db"
    common = ["--proxy", little_web.proxy, "--delay", 0, "--db", db, "--quiet"]
    assert cli("crawl", *common).exit_code == 1                      # empty watch list: a clear error
    for site in ("http://gamma.example/", "http://delta.example/"):
        assert cli("sites", "add", site, "--db", db).exit_code == 0
    first = cli("crawl", *common)
    assert first.exit_code == 0, first.output
    new = json.loads(cli("stories", "--new", "--json", "--db", db).stdout)
    assert len(new) == 5 and sum(s["copies"] for s in new) == 1

    second = cli("crawl", *common)                                 # nothing changed
    assert second.exit_code == 0
    assert json.loads(cli("stories", "--new", "--json", "--db", db).stdout) == []

    root = little_web.httpd.root
    write(root, "delta.example", "/reprint-2.html",
          article("Gamma item 3", extra="<p>This article first appeared in Gamma.</p>", date="2021-03-07"))
    write(root, "delta.example", "/", '<html><body><a href="/reprint.html">r</a><a href="/reprint-2.html">s</a></body></html>')
    assert cli("crawl", *common).exit_code == 0
    new = json.loads(cli("stories", "--new", "--json", "--db", db).stdout)
    assert len(new) == 1 and new[0]["origin"] == "http://gamma.example/news/item-3.html" and new[0]["copies"] == 1
    runs = json.loads(cli("status", "--json", "--db", db).stdout)["runs"]
    assert len(runs) >= 3 and all(r["ended"] and r["status"] == "finished" for r in runs[:3])


def test_sites_file_limits_pages_per_site(little_web, tmp_path):
    db = tmp_path / "w.db"
    sites = tmp_path / "sites.toml"
    sites.write_text('[[site]]\nurl = "http://gamma.example/"\nmax_pages = 3\n\n[[site]]\nurl = "http://delta.example/"\n')
    result = cli("crawl", "--sites-file", sites, "--proxy", little_web.proxy, "--delay", 0, "--db", db, "--quiet")
    assert result.exit_code == 0, result.output
    fetched = {p for h, p, _ in little_web.requests if h == "gamma.example" and p.startswith("/news/")}
    assert 1 <= len(fetched) <= 3
    broken = tmp_path / "broken.toml"
    broken.write_text("[[site]\nurl = ")
    result = cli("crawl", "--sites-file", broken, "--db", db)
    assert result.exit_code == 1 and "not valid TOML" in result.output and len(result.output.strip().splitlines()) == 1


@pytest.fixture
def no_waiting(monkeypatch):
    """``watch`` rounds back to back: the waits it would make are recorded instead."""
    waits = []
    monkeypatch.setattr(jobs, "pause", waits.append)
    return waits


def test_watch_runs_again_and_reports_each_run(little_web, tmp_path, no_waiting):
    db = tmp_path / "w.db"
    cli("sites", "add", "http://gamma.example/", "--db", db)
    result = cli("watch", "--every", "1m", "--runs", 2, "--delay", 0, "--max-pages", 20, "--proxy", little_web.proxy,
                 "--db", db)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("crawl run")]
    assert len(lines) == 2 and "0 pages fetched" in lines[1]
    assert "next round at" in result.output and len(no_waiting) == 1 and 0 < no_waiting[0] <= 60   # every minute, counted from the round's start


def test_watch_crawls_the_urls_it_is_given_without_a_watch_list(little_web, tmp_path, no_waiting):
    db = tmp_path / "w.db"
    result = cli("watch", "http://gamma.example/", "--every", "1m", "--runs", 1, "--delay", 0, "--max-pages", 20,
                 "--proxy", little_web.proxy, "--db", db)
    assert result.exit_code == 0, result.output
    assert "nothing to crawl" not in result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("crawl run 1: 6 pages fetched")]


@pytest.mark.parametrize("text,seconds", [("6h", 21600), ("30m", 1800), ("1d", 86400), ("90s", 90), ("1.5h", 5400)])
def test_parse_every(text, seconds):
    assert parse_every(text) == seconds


@pytest.mark.parametrize("text", ["", "0h", "-1h", "6 hours", "h", "5", "90", "5s", "59s", "400d",
                                  "99999999999999999999d", "1e9d", "nan", "inf"])
def test_parse_every_wants_a_unit_and_a_sane_range(text):
    with pytest.raises(UserInputError):
        parse_every(text)


def test_watch_says_when_the_next_round_is_and_backs_off_on_failures():
    said, waits = [], []
    rounds = iter([jobs.WatchRound(failed="cannot reach the proxy http://127.0.0.1:9: connection refused")] * 5
                  + [jobs.WatchRound()] * 2)
    orig = jobs.pause
    jobs.pause = waits.append
    try:
        assert jobs.watch(lambda: next(rounds), every=60, runs=7, say=said.append) == jobs.WatchRound()
    finally:
        jobs.pause = orig
    assert [round(w) for w in waits] == [60, 120, 240, 480, 960, 60]    # doubled while failing, then back
    failures = [line for line in said if line.startswith("round")]
    assert len(failures) == 5 and failures[0].startswith("round 1 failed: cannot reach the proxy")
    assert "5 in a row" in failures[-1] and any(line.startswith("recovered after 5 failed rounds") for line in said)
    assert sum(line.startswith("next round at") for line in said) == 6
    assert jobs.retry_wait(6 * 3600, 10) == 86400          # never more than a day between tries


def test_watch_skips_a_round_while_another_run_holds_the_database(little_web, tmp_path, no_waiting):
    db = tmp_path / "w.db"
    cli("sites", "add", "http://gamma.example/", "--db", db)
    holder = Store(str(db))
    with holder.run_lock():
        result = cli("watch", "--every", "1m", "--runs", 2, "--delay", 0, "--proxy", little_web.proxy, "--db", db)
    holder.close()
    assert result.exit_code == 0, result.output
    assert result.output.count("skipped this round") == 2


@pytest.mark.parametrize("content,message", [
    ("site = 5\n", "'site' must be a list"),
    ('[[site]]\nurl = "http://a.example/"\ndelay = "soon"\n', "delay must be a number"),
    ('[[site]]\nurl = "http://a.example/"\ndelay = inf\n', "delay must be a number"),
    ('[[site]]\nurl = "http://a.example/"\nmax_pages = 0\n', "max_pages must be"),
    ('[[site]]\nurl = 7\n', "needs an http(s) url"),
    ('[[site]]\nurl = "http://a.example/"\nfeed = ["x"]\n', "feed must be"),
    ('[[site]]\nurl = "http://a.example/"\nmaxpages = 3\n', "unknown key 'maxpages'"),
    ('site = ["http://a.example/"]\n', "must be a [[site]] table"),
])
def test_malformed_sites_files_are_one_line(tmp_path, content, message):
    sites = tmp_path / "sites.toml"
    sites.write_text(content)
    result = cli("crawl", "--sites-file", sites, "--db", tmp_path / "w.db")
    assert result.exit_code == 1 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["binary", "huge", "endless", "latin-1"])
def test_bad_seeds_files_are_one_line(tmp_path, kind):
    seeds = tmp_path / "seeds.txt"
    if kind == "binary":
        seeds.write_bytes(b"\x7fELF\x02\x01\x00\x00" * 100)
    elif kind == "huge":
        seeds.write_bytes(b"http://a.example/\n" * 700_000)
    elif kind == "latin-1":
        seeds.write_bytes("http://caf\xe9.example/\n".encode("latin-1"))
    else:
        seeds = "/dev/zero"
    result = cli("crawl", "--seeds-file", seeds, "--db", tmp_path / "w.db")
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output


def test_a_watch_without_its_proxy_backs_off_and_exits_4(tmp_path, no_waiting):
    db = tmp_path / "w.db"
    cli("sites", "add", "http://gamma.example/", "--db", db)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = cli("watch", "--every", "1m", "--runs", 3, "--proxy", f"http://127.0.0.1:{port}", "--db", db)
    assert result.exit_code == 4, result.output
    assert result.output.count("round 1 failed: cannot reach the proxy") == 1
    assert "round 3 failed again, 3 in a row" in result.output and "Traceback" not in result.output
    assert [round(w) for w in no_waiting] == [60, 120]
