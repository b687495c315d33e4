import gzip
from urllib.parse import urljoin

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.listings import ListingFrontier, listing_entries
from crawler.page import urls
from crawler.page.urls import canonicalize_url, fast_links, is_fetchable, site_of, url_key
from crawler.robots import robots_crawl_delay, robots_sitemaps


@pytest.mark.parametrize("raw,expected", [
    ("HTTP://Example.COM/a", "http://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:8080/a", "http://example.com:8080/a"),
    ("http://example.com/a#section", "http://example.com/a"),
    ("http://example.com/a?utm_source=x&utm_medium=y", "http://example.com/a"),
    ("http://example.com/a?fbclid=IwAR1413833", "http://example.com/a"),
    ("http://example.com/a?gclid=1&id=7", "http://example.com/a?id=7"),
    ("http://example.com/a?b=2&a=1", "http://example.com/a?a=1&b=2"),
    ("http://example.com/a?ref=related", "http://example.com/a"),
    ("http://example.com/a/./b/../c", "http://example.com/a/c"),
    ("http://example.com//a//b", "http://example.com/a/b"),
    ("http://example.com", "http://example.com/"),
    ("http://example.com/dir/", "http://example.com/dir/"),
    ("http://example.com/a%20b", "http://example.com/a%20b"),
    ("http://example.com/a b", "http://example.com/a%20b"),
    ("http://Bücher.example/", "http://xn--bcher-kva.example/"),
    ("  http://example.com/a  ", "http://example.com/a"),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
    ("not a url", "not a url"),
])
def test_canonicalize(raw, expected):
    assert canonicalize_url(raw) == expected


def test_relative_links_resolve_against_the_page():
    assert canonicalize_url("../x/", "http://a.example/b/c/d") == "http://a.example/b/x/"
    assert canonicalize_url("/y?utm_campaign=z", "http://a.example/b") == "http://a.example/y"


@pytest.mark.parametrize("url,key", [
    ("https://www.a.example/x/?fbclid=1", "http://www.a.example/x"),
    ("http://a.example", "http://a.example/"),
    ("http://a.example/story/", "http://a.example/story"),
])
def test_url_key(url, key):
    assert url_key(url) == key


@pytest.mark.parametrize("url,ok", [
    ("http://a.example/", True), ("https://a.example/x", True), ("file:///etc/passwd", False),
    ("ftp://a.example/", False), ("data:text/html,hi", False), ("javascript:alert(1)", False), ("http://", False),
    ("http://0::?#", False), ("http://a.example:99999/", False), ("http://a.example:8080/", True),
])
def test_only_http_and_https_are_fetchable(url, ok):
    assert is_fetchable(url) is ok


def test_site_of_strips_www():
    assert site_of("http://www.Global.example/x") == "global.example"


def test_fast_links_absolute_canonical_and_unique():
    html = b"""<html><head><base href="/news/"><link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>
    <body><a href="story?utm_source=x">1</a><a href="story">2</a><a href="mailto:x@y">m</a><a href="#top">t</a>
    <a href="javascript:void(0)">j</a><a href="http://other.example/p#frag">o</a></body></html>"""
    assert fast_links(html, "http://a.example/index.html") == [
        "http://a.example/news/story", "http://other.example/p", "http://a.example/rss.xml"]
    assert fast_links(b"", "http://a.example/") == []


def test_sitemaps_feeds_and_robots():
    urlset = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a.example/1</loc></url></urlset>'
    index = b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>http://a.example/s1.xml</loc></sitemap></sitemapindex>'
    assert list(listing_entries(urlset)) == [("page", "http://a.example/1")]
    assert list(listing_entries(index)) == [("listing", "http://a.example/s1.xml")]
    assert list(listing_entries(gzip.compress(urlset))) == [("page", "http://a.example/1")]
    rss = b"<rss><channel><item><link>http://a.example/2</link></item></channel></rss>"
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="http://a.example/3"/></entry></feed>'
    assert list(listing_entries(rss)) == [("page", "http://a.example/2")]
    assert list(listing_entries(atom)) == [("page", "http://a.example/3")]
    assert list(listing_entries(b"\x00\x01garbage")) == [] and list(listing_entries(b"<html>")) == []
    robots = "User-agent: *\nDisallow: /private/\nCrawl-delay: 3\nSitemap: http://a.example/sitemap.xml\n"
    assert robots_sitemaps(robots) == ["http://a.example/sitemap.xml"]
    assert robots_crawl_delay(robots, "syndtrace") == 3.0 and robots_crawl_delay("", "x") is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.sampled_from(["", "http://", "https://", "http://a.example/"]))
