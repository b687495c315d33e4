"""Hostile files (issue 17): archives cut short or built to exhaust memory, and SQLite files that are not
syndtrace's. Each is refused or read in bounded memory, in one line, and nothing is stored wrong."""

from __future__ import annotations

import gzip
import io
import json
import os
import sqlite3
import subprocess
import sys

import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cli.app import app
from crawler.warc import ingest_files, write_story_warc
from tests.conftest import query
from tests.test_faults import article_html


def write_warc(path, records, gz: bool = True) -> None:
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        for url, ctype, body in records:
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=http))


STORIES = [(f"http://arch.example/news/story-{i}.html", "text/html; charset=utf-8",
            article_html(f"Archived story {i}").encode()) for i in range(5)]


# -- item 10: a truncated archive is a problem, and its cut record is not stored as if whole -----------------

def test_a_cut_record_is_reported_and_not_stored(tmp_path, store):
    whole = tmp_path / "whole.warc"
    write_warc(whole, STORIES, gz=False)
    data = whole.read_bytes()
    cut = tmp_path / "archive.warc"
    cut.write_bytes(data[: len(data) - 1500])   # the last record's body loses its end
    report = ingest_files(store, [str(cut)])
    assert report.stored == 4
    assert [p for p in report.problems if "truncated" in p and "story-4" in p and "not stored" in p]
    stored = {r["url"] for r in query(store.path, "select url from fetches")}
    assert stored == {u for u, _, _ in STORIES[:4]}


def test_a_content_length_past_the_end_is_reported(tmp_path, db_path, caplog):
    whole = tmp_path / "whole.warc"
    write_warc(whole, STORIES[:2], gz=False)
    data = whole.read_bytes()
    last = data.rindex(b"Content-Length: ", 0, data.rindex(b"HTTP/1.1 200"))   # the last record's WARC header
    end = data.index(b"\r\n", last)
    length = int(data[last + 16:end])
    bad = tmp_path / "archive.warc"
    bad.write_bytes(data[:last + 16] + str(length + 5000).encode() + data[end:])
    result = CliRunner().invoke(app, ["ingest", str(bad), "--db", db_path])
    assert result.exit_code == 0, result.output
    assert "1 stored" in result.stdout and "1 problem(s)" in result.stdout, result.stdout
    assert [r for r in caplog.records if "truncated" in r.message and "story-1" in r.message]
    assert [r["url"] for r in query(db_path, "select url from fetches")] == [STORIES[0][0]]


# -- item 6: ingest reads a record at a time ---------------------------------------------------------------

INGEST_IN_CHILD = """
import json, re, sys
from crawler.storage.store import Store
from crawler.warc import ingest_files, write_story_warc
from crawler.errors import UserInputError
try:
    report = ingest_files(Store(sys.argv[1]), sys.argv[2:])
    outcome = {"stored": report.stored, "problems": report.problems}
except UserInputError as exc:
    outcome = {"error": str(exc)}
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, and the pytest process that starts this one is large
peak = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({**outcome, "peak_mb": peak / 1024}))
"""


def ingest_measured(db: str, *paths) -> dict:
    result = subprocess.run([sys.executable, "-c", INGEST_IN_CHILD, db, *map(str, paths)], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_ingest_holds_one_record_at_a_time(tmp_path):
    warc = tmp_path / "large-records.warc.gz"
    write_warc(warc, [(f"http://big.example/file-{i}", "application/octet-stream", b"x" * (8 << 20))
                      for i in range(50)])
    run = ingest_measured(str(tmp_path / "big.db"), warc)
    assert run["stored"] == 50
    assert run["peak_mb"] < 250, run   # 50 records of 8 MB: 400 MB if they were held together


def test_an_endless_header_line_is_refused_in_bounded_memory(tmp_path):
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Junk: " + b"z" * (200 << 20) + b"\r\n\r\n<p>hi</p>"
    record = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://line.example/h\r\n"
              b"WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
              b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n" % len(http))
    warc = tmp_path / "line.warc.gz"
    warc.write_bytes(gzip.compress(record + http + b"\r\n\r\n", 9))
    run = ingest_measured(str(tmp_path / "line.db"), warc)
    assert "nothing could be read" in run["error"] and "header line" in run["error"], run
    assert run["peak_mb"] < 200, run


# -- item 11: a database of another program is refused before anything is written ---------------------------

def sqlite_file(path, *statements) -> str:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return str(path)


def fingerprint(path: str) -> tuple:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return (conn.execute("select type, name, sql from sqlite_master order by name").fetchall(),
                conn.execute("pragma journal_mode").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("command", [["status"], ["stories"], ["ingest", "__warc__"], ["rebuild"]])
@pytest.mark.parametrize("statements,message", [
    (["create table notes (id integer primary key, body text)", "insert into notes (body) values ('mine')"],
     "not a syndtrace database"),
    (["create table articles (id integer primary key, headline text, body text)"], "not a syndtrace database"),
    (["create table meta (key text primary key, value text)", "insert into meta values ('schema_version', 'three')"],
     "not a number"),
])
def test_a_foreign_database_is_refused_in_one_line_and_left_as_it_was(tmp_path, command, statements, message):
    db = sqlite_file(tmp_path / "theirs.db", *statements)
    before = fingerprint(db)
    warc = tmp_path / "one.warc.gz"
    write_warc(warc, STORIES[:1])
    args = [str(warc) if a == "__warc__" else a for a in command]
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output, result.output
    assert fingerprint(db) == before
    assert not os.path.exists(db + ".lock") and not os.path.exists(db + "-wal")


# -- Low: credentials and local paths are never stored or passed on ---------------------------------------

def test_credentials_and_local_paths_are_not_stored_or_exported(tmp_path, store):
    secret = "http://reader:hunter2@arch.example/news/story-0.html"
    warc = tmp_path / "private" / "mine.warc.gz"
    warc.parent.mkdir()
    write_warc(warc, [(secret, "text/html; charset=utf-8", STORIES[0][2])])
    report = ingest_files(store, [str(warc)])
    assert report.stored == 1
    stored = query(store.path, "select url, requested_url, final_url from fetches")[0]
    assert "hunter2" not in "".join(stored) and "reader" not in "".join(stored)
    assert json.loads(query(store.path, "select options from runs")[0][0]) == {"files": ["mine.warc.gz"]}
    out = tmp_path / "evidence.warc.gz"
    assert write_story_warc(store, [stored[0]], str(out)) == 1
    assert b"hunter2" not in gzip.decompress(out.read_bytes())
