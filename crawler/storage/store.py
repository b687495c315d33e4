"""The one module that owns syndtrace's SQLite schema.

Crawler, ingest, grouping and the CLI all read and write through :class:`Store`. Rows are keyed by the
URL key (``crawler.page.urls.url_key``), so storing the same page twice never makes two rows. The schema
carries a version in ``meta``; :data:`MIGRATIONS` brings an older file up to date, and a file from a
newer syndtrace is refused rather than damaged.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

import sqlite_utils

from crawler.errors import LockedError, StorageError

SCHEMA_VERSION = 3


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _schema_v1(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["runs"].create(
        {"id": int, "kind": str, "started": str, "ended": str, "status": str, "pages_fetched": int,
         "new": int, "changed": int, "unchanged": int, "errors": int, "stories_new": int, "options": str},
        pk="id", if_not_exists=True,
    )
    db["fetches"].create(
        {"url": str, "requested_url": str, "final_url": str, "status": int, "headers": str, "fetched_at": str,
         "body": bytes, "content_hash": str, "content_type": str, "etag": str, "last_modified": str,
         "source": str, "run_id": int, "error": str},
        pk="url", foreign_keys=[("run_id", "runs", "id")], if_not_exists=True,
    )
    db["aliases"].create({"source_url": str, "target_url": str, "status": int}, pk="source_url", if_not_exists=True)
    db["outlets"].create({"host": str, "name": str}, pk="host", if_not_exists=True)
    db["sites"].create({"url": str, "feed": str, "max_pages": int, "delay": float, "added": str},
                       pk="url", if_not_exists=True)
    db["articles"].create(
        {"url": str, "site": str, "page_type": str, "title": str, "author": str, "published": str, "modified": str,
         "site_name": str, "canonical": str, "language": str, "text": str, "paragraphs": str, "words": int,
         "attribution": str, "evidence": str, "content_hash": str, "extracted_at": str},
        pk="url", foreign_keys=[("url", "fetches", "url")], if_not_exists=True,
    )
    db["signatures"].create(
        {"url": str, "num_perm": int, "seed": int, "scheme": str, "shingle_size": int, "n_shingles": int,
         "hashvalues": bytes, "lead_hashvalues": bytes, "content_hash": str},
        pk="url", foreign_keys=[("url", "articles", "url")], if_not_exists=True,
    )
    db["edges"].create(
        {"a": str, "b": str, "containment": float, "jaccard": float},
        pk=("a", "b"), if_not_exists=True,
    )
    db["stories"].create(
        {"id": str, "origin_url": str, "size": int, "sites": int, "first_published": str, "last_published": str,
         "title": str, "uncredited": int, "first_run": int, "updated_at": str},
        pk="id", if_not_exists=True,
    )
    db["members"].create(
        {"url": str, "story_id": str, "is_origin": int, "parent_url": str, "similarity": float,
         "containment": float, "first_run": int},
        pk="url", foreign_keys=[("url", "articles", "url"), ("story_id", "stories", "id")], if_not_exists=True,
    )
    db["lineage"].create(
        {"url": str, "story_id": str, "parent_url": str, "origin_url": str, "signal": str, "evidence": str},
        pk="url", foreign_keys=[("url", "articles", "url")], if_not_exists=True,
    )
    db["audits"].create(
        {"url": str, "story_id": str, "credits_origin": int, "credits_parent": int, "links_to_origin": int,
         "author_kept": int, "license": str, "copyright": str, "verdict": str, "reasons": str,
         "conflicts": str, "added": str, "removed": str},
        pk="url", foreign_keys=[("url", "articles", "url")], if_not_exists=True,
    )
    for table, cols in [("fetches", ["content_hash"]), ("members", ["story_id"]), ("articles", ["site"]),
                        ("articles", ["published"]), ("audits", ["verdict"]), ("lineage", ["story_id"]),
                        ("aliases", ["target_url"]), ("edges", ["b"])]:
        db[table].create_index(cols, if_not_exists=True)
    if not db["articles_fts"].exists():
        db["articles"].enable_fts(["title", "text"], create_triggers=True, tokenize="porter")
    from crawler.storage.schema import create_views

    create_views(db)


def _schema_v2(db: sqlite_utils.Database) -> None:
    """Several leads per signature: record their sizes, so signatures made with other sizes are redone."""
    if "lead_words" not in db["signatures"].columns_dict:
        db["signatures"].add_column("lead_words", str)


def _schema_v3(db: sqlite_utils.Database) -> None:
    """Signatures keep their article's paragraph identities, so grouping does not normalise unchanged texts again."""
    columns = db["signatures"].columns_dict
    if "paragraphs_hash" not in columns:
        db["signatures"].add_column("paragraphs_hash", str)
    if "paragraph_keys" not in columns:
        db["signatures"].add_column("paragraph_keys", bytes)


