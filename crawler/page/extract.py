"""Extraction: an HTML capture → title, author, dates, body paragraphs, canonical, credits.

trafilatura reads the body and fills metadata gaps; structured metadata the page states itself
(JSON-LD, OpenGraph, ``<time>``, ``itemprop``) and the visible byline and date line of the article
header come first, because they name the page's *own* publication date and author, where a
republisher may also show the source's date. The attribution reader (crawler.page.attribution) runs on
the same parsed tree.

trafilatura options were chosen by measuring on generated news webs (see README): ``fast=True`` with
``include_comments=False`` keeps every body paragraph, notes and credit lines included, at about half the
time of the default (which adds fallback extractors that change nothing on article pages).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

import lxml.etree
import lxml.html

from crawler.page.classify import classify_page

logger = logging.getLogger(__name__)

MAX_HTML_BYTES = 5 * 1024 * 1024


@dataclass
class ExtractedPage:
    url: str
    page_type: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    modified: str | None = None
    site_name: str | None = None
    canonical: str | None = None
    language: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    text: str = ""
    attribution: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


# -- decoding ------------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w\-:.]+)""", re.I)


def _codec(name: str | None) -> str | None:
    import codecs

    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
        name = "cp1252"   # what browsers do: ISO-8859-1 labels decode as windows-1252
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, headers: dict | None = None) -> str:
    """Text of an HTML body: the HTTP charset, else the <meta> one, else UTF-8, else windows-1252."""
    if isinstance(body, str):
        return body
    ctype = (headers or {}).get("content-type", "") or ""
    m = re.search(r"charset=([\w\-:.]+)", ctype, re.I)
    declared = [_codec(m.group(1)) if m else None]
    m2 = _META_CHARSET.search(body[:4096])
    declared.append(_codec(m2.group(1).decode("ascii", "ignore")) if m2 else None)
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace")
    for codec in [c for c in declared if c]:
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")


# -- metadata ------------------------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_MONTH_RE = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_TIME_RE = r"(?:,?\s*(?:at\s+)?(\d{1,2})[:.](\d{2})\s*(a\.?m\.?|p\.?m\.?|AM|PM)?(?:\s*(GMT|UTC|[A-Z]{2,4}))?)?"
_DATE_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{2}):(\d{2})(?::\d{2})?(Z|[+-]\d{2}:?\d{2})?)?\b")),
    ("mdy", re.compile(r"\b" + _MONTH_RE + r"\s+(\d{1,2}),?\s+(\d{4})" + _TIME_RE, re.I)),
    ("dmy", re.compile(r"\b(\d{1,2})\s+" + _MONTH_RE + r",?\s+(\d{4})" + _TIME_RE, re.I)),
    ("num", re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")),
]


def parse_visible_date(text: str, day_first: bool | None = None) -> datetime | None:
    """The first date written in ``text`` ("February 10, 2020", "10 Feb 2020 14.03 GMT", "10/02/2020"…).

    ``day_first`` settles ambiguous numeric dates (None: month first unless impossible). Never raises.
    """
    if not text:
        return None
    best = None
    for kind, pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m or (best and m.start() >= best[0]):
            continue
        try:
            when = _build_date(kind, m, day_first)
        except (ValueError, OverflowError, KeyError, TypeError):
            continue
        if when:
            best = (m.start(), when)
    return best[1] if best else None


def _build_date(kind, m, day_first):
    if kind == "iso":
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        hh, mm = int(m.group(4) or 0), int(m.group(5) or 0)
        tz = m.group(6)
        tzinfo = None
        if tz:
            if tz == "Z":
                tzinfo = timezone.utc
            else:
                sign = 1 if tz[0] == "+" else -1
                tz = tz[1:].replace(":", "")
                tzinfo = timezone(sign * timedelta(hours=int(tz[:2]), minutes=int(tz[2:4] or 0)))
        return datetime(y, mo, d, hh, mm, tzinfo=tzinfo)
    if kind in ("mdy", "dmy"):
        if kind == "mdy":
            month, day, year = m.group(1), m.group(2), m.group(3)
        else:
            day, month, year = m.group(1), m.group(2), m.group(3)
        hh, mm, ampm = m.group(4), m.group(5), m.group(6)
        hour = int(hh) if hh else 0
        if ampm and ampm.lower().startswith("p") and hour < 12:
            hour += 12
        if ampm and ampm.lower().startswith("a") and hour == 12:
            hour = 0
        return datetime(int(year), _MONTHS[month[:3].lower()], int(day), hour, int(mm or 0))
    a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if a > 12:
        day_first = True
    elif b > 12:
        day_first = False
    return datetime(year, b, a) if day_first else datetime(year, a, b)


def _iso(value) -> str | None:
    if not value:
        return None
    value = str(value).strip()
    when = parse_visible_date(value)
    if when is None:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return value
    return when.isoformat()


