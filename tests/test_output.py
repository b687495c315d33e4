"""The output contract (table, --json, --csv, --nl), escaping per medium, layout at 80 columns and in a
pipe, and what people type (dates, sites, search text), on a small stored and traced database."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.inputs import parse_date, resolve_site
from cli.present.escape import for_csv, for_html, for_terminal, for_xml
from cli.present.export import write_atomically
from cli.present.layout import Column, table
from crawler.errors import UserInputError
from crawler.page.urls import without_userinfo
from crawler.storage.store import Store
from dedupe.pipeline import update_stories
from dedupe.trace.verdicts import Verdict
from tests.test_present import BODY, CREDIT, OTHER, add

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_TITLE = "Budget \x1b]0;pwned\x07vote \x1b[2J\x1b[31mred\x9b1m =HYPERLINK(\"http://evil.example\")"
ORIGIN = "http://origin-news.example/2020/02/budget-vote-passes-after-a-long-night-of-debate-in-the-council"
COPY = "http://copy.example/budget"
LONE = "http://other.example/harbour"
runner = CliRunner()


@pytest.fixture
def hostile_db(store, db_path):
    """A story whose origin's headline and copy's copyright line carry escape sequences and a formula."""
    add(store, ORIGIN, BODY, title=HOSTILE_TITLE, author="Ana Ruiz", published="2020-02-07T10:00:00+00:00")
    add(store, COPY, BODY + ["Originally published by Origin."], title="=HYPERLINK(\"http://evil.example\",\"x\")",
        author="Ana Ruiz", published="2020-02-09T10:00:00+00:00",
        attribution={**CREDIT, "copyright": "\x1b[2J© Origin\x01 2020", "credits": [
            {**CREDIT["credits"][0], "host": "origin-news.example", "url": ORIGIN}], "content_links": [ORIGIN]})
    add(store, LONE, OTHER, title="Harbour storm al-qaeda U.S. report", published="2020-03-01")
    update_stories(store, run_id=store.start_run("ingest"))
    store.close()
    return db_path


def cli(*args):
    return runner.invoke(app, [str(a) for a in args])


# -- escaping: one function per medium ----------------------------------------------------------------
def test_each_medium_gets_text_it_cannot_misread():
    assert "\x1b" not in for_terminal(HOSTILE_TITLE) and "\x07" not in for_terminal(HOSTILE_TITLE)
    assert "\x9b" not in for_terminal(HOSTILE_TITLE) and for_terminal("a\nb\tc") == "a b c"
    assert for_csv("=1+2") == "'=1+2" and for_csv("@SUM(A1)") == "'@SUM(A1)" and for_csv("-2+3") == "'-2+3"
    assert for_csv("plain") == "plain" and for_csv(-2) == -2 and for_csv(None) is None
    ET.fromstring(f"<a x=\"{for_xml(HOSTILE_TITLE + chr(0xFFFE))}\">{for_xml(HOSTILE_TITLE)}</a>")
    assert for_html("<b>\x1b") == "&lt;b&gt;"


@pytest.mark.parametrize("command", [["stories"], ["lineage", ORIGIN], ["search", "budget"], ["audit"],
                                     ["audit", "--by", "site"], ["stories", "--csv"], ["audit", "--csv"]])
def test_no_command_writes_a_control_character(hostile_db, command):
    result = cli(*command, "--db", hostile_db)
    assert result.exit_code == 0, result.output
    assert not any(ch in result.stdout for ch in "\x1b\x07\x9b\x01"), repr(result.stdout[:300])


def test_csv_cells_are_never_formulas_and_hold_plain_values(hostile_db, tmp_path):
    out = tmp_path / "all.csv"
    assert cli("export", "--format", "csv", "-o", out, "--db", hostile_db).exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows and all(not v.startswith(("=", "+", "@")) for r in rows for v in r.values())
    assert any(r["title"].startswith("'=HYPERLINK") for r in rows)
    assert {r["is_origin"] for r in rows} <= {"true", "false"}
    audit = list(csv.DictReader(io.StringIO(cli("audit", "--csv", "--db", hostile_db).stdout)))
    assert audit[0]["reasons"] and not audit[0]["reasons"].startswith("[")       # joined, not a JSON array
    assert audit[0]["credits_origin"] in ("true", "false")


def test_graphml_with_control_characters_is_well_formed(hostile_db, tmp_path):
    out = tmp_path / "g.graphml"
    assert cli("export", "--format", "graphml", "-o", out, "--db", hostile_db).exit_code == 0
    graph = ET.parse(out)
    titles = [d.text for d in graph.iter("{http://graphml.graphdrawing.org/xmlns}data") if d.get("key") == "title"]
    assert any(t.startswith("Budget ]0;pwned") for t in titles)


# -- one contract for every report ----------------------------------------------------------------------
@pytest.mark.parametrize("command", [["stories"], ["audit"], ["audit", "--by", "site"], ["search", "budget"],
                                     ["status"], ["status", "--errors", "--run", "0"], ["sites", "list"],
                                     ["lineage", ORIGIN], ["diff", ORIGIN, COPY], ["verdicts"]])
def test_every_report_takes_json_csv_and_nl(hostile_db, command):
    as_json = cli(*command, "--json", "--db", hostile_db) if command != ["verdicts"] else cli(*command, "--json")
    assert as_json.exit_code == 0, as_json.output
    json.loads(as_json.stdout)
    extra = ["--db", hostile_db] if command != ["verdicts"] else []
    as_nl = cli(*command, "--nl", *extra)
    rows = [json.loads(line) for line in as_nl.stdout.splitlines()]
    as_csv = cli(*command, "--csv", *extra)
    assert as_nl.exit_code == as_csv.exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(as_csv.stdout)))) == len(rows)
    assert cli(*command, "--csv", "--json", *extra).exit_code == 1


def test_one_spelling_of_every_key(hostile_db):
    exported = json.loads(cli("export", "--db", hostile_db).stdout)
    tree = json.loads(cli("lineage", ORIGIN, "--json", "--db", hostile_db).stdout)
    audit = json.loads(cli("audit", "--json", "--db", hostile_db).stdout)
    text = json.dumps([exported, tree, audit])
    assert "licence" not in text and "license_conflicts" in text
    status = json.loads(cli("status", "--json", "--db", hostile_db).stdout)
    assert isinstance(status["runs"][0]["options"], dict)     # not a JSON string inside JSON


def test_export_says_what_the_file_holds_and_replaces_files_whole(hostile_db, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "result.json"
    out.write_text("the previous export")
    result = cli("export", "--format", "json", "-o", out, "--db", hostile_db)
    held = json.loads(out.read_text())["articles"]
    assert f"wrote {len(held)} pages" in result.output
    assert [p.name for p in folder.iterdir()] == ["result.json"]        # no temporary file left behind

    def dies_half_way(path):
        Path(path).write_text('{"articles": [')
        raise OSError(28, "No space left on device")

    with pytest.raises(UserInputError, match="No space left"):
        write_atomically(str(out), dies_half_way)
    assert json.loads(out.read_text())["articles"] == held and len(list(folder.iterdir())) == 1
    into_folder = cli("export", "-o", folder, "--db", hostile_db)
    assert into_folder.exit_code == 1 and "it is a folder" in into_folder.output
    story = json.loads(cli("export", "--story", COPY, "--db", hostile_db).stdout)["articles"]
    assert {a["url"] for a in story} == {ORIGIN, COPY}


def test_a_closed_pipe_ends_quietly(hostile_db):
    cmd = (f"{sys.executable} -m cli.app audit --csv --db {hostile_db} | head -c 10 >/dev/null; "
           f"{sys.executable} -m cli.app export --db {hostile_db} | head -c 10 >/dev/null")
    result = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=ROOT,
                            timeout=60, check=False)
    assert result.stderr == "" and result.returncode == 0


def test_piped_tables_keep_each_row_on_one_line_with_whole_urls(hostile_db):
    result = cli("audit", "--db", hostile_db)
    line = next(x for x in result.stdout.splitlines() if COPY in x)
    assert "copy.example" in line and "credited" in line


def run_in_terminal(args: list[str], columns: int = 80) -> str:
    """A command's output in a real pseudo-terminal of ``columns`` columns."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-P", "-m", "cli.app", *args], stdout=follower, stderr=follower,
                            stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


