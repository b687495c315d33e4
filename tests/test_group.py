import random

from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.group import UnionFind, cluster, components
from dedupe.pipeline import group_texts
from dedupe.relate import Edge


def test_union_find():
    uf = UnionFind()
    for x in "abcd":
        uf.add(x)
    uf.union("a", "b")
    uf.union("c", "d")
    assert uf.find("a") == uf.find("b") != uf.find("c")


def rel(a, b, on_a, on_b, len_a=100, len_b=100, kind="copy", opens=""):
    """A relation whose passages lie at ``on_a`` in a and ``on_b`` in b (lists of (start, end)); ``opens``:
    "a" and/or "b", the texts whose opening stretch the other holds."""
    passages = tuple((x0, x1, y0, y1) for (x0, x1), (y0, y1) in zip(on_a, on_b))
    cover_a = sum(x1 - x0 for x0, x1 in on_a) / len_a
    cover_b = sum(y1 - y0 for y0, y1 in on_b) / len_b
    if a > b:
        a, b, len_a, len_b, cover_a, cover_b = b, a, len_b, len_a, cover_b, cover_a
        passages = tuple((p[2], p[3], p[0], p[1]) for p in passages)
        opens = opens.translate(str.maketrans("ab", "ba"))
    return Edge(a, b, 0.9, 0.5, kind, "covers", round(cover_a, 4), round(cover_b, 4), passages, opens, len_a, len_b)


def full(a, b):
    return rel(a, b, [(0, 100)], [(0, 100)])


def test_copies_chain_through_trims_into_one_story():
    # o full, c1 full copy, t a trim of the lead (wholly in both), x a tail copy of o only
    edges = [full("o", "c1"), rel("t", "o", [(0, 30)], [(0, 30)], 30, 100), rel("t", "c1", [(0, 30)], [(0, 30)], 30, 100),
             rel("x", "o", [(0, 40)], [(60, 100)], 40, 100)]
    assert cluster(["o", "c1", "t", "x"], edges).stories == [["c1", "o", "t", "x"]]


def test_a_listing_of_two_stories_joins_neither_and_contains_both():
    # story A: a1, a2 and its preview pa; story B: b1, b2 and its preview pb; the listing holds both previews
    edges = [full("a1", "a2"), full("b1", "b2"),
             rel("pa", "a1", [(0, 20)], [(0, 20)], 20, 100), rel("pa", "a2", [(0, 20)], [(0, 20)], 20, 100),
             rel("pb", "b1", [(0, 20)], [(0, 20)], 20, 100), rel("pb", "b2", [(0, 20)], [(0, 20)], 20, 100),
             rel("pa", "list", [(0, 20)], [(10, 30)], 20, 120), rel("pb", "list", [(0, 20)], [(60, 80)], 20, 120)]
    found = cluster(["a1", "a2", "b1", "b2", "pa", "pb", "list"], edges)
    assert found.stories == [["a1", "a2", "pa"], ["b1", "b2", "pb"], ["list"]]
    assert ("list", "pa") in found.contains and ("list", "pb") in found.contains


def test_a_copy_framed_by_another_storys_caption_stays_with_its_own_story():
    # g carries all of story A (a1, a2 are wholly in it) and, in a gallery above it, the photo caption that
    # opens c, a trimmed copy of story C whose captions and boxes outweigh the lead of c1 it carries
    edges = [full("a1", "a2"), rel("a1", "g", [(0, 100)], [(200, 300)], 100, 400),
             rel("a2", "g", [(0, 100)], [(200, 300)], 100, 400),
             rel("c", "g", [(0, 40)], [(20, 60)], 110, 400, opens="a"),
             rel("c", "c1", [(60, 100)], [(0, 40)], 110, 90, opens="b")]
    found = cluster(["a1", "a2", "g", "c", "c1"], edges)
    assert ["a1", "a2", "g"] in found.stories and ["c", "c1"] in found.stories
    assert ("g", "c") in found.contains


def test_a_statement_printed_by_two_stories_joins_neither():
    # s (a statement) is wholly in a1 and in b1, at their tops; a1 and b1 are otherwise unrelated
    edges = [full("a1", "a2"), full("b1", "b2"), rel("s", "a1", [(0, 40)], [(0, 40)], 40, 300, opens="a"),
             rel("s", "b1", [(0, 40)], [(5, 45)], 40, 300, opens="a")]
    found = cluster(["a1", "a2", "b1", "b2", "s"], edges)
    assert found.stories == [["a1", "a2"], ["b1", "b2"], ["s"]]


