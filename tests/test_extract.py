"""Extraction on realistic fixture pages (tests/fixtures/pages): metadata, encodings, credits, page kinds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import lxml.html
import pytest
import trafilatura
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.page.dates import parse_visible_date
from crawler.page.decode import decode_html
from crawler.page.dom import _compiled, parse_document, xpath
from crawler.page.extract import _trafilatura_text, extract_page
from crawler.page.metadata import meta_content

PAGES = Path(__file__).parent / "fixtures" / "pages"
ORIGIN = "https://www.commondreams.org/news/2020/02/07/documents-show-agency-changed-guidance"


def extract(name: str, url: str, content_type: str = "text/html"):
    return extract_page((PAGES / name).read_bytes(), url, {"content-type": content_type})


def test_origin_keeps_published_and_modified_dates_and_licence():
    page = extract("origin_jsonld.html", ORIGIN)
    assert page.page_type == "article"
    assert page.title == "Documents Show Agency Changed Guidance"
    assert page.author == "Jake Johnson"
    assert page.published.startswith("2020-02-07")      # the original date, not the update
    assert page.modified.startswith("2020-02-09")
    assert page.site_name == "Common Dreams"
    assert page.canonical == ORIGIN                      # tracking parameter dropped, recorded as evidence
    assert page.attribution["license"] == "CC BY-ND 3.0"
    assert page.attribution["credits"] == []             # a blogroll link in the sidebar is not a credit
    assert any(p.startswith("Update:") for p in page.paragraphs)
    assert not any("Related" in p or "Another story" in p for p in page.paragraphs)


def test_windows_1252_republisher_reads_credit_copyright_and_smart_quotes():
    page = extract("republisher_cp1252.html", "https://www.globalresearch.ca/documents-show-agency/5690015")
    assert page.page_type == "article"
    assert page.author == "Jake Johnson"
    assert page.published == "2020-02-10"
    text = page.text
    assert "agency’s “review” — announced" in text and "\ufffd" not in text
    credit = page.attribution["credits"][0]
    assert (credit["outlet"], credit["role"]) == ("Common Dreams", "source")
    assert credit["url"] == ORIGIN
    assert page.attribution["copyright"] == "Copyright © Jake Johnson, Common Dreams, 2020"
    assert "Great piece" not in text                      # reader comments are not the article


def test_iso_8859_1_page_with_day_first_numeric_date():
    page = extract("latin1_uk.html", "https://www.valleytribune.co.uk/2020/02/10/cafe-owners-protest",
                   "text/html; charset=ISO-8859-1")
    assert page.title == "Café owners protest new rules"
    assert page.author == "Zoë Müller"
    assert page.published == "2020-02-10"                # 10/02/2020 on an en-GB page is 10 February
    assert "cafés and brasseries" in page.text


def test_republisher_showing_the_source_date_gets_its_own_date():
    page = extract("source_date_first.html",
                   "https://blog.example.net/2020/02/11/documents-show-agency-changed-guidance/")
    assert page.published.startswith("2020-02-11T14:03")
    assert page.author == "Jake Johnson"
    assert {c["outlet"] for c in page.attribution["credits"]} == {"Common Dreams"}


def test_time_elements_give_published_and_modified():
    page = extract("time_element.html", "https://harborgazette.example/news/2021/06/03/port-strike")
    assert page.published.startswith("2021-06-03T09:30")
    assert page.modified.startswith("2021-06-05")
    assert page.author == "Maria Lopez"                   # ", Staff Writer" is a role, not a name


def test_listing_page_is_not_an_article():
    page = extract("tag_listing.html", "https://news.example.com/budget-news")
    assert page.page_type == "section"
    assert page.paragraphs == [] and page.attribution == {}


def test_short_excerpt_is_an_article_with_a_read_more_credit():
    page = extract("excerpt.html", "https://headlinehub.example/agency-changed-guidance-documents-show-4411")
    assert page.page_type == "article"
    assert page.published == "2020-02-10T14:03:00"
    credit = page.attribution["credits"][0]
    assert (credit["outlet"], credit["role"], credit["url"]) == ("Common Dreams", "excerpt", ORIGIN)


@pytest.mark.parametrize("body,headers,expected", [
    ("naïve café".encode("cp1252"), {"content-type": "text/html; charset=windows-1252"}, "naïve café"),
    ("naïve café".encode("latin-1"), {"content-type": "text/html; charset=iso-8859-1"}, "naïve café"),
    (b'<meta charset="windows-1252">' + "“quoted”".encode("cp1252"), {}, '<meta charset="windows-1252">“quoted”'),
    ("naïve".encode(), {"content-type": "text/html; charset=iso-8859-1"}, "naÃ¯ve"),   # the label wins
    ("naïve".encode(), {}, "naïve"),
    ("naïve".encode("cp1252"), {}, "naïve"),                        # undeclared, not UTF-8: windows-1252
    (b"\xef\xbb\xbfBOM", {"content-type": "text/html; charset=cp1252"}, "BOM"),
    (b"x", {"content-type": "text/html; charset=no-such-codec"}, "x"),
])
def test_decode_html(body, headers, expected):
    assert decode_html(body, headers) == expected


@pytest.mark.parametrize("text,day_first,expected", [
    ("February 10, 2020", None, (2020, 2, 10, 0, 0)),
    ("Feb. 10, 2020 at 2:03 p.m.", None, (2020, 2, 10, 14, 3)),
    ("Mon 10 Feb 2020 14.03 GMT", None, (2020, 2, 10, 14, 3)),
    ("2020-02-10 14:03", None, (2020, 2, 10, 14, 3)),
    ("10/02/2020", True, (2020, 2, 10, 0, 0)),
    ("02/10/2020", False, (2020, 2, 10, 0, 0)),
    ("25/12/2020", None, (2020, 12, 25, 0, 0)),                    # impossible month: day first
    ("Posted 12 noon, June 3, 2021 by staff", None, (2021, 6, 3, 0, 0)),
])
def test_parse_visible_date(text, day_first, expected):
    when = parse_visible_date(text, day_first)
    assert (when.year, when.month, when.day, when.hour, when.minute) == expected


@pytest.mark.parametrize("text", ["", "no date here", "February 30, 2020", "31/31/2020", "2020-13-45"])
def test_parse_visible_date_rejects_non_dates(text):
    assert parse_visible_date(text) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from([None, True, False]))
def test_parse_visible_date_never_raises(text, day_first):
    when = parse_visible_date(text, day_first)
    assert when is None or 1 <= when.month <= 12


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), st.sampled_from(["%B %d, %Y", "%d %b %Y", "%Y-%m-%d", "%a %d %b %Y %H.%M GMT"]))
def test_parse_visible_date_round_trips_written_dates(day, fmt):
    when = parse_visible_date(f"Published {day.strftime(fmt)} in the morning")
    assert when is not None and when.date() == day


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_extract_page_never_raises_on_garbage(body):
    page = extract_page(body, "https://example.com/2020/01/01/some-story")
    assert page.page_type in {"article", "home", "section", "tag", "author", "about", "static", "search", "feed", "other"}


def test_a_placeholder_byline_is_what_the_page_shows():
    html = ('<html><body><h1 class="post-title">Groups urge halt to pension cuts plan</h1><div class="post-info">'
            '<p class="post-meta">Posted by <span class="author">Staff</span></p></div>'
            + "<p>" + "The council met on Tuesday to discuss the pension plan and the budget for next year. " * 6 + "</p>" * 1
            + "<p>" + "Residents said the cuts would hurt retired teachers and nurses across the county. " * 6 + "</p>"
            + "<p>" + "A spokesperson said the plan would be reviewed before the vote next month again. " * 6 + "</p>"
            + "</body></html>")
    assert extract_page(html, "http://scraper.example/groups-urge-halt-to-pension-cuts-plan.html").author == "Staff"


def test_byline_and_credit_in_the_articles_own_footer():
    body = "".join(f"<p>{'The port authority said the strike had cost the city millions in lost trade this week. ' * 3}</p>"
                   for _ in range(4))
    html = (f'<html><body><div class="top">Site</div><section class="piece"><h3 class="piece-head">Port strike ends</h3>'
            f'<div class="piece-body">{body}</div><footer class="piece-foot"><p class="post-meta">Posted by '
            f'<span class="author">Dara Madsen</span></p><div class="source-date">Originally published by Atlas '
            f'Observer on June 2, 2021</div></footer></section><footer class="foot">© Site</footer></body></html>')
    page = extract_page(html, "http://copy.example/2021/06/03/port-strike-ends")
    assert page.author == "Dara Madsen"
    assert [c["outlet"] for c in page.attribution["credits"]] == ["Atlas Observer"]


def test_table_layout_without_p_or_h1_is_an_article_with_its_credit_line_and_labelled_byline():
    lines = "<br>\n<br>\n".join(["The port authority said the strike had cost the city millions in lost trade. " * 3] * 4)
    html = ('<html><head><title>Port strike ends | El Valle</title></head><body><table class="nota"><tr><td colspan="2">'
            '<font size="5">Port strike ends</font></td></tr><tr><td>Author:</td><td>Dara Madsen</td></tr>'
            f'<tr><td colspan="2">{lines}<br><br>Republished from <a href="http://atlas.example/x">Atlas Observer</a>.'
            '</td></tr></table></body></html>')
    page = extract_page(html, "http://copy.example/news/831599")
    assert page.page_type == "article" and page.authors == ["Dara Madsen"]
    assert [c["outlet"] for c in page.attribution["credits"]] == ["Atlas Observer"]


def test_info_box_aside_beside_the_body_gives_byline_and_date():
    body = "".join(f"<p>{'The port authority said the strike had cost the city millions in lost trade this week. ' * 3}</p>"
                   for _ in range(4))
    html = (f'<html><body><h1>Port strike ends</h1><div class="text">{body}</div><aside class="info"><p>Posted by '
            f'<span class="author">Dara Madsen</span></p><span class="date">June 2, 2021</span></aside>'
            f'<aside class="related"><ul><li><a href="/a">Other story, June 9, 2021</a></li><li><a href="/b">B</a></li>'
            f'</ul></aside></body></html>')
    page = extract_page(html, "http://copy.example/p/port-strike-ends")
    assert page.author == "Dara Madsen" and page.published[:10] == "2021-06-02"


@pytest.mark.parametrize("links", [
    "https://www.harbour-news.example/author/dara-madsen",
    "https://www.harbour-news.example/profile/dara-madsen,https://www.harbour-news.example/profile/olu-bankole",
    "//www.facebook.example/daramadsenwriter",
])
def test_a_profile_link_in_author_metadata_names_no_one(links):
    """OpenGraph's article:author is a profile URL: its slug is not the name the byline shows."""
    body = "".join(f"<p>{'The port authority said the strike had cost the city millions in lost trade this week. ' * 3}</p>"
                   for _ in range(4))
    html = (f'<html><head><meta property="article:author" content="{links}"><meta name="author" content="{links}">'
            f'</head><body><article><h1>Port strike ends</h1><p class="byline">By <a rel="author" '
            f'href="/author/dara-madsen">Dara Madsen</a></p>{body}</article></body></html>')
    page = extract_page(html, "https://www.harbour-news.example/2021/06/03/port-strike-ends")
    assert page.authors == ["Dara Madsen"]


