"""What a page states about itself: JSON-LD, meta tags, title, site name, canonical URL, and the article
header (the lines between the headline and the body, where the byline and date line are).

Structured metadata comes in every shape (a list where a string is expected, ``@graph`` nesting, a Person
with ``givenName`` and ``familyName``, entities escaped twice): the readers here take any JSON value and
return text or nothing, never raise.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import re
import unicodedata
from collections import Counter

import lxml.etree

from crawler.page.dom import inside_noise, xpath
from crawler.page.urls import canonicalize_url, site_of

logger = logging.getLogger(__name__)

_ENTITY = re.compile(r"&(?:#\d{2,7}|#x[0-9a-fA-F]{2,6}|[a-zA-Z]{2,8}\d?);")
# UTF-8 read as windows-1252 somewhere upstream ("fÃ¼r", "sanciÃ³n"): two characters per letter, the first Ã, Â or Å
_MOJIBAKE = re.compile("[ÃÂÅÄÆÐÑ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")


def repair_mojibake(text: str) -> str:
    """Text whose UTF-8 bytes were once decoded as windows-1252, decoded right; any other text unchanged."""
    if not _MOJIBAKE.search(text):
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def clean_text(value) -> str | None:
    """One line of text from a JSON or attribute value: entities left by double escaping decoded once,
    whitespace folded; a list gives its first text, an object its ``name`` or ``@value``."""
    if isinstance(value, list):
        return next((t for t in (clean_text(v) for v in value) if t), None)
    if isinstance(value, dict):
        return clean_text(value.get("name") or value.get("@value"))
    if isinstance(value, bool) or value is None:
        return None
    text = repair_mojibake(str(value))
    if _ENTITY.search(text):
        text = html.unescape(text)
    text = " ".join(text.split())
    return text or None


def _ld_items(data) -> list[dict]:
    out: list[dict] = []
    stack = data if isinstance(data, list) else [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            graph = item.get("@graph")
            if isinstance(graph, list | dict):
                stack.extend(graph if isinstance(graph, list) else [graph])
            out.append(item)
        elif isinstance(item, list):
            stack.extend(item)
    return out


_LD_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")


def json_ld(tree) -> list[dict]:
    """Every JSON-LD object of the page, ``@graph`` members included; unreadable blocks skipped with a log line."""
    out = []
    for script in xpath(tree, "//script[@type='application/ld+json']/text()"):
        script = _LD_WRAPPER.sub("", script)   # <![CDATA[ … ]]> and <!-- … --> around the JSON
        try:
            data = json.loads(script)
        except (ValueError, TypeError, RecursionError) as exc:
            logger.debug("skipped a JSON-LD block: %s", str(exc)[:80])
            continue
        out.extend(_ld_items(data))
    return out


def ld_types(item: dict) -> list[str]:
    kind = item.get("@type")
    return [str(t).lower() for t in (kind if isinstance(kind, list) else [kind]) if t]


def ld_names(value) -> list[tuple[str, str]]:
    """(name, schema type) of each author in a JSON-LD ``author`` value: a name, a Person or Organization
    (``name``, or ``givenName`` + ``familyName``), or a list of them."""
    if isinstance(value, list):
        return [n for v in value for n in ld_names(v)]
    if isinstance(value, dict):
        if isinstance(value.get("@list"), list):
            return ld_names(value["@list"])
        name = clean_text(value.get("name"))
        if not name:
            parts = [clean_text(value.get(k)) for k in ("givenName", "familyName")]
            name = " ".join(p for p in parts if p) or clean_text(value.get("alternateName"))
        kind = ld_types(value)
        return [(name, kind[0] if kind else "")] if name else []
    text = clean_text(value)
    return [(text, "")] if text else []


def meta_content(tree, *names) -> str | None:
    """The first non-empty content of a <meta> with one of these property, name or itemprop values (the first
    name first). The page's metas are walked once, whatever the names (an XPath a name took twice as long)."""
    metas = [(meta.get("property"), meta.get("name"), meta.get("itemprop"), meta.get("content"))
             for meta in tree.getroottree().iter("meta")]
    for name in names:
        for prop, meta_name, itemprop, content in metas:
            if content is not None and name in (prop, meta_name, itemprop):
                text = clean_text(content)
                if text:
                    return text
    return None


_ARTICLE_TYPES = ("article", "posting", "report")


def article_json_ld(tree) -> dict:
    """The page's JSON-LD object of an article type (NewsArticle, BlogPosting, Report…), or {}."""
    return next((d for d in json_ld(tree) if any(t.endswith(_ARTICLE_TYPES) for t in ld_types(d))), {})


def site_name(tree, article_ld: dict) -> str | None:
    """The outlet's name: og:site_name or application-name, else the article's JSON-LD publisher."""
    return meta_content(tree, "og:site_name", "application-name") or clean_text(article_ld.get("publisher"))


