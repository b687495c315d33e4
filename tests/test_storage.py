"""The storage layer, white-box: these tests may look at the SQLite file through ``Store.db``."""

import doctest
import json
import multiprocessing
import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import crawler.storage.store
from crawler.errors import StorageError, UserInputError
from crawler.options import SaveOptions
from crawler.storage.records import FetchRecord
from crawler.storage.schema import EDGE_COLUMNS, SCHEMA_VERSION, VIEWS
from crawler.storage.store import Store
from tests.conftest import file_at_schema

ROOT = Path(__file__).resolve().parent.parent


def capture(url="http://a.example/x", body=b"<html><body><p>hi</p></body></html>", **kw):
    return FetchRecord(url=url, requested_url=kw.pop("requested_url", url), final_url=url, status=200,
                       headers={"Content-Type": "text/html", "ETag": '"e1"', "Last-Modified": "Mon, 10 Feb 2020 00:00:00 GMT"},
                       body=body, fetched_at="2020-02-10T00:00:00+00:00", **kw)


def test_schema_version_wal_and_foreign_keys(store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("pragma foreign_keys").fetchone()[0] == 1
    for table in ("fetches", "articles", "signatures", "stories", "members", "lineage", "audits", "runs", "edges"):
        assert store.db[table].exists(), table


def test_bodies_stored_at_any_zlib_level_read_back_whole(store):
    """Bodies are stored at a fast zlib level; those an older syndtrace stored at level 6 read back the same."""
    body = b"<p>" + "caf\u00e9 ".join(str(n) for n in range(3000)).encode() + b"</p>"
    store.save_fetch(capture(body=body))
    store.save_fetch(capture(url="http://a.example/old", body=body))
    store.db.execute("update fetches set body = ? where url = ?", [zlib.compress(body, 6), "http://a.example/old"])
    assert [r["body"] for r in store.iter_fetches()] == [body, body]
    assert store.cached_page("http://a.example/old")[0] == body
    stored = store.db.execute("select body from fetches where url = ?", ["http://a.example/x"]).fetchone()[0]
    assert stored == zlib.compress(body, crawler.storage.store.BODY_COMPRESSION_LEVEL)


def test_same_page_twice_is_one_row_and_states(store):
    assert store.save_fetch(capture()) == "new"
    assert store.save_fetch(capture()) == "unchanged"
    assert store.save_fetch(capture(body=b"<html>changed</html>")) == "changed"
    assert store.db["fetches"].count == 1
    assert store.cached_page("http://a.example/x")[0] == b"<html>changed</html>"


def test_body_is_compressed_and_validators_kept(store):
    body = b"<p>" + b"repetitive text " * 1000 + b"</p>"
    store.save_fetch(capture(body=body))
    raw = store.db.execute("select length(body) from fetches").fetchone()[0]
    assert raw < len(body) / 5
    etag, last_modified = store.validators()["http://a.example/x"]
    assert etag == '"e1"' and last_modified.startswith("Mon")
    assert store.cached_page("http://a.example/x")[1]["etag"] == '"e1"'


def test_redirect_source_recorded_as_alias(store):
    store.save_fetch(capture(requested_url="http://shrt.example/abc"))
    assert store.resolve_alias("http://shrt.example/abc") == "http://a.example/x"
    assert store.resolve_alias("http://unknown.example/") == "http://unknown.example/"


def test_failure_never_overwrites_a_good_capture(store):
    store.save_fetch(capture())
    store.save_failure("http://a.example/x", 404, "HTTP 404")
    assert store.db.execute("select status from fetches").fetchone()[0] == 200
    store.save_failure("http://a.example/missing", 404, "HTTP 404")
    assert store.db.execute("select status, error from fetches where url like '%missing'").fetchone() == (404, "HTTP 404")


def test_article_upsert_is_idempotent(store):
    store.save_fetch(capture())
    row = {"url": "http://a.example/x", "site": "a.example", "page_type": "article", "title": "T",
           "paragraphs": ["one", "two"], "attribution": {"credits": []}, "text": "one\n\ntwo", "words": 2}
    store.save_article(row)
    store.save_article({**row, "title": "T2"})
    assert store.db["articles"].count == 1
    art = store.article("http://a.example/x")
    assert art["title"] == "T2" and art["paragraphs"] == ["one", "two"]


def test_article_pages_are_counted_whole_or_up_to_a_bound(store):
    """A full pass asks only whether there are enough article pages for its workers (a count of every one read a
    million-article file's index whole): the bound stops the count, other pages are never counted."""
    for n, kind in enumerate(["article", "article", "article", "listing"]):
        url = f"http://a.example/{n}"
        store.save_fetch(capture(url))
        store.save_article({"url": url, "site": "a.example", "page_type": kind})
    assert store.article_pages() == 3
    assert [store.article_pages(up_to=k) for k in (1, 2, 3, 1000)] == [1, 2, 3, 3]


def test_article_needs_its_capture(store):
    with pytest.raises((StorageError, sqlite3.IntegrityError)):
        store.save_article({"url": "http://nowhere.example/", "site": "x", "page_type": "article"})


def test_newer_schema_refused(db_path):
    s = Store(db_path)
    s.db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION + 1)}, pk="key")
    s.close()
    with pytest.raises(StorageError, match="newer"):
        Store(db_path)


