"""Table of page kinds: only articles become stories."""

from __future__ import annotations

import lxml.html
import pytest

from crawler.page.classify import classify_page, looks_like_article_url

PROSE = ("The council voted on Tuesday to keep the bus line open, after residents packed the hearing and "
         "warned that the cuts would leave the east side without a route to the hospital and the schools.")


def prose(n):
    return "".join(f"<p>{PROSE} Paragraph {i}.</p>" for i in range(n))


def links(n, prefix="/news/2020/02/"):
    return "<ul>" + "".join(f'<li><a href="{prefix}{i:02d}/story-{i}">Story {i} headline here</a></li>'
                            for i in range(n)) + "</ul>"


def tree(body, head=""):
    return lxml.html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


OG_ARTICLE = '<meta property="og:type" content="article">'
OG_WEBSITE = '<meta property="og:type" content="website">'

CASES = [
    # (url, head, body, kind)
    ("http://a.example/", "", links(30) + prose(2), "home"),
    ("http://a.example/index.html", "", links(30), "home"),
    ("http://a.example/tag/budget/", "", links(20), "tag"),
    ("http://a.example/topics/climate", "", links(20) + prose(1), "tag"),
    ("http://a.example/author/jake-johnson/", "", "<h1>Jake Johnson</h1>" + prose(1) + links(15), "author"),
    ("http://a.example/category/world/page/2", "", links(25), "section"),
    ("http://a.example/news?page=3", "", links(25), "section"),
    ("http://a.example/about-us/", "", "<h1>About us</h1>" + prose(4), "about"),
    ("http://a.example/privacy-policy", "", "<h1>Privacy</h1>" + prose(6), "static"),
    ("http://a.example/search?q=budget", "", links(10), "search"),
    ("http://a.example/feed/", "", "", "feed"),
    # articles: metadata, prose, and short pieces
    ("http://a.example/news/2020/02/07/council-keeps-bus-line", OG_ARTICLE, "<h1>Council keeps bus line</h1>" + prose(5),
     "article"),
    ("http://a.example/p/council-keeps-bus-line", "", "<h1>Council keeps bus line</h1>" + prose(4) + links(10),
     "article"),
    ("http://a.example/stories/2020/0207/bus-line.htm", "",
     "<h2>Bus line stays</h2><p>By Ana Ruiz</p>" + prose(1) + "<p>Read the full article at The Ledger.</p>", "article"),
    ("http://a.example/news/41172", "", '<h1>Bus line stays</h1><time datetime="2020-02-07">7 Feb</time>' + prose(1),
     "article"),
    # not articles, although they have some text
    ("http://a.example/section/world", OG_WEBSITE, "<h1>World</h1>" + prose(1) + links(20), "section"),
    ("http://a.example/weird-listing", "", "<h1>Latest</h1>" + links(40), "section"),
    ("http://a.example/contact-thanks", "", "<h1>Thanks</h1><p>We will get back to you.</p>", "other"),
]


@pytest.mark.parametrize("url,head,body,kind", CASES)
def test_page_kinds(url, head, body, kind):
    assert classify_page(url, tree(body, head)) == kind


@pytest.mark.parametrize("url,expected", [
    ("http://a.example/news/2020/02/07/council-keeps-bus-line", True),
    ("http://a.example/news/41172", True),
    ("http://a.example/council-keeps-bus-line-open.html", True),
    ("http://a.example/", False),
    ("http://a.example/tag/budget", False),
    ("http://a.example/about/", False),
    ("http://a.example/category/world/page/2", False),
])
def test_article_url_prior(url, expected):
    assert looks_like_article_url(url) is expected
