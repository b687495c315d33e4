"""`syndtrace rebuild --engine spark` refuses what cannot work in one line and an exit code, before any JVM
starts and before the database is touched: options that do not apply or are malformed (exit 1), and an
engine that cannot run (exit 5): pyspark missing, no Java runtime, a master nobody answers at."""

from __future__ import annotations

import socket
import sys

import pytest
from typer.testing import CliRunner

from cli.app import app
from crawler.storage.store import Store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "x.db"
    Store(str(path)).close()
    return str(path)


def rebuild(db: str, *args: str):
    return CliRunner().invoke(app, ["rebuild", "--db", db, *args])


@pytest.mark.parametrize("args,message", [
    (["--master", "spark://127.0.0.1:7077"], "--master only apply with --engine spark"),
    (["--engine", "spark", "--conf", "spark.executor.memory"], "--conf takes KEY=VALUE"),
    (["--engine", "spark", "--stage-dir", "/nonexistent/folder"], "is not a folder"),
    (["--engine", "spark", "--master", "spark:/hub"], "is not a Spark master URL"),
    (["--engine", "spark", "--master", "yarn", "--workers", "2"], "leave it out with --master"),
])
def test_bad_engine_options_are_one_line(db, args, message):
    result = rebuild(db, *args)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_pyspark_is_one_line(db, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)   # import pyspark now fails as if not installed
    result = rebuild(db, "--engine", "spark")
    assert result.exit_code == 5
    assert "needs pyspark: pip install 'syndtrace[spark]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_java_is_one_line(db, tmp_path, monkeypatch):
    pytest.importorskip("pyspark")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))   # no bin/java there
    result = rebuild(db, "--engine", "spark")
    assert result.exit_code == 5
    assert "needs a Java 17 runtime" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unreachable_master_is_one_line(db):
    pytest.importorskip("pyspark")
    with socket.socket() as s:   # a loopback port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = rebuild(db, "--engine", "spark", "--master", f"spark://127.0.0.1:{port}")
    assert result.exit_code == 5
    assert f"cannot reach the Spark master at spark://127.0.0.1:{port}" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_spark_that_will_not_start_is_one_line(db):
    """The driver JVM refuses a setting: its own error, one line (its output is kept off the terminal)."""
    pytest.importorskip("pyspark")
    result = rebuild(db, "--engine", "spark", "--workers", "1", "--conf", "spark.driver.memory=lots")
    assert result.exit_code == 5
    assert "could not start Spark on local[1]: Invalid maximum heap size: -Xmxlots" in result.output
    assert len(result.output.strip().splitlines()) == 1
