"""Grouping speed: syndtrace's stages vs the plain datasketch recipe (and rensa), same texts, same run.

    python bench/grouping.py --articles 5000

The plain recipe is what the datasketch README shows: one ``MinHash.update`` per shingle, then
``MinHashLSH`` insert and query. Ours (``dedupe.pipeline.group_texts``): vectorised shingle hashing, one
vectorised MinHash per text with datasketch's permutations, LSH banding over full and lead signatures
(datasketch's band parameters, matched by sorting each band), exact containment verification, linkage
clustering. Figures are printed as ratios against the plain recipe measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from datasketch import MinHash, MinHashLSH

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.corpus import make_corpus
from dedupe.normalise import words
from dedupe.options import GroupingOptions
from dedupe.pipeline import group_texts


def shingle_strings(paragraphs: list[str], k: int) -> list[str]:
    ws = [w for p in paragraphs for w in words(p)]
    return list({" ".join(ws[i:i + k]) for i in range(max(1, len(ws) - k + 1))})


def plain_datasketch(texts: dict[str, list[str]], options: GroupingOptions) -> int:
    lsh = MinHashLSH(threshold=options.lsh_threshold, num_perm=options.num_perm)
    sigs = {}
    for url, paragraphs in texts.items():
        m = MinHash(num_perm=options.num_perm, seed=options.seed)
        for sh in shingle_strings(paragraphs, options.shingle_size):
            m.update(sh.encode("utf-8"))
        sigs[url] = m
        lsh.insert(url, m)
    return sum(len(lsh.query(m)) for m in sigs.values())


def rensa_pipeline(texts: dict[str, list[str]], options: GroupingOptions) -> int:
    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(threshold=options.lsh_threshold, num_perm=options.num_perm, num_bands=16)
    sigs = {}
    for i, (url, paragraphs) in enumerate(texts.items()):
        m = RMinHash(num_perm=options.num_perm, seed=options.seed)
        m.update(shingle_strings(paragraphs, options.shingle_size))
        sigs[i] = m
        lsh.insert(i, m)
    return sum(len(lsh.query(m)) for m in sigs.values())


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=5000)
    args = ap.parse_args()
    options = GroupingOptions()
    texts = make_corpus(args.articles)
    print(f"{len(texts)} articles, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    base = timed(plain_datasketch, texts, options)
    ours = timed(group_texts, texts, options)
    print(f"plain datasketch recipe   {base:8.2f} s   1.00x")
    print(f"syndtrace grouping        {ours:8.2f} s   {base / ours:5.2f}x faster")
    try:
        ren = timed(rensa_pipeline, texts, options)
        print(f"rensa signatures + LSH    {ren:8.2f} s   {base / ren:5.2f}x faster (compiled reference, no verify/cluster)")
    except ImportError:
        print("rensa not installed: pip install '.[bench]'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
