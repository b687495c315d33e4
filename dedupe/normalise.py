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

from dedupe.jit import kernel

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


def furniture_and_writers(sites: list[str], pages: list[np.ndarray], min_pages: int
                          ) -> tuple[dict[str, set[int]], dict[int, str]]:
    """:func:`site_furniture` of these pages (page ``i`` on ``sites[i]``) and the writer of each furniture paragraph
    (:func:`writer_of` the pages of each site carrying it), counted with one sort of every page's paragraphs
    rather than a set a page: a paragraph seen on fewer than ``min_pages`` pages of all sites is neither, and
    such are nearly all of them."""
    code_of: dict[str, int] = {}
    site_codes = np.array([code_of.setdefault(site, len(code_of)) for site in sites], dtype=np.int64)
    names = list(code_of)
    by_site: dict[str, set[int]] = {site: set() for site in names}
    if not pages:
        return by_site, {}
    hashes = np.concatenate(pages)
    page = np.repeat(np.arange(len(pages), dtype=np.int64), [len(p) for p in pages])
    order = np.argsort(hashes, kind="stable")   # stable: a paragraph's pages stay in page order
    hashes, page = hashes[order], page[order]
    distinct = _run_starts(hashes, page)   # each (paragraph, page) once: a page votes once
    distinct = distinct[hashes[distinct] != 0]   # a paragraph without words never
    hashes, page = hashes[distinct], page[distinct]
    hashes, site = _on_enough_pages(hashes, page, min_pages, site_codes)
    order = np.lexsort((site, hashes))
    hashes, site = hashes[order], site[order]
    starts = _run_starts(hashes, site)
    counts = np.diff(np.r_[starts, len(hashes)])   # pages of each (paragraph, site)
    hashes, site = hashes[starts], site[starts]
    found = is_furniture(counts, min_pages)
    for h, s in zip(hashes[found].tolist(), site[found].tolist()):
        by_site[names[s]].add(h)
    carried = np.isin(hashes, hashes[found])   # every site's pages carrying a furniture paragraph: its writer's votes
    pages_by_site: dict[int, Counter] = defaultdict(Counter)
    for h, s, n in zip(hashes[carried].tolist(), site[carried].tolist(), counts[carried].tolist()):
        pages_by_site[h][names[s]] = n
    writers = {h: site for h, by in pages_by_site.items() if (site := writer_of(by)) is not None}
    return by_site, writers


def _run_starts(*keys: np.ndarray) -> np.ndarray:
    """Where each run of equal rows begins in sorted columns ``keys``."""
    differs = np.zeros(max(len(keys[0]) - 1, 0), dtype=bool)
    for key in keys:
        differs |= key[1:] != key[:-1]
    return np.flatnonzero(np.r_[len(keys[0]) > 0, differs])


def _on_enough_pages(hashes: np.ndarray, page: np.ndarray, min_pages: int, site_codes: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(paragraph, site of the page) of the distinct (paragraph, page) pairs, sorted by paragraph, whose
    paragraph is on ``min_pages`` pages or more."""
    starts = _run_starts(hashes)
    runs = np.diff(np.r_[starts, len(hashes)])
    keep = np.repeat(runs >= min_pages, runs)
    return hashes[keep], site_codes[page[keep]]


def furniture_votes(hashes: np.ndarray) -> set[int]:
    """The paragraphs one page counts towards its site's furniture: each distinct one once, never 0 (no words)."""
    return set(hashes.tolist()) - {0}


def is_furniture(pages: int | np.ndarray, min_pages: int) -> bool | np.ndarray:
    """Whether a paragraph seen on ``pages`` pages of one site is furniture there (each of an array of counts)."""
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


def _batch_bytes(texts: list[list[str]]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """The batch's paragraphs as the buffer holds them (:func:`_piece`), each followed by a line break (a blank:
    no word crosses one), as UTF-8; where each paragraph ends in it (after its line break); where each text's
    paragraphs start (one more: the end)."""
    pieces: list[str] = []
    for paragraphs in texts:   # a text all ASCII (most are) is its own pieces: no call per paragraph
        pieces.extend(paragraphs if "".join(paragraphs).isascii() else map(_piece, paragraphs))
    text_paragraphs = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(paragraphs) for paragraphs in texts], out=text_paragraphs[1:])
    joined = "\n".join(pieces) + "\n"
    raw = joined.encode()
    sizes = map(len, pieces) if len(raw) == len(joined) else (len(p.encode()) for p in pieces)
    para_ends = np.cumsum(np.fromiter(sizes, dtype=np.int64, count=len(pieces)) + 1)
    return raw, para_ends, text_paragraphs


def hashed_batch_words(texts: list[list[str]]) -> tuple[BatchWords, np.ndarray]:
    """:func:`quoted_words` and :func:`paragraph_hashes` of every paragraph of a batch of texts, and each word's
    64-bit hash (``signature.word_hashes``: xxh64 of its UTF-8 bytes), from one pass of a compiled kernel over the
    batch's bytes (``_scan_words``): no Python list of words per paragraph, no Python call per word.

    A word is a run of letters and digits, joined with the next run when one apostrophe alone separates them,
    pairing runs from the left as ``_WORD`` does (``rock'n'roll``: ``rock'n``, ``roll``); a word is quoted
    when an odd number of quotation marks precede it in its paragraph.
    """
    raw, para_ends, text_paragraphs = _batch_bytes(texts)
    buffer, starts, ends, quoted, paragraph_of, paragraph_hashes, word_hashes = _scan_words(
        np.frombuffer(raw, dtype=np.uint8), para_ends, _BATCH_ARRAY, _LETTER_ARRAY)
    return BatchWords(buffer, starts, ends, quoted, paragraph_of, paragraph_hashes, text_paragraphs), word_hashes


