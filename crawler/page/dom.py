"""The parsed page: one lxml parse, the element holding the article, its paragraph-level blocks, and the
page's furniture (navigation, sidebars, footers, share bars, comments), recognised by structure rather
than by one site's class names. Shared by extraction, attribution and byline reading."""

from __future__ import annotations

import functools
import re

import lxml.etree
import lxml.html

from crawler.page.decode import decode_html

_UTF8 = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
# every element an HtmlElement, chosen in C: lxml.html's own lookup is a Python call for each element object
# made (a few percent of extraction) to give forms and inputs classes of their own, which nothing here uses
_HTML_CLASSES = lxml.etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
                                                     pi=lxml.html.HtmlProcessingInstruction,
                                                     entity=lxml.html.HtmlEntity)


def xpath(el, expr: str, **variables):
    """``el.xpath(expr, **variables)``, the expression compiled once a process: lxml compiles a string at every
    call, a quarter of a short query's time, and reading a page asks some twenty."""
    return _compiled(expr)(el, **variables)


@functools.cache
def _compiled(expr: str) -> lxml.etree.XPath:
    return lxml.etree.XPath(expr, namespaces=_XPATH_NAMESPACES)


# the prefixes the readers' expressions use: EXSLT's regular expressions (``re:test``)
_XPATH_NAMESPACES = {"re": "http://exslt.org/regular-expressions"}


def parse_document(text: str) -> tuple[lxml.html.HtmlElement | None, str | None]:
    """The tree of a decoded page, or None and why it could not be parsed (lxml stops at 256 levels)."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    parser.set_element_class_lookup(_HTML_CLASSES)
    try:
        tree = lxml.html.fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None, "no HTML could be parsed"
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        return None, "nested too deeply to parse (more than 256 levels)"
    return tree, None


def parse_html(html: bytes | str) -> lxml.html.HtmlElement | None:
    """The tree of raw HTML (bytes are decoded as a browser would), or None when there is none."""
    if isinstance(html, bytes):
        html = decode_html(html)
    if not html or not html.strip():
        return None
    try:
        return lxml.html.fromstring(html.encode("utf-8"), parser=_UTF8)
    except (lxml.etree.ParserError, ValueError):
        return None


_NOISE = re.compile(
    r"(^|[\s_-])(comments?|comment-list|respond|reply|replies|discussion|disqus|related|recommended|more-stories|"
    r"read-next|popular|trending|most-read|sidebar|side-bar|aside|widget|blogroll|links|partners|footer|"
    r"site-footer|nav|navbar|navigation|menu|breadcrumbs?|share|sharing|social|newsletter|subscribe|signup|"
    r"cookie|consent|banner|advert|ads?|sponsor|promo|membership|masthead|header|site-header|tags?|toolbar)"
    r"($|[\s_-])", re.I)
_NOISE_TAGS = {"nav", "aside", "footer", "header", "form", "script", "style", "noscript", "template", "iframe",
               "button", "select", "svg"}


def is_noise(el) -> bool:
    """Page furniture: a navigation, aside, form or script element, or one whose class, id or role says so."""
    if not isinstance(el.tag, str):
        return True
    if el.tag in ("html", "body", "main", "article"):
        return False
    if el.tag == "aside" and is_info_box(el):
        pass    # a short box without links beside the body holds the article's byline, date or credit line
    elif el.tag in _NOISE_TAGS:
        # an article's own header or footer (byline, date, credit line) is not the page's
        parent = el.getparent()
        return el.tag not in ("header", "footer") or parent is None or parent.tag not in ("article", "section")
    tokens = f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}"
    return bool(tokens.strip()) and bool(_NOISE.search(tokens)) and not re.search(
        r"(article|story|entry|post)[-_]?(body|content|text)|byline|credit|source|note", tokens, re.I)


def is_info_box(el) -> bool:
    """A short element with at most one link and no list or heading: an information box, not a sidebar."""
    return len(xpath(el, ".//a")) <= 1 and not xpath(el, ".//ul|.//ol|.//h2|.//h3|.//h4|.//form|.//iframe") \
        and len(el.text_content()) <= MAX_INFO_BOX_CHARS


MAX_INFO_BOX_CHARS = 300


def text_len(el) -> int:
    """Characters of the paragraphs under ``el`` outside its furniture."""
    return sum(len(p.text_content()) for p in el.iter("p") if not inside_noise(p, el))


def inside_noise(el, stop=None) -> bool:
    """Is ``el`` page furniture or inside some, looking up to ``stop`` (exclusive)?"""
    node = el
    while node is not None and node is not stop:
        if is_noise(node):
            return True
        node = node.getparent()
    return False


def content_region(tree):
    """The element holding the article itself: semantic containers first, else the densest text block."""
    for xp in ("//*[@itemprop='articleBody']", "//article", "//main", "//*[@role='main']"):
        found = [(el, n) for el in xpath(tree, xp) if (n := text_len(el)) > 200]   # each measured once
        if found:
            best = max(found, key=lambda pair: pair[1])[0]
            if xp == "//article" or xp == "//*[@itemprop='articleBody']":
                parent = best.getparent()
                return parent if parent is not None and parent.tag in ("main",) else best
            return best
    best, best_len = tree, 0
    for el in tree.iter("div", "td", "section", "article", "main"):
        if is_noise(el):
            continue
        direct = sum(len(p.text_content()) for p in el if isinstance(p.tag, str) and p.tag in ("p", "blockquote", "h2", "h3"))
        if direct > best_len:
            best, best_len = el, direct
    parent = best.getparent()
    if parent is not None and parent.tag in ("article", "section") and not is_noise(parent):
        return parent   # the body's own article or section also holds its headline, byline and credit lines
    return best


_BLOCKS = {"p", "li", "blockquote", "h1", "h2", "h3", "h4", "figcaption", "address", "small", "em", "i", "span",
           "div", "td", "font"}
_WRAPPERS = {"div", "td", "span", "em", "i", "font", "small"}   # a block only when it holds no block of its own
_INLINE_BLOCKS = {"span", "em", "i", "small", "font"}
_HOLDS_BLOCKS = {"p", "div", "table", "li"}
_ENCLOSING = {"p", "li", "blockquote", "h1", "h2", "h3", "h4"}   # a block inside one of these is part of it


def content_blocks(region) -> list:
    """Paragraph-level elements of the region, noise subtrees excluded, in document order.

    One walk down the region that skips a noise subtree whole and carries whether it is inside an enclosing
    block, rather than looking up every element's ancestors (a third of attribution reading's time)."""
    out = []
    inside = any(isinstance(a.tag, str) and a.tag in _ENCLOSING for a in region.iterancestors())
    stack = [(region, inside)]
    while stack:
        el, inside = stack.pop()
        if _is_block(el, inside):
            out.append(el)
        inside = inside or el.tag in _ENCLOSING
        stack.extend((child, inside) for child in reversed(el)
                     if isinstance(child.tag, str) and not is_noise(child))
    return out


def _is_block(el, inside: bool) -> bool:
    if el.tag not in _BLOCKS or inside:
        return False
    if el.tag in _WRAPPERS and any(child.tag in _HOLDS_BLOCKS for child in el):
        return False
    parent = el.getparent()
    return not (el.tag in _INLINE_BLOCKS and parent is not None and parent.tag in ("div", "td")
                and (parent.text or "").strip())