def test_canonicalize_never_crashes_and_is_idempotent(text, prefix):
    once = canonicalize_url(prefix + text)
    assert canonicalize_url(once) == once
    if is_fetchable(once):
        assert "#" not in once and "utm_" not in once.split("?")[-1] if "?" in once else True
        assert url_key(url_key(once)) == url_key(once)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from(["http://a.example/", "https://a.example:8443/x/y.html?q=1",
                                              "http://user@a.example/deep/page/", "http://a.example"]))
@example("\n/", "https://a.example:8443/x/y.html?q=1")          # "/\n/" is "//" once the parser drops the line break
@example("\t/other.example/x", "http://a.example/")             # a link to another host, not a path
def test_a_root_relative_link_reads_as_urljoin_reads_it(path, base):
    """canonicalize_url caches root-relative links by the page's origin: the same URL as joining to the whole page
    address (the general path, which keeps a space the join leaves at the end: "/ ;" gives ".../%20")."""
    href = "/" + path.lstrip("/")
    try:
        joined = urljoin(base, href.strip())
    except ValueError:
        return
    assert canonicalize_url(href, base) == urls._canonical(joined)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["http://", "https://"]), st.text(max_size=60),
       st.sampled_from(["http://a.example/", "https://a.example:8443/x/y.html?q=1", "http://user@a.example/deep/page/",
                        "https://a.example", "ftp://a.example/x"]))
@example("http://", "b.example/../x/./y;p?utm_source=z&b=1#top", "https://a.example")   # another scheme: taken whole
@example("https://", "/b.example/x", "https://a.example")                                # no host: a path of the page's
@example("http://", "[b.example/x", "http://a.example/")                                 # junk a join refuses
def test_an_absolute_link_reads_as_urljoin_reads_it(scheme, rest, base):
    """canonicalize_url caches absolute links by the page's scheme only: the same URL as joining to the whole page
    address."""
    href = scheme + rest
    try:
        joined = urls._canonical(urljoin(base, href.strip()))
    except ValueError:
        joined = href.strip()
    assert canonicalize_url(href, base) == joined


def _listing(*urls):
    return iter([("page", u) for u in urls])


def test_a_listing_that_opens_while_another_is_read_is_not_dropped_unread():
    """Scrapy interleaves the spider's callbacks' output: a new listing may open while an older one is read at a
    ``yield``. Reading the older one to its end closes that one, not the newest (which used to be lost unread)."""
    frontier = ListingFrontier()
    frontier.opened(_listing("http://a.example/1", "http://a.example/2"), 0, "a.example")
    reader = frontier.take(10, lambda url: True)
    assert next(reader)[1] == "http://a.example/1"
    frontier.opened(_listing("http://b.example/1", "http://b.example/2"), 0, "b.example")
    taken = [url for _kind, url, _depth in reader]
    taken += [url for _kind, url, _depth in frontier.take(10, lambda url: True)]
    assert sorted(taken) == ["http://a.example/2", "http://b.example/1", "http://b.example/2"]
    assert not frontier.pending()


def test_two_readers_of_one_listing_close_it_once():
    """A reader waiting at a ``yield`` while another reads the same listing to its end (the crawl logged
    "IndexError: pop from empty list")."""
    frontier = ListingFrontier()
    frontier.opened(_listing("http://a.example/1", "http://a.example/2"), 0, "a.example")
    first = frontier.take(10, lambda url: True)
    assert next(first)[1] == "http://a.example/1"
    assert [url for _kind, url, _depth in frontier.take(10, lambda url: True)] == ["http://a.example/2"]
    assert list(first) == []
    assert not frontier.pending()