_BATCH_ARRAY = np.frombuffer(_BATCH_TABLE, dtype=np.uint8)
_LETTER_ARRAY = np.frombuffer(_LETTER_TABLE, dtype=np.bool_)


@kernel
def _scan_words(raw: np.ndarray, para_ends: np.ndarray, lower: np.ndarray, letter: np.ndarray) -> tuple:
    """The arrays of :func:`hashed_batch_words` from the batch's UTF-8 bytes (each paragraph ending with a line
    break, at ``para_ends``): the bytes lowered and blanked (``lower``: ``_BATCH_TABLE``), the words as the
    regular expressions of :func:`quoted_words` find them (a run of letters, joined with the next when one apostrophe
    alone separates them, the joined run never joined again), quoted when an odd number of quotation marks
    precede them in their paragraph, each paragraph's key (its words, one space between them) and each word
    hashed by xxh64."""
    n = len(raw)
    buffer = np.empty(n, dtype=np.uint8)
    most, before = 0, False   # runs of letters: every word starts one (arrays of that size, not of n / 2)
    for i in range(n):
        buffer[i] = lower[raw[i]]
        here = letter[raw[i]]
        most += here > before
        before = here
    starts = np.empty(most, dtype=np.int64)
    ends = np.empty(most, dtype=np.int64)
    quoted = np.empty(most, dtype=np.bool_)
    owner = np.empty(most, dtype=np.int64)
    word_hashes = np.empty(most, dtype=np.uint64)
    paragraph_hashes = np.zeros(len(para_ends), dtype=np.uint64)
    key = np.empty(n, dtype=np.uint8)   # the paragraph's key, written as its words are found
    w, i = 0, 0
    for p in range(len(para_ends)):
        inside, k = False, 0
        while i < para_ends[p]:
            c = raw[i]
            if c == _QUOTE_BYTE:
                inside = not inside
            if not letter[c]:
                i += 1
                continue
            start, key_start = i, k
            while letter[raw[i]]:   # the paragraph's line break ends every run
                key[k] = buffer[i]
                i += 1
                k += 1
            if raw[i] == _APOSTROPHE_BYTE and letter[raw[i + 1]]:
                key[k] = _APOSTROPHE_BYTE
                i += 1
                k += 1
                while letter[raw[i]]:
                    key[k] = buffer[i]
                    i += 1
                    k += 1
            starts[w], ends[w], quoted[w], owner[w] = start, i, inside, p
            word_hashes[w] = _xxh64(key, key_start, k)
            key[k] = _SPACE_BYTE
            k += 1
            w += 1
        if k:
            paragraph_hashes[p] = _xxh64(key, 0, k - 1)
    return buffer, starts[:w], ends[:w], quoted[:w], owner[:w], paragraph_hashes, word_hashes[:w]


_X1, _X2, _X3, _X4, _X5 = (np.uint64(p) for p in (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                                                  0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5))
_X1_NEGATED = np.uint64(2 ** 64 - 0x9E3779B185EBCA87)   # xxh64's fourth accumulator starts at seed - PRIME64_1


@kernel
def _xxh64(data: np.ndarray, start: int, end: int) -> np.uint64:
    """``xxhash.xxh64_intdigest(bytes(data[start:end]))`` (seed 0), the reference algorithm: 32-byte stripes
    into four accumulators, then 8-byte lanes, a 4-byte lane, single bytes, the avalanche."""
    at = start
    if end - start >= 32:
        v1, v2, v3, v4 = _X1 + _X2, _X2, np.uint64(0), _X1_NEGATED
        while at + 32 <= end:
            v1 = _xxh64_round(v1, _read_le(data, at, 8))
            v2 = _xxh64_round(v2, _read_le(data, at + 8, 8))
            v3 = _xxh64_round(v3, _read_le(data, at + 16, 8))
            v4 = _xxh64_round(v4, _read_le(data, at + 24, 8))
            at += 32
        h = _rotl64(v1, 1) + _rotl64(v2, 7) + _rotl64(v3, 12) + _rotl64(v4, 18)
        for v in (v1, v2, v3, v4):
            h = (h ^ _xxh64_round(np.uint64(0), v)) * _X1 + _X4
    else:
        h = _X5
    h += np.uint64(end - start)
    while at + 8 <= end:
        h ^= _xxh64_round(np.uint64(0), _read_le(data, at, 8))
        h = _rotl64(h, 27) * _X1 + _X4
        at += 8
    if at + 4 <= end:
        h ^= _read_le(data, at, 4) * _X1
        h = _rotl64(h, 23) * _X2 + _X3
        at += 4
    while at < end:
        h ^= np.uint64(data[at]) * _X5
        h = _rotl64(h, 11) * _X1
        at += 1
    h ^= h >> np.uint64(33)
    h *= _X2
    h ^= h >> np.uint64(29)
    h *= _X3
    return h ^ (h >> np.uint64(32))


@kernel
def _xxh64_round(acc: np.uint64, lane: np.uint64) -> np.uint64:
    return _rotl64(acc + lane * _X2, 31) * _X1


@kernel
def _rotl64(x: np.uint64, r: int) -> np.uint64:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@kernel
def _read_le(data: np.ndarray, at: int, size: int) -> np.uint64:
    """The ``size`` bytes at ``at``, little-endian."""
    value = np.uint64(0)
    for k in range(size):
        value |= np.uint64(data[at + k]) << np.uint64(8 * k)
    return value
