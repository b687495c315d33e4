"""Who an article credits as its source: attribution lines, copyright notes, licences, credit links.

Pure functions over HTML. Only the article's own content counts: the body, notes, credit lines, byline
and header date line. Navigation, sidebars, blogrolls, related boxes, footers, share bars and reader
comments are cut away first (:func:`crawler.page.dom.content_region`), by structure, not by one site's class names.

Statements are recognised by role patterns rather than a list of phrasings: a *source verb* (originally
appeared, first published, republished, reprinted, reproduced, syndicated, source, via, courtesy…)
followed by a preposition and an outlet; an *excerpt* cue (read the full/rest, continue reading, read
more, full story … at/from/on an outlet); a *copyright* line; a *licence* (Creative Commons links, text
or meta). The outlet is the linked text when the statement links it, or the capitalised name after the
preposition; it is resolved to a host through the statement's link or the :class:`OutletDirectory`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from urllib.parse import urljoin

import lxml.html

from crawler.page.dom import content_blocks, content_region, parse_html, xpath
from crawler.page.urls import canonicalize_url, is_fetchable, site_of

# -- outlets -------------------------------------------------------------------------------------------

_NAME_NORM = re.compile(r"[^a-z0-9]+")


def _norm_name(text: str) -> str:
    text = text.lower().strip()
    text = re.sub(r"^(the|www)\W+", "", text)
    text = re.sub(r"\.(com|org|net|co\.uk|ca|test|example|info|news)$", "", text)
    return _NAME_NORM.sub("", text)


def _host(url: str) -> str | None:
    return site_of(url) or None


class OutletDirectory:
    """Known outlets: host ↔ display names, learned from crawled pages (og:site_name) or added by callers."""

    def __init__(self) -> None:
        self._by_name: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._finder: re.Pattern | None = None

    def add(self, host: str, name: str | None) -> None:
        host = host.removeprefix("www.")
        stem = host.split(".")[0]
        for key in {_norm_name(stem), _norm_name(host)} | ({_norm_name(name)} if name else set()):
            if key:
                self._by_name.setdefault(key, host)
        if name:
            self._names.setdefault(host, name)
            self._finder = None

    def resolve_name(self, text: str) -> str | None:
        if not text:
            return None
        if "." in text and " " not in text.strip():
            host = _host("http://" + text.strip().strip("/"))
            if host and _norm_name(host) in self._by_name:
                return self._by_name[_norm_name(host)]
        return self._by_name.get(_norm_name(text))

    def find_in(self, text: str) -> list[tuple[str, str]]:
        """Known outlet names written in ``text``, as (name as written, host), in order of appearance."""
        if not self._names:
            return []
        if self._finder is None:
            names = sorted(set(self._names.values()), key=len, reverse=True)
            self._finder = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")
        return [(m.group(0), self.resolve_name(m.group(0))) for m in self._finder.finditer(text)
                if self.resolve_name(m.group(0))]


# -- results -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credit:
    outlet: str
    host: str | None
    url: str | None
    role: str
    text: str


@dataclass
class Attribution:
    credits: list[Credit] = field(default_factory=list)
    content_links: list[str] = field(default_factory=list)
    copyright: str | None = None
    license: str | None = None
    license_url: str | None = None
    permission: bool = False
    statements: list[str] = field(default_factory=list)
    credited_author: str | None = None   # a person named by a credit or copyright line
    # short lines with a credit cue that named no outlet known when the page was read; the outlets learnt
    # by the whole crawl resolve them later (cue_line_credit at lineage time)
    cue_lines: list[str] = field(default_factory=list)
    # short standalone lines at the head or foot of the body (no long paragraph before, or none after) that
    # named no known outlet when the page was read; resolved later like cue lines (edge_line_credit)
    edge_lines: list[str] = field(default_factory=list)
    edge_credits: list[str] = field(default_factory=list)   # the edge lines naming a known outlet when read

    def to_dict(self) -> dict:
        """What ``dataclasses.asdict`` gives, without its deep copy of every string (strings are immutable)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in out.items():
            if isinstance(value, list):
                out[name] = [_as_dict(v) if isinstance(v, Credit) else v for v in value]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Attribution:
        d = dict(d or {})
        d["credits"] = [Credit(**c) for c in d.get("credits", [])]
        return cls(**d)


