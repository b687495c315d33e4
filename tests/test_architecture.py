"""The layers run one way (ARCHITECTURE.md), checked by well-kept tools and a few AST rules.

import-linter holds the contracts (pyproject.toml, [tool.importlinter]); ruff finds unused imports and
names. The rules below are the ones neither tool states: no first-party import inside a function, no
use of a Store's SQLite handle outside the storage layer, and short functions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "dedupe", "cli")
FIRST_PARTY = (*PACKAGES, "bench", "tests")
# third-party modules a function may import where it uses them, and why (first-party: never)
LAZY_ALLOWED = {
    "rensa": "an optional dependency (the bench extra)",
    "datasketch": "its package import loads scipy (0.5 s); only grouping needs it, so commands start quickly",
    "scipy": "components of relations held as arrays (dedupe.spill); only grouping needs it, so commands start quickly",
    "trafilatura": "its import costs 0.2 s; only extraction needs it, so commands start quickly",
    "pyspark": "the grouping engine, an optional dependency (the spark extra, with a Java runtime); only "
               "'rebuild --engine spark' needs it, and its import costs 0.5 s",
    "htmldate": "only extraction needs it (publication dates), so commands start quickly",
    "dateparser": "its import and language data are heavy; only extraction needs it, so commands start quickly",
    "numba": "its import (0.3 s) and first kernel load (0.4 s) only signing and alignment need "
             "(dedupe.jit), so commands start quickly",
}
# what a command that neither crawls, extracts nor groups must not load (the CLI imports everything else)
HEAVY_FOR_STARTUP = ("scrapy", "twisted", "scrapy_redis", "datasketch", "scipy", "trafilatura", "htmldate",
                     "dateparser", "pyspark", "dask", "ray", "numba")
MAX_FUNCTION_LINES = 80


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py") if "demo_web" not in p.parts)


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_import_contracts_hold():
    result = run(sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
                 "--no-cache")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_ruff_finds_nothing():
    result = run(sys.executable, "-m", "ruff", "check", "--no-cache", *FIRST_PARTY)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def function_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found += [(inner.lineno, alias.name) for alias in inner.names]
                elif isinstance(inner, ast.ImportFrom):
                    found.append((inner.lineno, "." * inner.level + (inner.module or "")))
    return found


def test_imports_sit_at_the_top_of_modules():
    """No import inside a function, first-party or not, except the few third-party ones in LAZY_ALLOWED."""
    lazy = [f"{path.relative_to(ROOT)}:{line}: {module}" for path in python_files(*FIRST_PARTY)
            for line, module in function_imports(path) if module.split(".")[0] not in LAZY_ALLOWED]
    assert lazy == []


def store_handle_uses(path: Path) -> list[int]:
    """Lines that reach through a ``.db`` attribute (``x.db.execute``, ``x.db["table"]``)."""
    return sorted({node.lineno for node in ast.walk(ast.parse(path.read_text(), str(path)))
                   if isinstance(node, (ast.Attribute, ast.Subscript))
                   and isinstance(node.value, ast.Attribute) and node.value.attr == "db"})


def test_only_storage_touches_the_database_handle():
    outside = [p for p in python_files(*FIRST_PARTY)
               if not p.is_relative_to(ROOT / "crawler" / "storage") and p.name != "test_storage.py"]
    uses = [f"{p.relative_to(ROOT)}:{line}" for p in outside for line in store_handle_uses(p)]
    assert uses == []


def long_functions(path: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_no_function_is_over_80_lines():
    assert [f for path in python_files(*PACKAGES) for f in long_functions(path)] == []


@pytest.mark.parametrize("source,expected", [
    ("def f():\n    from crawler import run\n", [(2, "crawler")]),
    ("import os\n\ndef f():\n    return os.sep\n", []),
    ("def f():\n    from . import x\n", [(2, ".")]),
])
def test_the_import_rule_sees_imports_in_functions(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert function_imports(path) == expected


def test_the_database_rule_sees_handle_uses(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("store.db.execute('select 1')\nstore.db['x'].count\nargs.db\nStore(args.db)\n")
    assert store_handle_uses(path) == [1, 2]


def test_commands_start_without_heavy_libraries():
    """`syndtrace status` or `stories` must answer at once: importing the CLI loads no crawler framework,
    extractor or grouping library (the crawl runs in its own process; grouping and extraction import theirs)."""
    probe = "import sys, cli.app; print(' '.join(sorted({m.split('.')[0] for m in sys.modules}))) "
    result = run(sys.executable, "-P", "-c", probe)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = set(result.stdout.split())
    assert loaded.isdisjoint(HEAVY_FOR_STARTUP), sorted(loaded.intersection(HEAVY_FOR_STARTUP))
