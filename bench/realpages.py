"""Real-page yardstick: syndtrace's extraction against plain trafilatura and htmldate, same pages, same run.

    python bench/realpages.py /work/data/realpages [--source fundus] [--limit N] [--jobs 2] [--json out.json]

Reads the layout written by bench/convert_*.py (``<root>/<source>/<page>/page.html`` + ``gold.json``; see
bench/README.md, "Real pages") and runs on every page:
  - syndtrace: ``extract_page`` (the one import below is the only line that names syndtrace's module);
  - trafilatura: ``bare_extraction(html, url=url, with_metadata=True)``, default settings;
  - htmldate: ``find_date(html, url=url)`` by default (extensive search on, latest date), with
    ``original_date=True`` (the publication date, as trafilatura asks for it) and with
    ``extensive_search=False`` (metadata and markup only), for dates.
Every system gets the page's bytes and decodes them itself. Prints per-field accuracy side by side,
overall, per source and per language. What each field compares:
  - date: the calendar day written in the system's date (its first ``YYYY-MM-DD``) equals the gold's day,
    in the page's own zone (gold ``published_zone`` ``stated``, ``country`` or ``day``); for a gold instant
    in UTC whose local zone is not known (``utc``: a country with several zones, or no country), any day
    the instant falls on between UTC-12 and UTC+14 counts (the page count in this mode is printed).
    "date given": the system gave any date;
  - authors: the exact set of names, each NFC-normalised, invisible format characters removed, case-folded,
    whitespace runs folded to one space and trimmed; diacritics and punctuation kept. trafilatura's
    ``author`` is split at "; " (its own separator); syndtrace's ``authors`` list if it has one, else its
    ``author`` string as one name;
  - title: exact after NFC, removal of invisible format characters (Unicode Cf: soft hyphens, zero-width
    spaces), whitespace folding and trimming; case kept; HTML entities are decoded once in the gold
    only, so an entity left in a system's title counts as an error;
  - article: share of gold articles the system calls an article (syndtrace's page type);
  - body F1: token-level F1 (bag of words; CJK characters one token each; NFC, case-folded) against a
    whole gold body; body opening: the gold's first words appear, in order, in the first 150 tokens.
"""

from __future__ import annotations

import argparse
import html as htmllib
import json
import os
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from datetime import timedelta
from multiprocessing import Pool
from pathlib import Path

import trafilatura
from htmldate import find_date

# bench/ first for its helper; the repository root last, so that a tree put first on PYTHONPATH (tools'
# tree-env) is the syndtrace that is measured
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from realpages_layout import parse_iso

import crawler
from crawler.page.extract import extract_page  # (the one line to change when extraction moves)

SYSTEMS = ("syndtrace", "trafilatura", "htmldate", "htmldate_orig", "htmldate_fast")
FIELDS = ("date", "date_given", "authors", "title", "article", "body_f1", "body_open")
# which systems answer which field
ANSWERS = {"date": SYSTEMS, "date_given": SYSTEMS, "authors": SYSTEMS[:2], "title": SYSTEMS[:2],
           "article": SYSTEMS[:1], "body_f1": SYSTEMS[:2], "body_open": SYSTEMS[:2]}


# -- the systems -------------------------------------------------------------------------------------


def run_syndtrace(raw: bytes, url: str) -> dict:
    """syndtrace's extraction, as the crawl runs it."""
    page = extract_page(raw, url)
    authors = getattr(page, "authors", None)
    if authors is None:
        authors = [page.author] if page.author else []
    return {"title": page.title, "authors": list(authors), "published": page.published,
            "is_article": page.page_type == "article", "page_type": page.page_type, "body": page.text}


def run_trafilatura(raw: bytes, url: str) -> dict:
    doc = trafilatura.bare_extraction(raw, url=url, with_metadata=True)
    if doc is None:
        return {"title": None, "authors": [], "published": None, "body": ""}
    authors = [a for a in (doc.author or "").split("; ") if a.strip()]
    return {"title": doc.title, "authors": authors, "published": doc.date, "body": doc.text or ""}


def run_htmldate(raw: bytes, url: str, **options) -> dict:
    return {"published": find_date(raw, url=url, **options)}


RUNNERS = {
    "syndtrace": run_syndtrace,
    "trafilatura": run_trafilatura,
    "htmldate": run_htmldate,
    "htmldate_orig": lambda raw, url: run_htmldate(raw, url, original_date=True),
    "htmldate_fast": lambda raw, url: run_htmldate(raw, url, extensive_search=False),
}


# -- comparisons -------------------------------------------------------------------------------------

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+")


