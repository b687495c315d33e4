"""Grouping on real wire copies: a labelled CSV set of scraped news texts, as pages, through syndtrace.

    python bench/realgroup.py --csv /work/data/articlecomparisons/spotify_articles.csv \
        --labels bench/labels/spotify.tsv [--syndweb ../shared/syndweb] [--workdir DIR] [--json OUT]

The CSV is a Media Cloud scrape (columns id, publisher, scrape_time, text; the text's paragraphs are
separated by " ### "); see bench/README.md for where to get the sets at a pinned commit. The labels are a
TSV with one row per document id and its story (bench/labels/).

1. Each text becomes one plain article page on a host per outlet, in one WARC: the text's first line as the
   headline when it is at most 25 words long, then every other line as a paragraph, as scraped (bylines,
   datelines, captions and widgets included: the sets have no separate byline or date field), marked
   og:type article. The scrape time is the capture time (WARC-Date, HTTP Date), not a publication date. The
   WARC is deterministic: URLs, record ids and dates come from the CSV.
2. ``syndtrace ingest`` reads it into a fresh database and ``syndtrace export --format json`` writes the
   result; the ``syndtrace`` on PATH is what is measured (``source <(/work/tools/tree-env TREE)``).
3. syndweb's score.py scores the result against a truth.json written from the labels: coverage, pairwise and
   B-cubed precision/recall/F1. Only these are meaningful here (the labels say nothing of origins,
   parents or credits).
4. In the same run, on the same texts (the CSV's, all of it): the plain datasketch recipe (one MinHash per
   text updated per word 5-shingle, MinHashLSH at threshold 0.5, union-find over the pairs it returns) and
   exact word 5-gram containment >= 0.5 of the smaller text with single linkage, scored by the same score.py.

Not a test: it needs the data and ../shared. Nothing of the texts is kept unless --workdir is given.
"""

from __future__ import annotations

import argparse
import csv
import html
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from itertools import combinations

from datasketch import MinHash, MinHashLSH
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SHINGLE = 5
HEADLINE_MAX_WORDS = 25
BASELINE_NUM_PERM = 128
BASELINE_LSH_THRESHOLD = 0.5
BASELINE_MIN_CONTAINMENT = 0.5


class BenchInputError(Exception):
    """A missing or malformed input file: reported in one line."""


@dataclass(frozen=True)
class Doc:
    """One scraped text of the set."""

    id: str
    publisher: str
    scraped: datetime
    paragraphs: tuple[str, ...]

    @property
    def host(self) -> str:
        """One reserved-TLD host per outlet ('yahoo.com/news' -> 'yahoo-com-news.test')."""
        return re.sub(r"[^a-z0-9]+", "-", self.publisher.lower()).strip("-") + ".test"

    @property
    def headline(self) -> str | None:
        """The scraped text's first line when it is short enough to be a headline."""
        first = self.paragraphs[0] if self.paragraphs else ""
        return first if 0 < len(first.split()) <= HEADLINE_MAX_WORDS else None

    @property
    def body(self) -> tuple[str, ...]:
        return self.paragraphs[1:] if self.headline else self.paragraphs

    @property
    def url(self) -> str:
        slug = "-".join(re.findall(r"[a-z0-9]+", (self.headline or "story").lower())[:8]) or "story"
        return f"http://{self.host}/{self.scraped:%Y/%m/%d}/{slug}-{self.id}"

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def read_set(path: str) -> list[Doc]:
    """The CSV's documents, in file order."""
    csv.field_size_limit(1 << 30)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise BenchInputError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BenchInputError(f"{path} is not a UTF-8 CSV file: {exc}") from None
    missing = {"id", "publisher", "scrape_time", "text"} - set(rows[0] if rows else ())
    if missing:
        raise BenchInputError(f"{path}: no rows, or missing columns {', '.join(sorted(missing))}")
    docs = []
    for row in rows:
        try:
            scraped = datetime.fromisoformat(row["scrape_time"]).astimezone(UTC)
        except ValueError:
            raise BenchInputError(f"{path}: id {row['id']}: bad scrape_time {row['scrape_time']!r}") from None
        paragraphs = tuple(p.strip() for p in row["text"].split("###") if p.strip())
        docs.append(Doc(row["id"].strip(), row["publisher"].strip(), scraped, paragraphs))
    if len({d.id for d in docs}) != len(docs):
        raise BenchInputError(f"{path}: document ids are not unique")
    return docs


