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

from dedupe.jit import kernel
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


@kernel
def seed_pairs(sa: np.ndarray, sb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (position in a, position in b) of an equal shingle, ordered by diagonal then position in a. Where
    they outnumber ``_PAIR_LIMIT`` per shingle of the shorter text (pathological pages), each shingle of a is
    paired with its first equal in b only."""
    na, nb = len(sa), len(sb)
    first_b, next_b = _positions(sb)
    mask = len(first_b) - 1
    firsts = np.full(na, -1, dtype=np.int64)   # each shingle of a: its first equal in b
    total = 0
    for i in range(na):
        slot = _slot(sa[i], mask)
        while first_b[slot] >= 0 and sb[first_b[slot]] != sa[i]:
            slot = (slot + 1) & mask
        firsts[i] = first_b[slot]
        j = firsts[i]
        while j >= 0:
            total += 1
            j = next_b[j]
    capped = total > _PAIR_LIMIT * max(min(na, nb), 1)
    # a counting sort by diagonal (j - i + na - 1), each diagonal's seeds in order of a
    at = np.zeros(na + nb, dtype=np.int64)
    for i in range(na):
        j = firsts[i]
        while j >= 0:
            at[j - i + na - 1] += 1
            j = -1 if capped else next_b[j]
    seeds = 0
    for d in range(na + nb):   # each diagonal's count → where its first seed goes
        at[d], seeds = seeds, seeds + at[d]
    ia = np.empty(seeds, dtype=np.int64)
    jb = np.empty(seeds, dtype=np.int64)
    for i in range(na):
        j = firsts[i]
        while j >= 0:
            d = j - i + na - 1
            ia[at[d]], jb[at[d]] = i, j
            at[d] += 1
            j = -1 if capped else next_b[j]
    return ia, jb


@kernel
def _slot(value: np.uint32, mask: int) -> int:
    """The hash table slot of a shingle hash (bits of its product with a large odd number)."""
    return int((np.uint64(value) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)) & mask


@kernel
def _positions(sb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each distinct value of ``sb`` first occurs (an open-addressing hash table, a power of two at
    least twice as many slots as values, -1 where empty) and, for each position, the next one of the same
    value (-1 after the last)."""
    slots = 1
    while slots < 2 * len(sb):
        slots *= 2
    first_b = np.full(slots, -1, dtype=np.int64)
    next_b = np.full(len(sb), -1, dtype=np.int64)
    for j in range(len(sb) - 1, -1, -1):   # from the end, so that each value's chain runs in text order
        slot = _slot(sb[j], slots - 1)
        while first_b[slot] >= 0 and sb[first_b[slot]] != sb[j]:
            slot = (slot + 1) & (slots - 1)
        next_b[j] = first_b[slot]
        first_b[slot] = j
    return first_b, next_b


@kernel
def diagonal_runs(ia: np.ndarray, jb: np.ndarray) -> np.ndarray:
    """Maximal runs of seeds on one diagonal, as (a start, a end, b start, b end) in shingle positions
    (ends exclusive), longest first (in diagonal order among equals)."""
    n = len(ia)
    runs = np.empty((n, 4), dtype=np.int64)
    k = 0
    for s in range(n):
        if s and ia[s] == ia[s - 1] + 1 and jb[s] == jb[s - 1] + 1:
            runs[k - 1, 1] += 1
            runs[k - 1, 3] += 1
        else:
            runs[k] = (ia[s], ia[s] + 1, jb[s], jb[s] + 1)
            k += 1
    return _longest_first(runs[:k])


@kernel
def _longest_first(runs: np.ndarray) -> np.ndarray:
    """The runs by length, longest first, in their order among equals (a counting sort: a loop numba compiles
    in a fraction of the time its sorts take)."""
    longest = 0
    for r in range(len(runs)):
        longest = max(longest, runs[r, 1] - runs[r, 0])
    at = np.zeros(longest + 2, dtype=np.int64)   # at[longest - length + 1]: runs of that length
    for r in range(len(runs)):
        at[longest - (runs[r, 1] - runs[r, 0]) + 1] += 1
    for length in range(1, longest + 2):
        at[length] += at[length - 1]
    out = np.empty_like(runs)
    for r in range(len(runs)):
        bucket = longest - (runs[r, 1] - runs[r, 0])
        out[at[bucket]] = runs[r]
        at[bucket] += 1
    return out


@kernel
def _select(runs: np.ndarray, na: int, nb: int, min_shingles: int) -> np.ndarray:
    """The longest runs first, each shingle position of either text used once (of a run partly used, its
    first longest free stretch); sorted by text a."""
    used_a = np.zeros(na, dtype=np.bool_)
    used_b = np.zeros(nb, dtype=np.bool_)
    kept = np.empty((len(runs), 4), dtype=np.int64)
    k = 0
    for r in range(len(runs)):
        a0, a1, b0 = runs[r, 0], runs[r, 1], runs[r, 2]
        if a1 - a0 < min_shingles:
            break
        best_start, best_length, start = 0, 0, -1
        for t in range(a1 - a0 + 1):
            free = t < a1 - a0 and not (used_a[a0 + t] or used_b[b0 + t])
            if free and start < 0:
                start = t
            elif not free and start >= 0:
                if t - start > best_length:
                    best_start, best_length = start, t - start
                start = -1
        if best_length < min_shingles:   # none free, or too short a stretch
            continue
        used_a[a0 + best_start:a0 + best_start + best_length] = True
        used_b[b0 + best_start:b0 + best_start + best_length] = True
        kept[k] = (a0 + best_start, a0 + best_start + best_length, b0 + best_start, b0 + best_start + best_length)
        k += 1
    run_at = np.full(na, -1, dtype=np.int64)   # by text a: each a position is in one run, the starts differ
    for r in range(k):
        run_at[kept[r, 0]] = r
    ordered = np.empty((k, 4), dtype=np.int64)
    k = 0
    for a0 in range(na):
        if run_at[a0] >= 0:
            ordered[k] = kept[run_at[a0]]
            k += 1
    return ordered


@kernel
def _join(runs: np.ndarray, max_gap: int) -> np.ndarray:
    """Join runs (now in words) that follow one another in both texts with at most ``max_gap`` words between."""
    out = runs.copy()
    k = 0
    for r in range(len(runs)):
        a0, a1, b0, b1 = runs[r, 0], runs[r, 1], runs[r, 2], runs[r, 3]
        if k and 0 <= a0 - out[k - 1, 1] <= max_gap and 0 <= b0 - out[k - 1, 3] <= max_gap:
            out[k - 1, 1], out[k - 1, 3] = a1, b1
        else:
            out[k] = (a0, a1, b0, b1)
            k += 1
    return out[:k]


@kernel
def heaviest_chain(passages: np.ndarray, overlap: int = 0) -> np.ndarray:
    """Indices of the passages that follow one another in both texts and hold the most words (passages
    are sorted by text a; the chain is the heaviest increasing subsequence by text b; the first of equals).
    Two passages may overlap by ``overlap`` words: runs of shingles that meet at a changed word share its
    neighbours."""
    k = len(passages)
    if k < 2:
        return np.arange(k)
    weight = passages[:, 1] - passages[:, 0]
    best, back = weight.copy(), np.full(k, -1)
    for i in range(k):
        for j in range(i):
            if passages[j, 3] <= passages[i, 2] + overlap and best[j] + weight[i] > best[i]:
                best[i], back[i] = best[j] + weight[i], j
    length, i = 0, np.argmax(best)
    out = np.empty(k, dtype=np.int64)
    while i >= 0:
        out[length] = i
        length += 1
        i = back[i]
    return out[:length][::-1].copy()


@kernel
def _align_words(sa: np.ndarray, sb: np.ndarray, na_words: int, nb_words: int, span: int, max_gap: int,
                 min_words: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`align` on the two texts' shingles: passages, chain, words of a and of b covered."""
    ia, jb = seed_pairs(sa, sb)
    runs = _select(diagonal_runs(ia, jb), len(sa), len(sb), max(min_words - span + 1, 1))
    runs[:, 1] += span - 1
    runs[:, 3] += span - 1
    covered_a = np.zeros(na_words, dtype=np.bool_)
    covered_b = np.zeros(nb_words, dtype=np.bool_)
    for r in range(len(runs)):
        covered_a[runs[r, 0]:runs[r, 1]] = True
        covered_b[runs[r, 2]:runs[r, 3]] = True
    passages = _join(runs, max_gap)
    return passages, heaviest_chain(passages, span - 1), covered_a, covered_b


def align(a: TextPrint, b: TextPrint, max_gap: int, min_words: int) -> Alignment:
    """The passages ``a`` and ``b`` share: runs of at least ``min_words`` words, joined across gaps of at
    most ``max_gap`` words."""
    wa, wb = a.shingle_words, b.shingle_words
    span = min(wa, wb)
    return Alignment(*_align_words(a.shingles, b.shingles, a.n_words, b.n_words, span, max_gap, min_words))


@kernel
def loose_passage(short: np.ndarray, skip: np.ndarray, long: np.ndarray, short_gap: int, long_gap: int,
                  min_words: int) -> tuple[int, int, int, int, int]:
    """The longest chain of equal words in order in both texts, at most ``short_gap`` words of ``short`` and
    ``long_gap`` of ``long`` apart between two matched words: (words matched, start and end in ``short``, in
    ``long``), or zeros when no chain could keep ``min_words`` words (no run of that many words of ``short``
    found in ``long``, each at most ``short_gap + 1`` after the last). A deck cut from a lead keeps its words in
    order but drops some, so no shingle of it need be shared; the chain extends across the drops, word by word,
    where ``align`` needs runs of whole shingles. Words of ``short`` with ``skip`` set (quoted) are not
    matched."""
    order = np.argsort(long, kind="mergesort")   # stable: equal words in text order, as a row is walked
    return _chain(short, skip, order, long[order], short_gap, long_gap, min_words)


@kernel
def _chain(short: np.ndarray, skip: np.ndarray, order: np.ndarray, ordered: np.ndarray, short_gap: int,
           long_gap: int, min_words: int) -> tuple[int, int, int, int, int]:
    """``loose_passage`` given the long text's words sorted (``ordered``, stably) and where each was
    (``order``). Each word of ``short`` is looked up there: most pairs a capture is tried with share a few
    words, or share them too far apart, and are done with after the lookups. Only the cells where two words are
    equal are visited, and only the last ``short_gap + 2`` rows are kept."""
    n, m = len(short), len(ordered)
    lo = np.empty(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    run, longest, last = 0, 0, -short_gap - 2
    for i in range(n):   # a binary search a word, written out: numpy's searchsorted costs three times as much here
        word, a, b = short[i], 0, m
        while a < b:
            mid = (a + b) >> 1
            if ordered[mid] < word:
                a = mid + 1
            else:
                b = mid
        lo[i] = b = a
        while b < m and ordered[b] == word:
            b += 1
        hi[i] = b
        if not skip[i] and b > a:   # a chain's words of ``short`` are at most ``short_gap + 1`` apart
            run = run + 1 if i - last <= short_gap + 1 else 1
            last, longest = i, max(longest, run)
    if longest < min_words:
        return 0, 0, 0, 0, 0
    rows = short_gap + 2
    score = np.zeros((rows, m), dtype=np.int32)
    first_s = np.zeros((rows, m), dtype=np.int32)
    first_l = np.zeros((rows, m), dtype=np.int32)
    row_of = np.full((rows, m), -1, dtype=np.int64)   # the row of ``short`` a cell was written for
    best, b_s0, b_s1, b_l0, b_l1 = 0, 0, 0, 0, 0
    for i in range(n):
        if skip[i]:
            continue
        slot = i % rows
        for k in range(lo[i], hi[i]):
            j = order[k]
            got, s0, l0 = 1, i, j
            for pi in range(max(i - short_gap - 1, 0), i):
                ps = pi % rows
                for pj in range(max(j - long_gap - 1, 0), j):
                    if row_of[ps, pj] == pi and score[ps, pj] + 1 > got:
                        got, s0, l0 = score[ps, pj] + 1, first_s[ps, pj], first_l[ps, pj]
            score[slot, j], first_s[slot, j], first_l[slot, j], row_of[slot, j] = got, s0, l0, i
            if got > best:
                best, b_s0, b_s1, b_l0, b_l1 = got, s0, i + 1, l0, j + 1
    return best, b_s0, b_s1, b_l0, b_l1


@kernel
def loose_passages(words: np.ndarray, bounds: np.ndarray, skip: np.ndarray, shorts: np.ndarray, longs: np.ndarray,
                   lead: int, short_gap: int, long_gap: int, min_words: int) -> np.ndarray:
    """``loose_passage`` of many pairs in one call (int64, one row of five a pair): pair ``k`` is text
    ``shorts[k]`` against the first ``lead`` words of text ``longs[k]``, text ``t`` being ``words[bounds[t]:
    bounds[t + 1]]`` with ``skip`` alike. One call for them all spares a call from Python each, and a long
    text's words are sorted once for the pairs in a row that share it."""
    out = np.zeros((len(shorts), 5), dtype=np.int64)
    last = -1
    order = np.empty(0, dtype=np.int64)
    ordered = np.empty(0, dtype=words.dtype)
    for k in range(len(shorts)):
        a, b = shorts[k], longs[k]
        if b != last:
            long = words[bounds[b]:min(bounds[b + 1], bounds[b] + lead)]
            order = np.argsort(long, kind="mergesort")
            ordered = long[order]
            last = b
        found = _chain(words[bounds[a]:bounds[a + 1]], skip[bounds[a]:bounds[a + 1]], order, ordered, short_gap,
                       long_gap, min_words)
        for c in range(5):
            out[k, c] = found[c]
    return out