def fold(text: str) -> str:
    """NFC, invisible format characters (soft hyphen, zero-width space…) removed, whitespace folded."""
    text = "".join(c for c in unicodedata.normalize("NFC", text) if unicodedata.category(c) != "Cf")
    return " ".join(text.split())


def norm_title(text: str | None, gold: bool = False) -> str | None:
    if not text:
        return None
    return fold(htmllib.unescape(text) if gold else text)


def norm_authors(names) -> frozenset[str]:
    return frozenset(fold(n).casefold() for n in names or [] if n and n.strip())


def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFC", text or "").casefold())


def token_f1(predicted: str | None, gold: str) -> float:
    p, g = Counter(tokens(predicted)), Counter(tokens(gold))
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def opening_found(predicted: str | None, gold_start: str) -> bool:
    head, want = tokens(predicted)[:150], tokens(gold_start)
    return bool(want) and any(head[i:i + len(want)] == want for i in range(len(head) - len(want) + 1))


def gold_days(gold: dict) -> set[str]:
    """The calendar days a system's date may name (see the module doc)."""
    written = gold["published"][:10]
    when = parse_iso(gold["published"])
    if gold.get("published_zone") != "utc" or when is None:
        return {written}
    return {(when + timedelta(hours=h)).date().isoformat() for h in range(-12, 15)}


def same_day(predicted: str | None, gold: dict) -> bool:
    m = _DAY.search(str(predicted or ""))
    return bool(m) and m.group(0) in gold_days(gold)


# -- one page ----------------------------------------------------------------------------------------


def score_page(folder: str) -> dict:
    """Run every system on one page folder and compare each field with the gold."""
    gold = json.loads(Path(folder, "gold.json").read_text(encoding="utf-8"))
    raw = Path(folder, "page.html").read_bytes()
    record = {"id": gold["id"], "source": gold["source"], "language": gold.get("language") or "und",
              "published_zone": gold.get("published_zone"),
              "outputs": {}, "scores": {}, "seconds": {}}
    for name, runner in RUNNERS.items():
        start = time.perf_counter()
        try:
            out = runner(raw, gold["url"])
        except Exception as exc:  # noqa: BLE001 (a crash is a result here, not an error of the yardstick)
            out = {"crash": f"{type(exc).__name__}: {exc}"[:300]}
        record["seconds"][name] = time.perf_counter() - start
        record["outputs"][name] = out
        record["scores"][name] = compare(name, out, gold)
    return record


def compare(system: str, out: dict, gold: dict) -> dict:
    """Per-field verdicts for the fields this system answers and the gold has (a crash fails them all)."""
    answers = {f for f, systems in ANSWERS.items() if system in systems}
    scores: dict = {"crash": True} if out.get("crash") else {}
    if gold.get("published"):
        scores["date"] = same_day(out.get("published"), gold)
        scores["date_given"] = bool(out.get("published"))
    if "authors" in answers and gold.get("authors") is not None:
        scores["authors"] = norm_authors(out.get("authors")) == norm_authors(gold["authors"])
    if "title" in answers and gold.get("title"):
        scores["title"] = norm_title(out.get("title")) == norm_title(gold["title"], gold=True)
    if "body_f1" in answers and gold.get("body"):
        scores["body_f1"] = token_f1(out.get("body"), gold["body"])
    if "body_open" in answers and gold.get("body_start"):
        scores["body_open"] = opening_found(out.get("body"), gold["body_start"])
    if "article" in answers and gold.get("is_article") is True:
        scores["article"] = bool(out.get("is_article"))
    return scores


# -- the run -----------------------------------------------------------------------------------------


def page_folders(root: Path, source: str | None, limit: int | None) -> list[str]:
    folders = sorted(str(g.parent) for g in root.glob("*/*/gold.json")
                     if source is None or g.parent.parent.name == source)
    return folders[:limit] if limit else folders


def summarise(records: list[dict], min_pages: int = 3) -> dict:
    """Mean score per group (all, each source, each language), system and field, with its page count."""
    groups: dict[str, list[dict]] = defaultdict(list)
    small = Counter(r["language"] for r in records)
    for r in records:
        groups["all"].append(r)
        groups[f"source:{r['source']}"].append(r)
        lang = r["language"] if small[r["language"]] >= min_pages else "other"
        groups[f"language:{lang}"].append(r)
    out: dict = {}
    for group, members in groups.items():
        table: dict = {"pages": len(members)}
        for system in SYSTEMS:
            row = {}
            for field in FIELDS:
                values = [r["scores"][system][field] for r in members if field in r["scores"][system]]
                if values:
                    row[field] = {"score": sum(values) / len(values), "n": len(values)}
            row["crashes"] = sum(1 for r in members if r["scores"][system].get("crash"))
            table[system] = row
        out[group] = table
    return out