def read_labels(path: str, docs: list[Doc]) -> dict[str, str]:
    """id -> story from a labels TSV ('#' lines are comments); every document must have exactly one label."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = [line for line in fh if line.strip() and not line.startswith("#")]
    except OSError as exc:
        raise BenchInputError(f"cannot read {path}: {exc.strerror}") from None
    rows = list(csv.DictReader(lines, delimiter="\t"))
    if not rows or not {"id", "story"} <= set(rows[0]):
        raise BenchInputError(f"{path}: expected a TSV with columns id and story")
    labels = {row["id"].strip(): row["story"].strip() for row in rows}
    ids = {d.id for d in docs}
    if len(labels) != len(rows) or set(labels) != ids:
        unlabelled, unknown = sorted(ids - set(labels)), sorted(set(labels) - ids)
        raise BenchInputError(f"{path}: labels do not match the CSV (unlabelled: {unlabelled[:5]}, "
                              f"unknown: {unknown[:5]}, or an id labelled twice)")
    return labels


def page_html(doc: Doc) -> bytes:
    """A plain article page: headline, then the body paragraphs; no furniture beyond what the scrape kept."""
    headline = html.escape(doc.headline or "")
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in doc.body)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{headline}</title>\n'
            f'<meta property="og:type" content="article"></head>\n'
            f"<body><article>{f'<h1>{headline}</h1>' if headline else ''}\n{paragraphs}\n</article></body></html>\n"
            ).encode()


def write_warc(docs: list[Doc], path: str) -> None:
    """Every document as an HTTP 200 response record, dated by its scrape time; same input, same bytes."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        for doc in docs:
            body = page_html(doc)
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body))),
                                               ("Date", format_datetime(doc.scraped, usegmt=True))],
                                    protocol="HTTP/1.1")
            warc_headers = {"WARC-Date": doc.scraped.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, doc.url)}>"}
            writer.write_record(writer.create_warc_record(doc.url, "response", payload=io.BytesIO(body),
                                                          http_headers=http, warc_headers_dict=warc_headers))


def truth_json(docs: list[Doc], labels: dict[str, str]) -> dict:
    """The labels in syndweb's truth format: every page an article of its story; no lineage or credit truth."""
    no_credit = {"credits_origin": False, "credits_parent": False, "credits_other": False,
                 "links_to_origin": False, "author_kept": False, "license": None}
    pages = {doc.url: {"url": doc.url, "story": labels[doc.id], "page_type": "article", "site": doc.host,
                       "kind": "labelled", "is_origin": False, "parent_url": None, "published": None,
                       "author": None, "title": doc.headline, "attribution": dict(no_credit)} for doc in docs}
    return {"pages": pages, "aliases": {}, "generator": {"from": "bench/realgroup.py"}}


def result_json(docs: list[Doc], story_of: dict[str, str]) -> dict:
    """A baseline's grouping in the result format score.py reads (lineage fields left empty)."""
    attribution = {"credits_origin": False, "links_to_origin": False, "author_kept": False, "license": None,
                   "verdict": "uncredited"}
    return {"articles": [{"url": doc.url, "story": story_of[doc.id], "is_origin": False, "parent": None,
                          "published": None, "author": None, "attribution": dict(attribution)} for doc in docs]}


_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def shingles(text: str) -> set[str]:
    """Word 5-shingles after Unicode, quote and case folding."""
    folded = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'").casefold()
    words = _WORD.findall(folded)
    return {" ".join(words[i:i + SHINGLE]) for i in range(max(0, len(words) - SHINGLE + 1))}


