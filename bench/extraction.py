"""Extraction speed: which trafilatura mode to use, measured on stored pages, in the same run.

    python bench/extraction.py --db /tmp/syndweb-eval-1-400/syndtrace.db [--pages 400]

Takes HTML article pages from a syndtrace database (any crawl), and times per page:
  - trafilatura.bare_extraction, default mode (metadata included);
  - trafilatura.bare_extraction, fast=True, without metadata (what syndtrace calls for the body);
  - syndtrace's whole extract_page (parse, page kind, metadata, credits, body with fast=True).
Also reports how often the fast body equals the default body (normalised words), so the choice rests on
speed and agreement, not speed alone. Ratios are against the default mode measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import trafilatura

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from crawler.page.decode import decode_html
from crawler.page.extract import extract_page
from crawler.storage.store import Store
from dedupe.normalise import words


def load_pages(db: str, limit: int) -> list[tuple[str, str]]:
    store = Store(db, create=False)
    urls = store.article_urls(limit=limit)
    pages = [(r["url"], decode_html(r["body"], r["headers"])) for r in store.iter_fetches(urls)]
    store.close()
    return pages


def timed(fn, pages) -> tuple[float, list]:
    out = []
    start = time.perf_counter()
    for url, html in pages:
        out.append(fn(url, html))
    return (time.perf_counter() - start) / len(pages) * 1000, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--pages", type=int, default=400)
    args = ap.parse_args()
    pages = load_pages(args.db, args.pages)
    if not pages:
        raise SystemExit(f"no article pages in {args.db}")

    def default(url, html):
        doc = trafilatura.bare_extraction(html, url=url, include_comments=False, include_tables=False)
        return (doc.text if doc is not None else "") or ""

    def fast(url, html):
        doc = trafilatura.bare_extraction(html, url=url, fast=True, include_comments=False, include_tables=False,
                                          with_metadata=False)
        return (doc.text if doc is not None else "") or ""

    def ours(url, html):
        return extract_page(html, url).text

    for fn in (default, fast, ours):          # warm up imports and caches
        fn(*pages[0])
    rounds = {name: [] for name in ("default", "fast", "ours")}
    results = {}
    for _ in range(3):
        for name, fn in (("default", default), ("fast", fast), ("ours", ours)):
            ms, out = timed(fn, pages)
            rounds[name].append(ms)
            results[name] = out
    med = {name: statistics.median(v) for name, v in rounds.items()}
    same = sum(words(a) == words(b) for a, b in zip(results["default"], results["fast"])) / len(pages)
    print(f"{len(pages)} article pages from {args.db}; median of 3 rounds")
    print(f"{'mode':<38}{'ms/page':>9}{'vs default':>12}")
    for name, label in (("default", "trafilatura default (with metadata)"), ("fast", "trafilatura fast, no metadata"),
                        ("ours", "syndtrace extract_page (all of it)")):
        print(f"{label:<38}{med[name]:>9.2f}{med[name] / med['default']:>11.2f}x")
    print(f"fast body identical to default body: {same:.1%} of pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
