"""Is this page an article? Pure functions over a parsed page, from general signals only.

Signals, strongest first: structured metadata (og:type article, JSON-LD NewsArticle/BlogPosting), URL
shape (/tag/, /category/, /author/, /page/2, /about, /search…), and the page's prose: an article has a
run of long paragraphs and a low link density; a listing has many short linked items and little prose.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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


def classify_page(url: str, tree, meta: dict | None = None) -> str:
    """article, home, section, tag, author, about, static, search, feed or other."""
    path = urlsplit(url).path.lower() or "/"
    query = urlsplit(url).query.lower()
    if path in ("/", "/index.html", "/index.php", "/home"):
        return "home"
    for kind, pattern in NON_ARTICLE_PATHS:
        if pattern.search(path + ("?" + query if query else "")):
            return kind
    og_type = (tree.xpath("string(//meta[@property='og:type']/@content)") or "").strip().lower()
    ld = (meta or {}).get("jsonld") or {}
    ld_type = str(ld.get("@type", "")).lower()
    long_paras, prose, density = prose_stats(tree)
    links = len(tree.xpath("//a[@href]"))
    if og_type in ("website", "profile") and long_paras < 3:
        return "section"
    if og_type == "article" or ld_type.endswith(("article", "posting", "report")):
        return "article" if prose >= 200 or long_paras >= 1 else "other"
    if long_paras >= 3 and density < 0.25 and prose >= 600:
        return "article"
    if long_paras >= 1 and prose >= 350 and links < 60 and tree.xpath("//h1"):
        return "article"
    # short pieces (excerpts, briefs): a headline, a byline or date line, a little prose, few links
    if prose >= 120 and links < 45 and tree.xpath("//h1|//h2") and (has_byline(tree) or looks_like_article_url(url)):
        return "article"
    return "section" if links >= 15 else "other"


_BYLINE = re.compile(r"^\s*(by|written by|words:|author:|posted by)\s+[A-Z]", re.I)


def has_byline(tree) -> bool:
    """A short 'By Name' line, an author element or a <time> element: the marks of a single piece."""
    if tree.xpath("//time|//*[@rel='author']|//*[@itemprop='author']"):
        return True
    return any(_BYLINE.match(el.text_content() or "") and len(el.text_content()) < 80
               for el in tree.xpath("//p|//span|//div[not(*)]|//td"))
