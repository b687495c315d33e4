"""End to end: a WARC of wire copies, a write-thru, a listing and a byte-identical re-capture, through
``syndtrace ingest``, the database and ``syndtrace lineage`` / ``export`` (issue 13)."""

import html
import io
import json
import random

from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cli.app import app
from crawler.storage.store import Store

runner = CliRunner()
rnd = random.Random(13)
VOCAB = [f"w{i}" for i in range(4000)]


def prose(n, words=40):
    return [" ".join(rnd.choice(VOCAB) for _ in range(words)) + "." for _ in range(n)]


WIRE, OTHER = prose(9), prose(8)
REWORDED = WIRE[0].split()
for _i in range(2, len(REWORDED) - 1, 6):
    REWORDED[_i], REWORDED[_i + 1] = REWORDED[_i + 1], REWORDED[_i]
TAKE2 = [" ".join(REWORDED)] + WIRE[1:4] + prose(1) + WIRE[4:]


def page(title, paragraphs):
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f'<!doctype html><html><head><title>{title}</title><meta property="og:type" content="article">'
            f"</head><body><article><h1>{title}</h1>{body}</article></body></html>").encode()


PAGES = {
    "http://wire.test/2024/03/01/council-restores-bus-line": page("Council restores bus line", WIRE),
    "http://one.test/2024/03/01/council-restores-bus-line": page("Council restores bus line", WIRE + prose(1, 12)),
    "http://one.test/2024/03/01/council-restores-bus-line-print": page("Council restores bus line",
                                                                        WIRE + prose(1, 12)),
    "http://two.test/2024/03/02/buses-return": page("Buses return", prose(2, 30) + WIRE[:4] + prose(1, 30)),
    "http://three.test/2024/03/03/bus-line-back": page("Bus line back", TAKE2),
    "http://four.test/2024/03/03/bus-line-back": page("Bus line back", TAKE2[:6]),
    "http://harbour.test/2024/03/01/storm-closes-harbour": page("Storm closes harbour", OTHER),
    "http://harbour2.test/2024/03/02/storm-closes-harbour": page("Storm closes harbour", OTHER[:5]),
    "http://preview-a.test/2024/03/02/council-restores-bus-line": page("Council restores bus line",
                                                                        [WIRE[0], "Read more."]),
    "http://preview-b.test/2024/03/02/storm-closes-harbour": page("Storm closes harbour", [OTHER[0], "Read more."]),
    "http://list.test/2024/03/03/top-stories": page("Top stories", prose(1, 15) + [WIRE[0], OTHER[0]] + prose(2, 15)),
}
PAGES["http://one.test/2024/03/01/council-restores-bus-line-print"] = PAGES[
    "http://one.test/2024/03/01/council-restores-bus-line"]   # the same page captured under a second URL


def write_warc(path):
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        for i, (url, body) in enumerate(PAGES.items()):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": f"2024-03-0{1 + i % 3}T0{i % 10}:00:00Z"}))


def test_ingest_links_trimmed_copies_and_versions_without_chaining_through_the_listing(tmp_path):
    warc, db = tmp_path / "set.warc", str(tmp_path / "set.db")
    write_warc(warc)
    result = runner.invoke(app, ["ingest", str(warc), "--db", db, "--quiet"])
    assert result.exit_code == 0, result.output
    exported = json.loads(runner.invoke(app, ["export", "--format", "json", "--db", db]).output)
    story = {a["url"]: a["story"] for a in exported["articles"] if a["story"]}
    wire = story["http://wire.test/2024/03/01/council-restores-bus-line"]
    assert {u for u, s in story.items() if s == wire} == {
        "http://wire.test/2024/03/01/council-restores-bus-line", "http://one.test/2024/03/01/council-restores-bus-line",
        "http://one.test/2024/03/01/council-restores-bus-line-print",      # the twin is reported with its story
        "http://two.test/2024/03/02/buses-return", "http://three.test/2024/03/03/bus-line-back",
        "http://four.test/2024/03/03/bus-line-back", "http://preview-a.test/2024/03/02/council-restores-bus-line"}
    harbour = story["http://harbour.test/2024/03/01/storm-closes-harbour"]
    assert story["http://preview-b.test/2024/03/02/storm-closes-harbour"] == harbour != wire
    listing = story["http://list.test/2024/03/03/top-stories"]
    assert listing not in (wire, harbour)
    rows = {a["url"]: a for a in exported["articles"] if a["story"]}
    assert rows["http://list.test/2024/03/03/top-stories"]["role"] == "aggregate"
    assert set(rows["http://list.test/2024/03/03/top-stories"]["contains"]) == {wire, harbour}
    assert rows["http://three.test/2024/03/03/bus-line-back"]["version"] == 2
    assert rows["http://four.test/2024/03/03/bus-line-back"]["version"] == 2
    assert rows["http://one.test/2024/03/01/council-restores-bus-line"]["version"] == 1

    tree = json.loads(runner.invoke(app, ["lineage", wire, "--db", db, "--json"]).output)
    assert [v["version"] for v in tree["versions"]] == [1, 2]
    assert tree["versions"][1]["changes"]["counts"]["rewritten"] == 1
    assert [c["story"] for c in tree["contained_in"]] == [listing]
    shown = runner.invoke(app, ["lineage", wire, "--db", db]).output
    assert "versions of the running file" in shown and "[version 2]" in shown
    store = Store(db, create=False)
    assert {(r["url"], r["contained_story"]) for r in store.contains()} >= {
        ("http://list.test/2024/03/03/top-stories", wire), ("http://list.test/2024/03/03/top-stories", harbour)}
    store.close()
