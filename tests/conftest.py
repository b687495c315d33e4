"""Shared fixtures: a fresh database file per test, and small article builders."""

from __future__ import annotations

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
