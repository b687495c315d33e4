"""What a page states about itself: JSON-LD, meta tags, title, site name, canonical URL, and the article
header (the lines between the headline and the body, where the byline and date line are)."""

from __future__ import annotations

import json
import re

import lxml.etree

from crawler.page.urls import canonicalize_url


def json_ld(tree) -> list[dict]:
    """Every JSON-LD object of the page, ``@graph`` members included."""
    out = []
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except (ValueError, TypeError):
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                if "@graph" in item and isinstance(item["@graph"], list):
                    stack.extend(item["@graph"])
                out.append(item)
            elif isinstance(item, list):
                stack.extend(item)
    return out


def ld_author(value) -> str | None:
    """The author name(s) of a JSON-LD ``author`` value (a name, a Person, or a list of them)."""
    if isinstance(value, list):
        names = [n for n in (ld_author(v) for v in value) if n]
        return ", ".join(names) if names else None
    if isinstance(value, dict):
        return value.get("name")
    return value if isinstance(value, str) else None


def meta_content(tree, *names) -> str | None:
    """The first non-empty content of a <meta> with one of these property, name or itemprop values."""
    for name in names:
        found = tree.xpath(f"//meta[@property='{name}' or @name='{name}' or @itemprop='{name}']/@content")
        if found and found[0].strip():
            return found[0].strip()
    return None


def article_json_ld(tree) -> dict:
    """The page's JSON-LD object of an article type (NewsArticle, BlogPosting, Report…), or {}."""
    return next((d for d in json_ld(tree) if str(d.get("@type", "")).lower().endswith(("article", "posting", "report"))
                 or any(str(t).lower().endswith("article")
                        for t in (d.get("@type") if isinstance(d.get("@type"), list) else []))), {})


def site_name(tree, article_ld: dict) -> str | None:
    """The outlet's name: og:site_name or application-name, else the article's JSON-LD publisher."""
    named = meta_content(tree, "og:site_name", "application-name")
    publisher = article_ld.get("publisher")
    if isinstance(publisher, dict):
        return named or publisher.get("name")
    return named


def canonical_url(tree, url: str) -> str | None:
    """The page's rel=canonical, absolute and canonical."""
    canon = tree.xpath("//link[@rel='canonical']/@href")
    return canonicalize_url(canon[0], url) if canon else None


def title_of(tree, article_ld: dict) -> str | None:
    """The headline: JSON-LD, og:title, the first h1, then <title>."""
    h1 = tree.xpath("//h1")
    return (article_ld.get("headline") or meta_content(tree, "og:title") or
            (h1[0].text_content().strip() if h1 else None) or
            (tree.findtext(".//title") or "").strip() or None)


_DEK = re.compile(r"sub|dek|stand|lede|lead|summary|intro|excerpt|teaser|strap", re.I)
_BLOCK_TAGS = {"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "tr", "td", "address", "section", "header",
               "time", "dd", "dt", "ul", "table", "figure", "aside"}


def header_zone(region, title_el) -> list[str]:
    """Text lines between the headline and the first long body paragraph: byline and date line."""
    chunks: list[str] = []
    started = title_el is None
    for event, el in lxml.etree.iterwalk(region, events=("start", "end")):
        if not isinstance(el.tag, str):
            continue
        if event == "start":
            if el is title_el:
                started = True
                continue
            if not started:
                continue
            if el.tag == "p" and len(el.text_content()) > 220 and not _DEK.search(el.get("class") or ""):
                break
            if el.tag in _BLOCK_TAGS:
                chunks.append("\n")
            if el.tag in ("script", "style"):
                continue
            if el.text:
                chunks.append(el.text)
        else:
            if el is title_el:
                chunks.append("\n")
                continue
            if not started:
                continue
            if el.tag in _BLOCK_TAGS:
                chunks.append("\n")
            if el.tail:
                chunks.append(el.tail)
        if len(chunks) > 400:
            break
    lines = [" ".join(line.split()) for line in "".join(chunks).split("\n")]
    return [line for line in lines if line][:40]


def title_element(tree, title: str | None):
    """The headline element: the first h1/h2 whose text is the page's title (or the first h1)."""
    key = re.sub(r"\W+", "", (title or "").lower())[:40]
    for h in tree.xpath("//h1|//h2"):
        text = re.sub(r"\W+", "", h.text_content().lower())
        if key and text and (text[:40] == key or key.startswith(text[:30])):
            return h
    h1 = tree.xpath("//h1")
    return h1[0] if h1 else None