def test_missing_db_and_missing_folder_are_clear_errors(tmp_path):
    with pytest.raises(StorageError, match="no database"):
        Store(tmp_path / "absent.db", create=False)
    with pytest.raises(StorageError, match="does not exist"):
        Store(tmp_path / "no" / "such" / "dir.db")


def test_runs_are_recorded(store):
    run = store.start_run("crawl", {"seeds": ["http://a.example/"]})
    store.finish_run(run, "finished", pages_fetched=3, new=2, changed=1)
    last = store.last_finished_run()
    assert last["id"] == run and last["pages_fetched"] == 3


def test_version_1_file_is_migrated(db_path):
    s = Store(db_path)
    s.db.execute("drop index signatures_states")   # a version 1 file has neither
    s.db.execute("alter table signatures drop column lead_words")
    s.db["meta"].upsert({"key": "schema_version", "value": "1"}, pk="key")
    s.close()
    s = Store(db_path)
    assert s.schema_version() == SCHEMA_VERSION
    assert "lead_words" in s.db["signatures"].columns_dict
    s.close()


def test_version_5_file_gets_author_lists(db_path):
    s = Store(db_path)
    s.save_fetch(FetchRecord(url="http://a.example/x", requested_url="http://a.example/x", final_url="http://a.example/x",
                             status=200, headers={}, body=b"<html></html>", fetched_at="2020-02-12T00:00:00+00:00"))
    s.db.execute("alter table articles drop column authors")
    s.db["articles"].insert({"url": "http://a.example/x", "site": "a.example", "page_type": "article",
                             "author": "Ana Ruiz"})
    s.db["meta"].upsert({"key": "schema_version", "value": "5"}, pk="key")
    s.db.conn.commit()
    s.close()
    s = Store(db_path)
    assert s.schema_version() == SCHEMA_VERSION
    assert s.article("http://a.example/x")["authors"] == ["Ana Ruiz"]
    assert json.loads(s.db.execute("select authors from articles").fetchone()[0]) == ["Ana Ruiz"]
    s.close()


def test_views_answer_on_a_real_schema(store):
    for name in VIEWS:
        assert list(store.db.query(f"select * from {name}")) == []


def test_numeric_dates_are_corrected_in_one_transaction(store):
    store.save_fetch(capture())
    store.save_article({"url": "http://a.example/x", "site": "a.example", "page_type": "article",
                        "published": "2020-03-04", "evidence": {"numeric_date": "03/04/2020"}})
    assert list(store.numeric_dates()) == [("http://a.example/x", "a.example", "03/04/2020", "2020-03-04")]
    store.set_published([("http://a.example/x", "2020-04-03")])
    assert store.article("http://a.example/x")["published"] == "2020-04-03"


def test_bad_search_expression_is_a_user_error(store):
    assert store.search('"unbalanced') == []                 # words are searched as words
    with pytest.raises(UserInputError, match="bad search expression"):
        store.search('"unbalanced', raw=True)


def test_status_history_knows_a_gone_page_and_keeps_its_capture(store):
    url = "http://a.example/x"
    runs = [store.start_run("crawl") for _ in range(5)]
    store.save_fetch(capture(url), runs[0])
    store.db["stories"].insert({"id": "st-1", "size": 1})
    store.db["articles"].insert({"url": url, "site": "a.example", "page_type": "article"})
    store.db["members"].insert({"url": url, "story_id": "st-1", "is_origin": 1})
    assert store.gone_pages() == {} and store.failures() == []
    store.save_failure(url, 404, "HTTP 404", runs[1])
    store.save_failure(url, 410, "HTTP 410", runs[2])
    assert store.gone_pages() == {url: ("st-1", runs[1])}          # gone since the first 404 of the streak
    assert store.cached_page(url)[0].startswith(b"<html>")         # the evidence is kept
    assert [f["status"] for f in store.failures(runs[2])] == [410] and len(store.failures()) == 2
    store.note_fetched(url, 304, runs[3])                          # back: answered "not modified"
    assert store.gone_pages() == {}
    store.save_failure(url, 503, "HTTP 503", runs[4])              # a server error is not "gone"
    assert store.gone_pages() == {}
    store.save_fetch(capture(url), runs[4])
    assert store.db.execute("select count(*) from status_history").fetchone()[0] == 4


def test_migration_to_v4_backfills_failures(tmp_path):
    path = str(tmp_path / "old.db")
    store = Store(path)
    run = store.start_run("crawl")
    store.save_failure("http://a.example/missing", 404, "HTTP 404", run)
    store.db.execute("drop table status_history")
    store.db.execute("update meta set value = '3' where key = 'schema_version'")
    store.db.conn.commit()
    store.close()
    again = Store(path)
    assert again.schema_version() == SCHEMA_VERSION and [f["url"] for f in again.failures(run)] == [
        "http://a.example/missing"]
    again.close()


