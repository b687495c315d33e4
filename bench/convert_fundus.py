"""Convert the fundus parser fixtures into the realpages layout (see bench/README.md, "Real pages").

    python bench/convert_fundus.py --repo /path/to/fundus [--commit SHA] --out /work/data/realpages

Source: flairNLP/fundus (MIT), ``tests/resources/parser/test_data/<country>/``: one gzipped page per
publisher and parser version (``<Publisher>_<YYYY_MM_DD>.html.gz``, its URL and crawl date in
``meta.info``) and ``<Publisher>.json`` with the reviewed extraction for each parser version (``V1``,
``V1_1``, ``V2`` …). Parser versions are chronological (each is valid until a later date), so the
publisher's pages in crawl-date order pair with its versions in version order; every publisher has
as many pages as versions.

Dates: fundus gives some in UTC; a UTC instant is re-expressed in the offset the page writes for it, else
in the country's zone where the country has one (``published_zone`` ``country``), else left in UTC.

Language: the publisher's declared languages in ``src/fundus/publishers/<country>/__init__.py`` (its
sources' ``languages=``, else the group's ``default_language``), read with ``ast``, never run. A
publisher declaring several takes the page's ``<html lang>`` when it is one of them.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import re
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realpages_layout import git_extract, in_page_zone, parse_iso, write_page

PINNED_COMMIT = "18da6e53592f99cf0ac5770dc63d6ba99ba63ae8"
# the civil time zone of each fixture folder's country, where the country keeps one (us, ca, au and mx have
# several: their UTC gold instants stay UTC); used only to give a UTC gold instant its local calendar day
COUNTRY_ZONES = {
    "at": "Europe/Vienna", "be": "Europe/Brussels", "ch": "Europe/Zurich", "cn": "Asia/Shanghai",
    "cz": "Europe/Prague", "de": "Europe/Berlin", "dk": "Europe/Copenhagen", "es": "Europe/Madrid",
    "fr": "Europe/Paris", "gl": "America/Nuuk", "id": "Asia/Jakarta", "il": "Asia/Jerusalem",
    "ind": "Asia/Kolkata", "isl": "Atlantic/Reykjavik", "it": "Europe/Rome", "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul", "lb": "Asia/Beirut", "li": "Europe/Vaduz", "ls": "Africa/Maseru", "lt": "Europe/Vilnius",
    "lu": "Europe/Luxembourg", "my": "Asia/Kuala_Lumpur", "na": "Africa/Windhoek", "no": "Europe/Oslo",
    "pl": "Europe/Warsaw", "pt": "Europe/Lisbon", "py": "America/Asuncion", "ru": "Europe/Moscow",
    "se": "Europe/Stockholm", "tr": "Europe/Istanbul", "tw": "Asia/Taipei", "tz": "Africa/Dar_es_Salaam",
    "ua": "Europe/Kyiv", "uk": "Europe/London", "vn": "Asia/Ho_Chi_Minh", "za": "Africa/Johannesburg",
}
TEST_DATA = "tests/resources/parser/test_data"
PUBLISHERS = "src/fundus/publishers"


def _strings(node) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def declared_languages(init_py: Path) -> dict[str, set[str]]:
    """Publisher attribute name → declared languages, from one country's ``__init__.py``; the group's
    default language under ``""`` (for fixtures of a publisher no longer registered)."""
    out: dict[str, set[str]] = {}
    for cls in (n for n in ast.walk(ast.parse(init_py.read_text(encoding="utf-8"))) if isinstance(n, ast.ClassDef)):
        default: set[str] = set()
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and any(getattr(t, "id", "") == "default_language" for t in stmt.targets):
                default = _strings(stmt.value)
                out.setdefault("", default)
        for stmt in cls.body:
            if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
                    and getattr(stmt.value.func, "id", "") == "Publisher"):
                continue
            langs = set().union(*[_strings(kw.value) for call in ast.walk(stmt.value) if isinstance(call, ast.Call)
                                  for kw in call.keywords if kw.arg == "languages"] or [set()])
            for target in stmt.targets:
                out[target.id] = langs or default
    return out


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", name))


def gold_body(body: dict | None) -> str | None:
    """Summary, subheadings and paragraphs, in order, one block per line pair."""
    if not body:
        return None
    blocks = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        blocks += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    blocks = [" ".join(b.split()) for b in blocks if b and b.strip()]
    return "\n\n".join(blocks) or None


def page_language(declared: set[str], html: str) -> str:
    if len(declared) == 1:
        return next(iter(declared))
    m = re.search(r"<html[^>]*\blang=[\"']?([A-Za-z]{2,3})", html, re.I)
    lang = m.group(1).lower() if m else None
    return lang if lang in declared else (min(declared) if declared else "und")


def local_published(value: str | None, country: str, html: str) -> tuple[str | None, str | None]:
    """The gold date in the page's own offset, else in its country's zone (see COUNTRY_ZONES)."""
    if not value:
        return None, None
    published, zone = in_page_zone(value.replace(" ", "T"), html)
    if zone == "utc" and country in COUNTRY_ZONES:
        return parse_iso(published).astimezone(ZoneInfo(COUNTRY_ZONES[country])).isoformat(), "country"
    return published, zone


def convert(checkout: Path, out: Path) -> int:
    written = 0
    root = checkout / TEST_DATA
    for country in sorted(p for p in root.iterdir() if p.is_dir()):
        meta = json.loads((country / "meta.info").read_text(encoding="utf-8"))
        init_py = checkout / PUBLISHERS / country.name / "__init__.py"
        languages = declared_languages(init_py) if init_py.exists() else {}
        for case in sorted(country.glob("*.json")):
            publisher = case.stem
            versions = json.loads(case.read_text(encoding="utf-8"))
            pages = sorted((p for p in country.glob(f"{publisher}_*.html.gz")),
                           key=lambda p: meta[p.name]["crawl_date"])
            if len(pages) != len(versions):
                raise SystemExit(f"{case}: {len(pages)} pages for {len(versions)} parser versions")
            for page, version in zip(pages, sorted(versions, key=_version_key)):
                gold = versions[version]
                raw = gzip.decompress(page.read_bytes())
                html = raw.decode("utf-8", "replace")
                published, zone = local_published(gold.get("publishing_date"), country.name, html)
                write_page(out, "fundus", f"{country.name}-{publisher}-{version}", raw, {
                    "url": meta[page.name]["url"],
                    "language": page_language(languages.get(publisher, languages.get("", set())), html),
                    "country": country.name,
                    "is_article": True,
                    "title": gold.get("title"),
                    "authors": gold.get("authors"),
                    "published": published,
                    "published_zone": zone,
                    "body": gold_body(gold.get("body")),
                    "notes": f"fundus {PINNED_COMMIT[:12]} {case.relative_to(checkout)} {version}; {page.name}",
                })
                written += 1
    return written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, required=True, help="a clone or bare mirror of flairNLP/fundus")
    ap.add_argument("--commit", default=PINNED_COMMIT)
    ap.add_argument("--out", type=Path, required=True, help="layout root (outside the repository)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        git_extract(args.repo, args.commit, [TEST_DATA, PUBLISHERS], Path(tmp))
        n = convert(Path(tmp), args.out)
    print(f"{n} fundus pages written under {args.out / 'fundus'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
