"""Stage 1, normalise: fold the ways two copies of one text differ in print but not in words.

Copies change quotes, dashes, case, spacing and Unicode forms; those must not change a fingerprint.
Site furniture (notes to readers, disclaimers, newsletter boxes) repeats across one site's pages; it is
dropped before fingerprinting but kept on the article, where lineage uses it as evidence.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from typing import Iterable

_PUNCT_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u00a0": " ", "\u2026": "...",
})
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """NFKC, ASCII quotes and dashes, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT_FOLD).casefold()
    return _SPACE.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """The words of a text after normalisation (punctuation dropped).

    ASCII text skips the Unicode folding, which would leave it unchanged: most news text is ASCII, and
    this is the hottest loop of grouping.
    """
    if text.isascii():
        return _WORD.findall(text.lower())
    return _WORD.findall(unicodedata.normalize("NFKC", text).translate(_PUNCT_FOLD).casefold())


def paragraph_key(paragraph: str) -> str:
    """A paragraph's identity across copies: its normalised words."""
    return " ".join(words(paragraph))


def site_furniture(pages: Iterable[tuple[str, list[str]]], min_pages: int) -> dict[str, set[str]]:
    """Paragraph keys that repeat on at least ``min_pages`` pages of one site.

    Args:
        pages: (site, paragraphs) for every stored article.
        min_pages: how many pages of a site must share a paragraph for it to count as furniture.

    Returns:
        site -> set of paragraph keys that are furniture there.
    """
    seen: dict[str, Counter] = defaultdict(Counter)
    for site, paragraphs in pages:
        seen[site].update({paragraph_key(p) for p in paragraphs})
    return {site: {k for k, n in counts.items() if n >= min_pages and k} for site, counts in seen.items()}


def content_words(paragraphs: list[str], furniture: set[str]) -> list[str]:
    """The words that are fingerprinted: every paragraph except the site's furniture."""
    out: list[str] = []
    for p in paragraphs:
        key = paragraph_key(p)
        if key and key not in furniture:
            out.extend(key.split(" "))
    return out

