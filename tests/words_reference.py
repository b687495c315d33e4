"""The batch's words and their hashes as numpy computed them before the compiled word pass
(``dedupe.normalise.batch_words`` and ``dedupe.signature.span_hashes`` at 530970e): the reference the compiled pass
(``dedupe.normalise.hashed_batch_words``) must equal, array for array and hash for hash."""

import numpy as np
import xxhash

from dedupe.normalise import (
    _APOSTROPHE_BYTE,
    _BATCH_TABLE,
    _LETTER_TABLE,
    _QUOTE_BYTE,
    _SPACE_BYTE,
    BatchWords,
    _batch_bytes,
)

_P1, _P2, _P3, _P4, _P5 = (np.uint64(p) for p in (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                                                  0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5))
_SHORT = 32   # bytes below which xxh64 reads no 32-byte stripe: what span_hashes computes in numpy


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _xxh64_short(rows: np.ndarray, length: int) -> np.ndarray:
    """xxh64 (seed 0) of each row's first ``length`` bytes (< 32), rows of 32 bytes: the reference algorithm's
    short-input path (8-byte lanes, a 4-byte lane, single bytes, the avalanche) on whole columns."""
    lanes8, lanes4 = rows.view("<u8"), rows.view("<u4")
    h = np.full(len(rows), _P5 + np.uint64(length), dtype=np.uint64)
    at = 0
    with np.errstate(over="ignore"):
        for lane in range(length // 8):
            h ^= _rotl(lanes8[:, lane] * _P2, 31) * _P1
            h = _rotl(h, 27) * _P1 + _P4
            at += 8
        if length - at >= 4:
            h ^= lanes4[:, at // 4].astype(np.uint64) * _P1
            h = _rotl(h, 23) * _P2 + _P3
            at += 4
        for byte in range(at, length):
            h ^= rows[:, byte].astype(np.uint64) * _P5
            h = _rotl(h, 11) * _P1
        h ^= h >> np.uint64(33)
        h *= _P2
        h ^= h >> np.uint64(29)
        h *= _P3
        h ^= h >> np.uint64(32)
    return h


def span_hashes(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``xxh64_intdigest(bytes(buffer[s:e]))`` of every span, as :func:`word_hashes` hashes a word's UTF-8 bytes,
    computed a length at a time over all spans of that length (spans of 32 bytes or more, rare words, one by
    one through xxhash itself)."""
    lengths = ends - starts
    found = np.empty(len(starts), dtype=np.uint64)
    padded = np.concatenate((buffer, np.zeros(_SHORT, dtype=np.uint8)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, _SHORT)
    classes = np.minimum(lengths, _SHORT).astype(np.uint8)   # a radix sort: lengths of 32 and more together
    order = np.argsort(classes, kind="stable")
    bounds = np.searchsorted(classes[order], np.arange(_SHORT + 1))
    for length in range(1, _SHORT):
        picked = order[bounds[length]:bounds[length + 1]]
        if len(picked):
            found[picked] = _xxh64_short(windows[starts[picked]], length)
    for i in order[bounds[0]:bounds[1]].tolist() + order[bounds[_SHORT]:].tolist():
        found[i] = xxhash.xxh64_intdigest(buffer[starts[i]:ends[i]].tobytes())
    return found


def batch_words(texts: list[list[str]]) -> BatchWords:
    """:func:`quoted_words` and :func:`paragraph_hashes` of every paragraph of a batch of texts, in a few numpy
    passes over the whole batch instead of a Python list of words per paragraph.

    A word is a run of letters and digits, joined with the next run when one apostrophe alone separates them,
    pairing runs from the left as ``_WORD`` does (``rock'n'roll``: ``rock'n``, ``roll``); a word is quoted
    when an odd number of quotation marks precede it in its paragraph. The grouping stages used it until the
    compiled pass (``hashed_batch_words``) replaced it; kept here as the reference that pass must equal.
    """
    raw, para_ends, text_paragraphs = _batch_bytes(texts)
    para_starts = np.concatenate(([0], para_ends[:-1]))
    buffer = np.frombuffer(raw.translate(_BATCH_TABLE), dtype=np.uint8)
    letter = np.frombuffer(raw.translate(_LETTER_TABLE), dtype=bool)
    starts, ends, inner = _word_spans(buffer, letter)
    paragraph_of = np.searchsorted(para_ends, starts, side="right")
    quotes = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == _QUOTE_BYTE)
    inside = np.searchsorted(quotes, starts) - np.searchsorted(quotes, para_starts)[paragraph_of]
    hashes = _paragraph_hashes(buffer, letter, inner, starts, ends, paragraph_of, len(para_ends))
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
