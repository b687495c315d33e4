"""Who wrote the page, as a list of names: JSON-LD and meta authors, byline elements, the header's "By …" line,
a signature line ("— Name") at the end; never a name inside comments or page furniture.

Bylines are read by their structure, in the languages news is written in: a prefix ("By", "Von:", "Por",
"Par", "Av", "Door", "Di", "Автор"…) is dropped, several authors are split at commas and conjunctions ("and",
"und", "y", "et", "e", "og", "i", "и", "、"…), roles ("Staff Writer", "記者", "기자") and glued furniture (dates,
e-mail addresses, handles) are cut. The site's own name (og:site_name, its JSON-LD publisher, its host) is never
the author of a page that names anyone else; an agency or the outlet named alone stays the author.
"""

from __future__ import annotations

import re

from crawler.page.dom import inside_noise, xpath
from crawler.page.metadata import clean_text, is_own_name, ld_names, name_key

_PREFIX = re.compile(
    r"^\s*(?:[|•·]\s*)?(?:(?:written|posted|reported|reporting|story|words|text|photos?|interview|compiled)\s+by|by|words|"
    r"authors?|autor(?:in|en)?|auteurs?|autores?|autori|von|text\s+von|texto\s+de|por|par|av|door|di|af|tekst|"
    r"texto|testo|kirjoittanut|yazan|yazar|oleh|bởi|автор[ыи]?|текст|від|作者|文|记者|記者|글)"
    r"(?=[\s:：\-–—/]|$)\s*[:：\-–—/]?\s*", re.I)
# "de"/"da" only introduce a name when one follows ("de Juan Pérez"), never as a name's own particle
_PREFIX_BEFORE_NAME = re.compile(r"^\s*(?:de|da|du)\s+(?=[A-ZÀ-Þ])")
_ROLE_WORDS = (r"(?:senior\s+|chief\s+|deputy\s+|political\s+|foreign\s+|special\s+|staff\s+|contributing\s+)*"
               r"(?:staff|writers?|reporters?|correspondents?|editors?|contributors?|columnists?|journalists?|"
               r"photographers?|redakteur(?:in)?|korrespondent(?:in)?|journaliste|periodista|redactora?|giornalista|"
               r"correspondente|корреспондент|журналист|muhabir|wartawan|記者|기자|特派員|編集委員|记者|通讯员)")
_ROLE_TAIL = re.compile(r"(?:\s+" + _ROLE_WORDS + r")+\s*$", re.I)
_ROLE_ONLY = re.compile(r"^\s*(?:" + _ROLE_WORDS + r"\s*)+$", re.I)
_CJK_ROLE = re.compile(r"\s*(?:記者|기자|特派員|編集委員|记者|通讯员|論説委員|解説委員)\s*$")
# conjunctions in lower case only: "John A Smith" keeps its middle initial
_SPLIT = re.compile(r"\s*(?:[,;|•·、，/]|&|\s(?:and|AND|And|und|UND|y|et|e|og|och|en|i|и|ja|ve|és|oraz|ile|a)\s)\s*")
_CUT = re.compile(r"\s*(?:\d|\(|\[|@|https?:|www\.|\s[-–—]\s|\s(?-i:on|am|le|el|il|em)\s|\s(?:updated|"
                  r"aktualisiert|published|veröffentlicht|publié|publicado)\b)", re.I)
_NOT_A_NAME = {"the", "a", "an", "our", "email", "share", "continue", "in", "on", "at", "follow", "more", "twitter",
               "facebook", "linkedin", "instagram", "contact", "profile", "bio", "view", "read", "comments", "menu",
               "home", "news", "search", "print", "subscribe", "login", "anonymous", "unknown", "none", "null"}
_FAKE_AUTHOR = re.compile(r"^(?:admin|staff|news desk|editor|webmaster|team)$", re.I)
_AUTHOR_LINK = re.compile(r"/(?:authors?|autor(?:en|in)?|auteurs?|autores?|people|persons?|profiles?|journalists?|"
                          r"redakteur\w*|staff|team|writers?|contributors?|columnists?|by|av|von|toireporter)(?:/|-|$)",
                          re.I)