def test_migration_to_v5_makes_relations_anew(tmp_path):
    """A file of main's v4 (edges without kinds or passages, no contains links) gets the relation columns, and
    its old edges are dropped so the next grouping pass aligns every pair again."""
    path = str(tmp_path / "v4.db")
    store = Store(path)
    store.db.execute("drop table contains")
    store.db.execute("drop index signatures_states")   # made by schema 16
    for table, columns in (("edges", EDGE_COLUMNS), ("members", {"role", "version", "version_url"}),
                           ("lineage", {"changes"}), ("stories", {"versions", "contains"}),
                           ("signatures", {"fingerprint"})):
        for column in columns:
            store.db.execute(f"alter table {table} drop column {column}")
    store.db["edges"].insert({"a": "http://a.example/1", "b": "http://b.example/1", "containment": 0.9, "jaccard": 0.8})
    store.db.execute("update meta set value = '4' where key = 'schema_version'")
    store.db.conn.commit()
    store.close()
    again = Store(path)
    assert again.schema_version() == SCHEMA_VERSION == 16
    assert set(EDGE_COLUMNS) <= set(again.db["edges"].columns_dict) and list(again.edges()) == []
    assert again.db["contains"].exists() and "version_url" in again.db["members"].columns_dict
    again.close()


def test_docstring_example_runs():
    assert doctest.testmod(crawler.storage.store).failed == 0


def test_a_batch_is_one_transaction_that_a_failure_rolls_back(store, db_path):
    """sqlite-utils commits a write that opens a transaction by itself: a batch must open its own, or each
    page's rows are committed one by one (a stopped ingest kept captures without their articles)."""
    with pytest.raises(RuntimeError), store.batch():
        store.save_fetch(capture())
        store.save_alias("http://b.example/y", "http://a.example/x")
        assert sqlite3.connect(db_path).execute("select count(*) from fetches").fetchone()[0] == 0   # not yet visible
        raise RuntimeError("stopped midway")
    assert store.counts()["fetches"] == 0 and store.aliases() == {}


def test_grouping_results_are_replaced_whole_or_not_at_all(store):
    store.save_fetch(capture())
    store.save_article({"url": "http://a.example/x", "site": "a.example", "page_type": "article"})
    member = {"url": "http://a.example/x", "is_origin": 1}
    store.replace_results([{"id": "st-1", "origin_url": "http://a.example/x", "size": 1}],
                          [{**member, "story_id": "st-1"}], [], [])
    real = store.db.execute

    def failing(sql, *args):
        if sql.startswith("delete from stories where id not in"):   # the last statement
            raise sqlite3.OperationalError("disk I/O error")
        return real(sql, *args)

    store.db.execute = failing
    with pytest.raises(StorageError):
        store.replace_results([{"id": "st-2", "origin_url": "http://a.example/x", "size": 1}],
                              [{**member, "story_id": "st-2"}], [], [])
    store.db.execute = real
    assert [r["id"] for r in store.db.query("select id from stories")] == ["st-1"]
    assert store.member_stories() == {"http://a.example/x": "st-1"}


def test_migration_to_v8_notes_every_stored_text_as_changed(tmp_path):
    """A file of v7 has no notes of changed texts: every article is noted once (its next grouping pass reads
    every text), and from then on the triggers note an article added or whose paragraphs or headline change (v14),
    not one written again as it was."""
    path = str(tmp_path / "v7.db")
    store = Store(path)
    for n in (1, 2):
        store.save_fetch(FetchRecord(url=f"http://a.example/{n}", requested_url=f"http://a.example/{n}",
                                     final_url=f"http://a.example/{n}", status=200, headers={}, body=b"x",
                                     fetched_at="2020-01-01T00:00:00"))
        store.save_article({"url": f"http://a.example/{n}", "site": "a.example", "page_type": "article",
                            "paragraphs": [f"Text {n}."]})
    store.db.execute("drop trigger articles_text_added")
    store.db.execute("drop trigger articles_text_changed")
    store.db.execute("drop table text_changes")
    store.db.execute("update meta set value = '7' where key = 'schema_version'")
    store.db.conn.commit()
    store.close()
    again = Store(path)
    noted, upto = again.text_changes()
    assert noted == {"http://a.example/1", "http://a.example/2"} and upto == 2
    again.forget_text_changes(upto)
    again.set_titles([("http://a.example/1", "A title")])
    again.save_article({"url": "http://a.example/2", "site": "a.example", "page_type": "article",
                        "paragraphs": ["Text 2, edited."]})
    noted, upto = again.text_changes()
    assert noted == {"http://a.example/1", "http://a.example/2"}
    again.forget_text_changes(upto)
    again.set_titles([("http://a.example/1", "A title")])
    again.save_article({"url": "http://a.example/2", "site": "a.example", "page_type": "article",
                        "paragraphs": ["Text 2, edited."]})
    assert again.text_changes()[0] == set()
    again.close()


def _pages(store, n):
    with store.batch():
        for i in range(n):
            store.save_fetch(capture(f"http://a.example/{i}"))
            store.save_article({"url": f"http://a.example/{i}", "site": "a.example", "page_type": "article"})


def _story_rows(story, n):
    """Stories, members, lineage and audits rows of one story of the pages 0 … n-1, as a pass writes them."""
    urls = [f"http://a.example/{i}" for i in range(n)]
    return ([{"id": story, "origin_url": urls[0], "size": n}],
            [{"url": u, "story_id": story, "is_origin": int(u == urls[0])} for u in urls],
            [{"url": u, "story_id": story, "signal": "origin"} for u in urls],
            [{"url": u, "story_id": story, "verdict": "origin"} for u in urls])


SQLITE_SETTINGS = ("foreign_keys", "cache_size", "temp_store")


