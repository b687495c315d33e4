"""The alignment and side measures as numpy wrote them before they were compiled (dedupe.align and
dedupe.relate at 4bc55b9): the reference the compiled kernels must equal, output for output."""

from itertools import pairwise

import numpy as np

from dedupe.align import TextPrint

_PAIR_LIMIT = 40


def seed_pairs(sa: np.ndarray, sb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(sb, kind="stable")
    sorted_b = sb[order]
    left = np.searchsorted(sorted_b, sa, "left")
    counts = np.searchsorted(sorted_b, sa, "right") - left
    if counts.sum() > _PAIR_LIMIT * max(min(len(sa), len(sb)), 1):
        counts = np.minimum(counts, 1)
    ia = np.repeat(np.arange(len(sa)), counts)
    if not len(ia):
        return ia, ia
    offsets = np.arange(len(ia)) - np.repeat(np.cumsum(counts) - counts, counts)
    jb = order[np.repeat(left, counts) + offsets]
    by_diagonal = np.lexsort((ia, jb - ia))
    return ia[by_diagonal], jb[by_diagonal]


def diagonal_runs(ia: np.ndarray, jb: np.ndarray) -> np.ndarray:
    if not len(ia):
        return np.empty((0, 4), dtype=np.int64)
    cont = (np.diff(ia) == 1) & (np.diff(jb) == 1)
    starts = np.concatenate(([0], np.nonzero(~cont)[0] + 1))
    ends = np.concatenate((starts[1:], [len(ia)])) - 1
    runs = np.stack([ia[starts], ia[ends] + 1, jb[starts], jb[ends] + 1], axis=1)
    return runs[np.argsort(runs[:, 0] - runs[:, 1], kind="stable")]


def select(runs: np.ndarray, na: int, nb: int, min_shingles: int) -> np.ndarray:
    used_a = np.zeros(na, dtype=bool)
    used_b = np.zeros(nb, dtype=bool)
    kept = []
    for a0, a1, b0, b1 in runs.tolist():
        if a1 - a0 < min_shingles:
            break
        free = ~(used_a[a0:a1] | used_b[b0:b1])
        if not free.any():
            continue
        if not free.all():
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


def join(runs: np.ndarray, max_gap: int) -> np.ndarray:
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


def heaviest_chain(passages: np.ndarray, overlap: int) -> np.ndarray:
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


def align(a: TextPrint, b: TextPrint, max_gap: int, min_words: int) -> tuple[np.ndarray, ...]:
    """(passages, chain, covered_a, covered_b)."""
    span = min(a.shingle_words, b.shingle_words)
    ia, jb = seed_pairs(a.shingles, b.shingles)
    runs = select(diagonal_runs(ia, jb), len(a.shingles), len(b.shingles), max(min_words - span + 1, 1))
    runs[:, 1] += span - 1
    runs[:, 3] += span - 1
    passages = join(runs, max_gap)
    covered_a = np.zeros(a.n_words, dtype=bool)
    covered_b = np.zeros(b.n_words, dtype=bool)
    for a0, a1, b0, b1 in runs.tolist():
        covered_a[a0:a1] = True
        covered_b[b0:b1] = True
    return passages, heaviest_chain(passages, span - 1), covered_a, covered_b


def side(p: TextPrint, chain: np.ndarray, covered: np.ndarray, column: int, noise_words: int) -> tuple:
    """(cover, cover_all, anchored, lead_stretch)."""
    in_chain = np.zeros(p.n_words, dtype=bool)
    for row in chain.tolist():
        in_chain[row[column]:row[column + 1]] = True
    in_chain &= covered
    unquoted = ~np.unpackbits(p.quoted, count=p.n_words).astype(bool)
    measured = unquoted if unquoted.sum() * 4 >= p.n_words else np.ones(p.n_words, dtype=bool)
    cover = float((in_chain & measured).sum() / max(measured.sum(), 1))
    first = int(chain[0, column]) if len(chain) else p.n_words
    bounds = np.append(p.paragraphs, p.n_words)
    unaligned_before = [int((~covered[s:min(e, first)]).sum()) for s, e in pairwise(bounds.tolist()) if s < first]
    anchored = len(chain) > 0 and all(n < noise_words for n in unaligned_before)
    stretch = (int(chain[0, column + 1]) - first) / max(p.n_words, 1) if len(chain) else 0.0
    return cover, float(in_chain.sum() / max(p.n_words, 1)), anchored, stretch