def own_names(tree, article_ld: dict, url: str) -> set[str]:
    """Normalised names the site goes by: og:site_name, application-name, the JSON-LD publisher, its host."""
    names = {meta_content(tree, "og:site_name"), meta_content(tree, "application-name"),
             clean_text(article_ld.get("publisher")), meta_content(tree, "twitter:site")}
    host = site_of(url)
    keys = {name_key(n) for n in names if n} | {name_key(host), name_key(host.split(".")[0])}
    return {k for k in keys if len(k) >= 2}


_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa"})


@functools.lru_cache(maxsize=4096)   # the site's own names are compared with every candidate title and author
def name_key(text: str) -> str:
    """A name compared loosely: case, spaces, punctuation, accents, a leading "the"/"www." and "@" dropped;
    umlauts written out as host names write them ("Börsen-Zeitung" → "boersenzeitung")."""
    text = text.casefold().strip().lstrip("@").translate(_TRANSLITERATE)
    text = re.sub(r"^(?:the\s+|www\.)", "", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"\W+", "", text)


def is_own_name(name: str, own: set[str]) -> bool:
    """Is ``name`` the site's own name (``STERN.de``, ``Deutsche Welle (www.dw.com)``, ``NTV``), not a longer
    text that mentions it?"""
    key = name_key(name)
    if not key:
        return False
    return key in own or any(len(k) >= 4 and (k in key or key in k) and abs(len(key) - len(k)) <= max(4, len(k))
                             for k in own) or any(len(k) >= 4 and "." in name and k in key and len(key) <= 40
                                                  for k in own)


def canonical_url(tree, url: str) -> str | None:
    """The page's rel=canonical, absolute and canonical."""
    canon = xpath(tree, "//link[@rel='canonical']/@href")
    return canonicalize_url(canon[0], url) if canon else None


# -- title -----------------------------------------------------------------------------------------------

_TITLE_SEPARATOR = re.compile(r"\s+[|\-–—·•»:/]{1,2}\s+|\s*[｜：]\s*|\s+::\s+")
_SEPARATOR_MARK = re.compile(r"[|\-–—·•»:/｜：]")   # in every separator: a title without one has none (a fast test)
_DATE_PART = re.compile(r"^[\d\s./\-:]+$")


def _names_site(part: str, own: set[str]) -> bool:
    """A title part that is the site's name or a short name holding it ("Die Neue Südtiroler Tageszeitung")."""
    key = name_key(part)
    return is_own_name(part, own) or (len(part.split()) <= 6 and any(len(k) >= 5 and k in key for k in own))


def strip_site_name(title: str, own: set[str]) -> str:
    """``Headline | Site``, ``Site - Headline``, ``Headline | DW | 28.04.2023`` → ``Headline``: parts at either end
    that are the site's own name (or a bare date next to it) go; anything else stays."""
    parts = _TITLE_SEPARATOR.split(title)
    seps = _TITLE_SEPARATOR.findall(title)
    if len(parts) < 2:
        return title
    start, end = 0, len(parts)
    removed = False
    while end - start > 1 and (_names_site(parts[end - 1], own) or (removed and _DATE_PART.match(parts[end - 1]))
                               or (_DATE_PART.match(parts[end - 1]) and end - start > 2
                                   and _names_site(parts[end - 2], own))):
        end -= 1
        removed = True
    while end - start > 1 and _names_site(parts[start], own):
        start += 1
    if start == 0 and end == len(parts):
        return title
    out = parts[start]
    for i in range(start + 1, end):
        out += seps[i - 1] + parts[i]
    return out.strip()


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.casefold()) if len(w) > 2 or not w.isascii()}


