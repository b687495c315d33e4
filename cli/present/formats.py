"""The output contract every report keeps: a table for a terminal, ``--json``, ``--csv`` or ``--nl``
(one JSON object a line) for programs, as sqlite-utils does.

JSON keeps values as they are (lists stay lists, true stays true). CSV has one plain value per cell:
lists joined with ``"; "``, booleans as ``true``/``false``, nothing as an empty cell, and every string
guarded against formulas (``cli.present.escape.for_csv``).
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from typing import TextIO

from cli.present.escape import for_csv
from crawler.errors import UserInputError

LIST_SEPARATOR = "; "


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    NL = "nl"


def choose(as_json: bool = False, as_csv: bool = False, as_nl: bool = False, named: str | None = None) -> Format:
    """The one format asked for by flags (or a ``--format`` name); a table when none is."""
    picked = [f for f, on in ((Format.JSON, as_json), (Format.CSV, as_csv), (Format.NL, as_nl)) if on]
    if named is not None:
        try:
            picked.append(Format(named))
        except ValueError:
            raise UserInputError(f"unknown format {named!r}: use {', '.join(f.value for f in Format)}") from None
    if len(set(picked)) > 1:
        raise UserInputError("choose one of --json, --csv and --nl")
    return picked[0] if picked else Format.TABLE


def to_json(document) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def csv_value(value):
    """One plain CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return for_csv(LIST_SEPARATOR.join(str(csv_value(v)) for v in value))
    if isinstance(value, dict):
        return for_csv(json.dumps(value, ensure_ascii=False, default=str))
    return for_csv(value)


def write_csv(stream: TextIO, rows: list[dict], fields: list[str] | None = None) -> None:
    """Rows as CSV with a header (the keys of the first row, or ``fields``); a header only when empty."""
    fields = fields or (list(rows[0]) if rows else [])
    if not fields:
        return
    writer = csv.DictWriter(stream, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_value(row.get(k)) for k in fields})


def write_rows(stream: TextIO, fmt: Format, rows: list[dict], document=None, fields: list[str] | None = None) -> None:
    """Rows in a machine format: ``document`` (default: the rows) as JSON, the rows as JSON lines or CSV."""
    if fmt is Format.JSON:
        stream.write(to_json(rows if document is None else document))
    elif fmt is Format.NL:
        stream.writelines(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
    elif fmt is Format.CSV:
        write_csv(stream, rows, fields)
