"""Datasette metadata for a database file, whatever it is called.

Datasette keys per-table metadata by the database's name, which it takes from the file name (``news.db``
is ``news``); a fixed metadata file only describes a database of one name. ``metadata_for`` writes the
descriptions (``crawler.storage.descriptions``) under the name of the file at hand.
"""

from __future__ import annotations

from pathlib import Path

from crawler.storage.descriptions import DESCRIPTION, TABLES, TITLE


def database_name(db_path: str) -> str:
    """The name Datasette gives a database file: its file name without the last suffix."""
    return Path(db_path).stem


def metadata_for(db_path: str) -> dict:
    return {"title": TITLE, "description": DESCRIPTION,
            "databases": {database_name(db_path): {"tables": TABLES}}}
