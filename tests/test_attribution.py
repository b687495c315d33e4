"""Table tests for the attribution reader: credits, copyright lines, licences, and what is not credit."""

import re
import re._parser as sre_parse
from re._constants import BRANCH, IN, LITERAL, RANGE, SUBPATTERN

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.present.tables import export_object
from crawler.page.attribution import (
    _CREDIT_CUE,
    _SOURCE_PATTERNS,
    _SOURCE_WORDS,
    Attribution,
    OutletDirectory,
    edge_line_credit,
    read_attribution,
)
from crawler.storage.store import Store
from crawler.warc import ingest_files
from dedupe.pipeline import update_stories
from tests.test_faults import article_html, make_warc

BODY = "<p>" + "The council met on Tuesday to discuss the new transit budget and its consequences. " * 4 + "</p>"
PAGE = "http://copy.example/2020/02/10/story"


def directory():
    d = OutletDirectory()
    for host, name in [("commondreams.example", "Common Dreams"), ("meridianledger.example", "The Meridian Ledger"),
                       ("atlasobserver.example", "Atlas Observer"), ("civicwire.example", "Civic Wire"),
                       ("peoplesvoice.example", "People's Voice Network"), ("signalnoise.example", "Signal & Noise"),
                       ("globalresearch.example", "Global Research"), ("copy.example", "The Copy")]:
        d.add(host, name)
    return d


def page(content: str, extra: str = "") -> str:
    return (f"<html><head>{extra}</head><body><nav><a href='/'>Home</a></nav><article><h1>Headline</h1>"
            f"{BODY}{content}</article><aside class='sidebar'><a href='http://commondreams.example/'>Common Dreams</a>"
            f"</aside><footer>Copyright © The Copy. All rights reserved.</footer></body></html>")


def credits(content, extra=""):
    a = read_attribution(page(content, extra), PAGE, directory())
    return [(c.host, c.role) for c in a.credits], a


CREDITED = [
    # the seed's own credit line, as Global Research prints it
    (('<p><em>The original source of this article is <a href="http://commondreams.example">Common Dreams</a> Copyright © '
     '<a href="/author/jake-johnson/">Jake Johnson</a>, <a href="http://commondreams.example">Common Dreams</a>, 2020</em></p>'),
     "commondreams.example", "source"),
    ("<p>The original source of this article is Common Dreams</p>", "commondreams.example", "source"),
    ("<p>This article originally appeared on Common Dreams.</p>", "commondreams.example", "source"),
    ("<p>This article originally appeared in The Meridian Ledger.</p>", "meridianledger.example", "source"),
    ("<p>This story was originally published by Civic Wire and is republished here.</p>", "civicwire.example", "source"),
    (('<p>Republished from <a href="http://civicwire.example">Civic Wire</a> under a '
     '<a href="https://creativecommons.org/licenses/by-nd/4.0/">Creative Commons licence</a>.</p>'), "civicwire.example", "source"),
    (("<p>This article is republished from Civic Wire under the Creative Commons licence CC BY-ND 4.0. "
     "Read the original article.</p>"), "civicwire.example", "source"),
    ("<p>Reprinted with permission from Atlas Observer.</p>", "atlasobserver.example", "permission"),
    ("<p>Reproduced with the kind permission of The Meridian Ledger.</p>", "meridianledger.example", "permission"),
    ("<p>First published by Atlas Observer.</p>", "atlasobserver.example", "source"),
    ("<p><em>First published by <a href='http://atlasobserver.example'>Atlas Observer</a>.</em></p>", "atlasobserver.example", "source"),
    ("<p>Source: Common Dreams</p>", "commondreams.example", "source"),
    ("<p>SOURCE: The Meridian Ledger</p>", "meridianledger.example", "source"),
    ("<p>Via Civic Wire</p>", "civicwire.example", "via"),
    ("<p>This piece was first published at Atlas Observer and is reproduced here with permission.</p>",
     "atlasobserver.example", "source"),
    ("<p>Originally published at The Meridian Ledger on February 7, 2020.</p>", "meridianledger.example", "source"),
    ("<p>Jake Johnson wrote this article for Common Dreams.</p>", "commondreams.example", "author"),
    ("<p>Thomas Delgado wrote this article for People's Voice Network.</p>", "peoplesvoice.example", "author"),
    ('<p>Read the full article at <a href="http://commondreams.example/">Common Dreams</a></p>', "commondreams.example", "excerpt"),
    ("<p>Continue reading at Signal & Noise</p>", "signalnoise.example", "excerpt"),
    ("<p>Read more at Civic Wire</p>", "civicwire.example", "excerpt"),
    ("<p>This is an excerpt. The full story, by Jake Johnson, is available from Common Dreams.</p>",
     "commondreams.example", "excerpt"),
    ("<p>Courtesy of Global Research.</p>", "globalresearch.example", "source"),
    ("<p>Cross-posted from Civic Wire.</p>", "civicwire.example", "source"),
    ('<p>This story first ran on <a href="https://www.propublica.example/article/x">ProPublica</a>.</p>',
     "propublica.example", "source"),
    ("<p>Adapted from Signal & Noise.</p>", "signalnoise.example", "source"),
    ("<p>Syndicated from The Meridian Ledger</p>", "meridianledger.example", "source"),
    # phrasings no pattern lists: a short standalone line with a credit cue and a known outlet or a link
    ("<p>This report was produced by Civic Wire and is shared here with its consent.</p>", "civicwire.example",
     "permission"),
    ("<p>The Meridian Ledger published this story first.</p>", "meridianledger.example", "source"),
    ("<p>Thanks to Atlas Observer for letting us share this article.</p>", "atlasobserver.example", "source"),
    ("<p>We republish this with the permission of Signal & Noise.</p>", "signalnoise.example", "permission"),
    ("<p>Distributed by People's Voice Network.</p>", "peoplesvoice.example", "source"),
    ('<p>This article was shared with us by <a href="http://civicwire.example/2020/x">our friends</a>.</p>',
     "civicwire.example", "source"),
]


