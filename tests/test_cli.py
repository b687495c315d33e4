"""The command line on a database built by a real crawl of the bundled demo web over HTTP on 127.0.0.1."""

import csv
import io
import json
import pathlib
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli.app import app
from tests.conftest import file_at_schema

runner = CliRunner()
ORIGIN = "http://commondreams.example/news/2020/02/07/bombshell-iraqi-officials-say-isis-not-iran-likely-behind-rocket"
GR = "http://globalresearch.example/bombshell-iraqi-officials-say-isis-not-iran-likely-behind-rocket-attack/5690015"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    result = runner.invoke(app, ["demo", "--db", db, "--quiet"])
    assert result.exit_code == 0, result.output
    return db, result.output


def invoke(*args):
    return runner.invoke(app, list(args))


def test_demo_prints_the_lineage_tree(demo_db):
    _db, output = demo_db
    assert "commondreams.example" in output and "origin" in output
    gr_line = next(line for line in output.splitlines() if "globalresearch.example" in line and "credited" in line)
    assert "keeps the byline" in gr_line and "links the original" in gr_line
    assert "Copyright © Jake Johnson, Common Dreams, 2020" in output
    assert re.search(r"newsmirror24\.example.*uncredited", output)
    assert re.search(r"headlinehub\.example.*partial", output)


def test_demo_json_follows_the_result_format(demo_db):
    db, _ = demo_db
    result = invoke("export", "--format", "json", "--db", db)
    articles = {a["url"]: a for a in json.loads(result.stdout)["articles"] if a["story"]}
    assert articles[ORIGIN]["is_origin"] and articles[ORIGIN]["attribution"]["verdict"] == "origin"
    gr = articles[GR]
    assert gr["parent"] == ORIGIN and gr["published"].startswith("2020-02-10") and gr["author"] == "Jake Johnson"
    assert gr["attribution"] == {"credits_origin": True, "links_to_origin": True, "author_kept": True,
                                 "license": None, "verdict": "credited"}
    assert gr["copyright"] == "Copyright © Jake Johnson, Common Dreams, 2020"
    stories = {a["story"] for a in articles.values()}
    assert len(stories) == 3   # the Common Dreams story and two unrelated singletons (a hard negative pair)


def test_lineage_by_url_and_story_id(demo_db):
    db, _ = demo_db
    by_url = json.loads(invoke("lineage", GR, "--db", db, "--json").stdout)
    assert by_url["origin"]["url"] == ORIGIN and len(by_url["origin"]["children"]) == 3
    by_id = json.loads(invoke("lineage", by_url["story"], "--db", db, "--json").stdout)
    assert by_id == by_url


def test_unknown_url_is_a_one_line_error(demo_db):
    db, _ = demo_db
    result = invoke("lineage", "http://nowhere.example/x", "--db", db)
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: unknown URL") and "Traceback" not in result.output


def test_stories_audit_search_status_diff(demo_db):
    db, _ = demo_db
    stories = json.loads(invoke("stories", "--db", db, "--json", "--min-copies", "1").stdout)
    assert len(stories) == 1 and stories[0]["copies"] == 3 and stories[0]["uncredited"] == 1
    audit = json.loads(invoke("audit", "--db", db, "--format", "json", "--verdict", "uncredited").stdout)
    assert [a["site"] for a in audit] == ["newsmirror24.example"]
    rows = list(csv.DictReader(io.StringIO(invoke("audit", "--db", db, "--format", "csv").stdout)))
    assert {r["verdict"] for r in rows} == {"credited", "partial", "uncredited"}
    found = json.loads(invoke("search", "Soleimani", "--db", db, "--json").stdout)
    assert len(found) == 4
    status = json.loads(invoke("status", "--db", db, "--json").stdout)
    assert status["counts"]["stories"] == 3 and status["runs"][0]["kind"] == "demo"
    diff = json.loads(invoke("diff", ORIGIN, GR, "--db", db, "--json").stdout)
    assert any(p.startswith("Note to readers") for p in diff["added"])