_BYLINE_SELECTORS = (
    "//*[@rel='author' or @itemprop='author' or contains(concat(' ', normalize-space(@class), ' '), ' byline ')]",
    ("//*[contains(@class,'byline') or contains(@class,'author') or contains(@class,'writer') or "
     "contains(@class,'Byline') or contains(@class,'Author')]"),
)
_HEADER_BYLINE = re.compile(_PREFIX.pattern + r"(?P<rest>\S.{1,200})$", re.I)
_SIGNATURE = re.compile(r"^\s*[—–-]{1,2}\s*([A-Z][\w'’.\-]+(?:\s+[A-Z][\w'’.\-]+){0,3})\s*$")
_META_AUTHOR = re.compile(r"(?:^|[:._\-#])(?:author|creator|byl)$", re.I)
# a link where a name is expected: OpenGraph's article:author is a profile URL ("…/author/jane-doe")
_LINK_VALUE = re.compile(r"^\s*(?:https?:|//|www\.)", re.I)
_INVERTED_NAME = re.compile(r"^\s*([^\s,]+(?:\s[^\s,]+)?),\s*([^\s,]+(?:\s[^\s,]+)?)\s*$")
MAX_AUTHORS = 20
MAX_BYLINE_LINE = 160   # characters: a longer line that starts with "By" is a sentence


def _cased_lower_start(name: str) -> bool:
    first = next((c for c in name if c.isalpha()), "")
    return first.islower()


def clean_person(name: str | None, strict: bool = True) -> str | None:
    """One author's name from a piece of byline ("By Ana Ruiz, Staff Writer" → "Ana Ruiz"), or None.

    ``strict`` (visible text): a name of a cased script starts with a capital, unless it is a short
    lower-case acronym such as an agency's ("dpa").
    """
    if not name:
        return None
    name = " ".join(name.split())
    name = _PREFIX_BEFORE_NAME.sub("", _PREFIX.sub("", name))
    name = _CUT.split(name, maxsplit=1)[0]
    name = _CJK_ROLE.sub("", name).strip(" ,.;:|-–—·•'\"“”‘’()[]")
    if _FAKE_AUTHOR.match(name):
        return name                         # a placeholder is what the page shows ("Staff")
    if _ROLE_ONLY.match(name):
        return None                         # "Staff Writer": the role of the name before it
    name = _ROLE_TAIL.sub("", name).strip(" ,.;:|-–—·•'\"“”‘’()[]")
    words = name.split()
    half = len(words) // 2
    if half and len(words) % 2 == 0 and words[:half] == words[half:]:
        name = " ".join(words[:half])      # "Paul Serran Paul Serran": a name shown twice
    if (not name or len(name) > 60 or len(words) > 6 or name.casefold() in _NOT_A_NAME or _ROLE_ONLY.match(name)
            or not any(c.isalpha() for c in name)):
        return None
    if strict and _cased_lower_start(name) and not (len(words) == 1 and len(name) <= 4):
        return None
    return name


def split_names(text: str, strict: bool = True, run: bool = False) -> list[str]:
    """Every author named in one byline text ("Von Felix Schröder und Jörg Soldwisch" → two names); with
    ``run``, only the names up to the first part that is not one (a sentence that starts with "By" is no byline).
    A link names no one: its path is split at "/" otherwise, and a profile's slug is not the name it shows."""
    text = " ".join((text or "").split())
    if _LINK_VALUE.match(text):
        return []
    text = _PREFIX_BEFORE_NAME.sub("", _PREFIX.sub("", text))
    parts = _SPLIT.split(text) if len(text) > 2 else [text]
    names = []
    for part in parts:
        name = clean_person(part, strict)
        if run and not name and not _ROLE_ONLY.match(part or ""):
            break
        if name and name_key(name) not in {name_key(n) for n in names}:
            names.append(name)
    return names


def _structured_names(tree, article_ld: dict) -> list[list[str]]:
    """Names from JSON-LD, then from the author-like <meta> tags (one source each)."""
    sources = [[n for name, _kind in ld_names(article_ld.get("author") or article_ld.get("creator"))
                for n in split_names(name, strict=False)]]
    metas: list[str] = []
    for meta in xpath(tree, "//meta[@content]"):
        key = meta.get("name") or meta.get("property") or meta.get("itemprop") or ""
        if _META_AUTHOR.search(key) and not key.lower().startswith("twitter:"):
            content = clean_text(meta.get("content")) or ""
            inverted = _INVERTED_NAME.match(content) if re.search(r"creator|citation", key, re.I) else None
            # scholarly metadata writes one name per tag, family name first ("You, Xiaoying")
            metas.extend(split_names(f"{inverted.group(2)} {inverted.group(1)}" if inverted else content, strict=False))
    labelled = xpath(tree, "//meta[starts-with(@name,'twitter:label')][re:test(@content, '^(written by|author|"
                           "verfasst von|autor)', 'i')]/@name")
    for label in labelled:
        data = xpath(tree, "//meta[@name=$n]/@content", n=label.replace("label", "data"))
        metas.extend(split_names(data[0] if data else "", strict=False))
    sources.append(metas)
    return sources