def timings(records: list[dict]) -> dict:
    per_page = {s: sum(r["seconds"][s] for r in records) / len(records) * 1000 for s in SYSTEMS}
    return {s: {"ms_per_page": ms, "vs_trafilatura": ms / per_page["trafilatura"]} for s, ms in per_page.items()}


LABELS = {"date": "date same day", "date_given": "date given at all", "authors": "authors exact set",
          "title": "title normalised exact", "article": "article kept as article", "body_f1": "body token F1",
          "body_open": "body opening found"}
SHORT = {"syndtrace": "syndtrace", "trafilatura": "trafilatura", "htmldate": "htmldate",
         "htmldate_orig": "hd original", "htmldate_fast": "hd fast"}


def print_group(name: str, table: dict) -> None:
    print(f"\n{name}: {table['pages']} pages")
    print(f"  {'field':<25}{'n':>5}" + "".join(f"{SHORT[s]:>13}" for s in SYSTEMS))
    for field in FIELDS:
        cells = [table[s].get(field) for s in SYSTEMS]
        if not any(cells):
            continue
        n = max(c["n"] for c in cells if c)
        print(f"  {LABELS[field]:<25}{n:>5}" + "".join(f"{c['score']:>13.3f}" if c else f"{'—':>13}" for c in cells))
    crashes = [table[s]["crashes"] for s in SYSTEMS]
    if any(crashes):
        print(f"  {'crashes':<25}{'':>5}" + "".join(f"{c:>13}" for c in crashes))


def print_languages(summary: dict) -> None:
    cols = [("date", "syndtrace"), ("date", "trafilatura"), ("date", "htmldate"), ("date", "htmldate_orig"),
            ("authors", "syndtrace"), ("authors", "trafilatura"), ("title", "syndtrace"), ("title", "trafilatura"),
            ("body_f1", "syndtrace"), ("body_f1", "trafilatura")]
    heads = ["date syn", "date traf", "date hd", "date hdO", "auth syn", "auth traf", "title syn", "title traf",
             "body syn", "body traf"]
    print("\nper language (date: same day; auth: authors exact set; title: normalised exact; body: token F1)")
    print(f"  {'lang':<8}{'pages':>6}" + "".join(f"{h:>11}" for h in heads))
    langs = sorted((k for k in summary if k.startswith("language:")), key=lambda k: -summary[k]["pages"])
    for key in langs:
        table = summary[key]
        cells = [table[s].get(f) for f, s in cols]
        print(f"  {key.split(':', 1)[1]:<8}{table['pages']:>6}"
              + "".join(f"{c['score']:>11.3f}" if c else f"{'—':>11}" for c in cells))


def print_report(summary: dict, times: dict) -> None:
    print(f"syndtrace measured from {os.path.dirname(os.path.dirname(os.path.abspath(crawler.__file__)))}")
    print(f"date gold in UTC with the local zone unknown (either neighbouring day counts): {summary['utc_gold']} pages")
    print_group("all sources", summary["all"])
    for key in sorted(k for k in summary if k.startswith("source:")):
        print_group(key.split(":", 1)[1], summary[key])
    print_languages(summary)
    print("\nms per page (mean) and ratio to trafilatura, same run: " + ", ".join(
        f"{SHORT[s]} {t['ms_per_page']:.0f} ({t['vs_trafilatura']:.2f}x)" for s, t in times.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path, help="the realpages layout root (bench/README.md)")
    ap.add_argument("--source", help="only this source (a folder under root)")
    ap.add_argument("--limit", type=int, help="only the first N pages (in id order)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    ap.add_argument("--json", type=Path, help="write the summary and every page's outputs and verdicts here")
    args = ap.parse_args()
    folders = page_folders(args.root, args.source, args.limit)
    if not folders:
        print(f"no page folders (*/*/gold.json) under {args.root}", file=sys.stderr)
        return 1
    if args.jobs > 1:
        with Pool(args.jobs) as pool:
            records = pool.map(score_page, folders, chunksize=4)
    else:
        records = [score_page(f) for f in folders]
    summary, times = summarise(records), timings(records)
    summary["utc_gold"] = sum(1 for r in records if r.get("published_zone") == "utc")
    print_report(summary, times)
    if args.json:
        for r in records:
            for out in r["outputs"].values():
                if "body" in out:
                    out["body"] = (out["body"] or "")[:300]
        args.json.write_text(json.dumps({"summary": summary, "timings": times, "pages": records},
                                        ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