def _jsonld(tree) -> list[dict]:
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


def _ld_author(value) -> str | None:
    if isinstance(value, list):
        names = [n for n in (_ld_author(v) for v in value) if n]
        return ", ".join(names) if names else None
    if isinstance(value, dict):
        return value.get("name")
    return value if isinstance(value, str) else None


def _meta(tree, *names) -> str | None:
    for name in names:
        found = tree.xpath(f"//meta[@property='{name}' or @name='{name}' or @itemprop='{name}']/@content")
        if found and found[0].strip():
            return found[0].strip()
    return None


_BYLINE_LABEL = re.compile(r"^\s*(?:by|written by|words|author|authors|posted by|reporting by|story by|byline)\s*[:\-–—]?\s*$", re.I)
_BYLINE_RE = re.compile(
    r"^\s*(?:[|•·]\s*)?(?:by|written by|words:|author:|posted by|reporting by|story by)\s*[:\-]?\s+"
    r"(?P<name>[A-Z][\w'’.\-]+(?:\s+(?:[A-Z][\w'’.\-]+|de|van|von|der|la|del|da|and)){0,4})", re.I)
_FAKE_AUTHOR = re.compile(r"^(?:admin|staff|news desk|editor|webmaster|team)$", re.I)
_BYLINE_SELECTORS = (
    "//*[@rel='author']", "//*[contains(concat(' ', normalize-space(@class), ' '), ' byline ')]",
    "//*[contains(@class,'byline') or contains(@class,'author') or contains(@class,'writer') or @itemprop='author']",
)
_NOT_A_NAME = {"the", "a", "an", "our", "email", "share", "continue", "in", "on", "at"}


def _clean_person(name: str | None) -> str | None:
    if not name:
        return None
    name = " ".join(name.split()).strip(" ,.|-–—:")
    name = re.sub(r"^(?:by|written by|words|author|authors|posted by|reporting by|story by)\s*[:\-–—]?\s+", "", name,
                  flags=re.I)
    name = re.split(r"\s+(?:\||•|·|-|–|—|on|for|in|at|writes|reports|covers|is|was|and\s+\w+\s+staff)\b\s*|\s*[|,•·]\s*|\s+\d",
                    name)[0].strip(" ,.")
    if not name or len(name) > 60 or len(name.split()) > 5 or name.lower() in _NOT_A_NAME:
        return None
    if not _FAKE_AUTHOR.match(name) and not re.match(r"^[A-Z]", name):
        return None
    return name


_DEK = re.compile(r"sub|dek|stand|lede|lead|summary|intro|excerpt|teaser|strap", re.I)
_SIGNATURE = re.compile(r"^\s*[—–-]{1,2}\s*([A-Z][\w'’.\-]+(?:\s+[A-Z][\w'’.\-]+){0,3})\s*$")
_BLOCK_TAGS = {"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "tr", "td", "address", "section", "header",
               "time", "dd", "dt", "ul", "table", "figure", "aside"}


def _header_zone(region, title_el) -> list[str]:
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


_SOURCE_DATE = re.compile(r"^\W*(?:originally|first)\s+(?:published|appeared|posted|ran)\b|^\W*(?:source|via)\b", re.I)


def _title_element(tree, title: str | None):
    """The headline element: the first h1/h2 whose text is the page's title (or the first h1)."""
    key = re.sub(r"\W+", "", (title or "").lower())[:40]
    for h in tree.xpath("//h1|//h2"):
        text = re.sub(r"\W+", "", h.text_content().lower())
        if key and text and (text[:40] == key or key.startswith(text[:30])):
            return h
    h1 = tree.xpath("//h1")
    return h1[0] if h1 else None


def _day_first(tree, url: str) -> bool | None:
    lang = (tree.get("lang") or "").lower()
    if lang.startswith("en-us"):
        return False
    if lang and not lang.startswith("en-us") and "-" in lang:
        return True
    return None


# -- extraction ----------------------------------------------------------------------------------------


