import sqlite3

import pytest

from crawler.errors import StorageError
from crawler.storage.store import SCHEMA_VERSION, FetchRecord, Store


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


def test_same_page_twice_is_one_row_and_states(store):
    assert store.save_fetch(capture()) == "new"
    assert store.save_fetch(capture()) == "unchanged"
    assert store.save_fetch(capture(body=b"<html>changed</html>")) == "changed"
    assert store.db["fetches"].count == 1
    assert store.fetch_body("http://a.example/x") == b"<html>changed</html>"


def test_body_is_compressed_and_validators_kept(store):
    body = b"<p>" + b"repetitive text " * 1000 + b"</p>"
    store.save_fetch(capture(body=body))
    raw = store.db.execute("select length(body) from fetches").fetchone()[0]
    assert raw < len(body) / 5
    state = store.fetch_state("http://a.example/x")
    assert state["etag"] == '"e1"' and state["last_modified"].startswith("Mon")


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


def test_article_needs_its_capture(store):
    with pytest.raises((StorageError, sqlite3.IntegrityError)):
        store.save_article({"url": "http://nowhere.example/", "site": "x", "page_type": "article"})


def test_newer_schema_refused(db_path):
    s = Store(db_path)
    s.set_meta("schema_version", str(SCHEMA_VERSION + 1))
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
    s.db.execute("alter table signatures drop column lead_words")
    s.set_meta("schema_version", "1")
    s.close()
    s = Store(db_path)
    assert s.schema_version() == SCHEMA_VERSION
    assert "lead_words" in s.db["signatures"].columns_dict
    s.close()
