"""Shared fixtures: a fresh database file per test, and a read-only look into a database file."""

from __future__ import annotations

import sqlite3

import pytest

from crawler.storage.store import Store


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "test.db")


@pytest.fixture
def store(db_path):
    s = Store(db_path)
    yield s
    s.close()


def query(db_path: str, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    """Rows of a query on the database file itself, for checks the program has no command for."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