def extract_page(body: bytes | str, url: str, headers: dict | None = None, outlets=None) -> ExtractedPage:
    """Everything syndtrace keeps of one HTML page."""
    import trafilatura

    from crawler.page.attribution import content_region, read_attribution

    text = decode_html(body[:MAX_HTML_BYTES] if isinstance(body, bytes) else body[:MAX_HTML_BYTES], headers)
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        tree = lxml.html.fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        logger.warning("skipped %s: no HTML could be parsed", url)
        return ExtractedPage(url=url, page_type="other")
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        logger.warning("skipped %s: nested too deeply to parse (more than 256 levels)", url)
        return ExtractedPage(url=url, page_type="other")
    page = ExtractedPage(url=url, page_type="other")
    ld = _jsonld(tree)
    article_ld = next((d for d in ld if str(d.get("@type", "")).lower().endswith(("article", "posting", "report"))
                       or any(str(t).lower().endswith("article") for t in (d.get("@type") if isinstance(d.get("@type"), list) else []))), {})
    page.site_name = _meta(tree, "og:site_name", "application-name") or \
        (article_ld.get("publisher") or {}).get("name") if isinstance(article_ld.get("publisher"), dict) else \
        _meta(tree, "og:site_name", "application-name")
    canon = tree.xpath("//link[@rel='canonical']/@href")
    if canon:
        from crawler.page.urls import canonicalize_url

        page.canonical = canonicalize_url(canon[0], url)
    page.language = (tree.get("lang") or "").split("-")[0] or None
    page.page_type = classify_page(url, tree, {"jsonld": article_ld})
    h1 = tree.xpath("//h1")
    page.title = (article_ld.get("headline") or _meta(tree, "og:title") or
                  (h1[0].text_content().strip() if h1 else None) or
                  (tree.findtext(".//title") or "").strip() or None)
    if page.page_type != "article":
        return page

    region = content_region(tree)
    title_el = _title_element(tree, page.title)
    zone = _header_zone(region if title_el is None or title_el in region.iter() else tree, title_el)
    day_first = _day_first(tree, url)

    # credits first: trafilatura cleans the tree it is given
    page.attribution = read_attribution(tree, url, outlets, region=region).to_dict()
    # dates: the page's own statements first
    published = _iso(article_ld.get("datePublished")) or _iso(_meta(tree, "article:published_time", "datePublished",
                                                                       "date", "dc.date", "DC.date.issued"))
    modified = _iso(article_ld.get("dateModified")) or _iso(_meta(tree, "article:modified_time", "dateModified"))
    if not published:
        times = [t for t in region.xpath(".//time[@datetime]")
                 if not re.search(r"modif|updat", " ".join([t.get("class") or "", t.get("itemprop") or "",
                                                           t.getparent().get("class") or ""]), re.I)]
        if not times:
            times = tree.xpath("//time[@datetime]")
        if times:
            published = _iso(times[0].get("datetime"))
    if not modified:
        updated = tree.xpath("//time[@datetime][contains(@class,'modif') or contains(@class,'updat') or "
                             "contains(@itemprop,'dateModified') or contains(../@class,'updat')]")
        modified = _iso(updated[0].get("datetime")) if updated else None
    if not published:
        for line in zone:
            if _SOURCE_DATE.match(line):
                continue   # "Originally published by X on <date>": the source's date, not this page's
            when = parse_visible_date(line, day_first)
            if when:
                published = when.isoformat() if (when.hour or when.minute) else when.date().isoformat()
                numeric = re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", line)
                if numeric and day_first is None:
                    page.evidence["numeric_date"] = numeric.group(0)
                break
    page.published, page.modified = published, modified

    # author
    author = _ld_author(article_ld.get("author"))
    if not author:
        author = _meta(tree, "author", "article:author", "dc.creator", "sailthru.author")
        if author and author.startswith("http"):
            author = None
    if not author:
        from crawler.page.attribution import _inside_noise

        for sel in _BYLINE_SELECTORS:
            for el in region.xpath("." + sel[1:]) or tree.xpath(sel):
                if _inside_noise(el, None) or el.xpath("ancestor-or-self::*[contains(@class,'comment')]"):
                    continue
                cand = _clean_person(el.text_content())
                if cand:
                    author = cand
                    break
            if author:
                break
    if not author:
        joined = [f"{a} {b}" if _BYLINE_LABEL.match(a) else a for a, b in zip(zone, zone[1:] + [""])]
        for line in joined:
            m = _BYLINE_RE.search(line)
            if m:
                author = _clean_person(m.group("name"))
                if author:
                    break
    if not author:
        from crawler.page.attribution import _inside_noise

        for el in tree.xpath("//p|//div[not(*)]|//address"):
            m = _SIGNATURE.match(el.text_content() or "")
            if m and not _inside_noise(el):
                author = m.group(1)
                break
    page.author = _clean_person(author) if author else None

    # a paragraph that is nothing but a link's text is navigation (related lists, tags), not prose
    link_texts = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    doc = trafilatura.bare_extraction(tree, url=url, fast=True, include_comments=False, include_tables=False,
                                      with_metadata=False)
    body_text = (doc.text if doc is not None and not isinstance(doc, dict) else (doc or {}).get("text")) or ""
    paragraphs = [" ".join(p.split()) for p in body_text.split("\n") if p.strip()]
    paragraphs = [p for p in paragraphs if p not in link_texts and p != page.title]
    page.paragraphs = paragraphs
    page.text = "\n\n".join(paragraphs)
    return page