def test_a_save_is_set_for_itself_and_then_set_back(store):
    """While results are written foreign keys go unchecked, with the cache and temporary store asked for; then
    every setting is as before, no row breaks a key, and the indexes dropped for the fill are back."""
    _pages(store, 3)
    before = {name: store.db.execute(f"pragma {name}").fetchone()[0] for name in SQLITE_SETTINGS}
    indexes = "select name, sql from sqlite_master where type = 'index' order by name"
    schema = store.db.execute(indexes).fetchall()
    with store.replacing_results(None, [], None, SaveOptions(cache_mb=8, temp_in_memory=True)) as write:
        during = {name: store.db.execute(f"pragma {name}").fetchone()[0] for name in SQLITE_SETTINGS}
        write(*_story_rows("st-1", 3))
    assert during == {"foreign_keys": 0, "cache_size": -8 * 1024, "temp_store": 2}
    assert {name: store.db.execute(f"pragma {name}").fetchone()[0] for name in SQLITE_SETTINGS} == before
    assert before["foreign_keys"] == 1
    assert store.db.execute("pragma foreign_key_check").fetchall() == []
    assert store.member_stories() == {f"http://a.example/{i}": "st-1" for i in range(3)}
    assert store.db.execute(indexes).fetchall() == schema


def _unordered_batches():
    """Two batches of results whose pages come in an order other than their keys', the second writing page 4's
    member row again (the last row of a key stays)."""
    url = "http://a.example/{}".format
    second = [{"id": "st-a", "origin_url": url(5), "size": 3}]
    members = [{"url": url(i), "story_id": "st-a", "is_origin": int(i == 5)} for i in (5, 3, 4)]
    first = [{"id": "st-b", "origin_url": url(0), "size": 3}]
    return [(first, [{"url": url(i), "story_id": "st-b", "is_origin": int(i == 0)} for i in (2, 0, 1)],
             [{"url": url(i), "story_id": "st-b", "signal": "origin"} for i in (1, 2, 0)], []),
            (second, members + [{**members[2], "is_origin": 7}],
             [{"url": url(i), "story_id": "st-a", "signal": "origin"} for i in (4, 5, 3)],
             [{"url": url(i), "story_id": "st-a", "verdict": "origin"} for i in (3, 5)])]


def test_a_save_of_every_result_stores_the_rows_upserts_would(store, tmp_path):
    """Replacing every result stages the rows as they come and moves them in key order at the end; what is
    stored is what upserting each batch gives (as a save of some stories does), a key written twice included."""
    upserted = Store(str(tmp_path / "upserted.db"))
    for s in (store, upserted):
        _pages(s, 6)
    with store.replacing_results(None, [], None, SaveOptions(staged_min_pages=0)) as write:
        assert store.db.execute("select name from sqlite_temp_master where name like 'staged%'").fetchall()
        for batch in _unordered_batches():
            write(*batch)
    with upserted.replacing_results([], [], None) as write:
        for batch in _unordered_batches():
            write(*batch)
    assert store.grouping_rows() == upserted.grouping_rows()
    assert store.db.execute("select is_origin from members where url = 'http://a.example/4'").fetchone()[0] == 7
    assert not store.db.execute("select name from sqlite_temp_master where name like 'staged%'").fetchall()
    upserted.close()


def test_rows_of_other_columns_are_refused_and_nothing_is_written(store):
    _pages(store, 2)
    stories, members, lineage, audits = _story_rows("st-1", 2)
    members[1]["extra"] = 1   # bound by name, a column too many would be dropped unseen
    with pytest.raises(ValueError, match="members"):
        store.replace_results(stories, members, lineage, audits)
    assert store.story_counts() == (0, 0)
    assert store.db.execute("pragma foreign_keys").fetchone()[0] == 1