def test_a_rel_author_link_the_noise_filter_dropped_is_the_last_resort():
    """A byline in furniture-like markup (here a ``<header>`` around the headline) still names the authors by
    its rel="author" links when nothing else on the page does; a commenter's rel="author" does not."""
    body = "".join(f"<p>{'The port authority said the strike had cost the city millions in lost trade this week. ' * 3}</p>"
                   for _ in range(4))
    html = ('<html><body><header class="site-header"><h1>Port strike ends</h1><div class="meta">'
            '<a rel="author" href="/profile/dara-madsen">Dara Madsen</a> and <a rel="author" '
            f'href="/profile/olu-bankole">Olu Bankole</a></div></header><div class="text">{body}</div>'
            '<div class="comments"><a rel="author" href="/u/77">Reader Name</a></div></body></html>')
    page = extract_page(html, "https://www.harbour-news.example/2021/06/03/port-strike-ends")
    assert page.authors == ["Dara Madsen", "Olu Bankole"]


def test_body_options_made_once_give_what_trafilaturas_own_arguments_give():
    """The options are made once per mode and copied per page: a trafilatura whose options read something else
    from its arguments (or keep state between pages) would give another body here."""
    for name, url in (("origin_jsonld.html", ORIGIN), ("republisher_cp1252.html", "http://globalresearch.example/a")):
        html = decode_html((PAGES / name).read_bytes())
        for fast in (True, False):
            plain = trafilatura.bare_extraction(html, url=url, fast=fast, include_comments=False, include_tables=False,
                                                with_metadata=False)
            assert plain.text
            assert _trafilatura_text(parse_document(html)[0], url, fast) == plain.text