def test_bad_option_values_exit_1_or_2(demo_db):
    db, _ = demo_db
    assert invoke("audit", "--db", db, "--verdict", "nonsense").exit_code == 1
    assert invoke("export", "--db", db, "--format", "pdf").exit_code == 1
    assert invoke("stories", "--db", db, "--min-copies", "-3").exit_code == 2
    assert invoke("crawl", "ftp://example.com/", "--db", db).exit_code == 1


def test_missing_database_is_a_clear_error(tmp_path):
    result = invoke("stories", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 1 and "no database" in result.output


def test_rebuild_gives_the_same_stories(demo_db):
    db, _ = demo_db
    before = json.loads(invoke("export", "--db", db).stdout)
    result = invoke("rebuild", "--db", db, "--json")
    assert result.exit_code == 0
    timings = json.loads(result.stdout)["timings"]
    assert {"normalise", "signature", "candidates", "verify", "group", "lineage", "audit"} <= set(timings)
    after = json.loads(invoke("export", "--db", db).stdout)
    assert before == after


def test_csv_and_graphml_exports(demo_db, tmp_path):
    networkx = pytest.importorskip("networkx")
    db, _ = demo_db
    out = tmp_path / "graph.graphml"
    assert invoke("export", "--format", "graphml", "-o", str(out), "--db", db).exit_code == 0
    graph = networkx.read_graphml(out)
    assert graph.number_of_nodes() == 6 and graph.number_of_edges() == 3
    assert set(graph.successors(ORIGIN)) >= {GR}
    csv_out = tmp_path / "a.csv"
    assert invoke("export", "--format", "csv", "-o", str(csv_out), "--db", db).exit_code == 0
    with open(csv_out) as fh:
        assert len(list(csv.DictReader(fh))) == 6


def test_warc_evidence_export_and_reingest(demo_db, tmp_path):
    db, _ = demo_db
    warc = tmp_path / "story.warc.gz"
    assert invoke("export", "--format", "warc", "--story", GR, "-o", str(warc), "--db", db).exit_code == 0
    fresh = str(tmp_path / "fresh.db")
    result = invoke("ingest", str(warc), "--db", fresh)
    assert result.exit_code == 0, result.output
    stories = json.loads(invoke("stories", "--db", fresh, "--json").stdout)
    assert len(stories) == 1 and stories[0]["copies"] == 3


def test_every_command_has_help_with_an_example_and_a_readme_mention():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert len(commands) >= 12
    for name in commands:
        result = invoke(name, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.output, name
        assert f"syndtrace {name}" in readme, name
    for sub in ("add", "list", "remove"):
        assert "Example:" in invoke("sites", sub, "--help").output


def test_demo_keeps_to_a_database_of_its_own(demo_db, tmp_path):
    db, _ = demo_db
    crawled = tmp_path / "news.db"
    other = invoke("export", "--format", "warc", "--story", GR, "-o", str(tmp_path / "s.warc.gz"), "--db", db)
    assert other.exit_code == 0
    assert invoke("ingest", str(tmp_path / "s.warc.gz"), "--db", str(crawled), "--quiet").exit_code == 0
    refused = invoke("demo", "--db", str(crawled))
    assert refused.exit_code == 1 and "holds ingest runs" in refused.output
    assert len(refused.output.strip().splitlines()) == 1


def test_an_older_database_is_upgraded_with_a_line_before_and_after_on_stderr(tmp_path):
    """What a user sees when a command first opens a file of an older syndtrace: two lines on stderr (stdout
    stays the report), none with --quiet, none the second time."""
    root = pathlib.Path(__file__).parent.parent
    run = lambda *args: subprocess.run([sys.executable, "-c", "from cli.app import main; main()", *args],
                                       capture_output=True, text=True, timeout=120, cwd=root, check=False)
    for name in ("loud.db", "quiet.db"):
        file_at_schema(str(tmp_path / name), 14).conn.close()
    loud = str(tmp_path / "loud.db")
    first = run("stories", "--db", loud, "--json")
    assert first.returncode == 0 and json.loads(first.stdout) == []
    lines = first.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"upgrading {loud} from schema 14 to ") and lines[1].startswith(
        f"upgraded {loud} to schema ")
    assert run("stories", "--db", loud).stderr == ""
    quiet = run("rebuild", "--quiet", "--db", str(tmp_path / "quiet.db"))
    assert quiet.returncode == 0 and quiet.stderr == ""
