"""What a grouping pass holds off the heap (``dedupe.spill``) comes back whole: nothing dropped, nothing twice."""

from __future__ import annotations

import random

import numpy as np

from crawler.storage.records import StoredEdge
from dedupe.align import text_print
from dedupe.group import components
from dedupe.index import all_band_keys, keyed_pairs
from dedupe.spill import BandKeyFile, PrintBlock, PrintFile, Relations


def same_print(a, b) -> bool:
    return ((a.n_words, a.size) == (b.n_words, b.size) and a.shingles.dtype == b.shingles.dtype
            and all(np.array_equal(x, y) for x, y in ((a.shingles, b.shingles), (a.quoted, b.quoted),
                                                         (a.paragraphs, b.paragraphs))))


def test_prints_come_back_as_written_and_sites_compare_as_before():
    rnd = random.Random(3)
    prints = PrintFile()
    made = {}
    for i in range(40):
        words = [f"w{rnd.randrange(50)}" for _ in range(rnd.randrange(0, 30))]
        made[f"u{i}"] = (text_print(words, [rnd.random() < 0.2 for _ in words], [0] if words else [], 3), f"s{i % 3}")
        prints.add_block([f"u{i}"], [made[f"u{i}"][1]], PrintBlock.of([made[f"u{i}"][0]]))
        if i == 20:
            assert same_print(prints["u7"], made["u7"][0])   # read while still being written
    assert len(prints) == 40
    for url, (printed, site) in made.items():
        assert same_print(prints[url], printed)
        assert (prints.site(url) == prints.site("u0")) == (site == "s0")
    prints.close()


def test_prints_written_in_blocks_come_back_as_those_written_one_by_one():
    rnd = random.Random(4)
    made = []
    for i in range(60):
        words = [f"w{rnd.randrange(40)}" for _ in range(rnd.randrange(0, 25))]   # some empty, some shorter than a shingle
        made.append((f"u{i}", f"s{i % 4}", text_print(words, [rnd.random() < 0.3 for _ in words], [0] if words else [], 5)))
    one_by_one, in_blocks = PrintFile(), PrintFile()
    for url, site, printed in made:
        one_by_one.add_block([url], [site], PrintBlock.of([printed]))
    for start, end in ((0, 1), (1, 25), (25, 25), (25, 60)):   # a block of one, an empty block, a long one
        part = made[start:end]
        in_blocks.add_block([u for u, _, _ in part], [s for _, s, _ in part], PrintBlock.of([p for _, _, p in part]))
    assert len(in_blocks) == 60
    for url, _, printed in made:
        assert same_print(in_blocks[url], printed) and same_print(one_by_one[url], printed)
        assert in_blocks.span(url) == one_by_one.span(url)
        assert in_blocks.site(url) == one_by_one.site(url)
    one_by_one.close()
    in_blocks.close()


def test_band_keys_read_back_a_band_at_a_time_give_the_same_pairs():
    rnd = np.random.default_rng(5)
    matrix = rnd.integers(0, 4, size=(300, 12), dtype=np.uint32)   # few values: many collisions
    owners = np.repeat(np.arange(150), 2).astype(np.int32)
    query = rnd.random(150) < 0.5
    keys = all_band_keys(matrix, 4, 3)
    with BandKeyFile(4) as held:
        for start in range(0, 300, 128):                   # blocks as find_candidates writes them, the last shorter
            held.append(keys[start:start + 128])
        from_file = keyed_pairs(owners, held.columns(), query)
    assert len(from_file) and from_file.tolist() == keyed_pairs(owners, keys.T, query).tolist()


def _edge(a, b, i):
    return StoredEdge(a, b, i / 10, i / 20, "quote" if i % 3 == 0 else None, "a" if i % 2 else None,
                      None if i % 4 == 0 else i / 7, 0.5, None if i % 5 == 0 else i, 3 * i,
                      np.array([[i, i + 40, 0, 40]] * (i % 3), dtype=np.int32).tobytes() or None, "ab" if i % 2 else None)


def test_relations_keep_every_row_and_the_components_of_the_reference():
    rnd = random.Random(11)
    nodes = sorted(f"n{i:02d}" for i in range(30))
    rows = [_edge(*sorted(rnd.sample(nodes, 2)), i) for i in range(25)]
    rows.append(_edge("m-not-a-node", "n05", 25))         # a page only a relation names
    relations = Relations(nodes, rows)
    found = list(relations.components())
    assert [urls for urls, _ in found] == components(nodes, [(r.a, r.b) for r in rows])
    numbers = [k for _, ks in found for k in ks]
    assert sorted(numbers) == list(range(len(rows)))       # every relation once
    for urls, ks in found:
        assert [rows[k] for k in ks] == sorted((rows[k] for k in ks), key=lambda r: (urls.index(r.a), rows.index(r)))
    for k, r in enumerate(rows):
        assert relations.row(k)._replace(passages=relations.row(k).passages or None) == r
    similarity = relations.similarity()
    expected = {(r.a, r.b): (r.jaccard, r.containment) for r in rows}   # a pair read twice: the later row
    assert all(similarity.get(a, b) == numbers for (a, b), numbers in expected.items())
    assert similarity.get("n00", "n00") is None and similarity.get("zz", "n01") is None