def test_a_save_killed_midway_leaves_the_last_committed_results(store, db_path):
    """A process killed while it writes results (its rows spilled to the journal by a small cache) leaves the
    results of the last finished save, and a sound file."""
    _pages(store, 3000)
    store.replace_results(*_story_rows("st-1", 3000))
    committed = store.grouping_rows()
    script = ("import sys, time; from crawler.options import SaveOptions; from crawler.storage.store import Store\n"
              "from tests.test_storage import _story_rows\n"
              f"with Store({db_path!r}).replacing_results(None, [], None, SaveOptions(cache_mb=1)) as write:\n"
              "    write(*_story_rows('st-2', 3000)); print('written', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
        assert os.path.getsize(db_path + "-wal") > 1 << 20   # what it wrote reached the file
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    store.close()
    again = Store(db_path)
    assert again.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert again.grouping_rows() == committed
    assert again.db.execute("pragma foreign_keys").fetchone()[0] == 1


def test_a_large_write_does_not_leave_a_large_wal_behind(store, db_path):
    """SQLite reuses its write-ahead log without shrinking it: one big save kept gigabytes on disk for as long as
    the process (a crawl, a watch) held the database open. After the next checkpoint it is back under the limit."""
    limit = crawler.storage.store._WAL_KEPT_BYTES
    with store.db.conn:
        store.db.conn.executemany("insert into meta (key, value) values (?, ?)",
                                  ((f"filler-{i}", os.urandom(1000).hex()) for i in range(40_000)))
    assert os.path.getsize(db_path + "-wal") > limit
    store.db.conn.execute("pragma wal_checkpoint")
    with store.db.conn:
        store.db.conn.execute("insert into meta (key, value) values ('next', 'write')")
    assert os.path.getsize(db_path + "-wal") <= limit


def test_relinked_pages_lose_their_contains_links_and_keep_their_other_rows(store):
    """A story whose lineage stands keeps its rows while the "contains" links of its pages are made again: the links
    of the ``relinked`` pages are deleted (a link gone since is not left behind), and no other row."""
    _pages(store, 4)
    first = _story_rows("st-1", 2)   # pages 0 and 1
    second = ([{"id": "st-2", "origin_url": "http://a.example/2", "size": 2}],
              [{"url": f"http://a.example/{i}", "story_id": "st-2", "is_origin": int(i == 2)} for i in (2, 3)], [], [])
    links = [{"url": f"http://a.example/{i}", "contained_url": f"http://a.example/{i - 2}", "story_id": "st-2",
              "contained_story": "st-1"} for i in (2, 3)]
    store.replace_results(*(a + b for a, b in zip(first, second)), contains=links)
    before = store.grouping_rows()
    with store.replacing_results([], [], None, relinked=["http://a.example/2"]) as write:
        write([], [], [], [])
    after = store.grouping_rows()
    assert len(before["contains"]) == 2 and [r[0] for r in after["contains"]] == ["http://a.example/3"]
    assert {t: v for t, v in after.items() if t != "contains"} == {t: v for t, v in before.items() if t != "contains"}


def test_what_grouping_reads_of_every_page_but_its_text_comes_from_covering_indexes(tmp_path):
    """Every grouping pass reads every article page's site, title, credits and numeric date: from covering
    indexes (schema v10), not from the table's rows, which hold the text and paragraphs before ``attribution``
    and ``evidence``. A file of v9 gets them, and the reads give what they gave before."""
    path = str(tmp_path / "v9.db")
    store = Store(path)
    for n in (1, 2):
        url = f"http://a.example/{n}"
        store.save_fetch(FetchRecord(url=url, requested_url=url, final_url=url, status=200, headers={}, body=b"x",
                                     fetched_at="2020-01-01T00:00:00"))
        store.save_article({"url": url, "site": "a.example", "page_type": "article", "title": f"Title {n} - A",
                            "paragraphs": [f"Text {n}."], "evidence": {"numeric_date": "03/04/2020"},
                            "attribution": {"statements": ["(c) A"], "credits": [{"host": "b.example"}]}})
    reads = (lambda s: list(s.unread_page_facts()), lambda s: list(s.site_titles()), lambda s: list(s.numeric_dates()),
             lambda s: list(s.article_signature_states(128, 1, 's', 5, 1, '50', '')), lambda s: s.articles_without_story())
    before = [read(store) for read in reads]
    for index in ("articles_credits", "articles_titles", "articles_numeric_dates"):
        store.db.execute(f"drop index {index}")
    store.db.execute("update meta set value = '9' where key = 'schema_version'")
    store.db.conn.commit()
    store.close()
    again = Store(path)
    statements: list[str] = []
    again.db.conn.set_trace_callback(statements.append)
    assert [read(again) for read in reads] == before and before[0] and before[2]
    again.db.conn.set_trace_callback(None)
    for sql in statements:
        plan = [str(row[-1]) for row in again.db.execute(f"explain query plan {sql}")]
        assert all("COVERING INDEX" in step for step in plan if " articles " in step + " "), (sql, plan)


def test_a_version_10_file_gets_audits_indexed_by_story_and_results_are_replaced_through_it(tmp_path):
    """An increment deletes the audits of the stories it replaces by story or page; without an index by story,
    SQLite read every stored audit to find them (a version 10 file gets the index)."""
    path = str(tmp_path / "v10.db")
    store = Store(path)
    store.db.execute("drop index if exists idx_audits_story_id")   # as a version 10 file is
    store.db.execute("update meta set value = '10' where key = 'schema_version'")
    store.db.conn.commit()
    store.close()
    again = Store(path)
    assert again.schema_version() == SCHEMA_VERSION
    statements: list[str] = []
    again.db.conn.set_trace_callback(statements.append)
    with again.replacing_results(["st-1"], ["http://a.example/1"]) as write:
        write([], [], [], [])
    again.db.conn.set_trace_callback(None)
    deletes = [sql for sql in statements if sql.startswith("delete from audits")]
    again.db.execute("create temp table replaced_story (id text primary key)")
    again.db.execute("create temp table replaced_page (url text primary key)")
    plans = [[str(row[-1]) for row in again.db.execute(f"explain query plan {sql}")] for sql in deletes]
    assert plans and not any(step.startswith("SCAN") for plan in plans for step in plan), plans
    again.close()


def _reader_store(path) -> Store:
    store = Store(path)
    for i, paragraphs in enumerate([["One.", "Two."], ["Three."]]):
        url = f"http://example.test/{i}"
        store.save_fetch(FetchRecord(url=url, requested_url=url, final_url=url, status=200, headers={},
                                     body=b"<p>x</p>", fetched_at="2020-01-01T00:00:00"))
        store.save_article({"url": url, "site": "example.test", "page_type": "article", "title": f"T{i}",
                            "paragraphs": paragraphs, "text": "\n\n".join(paragraphs), "attribution": {"credits": []}})
    return store


def _read_in_child(reader, urls, out) -> None:
    out.put((reader.texts(urls), reader.lineage_articles(urls)))


def test_a_page_reader_reads_in_another_process_what_the_store_reads(tmp_path):
    """A grouping worker reads its own batch's pages through the reader it was sent (the file's path): the same
    texts and lineage rows as the store, from a forked process after its parent read through one too."""
    store = _reader_store(tmp_path / "t.db")
    urls = ["http://example.test/1", "http://example.test/0", "http://example.test/missing"]
    reader = store.page_reader()
    texts = {row.url: row.paragraphs_json for row in store.stored_texts(urls)}
    assert reader.texts(urls) == texts and sorted(texts) == urls[1::-1]
    assert json.loads(texts["http://example.test/1"]) == ["Three."]
    assert reader.lineage_articles(urls) == store.lineage_articles(urls)
    queue = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_read_in_child, args=(pickle.loads(pickle.dumps(reader)),
                                                                                     urls, queue))
    child.start()
    assert queue.get(timeout=30) == (texts, store.lineage_articles(urls))
    child.join(30)
    assert child.exitcode == 0