def union_find_stories(ids: list[str], pairs) -> dict[str, str]:
    """id -> story id (the smallest member id) of the connected components of the pairs."""
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {i: "b-" + find(i) for i in ids}


def datasketch_baseline(docs: list[Doc]) -> dict[str, str]:
    """The plain datasketch recipe: MinHash per text (one update per shingle), MinHashLSH, union-find."""
    lsh = MinHashLSH(threshold=BASELINE_LSH_THRESHOLD, num_perm=BASELINE_NUM_PERM)
    signatures = {}
    for doc in docs:
        m = MinHash(num_perm=BASELINE_NUM_PERM, seed=1)
        for shingle in shingles(doc.text):
            m.update(shingle.encode("utf-8"))
        signatures[doc.id] = m
        lsh.insert(doc.id, m)
    pairs = [(doc.id, other) for doc in docs for other in lsh.query(signatures[doc.id]) if other != doc.id]
    return union_find_stories([d.id for d in docs], pairs)


def containment_baseline(docs: list[Doc]) -> dict[str, str]:
    """Exact shingle containment of the smaller text >= 0.5, every pair checked, single linkage."""
    sets = {doc.id: shingles(doc.text) for doc in docs}
    pairs = [(a, b) for a, b in combinations(sets, 2)
             if sets[a] and sets[b]
             and len(sets[a] & sets[b]) >= BASELINE_MIN_CONTAINMENT * min(len(sets[a]), len(sets[b]))]
    return union_find_stories([d.id for d in docs], pairs)


def run_syndtrace(warc: str, db: str, result: str) -> None:
    """``syndtrace ingest`` into a fresh database, then ``syndtrace export --format json``."""
    for cmd in (["syndtrace", "ingest", warc, "--db", db, "--quiet"],
                ["syndtrace", "export", "--format", "json", "-o", result, "--db", db]):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BenchInputError(f"{' '.join(cmd[:2])} failed (exit {done.returncode}): "
                                  f"{(done.stderr.strip().splitlines() or [''])[-1]}")


