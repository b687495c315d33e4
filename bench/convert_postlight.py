"""Convert the Postlight Parser custom-extractor fixtures into the realpages layout (bench/README.md).

    python bench/convert_postlight.py --repo /path/to/postlight-parser [--commit SHA] --out /work/data/realpages

Source: postlight/parser (MIT or Apache-2.0), ``fixtures/*.html`` (saved pages) and
``src/extractors/custom/<host>/index.test.js``, where a person wrote, for each fixture, the title, author,
publication date and the first words of the body they checked on the page. Those tests are read, not run:
a small JavaScript tokenizer finds ``fs.readFileSync('./fixtures/X.html')``, the ``url``/``uri`` string
assigned in the same test block (or before it), and each ``assert.equal(<field>, <literal>)`` that follows.

Gold derived from them (``notes`` in each gold.json says which fields were asserted):
- ``title``: as asserted;
- ``authors``: the asserted author string split at commas, " and " and " & " (``null`` asserted: nobody);
  no gold where the asserted string carries page furniture (a URL, an e-mail address, a line break, a "|",
  "·" or "：" separator, or a leading "Label: "), since the tests assert what the site's byline element
  holds, not a cleaned name;
- ``published``: the asserted instant (UTC), re-expressed in the extractor's declared ``timezone`` when it
  has one, else in the offset the page itself writes for that instant; a date-only assertion stays a day;
- ``body_start``: the asserted first words of the body (``first13`` and the like);
- ``language``: the page's ``<html lang>`` (the source has no language gold); ``is_article``: unknown
  (null), since the set holds videos, threads and product pages beside articles;
- ``page.html``: the fixture with Postlight's own meta-tag normalisation undone (``restore_meta``): the
  fixtures were saved after it rewrote every ``<meta content=…>`` as ``value=…`` and ``property=`` as
  ``name=``, which no other reader understands;
- ``url``: the test's URL (tests sometimes reuse another page's URL, so this is the URL the page was
  tested under, as a crawler would have fetched it).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realpages_layout import git_extract, in_page_zone, parse_iso, write_page

PINNED_COMMIT = "e8ba7ece291efa4d915d50dd4deeec17d54359f2"
TESTS = "src/extractors/custom"

_TOKEN = re.compile(r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`(?:\\.|[^`\\])*`)
  | (?P<name>[A-Za-z_$][\w$]*)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<space>\s+)
  | (?P<punct>.)
""", re.S | re.X)
_BLOCKS = {"it", "test", "beforeAll", "beforeEach", "describe"}
_FIELDS = {"title": "title", "author": "authors", "date_published": "published",
           "new_date_published": "published", "newDatePublished": "published"}


_JS_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)
_JS_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "\n": ""}


def unescape_js(body: str) -> str:
    """A JavaScript string literal's value (escapes \\n, \\xHH, \\uHHHH, \\u{…}, line continuations)."""
    def one(m):
        esc = m.group(1)
        if esc[0] in "ux" and len(esc) > 1:
            return chr(int(esc.strip("ux{}"), 16))
        return _JS_SIMPLE.get(esc, esc)
    return _JS_ESCAPE.sub(one, body)