def test_pages_are_carried_where_no_reader_sees_them(tmp_path):
    """In memory, or inside an open transaction, another connection would not see the rows: the texts are read
    now and carried with the batch."""
    assert Store(":memory:").page_reader() is None
    store = _reader_store(tmp_path / "t.db")
    with store.transaction():
        assert store.page_reader() is None
        carried = store.carried_pages(["http://example.test/0"])
    assert carried.texts(["http://example.test/0", "http://example.test/1"]) == {"http://example.test/0": '["One.", "Two."]'}
    lineage = store.carried_pages(["http://example.test/1"], lineage=True)
    assert [a["title"] for a in lineage.lineage_articles(["http://example.test/1"])] == ["T1"]


def test_a_page_reader_of_a_file_gone_is_a_storage_error(tmp_path):
    store = _reader_store(tmp_path / "t.db")
    reader = store.page_reader()
    store.close()
    reader.path = str(tmp_path / "gone.db")
    with pytest.raises(StorageError, match="cannot read texts"):
        reader.texts(["http://example.test/0"])


def test_a_pass_sets_sqlite_for_a_block_then_as_before(tmp_path):
    """A grouping pass's writes run with the page cache, checkpoint size and sort threads of ``SaveOptions``;
    whatever the block does, the connection's own settings come back after it."""
    store = Store(tmp_path / "s.db")
    names = ("cache_size", "wal_autocheckpoint", "threads")
    before = [store.db.execute(f"pragma {name}").fetchone()[0] for name in names]
    with pytest.raises(RuntimeError), store.pass_settings(SaveOptions(cache_mb=16, checkpoint_mb=8, sort_threads=2)):
        assert [store.db.execute(f"pragma {name}").fetchone()[0] for name in names] == [-16 * 1024, 2048, 2]
        raise RuntimeError
    assert [store.db.execute(f"pragma {name}").fetchone()[0] for name in names] == before


def test_openings_are_kept_read_back_and_go_with_their_signature(tmp_path):
    """A v11 file gets the openings table and the signatures' openings settings (schema v12); a text's keys
    replace its earlier ones, are read back (all, or of some texts; captures apart), and go when its signature
    goes or a full pass clears signatures."""
    path = str(tmp_path / "v11.db")
    store = Store(path)
    store.db.execute("drop table openings")
    store.db.execute("drop index signatures_states")   # made by schema 16
    store.db.execute("alter table signatures drop column openings")
    store.db.execute("update meta set value = '11' where key = 'schema_version'")
    store.db.conn.commit()
    store.close()
    again = Store(path)
    assert again.schema_version() == SCHEMA_VERSION
    assert "openings" in again.db["signatures"].columns_dict
    again.save_openings([("http://a.example/1", b"old", None)])
    again.save_openings([("http://a.example/1", b"aaaa", b"cccc"), ("http://b.example/1", b"bbbb", None)])
    assert list(again.capture_states()) == [("http://a.example/1", b"cccc", False)]
    again.mark_looked_up(["http://a.example/1"], True)
    assert list(again.capture_states()) == [("http://a.example/1", b"cccc", True)]
    again.save_openings([("http://a.example/1", b"aaaa", b"cccc")])   # signed again: to be looked up again
    assert list(again.capture_states()) == [("http://a.example/1", b"cccc", False)]
    assert sorted(row for page in again.opening_pages(page=1) for row in page) == [("http://a.example/1", b"aaaa"),
                                                                                   ("http://b.example/1", b"bbbb")]
    assert [row for page in again.opening_pages(["http://b.example/1"]) for row in page] == [
        ("http://b.example/1", b"bbbb")]
    again.delete_signatures(["http://a.example/1"])
    assert list(again.capture_states()) == []
    again.clear_signatures()
    assert [row for page in again.opening_pages() for row in page] == []
    again.close()