def test_quotes_never_join_and_are_shown_as_contained():
    edges = [rel("q", "article", [(0, 50)], [(10, 60)], 60, 400, kind="quote")]
    edges[0] = Edge(edges[0].a, edges[0].b, 0.8, 0.1, "quote", "b", edges[0].cover_a, edges[0].cover_b,
                    edges[0].passages, "", edges[0].len_a, edges[0].len_b)
    found = cluster(["article", "q"], edges)
    assert found.stories == [["article"], ["q"]] and found.contains == [("article", "q")]


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_arrival_order_does_not_change_stories(rnd):
    nodes = [f"n{i}" for i in range(12)]
    length = {n: rnd.choice([40, 100]) for n in nodes}
    edges = []
    for i in range(12):
        for j in range(i + 1, 12):
            if rnd.random() < 0.25:
                start = rnd.randrange(0, length[f"n{i}"] - 40 + 1)
                edges.append(rel(f"n{i}", f"n{j}", [(start, start + 40)], [(0, 40)], length[f"n{i}"], length[f"n{j}"]))
    first = cluster(nodes, edges)
    shuffled_nodes, shuffled_edges = nodes[:], edges[:]
    rnd.shuffle(shuffled_nodes)
    rnd.shuffle(shuffled_edges)
    again = cluster(shuffled_nodes, shuffled_edges)
    assert (again.stories, again.contains) == (first.stories, first.contains)
    assert sorted(u for c in first.stories for u in c) == sorted(nodes)
    assert sorted(u for c in components(nodes, [(e.a, e.b) for e in edges]) for u in c) == sorted(nodes)


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


def headlines_of(titles):
    """A headline reader over fixed titles, as ``stages.headline_words`` reads stored ones."""
    return lambda urls: {u: frozenset(titles[u].lower().split()) for u in urls if u in titles}


def preview_held_by_two_stories():
    # p (a preview: A's lead and a link) is wholly in a1 and a2 (story A), at their tops, and in b1 and b2
    # (story B), whose photo caption quotes A's lead
    edges = [full("a1", "a2"), full("b1", "b2")]
    edges += [rel("p", x, [(0, 36)], [(0, 36)], 40, 300, opens="a") for x in ("a1", "a2")]
    edges += [rel("p", x, [(0, 36)], [(5, 41)], 40, 300, opens="a") for x in ("b1", "b2")]
    return ["a1", "a2", "b1", "b2", "p"], edges


def test_a_piece_two_stories_hold_alike_goes_with_the_one_carrying_its_headline():
    nodes, edges = preview_held_by_two_stories()
    titles = {"a1": "Council votes to close two libraries", "a2": "Council votes to close two libraries - Daily",
              "b1": "Why the library cuts are a mistake", "b2": "Why the library cuts are a mistake",
              "p": "WATCH: Council votes to close two libraries"}
    found = cluster(nodes, edges, headlines=headlines_of(titles))
    assert found.stories == [["a1", "a2", "p"], ["b1", "b2"]]
    assert ("b1", "p") in found.contains and ("b2", "p") in found.contains


def test_a_piece_whose_headline_neither_or_both_stories_carry_joins_neither():
    nodes, edges = preview_held_by_two_stories()
    own = {"a1": "Council votes to close two libraries", "a2": "Council votes to close two libraries",
           "b1": "Why the library cuts are a mistake", "b2": "Why the library cuts are a mistake",
           "p": "Weekend reading"}
    both = {**own, "b1": own["a1"], "p": own["a1"]}
    for titles in (own, both, {}):
        assert cluster(nodes, edges, headlines=headlines_of(titles)).stories == [["a1", "a2"], ["b1", "b2"], ["p"]]
    assert cluster(nodes, edges).stories == [["a1", "a2"], ["b1", "b2"], ["p"]]


def test_a_teaser_carrying_a_storys_headline_is_not_taken_for_a_borrowed_lead():
    # p opens with c1's lead (a teaser: the lead and a link); c2, c1's copy, holds that lead too but was not
    # found to hold p. Without a headline in common, c1's relation to p reads as borrowed (c2 would be p's copy
    # too) and is cut; with c1's headline on p, p is the story's teaser and joins it.
    edges = [full("c1", "c2"), rel("p", "c1", [(0, 30)], [(0, 30)], 77, 100, opens="a")]
    nodes = ["c1", "c2", "p"]
    story = {"c1": "Council votes to close two libraries", "c2": "Council votes to close two libraries"}
    assert cluster(nodes, edges, headlines=headlines_of({**story, "p": "Weekend reading"})).stories == \
        [["c1", "c2"], ["p"]]
    assert cluster(nodes, edges, headlines=headlines_of({**story, "p": "WATCH: " + story["c1"]})).stories == \
        [["c1", "c2", "p"]]