MIGRATIONS = {1: _schema_v1, 2: _schema_v2, 3: _schema_v3}


@dataclass
class FetchRecord:
    """One HTTP capture, as the crawler or a WARC file saw it."""

    url: str
    requested_url: str
    final_url: str
    status: int
    headers: dict
    body: bytes
    fetched_at: str
    content_type: str = ""
    source: str = "crawl"
    error: str | None = None

    @property
    def content_hash(self) -> str:
        return hashlib.sha1(self.body).hexdigest()

    @classmethod
    def from_capture(cls, capture) -> "FetchRecord":
        """From a crawl's capture (a PageItem, or its dict sent through Redis)."""
        headers = capture["headers"] or {}
        return cls(url=capture["url"], requested_url=capture["requested_url"], final_url=capture["final_url"],
                   status=capture["status"], headers=headers, body=capture["body"],
                   fetched_at=capture["fetched_at"], content_type=headers.get("content-type", ""),
                   error=capture.get("error"))


class Store:
    """A syndtrace database file.

    Example:
        >>> store = Store(":memory:")
        >>> store.schema_version()
        1
    """

    def __init__(self, path: str | os.PathLike = "syndtrace.db", *, create: bool = True):
        self.path = str(path)
        if self.path != ":memory:":
            if not create and not os.path.exists(self.path):
                raise StorageError(f"no database at {self.path}; run 'syndtrace crawl' or 'syndtrace demo' first")
            parent = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(parent):
                raise StorageError(f"cannot create database {self.path}: folder {parent} does not exist")
        try:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            self.db = sqlite_utils.Database(conn)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot use database {self.path}: {exc}") from None

    # -- schema ---------------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self.db["meta"].exists():
            return 0
        row = self.db.execute("select value from meta where key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} has schema version {current}, newer than this syndtrace ({SCHEMA_VERSION}); upgrade syndtrace"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.db.conn:
                MIGRATIONS[version](self.db)
                self.db["meta"].upsert({"key": "schema_version", "value": str(version)}, pk="key")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        try:
            with self.db.conn:
                yield
        except sqlite3.OperationalError as exc:
            raise StorageError(f"cannot write to {self.path}: {exc}") from None

    def close(self) -> None:
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
        fh = open(lock_path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            raise LockedError(f"another syndtrace run is using {self.path} ({holder or 'pid unknown'}); try later") from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {utc_now()}")
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

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

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("select value from meta where key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db["meta"].upsert({"key": key, "value": value}, pk="key")

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

    def runs(self, limit: int = 10) -> list[dict]:
        return list(self.db.query("select * from runs order by id desc limit ?", [limit]))

    def last_finished_run(self, kinds: tuple[str, ...] = ("crawl", "ingest", "demo")) -> dict | None:
        """The newest run that stored pages and finished."""
        marks = ",".join("?" * len(kinds))
        rows = list(self.db.query(
            f"select * from runs where kind in ({marks}) and status = 'finished' order by id desc limit 1", list(kinds)))
        return rows[0] if rows else None

    # -- fetches --------------------------------------------------------------------------------
    def fetch_state(self, url: str) -> dict | None:
        """What is remembered of a page: validators for a conditional re-fetch."""
        row = self.db.execute(
            "select url, etag, last_modified, content_hash, status from fetches where url = ?", [url]
        ).fetchone()
        if not row:
            return None
        return dict(zip(("url", "etag", "last_modified", "content_hash", "status"), row))

    def known_urls(self) -> set[str]:
        return {r[0] for r in self.db.execute("select url from fetches where status between 200 and 299")}

    def save_fetch(self, rec: FetchRecord, run_id: int | None = None) -> str:
        """Store a capture; returns 'new', 'changed' or 'unchanged'."""
        previous = self.db.execute("select content_hash from fetches where url = ?", [rec.url]).fetchone()
        digest = rec.content_hash
        state = "new" if previous is None else ("unchanged" if previous[0] == digest else "changed")
        headers = {k.lower(): v for k, v in rec.headers.items()}
        with self.transaction():
            self.db["fetches"].upsert(
                {"url": rec.url, "requested_url": rec.requested_url, "final_url": rec.final_url,
                 "status": rec.status, "headers": json.dumps(headers), "fetched_at": rec.fetched_at,
                 "body": zlib.compress(rec.body, 6), "content_hash": digest,
                 "content_type": rec.content_type or headers.get("content-type", ""),
                 "etag": headers.get("etag"), "last_modified": headers.get("last-modified"),
                 "source": rec.source, "run_id": run_id, "error": rec.error},
                pk="url",
            )
            if rec.requested_url and rec.requested_url != rec.url:
                self.db["aliases"].upsert(
                    {"source_url": rec.requested_url, "target_url": rec.url, "status": 301}, pk="source_url")
        return state

    def save_failure(self, url: str, status: int, error: str, run_id: int | None = None) -> None:
        """Record a page that could not be fetched (404, refused, too large) without losing an older capture."""
        with self.transaction():
            if self.db.execute("select 1 from fetches where url = ? and status between 200 and 299", [url]).fetchone():
                return
            self.db["fetches"].upsert(
                {"url": url, "requested_url": url, "final_url": url, "status": status, "headers": "{}",
                 "fetched_at": utc_now(), "body": b"", "content_hash": None, "content_type": "",
                 "source": "crawl", "run_id": run_id, "error": error},
                pk="url",
            )

    def same_page_elsewhere(self, rec: FetchRecord) -> str | None:
        """Another URL of the same site already stored with byte-identical content (``?ref=`` twins)."""
        host = rec.url.split("/", 3)[2] if rec.url.count("/") >= 2 else ""
        row = self.db.execute(
            "select url from fetches where content_hash = ? and url != ? and (url like ? or url = ?) limit 1",
            [rec.content_hash, rec.url, f"http://{host}/%", f"http://{host}"]).fetchone()
        return row[0] if row else None

    def save_alias(self, source: str, target: str, status: int = 200) -> None:
        with self.transaction():
            self.db["aliases"].upsert({"source_url": source, "target_url": target, "status": status}, pk="source_url")

    def touch_fetch(self, url: str, run_id: int | None) -> None:
        """A conditional request said the page is unchanged (304)."""
        with self.transaction():
            self.db.execute("update fetches set fetched_at = ?, run_id = ? where url = ?", [utc_now(), run_id, url])

    def iter_fetches(self, urls: Iterable[str] | None = None) -> Iterator[dict]:
        """Stored successful captures with their decompressed bodies."""
        sql = "select url, final_url, status, headers, fetched_at, body, content_hash from fetches where status between 200 and 299"
        rows: Iterable
        if urls is None:
            rows = self.db.execute(sql)
        else:
            rows = (r for u in urls for r in self.db.execute(sql + " and url = ?", [u]))
        for url, final_url, status, headers, fetched_at, body, content_hash in rows:
            yield {"url": url, "final_url": final_url, "status": status, "headers": json.loads(headers or "{}"),
                   "fetched_at": fetched_at, "body": zlib.decompress(body) if body else b"",
                   "content_hash": content_hash}

    def fetch_body(self, url: str) -> bytes | None:
        row = self.db.execute("select body from fetches where url = ?", [url]).fetchone()
        return zlib.decompress(row[0]) if row and row[0] else None

    def resolve_alias(self, url: str) -> str:
        seen = {url}
        while True:
            row = self.db.execute("select target_url from aliases where source_url = ?", [url]).fetchone()
            if not row or row[0] in seen:
                return url
            url = row[0]
            seen.add(url)

    # -- outlets --------------------------------------------------------------------------------
    def save_outlet(self, host: str, name: str | None) -> None:
        if not name:
            return
        with self.transaction():
            self.db["outlets"].upsert({"host": host, "name": name}, pk="host")

    def outlets(self) -> dict[str, str]:
        return {h: n for h, n in self.db.execute("select host, name from outlets")}

    # -- articles -------------------------------------------------------------------------------
    def save_article(self, row: dict) -> None:
        row = dict(row)
        for key in ("paragraphs", "attribution", "evidence"):
            if not isinstance(row.get(key), str):
                row[key] = json.dumps(row.get(key) or ([] if key == "paragraphs" else {}))
        row.setdefault("extracted_at", utc_now())
        with self.transaction():
            self.db["articles"].upsert(row, pk="url", alter=False)

    def delete_article(self, url: str) -> None:
        with self.transaction():
            for table in ("audits", "lineage", "members", "signatures"):
                self.db.execute(f"delete from {table} where url = ?", [url])
            self.db.execute("delete from articles where url = ?", [url])

    def articles(self, page_type: str | None = "article", urls: Iterable[str] | None = None) -> list[dict]:
        """Decoded article rows in URL order: all of one page type, or only those of ``urls``."""
        where = ["page_type = ?"] if page_type else []
        base: list[Any] = [page_type] if page_type else []
        if urls is None:
            chunks: Iterable[list[str]] = [[]]
        else:
            chunks = _chunks(sorted(set(urls)), 500)
        rows = []
        for chunk in chunks:
            clauses = where + ([f"url in ({','.join('?' * len(chunk))})"] if urls is not None else [])
            sql = "select * from articles" + (" where " + " and ".join(clauses) if clauses else "")
            rows.extend(self._decode_article(r) for r in self.db.query(sql + " order by url", base + chunk))
        return rows

    def article(self, url: str) -> dict | None:
        rows = list(self.db.query("select * from articles where url = ?", [url]))
        return self._decode_article(rows[0]) if rows else None

    @staticmethod
    def _decode_article(row: dict) -> dict:
        row = dict(row)
        row["paragraphs"] = json.loads(row.get("paragraphs") or "[]")
        row["attribution"] = json.loads(row.get("attribution") or "{}")
        row["evidence"] = json.loads(row.get("evidence") or "{}")
        return row

    def counts(self) -> dict[str, int]:
        out = {}
        for table in ("fetches", "articles", "signatures", "edges", "stories", "members", "audits", "runs"):
            out[table] = self.db[table].count
        out["article_pages"] = self.db.execute("select count(*) from articles where page_type = 'article'").fetchone()[0]
        return out

    # -- signatures -----------------------------------------------------------------------------
    def save_signatures(self, rows: list[dict]) -> None:
        with self.transaction():
            self.db["signatures"].upsert_all(rows, pk="url")

    def signatures(self) -> list[dict]:
        return list(self.db.query("select * from signatures"))

    def delete_signatures(self, urls: Iterable[str]) -> None:
        with self.transaction():
            for chunk in _chunks(list(urls), 500):
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"delete from signatures where url in ({marks})", chunk)
                self.db.execute(f"delete from edges where a in ({marks}) or b in ({marks})", chunk + chunk)

    # -- verified copy edges --------------------------------------------------------------------
    def save_edges(self, rows: list[dict], replace_all: bool = False) -> None:
        with self.transaction():
            if replace_all:
                self.db.execute("delete from edges")
            self.db["edges"].upsert_all(rows, pk=("a", "b"))

    def edges(self) -> list[dict]:
        return list(self.db.query("select a, b, containment, jaccard from edges"))

    # -- stories, lineage, audit ----------------------------------------------------------------
    def replace_results(self, stories: list[dict], members: list[dict], lineage: list[dict], audits: list[dict],
                        story_ids: Iterable[str] | None = None) -> None:
        """Swap in new grouping results atomically: for the given stories only, or for everything."""
        with self.transaction():
            if story_ids is None:
                for table in ("audits", "lineage", "members", "stories"):
                    self.db.execute(f"delete from {table}")
            else:
                ids = list(story_ids)
                urls = [m["url"] for m in members]
                for chunk in _chunks(ids, 500):
                    marks = ",".join("?" * len(chunk))
                    for table in ("audits", "lineage"):
                        self.db.execute(f"delete from {table} where story_id in ({marks})", chunk)
                    self.db.execute(f"delete from members where story_id in ({marks})", chunk)
                for chunk in _chunks(urls, 500):
                    marks = ",".join("?" * len(chunk))
                    for table in ("audits", "lineage", "members"):
                        self.db.execute(f"delete from {table} where url in ({marks})", chunk)
                for chunk in _chunks(ids, 500):
                    marks = ",".join("?" * len(chunk))
                    self.db.execute(
                        f"delete from stories where id in ({marks}) and id not in (select story_id from members)", chunk)
            self.db["stories"].upsert_all(stories, pk="id")
            self.db["members"].upsert_all(members, pk="url")
            self.db["lineage"].upsert_all(lineage, pk="url")
            self.db["audits"].upsert_all(audits, pk="url")
            self.db.execute("delete from stories where id not in (select story_id from members)")

    def stories(self) -> list[dict]:
        return list(self.db.query("select * from stories order by size desc, id"))

    def story(self, story_id: str) -> dict | None:
        rows = list(self.db.query("select * from stories where id = ?", [story_id]))
        return rows[0] if rows else None

    def story_of(self, url: str) -> str | None:
        row = self.db.execute("select story_id from members where url = ?", [url]).fetchone()
        return row[0] if row else None

    def members(self, story_id: str | None = None) -> list[dict]:
        sql = ("select m.*, l.signal, l.evidence, a.verdict, a.credits_origin, a.credits_parent, a.links_to_origin, "
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
            for key in ("evidence", "reasons", "conflicts", "added", "removed"):
                row[key] = json.loads(row[key]) if row.get(key) else ([] if key != "evidence" else {})
            rows.append(row)
        return rows


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
