"""The compiled alignment (dedupe.align, dedupe.relate's kernels) gives exactly what the numpy reference gave,
on generated text pairs: copies with gaps, changed words, moved blocks, repeats, empty and one-shingle texts."""

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dedupe import align as align_module
from dedupe.align import align, seed_pairs, text_print
from dedupe.relate import SideView, _side, shared_count
from tests import align_reference as reference


@st.composite
def text_pairs(draw):
    """Two texts of words from a small vocabulary (so that words and shingles repeat), the second made from
    the first by moving, dropping, changing and adding words, or drawn on its own."""
    vocabulary = draw(st.sampled_from([1, 3, 12, 60, 1000]))
    word = st.integers(0, vocabulary - 1)
    a = draw(st.lists(word, max_size=90))
    b = list(a)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["move", "swap", "drop", "change", "add", "repeat"]))
        at = draw(st.integers(0, len(b)))
        to = draw(st.integers(at, min(len(b), at + 15)))
        if kind == "move":
            block, b = b[at:to], b[:at] + b[to:]
            where = draw(st.integers(0, len(b)))
            b = b[:where] + block + b[where:]
        elif kind == "swap":   # two blocks of one length trade places: chains of equal weight
            b = b[:at] + b[to:2 * to - at] + b[at:to] + b[2 * to - at:]
        elif kind == "drop":
            b = b[:at] + b[to:]
        elif kind == "change":
            b = b[:at] + [vocabulary + k for k in range(to - at)] + b[to:]
        elif kind == "add":
            b = b[:at] + draw(st.lists(word, max_size=15)) + b[at:]
        else:
            b = b[:to] + b[at:to] + b[to:]
    if draw(st.booleans()):
        b = draw(st.lists(word, max_size=90))
    return a, b


@st.composite
def printed(draw, words, size):
    n = len(words)
    quoted = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    paragraphs = sorted(set(draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=6))) | {0})
    return text_print([f"w{k}" for k in words], quoted, paragraphs, size)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), text_pairs(), st.integers(1, 6), st.integers(0, 8), st.integers(1, 14), st.integers(1, 25))
def test_compiled_alignment_equals_the_reference(data, texts, size, max_gap, min_words, noise_words):
    a, b = (data.draw(printed(words, size)) for words in texts)
    expected = reference.align(a, b, max_gap, min_words)
    got = align(a, b, max_gap, min_words)
    for name, want, have in zip(("passages", "chain", "covered_a", "covered_b"), expected,
                                (got.passages, got.chain, got.covered_a, got.covered_b)):
        assert np.array_equal(want, have), name
    chain = got.passages[got.chain] if len(got.passages) else got.passages
    for p, covered, column in ((a, got.covered_a, 0), (b, got.covered_b, 2)):
        assert _side(p, chain, covered, column, noise_words) == SideView(
            *reference.side(p, chain, covered, column, noise_words))
    assert shared_count(a.unique(), b.unique()) == len(np.intersect1d(a.unique(), b.unique()))
    assert all(np.array_equal(x, y) for x, y in zip(seed_pairs(a.shingles, b.shingles),
                                                     reference.seed_pairs(a.shingles, b.shingles)))


def test_seed_pairs_of_a_pathological_page_keep_each_first_equal():
    """A shingle repeated hundreds of times in both texts pairs with its first equal only."""
    sa = np.array([7] * 300 + [1, 2, 3], dtype=np.uint32)
    sb = np.array([5] + [7] * 300 + [1, 2, 3], dtype=np.uint32)
    ia, jb = seed_pairs(sa, sb)
    assert len(ia) == 303 and set(jb[ia < 300].tolist()) == {1}
    assert all(np.array_equal(x, y) for x, y in zip((ia, jb), reference.seed_pairs(sa, sb)))


small = st.integers(0, 12)


@settings(max_examples=400, deadline=None)
@example([(0, 6, 0), (2, 5, 20), (8, 5, 22)], 1, 0)   # the third run's two free stretches are equally long
@given(st.lists(st.tuples(small, st.integers(1, 6), small), max_size=12), st.integers(1, 4), st.integers(0, 5))
def test_compiled_run_selection_joining_and_chain_equal_the_reference(diagonal_runs, min_shingles, gap):
    """Runs drawn on a small grid, where equal lengths, equal free stretches, touching runs and chains of
    equal weight are common."""
    runs = np.array([(a0, a0 + n, b0, b0 + n) for a0, n, b0 in diagonal_runs], dtype=np.int64).reshape(-1, 4)
    runs = runs[np.argsort(runs[:, 0] - runs[:, 1], kind="stable")]
    kept = align_module._select(runs, 30, 30, min_shingles)
    assert np.array_equal(kept, reference.select(runs, 30, 30, min_shingles))
    passages = align_module._join(kept, gap)
    assert np.array_equal(passages, reference.join(kept, gap))
    assert np.array_equal(align_module.heaviest_chain(passages, gap % 3), reference.heaviest_chain(passages, gap % 3))


def test_seed_pairs_are_capped_only_beyond_the_limit():
    """40 equals per shingle of the shorter text are all kept; one more, and each shingle keeps its first."""
    few, many = np.full(8, 7, dtype=np.uint32), np.full(40, 7, dtype=np.uint32)
    assert len(seed_pairs(few, many)[0]) == 320
    more = np.append(many, np.uint32(7))
    ia, jb = seed_pairs(few, more)
    assert ia.tolist() == list(range(7, -1, -1)) and set(jb.tolist()) == {0}   # by diagonal: the last of a first
    assert all(np.array_equal(x, y) for x, y in zip((ia, jb), reference.seed_pairs(few, more)))
