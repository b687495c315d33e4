"""A synthetic article corpus for benchmarks: stories with copies, excerpts and edits.

Words follow a Zipf-like law over a large vocabulary, so distinct articles share common words but not
passages, as real news does. Deterministic for a seed.
"""

from __future__ import annotations

import random


def make_corpus(n_articles: int, seed: int = 1, words_per_paragraph: int = 60,
                paragraphs: tuple[int, int] = (6, 16)) -> dict[str, list[str]]:
    """url → paragraphs; about 40% of articles are copies of another story."""
    rnd = random.Random(seed)
    vocab = [f"w{i:05d}" for i in range(30000)]
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(vocab))]
    pool = rnd.choices(vocab, weights=weights, k=200_000)

    def paragraph() -> str:
        start = rnd.randrange(0, len(pool) - words_per_paragraph)
        return " ".join(pool[start:start + words_per_paragraph]) + "."

    texts: dict[str, list[str]] = {}
    story = 0
    while len(texts) < n_articles:
        body = [paragraph() for _ in range(rnd.randint(*paragraphs))]
        texts[f"http://site{story % 25}.example/story/{story}"] = body
        for c in range(rnd.choice([0, 0, 0, 1, 1, 2, 3])):
            if len(texts) >= n_articles:
                break
            kind = rnd.random()
            if kind < 0.25:
                copy = body[: rnd.randint(2, 4)] + ["Read the full article at the original outlet."]
            elif kind < 0.5:
                copy = body[:]
                copy.insert(rnd.randrange(len(copy)), "Subscribe to our channel for breaking news now.")
            else:
                copy = [p.replace(" w0", " W0", 1) for p in body] + ["Note to readers: please share this."]
            texts[f"http://site{(story + c + 1) % 25}.example/copy/{story}-{c}"] = copy
        story += 1
    return texts