ANSI_STYLE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def visible(text: str) -> list[str]:
    return [ANSI_STYLE.sub("", line.rstrip("\r")) for line in text.splitlines()]


def test_tables_fit_80_columns_and_ids_and_hosts_never_break(hostile_db):
    sid = json.loads(cli("lineage", ORIGIN, "--json", "--db", hostile_db).stdout)["story"]
    for command in (["stories"], ["audit"], ["audit", "--by", "site"], ["status"]):
        lines = visible(run_in_terminal([*command, "--db", hostile_db]))
        assert all(len(line) <= 80 or hostile_db in line for line in lines), (command, max(lines, key=len))
        text = "\n".join(lines)
        if command != ["status"]:
            assert "origin-news.example" in text or "copy.example" in text, text
        if command[0] in ("stories", "audit") and len(command) == 1:
            assert sid in text, text


def test_layout_cuts_titles_first_then_moves_them_below():
    rows = [{"id": "st-0123456789", "host": "dailydispatchonline.test", "title": "A very long title " * 5}]
    cols = [Column("id", "story"), Column("host", "site"), Column("title", "title", "shrink", min_width=12)]
    wide = table(rows, cols, 60).plain.splitlines()
    assert wide[1].startswith("st-0123456789  dailydispatchonline.test  A very") and wide[1].endswith("…")
    assert all(len(line) <= 60 for line in wide)
    narrow = table(rows, cols, 45).plain.splitlines()
    assert narrow[1].rstrip() == "st-0123456789  dailydispatchonline.test" and narrow[2].startswith("    A very")
    piped = table(rows, cols, None).plain.splitlines()
    assert len(piped) == 2 and piped[1].endswith("A very long title")