def _overlap(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / min(len(wa), len(wb)) if wa and wb else 0.0


def visible_headline(tree, own: set[str]) -> str | None:
    """The first ``<h1>`` outside the page's furniture that is not the site's name (a logo)."""
    for h in xpath(tree, "//h1"):
        if inside_noise(h) and not xpath(h, "ancestor::header"):
            continue
        text = clean_text(h.text_content())
        if text and 4 <= len(text) <= 400 and not is_own_name(text, own):
            return text
    return None


def marked_headline(tree, own: set[str]) -> str | None:
    """The headline the page marks as schema.org ``headline`` in its markup (microdata ``itemprop``, a
    ``<meta name="headline">``), when every mark names the same text: a listing marks each of its teasers."""
    found: dict[str, str] = {}
    for el in xpath(tree, "//*[@itemprop='headline' or @name='headline']"):
        text = clean_text(el.get("content") if el.get("content") is not None else el.text_content())
        if text and len(text) <= 400 and not is_own_name(text, own):
            found.setdefault(_word_key(text), text)
    return next(iter(found.values())) if len(found) == 1 else None


def _word_key(text: str) -> str:
    """The words of a text, case and punctuation aside: typographic variants of one headline share it."""
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


def _gives(statement: str, headline: str) -> bool:
    """Does ``statement`` give ``headline``: the same words, or the headline followed only by a short tail set
    off by punctuation (a section and the site's name, ``Headline-Politik｜Site``)?"""
    if _word_key(statement) == _word_key(headline):
        return True
    statement, headline = statement.casefold(), headline.casefold()
    if not statement.startswith(headline):
        return False
    tail = statement[len(headline):]
    return bool(re.match(r"\s*[^\w\s]", tail)) and len(tail.split()) <= 3 and 4 * len(tail) <= len(headline)


def title_of(tree, article_ld: dict, own: set[str] = frozenset()) -> str | None:
    """The headline: the article's JSON-LD headline, og:title, the visible ``<h1>``, twitter:title, then
    ``<title>``; the site's name cut from either end, never the site's name alone; a label the other statements
    of the title do not carry (``Headline | Sport``, ``Opinion | Headline``, ``Headline (Published 2016)``) cut
    too. Sites state different headlines in different places (one for search, one for sharing); where the
    headline the page marks up as such (:func:`marked_headline`) is another one than the first and a metadata
    statement gives it too, the marked one is the page's headline."""
    statements = [("ld", clean_text(article_ld.get("headline"))), ("og", meta_content(tree, "og:title")),
                  ("h1", visible_headline(tree, own)), ("twitter", meta_content(tree, "twitter:title")),
                  ("title", clean_text(tree.findtext(".//title")))]
    stated = [(kind, strip_site_name(t, own)) for kind, t in statements if t and not is_own_name(t, own)]
    marked = marked_headline(tree, own)
    if not stated:
        return marked
    title = without_label(stated[0][1], [t for _, t in stated[1:]] + ([marked] if marked else []))
    if marked and _word_key(marked) != _word_key(title) and any(
            _gives(t, marked) for kind, t in stated if kind != "h1"):
        return marked
    return title


def repeated_affixes(titles: list[str], min_pages: int) -> tuple[set[str], set[str]]:
    """(prefixes, suffixes) that one site puts on most of its titles ("Headline - Kestrel Times Online",
    "NEWS | Headline"): a part cut off by a separator, repeated on ``min_pages`` or more of the titles and on at
    least half of them. Site-level learning, for names no metadata states."""
    heads: Counter[str] = Counter()
    tails: Counter[str] = Counter()
    for title in titles:
        parts = list(_TITLE_SEPARATOR.finditer(title)) if _SEPARATOR_MARK.search(title) else None
        if parts:
            heads[title[:parts[0].end()]] += 1
            tails[title[parts[-1].start():]] += 1
    need = max(min_pages, (len(titles) + 1) // 2)
    return ({h for h, n in heads.items() if n >= need}, {t for t, n in tails.items() if n >= need})


def without_affixes(title: str, prefixes: set[str], suffixes: set[str]) -> str:
    """``title`` without a site's repeated prefix or suffix (never down to nothing)."""
    for prefix in prefixes:
        if title.startswith(prefix) and title[len(prefix):].strip():
            title = title[len(prefix):]
    for suffix in suffixes:
        if title.endswith(suffix) and title[:-len(suffix)].strip():
            title = title[:-len(suffix)]
    return title.strip()


# a label's separator; a bracketed tail ("(Published 2016)") is a label too
_LABEL_SEPARATOR = re.compile(r"\s+[|\-–—·•»/]{1,2}\s+|\s*｜\s*|\s+::\s+|\s+(?=\([^()]*\)$)")
_LABEL_SEPARATOR_AT_END = re.compile(f"(?:{_LABEL_SEPARATOR.pattern})$")


def without_label(title: str, others: list[str]) -> str:
    """``title`` without a short label at either end that another statement of the same headline does not have."""
    for other in others:
        if other == title or len(other) < 2 * (len(title) - len(other)):
            continue
        if title.startswith(other):
            rest = title[len(other):]
            m = _LABEL_SEPARATOR.match(rest)
            if m and len(rest[m.end():].split()) <= 4:
                return other
        if title.endswith(other):
            rest = title[:-len(other)]
            m = _LABEL_SEPARATOR_AT_END.search(rest)
            if m and len(rest[:m.start()].split()) <= 3:
                return other
    return title


_DEK = re.compile(r"sub|dek|stand|lede|lead|summary|intro|excerpt|teaser|strap", re.I)
_BLOCK_TAGS = {"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "tr", "td", "address", "section", "header",
               "time", "dd", "dt", "ul", "table", "figure", "aside"}


def header_zone(region, title_el) -> list[str]:
    """Text lines between the headline and the first long body paragraph: byline and date line."""
    chunks: list[str] = []
    started = title_el is None
    skipping = None
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
            if el.tag in ("script", "style") or skipping is not None:
                continue
            if el.tag in ("figure", "figcaption", "blockquote"):
                skipping = el        # a photo caption's or an embedded post's date is theirs
                continue
            if el.text:
                chunks.append(el.text)
        else:
            if el is title_el:
                chunks.append("\n")
                continue
            if el is skipping:
                skipping = None
            if not started or skipping is not None:
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
    for h in xpath(tree, "//h1|//h2"):
        text = re.sub(r"\W+", "", h.text_content().lower())
        if key and text and (text[:40] == key or key.startswith(text[:30])):
            return h
    h1 = xpath(tree, "//h1")
    return h1[0] if h1 else None
