"""Passage alignment: the passages two texts share, found as passim finds them.

Shared word shingles are the seeds. Seeds that follow one another in both texts form runs (a diagonal of
the two texts' dot plot); the longest runs are kept first, each shingle of either text in at most one run,
so that text repeated inside one page (a caption quoting the lead) is aligned once, where it continues
the longest stretch. Runs separated by a small gap in both texts (a changed word, a typo, a dropped
phrase) are joined into one passage, and the passages that follow one another in both texts form the
alignment's chain: what one text carries of the other in order. ``dedupe.relate`` decides from the
chain's length, position and coverage what two texts are to each other.

Every function here is pure: arrays in, arrays and numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dedupe.signature import shingle_hashes_in_order, sorted_distinct, word_hashes

_PAIR_LIMIT = 40   # seed pairs per shingle of the shorter text before repeats are ignored (pathological pages)


@dataclass(frozen=True, slots=True)
class TextPrint:
    """What alignment needs of one text: its word shingles in order, which words are quoted, where its
    paragraphs start.

    ``shingles[i]`` is the hash of words ``i … i+size-1`` (a text shorter than one shingle has one shingle
    of all its words); ``quoted`` holds one bit per word (``np.packbits``), set for words inside quotation
    marks; ``paragraphs`` holds the first word of each paragraph.
    """

    shingles: np.ndarray     # uint32, in text order
    quoted: np.ndarray       # uint8, packed bits, one per word
    paragraphs: np.ndarray   # int32, first word of each paragraph
    n_words: int
    size: int
    distinct: np.ndarray | None = field(default=None, compare=False, repr=False)   # unique(), once asked

    def quoted_mask(self) -> np.ndarray:
        return np.unpackbits(self.quoted, count=self.n_words).astype(bool)

    def unique(self) -> np.ndarray:
        """The distinct shingle hashes, sorted (what containment and signatures are computed on); computed
        once per print, as a text is compared with each of its candidates."""
        if self.distinct is None:
            object.__setattr__(self, "distinct", sorted_distinct(self.shingles))
        return self.distinct

    @property
    def shingle_words(self) -> int:
        """Words one shingle spans (fewer in a text shorter than a shingle)."""
        return max(min(self.size, self.n_words), 1)


def text_print_of_hashes(hashes: np.ndarray, quoted: list[bool], paragraph_starts: list[int], size: int) -> TextPrint:
    """The print of a text from its words' hashes (``signature.word_hashes``), their quoted flags and its
    paragraphs' first words."""
    return TextPrint(shingle_hashes_in_order(hashes, size), np.packbits(np.array(quoted, dtype=bool)),
                     np.array(paragraph_starts, dtype=np.int32), len(hashes), size)


def text_print(word_list: list[str], quoted: list[bool], paragraph_starts: list[int], size: int) -> TextPrint:
    """The print of a text from its normalised words, their quoted flags and its paragraphs' first words."""
    return text_print_of_hashes(word_hashes(word_list), quoted, paragraph_starts, size)


@dataclass(frozen=True, slots=True)
class Alignment:
    """The passages two texts share.

    ``passages`` is an int array of shape (k, 4): start and end (exclusive) word of each passage in text a,
    then in text b, sorted by text a. ``chain`` holds the indices of the passages that follow one another
    in both texts and carry the most words. ``covered_a`` and ``covered_b`` mark the words of each text
    that lie in a passage.
    """

    passages: np.ndarray
    chain: np.ndarray
    covered_a: np.ndarray
    covered_b: np.ndarray