# -- what people type -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("2021-12-01", "2021-12-01"), ("2021/12/01", "2021-12-01"), ("1 Dec 2021", "2021-12-01"),
    ("December 1, 2021", "2021-12-01"), ("13/12/2021", "2021-12-13"), ("2021-12", "2021-12-01"),
    ("yesterday", "2024-05-09"), ("7d", "2024-05-03"), ("2w", "2024-04-26"), ("3 days ago", "2024-05-07"),
    ("2021-12-01T10:00:00+02:00", "2021-12-01")])
def test_dates_read_as_people_write_them(text, expected):
    assert parse_date(text, today=date(2024, 5, 10)).isoformat() == expected


@pytest.mark.parametrize("text,message", [("12/01/2021", "could be 2021-01-12 or 2021-12-01"),
                                          ("soon", "cannot read"), ("2021-02-30", "cannot read")])
def test_dates_that_cannot_be_read_are_refused(text, message):
    with pytest.raises(UserInputError, match=message):
        parse_date(text)


def test_since_and_sites_through_the_cli(hostile_db):
    assert [s["origin"] for s in json.loads(cli("stories", "--since", "1 Mar 2020", "--json", "--db",
                                                hostile_db).stdout)] == [LONE]
    bad = cli("stories", "--since", "12/01/2021", "--db", hostile_db)
    assert bad.exit_code == 1 and len(bad.output.strip().splitlines()) == 1 and "YYYY-MM-DD" in bad.output
    for form in ("origin-news.example", "HTTP://WWW.Origin-News.example/", "www.origin-news.example"):
        rows = json.loads(cli("audit", "--origin-site", form, "--json", "--db", hostile_db).stdout)
        assert [r["url"] for r in rows] == [COPY], form
    typo = cli("audit", "--origin-site", "orign-news.example", "--db", hostile_db)
    assert typo.exit_code == 1 and "did you mean origin-news.example" in typo.output
    assert resolve_site("copy.example.", ["copy.example"]) == "copy.example"