def _as_dict(credit: Credit) -> dict:
    return {f.name: getattr(credit, f.name) for f in fields(credit)}


# -- statements ----------------------------------------------------------------------------------------

_OUTLET = (r"(?P<outlet>(?:[Tt]he\s+)?(?-i:[A-Z0-9][\w&'’.\-]*(?:\s+(?:&|and|of|for|the|de|du|la|[A-Z0-9][\w&'’.\-]*)){0,6}))")
_SOURCE_PATTERNS = [
    ("source", re.compile(r"\boriginal(?:ly)?\s+source\s+of\s+this\s+(?:article|story|piece|post)\s+is\s+" + _OUTLET)),
    ("source", re.compile(r"\b(?:originally|first)\s+(?:appeared|published|ran|posted|printed|written|reported)"
                          r"(?:\s+\w+){0,3}?\s+(?:on|in|at|by|for|with)\s+" + _OUTLET, re.I)),
    ("source", re.compile(r"\b(?:was|were|is)\s+(?:first|originally)\s+(?:published|posted|printed)\s+(?:on|in|at|by)\s+"
                          + _OUTLET, re.I)),
    ("permission", re.compile(r"\b(?:reprinted|reproduced|republished|reposted|used|shared)\s+(?:here\s+)?with\s+"
                              r"(?:the\s+)?(?:kind\s+)?permission\s+(?:of|from)\s+" + _OUTLET, re.I)),
    ("source", re.compile(r"\b(?:republished|reprinted|reposted|reproduced|syndicated|adapted|excerpted|cross-?posted)"
                          r"\s+(?:here\s+)?(?:from|via|courtesy\s+of)\s+" + _OUTLET, re.I)),
    ("source", re.compile(r"\b(?:courtesy\s+of|h/t|hat\s+tip(?:\s+to)?)\s+" + _OUTLET, re.I)),
    ("author", re.compile(r"\bwrote\s+(?:this|the)\s+(?:article|story|piece|post)\s+for\s+" + _OUTLET, re.I)),
    ("excerpt", re.compile(r"\b(?:read|see|continue\s+reading|keep\s+reading|read\s+more)(?:\s+(?:the|this))?"
                           r"(?:\s+(?:full|rest|complete|entire|original))?(?:\s+of\s+the)?(?:\s+(?:article|story|piece|report|post))?"
                           r"\s+(?:at|on|in|from|via)\s+" + _OUTLET, re.I)),
    ("excerpt", re.compile(r"\b(?:full|complete|original)\s+(?:article|story|piece|report)(?:,\s*by\s+[^,]+,)?\s+"
                           r"(?:is\s+)?(?:available|published)?\s*(?:at|on|from|in)\s+" + _OUTLET, re.I)),
    ("source", re.compile(r"^\s*(?:source|sources|via|from|credit|originally\s+from)\s*[:\-–—]\s*" + _OUTLET, re.I)),
    ("via", re.compile(r"^\s*via\s+" + _OUTLET + r"\s*\.?\s*$", re.I)),
]
# what every source pattern needs, in one scan (anchors dropped, so that a line matches when any of its
# sentences does): a line or sentence without any of it is not read pattern by pattern. The lookahead (the
# words' first letters, tried after the cheaper word boundary) lets the scan skip most positions at once: same matches.
_SOURCE_WORDS = re.compile(
    r"\b(?=[acefhkoprsvw])(?:original|first|permission|republished|reprinted|reposted|reproduced|syndicated|"
    r"adapted|excerpted|cross-?posted|courtesy|h/t|hat\s+tip|wrote|read|see|continue\s+reading|keep\s+reading|"
    r"full|complete|(?:source|sources|via|from|credit|originally\s+from)\s*[:\-–—]|via\s)", re.I)