def tokens(js: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(js):
        kind = m.lastgroup
        if kind in ("comment", "space"):
            continue
        value = m.group(kind)
        if kind == "string":
            value = unescape_js(value[1:-1])
        out.append((kind, value))
    return out


def _literal(toks, i):
    """A string (concatenations too) or null at toks[i]; returns (value, next index) or (missing, i)."""
    if toks[i] == ("name", "null"):
        return None, i + 1
    parts = []
    while toks[i][0] == "string":
        parts.append(toks[i][1])
        if toks[i + 1] == ("punct", "+") and toks[i + 2][0] == "string":
            i += 2
            continue
        return "".join(parts), i + 1
    return ..., i


def fixtures_of(js: str) -> list[dict]:
    """Each fixture a test file reads, with its URL and asserted fields."""
    toks = tokens(js) + [("end", "")] * 4
    found: list[dict] = []
    block, pending_url = 0, None
    for i, (kind, value) in enumerate(toks):
        if kind == "name" and value in _BLOCKS and toks[i + 1] == ("punct", "("):
            block += 1
        elif kind == "name" and value == "readFileSync" and toks[i + 2][0] == "string":
            found.append({"fixture": toks[i + 2][1], "url": pending_url, "block": block, "asserted": {}})
            pending_url = None
        elif kind == "name" and value in ("url", "uri") and toks[i + 1][1] in ("=", ":") and toks[i + 2][0] == "string":
            if toks[i + 2][1].startswith("http"):
                if found and found[-1]["block"] == block and found[-1]["url"] is None:
                    found[-1]["url"] = toks[i + 2][1]
                else:
                    pending_url = toks[i + 2][1]
        elif found and (kind, value) == ("name", "assert") and toks[i + 2][1] in ("equal", "strictEqual"):
            field = toks[i + 4][1] if toks[i + 3] == ("punct", "(") else ""
            j = i + 5
            depth = 0
            while toks[j][0] != "end" and not (depth == 0 and toks[j] == ("punct", ",")):
                depth += {"(": 1, ")": -1}.get(toks[j][1], 0) if toks[j][0] == "punct" else 0
                j += 1
            value, _ = _literal(toks, j + 1)
            if value is not ...:
                key = _FIELDS.get(field) or ("body_start" if re.fullmatch(r"first\d+", field) else None)
                if key:
                    found[-1]["asserted"][key] = value
    return found


_NOT_A_BYLINE = re.compile(r"https?:|www\.|@\w+\.|\n|\||·|：|^\W*\w+:\s")


def split_authors(byline: str | None) -> list[str] | None:
    """Names from an asserted byline; None (no gold) where the assertion kept page furniture in it."""
    if not byline:
        return []
    if _NOT_A_BYLINE.search(byline):
        return None
    parts = re.split(r"\s*,\s*|\s+and\s+|\s+&\s+", byline.strip())
    return [p for p in (" ".join(x.split()) for x in parts) if p]


def local_published(asserted: str | None, zone: str | None, html: str) -> tuple[str | None, str | None]:
    """The asserted date in the page's zone, and how sure its day is (see realpages_layout.in_page_zone)."""
    if not asserted:
        return None, None
    when = parse_iso(asserted)
    if when is None or when.tzinfo is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", asserted):
        return asserted, "day"
    if zone:
        return when.astimezone(ZoneInfo(zone)).isoformat(), "stated"
    return in_page_zone(when.isoformat(), html)


_META_TAG = re.compile(rb"<meta\b[^>]*>", re.I)
_OG_NAME = re.compile(rb"""\bname=(["']?)(og|article|fb|book|profile|video|music):""", re.I)


def restore_meta(raw: bytes) -> bytes:
    """Undo the meta normalisation Postlight ran before saving its fixtures (content → value, property →
    name: src/resource/utils/dom/normalize-meta-tags.js): ``value=`` becomes ``content=`` again, and
    OpenGraph-namespace names (og:, article:, fb:, book:, profile:, video:, music:) ``property=``."""
    def one(m):
        tag = m.group(0)
        if not re.search(rb"\bcontent=", tag, re.I):
            tag = re.sub(rb"\bvalue=", b"content=", tag, count=1, flags=re.I)
        return _OG_NAME.sub(rb"property=\1\2:", tag)
    return _META_TAG.sub(one, raw)


def page_language(html: str) -> str:
    m = re.search(r"<html[^>]*\blang=[\"']?([A-Za-z]{2,3})", html, re.I)
    return m.group(1).lower() if m else "und"


def convert(checkout: Path, out: Path) -> int:
    written = 0
    for test in sorted((checkout / TESTS).glob("*/index.test.js")):
        index_js = (test.parent / "index.js").read_text(encoding="utf-8") if (test.parent / "index.js").exists() else ""
        zone = re.search(r"timezone:\s*['\"]([\w/+-]+)['\"]", index_js)
        seen = set()
        for case in fixtures_of(test.read_text(encoding="utf-8")):
            path = checkout / case["fixture"].lstrip("./").lstrip("/")
            gold = case["asserted"]
            if not path.exists() or case["fixture"] in seen or not case["url"] or not gold:
                continue
            seen.add(case["fixture"])
            raw = restore_meta(path.read_bytes())
            html = raw.decode("utf-8", "replace")
            published, published_zone = local_published(gold.get("published"), zone.group(1) if zone else None, html)
            page_id = Path(case["fixture"]).name.removesuffix(".html")
            write_page(out, "postlight", page_id, raw, {
                "url": case["url"],
                "language": page_language(html),
                "is_article": None,
                "title": gold.get("title"),
                "authors": split_authors(gold["authors"]) if "authors" in gold else None,
                "published": published,
                "published_zone": published_zone,
                "body_start": gold.get("body_start"),
                "notes": f"postlight/parser {PINNED_COMMIT[:12]} {test.relative_to(checkout)}; asserted: "
                         f"{', '.join(sorted(gold))}; published as asserted: {gold.get('published')}",
            })
            written += 1
    return written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, required=True, help="a clone or bare mirror of postlight/parser")
    ap.add_argument("--commit", default=PINNED_COMMIT)
    ap.add_argument("--out", type=Path, required=True, help="layout root (outside the repository)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        git_extract(args.repo, args.commit, ["fixtures", TESTS], Path(tmp))
        n = convert(Path(tmp), args.out)
    print(f"{n} postlight pages written under {args.out / 'postlight'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