def _element_names(el) -> list[str]:
    """Names in one byline element: its author links or name elements when it has them, else its text."""
    named = [a for a in xpath(el, ".//a[@href]") if _AUTHOR_LINK.search(a.get("href") or "")]
    named += xpath(el, ".//*[@itemprop='name']")
    if el.tag == "a" and _AUTHOR_LINK.search(el.get("href") or ""):
        named = [el]
    if named:
        names = [n for a in named for n in split_names(a.text_content())]
        if names:
            return names
    return split_names(" ".join(t.strip() for t in el.itertext() if t.strip()))


def _byline_elements(tree, region) -> list[str]:
    for sel in _BYLINE_SELECTORS:
        for el in xpath(region, "." + sel[1:]) or xpath(tree, sel):
            if inside_noise(el, None) or xpath(el, "ancestor-or-self::*[contains(@class,'comment')]"):
                continue
            if len(el.text_content()) > 400:
                continue
            names = _element_names(el)
            if names:
                return names
    return []


def _header_names(header: list[str]) -> list[str]:
    if not header:
        return []
    for line, following in zip(header, header[1:] + [""], strict=True):
        m = _HEADER_BYLINE.match(line) or (_HEADER_BYLINE.match(f"{line} {following}") if _PREFIX.fullmatch(line)
                                           else None)
        if m and len(m.group(0)) <= MAX_BYLINE_LINE:
            names = split_names(m.group("rest"), run=True)
            if names:
                return names
    return []


def _labelled_names(tree) -> list[str]:
    """A byline set as a label and a value (a table row "Author: | Name", a "By" term before its name): the
    element whose whole text is a byline prefix, and the names in the element after it."""
    for el in xpath(tree, "//td|//th|//dt|//span|//div[not(*)]|//b|//strong"):
        if not _PREFIX.fullmatch(el.text_content() or "") or inside_noise(el):
            continue
        value = el.getnext()
        if value is not None and len(value.text_content()) <= MAX_BYLINE_LINE:
            names = split_names(value.text_content(), run=True)
            if names:
                return names
    return []


def _signature_names(tree) -> list[str]:
    for el in xpath(tree, "//p|//div[not(*)]|//address"):
        m = _SIGNATURE.match(el.text_content() or "")
        if m and not inside_noise(el):
            return [m.group(1)]
    return []


def _rel_author_names(tree) -> list[str]:
    """Names of the page's ``rel="author"`` links, wherever they stand: the last resort, for a byline the
    noise filter took for furniture (a header or aside around the headline)."""
    names: list[str] = []
    for a in xpath(tree, "//a[@rel='author']"):
        if not xpath(a, "ancestor-or-self::*[contains(@class,'comment')]"):
            names.extend(split_names(a.text_content()))
    return names


def find_authors(tree, region, article_ld: dict, header: list[str], own: set[str] = frozenset()) -> list[str]:
    """The page's authors, from the first source that names someone other than the site itself; if every
    source names only the site (or an agency), that name. ``header``: the article header's text lines."""
    first_found: list[str] = []
    sources = _structured_names(tree, article_ld)
    readers = (lambda: _byline_elements(tree, region), lambda: _header_names(header), lambda: _labelled_names(tree),
               lambda: _signature_names(tree), lambda: _rel_author_names(tree))
    for index in range(len(sources) + len(readers)):
        names = sources[index] if index < len(sources) else readers[index - len(sources)]()
        others = [n for n in names if not is_own_name(n, own)]
        if others:
            return _unique(others)
        first_found = first_found or names
    return _unique(first_found)


def _unique(names: list[str]) -> list[str]:
    keys: set[str] = set()
    out = []
    for name in names:
        if name_key(name) not in keys:
            keys.add(name_key(name))
            out.append(name)
    return out[:MAX_AUTHORS]