_PERSON = r"([A-Z][\w'’\-]+(?:\s+(?:[A-Z][\w'’.\-]+|de|van|von|der|la|del|da|bin|al-\w+)){1,3})"
_AUTHOR_IN_CREDIT = [
    re.compile(r"(?:copyright|©|\(c\))\s*(?:©\s*)?(?:\d{4}\s+)?" + _PERSON + r"\s*,", re.I),
    re.compile(r"\b(?:story|article|piece|report),?\s+by\s+" + _PERSON + r"\s*,"),
    re.compile(r"^\s*" + _PERSON + r"\s+wrote\s+this\s+(?:article|story|piece)"),
]
_PERMISSION = re.compile(r"\bwith\s+(?:the\s+)?(?:kind\s+)?permission\b", re.I)
_COPYRIGHT = re.compile(r"(?:copyright|©|\(c\))\s*(?:©\s*)?(?:\d{4}\s*)?[^\n]{2,160}", re.I)
_CC_URL = re.compile(r"creativecommons\.org/(?:licenses|publicdomain)/([a-z\-]+)/(\d\.\d)", re.I)
_CC_TEXT = re.compile(r"\b(?:CC|Creative\s+Commons)[\s\-]*(?:licen[cs]e\s*)?\(?\s*(BY(?:[\s\-](?:NC|ND|SA)){0,3}|0)"
                      r"(?:\s*(\d\.\d))?", re.I)
_AGENCY = re.compile(r"(?:^|\s|\()(AP|Associated Press|Reuters|AFP|Agence France-Presse|dpa|EFE|ANSA|UPI|PA Media|"
                     r"Bloomberg|Xinhua|Kyodo)(?:\)|\s*[—–-]|,|\s*$)")
_CUE_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PERMISSION_WORD = re.compile(r"\b(?:permission|consent)\b", re.I)
_ALL_RIGHTS = re.compile(r"all rights reserved", re.I)
_LETTERS = re.compile(r"[^\W\d_]{2}")
# words that make a short standalone line about another outlet a credit, whatever its exact phrasing, in the
# languages news is written in: sourcing ("source", "Quelle", "fuente", "出典"), first publication ("originally",
# "zuerst erschienen", "publié initialement"), permission ("with permission", "mit freundlicher Genehmigung",
# "avec l'autorisation"), reprinting ("republished", "Nachdruck", "reproduit", "転載")
_CREDIT_CUE = re.compile(
    # the lookahead: the first letters of the words below, so that most word boundaries are passed over at once
    # (half the time; tests/test_attribution.py checks that it lists every word's first letter)
    r"\b(?=[abcdefghiknopqrstuvzüźвипр])(?:originally|courtesy|republish\w*|reprint\w*|reproduc\w*|repost\w*|syndicat\w*|cross-?post\w*|"
    r"permission|consent|produced\s+by|distributed\s+by|shared\s+(?:here|with)|thanks\s+to|h/t|hat\s+tip|"
    r"credit|source|via|(?:published|appeared|ran|posted)\b[^.]{0,40}\bfirst|first\s+(?:published|appeared|ran|posted)|"
    # German, Dutch, Scandinavian
    r"quelle|zuerst|erstmals|ursprünglich|erschien\w*|genehmigung|nachdruck|übernommen|bron|oorspronkelijk|"
    r"toestemming|overgenomen|källa|kilde|først|ursprungligen|opprinnelig|tillat\w+|tilladelse|"
    # French, Spanish, Italian, Portuguese
    r"initialement|originellement|paru|autorisation|reproduit\w*|republié\w*|fuente|originalmente|originariamente|"
    r"apareció|permiso|autorización|cortesía|cortesia|reproducid\w*|republicad\w*|fonte|concessione|permesso|"
    r"riprodott\w*|ripubblicat\w*|apparso|permissão|reproduzid\w*|"
    # Polish, Czech, Turkish, Russian
    r"źródło|zdroj|kaynak|источник|впервые|перепечат\w*|разрешени\w*)\b"
    # Japanese and Chinese: no word boundaries
    r"|出典|転載|初出|提供|来源|转载|原文|原载",
    re.I)
