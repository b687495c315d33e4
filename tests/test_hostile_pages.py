"""Hostile pages served on 127.0.0.1 (issue 17): invisible characters, bombs of listing files, endless
crawls, unbounded sitemaps, addresses a page should not make the crawler reach."""

from __future__ import annotations

import pytest

from cli.jobs import crawl_and_trace
from crawler.localserver import LocalWeb
from crawler.options import CrawlOptions
from crawler.page.decode import clean_text, decode_html
from tests.conftest import query
from tests.test_crawl import article, write


def crawl_options(server, seeds, **kw) -> CrawlOptions:
    return CrawlOptions(seeds=tuple(seeds), proxy=server.proxy, delay=0, concurrency=8, per_site=4,
                        autothrottle=False, extract_workers=1, **kw)


# -- item 1: one invisible character must not hide a copy ------------------------------------------------

ORIGINAL = article("Harbor council restores the night bus line", date="2021-03-04")
HIDDEN = {   # copy host -> the verbatim copy with one invisible character or reference somewhere
    "entity.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>&#1;", 1),
    "hexentity.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>&#x1b;[31m", 1),
    "soh.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>\x01", 1),
    "formfeed.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>\x0c", 1),
    "escape.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>\x1b[2J", 1),
    "nonchar.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>\ufffe", 1),
    "headline.example": ORIGINAL.replace("<h1>Harbor", "<h1>Har\x01bor\x1b").replace("<title>Harbor", "<title>\x07Harbor"),
    "nul.example": ORIGINAL.replace("<head>", "<head>\x00"),
}


@pytest.fixture
def invisible_web(tmp_path):
    root = str(tmp_path / "sites")
    for host, page in {"origin.example": ORIGINAL, **HIDDEN}.items():
        write(root, host, "/", '<html><body><a href="/2021/03/night-bus.html">story</a></body></html>')
        write(root, host, "/2021/03/night-bus.html", page)
        write(root, host, "/robots.txt", "User-agent: *\nAllow: /\n")
    with LocalWeb(root) as server:
        yield server


def test_invisible_characters_do_not_hide_a_copy(invisible_web, tmp_path):
    db = str(tmp_path / "inv.db")
    hosts = ["origin.example", *HIDDEN]
    crawl_and_trace(db, crawl_options(invisible_web, [f"http://{h}/" for h in hosts]))
    rows = {r["site"]: dict(r) for r in query(
        db, "select a.site, a.title, a.text, m.story_id from articles a left join members m on m.url = a.url "
            "where a.page_type = 'article'")}
    assert set(rows) == set(hosts), sorted(set(hosts) - set(rows))
    origin = rows["origin.example"]
    for host in HIDDEN:
        row = rows[host]
        assert len(row["text"]) > 0.9 * len(origin["text"]), host
        assert row["story_id"] == origin["story_id"], host
        assert row["title"].replace(" ", "") == origin["title"].replace(" ", ""), (host, row["title"])
        assert not any(ord(c) < 32 and c not in "\t\n\r" for c in row["title"] + row["text"]), host


@pytest.mark.parametrize("raw,clean", [
    ("a\x01b\x1b[31mc\x7fd\x85e", "ab[31mcde"),
    ("tab\tnew\nline\r", "tab\tnew\nline\r"),
    ("form\x0cfeed", "form feed"),
    ("&#1;&#x1B;&#0;&#xfffe;&#65535;&#x10FFFF;&#12;", " "),
    ("&#150; &#8217; &#x41; &#9;", "&#150; &#8217; &#x41; &#9;"),   # the parser reads these as browsers do
    ("\ufffe\uffff\ufdd0\U0001fffe\ud800", ""),
    ("cafe\u0301 \U0001F600", "caf\u00e9 \U0001F600"),
])
def test_page_text_is_cleaned_once_where_it_is_decoded(raw, clean):
    assert clean_text(raw) == clean
    assert decode_html(raw.encode("utf-8", "surrogatepass")) == clean or "\ud800" in raw
