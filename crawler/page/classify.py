"""Is this page an article? Pure functions over a parsed page, from general signals only.

Signals: URL shape (/tag/, /category/, /author/, /page/2, /about, /search…) unless the path goes on to a
dated or numbered article (``/archives/2016/09/slug``, ``/archive/63076``); structured metadata (og:type
article, JSON-LD NewsArticle/BlogPosting/LiveBlogPosting…); and the page's prose: an article has a run of long
paragraphs (in ``<p>``, or in bare ``<div>``s and ``<br>`` runs) and a low link density; a listing has many short
linked items and little prose. Blog posts, opinion, live pages and long-form are articles.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from crawler.page.dom import xpath

NON_ARTICLE_PATHS = [
    ("tag", re.compile(r"/(tags?|topics?|keywords?|subjects?|themes?)(/|$)")),
    ("author", re.compile(r"/(authors?|writers?|contributors?|people|staff|profile)(/|$)")),
    ("section", re.compile(r"/(category|categories|section|sections|archives?|topics)(/|$)|/page/\d+/?$|[?&]page=\d+")),
    ("about", re.compile(r"/(about(-us)?|contact(-us)?|team|masthead|membership|donate|support-us|advertise)(/|\.html?|$)")),
    ("static", re.compile(r"/(privacy|terms|cookies?|subscribe|newsletter|login|register|legal|imprint|faq)"
                          r"(-policy|-of-use|-of-service)?(/|\.html?|$)")),
    ("search", re.compile(r"/search(/|$|\?)")),
    ("feed", re.compile(r"(/feed/?$|/rss/?$|\.xml$|\.rss$|\.atom$)")),
]
ARTICLE_URL = re.compile(r"/(19|20)\d{2}/\d{1,2}/|/\d{4,}(/|\.html?|$)|-[a-z0-9]+-[a-z0-9]+-[a-z0-9]+|\.html?$")


def looks_like_article_url(url: str) -> bool:
    """A cheap prior from the URL alone (for crawl ordering, never for the final decision)."""
    path = urlsplit(url).path.lower()
    if path in ("", "/") or any(p.search(path) for _, p in NON_ARTICLE_PATHS):
        return False
    return bool(ARTICLE_URL.search(path))


def listing_kind(path_query: str) -> str | None:
    """The kind of listing a URL path names, unless the path goes on to an article under it."""
    for kind, pattern in NON_ARTICLE_PATHS:
        m = pattern.search(path_query)
        if not m:
            continue
        rest = path_query[m.end() - 1:] if path_query[m.end() - 1:m.end()] == "/" else path_query[m.end():]
        if kind not in ("feed", "search") and not re.search(r"/page/\d+|[?&]page=\d+", path_query) \
                and ARTICLE_URL.search(rest if rest.startswith("/") else "/" + rest):
            continue   # /archives/2016/09/why-new-yorkers-got-…, /archive/63076: an article filed under a listing
        return kind
    return None


_INLINE = {"br", "a", "b", "i", "em", "strong", "span", "font", "small", "u", "sub", "sup", "abbr", "cite", "q", "mark",
           "time", "code", "wbr", "s", "del", "ins"}
_LOOSE_BLOCKS = ("div", "td", "section", "article", "main", "blockquote", "dd", "center", "font", "span", "body")
_NOT_PROSE = ("p", "a", "nav", "footer", "header", "aside", "script", "style", "noscript", "li", "h1", "h2", "h3",
              "form", "select", "button")


def loose_prose(tree) -> int:
    """Characters of long runs of text outside ``<p>``: a block's own text and its inline children's (a body in
    bare ``<div>``s, ``<br>`` runs or table cells), for runs of 80 characters or more."""
    total = 0
    for el in tree.iter(*_LOOSE_BLOCKS):
        parts = [el.text or ""]
        inline_only = True
        for child in el:
            if isinstance(child.tag, str) and child.tag not in _INLINE:
                inline_only = False
            elif isinstance(child.tag, str) and child.tag != "br":
                parts.append(child.text_content())
            parts.append(child.tail or "")
        text = " ".join(" ".join(parts).split())
        if len(text) < 80 or (not inline_only and len(text) < 160):
            continue
        if any(a.tag in _NOT_PROSE for a in el.iterancestors()):
            continue
        total += len(text)
    return total


def prose_stats(tree) -> tuple[int, int, float]:
    """(long paragraphs, prose characters, link density of the prose)."""
    long_paras = prose = linked = 0
    for p in tree.iter("p"):
        text = p.text_content()
        n = len(text.strip())
        if n < 80:
            continue
        link_chars = sum(len(a.text_content()) for a in p.iter("a"))
        if link_chars > 0.5 * n:
            continue
        long_paras += 1
        prose += n
        linked += link_chars
    return long_paras, prose, (linked / prose if prose else 0.0)


def classify_page(url: str, tree, meta: dict | None = None, stats: tuple[int, int, float] | None = None) -> str:
    """article, home, section, tag, author, about, static, search, feed or other (``stats``: the page's
    :func:`prose_stats`, when the caller has them)."""
    path = urlsplit(url).path.lower() or "/"
    query = urlsplit(url).query.lower()
    if path in ("/", "/index.html", "/index.php", "/home"):
        return "home"
    kind = listing_kind(path + ("?" + query if query else ""))
    if kind:
        return kind
    og_type = (xpath(tree, "string(//meta[@property='og:type']/@content)") or "").strip().lower()
    ld = (meta or {}).get("jsonld") or {}
    ld_article = any(str(t).lower().endswith(("article", "posting", "report"))
                     for t in (ld.get("@type") if isinstance(ld.get("@type"), list) else [ld.get("@type")]))
    long_paras, prose, density = stats or prose_stats(tree)
    links = len(xpath(tree, "//a[@href]"))
    if og_type in ("website", "profile") and long_paras < 3 and not ld_article:
        return "section"
    if og_type == "article" or ld_article:
        return "article"   # the page says so, even when its body is drawn by a script (nothing in the HTML to read)
    if long_paras >= 3 and density < 0.25 and prose >= 600:
        return "article"
    if long_paras >= 1 and prose >= 350 and links < 60 and xpath(tree, "//h1"):
        return "article"
    # short pieces (excerpts, briefs) and bodies with no <p> at all (text in <br> runs, bare <div>s, table
    # cells): a headline, a byline or an article URL, some prose, few links
    if links < 45 and (prose >= 120 or prose + loose_prose(tree) >= 300) and shows_headline(tree) \
            and (has_byline(tree) or looks_like_article_url(url)):
        return "article"
    return "section" if links >= 15 else "other"


def shows_headline(tree) -> bool:
    """A headline on the page: an ``<h1>``/``<h2>``, or any element whose whole text is the page's own title
    (og:title, or ``<title>`` before a site-name separator) — older layouts set it in ``<font>`` or ``<b>``."""
    if xpath(tree, "//h1|//h2"):
        return True
    titles = {_folded(t) for t in xpath(tree, "//meta[@property='og:title']/@content|//title/text()")}
    titles |= {_folded(re.split(r"\s[|\-–—:·]\s", t)[0]) for t in xpath(tree, "//title/text()")}
    titles.discard("")
    if not titles:
        return False
    return any(_folded(el.text_content()) in titles
               for el in xpath(tree, "//body//*[not(self::title or self::a or self::li or self::option)]")
               if len(el.text_content()) < 400)


def _folded(text: str) -> str:
    return " ".join(text.split()).lower()


_BYLINE = re.compile(r"^\s*(by|written by|words:|author:|posted by)\s+[A-Z]", re.I)


def has_byline(tree) -> bool:
    """A short 'By Name' line, an author element or a <time> element: the marks of a single piece."""
    if xpath(tree, "//time|//*[@rel='author']|//*[@itemprop='author']"):
        return True
    return any(_BYLINE.match(el.text_content() or "") and len(el.text_content()) < 80
               for el in xpath(tree, "//p|//span|//div[not(*)]|//td"))
