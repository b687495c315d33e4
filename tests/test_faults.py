"""Faults and bad input: a server that misbehaves in every way, broken archives, killed runs, read-only files.

Everything runs on 127.0.0.1; the crawl goes through the fault server as its HTTP proxy.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import random
import resource
import signal
import socket
import sqlite3
import stat
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cli.app import app
from cli.jobs import crawl_and_trace
from crawler.capture import process_capture
from crawler.errors import UserInputError
from crawler.options import CrawlOptions
from crawler.page.extract import extract_page
from crawler.storage.records import FetchRecord
from crawler.warc import ingest_files
from tests.conftest import QuietHTTPServer, query

HOST = "faulty.example"
MAX_BYTES = 300_000


WORDS = ("council budget school clinic transit mayor report agency court ruling housing rent water river storm "
         "farm price market union strike teacher nurse police election ballot senator bill tax road bridge rail "
         "port harbor airport energy wind solar residents protest vote line").split()


def article_html(title: str, paragraphs: int = 6, charset: str = "utf-8") -> str:
    rnd = random.Random(title)
    body = "".join("<p>" + " ".join(rnd.choice(WORDS) for _ in range(40)).capitalize() + ".</p>"
                   for _ in range(paragraphs))
    return (f'<!doctype html><html lang="en"><head><meta charset="{charset}"><title>{title}</title>'
            f'<meta property="og:type" content="article"></head><body><article><h1>{title}</h1>'
            f'<p class="byline">By Ana Ruiz</p>{body}</article></body></html>')


PAGES = {
    "/news/good-1.html": article_html("Good one"),
    "/news/good-2.html": article_html("Good two"),
    "/news/broken.html": "<html><body><article><h1>Broken markup<p>unclosed <b>bold <i>italic" +
                         "<p>The council met on Tuesday to discuss the budget and the schools and the clinics. " * 8,
    "/news/deep.html": "<div>" * 5000 + article_html("Deeply nested") + "</div>" * 10,
    "/news/huge-attribute.html": article_html("Huge attribute").replace("<article>", f'<article data-x="{"x" * 200_000}">'),
}
LINKS = list(PAGES) + ["/flaky.html", "/always-500.html", "/reset.html", "/slow.html", "/huge.html", "/bomb.html",
                       "/binary.bin", "/empty.html", "/pdf-as-html.html", "/to-file.html", "/to-ftp.html",
                       "/latin1-declared-utf8.html"]


class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", ctype="text/html; charset=utf-8", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = urlsplit(self.path).path
        server = self.server
        with server.lock:
            server.hits.setdefault(path, []).append(time.monotonic())
            attempt = len(server.hits[path])
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if path == "/":
            links = "".join(f'<a href="{p}">{p}</a> ' for p in LINKS)
            return self._send(200, f"<html><body>{links}</body></html>".encode())
        if path in PAGES:
            return self._send(200, PAGES[path].encode())
        if path == "/flaky.html":
            return self._send(503, b"busy") if attempt <= 2 else self._send(200, article_html("Flaky").encode())
        if path == "/always-500.html":
            return self._send(500, b"broken")
        if path == "/reset.html":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if path == "/slow.html":
            time.sleep(2.5)
            return self._send(200, article_html("Slow").encode())
        if path == "/huge.html":
            return self._send(200, b"<p>" + b"x" * (MAX_BYTES * 2))
        if path == "/bomb.html":
            return self._send(200, server.bomb, extra={"Content-Encoding": "gzip"})
        if path == "/binary.bin":
            return self._send(200, os.urandom(4000), "application/octet-stream")
        if path == "/empty.html":
            return self._send(200, b"")
        if path == "/pdf-as-html.html":
            return self._send(200, b"%PDF-1.4\n" + os.urandom(3000), "text/html")
        if path == "/to-file.html":
            return self._send(301, extra={"Location": "file:///etc/passwd"})
        if path == "/to-ftp.html":
            return self._send(301, extra={"Location": "ftp://127.0.0.1/pub/file"})
        if path == "/latin1-declared-utf8.html":
            return self._send(200, article_html("Café crème déclaré").encode("latin-1"))
        return self._send(404, b"<h1>not found</h1>")


@pytest.fixture(scope="module")
def fault_server():
    server = QuietHTTPServer(("127.0.0.1", 0), FaultHandler)
    server.hits, server.lock = {}, threading.Lock()
    server.bomb = gzip.compress(b"<html>" + b" " * (40 * 1024 * 1024), compresslevel=9)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def fault_crawl(fault_server, tmp_path_factory):
    db = str(tmp_path_factory.mktemp("faults") / "faults.db")
    options = CrawlOptions(seeds=(f"http://{HOST}/",), delay=0, concurrency=8, per_site=8, timeout=1.0,
                           retries=2, retry_backoff=0.3, max_bytes=MAX_BYTES,
                           proxy=f"http://127.0.0.1:{fault_server.server_address[1]}")
    report, _grouping = crawl_and_trace(db, options)
    fetches = {r["url"]: dict(r) for r in query(db, "select url, status, error, length(body) as size from fetches")}
    articles = {r["url"]: dict(r) for r in query(db, "select url, title, page_type, text from articles")}
    return report, fetches, articles, fault_server.hits


def url(path):
    return f"http://{HOST}{path}"


def test_crawl_goes_on_and_keeps_the_good_pages(fault_crawl):
    report, fetches, articles, _ = fault_crawl
    assert report.status == "crawled"
    for path in ("/news/good-1.html", "/news/good-2.html", "/news/broken.html", "/news/huge-attribute.html"):
        assert articles[url(path)]["page_type"] == "article", path
    assert "Broken markup" in articles[url("/news/broken.html")]["title"]
    # more than 256 levels: lxml gives up; the page is kept raw, skipped with a log line, not an article
    assert fetches[url("/news/deep.html")]["size"] > 0 and articles[url("/news/deep.html")]["page_type"] != "article"


def test_server_errors_are_retried_with_backoff_then_recorded(fault_crawl):
    _, fetches, articles, hits = fault_crawl
    assert len(hits["/flaky.html"]) == 3 and articles[url("/flaky.html")]["title"] == "Flaky"
    attempts = hits["/always-500.html"]
    assert len(attempts) == 3                                   # one try and two retries
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.25 and gaps[1] >= 0.55                 # 0.3 s, then 0.6 s
    assert fetches[url("/always-500.html")]["error"] == "HTTP 500"


def test_resets_and_timeouts_are_retried_then_recorded(fault_crawl):
    _, fetches, _, hits = fault_crawl
    for path in ("/reset.html", "/slow.html"):
        assert len(hits[path]) >= 3, path        # Twisted may also re-send once on a dropped kept-alive connection
        assert fetches[url(path)]["status"] == 0 and fetches[url(path)]["error"], path


def test_size_limits_hold_for_plain_and_compressed_bodies(fault_crawl):
    _, fetches, articles, _ = fault_crawl
    for path in ("/huge.html", "/bomb.html"):
        assert url(path) not in articles, path
        assert (fetches.get(url(path)) or {}).get("size") in (None, 0), path
    assert all((r["size"] or 0) <= MAX_BYTES for r in fetches.values())


def test_non_html_and_empty_responses_are_not_articles(fault_crawl):
    _, _fetches, articles, _ = fault_crawl
    for path in ("/binary.bin", "/empty.html", "/pdf-as-html.html"):
        assert url(path) not in articles or articles[url(path)]["page_type"] != "article", path


def test_only_http_and_https_are_fetched(fault_crawl):
    _, fetches, _, _ = fault_crawl
    assert all(u.startswith("http://") for u in fetches)
    assert not any("root:" in (r.get("error") or "") for r in fetches.values())


def test_wrong_charset_declaration_still_reads(fault_crawl):
    _, _, articles, _ = fault_crawl
    text = articles[url("/latin1-declared-utf8.html")]["title"]
    assert text.startswith("Caf") and "\x00" not in text       # undecodable bytes replaced, not fatal


# -- bad input to the library ----------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b"", b"\x00\x01\x02" * 1000, b"<html", b"<<<>>>" * 10000, "<p>" + "é" * 10, b"\xff\xfe<\x00h\x00t\x00m\x00l\x00",
    b"<html><body>" + b"<div>" * 20000 + b"text", b"<meta charset='nonsense'><p>x</p>",
])
def test_extraction_never_raises(body):
    page = extract_page(body, "https://example.com/2020/01/02/story-title")
    assert page.page_type != "article" or page.text


def test_non_html_capture_is_stored_but_not_extracted(store):
    rec = FetchRecord(url="http://a.example/file.pdf", requested_url="http://a.example/file.pdf",
                      final_url="http://a.example/file.pdf", status=200, headers={"content-type": "application/pdf"},
                      body=b"%PDF-1.4 binary", fetched_at="2024-01-01T00:00:00+00:00", content_type="application/pdf")
    process_capture(store, rec)
    assert store.counts()["fetches"] == 1 and store.counts()["articles"] == 0


# -- bad archives ---------------------------------------------------------------------------------------

def make_warc(path, pages):
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for page_url, html in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(page_url, "response", payload=io.BytesIO(html.encode()),
                                                          http_headers=http))


def db_snapshot(db_path):
    conn = sqlite3.connect(db_path)
    try:
        return {t: conn.execute(f"select count(*) from [{t}]").fetchone()[0]
                for (t,) in conn.execute("select name from sqlite_master where type='table' and name not like '%fts%'")}
    finally:
        conn.close()


@pytest.fixture
def archives(tmp_path):
    good = tmp_path / "good.warc.gz"
    make_warc(good, [(f"http://arch.example/news/story-{i}.html", article_html(f"Archived {i}")) for i in range(20)])
    data = good.read_bytes()
    truncated = tmp_path / "cut-in-half.warc.gz"   # a name without the words the test looks for in the problems
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(random.Random(20).randbytes(5000))   # makes warcio write warnings of its own
    png = tmp_path / "picture.warc"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + random.Random(8).randbytes(2000))
    empty = tmp_path / "empty.warc"
    empty.write_bytes(b"")
    return {"good": str(good), "truncated": str(truncated), "garbage": str(garbage), "png": str(png),
            "empty": str(empty)}


@pytest.mark.parametrize("kind", ["garbage", "png", "empty"])
def test_unreadable_archive_is_refused_and_changes_nothing(archives, db_path, kind):
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", archives["good"], "--db", db_path, "--quiet"]).exit_code == 0
    before = db_snapshot(db_path)
    result = runner.invoke(app, ["ingest", archives[kind], "--db", db_path])
    assert result.exit_code == 1
    message = result.output.strip()
    assert "nothing could be read" in message and len(message.splitlines()) == 1 and "Traceback" not in message
    assert db_snapshot(db_path) == before


def test_truncated_archive_keeps_what_precedes_the_damage(archives, store):
    report = ingest_files(store, [archives["truncated"], archives["garbage"]])
    assert 0 < report.stored < 20
    cut = [p.removeprefix(archives["truncated"]) for p in report.problems if p.startswith(archives["truncated"])]
    assert len(cut) == 1 and ("truncated" in cut[0] or "corrupt" in cut[0]), report.problems
    assert any("garbage" in p for p in report.problems)
    assert store.counts()["fetches"] == report.stored


def test_missing_archive_only(store, tmp_path):
    with pytest.raises(UserInputError, match="nothing could be read"):
        ingest_files(store, [str(tmp_path / "absent.warc")])


# -- killed runs and unwritable databases ---------------------------------------------------------------

def _kill_midway(cmd, db_path, table, minimum):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        try:
            conn = sqlite3.connect(db_path, timeout=1)
            n = conn.execute(f"select count(*) from {table}").fetchone()[0]
            conn.close()
        except sqlite3.Error:
            n = 0
        if n >= minimum:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_sigkill_during_ingest_and_rebuild_then_rerun(tmp_path):
    warc = tmp_path / "many.warc.gz"
    pages = []
    for i in range(300):
        pages.append((f"http://one.example/news/story-{i}.html", article_html(f"Story {i}", 10)))
        if i % 3 == 0:
            pages.append((f"http://two.example/copies/story-{i}.html", article_html(f"Story {i}", 10)))
    make_warc(warc, pages)
    db = str(tmp_path / "killed.db")
    cli = [sys.executable, "-m", "cli.app"]
    _kill_midway(cli + ["ingest", str(warc), "--db", db, "--quiet"], db, "articles", 40)
    result = subprocess.run(cli + ["ingest", str(warc), "--db", db, "--quiet"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    _kill_midway(cli + ["rebuild", "--db", db, "--quiet"], db, "signatures", 1)
    result = subprocess.run(cli + ["rebuild", "--db", db, "--quiet"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert conn.execute("select count(*) from fetches").fetchone()[0] == len(pages)
    assert conn.execute("select count(*) from articles").fetchone()[0] == len(pages)
    assert conn.execute("select count(*) from members").fetchone()[0] == len(pages)
    assert conn.execute("select count(*) from stories where size = 2").fetchone()[0] == 100
    conn.close()


def test_read_only_database_is_a_one_line_error(archives, tmp_path):
    db = tmp_path / "ro.db"
    assert CliRunner().invoke(app, ["ingest", archives["good"], "--db", str(db), "--quiet"]).exit_code == 0
    before = db_snapshot(str(db))
    if os.geteuid() == 0:   # root ignores permissions; an immutable file is read-only even for root
        if subprocess.run(["chattr", "+i", str(db)], capture_output=True, check=False).returncode != 0:
            pytest.skip("running as root on a file system without chattr +i")
    else:
        db.chmod(stat.S_IRUSR)
    try:
        result = CliRunner().invoke(app, ["rebuild", "--db", str(db)])
        assert result.exit_code == 1, result.output
        message = result.output.strip().splitlines()
        assert len(message) == 1 and message[0].startswith("Error:") and "read" in message[0]
        status = CliRunner().invoke(app, ["status", "--json", "--db", str(db)])   # reading still works
        assert status.exit_code == 0 and json.loads(status.stdout)["counts"]
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(db)], capture_output=True, check=False)
        db.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert db_snapshot(str(db)) == before


def test_full_disk_is_a_one_line_error_and_nothing_half_written(archives, tmp_path):
    """The file-size limit makes every write past it fail as on a full disk (SQLITE_FULL / EFBIG)."""
    db = str(tmp_path / "full.db")
    assert CliRunner().invoke(app, ["ingest", archives["good"], "--db", db, "--quiet"]).exit_code == 0
    before = db_snapshot(db)

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))

    result = subprocess.run([sys.executable, "-m", "cli.app", "rebuild", "--extract", "--db", db],
                            capture_output=True, text=True, preexec_fn=small_disk, timeout=120, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message, message
    assert "disk" in message or "write" in message, message
    assert db_snapshot(db) == before
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_not_a_database_is_a_one_line_error(tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 100)
    result = CliRunner().invoke(app, ["status", "--db", str(bogus)])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert bogus.read_text().startswith("these are my notes")
