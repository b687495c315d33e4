"""Openings and capture keys: how a caption-only capture finds the story whose page it captured.

A capture (a share widget's headline and a deck cut from a story's lead, words dropped) shares too few shingles
with its story for an LSH band to pair them, but it keeps many of the lead's word pairs. Each text signed keeps
the distinct pairs of its opening (``caption_lead_words``) whose two words are long together
(``caption_key_letters``: short pairs, "of the", "said on", are on every page); a short text keeps the longest
such pairs of its deck as its **capture keys**. A capture and a text whose opening holds ``caption_min_keys`` of
its keys are aligned word by word (``relate.relate_caption``).

Both sets are made when a text is signed, from the words it is signed on, and kept beside its signature, so that
which texts a capture is aligned with depends on the two texts alone: an increment finds the pairs a rebuild
finds by matching what it signed against everything kept, with no lookup that grows with the corpus and no
ranking that depends on it. Pairs are 32-bit hashes of the two words' hashes, as a two-word shingle's.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from dedupe.options import GroupingOptions
from dedupe.signature import shingle_hashes_in_order, sorted_distinct

_NONE = np.empty(0, dtype=np.uint32)


def batch_opening_keys(hashes: np.ndarray, lengths: np.ndarray, bounds: np.ndarray, options: GroupingOptions
                       ) -> list[np.ndarray]:
    """The opening keys of each text of a batch (text ``t``'s words are ``hashes[bounds[t]:bounds[t + 1]]``, their
    hashes as printed, ``signature.word_hashes``, with their UTF-8 ``lengths``): the distinct pairs of its first
    ``caption_lead_words`` words that have ``caption_key_letters`` letters together, sorted (uint32), from one
    pass over the batch's pairs and one sort, not a sort a text."""
    texts = len(bounds) - 1
    if len(hashes) < 2:
        return [_NONE] * texts
    text_of = np.repeat(np.arange(texts), np.diff(bounds))
    second = np.arange(1, len(hashes)) - bounds[text_of[1:]]   # each pair's second word, counted in its text
    keep = (text_of[:-1] == text_of[1:]) & (second < options.caption_lead_words) & \
        (lengths[:-1] + lengths[1:] >= options.caption_key_letters)
    # one sorted array of (text << 32 | key): a plain sort, several times faster than a lexsort of the two
    joined = sorted_distinct((text_of[1:][keep].astype(np.uint64) << np.uint64(32)) |
                             shingle_hashes_in_order(hashes, 2)[keep].astype(np.uint64))
    owner, keys = (joined >> np.uint64(32)).astype(np.int64), (joined & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    ends = np.searchsorted(owner, np.arange(texts + 1)).tolist()
    return [keys[a:b] for a, b in itertools.pairwise(ends)]


def capture_keys(hashes: np.ndarray, lengths: np.ndarray, quoted: np.ndarray, starts: list[int],
                 options: GroupingOptions) -> np.ndarray | None:
    """A short text's keys as a capture (uint32, longest pair first; None for a text longer than
    ``caption_max_words``): the ``caption_query_pairs`` longest distinct long pairs of unquoted words of its deck,
    the first paragraph of ``lead_noise_words`` words or more (the whole text if none is; the short lines before
    it, a headline, are rewritten more often than cut). Ties go in word order."""
    n_words = len(hashes)
    if not 0 < n_words <= options.caption_max_words:
        return None
    start, end = next(((a, b) for a, b in zip(starts, [*starts[1:], n_words]) if b - a >= options.lead_noise_words),
                      (0, n_words))
    if end - start < 2:
        return _NONE
    pair_hashes = shingle_hashes_in_order(hashes[start:end], 2)
    letters = lengths[start:end - 1] + lengths[start + 1:end]
    usable = (letters >= options.caption_key_letters) & ~quoted[start:end - 1] & ~quoted[start + 1:end]
    order = np.flatnonzero(usable)
    order = order[np.argsort(-letters[order], kind="stable")]
    keys = dict.fromkeys(pair_hashes[order].tolist())
    return np.array(list(keys)[:options.caption_query_pairs], dtype=np.uint32)


def to_bytes(keys: np.ndarray | None) -> bytes | None:
    """How keys are stored (None stays None)."""
    return None if keys is None else keys.astype("<u4", copy=False).tobytes()


def from_bytes(blob: bytes | None) -> np.ndarray:
    """Stored keys back as uint32 (none for None)."""
    return _NONE if blob is None else np.frombuffer(blob, dtype="<u4").astype(np.uint32, copy=False)


@dataclass
class CaptureIndex:
    """Every capture's keys, as sorted parallel arrays (key → capture number), to match openings against."""

    urls: list[str]
    keys: np.ndarray       # uint32, sorted
    owners: np.ndarray     # int64, the capture each key belongs to

    @classmethod
    def of(cls, captures: Iterable[tuple[str, np.ndarray]], min_keys: int) -> CaptureIndex:
        """The index of the captures with at least ``min_keys`` keys (fewer can never be matched)."""
        urls, keys, owners = [], [], []
        for url, found in captures:
            if len(found) >= min_keys:
                keys.append(found)
                owners.append(np.full(len(found), len(urls), dtype=np.int64))
                urls.append(url)
        if not urls:
            return cls([], _NONE, np.empty(0, dtype=np.int64))
        keys_all, owners_all = np.concatenate(keys), np.concatenate(owners)
        order = np.argsort(keys_all, kind="stable")
        return cls(urls, keys_all[order], owners_all[order])

    def matches(self, openings: Iterable[list[tuple[str, bytes]]], min_keys: int) -> Iterator[tuple[str, str]]:
        """(capture, text) of each text whose opening holds ``min_keys`` or more of a capture's keys (never the
        capture itself), from stored opening keys read a page of texts at a time, in the order they come. Each
        page is matched at once: its keys in one array, searched for in the sorted capture keys, then only the
        keys that hit."""
        if not self.urls:
            return
        for page in openings:
            sizes = np.array([len(blob) // 4 for _, blob in page], dtype=np.int64)
            if not sizes.sum():
                continue
            found = np.frombuffer(b"".join(blob for _, blob in page), dtype="<u4")
            at = np.minimum(np.searchsorted(self.keys, found), len(self.keys) - 1)
            hit = self.keys[at] == found   # the capture keys are sorted once: no sort of them a page, as isin would
            texts = np.repeat(np.arange(len(page)), sizes)[hit]
            lo = np.searchsorted(self.keys, found[hit], side="left")
            widths = np.searchsorted(self.keys, found[hit], side="right") - lo
            ends = np.cumsum(widths)
            owners = self.owners[np.repeat(lo - ends + widths, widths) + np.arange(ends[-1] if len(ends) else 0)]
            codes, counts = np.unique(np.repeat(texts, widths) * len(self.urls) + owners, return_counts=True)
            for code in codes[counts >= min_keys].tolist():
                text, owner = divmod(code, len(self.urls))
                if self.urls[owner] != page[text][0]:
                    yield self.urls[owner], page[text][0]
