"""Who wrote the page: JSON-LD and meta authors, byline elements, the header's "By …" line, a signature
line ("— Name") at the end; never a name inside comments or page furniture."""

from __future__ import annotations

import re

from crawler.page.dom import inside_noise
from crawler.page.metadata import ld_author, meta_content

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


def clean_person(name: str | None) -> str | None:
    """A person's name from a byline text ("By Ana Ruiz | Staff" → "Ana Ruiz"), or None if it reads as none."""
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

_SIGNATURE = re.compile(r"^\s*[—–-]{1,2}\s*([A-Z][\w'’.\-]+(?:\s+[A-Z][\w'’.\-]+){0,3})\s*$")


def find_author(tree, region, article_ld: dict, header: list[str]) -> str | None:
    """The page's author, strongest statement first; ``header`` is the article header's text lines."""
    author = ld_author(article_ld.get("author"))
    if not author:
        author = meta_content(tree, "author", "article:author", "dc.creator", "sailthru.author")
        if author and author.startswith("http"):
            author = None
    if not author:
        for sel in _BYLINE_SELECTORS:
            for el in region.xpath("." + sel[1:]) or tree.xpath(sel):
                if inside_noise(el, None) or el.xpath("ancestor-or-self::*[contains(@class,'comment')]"):
                    continue
                cand = clean_person(el.text_content())
                if cand:
                    author = cand
                    break
            if author:
                break
    if not author:
        joined = [f"{a} {b}" if _BYLINE_LABEL.match(a) else a for a, b in zip(header, header[1:] + [""])]
        for line in joined:
            m = _BYLINE_RE.search(line)
            if m:
                author = clean_person(m.group("name"))
                if author:
                    break
    if not author:
        for el in tree.xpath("//p|//div[not(*)]|//address"):
            m = _SIGNATURE.match(el.text_content() or "")
            if m and not inside_noise(el):
                author = m.group(1)
                break
    return clean_person(author) if author else None