@pytest.mark.parametrize("content,host,role", CREDITED)
def test_credit_statements(content, host, role):
    found, _ = credits(content)
    assert (host, role) in found


NOT_CREDIT = [
    # quoting an outlet is reporting, not crediting it as the source
    "<p>Iraqi intelligence officials told the New York Times that they believe ISIS was responsible.</p>",
    "<p>The Times reported Thursday that officials had raised doubts.</p>",
    # the republisher's own furniture from the seed
    "<p>Note to readers: please click the share buttons above or below. Forward this article to your email lists.</p>",
    ("<div class='disclaimer'><p>Disclaimer: The contents of this article are of sole responsibility of the author(s). "
    "The Centre for Research on Globalization grants permission to cross-post Global Research articles on community "
    "internet sites as long the source and copyright are acknowledged.</p></div>"),
    "<p>Comment on Global Research Articles on our Facebook page</p>",
    "<p>Become a Member of Global Research</p>",
    # comments, blogrolls, related boxes are never credit
    "<div id='comments'><div class='comment'><p>This originally appeared on Common Dreams, I think.</p></div></div>",
    "<div class='widget blogroll'><ul><li><a href='http://civicwire.example/'>Civic Wire</a></li></ul></div>",
    "<aside class='related'><h3>Related</h3><a href='http://atlasobserver.example/x'>Source: Atlas Observer</a></aside>",
    # photo credits and the page's own name
    "<figure><figcaption>Photo: Common Dreams</figcaption></figure>" if False else "<p>Photo by Jane Smith.</p>",
    "<p>Source: The Copy</p>",
    "<p>A joint press release from Patients for Fair Prices and local officials read in part: it is time.</p>",
    # an outlet named in the story's own reporting, however short the sentence
    "<p>Civic Wire first reported the allegations in March, and the council denied them at the time.</p>",
    "<p>Follow Atlas Observer on social media.</p>",
    "<p>According to The Meridian Ledger, the council voted against the plan on Tuesday night.</p>",
]


@pytest.mark.parametrize("content", NOT_CREDIT)
def test_not_credit(content):
    found, _ = credits(content)
    assert found == []


def test_outlet_names_stop_at_dates_and_clauses():
    _found, a = credits("<p>Originally published at The Meridian Ledger on April 13, 2020.</p>")
    assert a.credits[0].outlet == "The Meridian Ledger"
    _, a = credits("<p>This piece was first published at Atlas Observer and is reproduced here with permission.</p>")
    assert a.credits[0].outlet == "Atlas Observer" and a.permission