def test_signed_rows_appended_are_indexed_at_the_end_and_after_a_killed_pass_by_the_next_store(tmp_path):
    """Inside ``appending_signatures`` the URL indexes of signatures, band keys and openings are gone and saves append;
    its end makes them again. A process killed inside leaves them to the next ``Store`` to open the file while no
    run holds it, which keeps the last values of a URL written twice meanwhile."""
    path = str(tmp_path / "signed.db")
    store = Store(path)
    keys = {"signatures_key", "band_keys_key", "openings_key"}
    indexes = lambda s: {i.name for t in ("signatures", "band_keys", "openings") for i in s.db[t].indexes}
    with store.appending_signatures():
        assert not indexes(store) & keys
        store.save_openings([("http://b.example/1", b"bbbb", None), ("http://a.example/1", b"aaaa", b"cccc")])
        store.save_band_keys([("http://a.example/1", b"k1")], "b")
    assert indexes(store) >= keys
    assert sorted(row for page in store.opening_pages() for row in page) == [("http://a.example/1", b"aaaa"),
                                                                             ("http://b.example/1", b"bbbb")]
    store.save_openings([("http://a.example/1", b"new", None)])   # in place of the older row again
    assert min(row for page in store.opening_pages() for row in page) == ("http://a.example/1", b"new")
    script = ("import os, sys; from crawler.storage.store import Store; s = Store(sys.argv[1]); "
              "held = s.appending_signatures(); held.__enter__(); s.save_openings([('http://a.example/1', b'last', None)]); "
              "os._exit(9)")
    assert subprocess.run([sys.executable, "-c", script, path], check=False, cwd=ROOT).returncode == 9
    assert not {r[0] for r in sqlite3.connect(path).execute("select name from sqlite_master")} & keys
    with store.run_lock():   # a run holds the file: its pass may be appending now, and makes them at its end
        reader = Store(path)
        assert not indexes(reader) & keys
        reader.close()
    store.close()
    again = Store(path)
    assert indexes(again) >= keys
    assert sorted(row for page in again.opening_pages() for row in page) == [("http://a.example/1", b"last"),
                                                                             ("http://b.example/1", b"bbbb")]
    again.close()


@pytest.mark.parametrize("staged", [False, True])
def test_migration_to_v15_keys_the_signed_tables_by_an_index_and_keeps_their_rows(tmp_path, staged):
    """A v14 file's signatures, band keys, openings (keyed by URL) and relations (by pair) become tables with a
    unique index on that key, their rows kept in their order; a file whose openings a stopped pass left staged has
    its signed rows dropped instead."""
    path = str(tmp_path / "v14.db")
    db = file_at_schema(path, 14)
    db["fetches"].insert({"url": "http://a.example/1", "status": 200})
    db["articles"].insert({"url": "http://a.example/1", "page_type": "article", "title": "t", "paragraphs": "[]"})
    db["signatures"].insert({"url": "http://a.example/1", "num_perm": 128, "hashvalues": b"h"})
    db["band_keys"].insert({"url": "http://a.example/1", "banding": "b", "band_keys": b"k"})
    db["openings"].insert({"url": "http://a.example/1", "opening": b"o"})
    db["edges"].insert_all([{"a": "http://b.example/1", "b": "http://a.example/1", "containment": 0.5},
                            {"a": "http://a.example/1", "b": "http://b.example/1", "containment": 0.7}])
    if staged:
        db["grouping_state"].insert({"name": "openings_staged", "value": "1"})
    assert db["signatures"].pks == ["url"]
    db.conn.close()
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    for table in ("signatures", "band_keys", "openings"):
        assert store.db[table].pks == ["rowid"]
        assert (f"{table}_key", 1, ["url"]) in [(i.name, i.unique, i.columns) for i in store.db[table].indexes]
        assert store.db[table].count == (0 if staged else 1)
    assert store.db["edges"].pks == ["rowid"]
    assert {(i.name, i.unique, tuple(i.columns)) for i in store.db["edges"].indexes} == {
        ("edges_key", 1, ("a", "b")), ("idx_edges_b", 0, ("b",))}
    assert store.db.execute("select rowid, a, containment from edges order by rowid").fetchall() == [
        (1, "http://b.example/1", 0.5), (2, "http://a.example/1", 0.7)]   # in their order, relations are never dropped
    assert store.grouping_state("openings_staged") is None
    assert [row for page in store.opening_pages() for row in page] == ([] if staged else [("http://a.example/1", b"o")])
    store.close()


def test_signature_states_are_read_from_their_index_and_without_it_when_a_killed_pass_dropped_it(tmp_path):
    """An increment reads what every stored signature was made from: from an index of those states (schema v16,
    which a v15 file gets), not from the signatures' wide rows. With the index dropped, as a pass killed while
    appending leaves it, the same states are read from the rows."""
    path = str(tmp_path / "v15.db")
    db = file_at_schema(path, 15)
    for n in (1, 2, 3):
        url = f"http://a.example/{n}"
        db["articles"].insert({"url": url, "site": "a.example", "page_type": "article", "paragraphs": "[]"})
        if n < 3:   # the third is not signed
            db["signatures"].insert({"url": url, "num_perm": 128, "seed": 1, "scheme": "s", "shingle_size": 5,
                                     "fingerprint": n, "lead_words": "50", "openings": "", "hashvalues": b"h" * 512,
                                     "content_hash": f"c{n}", "paragraphs_hash": f"p{n}", "paragraph_keys": b"k" * 8})
    db.conn.close()
    store = Store(path)
    states = lambda s: list(s.article_signature_states(128, 1, "s", 5, 1, "50", ""))
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    read = states(store)
    store.db.conn.set_trace_callback(None)
    assert [(url, old and (old.same_parameters, old.content_hash)) for url, _, old in read] == [
        ("http://a.example/1", (True, "c1")), ("http://a.example/2", (False, "c2")), ("http://a.example/3", None)]
    plan = [str(row[-1]) for sql in statements for row in store.db.execute(f"explain query plan {sql}")]
    assert any("COVERING INDEX signatures_states" in step for step in plan), plan
    store.db.execute("drop index signatures_states")
    assert states(store) == read
    store.close()


