"""Extraction: an HTML capture → title, author, dates, body paragraphs, canonical, credits.

trafilatura reads the body and fills metadata gaps; structured metadata the page states itself
(JSON-LD, OpenGraph, ``<time>``, ``itemprop``) and the visible byline and date line of the article
header come first, because they name the page's *own* publication date and author, where a
republisher may also show the source's date. This module orchestrates the other readers of
``crawler.page`` on one parsed tree: decode, dom (parse, content region), classify, metadata, attribution
(credits), dates, byline, and trafilatura for the body.

trafilatura options were chosen by measuring on generated news webs (see README): ``fast=True`` with
``include_comments=False`` keeps every body paragraph, notes and credit lines included, at about half the
time of the default (which adds fallback extractors that change nothing on article pages).
"""

from __future__ import annotations

import copy
import functools
import logging
from dataclasses import dataclass, field

from crawler.options import LIMITS
from crawler.page.attribution import OutletDirectory, read_attribution
from crawler.page.byline import find_authors
from crawler.page.classify import classify_page, prose_stats
from crawler.page.dates import page_dates
from crawler.page.decode import decode_html
from crawler.page.dom import content_region, parse_document
from crawler.page.metadata import (
    article_json_ld,
    canonical_url,
    header_zone,
    meta_content,
    own_names,
    site_name,
    title_element,
    title_of,
)

logger = logging.getLogger(__name__)



@dataclass
class ExtractedPage:
    url: str
    page_type: str
    title: str | None = None
    author: str | None = None          # the authors joined with ", " (one string, as exports show it)
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    site_name: str | None = None
    canonical: str | None = None
    language: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    text: str = ""
    attribution: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)


def extract_page(body: bytes | str, url: str, headers: dict | None = None,
                 outlets: OutletDirectory | None = None) -> ExtractedPage:
    """Everything syndtrace keeps of one HTML page."""
    html = decode_html(body[:LIMITS.max_html_bytes], headers)
    tree, problem = parse_document(html)
    if tree is None:
        logger.warning("skipped %s: %s", url, problem)
        return ExtractedPage(url=url, page_type="other")
    page = ExtractedPage(url=url, page_type="other")
    article_ld = article_json_ld(tree)
    page.site_name = site_name(tree, article_ld)
    page.canonical = canonical_url(tree, url)
    page.language = page_language(tree)
    stats = prose_stats(tree)   # read once: the page kind and the body's fallback both weigh the prose
    page.page_type = classify_page(url, tree, {"jsonld": article_ld}, stats)
    own = own_names(tree, article_ld, url)
    page.title = title_of(tree, article_ld, own)
    if page.page_type != "article":
        # a listing, home or about page keeps its title and the date it states
        dates = page_dates(tree, None, article_ld, [], url, page.language)
        page.published, page.modified = dates.published, dates.modified
        return page

    region = content_region(tree)
    title_el = title_element(tree, page.title)
    header = header_zone(region if title_el is None or title_el in region.iter() else tree, title_el)
    # credits first: trafilatura cleans the tree it is given
    page.attribution = read_attribution(tree, url, outlets, region=region).to_dict()
    credit_lines = [*page.attribution["statements"], *page.attribution["cue_lines"], *page.attribution["edge_credits"]]
    dates = page_dates(tree, region, article_ld, header, url, page.language, credit_lines)
    page.published, page.modified = dates.published, dates.modified
    if dates.numeric_date:
        page.evidence["numeric_date"] = dates.numeric_date
    if dates.source:
        page.evidence["date_source"] = dates.source
    page.authors = find_authors(tree, region, article_ld, header, own)
    page.author = ", ".join(page.authors) or None
    page.paragraphs = body_paragraphs(tree, url, page.title, stats[1], html)
    page.text = "\n\n".join(page.paragraphs)
    return page


def page_language(tree) -> str | None:
    """The page's language: ``<html lang>``, else its Content-Language or og:locale (two letters)."""
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    if not lang.strip():
        lang = meta_content(tree, "content-language", "og:locale", "language") or ""
    return lang.strip().replace("_", "-").split("-")[0].lower()[:3] or None


def body_paragraphs(tree, url: str, title: str | None, prose: int, html: str | None = None) -> list[str]:
    """The article body by trafilatura (fast mode, no comments or tables), without link-only lines and the title.

    When fast mode keeps less than half of the page's long paragraphs (it took a teaser or the menu), the
    page's HTML is read again by trafilatura's default mode, which adds its fallback extractors. ``prose``: the
    characters of the page's long paragraphs (:func:`prose_stats`).
    """
    # a paragraph that is nothing but a link's text is navigation (related lists, tags), not prose
    link_texts = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    paragraphs = _kept(_trafilatura_text(tree, url, fast=True), link_texts, title)
    if html is not None and prose >= MIN_FALLBACK_PROSE and sum(map(len, paragraphs)) < FALLBACK_SHARE * prose:
        again = _kept(_trafilatura_text(html, url, fast=False), link_texts, title)
        if sum(map(len, again)) > sum(map(len, paragraphs)):
            return again
    return paragraphs


MIN_FALLBACK_PROSE = 1000   # characters of long paragraphs on the page
FALLBACK_SHARE = 0.5        # catches the 4 fundus pages where fast mode keeps a teaser or the menu


def _trafilatura_text(source, url: str, fast: bool) -> str:
    import trafilatura  # lazily: commands that do not extract start without it (tests/test_architecture.py)

    doc = trafilatura.bare_extraction(source, options=_body_options(fast, url))
    return (doc.text if doc is not None and not isinstance(doc, dict) else (doc or {}).get("text")) or ""


def _body_options(fast: bool, url: str):
    """trafilatura's options for one page's body: a copy of those made once per mode, with the page's URL (making
    them reads trafilatura's configuration each time, ~0.1 ms a page)."""
    options = copy.copy(_body_template(fast))
    options.url = options.source = url
    return options


@functools.cache
def _body_template(fast: bool):
    from trafilatura.settings import Extractor  # lazily, as above

    return Extractor(output_format="python", fast=fast, comments=False, tables=False, with_metadata=False)


def _kept(body_text: str, link_texts: set[str], title: str | None) -> list[str]:
    paragraphs = [" ".join(p.split()) for p in body_text.split("\n") if p.strip()]
    return [p for p in paragraphs if p not in link_texts and p != title]
