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
from dataclasses import dataclass

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


# ASCII bytes as `_ASCII_WORD_TABLE` maps them; bytes of other characters (UTF-8, only ever in words a
# regular expression already found) stand for themselves and are letters
_BATCH_TABLE = _ASCII_WORD_TABLE[:128] + bytes(range(128, 256))
_LETTER_TABLE = bytes(int(c >= 128 or chr(c).isalnum()) for c in range(256))   # 1 for a letter or digit, else 0
_SPACE_BYTE, _QUOTE_BYTE, _APOSTROPHE_BYTE = 32, 34, 39


@dataclass(frozen=True, slots=True)
class BatchWords:
    """The words of a batch of texts (lists of paragraphs) in one byte buffer, as :func:`quoted_words` finds
    them paragraph by paragraph: each word is ``buffer[starts[i]:ends[i]]`` (its UTF-8 bytes), in text and
    paragraph order."""

    buffer: np.ndarray            # uint8, the texts lowered, everything but letters, digits and ' blanked
    starts: np.ndarray            # int64, first byte of each word
    ends: np.ndarray              # int64, its end (exclusive)
    quoted: np.ndarray            # bool, each word inside quotation marks
    paragraph_of: np.ndarray      # int64, the paragraph (numbered over the batch) each word belongs to
    paragraph_hashes: np.ndarray  # uint64, :func:`paragraph_hashes` of every paragraph of the batch
    text_paragraphs: np.ndarray   # int64, where each text's paragraphs start (one more: the end)


def _piece(paragraph: str) -> str:
    """What the batch buffer holds of a paragraph: itself when ASCII (the byte table lowers and blanks it), its
    folded form when that is ASCII, else the words :func:`quoted_words` finds, one space between them and the
    quotation marks between stretches kept (a few pages in other scripts: the regular expression decides)."""
    if paragraph.isascii():
        return paragraph
    folded = _fold(paragraph)
    if folded.isascii():
        return folded
    return '"'.join(" ".join(_WORD.findall(stretch)) for stretch in folded.split('"'))


def batch_words(texts: list[list[str]]) -> BatchWords:
    """:func:`quoted_words` and :func:`paragraph_hashes` of every paragraph of a batch of texts, in a few numpy
    passes over the whole batch instead of a Python list of words per paragraph.

    A word is a run of letters and digits, joined with the next run when one apostrophe alone separates them,
    pairing runs from the left as ``_WORD`` does (``rock'n'roll``: ``rock'n``, ``roll``); a word is quoted
    when an odd number of quotation marks precede it in its paragraph.
    """
    pieces = [_piece(p) for paragraphs in texts for p in paragraphs]
    text_paragraphs = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(paragraphs) for paragraphs in texts], out=text_paragraphs[1:])
    joined = "\n".join(pieces) + "\n"   # a blank after every paragraph: no word crosses one
    raw = joined.encode()
    sizes = map(len, pieces) if len(raw) == len(joined) else (len(p.encode()) for p in pieces)
    para_ends = np.cumsum(np.fromiter(sizes, dtype=np.int64, count=len(pieces)) + 1)
    para_starts = np.concatenate(([0], para_ends[:-1]))
    buffer = np.frombuffer(raw.translate(_BATCH_TABLE), dtype=np.uint8)
    letter = np.frombuffer(raw.translate(_LETTER_TABLE), dtype=bool)
    starts, ends, inner = _word_spans(buffer, letter)
    paragraph_of = np.searchsorted(para_ends, starts, side="right")
    quotes = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == _QUOTE_BYTE)
    inside = np.searchsorted(quotes, starts) - np.searchsorted(quotes, para_starts)[paragraph_of]
    hashes = _paragraph_hashes(buffer, letter, inner, starts, ends, paragraph_of, len(pieces))
    return BatchWords(buffer, starts, ends, inside % 2 == 1, paragraph_of, hashes, text_paragraphs)


def _word_spans(buffer: np.ndarray, letter: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends) of the words in a blanked buffer, and where the apostrophes inside words are: runs of
    letters, two runs one apostrophe apart joined, the first with the second, the third with the fourth, … of
    each chain of such runs (``_WORD``'s matches: rock'n'roll is rock'n, roll). The buffer ends with a blank."""
    edges = np.flatnonzero(letter[1:] != letter[:-1]) + 1
    if len(letter) and letter[0]:
        edges = np.concatenate(([0], edges))
    starts, ends = edges[0::2], edges[1::2]
    between = np.flatnonzero(buffer == _APOSTROPHE_BYTE)
    between = between[letter[between - 1] & letter[between + 1]]   # letter[-1], the closing blank, is none
    if not len(between):
        return starts, ends, between
    links = np.searchsorted(ends, between)   # link k: run links[k] and the next, one apostrophe apart
    index = np.arange(len(links))
    chain_start = np.maximum.accumulate(np.where(np.diff(links, prepend=-2) != 1, index, 0))
    joined = (index - chain_start) % 2 == 0   # pairs from the left of each chain
    used = links[joined]
    ends = ends.copy()
    ends[used] = ends[used + 1]
    tails = np.ones(len(starts), dtype=bool)
    tails[used + 1] = False
    return starts[tails], ends[tails], between[joined]


def _paragraph_hashes(buffer: np.ndarray, letter: np.ndarray, inner: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                      paragraph_of: np.ndarray, paragraphs: int) -> np.ndarray:
    """Each paragraph's :func:`paragraph_hash` (its words joined by single spaces), 0 without words: the bytes of
    words (letters, and the apostrophe inside a word) and the byte after each word, made a space, are kept, and
    each paragraph's stretch of that is hashed."""
    keep = letter.copy()
    keep[ends] = True
    keep[inner] = True
    spaced = buffer.copy()
    spaced[ends] = _SPACE_BYTE
    key_bytes = spaced[keep].tobytes()
    counts = np.bincount(paragraph_of, minlength=paragraphs)
    last_word = np.cumsum(counts) - 1
    offsets = np.cumsum(ends - starts + 1)   # where each word's trailing space is in key_bytes
    key_ends = offsets[np.maximum(last_word, 0)] - 1 if len(offsets) else last_word
    key_starts = np.concatenate(([0], offsets))[np.maximum(last_word - counts + 1, 0)]
    digest = xxhash.xxh64_intdigest
    return np.fromiter((digest(key_bytes[a:b]) if n else 0 for a, b, n in
                        zip(key_starts.tolist(), key_ends.tolist(), counts.tolist())), dtype=np.uint64, count=paragraphs)
