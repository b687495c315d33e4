"""Convert Mozilla Readability's test pages into the realpages layout (bench/README.md).

    python bench/convert_readability.py --repo /path/to/readability [--commit SHA] --out /work/data/realpages

Source: mozilla/readability (Apache-2.0), ``test/test-pages/<name>/``: ``source.html`` (a saved page),
``expected.html`` (the article as Firefox's Reader View shows it) and ``expected-metadata.json`` (what
Readability reads from the page's metadata). Every expected file is checked in by the maintainers with the
change that produces it.

Gold derived from them:
- ``published``: ``publishedTime``, which Readability takes from the page's own JSON-LD or meta tags (36 of
  the pages have one); a UTC instant is re-expressed in the offset the page itself writes for that instant
  where it writes one (``published_zone`` ``stated``), else stays ``utc`` (either neighbouring day counts);
  a time without a zone is a ``day``;
- ``body``: the text of ``expected.html``, block by block: the body a browser's reader mode shows;
- ``title`` and ``authors``: none. ``title`` and ``byline`` are what Readability's own heuristics pick
  (site suffixes kept or cut by its rules, raw bylines such as "by Lucas Nolan22 Dec 2016651"), not a
  person's reading of the page;
- ``language``: ``lang`` of the metadata, else ``und``; ``is_article``: unknown (the set holds Wikipedia,
  recipes, documentation and test pages beside news and blog posts);
- ``url``: the test harness's ``http://fakehost/test/page.html`` (so the URL tells no date).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realpages_layout import git_extract, in_page_zone, parse_iso, write_page

PINNED_COMMIT = "ab4027a8b37669745016869a37a504727992b2ba"
PAGES = "test/test-pages"
URL = "http://fakehost/test/page.html"
_BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "tr", "figcaption", "dd", "dt",
           "section", "article", "table", "ul", "ol", "br"}


def reader_text(html: str) -> str | None:
    """The text of a Reader View article, one block per line."""
    if not html.strip():
        return None
    root = lxml.html.fromstring(html)
    for el in root.iter(*_BLOCKS):
        el.tail = "\n" + (el.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line) or None


def gold_published(value: str | None, html: str) -> tuple[str | None, str | None]:
    when = parse_iso(value)
    if when is None:
        return None, None
    if when.tzinfo is None:
        return when.isoformat(), "day"
    return in_page_zone(when.isoformat(), html)


def convert(checkout: Path, out: Path) -> int:
    written = 0
    for folder in sorted((checkout / PAGES).iterdir()):
        source, meta_file = folder / "source.html", folder / "expected-metadata.json"
        if not source.exists() or not meta_file.exists():
            continue
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        raw = source.read_bytes()
        html = raw.decode("utf-8", "replace")
        expected = folder / "expected.html"
        published, zone = gold_published(meta.get("publishedTime"), html)
        write_page(out, "readability", folder.name, raw, {
            "url": URL,
            "language": (meta.get("lang") or "und").split("-")[0].lower(),
            "is_article": None,
            "title": None,
            "authors": None,
            "published": published,
            "published_zone": zone,
            "body": reader_text(expected.read_text(encoding="utf-8")) if expected.exists() else None,
            "notes": f"mozilla/readability {PINNED_COMMIT[:12]} {PAGES}/{folder.name}; publishedTime as read by "
                     f"Readability: {meta.get('publishedTime')}",
        })
        written += 1
    return written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, required=True, help="a clone or bare mirror of mozilla/readability")
    ap.add_argument("--commit", default=PINNED_COMMIT)
    ap.add_argument("--out", type=Path, required=True, help="layout root (outside the repository)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        git_extract(args.repo, args.commit, [PAGES], Path(tmp))
        n = convert(Path(tmp), args.out)
    print(f"{n} readability pages written under {args.out / 'readability'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