def test_one_credit_per_outlet():
    found, _ = credits('<p>The original source of this article is <a href="http://commondreams.example">Common Dreams</a> '
                       'Copyright © Jake Johnson, <a href="http://commondreams.example">Common Dreams</a>, 2020</p>')
    assert found == [("commondreams.example", "source")]


@pytest.mark.parametrize("content,copyright,author", [
    ("<p>The original source of this article is Common Dreams Copyright © Jake Johnson, Common Dreams, 2020</p>",
     "Copyright © Jake Johnson, Common Dreams, 2020", "Jake Johnson"),
    ("<p>Copyright © Raul Soto, Civic Wire, 2021</p>", "Copyright © Raul Soto, Civic Wire, 2021", "Raul Soto"),
    ("<p>This is an excerpt. The full story, by Hector Sato, is available from Global Research.</p>", None, "Hector Sato"),
])
def test_copyright_lines_and_credited_authors(content, copyright, author):
    _, a = credits(content)
    assert a.copyright == copyright and a.credited_author == author


def test_site_footer_copyright_is_not_the_articles():
    _, a = credits("")
    assert a.copyright is None


@pytest.mark.parametrize("line,permission,copyright", [
    # ASCII lines skip the patterns unless they hold the words, in any case: "(C)" is a copyright sign too
    ("<p>(C) 2021 Raul Soto, Civic Wire</p>", False, "(C) 2021 Raul Soto, Civic Wire"),
    ("<p>COPYRIGHT 2021 RAUL SOTO</p>", False, "COPYRIGHT 2021 RAUL SOTO"),
    ("<p>Shared WITH Kind PERMISSION.</p>", True, None),
    # other lines always meet the patterns, which fold ſ (long s) and © as ASCII lowercase never does
    ("<p>Shared with permiſſion.</p>", True, None),
    ("<p>© 2021 Raul Soto, Civic Wire</p>", False, "© 2021 Raul Soto, Civic Wire"),
    ("<p>The council voted with a clear majority.</p>", False, None),
])
def test_permission_and_copyright_lines_in_any_case(line, permission, copyright):
    _, a = credits(line)
    assert (a.permission, a.copyright) == (permission, copyright)


@pytest.mark.parametrize("content,extra,licence", [
    ('<p>Licensed <a rel="license" href="https://creativecommons.org/licenses/by-nd/4.0/">CC BY-ND 4.0</a></p>', "", "CC BY-ND 4.0"),
    (('<p>Our work is licensed under Creative Commons <a href="https://creativecommons.org/licenses/by-nc-nd/3.0/">'
     '(CC BY-NC-ND 3.0)</a>.</p>'), "", "CC BY-NC-ND 3.0"),
    ("<p>This article is republished under the Creative Commons licence CC BY-SA 4.0.</p>", "", "CC BY-SA 4.0"),
    ("<p>Text under CC BY 4.0</p>", "", "CC BY 4.0"),
    ("<p>Text under cc by-sa 4.0</p>", "", "CC BY-SA 4.0"),   # read in any case
    ("<p>Licensed under CREATIVE COMMONS ATTRIBUTION 4.0</p>", "", "CC BY 4.0"),
    ("", '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">', "CC BY 4.0"),
    ("", "", None),
])
def test_licences(content, extra, licence):
    _, a = credits(content, extra)
    assert a.license == licence


def test_content_links_exclude_navigation_sidebars_and_own_site():
    _, a = credits('<p>See <a href="http://commondreams.example/news/1">the report</a> and '
                   '<a href="/about/">our page</a>.</p>')
    assert a.content_links == ["http://commondreams.example/news/1"]


def test_round_trip_dict():
    _, a = credits("<p>Source: Common Dreams</p>")
    assert Attribution.from_dict(a.to_dict()) == a


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_and_never_credits_itself(text):
    for html in (text, page(f"<p>{text}</p>"), page(f"<p>Source: {text}</p>")):
        a = read_attribution(html, PAGE, directory())
        assert all(c.host != "copy.example" for c in a.credits)


