"""Stage 1, normalise: fold the ways two copies of one text differ in print but not in words.

Copies change quotes, dashes, case, spacing and Unicode forms; those must not change a fingerprint.
Site furniture (notes to readers, disclaimers, newsletter boxes) repeats across one site's pages; it is
dropped before fingerprinting but kept on the article, where lineage uses it as evidence. Paragraphs are
compared by :func:`paragraph_hash` of their normalised words, which signatures store, so an unchanged
text is never normalised again.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable

import numpy as np
import xxhash

_PUNCT_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u00a0": " ", "\u2026": "...",
})
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_SPACE = re.compile(r"\s+")


_FOLD_PAIRS = tuple((chr(k), v) for k, v in _PUNCT_FOLD.items())
# ASCII bytes → themselves for [a-z0-9'], lower case for [A-Z], a space for everything else
_ASCII_WORD_TABLE = bytes(c + 32 if 65 <= c <= 90 else c if chr(c).isalnum() or c == 39 else 32 for c in range(256))


def _fold(text: str) -> str:
    """NFKC, ASCII quotes and dashes, lower case (``str.translate`` with a dict, one lookup per character,
    costs more than the few ``replace`` calls for the marks a text holds; no replacement is itself a mark)."""
    text = unicodedata.normalize("NFKC", text)
    for mark, ascii_form in _FOLD_PAIRS:
        if mark in text:
            text = text.replace(mark, ascii_form)
    return text.casefold()


def normalise_text(text: str) -> str:
    """NFKC, ASCII quotes and dashes, lower case, single spaces."""
    return _SPACE.sub(" ", _fold(text)).strip()


def _ascii_words(text: str) -> list[str]:
    """``_WORD.findall(text.lower())`` of an ASCII text, about twice as fast: a byte table lowers letters and
    blanks all but letters, digits and apostrophes, then a split; only tokens holding an apostrophe go
    through the regular expression (a match never spans a blanked character)."""
    found = text.encode().translate(_ASCII_WORD_TABLE).decode().split()
    if "'" in text:
        found = [w for token in found for w in (_WORD.findall(token) if "'" in token else (token,))]
    return found


def words(text: str) -> list[str]:
    """The words of a text after normalisation (punctuation dropped).

    ASCII text skips the Unicode folding, which would leave it unchanged: most news text is ASCII, and
    this is the hottest loop of grouping.
    """
    if text.isascii():
        return _ascii_words(text)
    folded = _fold(text)
    return _ascii_words(folded) if folded.isascii() else _WORD.findall(folded)


def paragraph_key(paragraph: str) -> str:
    """A paragraph's identity across copies: its normalised words."""
    return " ".join(words(paragraph))


def paragraph_hash(key: str) -> int:
    """A paragraph key as a 64-bit integer (what signatures store and furniture counts)."""
    return xxhash.xxh64_intdigest(key.encode())


def paragraph_hashes(paragraphs: list[str]) -> np.ndarray:
    """Each paragraph's identity (the hash of its normalised words; 0 for a paragraph without words)."""
    return np.array([paragraph_hash(k) if (k := paragraph_key(p)) else 0 for p in paragraphs], dtype=np.uint64)


def site_furniture(pages: Iterable[tuple[str, np.ndarray]], min_pages: int) -> dict[str, set[int]]:
    """Paragraph hashes that repeat on at least ``min_pages`` pages of one site.

    Args:
        pages: (site, :func:`paragraph_hashes`) for every stored article.
        min_pages: how many pages of a site must share a paragraph for it to count as furniture.

    Returns:
        site -> set of paragraph hashes that are furniture there (every site of ``pages`` has an entry).
    """
    seen: dict[str, Counter] = defaultdict(Counter)
    for site, hashes in pages:
        seen[site].update(furniture_votes(hashes))
    return {site: {h for h, n in counts.items() if is_furniture(n, min_pages)} for site, counts in seen.items()}


def furniture_votes(hashes: np.ndarray) -> set[int]:
    """The paragraphs one page counts towards its site's furniture: each distinct one once, never 0 (no words)."""
    return set(hashes.tolist()) - {0}


def is_furniture(pages: int, min_pages: int) -> bool:
    """Whether a paragraph seen on ``pages`` pages of one site is furniture there."""
    return pages >= min_pages


def furniture_on_page(hashes: np.ndarray, furniture: set[int]) -> set[int]:
    """The furniture paragraphs (of any site) one page carries, each once: its votes for who wrote them."""
    return furniture.intersection(hashes.tolist())


def writer_of(pages_by_site: Counter) -> str | None:
    """The site that wrote a furniture paragraph (its note or disclaimer): the one holding more than half of
    the pages that carry it; None when no site does (spam and ads that several sites insert alike)."""
    site, pages = pages_by_site.most_common(1)[0]
    return site if 2 * pages > pages_by_site.total() else None


def quoted_words(paragraph: str) -> tuple[list[str], list[bool]]:
    """The paragraph's :func:`words`, each flagged when it stands inside quotation marks.

    Quotation marks are counted within the paragraph (news style leaves a quote that runs on to the next
    paragraph open, so an unclosed quote ends with its paragraph).
    """
    text = paragraph.lower() if paragraph.isascii() else _fold(paragraph)
    split = _ascii_words if text.isascii() else _WORD.findall
    out: list[str] = []
    flags: list[bool] = []
    for i, stretch in enumerate(text.split('"')):   # odd stretches lie inside quotation marks
        found = split(stretch)   # no word spans a quotation mark
        out.extend(found)
        flags.extend([i % 2 == 1] * len(found))
    return out, flags


def print_words(paragraphs: list[str], furniture: set[int]) -> tuple[list[str], list[bool], list[int]]:
    """The words that are fingerprinted and aligned, with their quoted flags and each paragraph's first word:
    every paragraph once, except the site's furniture.

    A paragraph repeated within one page (a photo caption shown with every picture, a headline shown twice
    by a share widget) counts once, so that such noise cannot outweigh the article it surrounds.
    """
    out: list[str] = []
    flags: list[bool] = []
    starts: list[int] = []
    seen: set[int] = set()
    for p in paragraphs:
        found, quoted = quoted_words(p)   # its words are the paragraph's words(): one pass makes key and flags
        if not found:
            continue
        h = paragraph_hash(" ".join(found))
        if h in furniture or h in seen:
            continue
        seen.add(h)
        starts.append(len(out))
        out.extend(found)
        flags.extend(quoted)
    return out, flags, starts
