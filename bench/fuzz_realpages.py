"""Fuzz pass over real pages: each page's own JSON-LD and meta tags bent into odd shapes, its markup cut, and
syndtrace's extraction run on every variant; prints how many variants crashed (the goal: none).

    python bench/fuzz_realpages.py /work/data/realpages [--variants 4] [--seed 1] [--jobs 2]

Reads the realpages layout (bench/README.md, "Real pages"). Mutations, chosen at random per variant: every
JSON-LD string value wrapped in a list, in an object (``{"name": …}``), replaced by a number or a malformed
date; objects nested under ``@graph``; ``<meta content>`` values of dates and authors replaced by junk; the
page cut at a random point. Not a test: it needs third-party pages (tests/test_extract_fuzz.py does the same
on our own fixtures).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import traceback
from multiprocessing import Pool
from pathlib import Path

sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from crawler.page.extract import extract_page

_LD = re.compile(r'(<script[^>]+application/ld\+json[^>]*>)(.*?)(</script>)', re.S | re.I)
_META = re.compile(r'(<meta[^>]+content=")([^"]*)(")', re.I)
JUNK = ["", "2024-13-45T99:99:99", "yesterday", "1622764800", "&amp;#8217;", "null", "[]", "By", "0000-00-00"]


def bend(value, rng: random.Random):
    """One JSON value in an odd but valid shape."""
    if isinstance(value, dict):
        out = {k: bend(v, rng) for k, v in value.items()}
        return {"@graph": [out]} if rng.random() < 0.2 else out
    if isinstance(value, list):
        return [bend(v, rng) for v in value] if rng.random() < 0.7 else (bend(value[0], rng) if value else None)
    if isinstance(value, str):
        roll = rng.random()
        if roll < 0.2:
            return [value, value]
        if roll < 0.35:
            return {"name": value, "@type": "Person"}
        if roll < 0.45:
            return rng.choice(JUNK)
        if roll < 0.5:
            return rng.randint(-10**9, 10**12)
    return value


def variant(html: str, rng: random.Random) -> str:
    def ld(m):
        try:
            data = json.loads(m.group(2))
        except ValueError:
            return m.group(0)
        return m.group(1) + json.dumps(bend(data, rng)) + m.group(3)

    html = _LD.sub(ld, html)
    html = _META.sub(lambda m: m.group(1) + (rng.choice(JUNK) if rng.random() < 0.2 else m.group(2)) + m.group(3), html)
    if rng.random() < 0.3:
        html = html[:rng.randint(1, len(html))]
    return html


def fuzz_page(job: tuple[str, int, int]) -> list[str]:
    folder, variants, seed = job
    gold = json.loads(Path(folder, "gold.json").read_text(encoding="utf-8"))
    html = Path(folder, "page.html").read_bytes().decode("utf-8", "replace")
    rng = random.Random(f"{seed}:{gold['id']}")
    crashes = []
    for i in range(variants):
        try:
            extract_page(variant(html, rng), gold["url"])
        except Exception:  # noqa: BLE001 (a crash is what this counts)
            crashes.append(f"{gold['id']} variant {i}: {traceback.format_exc().splitlines()[-1][:200]}")
    return crashes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path)
    ap.add_argument("--variants", type=int, default=4, help="mutated variants per page")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    folders = sorted(str(g.parent) for g in args.root.glob("*/*/gold.json"))
    jobs = [(f, args.variants, args.seed) for f in folders]
    if args.jobs > 1:
        with Pool(args.jobs) as pool:
            results = pool.map(fuzz_page, jobs, chunksize=4)
    else:
        results = [fuzz_page(j) for j in jobs]
    crashes = [c for r in results for c in r]
    print(f"{len(folders)} pages x {args.variants} variants = {len(folders) * args.variants} extractions, "
          f"{len(crashes)} crashed")
    for line in crashes:
        print("  " + line)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
