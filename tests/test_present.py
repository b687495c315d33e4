"""The read side (cli.present.tables) and the export formats, on a small stored and traced database."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from cli.present.export import export, to_csv, to_graphml
from cli.present.tables import (
    audit_table,
    compare_pages,
    export_object,
    find_story,
    search_articles,
    stories_table,
    story_tree,
)
from crawler.errors import UserInputError
from crawler.storage.records import FetchRecord
from crawler.warc import read_warc
from dedupe.pipeline import update_stories

BODY = [f"Paragraph {i} of the council budget story, about the schools and the transit line and taxes." for i in
        range(8)]
OTHER = [f"Paragraph {i} of an unrelated report on the harbour, the storm and the fishing fleet's losses." for i in
         range(8)]
ORIGIN, COPY, SCRAPE = "http://origin.example/budget", "http://copy.example/budget", "http://scrape.example/budget"
LONE, TAG = "http://other.example/harbour", "http://origin.example/tag/budget"
CREDIT = {"credits": [{"outlet": "Origin", "host": "origin.example", "url": ORIGIN, "role": "source",
                       "text": "Originally published by Origin."}], "content_links": [ORIGIN]}


def add(store, url, paragraphs, page_type="article", **fields):
    store.save_fetch(FetchRecord(url=url, requested_url=url, final_url=url, status=200,
                                 headers={"content-type": "text/html; charset=utf-8"},
                                 body=f"<html><body><h1>{url}</h1></body></html>".encode(),
                                 fetched_at="2020-02-12T00:00:00+00:00"))
    store.save_article({"url": url, "site": url.split("/")[2], "page_type": page_type, "paragraphs": paragraphs,
                        "text": "\n".join(paragraphs), **fields})


@pytest.fixture
def traced(store):
    add(store, ORIGIN, BODY, title="Budget <vote> & schools", author="Ana Ruiz", published="2020-02-07T10:00:00+00:00")
    add(store, COPY, BODY + ["Originally published by Origin."], title="Budget vote", author="Ana Ruiz",
        published="2020-02-09T10:00:00+00:00", attribution=CREDIT)
    add(store, SCRAPE, BODY[:6] + ["Earn passive income now, click here for the offer."], title="Budget",
        author="admin", published="2020-02-10T10:00:00+00:00")
    add(store, LONE, OTHER, title="Harbour storm", published="2020-03-01")
    add(store, TAG, [], page_type="tag", title="Budget tag", published="2020-02-11")
    store.save_alias("http://short.example/b", COPY, status=301)   # a short link that redirects
    run = store.start_run("ingest")
    update_stories(store, run_id=run)
    return store


def test_export_object_lists_every_page_and_each_articles_story(traced):
    rows = {a["url"]: a for a in export_object(traced)["articles"]}
    assert set(rows) == {ORIGIN, COPY, SCRAPE, LONE, TAG}
    # a page that is not an article keeps what it says it is and its date
    assert rows[TAG] == {"url": TAG, "story": None, "page_type": "tag", "title": "Budget tag",
                         "published": "2020-02-11", "author": None, "authors": []}
    assert rows[ORIGIN]["authors"] == ["Ana Ruiz"]      # a row stored without a list: its one author
    assert rows[ORIGIN]["is_origin"] and rows[ORIGIN]["attribution"]["verdict"] == "origin"
    assert rows[COPY]["parent"] == ORIGIN and rows[COPY]["story"] == rows[ORIGIN]["story"]
    assert rows[COPY]["attribution"] == {"credits_origin": True, "links_to_origin": True, "author_kept": True,
                                         "license": None, "verdict": "credited"}
    assert rows[SCRAPE]["attribution"]["verdict"] == "uncredited"
    assert rows[LONE]["story"] != rows[ORIGIN]["story"]


def test_a_story_is_found_by_id_by_url_and_by_a_redirect(traced):
    sid = traced.story_of(ORIGIN)
    assert find_story(traced, sid) == find_story(traced, COPY) == find_story(traced, "http://short.example/b") == sid
    with pytest.raises(UserInputError, match="unknown URL or story"):
        find_story(traced, "http://nowhere.example/x")


def test_story_tree_runs_from_the_origin_with_lags(traced):
    tree = story_tree(traced, COPY)
    assert tree["size"] == 3 and tree["origin"]["url"] == ORIGIN and tree["origin"]["lag"] is None
    children = {c["url"]: c for c in tree["origin"]["children"]}
    assert set(children) == {COPY, SCRAPE}
    assert children[COPY]["lag"] == "+2.0 d" and children[COPY]["verdict"] == "credited"


def test_stories_table_filters_and_sorts(traced):
    spread = stories_table(traced)
    assert [r["copies"] for r in spread] == [2, 0]
    assert spread[0]["origin_site"] == "origin.example" and spread[0]["uncredited"] == 1
    assert [r["story"] for r in stories_table(traced, sort="recent")] == [r["story"] for r in reversed(spread)]
    assert len(stories_table(traced, min_copies=1)) == 1
    assert [r["origin"] for r in stories_table(traced, site="other.example")] == [LONE]
    assert [r["origin"] for r in stories_table(traced, since="2020-03-01")] == [LONE]
    assert len(stories_table(traced, new_in_run=traced.runs(1)[0]["id"])) == 2
    assert stories_table(traced, new_in_run=-1) == []
    with pytest.raises(UserInputError, match="unknown sort"):
        stories_table(traced, sort="alphabetical")


def test_audit_table_lists_copies_by_publisher_and_verdict(traced):
    rows = audit_table(traced)
    assert {r["url"]: r["verdict"] for r in rows} == {COPY: "credited", SCRAPE: "uncredited"}
    assert all(r["origin"] == ORIGIN for r in rows)
    assert [r["url"] for r in audit_table(traced, verdicts=["uncredited"])] == [SCRAPE]
    assert audit_table(traced, origin_site="copy.example") == []


def test_search_finds_articles_with_their_story(traced):
    found = search_articles(traced, "harbour")
    assert [r["url"] for r in found] == [LONE] and found[0]["story"] == traced.story_of(LONE)
    assert [r["url"] for r in search_articles(traced, 'harbour "unclosed')] == []   # words, not FTS5 syntax
    assert [r["url"] for r in search_articles(traced, "fishing-fleet")] == [LONE]    # no "no such column: harbour"
    assert "\ue000storm\ue001" in found[0]["snippet"] or "\ue000Storm\ue001" in found[0]["snippet"] or \
        "\ue000harbour\ue001" in found[0]["snippet"]
    assert [r["url"] for r in search_articles(traced, "harb* NOT budget", raw=True)] == [LONE]
    with pytest.raises(UserInputError, match="bad search expression"):
        search_articles(traced, 'harbour "unclosed', raw=True)
    with pytest.raises(UserInputError, match="search for what"):
        search_articles(traced, "  ")


def test_compare_pages_lists_added_removed_and_kept_paragraphs(traced):
    diff = compare_pages(traced, ORIGIN, SCRAPE)
    assert diff["added"] == ["Earn passive income now, click here for the offer."]
    assert diff["removed"] == BODY[6:] and diff["kept"] == 6
    assert compare_pages(traced, ORIGIN, "http://short.example/b")["b"] == COPY
    with pytest.raises(UserInputError, match="unknown URL"):
        compare_pages(traced, ORIGIN, "http://nowhere.example/x")


def test_csv_and_graphml_hold_the_articles_in_stories(traced):
    obj = export_object(traced)
    rows = list(csv.DictReader(io.StringIO(to_csv(obj))))
    assert {r["url"]: r["verdict"] for r in rows} == {ORIGIN: "origin", COPY: "credited", SCRAPE: "uncredited",
                                                      LONE: "origin"}
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    graph = ET.fromstring(to_graphml(obj))
    assert len(graph.findall(".//g:node", ns)) == 4
    edges = {(e.get("source"), e.get("target")) for e in graph.findall(".//g:edge", ns)}
    assert edges == {(ORIGIN, COPY), (ORIGIN, SCRAPE)}
    titles = [d.text for d in graph.findall(".//g:data[@key='title']", ns)]
    assert "Budget <vote> & schools" in titles   # escaped in the file, the same text when read


def test_export_writes_files_and_refuses_bad_requests(traced, tmp_path):
    out = tmp_path / "result.json"
    assert export(traced, "json", str(out)) == "5 pages (4 articles in stories)"
    assert json.loads(out.read_text())["articles"] == json.loads(json.dumps(export_object(traced)))["articles"]
    html = tmp_path / "report.html"
    export(traced, "html", str(html))
    assert "Budget &lt;vote&gt; &amp; schools" in html.read_text()
    warc = tmp_path / "story.warc.gz"
    assert export(traced, "warc", str(warc), story=COPY) == "3 WARC records"
    records, problems = read_warc(str(warc))
    assert sorted(r.url for r in records) == sorted([ORIGIN, COPY, SCRAPE]) and problems == []
    with pytest.raises(UserInputError, match="unknown format"):
        export(traced, "pdf", None)
    with pytest.raises(UserInputError, match="needs --story"):
        export(traced, "warc", str(warc))
    with pytest.raises(UserInputError, match="cannot write"):
        export(traced, "csv", str(tmp_path / "no" / "such" / "dir.csv"))
