"""The common local layout of real pages with gold metadata, written by the converters, read by realpages.py.

One folder per page, ``ROOT/<source>/<page id>/``, holding:

- ``page.html``: the page's bytes as the source stores them;
- ``gold.json``: ``id``, ``source``, ``url``, ``language``, ``is_article`` and the gold fields ``title``,
  ``authors`` (a list), ``published`` (ISO 8601, in the page's own zone where it can be told), ``body``
  (the whole text) or ``body_start`` (its first words), each null where the source gives no gold for it;
  ``notes`` says how the gold was derived.

Third-party pages: the layout lives outside the repository (never commit it).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
from datetime import datetime
from pathlib import Path

GOLD_FIELDS = ("title", "authors", "published", "body", "body_start")

_ISO_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})")


def parse_iso(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime (``Z`` and ``+0200`` offsets too); None if it is not one."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def in_page_zone(gold: str, html: str) -> tuple[str, str]:
    """The gold date re-expressed in the offset the page itself states for that instant, and how sure
    its calendar day is: ``stated`` (the gold carries a non-UTC offset, or the page writes that instant with
    one), ``utc`` (a UTC instant the page writes with no other offset: its local day is not known; pages
    often state UTC in metadata and show the local day), ``day`` (a date, or a time without a zone).

    Sources store some gold dates in UTC; the page's calendar day is the one in its own zone.
    """
    when = parse_iso(gold)
    if when is None or when.tzinfo is None:
        return gold, "day"
    if when.utcoffset().total_seconds() != 0:
        return gold, "stated"
    for match in _ISO_WITH_OFFSET.finditer(html):
        stated = parse_iso(match.group(0))
        if stated is not None and stated == when and stated.utcoffset().total_seconds() != 0:
            return stated.isoformat(), "stated"
    return gold, "utc"


def write_page(root: Path, source: str, page_id: str, html: bytes, gold: dict) -> Path:
    """Write one page folder; returns it."""
    folder = root / source / page_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "page.html").write_bytes(html)
    record = {"id": f"{source}/{page_id}", "source": source, **gold}
    for name in GOLD_FIELDS:
        record.setdefault(name, None)
    (folder / "gold.json").write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return folder


def git_extract(repo: Path, commit: str, paths: list[str], into: Path) -> None:
    """``git archive`` the given paths of a pinned commit into a folder (bare mirrors and clones alike)."""
    git_dir = repo / ".git" if (repo / ".git").exists() else repo
    blob = subprocess.run(["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit, *paths],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
