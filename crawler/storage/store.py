"""The one owner of syndtrace's SQL: every statement the program runs is a named method of :class:`Store`.

Crawler, ingest, grouping and the CLI all read and write through it. Rows are keyed by the URL key
(``crawler.page.urls.url_key``), so storing the same page twice never makes two rows. Every write runs
inside :meth:`Store.transaction`, which turns SQLite's errors (full disk, read-only file) into a one-line
:class:`~crawler.errors.StorageError`. The schema and its migrations are in ``crawler.storage.schema``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import jsonify_if_needed

from crawler.batches import batched
from crawler.errors import LockedError, StorageError, UserInputError
from crawler.options import SaveOptions
from crawler.storage.records import FetchRecord, StoredEdge, StoredSignature, StoredText
from crawler.storage.schema import (
    APPENDED_KEYS,
    FAILED,
    GONE,
    MIGRATIONS,
    SCHEMA_VERSION,
    SIGNED_TABLES,
    appended_indexes,
    foreign_tables,
)

log = logging.getLogger(__name__)
_HELD_LOCKS: set[int] = set()   # file descriptors of the run locks this process holds


def _release_inherited_locks() -> None:
    """In a forked child (an extraction worker): close the inherited run-lock descriptors. An flock belongs to
    the open file, which a fork shares, so a worker outliving a killed parent would otherwise keep the lock."""
    for fd in _HELD_LOCKS:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_release_inherited_locks)


GROUPING_TABLES = {
    "signatures": "select * from signatures order by url",
    "openings": "select * from openings order by url",
    "edges": "select * from edges order by a, b",
    "stories": "select id, origin_url, size, sites, first_published, last_published, title, uncredited, versions, "
               "contains from stories order by id",
    "members": "select * from members order by url",
    "lineage": "select * from lineage order by url",
    "audits": "select * from audits order by url",
    "contains": "select * from contains order by url, contained_url",
}
STORY_ORDER = {"spread": "s.size desc, s.sites desc, s.id", "recent": "s.last_published desc, s.id"}
SNIPPET_MARKS = ("\ue000", "\ue001")   # around the words found, in the snippets of Store.search
SIGNED_FURNITURE = "signed_furniture"   # the site furniture every stored signature was made with (grouping_state)
FULL_PASS = "full_pass"   # noted in grouping_state from a full pass's clearing of signatures to its saved results
_CHUNK = 500   # URLs per "in (…)" query, well under SQLite's limit of bound parameters
_EDGE_COLUMNS = "a, b, containment, jaccard, kind, basis, cover_a, cover_b, len_a, len_b, passages, opens"


_PLAIN = (str, int, float, bytes, type(None))
_WAL_KEPT_BYTES = 64 << 20   # WAL left on disk after a checkpoint: a 1M-article save grew it to ~5 GB, kept until exit
# zlib level of stored bodies: level 1 compresses a web's pages in 0.63x level 6's CPU (118 MB of syndweb HTML:
# 1.16 s against 1.83 s, ingest's largest single cost after SQLite) for 7.7% more bytes (47.5 MB against 44.1);
# reading them back costs the same (0.50 s against 0.49), and any level reads as the other
BODY_COMPRESSION_LEVEL = 1
_UPSERT_BATCH = 10_000   # rows per executemany: a million relations or members are never held as rows at once


def _upsert_sql(table: str, columns: tuple[str, ...], pk: tuple[str, ...], named: bool = False) -> str:
    """sqlite-utils' upsert as one statement: insert, or update the given columns of the row with this key
    (values bound by position, or by column name when ``named``); without a key, insert."""
    names = ", ".join(f"[{c}]" for c in columns)
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in pk)
    keys = ", ".join(f"[{c}]" for c in pk)
    values = ", ".join(f":{c}" for c in columns) if named else ", ".join("?" * len(columns))
    insert = f"insert into [{table}] ({names}) values ({values})"
    return (f"{insert} on conflict({keys}) do " + (f"update set {updates}" if updates else "nothing")) if pk else insert


# the tables of grouping results, with their keys (written in this order: a story before its members)
_RESULT_KEYS = {"stories": ("id",), "members": ("url",), "lineage": ("url",), "audits": ("url",),
                "contains": ("url", "contained_url")}


def _in_bytes(size: int) -> str:
    """``25_123_456_789`` → ``"25.1 GB"``: a file's size as a person reads it."""
    for unit in ("bytes", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """A syndtrace database file.

    Example:
        >>> store = Store(":memory:")
        >>> store.schema_version() == SCHEMA_VERSION
        True
    """

    def __init__(self, path: str | os.PathLike = "syndtrace.db", *, create: bool = True):
        self.path = str(path)
        self._batching = False
        self._upserts: dict[tuple, str] = {}
        self._appending: frozenset[str] = frozenset()   # tables appended to without their indexes (_appending_to)
        if self.path != ":memory:":
            if not create and not os.path.exists(self.path):
                raise StorageError(f"no database at {self.path}; run 'syndtrace crawl' or 'syndtrace demo' first")
            parent = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(parent):
                raise StorageError(f"cannot create database {self.path}: folder {parent} does not exist")
        try:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            self._refuse_foreign(conn)
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(f"PRAGMA journal_size_limit = {_WAL_KEPT_BYTES}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            # freed pages zeroed only where it costs no write (SQLite's builds zero none by default, Debian's every
            # one: its full pass wrote its 3.4 GB of cleared signatures again, as zeros, at a million articles)
            conn.execute("PRAGMA secure_delete = FAST")
            self.db = sqlite_utils.Database(conn)
            self._migrate()
            self._mend_appended()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot use database {self.path}: {exc}") from None

    # -- schema ---------------------------------------------------------------------------------
    def _refuse_foreign(self, conn: sqlite3.Connection) -> None:
        """Before anything is written (not even the journal mode): a file of another program, or with a schema
        version that is not one, is refused. An empty file, and syndtrace's own tables without a version (a
        first migration that was cut short), are taken."""
        names = [name for (name,) in conn.execute(
            "select name from sqlite_master where type in ('table', 'view') and name not like 'sqlite_%'")]
        if "meta" in names:
            row = conn.execute("select value from meta where key = 'schema_version'").fetchone()
            if row is not None:
                self._version(row[0])
                return
        problem = foreign_tables({name: {c[1] for c in conn.execute(f"pragma table_info([{name}])")} for name in names})
        if problem:
            conn.close()
            raise StorageError(f"{self.path} is not a syndtrace database ({problem}); nothing was changed")

    def _version(self, value) -> int:
        try:
            version = int(value)
        except (TypeError, ValueError):
            version = -1
        if version < 0:
            raise StorageError(f"{self.path} has schema version {str(value)[:40]!r}, not a number; "
                               "it is not a database this syndtrace can use")
        return version

    def schema_version(self) -> int:
        if not self.db["meta"].exists():
            return 0
        row = self.db.execute("select value from meta where key = 'schema_version'").fetchone()
        return self._version(row[0]) if row else 0

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} has schema version {current}, newer than this syndtrace ({SCHEMA_VERSION}); upgrade syndtrace"
            )
        if current == SCHEMA_VERSION:
            return
        # a new file is made, not upgraded; an old one is rewritten in place, which took two minutes at a million
        # articles (v15): the user is told, before and after, rather than left with a silent command
        announced = current > 0 and self.path != ":memory:"
        if announced:
            log.warning("upgrading %s from schema %d to %d (%s); older syndtrace cannot open it afterwards",
                        self.path, current, SCHEMA_VERSION, _in_bytes(os.path.getsize(self.path)))
        started = time.monotonic()
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.db.atomic():
                MIGRATIONS[version](self.db)
                self.db["meta"].upsert({"key": "schema_version", "value": str(version)}, pk="key")
        if announced:
            log.warning("upgraded %s to schema %d in %.1f s", self.path, SCHEMA_VERSION, time.monotonic() - started)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (inside a :meth:`batch`, with the batch).

        The transaction is opened explicitly (sqlite-utils' ``atomic``): sqlite-utils commits at once any write
        that opens a transaction by itself, so ``with connection:`` alone held nothing together."""
        if self._batching:
            yield
            return
        try:
            with self.db.atomic():
                yield
        except sqlite3.OperationalError as exc:
            raise StorageError(f"cannot write to {self.path}: {exc}") from None

    def _upsert(self, table: str, pk: str, row: dict) -> None:
        """Insert or update one row by its key, as sqlite-utils' ``upsert`` does, with one prepared statement
        per table and set of columns: for the rows written for every page (sqlite-utils spends five times as
        long looking at the table each time)."""
        columns = tuple(row)
        sql = self._upserts.get((table, columns))
        if sql is None:
            names = ", ".join(f"[{c}]" for c in columns)
            updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != pk)
            sql = self._upserts[(table, columns)] = (
                f"insert into [{table}] ({names}) values ({', '.join('?' * len(columns))}) "
                f"on conflict([{pk}]) do " + (f"update set {updates}" if updates else "nothing"))
        self.db.execute(sql, [row[c] for c in columns])

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many records' writes in one transaction: ingest and re-extraction store hundreds of pages a second,
        and a commit per page would cost more than the page. A killed batch is rolled back whole, and
        written again by the next run (every write is an upsert)."""
        if self._batching:
            yield
            return
        with self.transaction():
            self._batching = True
            try:
                yield
            finally:
                self._batching = False

    def close(self) -> None:
        """Close the connection, and this process's ``PageReader`` connection to the same file: left open, it
        kept the file open under this one, and SQLite hands a closed connection's descriptor to the next
        connection to the file, so a file made read-only since would still be written."""
        _close_reader(self.path)
        self.db.conn.close()

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """One writing run at a time per database (cron and systemd timers may overlap).

        Raises:
            LockedError: at once, without waiting, when another run holds the lock.
        """
        if self.path == ":memory:":
            yield
            return
        lock_path = self.path + ".lock"
        fh = open(lock_path, "a+")  # noqa: SIM115 (held open while the lock is)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            raise LockedError(f"another syndtrace run is using {self.path} ({holder or 'pid unknown'}); try later") from None
        _HELD_LOCKS.add(fh.fileno())
        try:
            fh.seek(0)
            self._mark_killed_runs(fh.read().strip())
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {utc_now()}")
            fh.flush()
            yield
        finally:
            _HELD_LOCKS.discard(fh.fileno())
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    def _mark_killed_runs(self, last_holder: str) -> None:
        """A lock file still naming a holder was not released: that run was killed (a clean end empties the
        file). Its runs, and any other still 'running' now that nobody holds the lock, are marked 'killed'."""
        pid = last_holder.split()[1] if last_holder.startswith("pid ") and len(last_holder.split()) > 1 else ""
        if not pid.isdigit() or _alive(int(pid)):
            return
        with self.transaction():
            self.db.execute("update runs set status = 'killed', ended = ? where status = 'running'", [utc_now()])

    # -- watch list -----------------------------------------------------------------------------
    def add_site(self, url: str, feed: str | None = None, max_pages: int | None = None,
                 delay: float | None = None) -> None:
        with self.transaction():
            self.db["sites"].upsert({"url": url, "feed": feed, "max_pages": max_pages, "delay": delay,
                                     "added": utc_now()}, pk="url")

    def remove_site(self, url: str) -> bool:
        with self.transaction():
            cur = self.db.execute("delete from sites where url = ?", [url])
        return cur.rowcount > 0

    def watch_list(self) -> list[dict]:
        return list(self.db.query("select * from sites order by url"))

    # -- runs -----------------------------------------------------------------------------------
    def start_run(self, kind: str, options: dict | None = None) -> int:
        with self.transaction():
            table = self.db["runs"].insert(
                {"kind": kind, "started": utc_now(), "status": "running", "pages_fetched": 0, "new": 0,
                 "changed": 0, "unchanged": 0, "errors": 0, "stories_new": 0,
                 "options": json.dumps(options or {}, default=str)}
            )
        return table.last_pk

    def finish_run(self, run_id: int, status: str = "finished", **counts: int) -> None:
        with self.transaction():
            self.db["runs"].update(run_id, {"ended": utc_now(), "status": status, **counts})

    def run(self, run_id: int) -> dict:
        return self.db["runs"].get(run_id)

    def runs(self, limit: int = 10) -> list[dict]:
        return list(self.db.query("select * from runs order by id desc limit ?", [limit]))

    def run_kinds(self) -> set[str]:
        """The kinds of run (crawl, demo, ingest) this database has seen."""
        return {k for (k,) in self.db.execute("select distinct kind from runs")}

    def last_finished_run(self, kinds: tuple[str, ...] = ("crawl", "ingest", "demo")) -> dict | None:
        """The newest run that stored pages and finished."""
        marks = ",".join("?" * len(kinds))
        rows = list(self.db.query(
            f"select * from runs where kind in ({marks}) and status = 'finished' order by id desc limit 1", list(kinds)))
        return rows[0] if rows else None

    def new_pages(self, run_id: int) -> list[dict]:
        """Pages that joined a story in this run, and whether their story has pages from earlier runs (a story's
        id can change as pages join it, so its pages tell whether it is new, not its id)."""
        return list(self.db.query(
            "select m.story_id, m.url, exists(select 1 from members e where e.story_id = m.story_id "
            "and coalesce(e.first_run, 0) < ?) as story_seen_before from members m where m.first_run = ? "
            "order by m.story_id, m.url", [run_id, run_id]))

    def new_members(self, run_id: int | None) -> int:
        """Pages that joined a story for the first time in this run."""
        return self.db.execute("select count(*) from members where first_run = ?", [run_id]).fetchone()[0]

    # -- fetches --------------------------------------------------------------------------------
    def validators(self) -> dict[str, tuple[str | None, str | None]]:
        """(ETag, Last-Modified) of every stored page, for conditional re-fetches."""
        return {url: (etag, last_modified) for url, etag, last_modified in self.db.execute(
            "select url, etag, last_modified from fetches where status between 200 and 299")}

    def save_fetch(self, rec: FetchRecord, run_id: int | None = None) -> str:
        """Store a capture; returns 'new', 'changed' or 'unchanged'."""
        previous = self.db.execute("select content_hash from fetches where url = ?", [rec.url]).fetchone()
        digest = rec.content_hash
        state = "new" if previous is None else ("unchanged" if previous[0] == digest else "changed")
        headers = {k.lower(): v for k, v in rec.headers.items()}
        with self.transaction():
            self._upsert("fetches", "url",
                {"url": rec.url, "requested_url": rec.requested_url, "final_url": rec.final_url,
                 "status": rec.status, "headers": json.dumps(headers), "fetched_at": rec.fetched_at,
                 "body": zlib.compress(rec.body, BODY_COMPRESSION_LEVEL), "content_hash": digest,
                 "content_type": rec.content_type or headers.get("content-type", ""),
                 "etag": headers.get("etag"), "last_modified": headers.get("last-modified"),
                 "source": rec.source, "run_id": run_id, "error": rec.error})
            self._note_success(rec.url, rec.status, run_id)
            if rec.requested_url and rec.requested_url != rec.url:
                self._upsert("aliases", "source_url", {"source_url": rec.requested_url, "target_url": rec.url,
                                                       "status": 301})
        return state

    def save_failure(self, url: str, status: int, error: str, run_id: int | None = None) -> None:
        """Record a page that could not be fetched (404, refused, too large) without losing an older capture."""
        with self.transaction():
            self._record_status(url, status, error, run_id)
            if self.db.execute("select 1 from fetches where url = ? and status between 200 and 299", [url]).fetchone():
                return
            self.db["fetches"].upsert(
                {"url": url, "requested_url": url, "final_url": url, "status": status, "headers": "{}",
                 "fetched_at": utc_now(), "body": b"", "content_hash": None, "content_type": "",
                 "source": "crawl", "run_id": run_id, "error": error},
                pk="url",
            )

    # -- status history (failures, and the recovery after one) ---------------------------------------
    def _record_status(self, url: str, status: int, error: str | None, run_id: int | None) -> None:
        self.db["status_history"].upsert({"url": url, "run_id": run_id or 0, "status": status, "error": error,
                                          "seen_at": utc_now()}, pk=("url", "run_id"))

    def _note_success(self, url: str, status: int, run_id: int | None) -> None:
        last = self.db.execute("select status from status_history where url = ? order by run_id desc limit 1",
                               [url]).fetchone()
        if last is not None and (last[0] >= 400 or last[0] == 0):
            self._record_status(url, status, None, run_id)

    def note_fetched(self, url: str, status: int, run_id: int | None = None) -> None:
        """A page answered again without being stored anew (304 Not Modified): it is no longer failing."""
        with self.transaction():
            self._note_success(url, status, run_id)

    def failures(self, run_id: int | None = None) -> list[dict]:
        """Failed fetches of one run (or of every run), with their status and why."""
        where, params = ("and run_id = ?", [run_id]) if run_id is not None else ("", [])
        return list(self.db.query(f"select run_id as run, url, status, error, seen_at from status_history "
                                  f"where {FAILED} {where} order by run_id desc, status, url", params))

    def gone_pages(self) -> dict[str, tuple[str, int]]:
        """Story pages whose last fetch answered 404 or 410: url → (story id, the run since which it is gone)."""
        gone = ",".join(str(s) for s in GONE)
        rows = self.db.execute(f"""
            with last as (select url, max(run_id) as run from status_history group by url),
                 ok as (select url, max(run_id) as run from status_history where status between 200 and 399
                        group by url)
            select h.url, m.story_id, min(h.run_id) from status_history h
            join last on last.url = h.url
            join status_history lh on lh.url = last.url and lh.run_id = last.run and lh.status in ({gone})
            join members m on m.url = h.url
            left join ok on ok.url = h.url
            where h.status in ({gone}) and h.run_id > coalesce(ok.run, -1)
            group by h.url""")
        return {url: (story, since) for url, story, since in rows}

    def same_page_elsewhere(self, rec: FetchRecord) -> str | None:
        """Another URL of the same site already stored with byte-identical content (``?ref=`` twins)."""
        host = rec.url.split("/", 3)[2] if rec.url.count("/") >= 2 else ""
        row = self.db.execute(
            "select url from fetches where content_hash = ? and url != ? and (url like ? or url = ?) limit 1",
            [rec.content_hash, rec.url, f"http://{host}/%", f"http://{host}"]).fetchone()
        return row[0] if row else None

    def save_alias(self, source: str, target: str, status: int = 200) -> None:
        with self.transaction():
            self._upsert("aliases", "source_url", {"source_url": source, "target_url": target, "status": status})

    def iter_fetches(self, urls: Iterable[str] | None = None, page: int = 200) -> Iterator[dict]:
        """Stored successful captures with their decompressed bodies. All of them are read ``page`` rows at a
        time in URL order, with no cursor left open between pages: a caller may write meanwhile (re-extraction
        commits as it goes; SQLite refuses a commit on a table an open cursor reads)."""
        sql = "select url, final_url, status, headers, fetched_at, body, content_hash from fetches where status between 200 and 299"
        for url, final_url, status, headers, fetched_at, body, content_hash in self._fetch_rows(sql, urls, page):
            yield {"url": url, "final_url": final_url, "status": status, "headers": json.loads(headers or "{}"),
                   "fetched_at": fetched_at, "body": zlib.decompress(body) if body else b"",
                   "content_hash": content_hash}

    def _fetch_rows(self, sql: str, urls: Iterable[str] | None, page: int) -> Iterator[tuple]:
        if urls is not None:
            for url in urls:
                yield from self.db.execute(sql + " and url = ?", [url]).fetchall()
            return
        last = ""
        while rows := self.db.execute(sql + " and url > ? order by url limit ?", [last, page]).fetchall():
            yield from rows
            last = rows[-1][0]

    def cached_page(self, url: str) -> tuple[bytes, dict] | None:
        """Body and headers of a stored capture, to stand in for the page when the server says 304."""
        row = self.db.execute("select body, headers from fetches where url = ?", [url]).fetchone()
        if not row or not row[0]:
            return None
        return zlib.decompress(row[0]), json.loads(row[1]) if row[1] else {}

    def capture_times(self) -> dict[str, str]:
        """When each stored page was captured."""
        return dict(self.db.execute("select url, fetched_at from fetches"))

    # -- aliases (redirects, byte-identical twins) -----------------------------------------------
    def resolve_alias(self, url: str) -> str:
        seen = {url}
        while True:
            row = self.db.execute("select target_url from aliases where source_url = ?", [url]).fetchone()
            if not row or row[0] in seen:
                return url
            url = row[0]
            seen.add(url)

    def aliases(self) -> dict[str, str]:
        """Every recorded redirect, source → target."""
        return dict(self.db.execute("select source_url, target_url from aliases"))

    def twins(self) -> dict[str, str]:
        """Pages stored as byte-identical twins of another URL of their site (not redirects): source → target."""
        return dict(self.db.execute("select source_url, target_url from aliases where status = 200 "
                                    "and source_url not in (select url from articles)"))

    # -- outlets --------------------------------------------------------------------------------
    def save_outlet(self, host: str, name: str | None) -> None:
        if not name:
            return
        with self.transaction():
            self._upsert("outlets", "host", {"host": host, "name": name})

    def outlets(self) -> dict[str, str]:
        return {h: n for h, n in self.db.execute("select host, name from outlets")}

    # -- articles -------------------------------------------------------------------------------
    def save_article(self, row: dict) -> None:
        row = dict(row)
        for key in ("paragraphs", "attribution", "evidence", "authors"):
            if not isinstance(row.get(key), str):
                row[key] = json.dumps(row.get(key) or ([] if key in ("paragraphs", "authors") else {}),
                                      ensure_ascii=False)
        row.setdefault("extracted_at", utc_now())
        with self.transaction():
            self._upsert("articles", "url", row)

    def article_content_hash(self, url: str) -> str | None:
        """The capture hash an article was extracted from (None: no article, or none recorded)."""
        row = self.db.execute("select content_hash from articles where url = ?", [url]).fetchone()
        return row[0] if row else None

    def articles(self, page_type: str | None = "article", urls: Iterable[str] | None = None) -> list[dict]:
        """Decoded article rows in URL order: all of one page type, or only those of ``urls``."""
        where = ["page_type = ?"] if page_type else []
        base: list[Any] = [page_type] if page_type else []
        chunks: Iterable[list[str]] = [[]] if urls is None else batched(sorted(set(urls)), _CHUNK)
        rows = []
        for chunk in chunks:
            clauses = where + ([f"url in ({','.join('?' * len(chunk))})"] if urls is not None else [])
            sql = "select * from articles" + (" where " + " and ".join(clauses) if clauses else "")
            rows.extend(self._decode_article(r) for r in self.db.query(sql + " order by url", base + chunk))
        return rows

    def lineage_articles(self, urls: Iterable[str]) -> list[dict]:
        """The article rows of ``urls`` with what lineage and audit read of a page (url, site, title, author,
        published, canonical, paragraphs and attribution), in URL order: ``articles`` without the stored text,
        evidence and the rest, a third of the size, as lineage holds thousands at once. Paragraphs and
        attribution stay the stored JSON (``decode_lineage_article``): decoding them is work for the processes
        that trace the pages, not for the one that reads and writes the database."""
        return _lineage_articles(self.db.conn, urls)

    def article(self, url: str) -> dict | None:
        rows = list(self.db.query("select * from articles where url = ?", [url]))
        return self._decode_article(rows[0]) if rows else None

    def article_urls(self, page_type: str = "article", limit: int | None = None) -> list[str]:
        """URLs of the stored pages of one kind, in URL order."""
        sql = "select url from articles where page_type = ? order by url" + (" limit ?" if limit else "")
        return [u for (u,) in self.db.execute(sql, [page_type] + ([limit] if limit else []))]

    def article_summaries(self) -> Iterator[dict]:
        """Every stored page's identity, kind and metadata (no text), in URL order."""
        yield from self.db.query(
            "select url, site, page_type, title, author, authors, published, modified, canonical from articles "
            "order by url")

    def unread_page_facts(self, page: int = 4096) -> Iterator[list[tuple[str, str, str | None, list[str], dict | None]]]:
        """(url, site, title, credit statements, and — when it names a source or keeps lines to read for one — its
        URL, site and source credits: the attribution's credits, cue lines and edge lines only) of every article
        page without kept facts (``page_facts``), in URL order, a page of rows at a time (read whole: the caller
        may write between two); a page with no readable attribution gives no statements and no source. The pages are found in the
        covering index of credits, and their titles in that of titles (by key, for those pages only): a page's
        row, which holds its text, is not read."""
        last = ""
        while rows := self.db.execute(
                "select url, site, (select title from articles t indexed by articles_titles where t.page_type = "
                "'article' and t.site = a.site and t.url = a.url), iif(json_valid(attribution), "
                "json_extract(attribution, '$.statements', '$.credits', '$.cue_lines', '$.edge_lines'), '[]') "
                "from articles a where page_type = 'article' and url > ? "
                "and not exists (select 1 from page_facts f where f.url = a.url) order by url limit ?",
                [last, page]).fetchall():
            last = rows[-1][0]
            found = []
            for url, site, title, values in rows:
                statements, credits, cues, edges = (v if isinstance(v, list) else [] for v in
                                                    (*json.loads(values), None, None, None, None)[:4])
                source = {"url": url, "site": site, "attribution": {"credits": credits, "cue_lines": cues,
                                                                     "edge_lines": edges}} if credits or cues or edges else None
                found.append((url, site, title, statements, source))
            yield found

    def save_page_facts(self, rows: list[tuple[str, str, int, bytes, int, bytes | None]]) -> None:
        """Keep (url, site, carries credit lines, its lines' hashes, credits two other outlets, its title's hash) of
        article pages."""
        with self.transaction():
            self.db.conn.executemany("insert or replace into page_facts (url, site, credits, lines, relays, title_key) "
                                     "values (?, ?, ?, ?, ?, ?)", rows)

    def credit_facts(self) -> Iterator[tuple[str, int, bytes, int]]:
        """(site, carries credit lines, its lines' hashes, credits two other outlets) of every article page with
        kept facts whose credits say something (the others count for nothing)."""
        yield from self.db.execute("select site, credits, lines, relays from page_facts where credits or relays")

    def title_keys(self) -> bytes:
        """The kept hashes of the article pages' titles (8 bytes each, those with words), together."""
        return b"".join(key for (key,) in self.db.execute("select title_key from page_facts where title_key is not null"))

    def clear_page_facts(self) -> None:
        """Drop every kept page fact (a full pass makes them all again)."""
        with self.transaction():
            self.db.execute("delete from page_facts")

    def article_texts(self) -> Iterator[StoredText]:
        """Site and stored paragraphs of every article page, in URL order."""
        for row in self.db.execute("select url, site, paragraphs from articles where page_type = 'article' "
                                   "order by url"):
            yield StoredText(*row)

    def article_sites_as_stored(self) -> Iterator[tuple[str, str]]:
        """(url, site) of every article page in the order the rows lie in the file: texts read in this order are
        read from the file front to back, where URL order jumps about it (a crawl stores pages in the order it
        meets them)."""
        yield from self.db.execute("select url, site from articles where page_type = 'article' order by rowid")

    def sites_of(self, urls: list[str]) -> Iterator[tuple[str, str]]:
        """(url, site) of these stored pages, read by primary key, in no set order (an URL not stored is left
        out)."""
        for chunk in batched(urls, _CHUNK):
            yield from self.db.execute(f"select url, site from articles where url in ({','.join('?' * len(chunk))})",
                                       chunk).fetchall()

    def stored_texts(self, urls: list[str]) -> Iterator[StoredText]:
        """Site and stored paragraphs (JSON, as stored) of these articles, read by primary key, in no set order."""
        yield from _stored_texts(self.db.conn, urls)

    def page_reader(self) -> PageReader | None:
        """A reader of this database's committed pages for other processes (a grouping worker reads its own
        batch's texts or articles through it); none for a database in memory, or while a transaction is open here
        (another connection would not see its rows: ``carried_pages``). Pages a pass does not write (articles)
        can be read through it while the pass writes its results."""
        return PageReader(self.path) if self.path != ":memory:" and not self.db.conn.in_transaction else None

    def carried_pages(self, urls: list[str], lineage: bool = False) -> CarriedPages:
        """These articles' stored texts, or (``lineage``) what lineage reads of them, read now, to be carried
        with a batch of grouping work where no ``page_reader`` is."""
        if lineage:
            return CarriedPages(articles=self.lineage_articles(urls))
        return CarriedPages(texts={row.url: row.paragraphs_json for row in self.stored_texts(urls)})

    def text_changes(self) -> tuple[set[str], int]:
        """The pages whose stored paragraphs (or headline) were added or changed since a grouping pass last read
        them (noted by the schema's triggers), and the last note's number (what ``forget_text_changes`` is given
        once read)."""
        urls = {url for (url,) in self.db.execute("select distinct url from text_changes")}
        return urls, self.db.execute("select coalesce(max(seq), 0) from text_changes").fetchone()[0]

    def forget_text_changes(self, upto: int) -> None:
        """Drop the notes read by a pass (numbered up to ``upto``); later ones stay for the next pass."""
        with self.transaction():
            self.db.execute("delete from text_changes where seq <= ?", [upto])

    def update_signature_texts(self, rows: list[tuple[str, str, bytes]]) -> None:
        """(url, paragraphs hash, paragraph identities) of signatures whose text changed but not what they sign
        (a furniture paragraph was edited): they describe the text now stored, as a new signature would."""
        with self.transaction():
            self.db.conn.executemany("update signatures set paragraphs_hash = ?, paragraph_keys = ? where url = ?",
                                     [(text_hash, keys, url) for url, text_hash, keys in rows])

    def numeric_dates(self) -> Iterator[tuple[str, str, str, str | None]]:
        """(url, site, numeric date line as written, published) of articles dated only by an ambiguous
        numeric date line (03/04/2020), to be settled per site."""
        for url, site, evidence, published in self.db.execute(
                "select url, site, evidence, published from articles where evidence like '%numeric_date%'"):
            raw = json.loads(evidence or "{}").get("numeric_date")
            if raw:
                yield url, site, raw, published

    def site_titles(self) -> Iterator[tuple[str, str, str]]:
        """(url, site, title) of every article page that has a title, by site."""
        yield from self.db.execute("select url, site, title from articles where page_type = 'article' and "
                                   "title is not null and title != '' order by site, url")

    def titles_of(self, urls: Iterable[str]) -> dict[str, str]:
        """The stored titles of these pages (those that have one)."""
        found: dict[str, str] = {}
        for chunk in batched(sorted(set(urls)), _CHUNK):
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"select url, title from articles where url in ({marks}) "
                                         "and title is not null", chunk).fetchall())
        return found

    def set_titles(self, titles: list[tuple[str, str]]) -> None:
        """Correct articles' titles: (url, title) pairs."""
        with self.transaction():
            self.db.conn.executemany("update articles set title = ? where url = ?",
                                     [(value, url) for url, value in titles])

    def set_published(self, dates: list[tuple[str, str]]) -> None:
        """Correct articles' publication dates: (url, date) pairs."""
        with self.transaction():
            self.db.conn.executemany("update articles set published = ? where url = ?",
                                     [(value, url) for url, value in dates])

    @staticmethod
    def _decode_article(row: dict) -> dict:
        row = dict(row)
        row["paragraphs"] = json.loads(row.get("paragraphs") or "[]")
        row["attribution"] = json.loads(row.get("attribution") or "{}")
        row["evidence"] = json.loads(row.get("evidence") or "{}")
        row["authors"] = authors_of(row)
        return row

    def search(self, text: str, limit: int = 20, raw: bool = False) -> list[dict]:
        """Full-text search (SQLite FTS5) over titles and bodies, best matches first, each with a snippet of
        the body around the words found (between the :data:`SNIPPET_MARKS`). The text is searched for as words
        unless ``raw``, when it is an FTS5 query (``"exact phrase"``, ``AND``, ``OR``, ``NOT``, ``prefix*``).

        Raises:
            UserInputError: a raw search expression is not valid FTS5.
        """
        query = text if raw else self.db.quote_fts(text)
        try:
            return list(self.db.query(
                "select a.url, a.site, a.title, a.published, "
                "snippet(articles_fts, 1, ?, ?, '…', 16) as snippet "
                "from articles_fts join articles a on a.rowid = articles_fts.rowid "
                "where articles_fts match ? order by articles_fts.rank limit ?", [*SNIPPET_MARKS, query, limit]))
        except sqlite3.OperationalError as exc:
            raise UserInputError(f"bad search expression {text!r}: {exc} (without --raw, words are searched as words)") from None

    def counts(self) -> dict[str, int]:
        out = {}
        for table in ("fetches", "articles", "signatures", "edges", "stories", "members", "audits", "runs"):
            out[table] = self.db[table].count
        out["article_pages"] = self.article_pages()
        return out

    def article_pages(self, up_to: int | None = None) -> int:
        """How many article pages are stored (read from an index), counted up to ``up_to`` at most: counting them
        all took 2.9 s on a million-article file read cold, where a pass only asks whether there are a thousand."""
        limit = "" if up_to is None else f" limit {int(up_to)}"
        return self.db.execute(f"select count(*) from (select 1 from articles where page_type = 'article'{limit})"
                               ).fetchone()[0]

    # -- signatures -----------------------------------------------------------------------------
    def _upsert_all(self, table: str, rows: Iterable[dict], pk: tuple[str, ...]) -> None:
        """What sqlite-utils' ``upsert_all`` writes (values converted the same way), as one ``executemany`` per
        run of rows with the same columns: grouping writes every signature, relation and member row, and
        sqlite-utils builds each row's statement in Python (a tenth of a rebuild went there)."""
        batch: list[list] = []
        columns: tuple[str, ...] = ()
        pk = () if table in self._appending else pk
        for row in rows:
            if tuple(row) != columns or len(batch) >= _UPSERT_BATCH:
                if batch:
                    self.db.conn.executemany(_upsert_sql(table, columns, pk), batch)
                columns, batch = tuple(row), []
            batch.append([v if isinstance(v, _PLAIN) else jsonify_if_needed(v) for v in row.values()])
        if batch:
            self.db.conn.executemany(_upsert_sql(table, columns, pk), batch)

    def save_signatures(self, rows: list[dict]) -> None:
        """Store signatures; band keys kept for older signatures of these URLs are dropped with them, and so is
        the furniture the stored signatures were made with (``SIGNED_FURNITURE``: kept again by the pass that
        signs, once it has signed all it signs)."""
        with self.transaction():
            self.db.execute("delete from grouping_state where name = ?", [SIGNED_FURNITURE])
            self._upsert_all("signatures", rows, ("url",))
            if "signatures" in self._appending:   # their older rows were deleted before the index was dropped
                return
            for chunk in batched([row["url"] for row in rows], _CHUNK):
                self.db.execute(f"delete from band_keys where url in ({','.join('?' * len(chunk))})", chunk)

    def signed_urls(self) -> Iterator[str]:
        """The URL of every stored signature (its key's index alone is read)."""
        for (url,) in self.db.execute("select url from signatures"):
            yield url

    def article_signature_states(self, num_perm: int, seed: int, scheme: str, shingle_size: int, fingerprint: int,
                                 lead_words: str, openings: str) -> Iterator[tuple[str, str, StoredSignature | None]]:
        """(url, site, what its stored signature was made from, or None without one) of every article page, in URL
        order, the signature's "same" telling whether it was made with these parameters, lead sizes and opening
        settings. One read of both tables, where reading each apart and joining them in Python cost twice as much;
        the signatures' side from their states' index (SQLite's planner takes the unique key, and with it the
        wide rows), unless a pass killed while appending left it dropped."""
        states = "indexed by signatures_states" if self._has_index("signatures_states") else ""
        for url, site, signed, same, *rest in self.db.execute(
                "select a.url, a.site, s.url is not null, coalesce(s.num_perm = ? and s.seed = ? and s.scheme = ? "
                "and s.shingle_size = ? and s.fingerprint = ? and s.lead_words = ? and s.openings = ?, 0), "
                f"s.content_hash, s.paragraphs_hash, s.paragraph_keys from articles a left join signatures s {states} "
                "on s.url = a.url where a.page_type = 'article' order by a.url",
                [num_perm, seed, scheme, shingle_size, fingerprint, lead_words, openings]):
            yield url, site, StoredSignature(url, bool(same), *rest) if signed else None

    def signature_band_keys(self, banding: str, page: int = 4096) -> Iterator[list[tuple]]:
        """(url, its kept band keys for this ``banding`` or None, and when None its full-text and lead signatures)
        of every article with a non-empty text, in the table's order, a page of rows at a
        time (read whole: the caller may write between two pages).

        Which signatures, and their order, come from the states' index, and each page's keys are then looked up
        by URL: scanning the signatures' wide rows for them read 1.5 GB at a million articles (42 s cold, 26 s
        this way). Without that index (a pass killed while appending dropped it), the rows are read."""
        if not self._has_index("signatures_states"):
            yield from self._band_keys_from_rows(banding, page)
            return
        rowids, urls = [], []
        for rowid, url in self.db.execute("select rowid, url from signatures indexed by signatures_states "
                                          "where n_shingles > 0"):
            rowids.append(rowid)
            urls.append(url)
        in_order = [urls[i] for i in sorted(range(len(urls)), key=rowids.__getitem__)]
        del rowids, urls
        for start in range(0, len(in_order), page):
            chunk = in_order[start:start + page]
            kept = self._keyed_blobs("select url, band_keys from band_keys where banding = ? and url in ({})",
                                     chunk, [banding])
            missing = self._keyed_blobs("select url, hashvalues, lead_hashvalues from signatures where url in ({})",
                                        [url for url in chunk if url not in kept])
            yield [(url, kept[url], None, None) if url in kept else (url, None, *missing[url]) for url in chunk]

    def _keyed_blobs(self, sql: str, urls: list[str], before: list | None = None) -> dict[str, Any]:
        """The rows of ``sql`` (its ``in ({})`` filled with these URLs, a chunk at a time) by their first column: the
        rest of the row, or its one value."""
        found: dict[str, Any] = {}
        for chunk in batched(urls, _CHUNK):
            for url, *rest in self.db.execute(sql.format(",".join("?" * len(chunk))), [*(before or []), *chunk]):
                found[url] = rest[0] if len(rest) == 1 else tuple(rest)
        return found

    def _band_keys_from_rows(self, banding: str, page: int) -> Iterator[list[tuple]]:
        """``signature_band_keys`` read from the signatures' rows, in their order."""
        last = 0
        while rows := self.db.execute(
                "select s.rowid, s.url, k.band_keys, iif(k.band_keys is null, s.hashvalues, null), "
                "iif(k.band_keys is null, s.lead_hashvalues, null) from signatures s left join band_keys k "
                "on k.url = s.url and k.banding = ? where s.n_shingles > 0 and s.rowid > ? order by s.rowid limit ?",
                [banding, last, page]).fetchall():
            last = rows[-1][0]
            yield [row[1:] for row in rows]

    def save_band_keys(self, rows: list[tuple[str, bytes]], banding: str) -> None:
        """Keep (url, band keys) of signatures, made for this ``banding``."""
        with self.transaction():
            self.db.conn.executemany(f"{self._insert('band_keys')} into band_keys (url, banding, band_keys) values (?, ?, ?)",
                                     [(url, banding, keys) for url, keys in rows])

    def save_openings(self, rows: list[tuple[str, bytes, bytes | None]]) -> None:
        """Keep (url, opening keys, capture keys or None) of signed texts (``dedupe.openings``), each capture
        not looked up yet."""
        with self.transaction():
            self.db.conn.executemany(f"{self._insert('openings')} into openings (url, opening, capture, looked_up) "
                                     "values (?, ?, ?, 0)", rows)

    def _insert(self, table: str) -> str:
        """How a row of one of the ``APPENDED_KEYS`` tables is written: appended while its indexes are dropped,
        else in place of the older row with its key."""
        return "insert" if table in self._appending else "insert or replace"

    def appending_signatures(self) -> contextlib.AbstractContextManager[None]:
        """Signatures, band keys and openings saved inside appended (``_appending_to``)."""
        return self._appending_to(SIGNED_TABLES)

    def appending_relations(self) -> contextlib.AbstractContextManager[None]:
        """Relations saved inside appended (``_appending_to``)."""
        return self._appending_to(("edges",))

    @contextmanager
    def _appending_to(self, tables: Iterable[str]) -> Iterator[None]:
        """Rows of these ``APPENDED_KEYS`` tables saved inside are appended with the tables' indexes dropped, made
        again at the end (or by the next ``Store`` to open the file, after a pass killed meanwhile): a full pass
        signs and relates in the order of the file, and inserting a million rows at random places in their keys
        cost 2.5 to 3 times as long (bench/RESULTS.md, fourteenth session). For a pass that emptied them first
        (``clear_signatures``), saving each key once (a key saved again keeps its first place and last values)."""
        tables = frozenset(tables)
        with self.transaction():
            for table in tables:
                for name in appended_indexes(table):
                    self.db.execute(f"drop index if exists [{name}]")
        self._appending = tables
        try:
            yield
        finally:
            self._appending = frozenset()
            self._index_appended()

    def _mend_appended(self) -> None:
        """The indexes a pass killed while appending left dropped, made again as this file is opened: unless a run
        holds it, whose pass may be appending now (it makes them at its end), or the file cannot be written (it is
        read without them)."""
        if self._missing_indexes() and not self._run_in_progress():
            with contextlib.suppress(sqlite3.OperationalError, StorageError):
                self._index_appended()

    def _has_index(self, name: str) -> bool:
        """Whether the file holds an index of this name (a pass killed while appending leaves some dropped)."""
        return self.db.execute("select 1 from sqlite_master where type = 'index' and name = ?", [name]
                               ).fetchone() is not None

    def _missing_indexes(self) -> list[str]:
        """The ``APPENDED_KEYS`` tables lacking an index."""
        present = {name for (name,) in self.db.execute("select name from sqlite_master where type = 'index'")}
        return [table for table in APPENDED_KEYS if not appended_indexes(table).keys() <= present]

    def _run_in_progress(self) -> bool:
        """Whether a run holds this file's run lock now (``run_lock``), in this process or another."""
        try:
            fd = os.open(self.path + ".lock", os.O_RDONLY)
        except OSError:   # never locked (or in memory)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def _index_appended(self) -> None:
        """The indexes of each of the ``APPENDED_KEYS`` tables that lacks them."""
        for table in self._missing_indexes():
            with self.transaction():
                try:
                    self._make_indexes(table)
                except sqlite3.IntegrityError:
                    self._merge_repeated_keys(table)
                    self._make_indexes(table)

    def _make_indexes(self, table: str) -> None:
        for statement in appended_indexes(table).values():
            self.db.execute(statement)

    def _merge_repeated_keys(self, table: str) -> None:
        """Rows of a key saved more than once while appending made one, as upserts would have: the first row,
        with the values of the last."""
        key = ", ".join(f"[{c}]" for c in APPENDED_KEYS[table])
        values = ", ".join(f"[{c}]" for c in self.db[table].columns_dict if c not in APPENDED_KEYS[table])
        same = " and ".join(f"later.[{c}] = [{table}].[{c}]" for c in APPENDED_KEYS[table])
        self.db.execute(f"create index [{table}_repeated] on [{table}] ({key})")
        self.db.execute(f"update [{table}] set ({values}) = (select {values} from [{table}] later where {same} "
                        f"order by later.rowid desc limit 1) "
                        f"where rowid in (select min(rowid) from [{table}] group by {key} having count(*) > 1)")
        self.db.execute(f"delete from [{table}] where rowid not in (select min(rowid) from [{table}] group by {key})")
        self.db.execute(f"drop index [{table}_repeated]")

    def capture_states(self) -> Iterator[tuple[str, bytes, bool]]:
        """(url, capture keys, looked up) of every stored short text."""
        for url, keys, looked_up in self.db.execute("select url, capture, looked_up from openings "
                                                    "where capture is not null").fetchall():
            yield url, keys, bool(looked_up)

    def mark_looked_up(self, urls: list[str], looked_up: bool) -> None:
        """Note whether these captures' caption relations to every stored text are in the edges table."""
        with self.transaction():
            for chunk in batched(urls, _CHUNK):
                self.db.execute(f"update openings set looked_up = ? where url in ({','.join('?' * len(chunk))})",
                                [int(looked_up), *chunk])

    def linked_pages(self, urls: list[str], longer_than: int) -> set[str]:
        """Those of ``urls`` that a relation other than a caption relation links to a page of more than
        ``longer_than`` words."""
        return {url for _, e in self.edges_touching(urls) if e.basis != "caption"
                for url, other in ((e.a, e.len_b), (e.b, e.len_a)) if (other or 0) > longer_than} & set(urls)

    def delete_caption_edges(self, urls: list[str]) -> None:
        """Drop the caption relations of these texts as captures; their relations as the page another text
        captures stay."""
        with self.transaction():
            for chunk in batched(urls, _CHUNK):
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"delete from edges where basis = 'caption' and ((opens = 'a' and a in ({marks})) "
                                f"or (opens = 'b' and b in ({marks})))", chunk + chunk)

    def opening_pages(self, urls: list[str] | None = None, page: int = 4096) -> Iterator[list[tuple[str, bytes]]]:
        """(url, opening keys) of these texts (of every text when None), a page of rows at a time."""
        if urls is not None:
            for chunk in batched(urls, _CHUNK):
                yield self.db.execute(f"select url, opening from openings where url in ({','.join('?' * len(chunk))})",
                                      chunk).fetchall()
            return
        last = 0
        while rows := self.db.execute("select rowid, url, opening from openings where rowid > ? order by rowid limit ?",
                                      [last, page]).fetchall():
            last = rows[-1][0]
            yield [row[1:] for row in rows]

    def clear_signatures(self) -> None:
        """Drop every signature, band key, opening and relation (a full pass makes each again): one statement a table,
        which SQLite carries out by freeing the table's pages rather than deleting row by row through its
        indexes, as ``delete_signatures`` of every URL would. It does so only with foreign keys unchecked (a
        signature's key names its article: deleting one never breaks a key), which ``_bulk_write`` sets. A full
        pass is noted as begun (``FULL_PASS``) until ``finish_full_pass``: one stopped meanwhile leaves signatures
        without their relations, and the next pass must be full too."""
        with self._bulk_write(SaveOptions()), self.transaction():
            self.db.execute("delete from grouping_state where name = ?", [SIGNED_FURNITURE])
            self._upsert_all("grouping_state", [{"name": FULL_PASS, "value": utc_now()}], ("name",))
            for table in APPENDED_KEYS:
                self.db.execute(f"delete from {table}")

    def full_pass_unfinished(self) -> bool:
        """Whether a full pass cleared the signatures and stopped before saving its results."""
        return self.grouping_state(FULL_PASS) is not None

    def finish_full_pass(self) -> None:
        """Forget the full pass begun (``clear_signatures``): its results are saved."""
        with self.transaction():
            self.db.execute("delete from grouping_state where name = ?", [FULL_PASS])

    def delete_signatures(self, urls: Iterable[str]) -> None:
        with self.transaction():
            for chunk in batched(list(urls), _CHUNK):
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"delete from signatures where url in ({marks})", chunk)
                self.db.execute(f"delete from band_keys where url in ({marks})", chunk)
                self.db.execute(f"delete from openings where url in ({marks})", chunk)
                self.db.execute(f"delete from edges where a in ({marks}) or b in ({marks})", chunk + chunk)

    # -- relations between articles (copies, quotes) --------------------------------------------
    def save_edges(self, rows: Iterable[dict]) -> None:
        with self.transaction():
            self._upsert_all("edges", rows, ("a", "b"))

    def edges(self) -> Iterator[StoredEdge]:
        """Every stored relation, as compact rows, in the table's order."""
        for row in self.db.execute(f"select {_EDGE_COLUMNS} from edges"):
            yield StoredEdge(*row)

    def edges_touching(self, urls: list[str]) -> Iterator[tuple[int, StoredEdge]]:
        """(rowid, relation) of every stored relation with a side among ``urls`` (a relation between two of them
        may come twice); the rowid gives the order ``edges`` reads them in."""
        for chunk in batched(urls, _CHUNK):
            marks = ",".join("?" * len(chunk))
            for rowid, *row in self.db.execute(f"select rowid, {_EDGE_COLUMNS} from edges where a in ({marks}) "
                                               f"union all select rowid, {_EDGE_COLUMNS} from edges where b in ({marks})",
                                               chunk + chunk).fetchall():
                yield rowid, StoredEdge(*row)

    # -- stories, lineage, audit ----------------------------------------------------------------
    def replace_results(self, stories: list[dict], members: list[dict], lineage: list[dict], audits: list[dict],
                        story_ids: Iterable[str] | None = None, contains: list[dict] | None = None,
                        state: dict[str, str] | None = None) -> None:
        """Swap in new grouping results atomically, in one batch (see :meth:`replacing_results`)."""
        with self.replacing_results(story_ids, [m["url"] for m in members], state) as write:
            write(stories, members, lineage, audits)
            self._upsert_all("contains", contains or [], ("url", "contained_url"))

    @contextmanager
    def replacing_results(self, story_ids: Iterable[str] | None = None, urls: Iterable[str] = (),
                          state: dict[str, str] | None = None, options: SaveOptions | None = None,
                          relinked: Iterable[str] = ()) -> Iterator[Callable[..., None]]:
        """Swap in new grouping results atomically: for the given stories and pages only, or for everything, and
        the "contains" links of the ``relinked`` pages (whose other rows stand, or are written again over the old
        ones); with the ``state`` the pass read them from (name → JSON). Yields ``write(stories, members, lineage, audits)``,
        called once per batch as the rows are made (a pass need not hold them all); the "contains" rows are
        written with the last call (``contains=``). A story or member seen in an earlier run keeps the run it
        first appeared in (read from a copy of the old rows of ``story_ids`` and ``urls``, taken before they are
        deleted: a stored story written again is one of ``story_ids``). SQLite is set by
        ``options`` for this write only (:meth:`_bulk_write`); replacing every result of
        ``options.staged_min_pages`` pages or more, the rows are staged and written in key order at the end."""
        story_ids, urls = (None if story_ids is None else list(story_ids)), list(urls)
        options = options or SaveOptions()
        staged = story_ids is None and len(urls) >= options.staged_min_pages
        with self._bulk_write(options), self.transaction():
            self._upsert_all("grouping_state", [{"name": k, "value": v} for k, v in (state or {}).items()], ("name",))
            self._keep_first_runs(story_ids, urls)
            dropped = self._delete_results(story_ids, urls, relinked)
            if staged:
                self._stage_results()
            yield functools.partial(self._write_results, staged=staged)
            if staged:
                self._unstage_results()
            for sql in dropped:
                self.db.execute(sql)
            self.db.execute("delete from stories where id not in (select story_id from members)")
            self.db.execute("drop table temp.first_story")
            self.db.execute("drop table temp.first_member")

    def _keep_first_runs(self, story_ids: list[str] | None, urls: list[str]) -> None:
        """The run each story and page to be replaced (every one, when ``story_ids`` is None) first appeared in, in
        temporary tables: a story written again has the id of one of these stories (the id of its first page's
        story), a member one of these pages. An increment copies those of its stories only, not every row."""
        self.db.execute("create temp table first_story (id text primary key, first_run integer)")
        self.db.execute("create temp table first_member (url text primary key, first_run integer)")
        if story_ids is None:
            self.db.execute("insert into temp.first_story select id, first_run from main.stories")
            self.db.execute("insert into temp.first_member select url, first_run from main.members")
            return
        for kept, table, key, keys in (("first_story", "stories", "id", story_ids), ("first_member", "members", "url", urls)):
            for chunk in batched(keys, _CHUNK):
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"insert or ignore into temp.{kept} select {key}, first_run from main.{table} "
                                f"where {key} in ({marks})", chunk)

    @contextmanager
    def pass_settings(self, options: SaveOptions) -> Iterator[None]:
        """SQLite set for a grouping pass's writes until the block ends, then as before: the page cache
        (``options.cache_mb``), the WAL size at which a commit copies it into the file (``checkpoint_mb``) and the
        threads a sort may use (``sort_threads``)."""
        settings = {"cache_size": -1024 * int(options.cache_mb),
                    "wal_autocheckpoint": max(1, int(options.checkpoint_mb) * 1024 * 1024 // self._page_size()),
                    "threads": int(options.sort_threads)}
        before = {name: self.db.execute(f"pragma {name}").fetchone()[0] for name in settings}
        for name, value in settings.items():
            self.db.execute(f"pragma {name} = {value}")
        try:
            yield
        finally:
            for name, value in before.items():
                self.db.execute(f"pragma {name} = {int(value)}")

    def _page_size(self) -> int:
        return int(self.db.execute("pragma page_size").fetchone()[0])

    @contextmanager
    def _bulk_write(self, options: SaveOptions) -> Iterator[None]:
        """Foreign keys not checked, and the page cache and temporary store of ``options``, until the write
        ends; then as before. The rows of a grouping pass hold their keys by construction (every page was read
        from articles in this pass, and each batch writes its stories before their members), and checking them
        looked up each row's article and story: half of a save's time. The journal is untouched, so a killed
        write still leaves the last committed state. Inside an open transaction (where SQLite ignores the
        foreign-key switch) nothing is changed."""
        if self._batching or self.db.conn.in_transaction:
            yield
            return
        before = {name: self.db.execute(f"pragma {name}").fetchone()[0]
                  for name in ("foreign_keys", "cache_size", "temp_store")}
        settings = {"foreign_keys": 0, "cache_size": -1024 * options.cache_mb,
                    "temp_store": 2 if options.temp_in_memory else before["temp_store"]}
        try:
            for name, value in settings.items():
                self.db.execute(f"pragma {name} = {int(value)}")
            yield
        finally:
            for name, value in before.items():
                self.db.execute(f"pragma {name} = {int(value)}")

    def _delete_results(self, story_ids: Iterable[str] | None, urls: Iterable[str], relinked: Iterable[str] = ()
                        ) -> list[str]:
        """The results about to be replaced: every one, or those of these stories and pages and the "contains"
        links of the ``relinked`` pages (named in temporary tables, each table's rows deleted by one statement).
        Replacing every one empties the tables and drops
        their indexes by story and verdict, returned as the statements that make them again once the rows are
        in: one sort each instead of an insert at a random place per row."""
        if story_ids is None:
            tables = ("audits", "lineage", "members", "stories", "contains")
            indexes = self.db.execute(f"select name, sql from sqlite_master where type = 'index' and sql is not null "
                                      f"and tbl_name in ({','.join('?' * len(tables))})", tables).fetchall()
            for name, _ in indexes:
                self.db.execute(f"drop index [{name}]")
            for table in tables:
                self.db.execute(f"delete from {table}")
            return [sql for _, sql in indexes]
        self.db.execute("create temp table replaced_story (id text primary key)")
        self.db.execute("create temp table replaced_page (url text primary key)")
        self.db.conn.executemany("insert or ignore into temp.replaced_story values (?)", ((i,) for i in story_ids))
        self.db.conn.executemany("insert or ignore into temp.replaced_page values (?)", ((u,) for u in urls))
        for table in ("audits", "lineage", "members", "contains"):
            self.db.execute(f"delete from {table} where story_id in (select id from temp.replaced_story) "
                            "or url in (select url from temp.replaced_page)")
        self.db.execute("delete from temp.replaced_page")
        self.db.conn.executemany("insert or ignore into temp.replaced_page values (?)", ((u,) for u in relinked))
        self.db.execute("delete from contains where url in (select url from temp.replaced_page)")
        self.db.execute("delete from stories where id in (select id from temp.replaced_story) "
                        "and id not in (select story_id from members)")
        self.db.execute("drop table temp.replaced_story")
        self.db.execute("drop table temp.replaced_page")
        return []

    def _stage_results(self) -> None:
        """Empty temporary tables shaped like the results tables, without their keys: a pass that replaces every
        result appends its rows there as they come, in the order pages are traced (the order of the file)."""
        for table in _RESULT_KEYS:
            self.db.execute(f"create temp table [staged_{table}] as select * from main.[{table}] where 0")

    def _unstage_results(self) -> None:
        """The staged rows into the emptied results tables, sorted by key: each key index then grows at its end
        instead of taking every row at a random place (the save of 100,000 pages 0.78×, of a million 0.90×;
        bench/RESULTS.md, tenth session). Of rows with the same key the last written stays, as with an upsert."""
        for table, key in _RESULT_KEYS.items():
            names = ", ".join(f"[{c}]" for c in self.db[table].columns_dict)
            order = ", ".join(f"[{c}]" for c in key)
            self.db.execute(f"insert or replace into main.[{table}] ({names}) select {names} from temp.[staged_{table}] "
                            f"order by {order}, rowid")
            self.db.execute(f"drop table temp.[staged_{table}]")

    def _write_results(self, stories: list[dict], members: list[dict], lineage: list[dict], audits: list[dict],
                       contains: list[dict] | None = None, staged: bool = False) -> None:
        """One batch of :meth:`replacing_results`, each story and member with the run it first appeared in;
        appended to the staged tables when ``staged``."""
        for rows, table, key in ((stories, "first_story", "id"), (members, "first_member", "url")):
            first: dict[str, int | None] = {}
            for chunk in batched([r[key] for r in rows], _CHUNK):
                marks = ",".join("?" * len(chunk))
                first.update(self.db.execute(f"select {key}, first_run from temp.{table} where {key} in ({marks})", chunk))
            for r in rows:
                if r[key] in first:
                    r["first_run"] = first[r[key]]
        for table, rows in zip(_RESULT_KEYS, (stories, members, lineage, audits, contains or [])):
            self._upsert_rows(table, rows, _RESULT_KEYS[table], staged)

    def _upsert_rows(self, table: str, rows: list[dict], pk: tuple[str, ...], staged: bool = False) -> None:
        """Rows of plain values (str, int, float, bytes, None) with the same columns, each dict bound by name
        in one ``executemany``: a grouping pass writes a row per page into three tables, and converting each
        row's values in Python, as ``_upsert_all`` does, took a fifth of the save.

        Raises:
            ValueError: a row whose columns are not the first row's (a name missing makes SQLite refuse the row,
                but a name too many would be dropped unseen).
        """
        if not rows:
            return
        columns = tuple(rows[0])
        if any(len(r) != len(columns) for r in rows):
            raise ValueError(f"rows for {table} with different columns")
        if staged:   # appended to the staged copy (``_stage_results``), which has no key to conflict on
            names = ", ".join(f"[{c}]" for c in columns)
            sql = f"insert into temp.[staged_{table}] ({names}) values ({', '.join(f':{c}' for c in columns)})"
        else:
            sql = _upsert_sql(table, columns, pk, named=True)
        self.db.conn.executemany(sql, rows)

    def story(self, story_id: str) -> dict | None:
        rows = list(self.db.query("select * from stories where id = ?", [story_id]))
        return rows[0] if rows else None

    def story_of(self, url: str) -> str | None:
        row = self.db.execute("select story_id from members where url = ?", [url]).fetchone()
        return row[0] if row else None

    def story_members(self, story_ids: Iterable[str]) -> list[str]:
        """The pages of these stories."""
        out: list[str] = []
        for chunk in batched(sorted(set(story_ids)), _CHUNK):
            marks = ",".join("?" * len(chunk))
            out.extend(u for (u,) in self.db.execute(f"select url from members where story_id in ({marks})", chunk))
        return out

    def articles_without_story(self) -> list[str]:
        """Article pages that belong to no story (new since the last grouping, or left by an interrupted one)."""
        return [u for (u,) in self.db.execute("select url from articles where page_type = 'article' "
                                              "and url not in (select url from members)")]

    def grouping_state(self, name: str) -> str | None:
        """A value the last grouping pass kept (see ``replace_results``), or None."""
        row = self.db.execute("select value from grouping_state where name = ?", [name]).fetchone()
        return row[0] if row else None

    def keep_grouping_state(self, name: str, value: str) -> None:
        """Keep a value for the next grouping pass (one a stage keeps for itself, outside the results)."""
        with self.transaction():
            self._upsert_all("grouping_state", [{"name": name, "value": value}], ("name",))

    def story_sites(self, story_ids: Iterable[str]) -> Iterator[tuple[str, str, str]]:
        """(story, page, its site) of every page of these stories."""
        for chunk in batched(sorted(set(story_ids)), _CHUNK):
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(f"select m.story_id, m.url, a.site from members m join articles a on a.url = m.url "
                                       f"where m.story_id in ({marks})", chunk).fetchall()

    def stories_on_sites(self, sites: Iterable[str]) -> set[str]:
        """The stories with a page on one of these sites."""
        out: set[str] = set()
        for chunk in batched(sorted(set(sites)), _CHUNK):
            marks = ",".join("?" * len(chunk))
            out.update(s for (s,) in self.db.execute(f"select distinct m.story_id from members m join articles a "
                                                     f"on a.url = m.url where a.site in ({marks})", chunk))
        return out

    def story_membership(self, urls: list[str]) -> dict[str, tuple[str, int, str | None]]:
        """(story, the story's size, the page's role) of each of these pages that belongs to a story."""
        out: dict[str, tuple[str, int, str | None]] = {}
        for chunk in batched(urls, _CHUNK):
            marks = ",".join("?" * len(chunk))
            out.update((u, (sid, size, role)) for u, sid, size, role in self.db.execute(
                f"select m.url, m.story_id, s.size, m.role from members m join stories s on s.id = m.story_id "
                f"where m.url in ({marks})", chunk))
        return out

    def story_rows(self, story_ids: list[str]) -> tuple[list[dict], list[dict]]:
        """The stored rows of these stories and of their members, as a grouping pass wrote them."""
        stories: list[dict] = []
        members: list[dict] = []
        for chunk in batched(story_ids, _CHUNK):
            marks = ",".join("?" * len(chunk))
            stories.extend(self.db.query(f"select * from stories where id in ({marks})", chunk))
            members.extend(self.db.query(f"select * from members where story_id in ({marks})", chunk))
        return stories, members

    def member_stories(self) -> dict[str, str]:
        """The story of every page that belongs to one."""
        return dict(self.db.execute("select url, story_id from members"))

    def stories_of(self, urls: list[str]) -> set[str]:
        """The stories these pages belong to."""
        out: set[str] = set()
        for chunk in batched(urls, _CHUNK):
            marks = ",".join("?" * len(chunk))
            out.update(s for (s,) in self.db.execute(f"select story_id from members where url in ({marks})", chunk))
        return out

    def story_counts(self) -> tuple[int, int]:
        """(stories, stories with copies)."""
        return (self.db["stories"].count,
                self.db.execute("select count(*) from stories where size > 1").fetchone()[0])

    def story_with_copies_on(self, site: str) -> str | None:
        """A story with copies that has a page on this site."""
        row = self.db.execute(
            "select m.story_id from members m join articles a on a.url = m.url "
            "where a.site = ? and m.story_id in (select id from stories where size > 1) limit 1", [site]).fetchone()
        return row[0] if row else None

    def list_stories(self, since: str | None = None, site: str | None = None, min_copies: int = 0,
                     sort: str = "spread", new_in_run: int | None = None) -> list[dict]:
        """Stories with their origin's site, filtered, in one of the :data:`STORY_ORDER` orders."""
        sql = "select s.*, a.site as origin_site from stories s left join articles a on a.url = s.origin_url where 1=1"
        params: list = []
        if since:
            sql += " and s.first_published >= ?"
            params.append(since)
        if site:
            sql += " and s.id in (select m.story_id from members m join articles x on x.url = m.url where x.site = ?)"
            params.append(site)
        if min_copies:
            sql += " and s.size - 1 >= ?"
            params.append(min_copies)
        if new_in_run is not None:
            sql += " and s.id in (select story_id from members where first_run = ?)"
            params.append(new_in_run)
        return list(self.db.query(sql + " order by " + STORY_ORDER[sort], params))

    def story_origins(self) -> dict[str, dict]:
        """Each story's origin page: story id → {url, story_id, site, title, license}."""
        return {r["story_id"]: r for r in self.db.query(
            "select m.url, m.story_id, a.site, a.title, au.license from members m join articles a on a.url = m.url "
            "left join audits au on au.url = m.url where m.is_origin = 1")}

    def verdict_counts(self) -> dict[str, dict[str, int]]:
        """How many of each story's pages have each verdict: story id → {verdict: count}."""
        out: dict[str, dict[str, int]] = {}
        for story, verdict, n in self.db.execute(
                "select m.story_id, a.verdict, count(*) from members m join audits a on a.url = m.url "
                "group by m.story_id, a.verdict"):
            out.setdefault(story, {})[verdict] = n
        return out

    def sites(self) -> list[str]:
        """Every site with a stored page, in order."""
        return [s for (s,) in self.db.execute("select distinct site from articles where site is not null order by site")]

    def members(self, story_id: str | None = None) -> list[dict]:
        sql = ("select m.*, l.signal, l.evidence, l.changes, a.verdict, a.credits_origin, a.credits_parent, a.links_to_origin, "
               "a.author_kept, a.license, a.copyright, a.reasons, a.conflicts, a.added, a.removed, "
               "ar.site, ar.title, ar.author, ar.published, ar.modified "
               "from members m left join lineage l on l.url = m.url left join audits a on a.url = m.url "
               "join articles ar on ar.url = m.url")
        params: list[Any] = []
        if story_id is not None:
            sql += " where m.story_id = ?"
            params.append(story_id)
        rows = []
        for row in self.db.query(sql + " order by m.story_id, ar.published, m.url", params):
            for key in ("evidence", "reasons", "conflicts", "added", "removed", "changes"):
                row[key] = json.loads(row[key]) if row.get(key) else ([] if key not in ("evidence", "changes") else {})
            rows.append(row)
        return rows

    def grouping_rows(self) -> dict[str, list[tuple]]:
        """Every table a grouping pass writes, row for row in a fixed order: what two grouping paths (local and
        a distributed engine) must agree on. Stories without their run-dependent columns."""
        return {table: [tuple(r) for r in self.db.execute(sql).fetchall()] for table, sql in GROUPING_TABLES.items()}

    def contains(self, story_id: str | None = None) -> list[dict]:
        """"Contains" links (a page holding a piece of a page of another story), of one story's pages or all,
        with both stories' titles."""
        sql = ("select c.url, c.contained_url, c.story_id, c.contained_story, s.title as story_title, "
               "t.title as contained_title from contains c left join stories s on s.id = c.story_id "
               "left join stories t on t.id = c.contained_story")
        params: list[Any] = []
        if story_id is not None:
            sql += " where c.story_id = ? or c.contained_story = ?"
            params = [story_id, story_id]
        return list(self.db.query(sql + " order by c.story_id, c.url, c.contained_url", params))


class PageReader:
    """Articles' stored pages by URL, read in whichever process needs them (``Store.page_reader``). Pickled, a
    reader is the database's path, and a grouping worker reads its own batch's texts or articles from the
    file, through one read-only connection a process: the process that writes the database neither reads
    them nor ships them. At a million articles those reads, one process reading a row at a time, kept the
    workers waiting through three stages."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)

    def texts(self, urls: list[str]) -> dict[str, str | None]:
        """The stored paragraphs (JSON) of these articles, by URL (an URL not stored is left out).

        Raises:
            StorageError: the file cannot be read.
        """
        try:
            return {row.url: row.paragraphs_json for row in _stored_texts(_reader(self.path), urls)}
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot read texts from {self.path}: {exc}") from None

    def lineage_articles(self, urls: list[str]) -> list[dict]:
        """``Store.lineage_articles``, from the file.

        Raises:
            StorageError: the file cannot be read.
        """
        try:
            return _lineage_articles(_reader(self.path), urls)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot read articles from {self.path}: {exc}") from None


class CarriedPages:
    """Stored texts or lineage articles read by the process that made a batch, carried with it
    (``Store.carried_pages``), read as a ``PageReader`` is."""

    def __init__(self, texts: dict[str, str | None] | None = None, articles: list[dict] | None = None):
        self.found = texts or {}
        self.articles = articles or []

    def texts(self, urls: list[str]) -> dict[str, str | None]:
        return {url: self.found[url] for url in urls if url in self.found}

    def lineage_articles(self, urls: list[str]) -> list[dict]:
        wanted = set(urls)
        return [a for a in self.articles if a["url"] in wanted]


PageSource = PageReader | CarriedPages
_READERS: dict[tuple[int, str], sqlite3.Connection] = {}   # this process's read-only connection (``PageReader``)


def _stored_texts(conn: sqlite3.Connection, urls: list[str]) -> Iterator[StoredText]:
    """``Store.stored_texts`` through ``conn`` (each chunk fetched whole: the caller may write between two rows)."""
    for chunk in batched(urls, _CHUNK):
        yield from (StoredText(*row) for row in conn.execute(
            f"select url, site, paragraphs from articles where url in ({','.join('?' * len(chunk))})", chunk).fetchall())


def _lineage_articles(conn: sqlite3.Connection, urls: Iterable[str]) -> list[dict]:
    """``Store.lineage_articles`` through ``conn``."""
    rows: list[dict] = []
    for chunk in batched(sorted(set(urls)), _CHUNK):
        cursor = conn.execute("select url, site, title, author, published, canonical, paragraphs, attribution "
                              f"from articles where url in ({','.join('?' * len(chunk))}) order by url", chunk)
        names = [c[0] for c in cursor.description]
        rows.extend(dict(zip(names, row)) for row in cursor.fetchall())
    return rows


def _close_reader(path: str) -> None:
    """Close this process's read-only connection to ``path`` (``PageReader``), if it has one."""
    found = _READERS.pop((os.getpid(), os.path.abspath(path)), None)
    if found is not None:
        found.close()


def _reader(path: str) -> sqlite3.Connection:
    """This process's read-only connection to ``path``, kept for its next batches; one at a time, a connection
    to another file is closed. Keyed by process: a forked worker neither uses nor closes (nor lets go of) one
    its parent opened, which SQLite forbids across a fork."""
    key = (os.getpid(), path)
    if key not in _READERS:
        for mine in [k for k in _READERS if k[0] == key[0]]:
            _READERS.pop(mine).close()
        _READERS[key] = sqlite3.connect(Path(path).as_uri() + "?mode=ro", uri=True, timeout=30,
                                        check_same_thread=False)
    return _READERS[key]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # alive, another user's
        return True
    return pid != os.getpid()


def decode_lineage_article(row: dict) -> dict:
    """A :meth:`Store.lineage_articles` row with its paragraphs and attribution decoded (in place)."""
    row["paragraphs"] = json.loads(row["paragraphs"] or "[]")
    row["attribution"] = json.loads(row["attribution"] or "{}")
    return row


def authors_of(row: dict) -> list[str]:
    """A stored row's authors: its JSON list, else its one ``author`` string as a list of one."""
    value = row.get("authors")
    if isinstance(value, list):
        return value
    try:
        names = json.loads(value) if value else None
    except ValueError:
        names = None
    names = [n for n in names if isinstance(n, str) and n] if isinstance(names, list) else []
    return names or ([row["author"]] if row.get("author") else [])