def score(score_py: str, truth: str, result: str) -> dict:
    """score.py's coverage and grouping figures for one result."""
    done = subprocess.run([sys.executable, score_py, "--truth", truth, "--result", result, "--json"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchInputError(f"score.py failed on {result}: {done.stderr.strip()}")
    report = json.loads(done.stdout)
    return {"coverage": report["coverage"], **report["grouping"]}


def write_json(path: str, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)


def evaluate(docs: list[Doc], labels: dict[str, str], score_py: str, work: str) -> dict[str, dict]:
    """Write the WARC and truth, run syndtrace and both baselines, and score all three."""
    warc, truth = os.path.join(work, "set.warc"), os.path.join(work, "truth.json")
    write_warc(docs, warc)
    write_json(truth, truth_json(docs, labels))
    results = {"syndtrace": os.path.join(work, "result-syndtrace.json")}
    run_syndtrace(warc, os.path.join(work, "syndtrace.db"), results["syndtrace"])
    for name, grouping in (("datasketch", datasketch_baseline), ("containment", containment_baseline)):
        results[name] = os.path.join(work, f"result-{name}.json")
        write_json(results[name], result_json(docs, grouping(docs)))
    scores = {name: score(score_py, truth, path) for name, path in results.items()}
    scores["syndtrace"]["unreported"] = unreported(docs, results["syndtrace"])
    return scores


def unreported(docs: list[Doc], result: str) -> list[str]:
    """Ids of the texts the export does not report as articles (score.py counts them as singletons)."""
    with open(result, encoding="utf-8") as fh:
        reported = {a["url"] for a in json.load(fh)["articles"] if a.get("story") is not None}
    return [doc.id for doc in docs if doc.url not in reported]


ROWS = {"syndtrace": "syndtrace (ingest + export)",
        "datasketch": "plain datasketch (LSH 0.5, union-find)",
        "containment": "5-gram containment >= 0.5, single link"}


def code_tree() -> str:
    """The folder the ``cli`` package resolves from (PYTHONPATH first, as in the ``syndtrace`` command)."""
    spec = importlib.util.find_spec("cli")
    return os.path.dirname(os.path.dirname(spec.origin)) if spec and spec.origin else "?"


def report(csv_path: str, docs: list[Doc], labels: dict[str, str], scores: dict[str, dict]) -> str:
    """The figures as a table, with the better baseline's F1 subtracted from syndtrace's."""
    sizes = Counter(labels.values())
    header = (f"{os.path.basename(csv_path)}: {len(docs)} texts from {len({d.host for d in docs})} outlets; "
              f"labels: {len(sizes)} stories, {sum(n > 1 for n in sizes.values())} with copies, "
              f"{sum(n * (n - 1) // 2 for n in sizes.values())} same-story pairs")
    lines = [header, f"syndtrace: {shutil.which('syndtrace')} running the code in {code_tree()}", "",
             f"{'':42}{'pairwise P / R / F1':>24}{'B-cubed P / R / F1':>24}{'coverage':>10}"]
    for name, s in scores.items():
        pw, b3 = s["pairwise"], s["bcubed"]
        lines.append(f"{ROWS[name]:42}{pw['precision']:>8.3f}{pw['recall']:>8.3f}{pw['f1']:>8.3f}"
                     f"{b3['precision']:>8.3f}{b3['recall']:>8.3f}{b3['f1']:>8.3f}{s['coverage']:>10.3f}")
    missing = scores["syndtrace"]["unreported"]
    lines.append(f"not in syndtrace's export as articles: {len(missing)} text(s)"
                 + (": " + " ".join(missing) if missing else ""))
    ours = scores["syndtrace"]
    best_pw = max(scores[n]["pairwise"]["f1"] for n in ("datasketch", "containment"))
    best_b3 = max(scores[n]["bcubed"]["f1"] for n in ("datasketch", "containment"))
    lines.append(f"\nsyndtrace minus the better baseline: pairwise F1 {ours['pairwise']['f1'] - best_pw:+.3f}, "
                 f"B-cubed F1 {ours['bcubed']['f1'] - best_b3:+.3f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True, help="the set: columns id, publisher, scrape_time, text")
    ap.add_argument("--labels", required=True, help="TSV with columns id and story, one row per document")
    ap.add_argument("--syndweb", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                      "shared", "syndweb"), help="folder holding score.py")
    ap.add_argument("--workdir", help="keep the WARC, truth, database and results here (default: a temporary folder)")
    ap.add_argument("--json", dest="json_out", help="also write the figures to this file")
    args = ap.parse_args(argv)
    try:
        score_py = os.path.join(args.syndweb, "score.py")
        if not os.path.isfile(score_py):
            raise BenchInputError(f"no score.py in {args.syndweb} (give --syndweb)")
        if not shutil.which("syndtrace"):
            raise BenchInputError("syndtrace is not on PATH (source <(/work/tools/tree-env TREE))")
        docs = read_set(args.csv)
        labels = read_labels(args.labels, docs)
        if args.workdir:
            os.makedirs(args.workdir, exist_ok=True)
            if os.path.exists(os.path.join(args.workdir, "syndtrace.db")):
                raise BenchInputError(f"{args.workdir} already holds a syndtrace.db: give an empty folder")
            scores = evaluate(docs, labels, score_py, args.workdir)
        else:
            with tempfile.TemporaryDirectory(prefix="realgroup-") as work:
                scores = evaluate(docs, labels, score_py, work)
    except BenchInputError as exc:
        print(f"realgroup: {exc}", file=sys.stderr)
        return 2
    print(report(args.csv, docs, labels, scores))
    if args.json_out:
        write_json(args.json_out, {"csv": os.path.basename(args.csv), "texts": len(docs), "scores": scores})
    return 0


if __name__ == "__main__":
    sys.exit(main())