def seed_pairs(sa: np.ndarray, sb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (position in a, position in b) of an equal shingle, ordered by diagonal then position in a."""
    order = np.argsort(sb, kind="stable")
    sorted_b = sb[order]
    left, counts = _matches(sorted_b, sa)
    if counts.sum() > _PAIR_LIMIT * max(min(len(sa), len(sb)), 1):
        counts = np.minimum(counts, 1)
    ia = np.repeat(np.arange(len(sa)), counts)
    if not len(ia):
        return ia, ia
    offsets = np.arange(len(ia)) - np.repeat(np.cumsum(counts) - counts, counts)
    jb = order[np.repeat(left, counts) + offsets]
    by_diagonal = np.lexsort((ia, jb - ia))
    return ia[by_diagonal], jb[by_diagonal]


def _matches(sorted_b: np.ndarray, sa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each value of ``sa``, where its equals start in ``sorted_b`` and how many there are. The values are
    looked up in sorted order (numpy then narrows each search from the last one: three times faster than
    looking up a text's shingles in their order) and the answers put back in ``sa``'s order."""
    by_value = np.argsort(sa)
    keys = sa[by_value]
    left = np.empty(len(sa), dtype=np.intp)
    counts = np.empty(len(sa), dtype=np.intp)
    left[by_value] = np.searchsorted(sorted_b, keys, "left")
    counts[by_value] = np.searchsorted(sorted_b, keys, "right")
    counts -= left
    return left, counts


def diagonal_runs(ia: np.ndarray, jb: np.ndarray) -> np.ndarray:
    """Maximal runs of seeds on one diagonal, as (a start, a end, b start, b end) in shingle positions
    (ends exclusive), longest first."""
    if not len(ia):
        return np.empty((0, 4), dtype=np.int64)
    cont = (np.diff(ia) == 1) & (np.diff(jb) == 1)
    starts = np.concatenate(([0], np.nonzero(~cont)[0] + 1))
    ends = np.concatenate((starts[1:], [len(ia)])) - 1
    runs = np.stack([ia[starts], ia[ends] + 1, jb[starts], jb[ends] + 1], axis=1)
    return runs[np.argsort(runs[:, 0] - runs[:, 1], kind="stable")]


def _select(runs: np.ndarray, na: int, nb: int, min_shingles: int) -> np.ndarray:
    """The longest runs first, each shingle position of either text used once; sorted by text a."""
    used_a = np.zeros(na, dtype=bool)
    used_b = np.zeros(nb, dtype=bool)
    kept = []
    for a0, a1, b0, b1 in runs.tolist():
        if a1 - a0 < min_shingles:
            break
        free = ~(used_a[a0:a1] | used_b[b0:b1])
        if not free.any():
            continue
        if not free.all():   # keep the longest free stretch of a partly used run
            edges = np.diff(np.concatenate(([0], free.astype(np.int8), [0])))
            starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
            k = int(np.argmax(ends - starts))
            if ends[k] - starts[k] < min_shingles:
                continue
            a0, b0, a1, b1 = a0 + starts[k], b0 + starts[k], a0 + ends[k], b0 + ends[k]
        used_a[a0:a1] = True
        used_b[b0:b1] = True
        kept.append((a0, a1, b0, b1))
    return np.array(sorted(kept), dtype=np.int64).reshape(-1, 4)


def _join(runs: np.ndarray, max_gap: int) -> np.ndarray:
    """Join runs (now in words) that follow one another in both texts with at most ``max_gap`` words between."""
    if len(runs) < 2:
        return runs
    out = [list(runs[0])]
    for a0, a1, b0, b1 in runs[1:].tolist():
        last = out[-1]
        if 0 <= a0 - last[1] <= max_gap and 0 <= b0 - last[3] <= max_gap:
            last[1], last[3] = a1, b1
        else:
            out.append([a0, a1, b0, b1])
    return np.array(out, dtype=np.int64)


def heaviest_chain(passages: np.ndarray, overlap: int = 0) -> np.ndarray:
    """Indices of the passages that follow one another in both texts and hold the most words (passages
    are sorted by text a; the chain is the heaviest increasing subsequence by text b). Two passages may
    overlap by ``overlap`` words: runs of shingles that meet at a changed word share its neighbours."""
    k = len(passages)
    if k < 2:
        return np.arange(k)
    weight = (passages[:, 1] - passages[:, 0]).tolist()
    b0, b1 = passages[:, 2].tolist(), passages[:, 3].tolist()
    best, back = list(weight), [-1] * k
    for i in range(k):
        for j in range(i):
            if b1[j] <= b0[i] + overlap and best[j] + weight[i] > best[i]:
                best[i], back[i] = best[j] + weight[i], j
    i = max(range(k), key=best.__getitem__)
    out = []
    while i >= 0:
        out.append(i)
        i = back[i]
    return np.array(out[::-1], dtype=np.int64)


def align(a: TextPrint, b: TextPrint, max_gap: int, min_words: int) -> Alignment:
    """The passages ``a`` and ``b`` share: runs of at least ``min_words`` words, joined across gaps of at
    most ``max_gap`` words."""
    wa, wb = a.shingle_words, b.shingle_words
    span = min(wa, wb)
    ia, jb = seed_pairs(a.shingles, b.shingles)
    runs = _select(diagonal_runs(ia, jb), len(a.shingles), len(b.shingles), max(min_words - span + 1, 1))
    runs[:, 1] += span - 1
    runs[:, 3] += span - 1
    passages = _join(runs, max_gap)
    covered_a = np.zeros(a.n_words, dtype=bool)
    covered_b = np.zeros(b.n_words, dtype=bool)
    for a0, a1, b0, b1 in runs.tolist():
        covered_a[a0:a1] = True
        covered_b[b0:b1] = True
    return Alignment(passages, heaviest_chain(passages, span - 1), covered_a, covered_b)
