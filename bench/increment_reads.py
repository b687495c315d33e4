"""What an increment reads whatever it adds: its normalising steps, timed alone on a grouped database.

    python bench/increment_reads.py DB [--rounds 2]

Runs, on DB as it is (a file a grouping pass has brought up to date, so that nothing is new), the calls an
increment's normalise stage makes before it signs anything: settling numeric dates and title affixes, reading the
corpus (every stored signature state and paragraph identities), finding furniture, planning what to sign, reading
the lineage evidence and what changed in it. With nothing new, all of this is the fixed cost of an increment:
it grows with the stored articles, not with the added ones. Each step's seconds are printed with its share of the
round's total; the first round pays for whatever the page cache does not hold (drop it first for a cold figure),
the later ones show the warm cost. Only idempotent state is written (the same as the pass that grouped the file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from crawler.storage.store import Store
from dedupe import stages
from dedupe.options import GroupingOptions
from dedupe.pool import KernelPool


def one_round(store: Store, options: GroupingOptions) -> dict[str, float]:
    """Seconds of each normalising step of an increment, in the order the pass makes them."""
    seconds: dict[str, float] = {}

    def timed(name, step, *args):
        start = time.perf_counter()
        result = step(*args)
        seconds[name] = time.perf_counter() - start
        return result

    with KernelPool(options.workers) as pool:
        timed("numeric dates", stages.settle_numeric_dates, store)
        timed("title affixes", stages.settle_title_affixes, store, options.furniture_min_pages)
        corpus = timed("read corpus", stages.read_corpus, store, options, False, pool)
        furniture = timed("furniture", stages.find_furniture, corpus, options)
        signed_with = timed("signed furniture", stages.signed_furniture, store)
        plan = timed("plan signing", stages.plan_signing, corpus, furniture, False, signed_with)
        evidence = timed("lineage evidence", stages.LineageEvidence, store, furniture,
                         options.lineage.carried_min_pages, options.lineage.relay_min_pages)
        timed("evidence changes", stages.evidence_changes, store, corpus, evidence)
    if plan.changed:
        print(f"note: {len(plan.changed)} articles would be signed: the file is not up to date", file=sys.stderr)
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("db", help="a grouped syndtrace database")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = ap.parse_args()
    store = Store(args.db, create=False)
    options = GroupingOptions()
    rounds = []
    for n in range(args.rounds):
        seconds = one_round(store, options)
        total = sum(seconds.values())
        rounds.append(seconds)
        print(f"round {n + 1}: {total:.2f} s; " + ", ".join(f"{k} {v:.2f} s ({v / total:.0%})"
                                                            for k, v in seconds.items()))
    store.close()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rounds, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