def test_search_reads_words_as_words_and_shows_the_passage(hostile_db):
    for text in ("al-qaeda", "U.S.", 'harbour "storm', "NOT"):
        result = cli("search", text, "--db", hostile_db)
        assert result.exit_code == 0 and "Error" not in result.output, (text, result.output)
    hits = json.loads(cli("search", "al-qaeda", "--json", "--db", hostile_db).stdout)
    assert [h["url"] for h in hits] == [LONE] and "harbour" in hits[0]["snippet"].lower()
    raw = cli("search", 'harbour "storm', "--raw", "--db", hostile_db)
    assert raw.exit_code == 1 and "bad search expression" in raw.output


def test_urls_are_shown_without_credentials(tmp_path):
    assert without_userinfo("https://me:secret@news.example/x") == "https://news.example/x"
    result = cli("sites", "add", "https://me:s3cret@news.example/", "--db", tmp_path / "s.db")
    assert result.exit_code == 0 and "s3cret" not in result.output and "news.example" in result.output
    assert "s3cret" not in cli("sites", "list", "--db", tmp_path / "s.db").output
    store = Store(str(tmp_path / "s.db"))
    store.start_run("crawl", {"seeds": ["https://me:s3cret@news.example/"]})
    store.close()
    shown = cli("status", "--json", "--db", tmp_path / "s.db").output
    assert "s3cret" not in shown and "https://news.example/" in shown


# -- help -------------------------------------------------------------------------------------------------
def test_version_short_help_readable_metavars_and_verdicts():
    assert cli("--version").stdout.startswith("syndtrace ")
    assert cli("-h").exit_code == 0 and "Exit codes" in cli("-h").output
    crawl_help = cli("crawl", "-h").output
    assert "<list[str]>" not in crawl_help and "float range" not in crawl_help and "SECONDS" in crawl_help
    assert "DATE" in cli("stories", "-h").output
    meanings = {r["verdict"]: r["meaning"] for r in json.loads(cli("verdicts", "--json").stdout)}
    assert set(meanings) == {v.value for v in Verdict} and all(meanings.values())
    assert meanings["misattributed"] == Verdict.MISATTRIBUTED.meaning


def test_datasette_metadata_describes_the_database_whatever_its_name(tmp_path):
    db = tmp_path / "my news.2024.db"
    assert cli("sites", "list", "--db", db).exit_code == 0          # makes the database
    meta = json.loads(cli("metadata", "--db", db).stdout)
    assert list(meta["databases"]) == ["my news.2024"]              # Datasette's name for that file
    tables = meta["databases"]["my news.2024"]["tables"]
    conn = sqlite3.connect(db)
    names = {n for (n,) in conn.execute("select name from sqlite_master where type in ('table', 'view') "
                                        "and name not like '%fts%' and name not like 'sqlite_%'")}
    assert names - {"meta"} <= set(tables), names - set(tables)    # every table and view described
    for name, info in tables.items():
        columns = {c[1] for c in conn.execute(f"pragma table_info('{name}')")}
        assert set(info.get("columns", {})) <= columns, (name, set(info.get("columns", {})) - columns)
    conn.close()
    shipped = json.loads((ROOT / "datasette" / "metadata.json").read_text())
    assert shipped == json.loads(cli("metadata", "--db", "syndtrace.db").stdout)   # the file in the repository


def test_bad_urls_and_a_damaged_database_are_one_line(hostile_db, tmp_path):
    for args in (["diff", "http://[::1", COPY], ["lineage", "http://[::1"], ["audit", "--site", "http://[::1"],
                 ["export", "--story", "http://[::1"]):
        result = cli(*args, "--db", hostile_db)
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, (args, result.output)
        assert "Traceback" not in result.output
    damaged = tmp_path / "damaged.db"
    data = bytearray(Path(hostile_db).read_bytes())
    for offset in range(2 * 4096, len(data), 4096):
        data[offset + 100:offset + 900] = b"\xde\xad\xbe\xef" * 200
    damaged.write_bytes(bytes(data))
    result = cli("stories", "--db", damaged)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "damaged" in result.output and "disk space" not in result.output, result.output
