"""Shared fixtures: a fresh database file per test, a file at an older schema, a read-only look into a database
file, and a test HTTP server that keeps quiet when a client hangs up."""

from __future__ import annotations

import sqlite3
import sys
from http.server import ThreadingHTTPServer

import pytest
import sqlite_utils

from crawler.storage.schema import MIGRATIONS
from crawler.storage.store import Store


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "test.db")


@pytest.fixture
def store(db_path):
    s = Store(db_path)
    yield s
    s.close()


def file_at_schema(path: str, version: int) -> sqlite_utils.Database:
    """A database file as syndtrace of schema ``version`` left it (its migrations up to that one, run here)."""
    db = sqlite_utils.Database(path)
    for step in range(1, version + 1):
        MIGRATIONS[step](db)
    db["meta"].insert({"key": "schema_version", "value": str(version)})
    return db


def query(db_path: str, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    """Rows of a query on the database file itself, for checks the program has no command for."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class QuietHTTPServer(ThreadingHTTPServer):
    """A threaded test server on which a client hanging up is expected (crawl timeouts, resets): the default
    handler prints a traceback to ``sys.stderr``, which a later test's CliRunner may be capturing."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
