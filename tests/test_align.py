"""Passage alignment and the pair rules (dedupe.align, dedupe.relate): pure functions on made-up texts."""

import random

import numpy as np

from dedupe.align import align, seed_pairs, text_print
from dedupe.normalise import print_words, quoted_words
from dedupe.options import GroupingOptions
from dedupe.relate import relate

OPTIONS = GroupingOptions()
VOCAB = [f"w{i}" for i in range(5000)]


def prose(rnd, n, words=40):
    return [" ".join(rnd.choice(VOCAB) for _ in range(words)) + "." for _ in range(n)]


def printed(paragraphs):
    return text_print(*print_words(paragraphs, set()), OPTIONS.shingle_size)


def test_seed_pairs_are_every_equal_pair_by_diagonal_then_position():
    rng = np.random.default_rng(5)
    sa, sb = rng.integers(0, 30, size=200).astype(np.uint32), rng.integers(0, 30, size=150).astype(np.uint32)
    expected = sorted((j - i, i, j) for i in range(len(sa)) for j in range(len(sb)) if sa[i] == sb[j])
    ia, jb = seed_pairs(sa, sb)
    assert list(zip(ia.tolist(), jb.tolist())) == [(i, j) for _, i, j in expected]


def test_quoted_words_are_flagged_within_their_paragraph():
    found, flags = quoted_words('He said “we will go” now, and "left')
    assert found == ["he", "said", "we", "will", "go", "now", "and", "left"]
    assert flags == [False, False, True, True, True, False, False, True]


def test_a_typo_does_not_break_a_passage_and_order_is_kept():
    rnd = random.Random(1)
    text = prose(rnd, 6)
    copy = list(text)
    copy[2] = copy[2].replace(copy[2].split()[10], "typo")
    al = align(printed(text), printed(copy), OPTIONS.align_gap, OPTIONS.min_passage_words)
    assert len(al.passages) == 1 and al.covered_b.mean() > 0.98


def test_a_paragraph_repeated_inside_a_page_is_printed_and_aligned_once():
    rnd = random.Random(2)
    text = prose(rnd, 4)
    noisy = [text[0], text[0], text[0]] + text[1:]          # a caption shown with every photo
    assert printed(noisy).n_words == printed(text).n_words
    al = align(printed(text), printed(noisy), OPTIONS.align_gap, OPTIONS.min_passage_words)
    assert [tuple(p) for p in al.passages[al.chain]] == [(0, 160, 0, 160)]


def test_moved_paragraph_leaves_the_chain_in_order():
    rnd = random.Random(3)
    text = prose(rnd, 8)
    moved = text[:2] + text[3:7] + text[2:3] + text[7:]
    al = align(printed(text), printed(moved), OPTIONS.align_gap, OPTIONS.min_passage_words)
    chain = al.passages[al.chain]
    assert (chain[1:, 2] >= chain[:-1, 3] - OPTIONS.shingle_size).all()
    assert len(al.passages) > len(chain)                     # the moved paragraph is off the chain


def test_excerpt_and_full_copy_are_copies():
    rnd = random.Random(4)
    text = prose(rnd, 10)
    edge = relate("a", "b", printed(text), printed(text[:3] + ["Read the full story at the source."]), OPTIONS)
    assert edge and edge.kind == "copy" and edge.basis == "covers" and edge.cover_b > 0.8


def test_trimmed_copy_outweighed_by_its_captions_is_a_copy_by_its_lead():
    rnd = random.Random(5)
    text = prose(rnd, 8)
    noise = prose(rnd, 4, 60)                                 # captions and boxes: more words than the trim
    edge = relate("a", "b", printed(text), printed(noise[:2] + text[:3] + noise[2:]), OPTIONS)
    assert edge and edge.kind == "copy" and edge.basis == "lead"


def test_stories_sharing_a_press_release_paragraph_are_unrelated():
    rnd = random.Random(6)
    release = prose(rnd, 1, 60)
    one, two = prose(rnd, 8), prose(rnd, 8)
    assert relate("a", "b", printed(one[:1] + release + one[1:]), printed(two[:2] + release + two[2:]), OPTIONS) is None


def test_stories_sharing_only_quotes_are_a_quote_not_a_copy():
    rnd = random.Random(7)
    quotes = ['"' + q + '"' for q in prose(rnd, 3, 30)]
    one = prose(rnd, 1, 20) + quotes + prose(rnd, 1, 20)
    two = prose(rnd, 1, 20) + quotes + prose(rnd, 2, 30)
    edge = relate("a", "b", printed(one), printed(two), OPTIONS)
    assert edge and edge.kind == "quote"


def test_write_thru_with_reworded_lead_is_a_copy_by_shared_leads():
    rnd = random.Random(8)
    take1 = prose(rnd, 6)
    words = take1[0].split()
    reworded = " ".join(words[i + 1] if i % 2 == 0 and i + 1 < len(words) else words[i - 1] if i % 2 else words[i]
                        for i in range(len(words)))
    take2 = [reworded] + take1[1:3] + prose(rnd, 3) + take1[3:4]
    edge = relate("a", "b", printed(take1), printed(take2), OPTIONS)
    assert edge and edge.kind == "copy" and edge.basis in ("leads", "covers")


def test_one_sites_pages_sharing_background_but_not_their_leads_are_not_copies():
    rnd = random.Random(9)
    background = prose(rnd, 3)
    one = prose(rnd, 2) + background + prose(rnd, 2)
    two = prose(rnd, 2) + background
    pa, pb = printed(one), printed(two)
    assert relate("a", "b", pa, pb, OPTIONS, same_site=False) is not None   # most of two is in one
    assert relate("a", "b", pa, pb, OPTIONS, same_site=True) is None
