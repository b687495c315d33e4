import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.group import Edge, UnionFind, cluster, connected_components, verify
from dedupe.pipeline import group_texts


def arr(values):
    return np.unique(np.array(values, dtype=np.uint32))


def test_verify_uses_containment_of_the_smaller_text():
    origin = arr(range(1000))
    excerpt = arr(range(200))           # Jaccard 0.2, containment 1.0
    edge = verify("b", "a", excerpt, origin, 0.5)
    assert edge and edge.a == "a" and edge.containment == 1.0 and edge.jaccard == 0.2
    negative = arr(list(range(240)) + list(range(5000, 5760)))   # shares a press-release paragraph only
    assert verify("a", "c", origin, negative, 0.5) is None


def test_union_find():
    uf = UnionFind()
    for x in "abcd":
        uf.add(x)
    uf.union("a", "b")
    uf.union("c", "d")
    assert uf.find("a") == uf.find("b") != uf.find("c")


def e(a, b, c=0.9):
    a, b = sorted((a, b))
    return Edge(a, b, c, c)


def test_one_weak_link_does_not_chain_two_stories():
    story1 = ["a1", "a2", "a3", "a4"]
    story2 = ["b1", "b2", "b3", "b4"]
    edges = [e(x, y) for s in (story1, story2) for i, x in enumerate(s) for y in s[i + 1:]]
    edges.append(e("a1", "b1", 0.55))   # borderline pair across stories
    assert connected_components(story1 + story2, edges) == [sorted(story1 + story2)]
    assert cluster(story1 + story2, edges) == [story1, story2]


def test_chain_of_copies_stays_one_story():
    nodes = ["o", "c1", "c2", "x"]
    edges = [e("o", "c1"), e("o", "c2"), e("c1", "c2"), e("o", "x", 0.7), e("c1", "x", 0.6)]
    assert cluster(nodes, edges) == [["c1", "c2", "o", "x"]]


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_arrival_order_does_not_change_stories(rnd):
    nodes = [f"n{i}" for i in range(12)]
    edges = [e(f"n{i}", f"n{j}", round(rnd.uniform(0.5, 1.0), 2)) for i in range(12) for j in range(i + 1, 12)
             if rnd.random() < 0.25]
    first = cluster(nodes, edges)
    shuffled_nodes, shuffled_edges = nodes[:], edges[:]
    rnd.shuffle(shuffled_nodes)
    rnd.shuffle(shuffled_edges)
    assert cluster(shuffled_nodes, shuffled_edges) == first
    assert sorted(u for c in first for u in c) == sorted(nodes)


def _text(rnd, n_paragraphs, words=40):
    vocab = [f"w{i}" for i in range(3000)]
    return [" ".join(rnd.choice(vocab) for _ in range(words)) for _ in range(n_paragraphs)]


def test_short_and_long_excerpts_of_a_long_article_join_its_story():
    rnd = random.Random(7)
    origin = _text(rnd, 25, 40)                             # ~1000 words
    texts = {
        "origin": origin,
        "excerpt-short": origin[:1] + ["Read the full article at the origin."],   # ~45 words: J with the whole < 0.05
        "excerpt-long": origin[:5] + ["Read the full article at the origin."],    # ~200 words
        "other": _text(rnd, 20, 40),
    }
    stories = group_texts(texts)
    assert ["excerpt-long", "excerpt-short", "origin"] in stories and ["other"] in stories