def test_band_keys_come_in_the_signatures_order_with_or_without_the_states_index(store):
    """Candidates number the signatures in the table's order: read through the states' index (each page's keys
    then looked up by URL), the pages hold the same rows in the same order as read from the signatures' rows; a
    signature without kept keys for this banding comes with its values, an empty one not at all."""
    signature = lambda url, n: {"url": url, "num_perm": 128, "n_shingles": n, "hashvalues": url.encode(),
                                "lead_hashvalues": b"lead" if n > 1 else None}
    urls = [f"http://{host}.example/{n}" for n in range(7) for host in "zca"]   # the table's order is not the URLs'
    store.db.execute("pragma foreign_keys = off")   # signatures without their pages: only their order matters here
    store.save_signatures([signature(url, i % 4) for i, url in enumerate(urls)])
    store.save_band_keys([(url, f"keys {url}".encode()) for url in urls[::2]], "37x3")
    store.save_band_keys([(urls[1], b"another banding")], "20x5")
    read = lambda s: list(s.signature_band_keys("37x3", page=4))
    pages = read(store)
    assert [len(p) for p in pages] == [4, 4, 4, 3]   # 21 signatures, 6 of them empty
    rows = [row for page in pages for row in page]
    assert [url for url, *_ in rows] == [url for i, url in enumerate(urls) if i % 4]
    for i, url in enumerate(urls):
        if i % 4:
            expected = ((url, f"keys {url}".encode(), None, None) if i % 2 == 0
                        else (url, None, url.encode(), b"lead" if i % 4 > 1 else None))
            assert rows[[r[0] for r in rows].index(url)] == expected
    store.db.execute("drop index signatures_states")   # as a pass killed while appending leaves it
    assert read(store) == pages


def test_capture_times_and_validators_are_read_without_the_pages(store):
    """Every grouping pass reads when each page was captured, and every crawl its validators: from an index
    (schema 16), not from the rows, which hold each compressed page."""
    store.save_fetch(capture())
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    assert store.capture_times() == {"http://a.example/x": capture().fetched_at}
    assert list(store.validators()) == ["http://a.example/x"]
    store.db.conn.set_trace_callback(None)
    for sql in statements:
        plan = [str(row[-1]) for row in store.db.execute(f"explain query plan {sql}")]
        assert plan == ["SCAN fetches USING COVERING INDEX fetches_heads"], (sql, plan)


def test_an_upgraded_file_is_announced_before_and_after(tmp_path, caplog):
    """Migrating a large file rewrites it (two minutes at a million articles): the user is told which file,
    from which schema, how large, and when it is done. A new file is made silently."""
    path = str(tmp_path / "v14.db")
    file_at_schema(path, 14).conn.close()
    with caplog.at_level("WARNING", logger="crawler.storage.store"):
        Store(path).close()
        Store(path).close()                       # now current: nothing to say
        Store(str(tmp_path / "new.db")).close()   # made, not upgraded
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 2, said
    assert said[0].startswith(f"upgrading {path} from schema 14 to {SCHEMA_VERSION} (") and " kB)" in said[0]
    assert re.fullmatch(rf"upgraded {re.escape(path)} to schema {SCHEMA_VERSION} in \d+\.\d s", said[1])


def test_relations_appended_twice_are_one_row_in_the_first_place_with_the_last_values(store):
    """Inside ``appending_relations`` relations are appended with the table's indexes gone; a pair saved twice
    becomes one row, where an upsert leaves it: at its first place, with the values saved last."""
    edge = lambda a, b, c: {"a": a, "b": b, "containment": c, "jaccard": c}
    with store.appending_relations():
        assert {i.name for i in store.db["edges"].indexes} == set()
        store.save_edges([edge("http://a.example/1", "http://b.example/1", 0.5),
                          edge("http://c.example/1", "http://d.example/1", 0.6)])
        store.save_edges([edge("http://a.example/1", "http://b.example/1", 0.9)])
    assert {i.name for i in store.db["edges"].indexes} == {"edges_key", "idx_edges_b"}
    assert [(r["a"], r["containment"]) for r in store.db.query("select * from edges order by rowid")] == [
        ("http://a.example/1", 0.9), ("http://c.example/1", 0.6)]
    store.save_edges([edge("http://c.example/1", "http://d.example/1", 0.7)])   # an upsert, the key indexed again
    assert [r[0] for r in store.db.execute("select containment from edges order by rowid")] == [0.9, 0.7]


def test_a_full_pass_clearing_signatures_writes_no_zeros_over_them(tmp_path):
    """Freed pages are not overwritten with zeros (``secure_delete``, which some SQLite builds turn on): clearing a
    table of signatures writes far less than the table holds."""
    store = Store(tmp_path / "clear.db")
    assert store.db.execute("pragma secure_delete").fetchone()[0] == 2   # FAST
    store.db["fetches"].insert_all({"url": f"http://a.example/{i}", "status": 200} for i in range(2000))
    store.db["articles"].insert_all({"url": f"http://a.example/{i}", "page_type": "article"} for i in range(2000))
    store.db["signatures"].insert_all({"url": f"http://a.example/{i}", "hashvalues": os.urandom(4096)} for i in range(2000))
    store.db.execute("pragma wal_checkpoint(truncate)")
    wal = Path(str(store.path) + "-wal")
    store.clear_signatures()
    assert wal.stat().st_size < 1_000_000 < 2000 * 4096
    store.close()
