"""Which of the headlines a page states is its title: the structured one, unless the page's own headline
markup names another one that a metadata statement gives too; labels and site furniture cut."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.page.extract import extract_page
from crawler.page.metadata import _TITLE_SEPARATOR, repeated_affixes

URL = "https://www.kestrel-times.example/politics/2026/03/04/harbour-vote"
BODY = "".join(f"<p>Paragraph {i} of the story, long enough to be read as the body of an article page.</p>"
               for i in range(6))


def page(head: str = "", body_head: str = "", headline: str | None = None, title: str = "") -> str:
    """An article page; ``headline`` goes in its JSON-LD NewsArticle."""
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "datePublished": "2026-03-04T09:00:00+01:00"}
    if headline:
        ld["headline"] = headline
    return (f"<html><head><title>{title}</title>{head}"
            f'<script type="application/ld+json">{json.dumps(ld)}</script></head>'
            f"<body><article>{body_head}{BODY}</article></body></html>")


def title_of_page(html: str) -> str | None:
    return extract_page(html.encode(), URL).title


SEARCH = "Harbour vote: council backs the new quay in a late session"
SHARED = "Why the new quay won the harbour vote after all"


def test_marked_headline_that_og_gives_too_wins_over_the_structured_headline():
    html = page(head=f'<meta property="og:title" content="{SHARED}">',
                body_head=f'<h1 itemprop="headline">{SHARED}</h1>', headline=SEARCH, title=SEARCH)
    assert title_of_page(html) == SHARED


def test_marked_headline_no_metadata_gives_leaves_the_structured_headline():
    html = page(head=f'<meta property="og:title" content="{SEARCH}">',
                body_head=f'<h1 itemprop="headline">{SHARED}</h1>', headline=SEARCH)
    assert title_of_page(html) == SEARCH


def test_a_listing_of_marked_teasers_names_no_headline():
    teasers = "".join(f'<h2 itemprop="headline">{t}</h2>' for t in (SHARED, "Ferry timetable changes in May"))
    html = page(head=f'<meta property="og:title" content="{SHARED}">', body_head=teasers, headline=SEARCH)
    assert title_of_page(html) == SEARCH


def test_typographic_variant_of_the_structured_headline_is_the_same_headline():
    curly = "Mayor’s ‘quay plan’ wins the harbour vote after a late session"
    straight = "Mayor's 'quay plan' wins the harbour vote after a late session"
    html = page(head=f'<meta property="og:title" content="{straight}">',
                body_head=f'<h1 itemprop="headline">{straight}</h1>', headline=curly)
    assert title_of_page(html) == curly


def test_meta_headline_cuts_a_glued_section_tail_off_og_title():
    """``Headline-Politics｜Site``: the site's name goes as a site name; the glued section stays on every
    statement but the page's ``<meta name="headline">``, which has the headline alone."""
    headline = "Harbour council backs the new quay in a late-night vote"
    html = page(head=f'<meta property="og:site_name" content="Kestrel Times"><meta name="headline" content="{headline}">'
                     f'<meta property="og:title" content="{headline}-Politics｜Kestrel Times">',
                title=f"{headline}-Politics｜Kestrel Times")
    assert title_of_page(html) == headline


@pytest.mark.parametrize("og, expected", [
    ("Harbour council backs the new quay in a late-night vote (Published 2026)",
     "Harbour council backs the new quay in a late-night vote"),
    # a bracket the visible headline carries too is the headline's own
    ("Harbour council backs the new quay (again)", "Harbour council backs the new quay (again)"),
])
def test_a_bracketed_tail_the_visible_headline_lacks_is_a_label(og, expected):
    html = page(head=f'<meta property="og:title" content="{og}">', body_head=f"<h1>{expected}</h1>")
    assert title_of_page(html) == expected


def test_a_separator_inside_a_kicker_does_not_make_it_a_label():
    """A label is set off by a separator right before the rest of the headline: "Vote - analysis: …" ends in a
    colon, so it stays (the " - " inside it once counted, wherever it stood)."""
    rest = "what the new quay means for the fishing fleet and the harbour"
    full = f"Vote - analysis: {rest}"
    html = page(head=f'<meta property="og:title" content="{full}">', body_head=f"<h1>{rest}</h1>", headline=full)
    assert title_of_page(html) == full


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["ab", " ", " ", "\t", *"|-–—·•»:/｜："]), max_size=8).map("".join),
                min_size=1, max_size=6), st.integers(1, 3))
def test_site_affixes_found_with_the_separator_test_first_are_those_found_without(titles, min_pages):
    """``repeated_affixes`` looks for separators only in titles holding a separator's mark; every separator holds
    one, so the affixes are those a search of every title finds."""
    heads: Counter[str] = Counter()
    tails: Counter[str] = Counter()
    for title in titles:
        if parts := list(_TITLE_SEPARATOR.finditer(title)):
            heads[title[:parts[0].end()]] += 1
            tails[title[parts[-1].start():]] += 1
    need = max(min_pages, (len(titles) + 1) // 2)
    assert repeated_affixes(titles, min_pages) == ({h for h, n in heads.items() if n >= need},
                                                   {t for t, n in tails.items() if n >= need})


@pytest.mark.parametrize("mark", [*"|-–—·•»:/｜：", "::", "--", "|:"])
def test_each_separator_cuts_a_site_affix(mark):
    titles = [f"News {mark} Story {i} {mark} Kestrel" for i in range(3)]
    assert repeated_affixes(titles, 3) == ({f"News {mark} "}, {f" {mark} Kestrel"})