def test_pages_with_forms_read_the_same_with_plain_element_classes():
    """parse_document makes every element a plain HtmlElement (no FormElement, InputElement…): the body and the
    page's fields are what lxml.html's own classes give."""
    html = ("<html><head><title>Vote tally</title></head><body><form action='/s'><label for='q'>Search</label>"
            "<input id='q' name='q' value='x'><select name='s'><option>a</option></select><textarea>t</textarea>"
            "</form><article><h1>Vote tally</h1><p>By Ann Smith</p>"
            + "".join(f"<p>The council counted the votes of ward {n} again and found the same result. {'More words. ' * 12}</p>"
                      for n in range(5)) + "</article></body></html>")
    tree, _ = parse_document(html)
    assert {type(el) for el in tree.iter()} == {lxml.html.HtmlElement}
    own = lxml.html.fromstring(html.encode(), parser=lxml.html.HTMLParser(encoding="utf-8", remove_comments=True))
    url = "http://votes.example/2021/03/05/tally.html"
    assert _trafilatura_text(tree, url, True) == _trafilatura_text(own, url, True)
    page = extract_page(html.encode(), url)
    assert page.authors == ["Ann Smith"] and page.title == "Vote tally" and "ward 4 again" in page.text


def test_meta_content_takes_the_first_name_first_then_document_order():
    tree, _ = parse_document('<html><head><meta name="twitter:title" content="Tweet title"><meta property="og:title" '
                             'content="  "><meta itemprop="og:title" content="Item title"><meta name="og:title">'
                             '</head><body><meta property="og:title" content="Body title"><p>x</p></body></html>')
    assert meta_content(tree, "og:title", "twitter:title") == "Item title"   # blank content skipped
    assert meta_content(tree, "twitter:title", "og:title") == "Tweet title"
    assert meta_content(tree.find("body"), "og:title") == "Item title"       # the whole page, as //meta reads it
    assert meta_content(tree, "og:site_name") is None


def test_compiled_xpath_answers_as_lxml_does():
    """dom.xpath compiles each expression once and answers what ``el.xpath`` answers: node sets, strings,
    variables, EXSLT regular expressions, queries from an element."""
    tree, _ = parse_document('<html><head><meta name="twitter:label1" content="Written by">'
                             '<meta name="twitter:data1" content="Jane Roe"></head><body><div class="byline">'
                             '<a href="/a">Jane</a></div><p>One</p><p>Two</p></body></html>')
    div = tree.find(".//div")
    label = "//meta[starts-with(@name,'twitter:label')][re:test(@content, '^(written by|author)', 'i')]/@name"
    assert xpath(tree, label) == ["twitter:label1"]
    assert xpath(tree, "//meta[@name=$n]/@content", n="twitter:data1") == ["Jane Roe"]
    assert xpath(tree, "string(//p)") == tree.xpath("string(//p)") == "One"
    assert xpath(div, ".//a[@href]") == div.xpath(".//a[@href]") and xpath(tree, "//p") == tree.xpath("//p")
    before = _compiled.cache_info().hits
    xpath(tree, "//p")
    assert _compiled.cache_info().hits == before + 1