def test_a_cue_line_naming_an_outlet_learnt_later_is_resolved_when_stories_are_traced(tmp_path):
    """Pages are read before the crawl knows every outlet's name: the line is kept and resolved at lineage."""
    origin = article_html("Port strike ends after nine days", 8).replace(
        "<head>", '<head><meta property="og:site_name" content="Civic Wire">')
    copy = article_html("Port strike ends after nine days", 8).replace(
        "</article>", "<p>This report was produced by Civic Wire and is shared here with its consent.</p></article>")
    warc = tmp_path / "two.warc.gz"
    make_warc(warc, [("http://copy.example/2021/06/04/port-strike-ends", copy),   # read before the origin
                     ("http://civicwire.example/2021/06/03/port-strike-ends", origin)])
    store = Store(str(tmp_path / "t.db"))
    ingest_files(store, [str(warc)])
    copy_row = store.article("http://copy.example/2021/06/04/port-strike-ends")
    assert copy_row["attribution"]["credits"] == [] and copy_row["attribution"]["cue_lines"]
    update_stories(store)
    result = {a["url"]: a for a in export_object(store)["articles"]}["http://copy.example/2021/06/04/port-strike-ends"]
    assert result["parent"] == "http://civicwire.example/2021/06/03/port-strike-ends"
    assert result["attribution"]["credits_origin"] is True


@pytest.mark.parametrize("line", ["Julkaistu alun perin sivustolla Civic Wire.", "We are grateful to Civic Wire.",
                                  "Το άρθρο δημοσιεύθηκε αρχικά στο civicwire.example."])
def test_a_short_line_at_the_foot_naming_a_known_outlet_is_read_at_lineage_time(line):
    _, a = credits(f"<p>{line}</p>")
    assert a.credits == [] and line in a.edge_lines and line in a.edge_credits
    assert edge_line_credit(line, directory(), "copy.example").host == "civicwire.example"


def test_edge_lines_are_only_at_the_head_or_foot_and_never_the_sites_own_name():
    _, a = credits(f"<p>We are grateful to Civic Wire.</p>{BODY}")   # between two body paragraphs
    assert "We are grateful to Civic Wire." not in a.edge_lines
    assert edge_line_credit("Follow The Copy on Facebook.", directory(), "copy.example") is None
    assert edge_line_credit("See the report.", directory(), "copy.example",
                            [("the report", "http://civicwire.example/x")]) is None     # a link in running text


@pytest.mark.parametrize("kind,pattern", _SOURCE_PATTERNS)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_source_pattern_match_passes_the_one_scan_prefilter(kind, pattern, data):
    """The prefilter repeats the source patterns' words: a pattern (or word) added without it would be skipped."""
    text = data.draw(st.from_regex(pattern, fullmatch=False))
    if pattern.search(text):
        assert _SOURCE_WORDS.search(text), (kind, text)


def _first_letters(items) -> set[str]:
    """The characters a parsed regex item (a literal, a class, a group, an alternation) can start with."""
    op, arg = items[0]
    if op is LITERAL:
        return {chr(arg)}
    if op is IN:
        return {chr(c) for kind, a in arg for c in ([a] if kind is LITERAL else range(a[0], a[1] + 1))
                if kind in (LITERAL, RANGE)}
    if op is SUBPATTERN:
        return _first_letters(arg[-1])
    assert op is BRANCH, (op, arg)   # anything else (an optional first letter) would need a wider lookahead
    return set().union(*(_first_letters(alternative) for alternative in arg[1]))


@pytest.mark.parametrize("pattern", [_CREDIT_CUE, _SOURCE_WORDS])
def test_the_first_letter_lookahead_lists_every_cue_words_first_letter(pattern):
    """The lookahead after the word boundary only skips work: a cue word added without its first letter there
    would never be found."""
    parsed = sre_parse.parse(pattern.pattern, re.I)
    words = parsed[0][1][1][0] if parsed[0][0] is BRANCH else parsed   # the first alternative: \b(?=[…])(?:…)
    (boundary, _), (_, (_, lookahead)), alternation = words[0], words[1], words[2:]
    assert str(boundary) == "AT"
    assert _first_letters(alternation) <= _first_letters(lookahead)
    assert pattern.search("Zuerst erschienen bei X" if pattern is _CREDIT_CUE else "Reprinted from X")