MAX_CREDIT_LINE_WORDS = 25
LONG_PARAGRAPH_WORDS = 40   # a body paragraph; the short lines before the first and after the last are its edges
MAX_EDGE_LINES = 8
_STOP_WORDS = {"on", "in", "at", "by", "and", "under", "with", "is", "was", "the", "a", "an", "for", "to", "from"}


def _clean_outlet(raw: str) -> str:
    raw = raw.strip().strip(".,;:!?\"'’”)(")
    words = raw.split()
    while words and words[-1].lower() in _STOP_WORDS | {"copyright", "under", "on", "and"}:
        words.pop()
    # stop at a month or year (dates after outlet names) and at "Copyright"
    out = []
    for w in words:
        if re.fullmatch(r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
                        r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?|\d{1,4},?|Copyright|©", w):
            break
        out.append(w)
    return " ".join(out).strip(" .,;:")


# Creative Commons licences by their long names, in English, German, French, Spanish, Italian and Portuguese
_CC_WORDS = [
    ("BY", re.compile(r"attribution|namensnennung|paternit|atribuci|reconocimiento|attribuzione|atribui", re.I)),
    ("NC", re.compile(r"non-?commercial|nicht-?kommerziell|pas\s+d.utilisation\s+commerciale|no\s?comercial|"
                      r"non\s+commerciale|não\s?comercial", re.I)),
    ("ND", re.compile(r"no-?deriv|keine\s+bearbeitung|pas\s+de\s+modification|sin\s?(?:obra\s?)?derivad|"
                      r"non\s+opere\s+derivate|sem\s?deriva", re.I)),
    ("SA", re.compile(r"share-?alike|weitergabe\s+unter\s+gleichen|partage\s+dans\s+les\s+m[êe]mes|compartir\s?igual|"
                      r"condividi\s+allo\s+stesso|compartilha\s?igual", re.I)),
]
_CC_LONG = re.compile(r"creative\s+commons\b[^\n]{0,160}", re.I)


def licence_in_words(text: str) -> str | None:
    """A Creative Commons licence written out ("Creative Commons Attribution-ShareAlike 4.0", "CC Namensnennung 4.0")."""
    m = _CC_LONG.search(text)
    if not m:
        return None
    phrase = m.group(0)
    if re.search(r"\bzero\b|\bCC0\b|public\s+domain|domaine\s+public|gemeinfrei", phrase, re.I):
        return "CC0 1.0"
    parts = [code for code, pattern in _CC_WORDS if pattern.search(phrase)]
    if not parts or parts[0] != "BY":
        return None
    version = re.search(r"\b(\d\.\d)\b", phrase)
    return "CC " + "-".join(parts) + (f" {version.group(1)}" if version else "")


def _licence_name(kind: str, version: str | None) -> str:
    kind = kind.upper().replace(" ", "-")
    if kind in ("ZERO", "0", "CC0"):
        return "CC0 1.0"
    return f"CC {kind}" + (f" {version}" if version else "")


def _links_in(el, base: str) -> list[tuple[str, str]]:
    out = []
    for a in el.iter("a"):
        href = (a.get("href") or "").strip()
        if href and not href.startswith(("#", "mailto:", "javascript:")):
            out.append((a.text_content().strip(), urljoin(base, href)))
    return out


class _PageText:
    """Each element's text and links, read once: the content links, the statements and the licence look at
    the same blocks, and most lines (body prose) need their links never."""

    def __init__(self, page_url: str):
        self.page_url = page_url
        self._texts: dict = {}
        self._links: dict = {}

    def text(self, el) -> str:
        text = self._texts.get(el)
        if text is None:
            text = self._texts[el] = el.text_content()
        return text

    def links(self, el) -> list[tuple[str, str]]:
        links = self._links.get(el)
        if links is None:
            links = self._links[el] = _links_in(el, self.page_url)
        return links


def read_attribution(html, page_url: str, outlets: OutletDirectory | None = None,
                     own_host: str | None = None, region=None) -> Attribution:
    """Source credits, content links, copyright line and licence of one article page.

    Args:
        html: the page (bytes, str or a parsed lxml element).
        page_url: the page's URL, for relative links and its own host.
        outlets: known outlets, to resolve names like "Common Dreams" to hosts.
        own_host: the page's site (default: the host of ``page_url``); credits to it are ignored.
        region: the content element, when the caller already found it.
    """
    outlets = outlets or OutletDirectory()
    own = own_host or _host(page_url) or ""
    if region is None:
        tree = html if isinstance(html, lxml.html.HtmlElement) else parse_html(html)
        if tree is None:
            return Attribution()
        region = content_region(tree)
        root = tree
    else:
        root = region.getroottree().getroot()
    blocks = content_blocks(region)
    page = _PageText(page_url)
    reader = _StatementReader(page, outlets, own)
    reader.result.content_links = _content_links(blocks, page, own)
    lines = [line for el in blocks for line in br_lines(el, page.text(el))]
    texts = [" ".join(page.text(line).split()) for line in lines]
    words = [len(text.split()) for text in texts]
    long_at = [i for i, n in enumerate(words) if n > LONG_PARAGRAPH_WORDS]
    for i, line in enumerate(lines):
        at_edge = not long_at or i < long_at[0] or i > long_at[-1]
        reader.read(line, texts[i], first=i == 0, at_edge=at_edge and words[i] <= MAX_CREDIT_LINE_WORDS)
    _read_licence(reader.result, blocks, root, page)
    return reader.result


_BR_RUN = re.compile(r"(?:<br\b[^>]*>\s*){2,}", re.I)


def br_lines(el, text: str) -> list:
    """A block (of text ``text``) as the lines a reader sees: a long block whose text runs are separated by
    blank lines (``<br><br>``) is split there, so a credit line inside a body with no ``<p>`` is a line of its
    own."""
    if len(el) < 2 or len(text) <= MAX_LINE_CHARS or el.find("br") is None:
        return [el]
    parts = _BR_RUN.split(lxml.html.tostring(el, encoding="unicode", with_tail=False))
    if len(parts) < 2:
        return [el]
    lines = []
    for part in parts:
        if part.strip():
            lines.append(lxml.html.fragment_fromstring(part, create_parent="div"))
    return lines or [el]


MAX_LINE_CHARS = 600   # a block longer than this is body prose, not a statement (unless <br> runs split it)


def _content_links(blocks: list, page: _PageText, own: str) -> list[str]:
    """Links from the article's own content to other sites, canonical, in order, once."""
    links: dict[str, None] = {}
    for el in blocks:
        for _text, href in page.links(el):
            url = canonicalize_url(href)
            if is_fetchable(url) and _host(url) != own:
                links.setdefault(url, None)
    return list(links)


def _source_credit(sentence: str, anchors: list[tuple[str, str]], outlets: OutletDirectory,
                   own: str) -> Credit | None:
    """The credit of the first role pattern that names an outlet other than the page's own site."""
    for role, pattern in _SOURCE_PATTERNS:
        m = pattern.search(sentence)
        if not m:
            continue
        outlet = _clean_outlet(m.group("outlet"))
        at = m.start("outlet")
        link = next(((t, h) for t, h in anchors if t and t.strip(" .") and not _CC_URL.search(h)
                     and abs(sentence.find(t.strip(), max(0, at - 4)) - at) <= 4), None)
        url = link[1] if link else None
        if link and link[0]:
            outlet = link[0].strip(" .") if len(link[0]) < 80 else outlet
        if not outlet or len(outlet) < 2:
            continue
        host = (_host(url) if url and is_fetchable(url) else None) or outlets.resolve_name(outlet)
        if host == own or (host is None and _norm_name(outlet) in (_norm_name(own), _norm_name(own.split(".")[0]))):
            continue
        return Credit(outlet, host, url, role, sentence[:300])
    return None


def _may_hold(lowered: str | None, *words: str) -> bool:
    """False only when an ASCII line (``lowered``: its lowercase; None for any other line) holds none of
    ``words``, so that a case-blind pattern which needs one of them cannot match it: a substring test costs a
    tenth of the pattern's scan, and most lines are body prose. Exact on ASCII, where case is plain; other
    lines go to the pattern, whose case-blindness also folds letters such as ſ, İ and K (Kelvin)."""
    return lowered is None or any(word in lowered for word in words)


class _StatementReader:
    """Reads the article's blocks in order into one Attribution; an outlet is credited once."""

    def __init__(self, page: _PageText, outlets: OutletDirectory, own: str):
        self.page, self.outlets, self.own = page, outlets, own
        self.result = Attribution()
        self.seen_hosts: set[str] = set()

    def read(self, el, text: str, first: bool, at_edge: bool = False) -> None:
        """One line ``el``, whose text with its whitespace folded is ``text``."""
        if not text or len(text) > MAX_LINE_CHARS:
            return
        found_here = _SOURCE_WORDS.search(text) is not None and self._sources(text, self.page.links(el))
        if not found_here and len(text.split()) <= MAX_CREDIT_LINE_WORDS and _CREDIT_CUE.search(text):
            found_here = self._cue_line(text, self.page.links(el))
        elif not found_here and at_edge and self._edge_line(text, self.page.links(el)):
            self.result.edge_credits.append(text[:300])
        result = self.result
        lowered = text.lower() if text.isascii() else None
        if _may_hold(lowered, "permission") and _PERMISSION.search(text) or \
                (found_here and _PERMISSION_WORD.search(text)):
            result.permission = True
        if not result.copyright:
            m = _COPYRIGHT.search(text) if _may_hold(lowered, "copyright", "(c)") else None
            if m and len(text) < 300 and not _ALL_RIGHTS.search(text) or \
                    (m and found_here):
                result.copyright = m.group(0).strip()[:200]
                if text not in result.statements:
                    result.statements.append(text[:300])
        if found_here or result.copyright and text.startswith(result.copyright[:20]):
            for pattern in _AUTHOR_IN_CREDIT:
                m = pattern.search(text)
                if m and not result.credited_author and not self.outlets.resolve_name(m.group(1)):
                    result.credited_author = m.group(1)
        agency = _AGENCY.search(text[:80]) if first or el.tag in ("address",) else None
        if agency and not found_here:
            name = agency.group(1)
            if _norm_name(name) not in self.seen_hosts:
                self.seen_hosts.add(_norm_name(name))
                result.credits.append(Credit(name, self.outlets.resolve_name(name), None, "agency", text[:300]))

    def _sources(self, text: str, anchors: list[tuple[str, str]]) -> bool:
        """Source statements, sentence by sentence; True if the block makes one."""
        found = False
        for sentence in _CUE_SENTENCE.split(text):
            credit = _source_credit(sentence, anchors, self.outlets, self.own) if _SOURCE_WORDS.search(sentence) \
                else None
            if credit is None:
                continue
            found = True
            key = credit.host or _norm_name(credit.outlet)
            if key not in self.seen_hosts:
                self.seen_hosts.add(key)
                self.result.credits.append(credit)
                self.result.statements.append(credit.text)
        return found

    def _cue_line(self, text: str, anchors: list[tuple[str, str]]) -> bool:
        """A short credit-cue line: a credit if it names a known outlet or links another site, else kept to
        be read again once every outlet is known; True if it is a credit."""
        credit = cue_line_credit(text, self.outlets, self.own, anchors)
        if credit is None:
            self.result.cue_lines.append(text[:300])
            return False
        if credit.host not in self.seen_hosts:
            self.seen_hosts.add(credit.host)
            self.result.credits.append(credit)
            self.result.statements.append(credit.text)
        return True


    def _edge_line(self, text: str, anchors: list[tuple[str, str]]) -> bool:
        """A short standalone line at the head or foot of the body, whatever its words or language: kept to be
        read at lineage time, where it is a credit when it names another outlet the crawl knows. True if it
        names one now (a date in it is then the source's)."""
        if len(self.result.edge_lines) < MAX_EDGE_LINES and _LETTERS.search(text):
            self.result.edge_lines.append(text[:300])
        return edge_line_credit(text, self.outlets, self.own, anchors) is not None


def _read_licence(result: Attribution, blocks: list, root, page: _PageText) -> None:
    """The licence: Creative Commons links and text inside the article, then the page's metadata."""
    for el in blocks:
        text = page.text(el)
        for _t, href in page.links(el):
            m = _CC_URL.search(href)
            if m:
                result.license, result.license_url = _licence_name(m.group(1), m.group(2)), href
                result.statements.append(" ".join(text.split())[:300])
                break
        if result.license:
            break
        if not _may_hold(text.lower() if text.isascii() else None, "cc", "creative"):
            continue
        m = _CC_TEXT.search(text)
        named = None if m else licence_in_words(text)
        if m or named:
            result.license = _licence_name(m.group(1), m.group(2)) if m else named
            result.statements.append(" ".join(text.split())[:300])
            break
    if not result.license:
        for href in xpath(root, "//link[@rel='license']/@href|//a[@rel='license']/@href|//meta[@name='license']/@content"):
            m = _CC_URL.search(href) or _CC_TEXT.search(href)
            if m:
                result.license = _licence_name(m.group(1), m.group(2))
                result.license_url = href if href.startswith("http") else None
                break


_HOST_IN_TEXT = re.compile(r"(?<![@\w.-])((?:[a-z0-9][a-z0-9-]*\.)+(?:[a-z]{2,12}))(?![\w-])", re.I)
_NOT_A_TLD = {"jpg", "jpeg", "png", "gif", "webp", "svg", "pdf", "html", "htm", "php", "asp", "aspx", "js", "css",
              "txt", "doc", "docx", "mp3", "mp4", "xml", "json", "zip", "e", "i", "g", "ie", "eg", "etc", "al", "vs"}


def hosts_in(text: str) -> list[str]:
    """Host names written out in a line ("Source: www.example.com", "kestreltimes.test")."""
    out = []
    for m in _HOST_IN_TEXT.finditer(text):
        host = m.group(1).lower().strip(".")
        if host.rsplit(".", 1)[-1] not in _NOT_A_TLD and not host.replace(".", "").isdigit() and len(host) > 4:
            out.append(host)
    return out


def cue_line_credit(text: str, outlets: OutletDirectory, own: str,
                    anchors: list[tuple[str, str]] = ()) -> Credit | None:
    """The credit in a short standalone line with a credit cue: the first known outlet it names, or the
    first other site it links.

    Catches phrasings no pattern lists ("This report was produced by X and is shared here with its
    consent"); a sentence inside a long paragraph ("X first reported…") never gets here.
    """
    found = [(name, host, None) for name, host in outlets.find_in(text)]
    found += [(t.strip(" ."), _host(h), h) for t, h in anchors
              if t.strip() and is_fetchable(h) and not _CC_URL.search(h) and len(t) < 80]
    found += [(host, outlets.resolve_name(host) or host.removeprefix("www."), None) for host in hosts_in(text)]
    for name, host, url in found:
        if host and host != own:
            role = "permission" if _PERMISSION_WORD.search(text) else "source"
            url = url or next((h for _t, h in anchors if _host(h) == host), None)
            return Credit(name, host, url, role, text[:300])
    return None



def edge_line_credit(text: str, outlets: OutletDirectory, own: str,
                     anchors: list[tuple[str, str]] = ()) -> Credit | None:
    """The credit in a short standalone line at the head or foot of a body: the first outlet of the crawl's
    directory it names (as written, as a link's text, or as a host), other than the page's own site."""
    found = [host for _name, host in outlets.find_in(text)]
    # a link names its outlet when its text is that outlet's name or host (a link in running text does not)
    found += [host for t, h in anchors if is_fetchable(h) and (host := outlets.resolve_name(_host(h) or ""))
              and outlets.resolve_name(t.strip(" .")) == host]
    found += [outlets.resolve_name(host) for host in hosts_in(text)]
    host = next((h for h in found if h and h != own), None)
    if host is None:
        return None
    name = next((n for n, h in outlets.find_in(text) if h == host), host)
    role = "permission" if _PERMISSION_WORD.search(text) else "source"
    url = next((h for _t, h in anchors if _host(h) == host), None)
    return Credit(name, host, url, role, text[:300])
