"""One capture → stored rows (crawler.capture): what is stored, what is extracted, what is skipped."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys

import pytest

from crawler import capture
from crawler.capture import (
    ExtractionPool,
    extract_capture,
    is_html,
    needs_extraction,
    process_capture,
    reextract_all,
    store_capture,
)
from crawler.storage.records import FetchRecord
from crawler.storage.store import Store
from crawler.warc import ingest_files
from tests.test_faults import article_html
from tests.test_hostile_files import write_warc

PAGE = article_html("Council approves the transit budget").replace(
    "<head>", '<head><meta property="og:site_name" content="Alpha Courier">').encode()


def rec(url="http://alpha.example/news/budget.html", body=PAGE, status=200, content_type="text/html; charset=utf-8"):
    return FetchRecord(url=url, requested_url=url, final_url=url, status=status,
                       headers={"content-type": content_type}, body=body, fetched_at="2021-03-04T10:00:00+00:00",
                       error=None if status < 400 else f"HTTP {status}")


@pytest.mark.parametrize("content_type,body,expected", [
    ("text/html; charset=utf-8", b"<p>x</p>", True),
    ("application/xhtml+xml", b"<html/>", True),
    ("", b"  <!DOCTYPE html><html></html>", True),
    ("application/octet-stream", b"<html><body>x", True),
    ("text/html", b"\x00\x01binary", False),
    ("text/html", b"<!doctype html>\x00<html><p>one NUL does not make a page binary</p>", True),
    ("text/html", b"\x00" * 300 + b"<html><body>" + b"<p>text</p>" * 300, True),
    ("", b"\x00<!DOCTYPE html><html></html>", True),
    ("text/html", b"%PDF-1.4\n" + bytes(range(256)) * 16, False),
    ("application/pdf", b"%PDF-1.4", False),
    ("text/plain", b"just text", False),
])
def test_is_html_by_type_or_by_sniffing(content_type, body, expected):
    assert is_html(content_type, body) is expected


def test_store_capture_tells_new_unchanged_changed_duplicate_and_failed(store):
    assert store_capture(store, rec()) == "new"
    assert store_capture(store, rec()) == "unchanged"
    assert store_capture(store, rec(body=PAGE.replace(b"Council", b"The council"))) == "changed"
    assert store_capture(store, rec(url="http://alpha.example/news/budget.html?ref=x",
                                    body=PAGE.replace(b"Council", b"The council"))) == "duplicate"
    assert store.resolve_alias("http://alpha.example/news/budget.html?ref=x") == "http://alpha.example/news/budget.html"
    assert store_capture(store, rec(url="http://alpha.example/missing", status=404)) == "failed"
    assert store.counts()["fetches"] == 2


def test_only_new_or_changed_html_is_extracted(store, caplog):
    page = rec()
    assert needs_extraction(store, page, store_capture(store, page))
    store.save_article(extract_capture(page.body, page.url, page.headers))
    assert not needs_extraction(store, page, "unchanged")                  # extracted from these very bytes
    assert needs_extraction(store, rec(body=PAGE + b" "), "unchanged")      # stored, but not extracted from it
    assert not needs_extraction(store, page, "duplicate")
    assert not needs_extraction(store, rec(status=404), "failed")
    with caplog.at_level(logging.WARNING, logger="crawler.capture"):
        assert not needs_extraction(store, rec(url="http://alpha.example/sitemap.xml", body=b"<urlset/>",
                                               content_type="application/xml"), "new")
        assert not caplog.records                                           # sitemaps and feeds are kept quietly
        assert not needs_extraction(store, rec(body=b"%PDF", content_type="application/pdf"), "new")
        assert "skipped" in caplog.text and "not HTML" in caplog.text


def test_process_capture_stores_the_article_and_learns_the_outlet(store):
    assert process_capture(store, rec()) == "new"
    article = store.article("http://alpha.example/news/budget.html")
    assert article["page_type"] == "article" and article["title"] == "Council approves the transit budget"
    assert article["author"] == "Ana Ruiz" and len(article["paragraphs"]) == 6
    assert store.outlets() == {"alpha.example": "Alpha Courier"}


def test_a_page_that_breaks_the_extractor_is_kept_raw_and_reported(store, monkeypatch, caplog):
    def broken(body, url, headers):
        raise RuntimeError("extractor bug")

    monkeypatch.setattr(capture, "extract_capture", broken)
    with caplog.at_level(logging.WARNING, logger="crawler.capture"):
        assert process_capture(store, rec()) == "error"
    assert "could not extract" in caplog.text and "extractor bug" in caplog.text
    assert store.counts()["fetches"] == 1 and store.counts()["articles"] == 0


def test_a_workers_extraction_is_stored_as_sent(store):
    sent = extract_capture(PAGE, "http://alpha.example/news/budget.html", {})
    sent["title"] = "Title the worker read"
    process_capture(store, rec(), extracted=sent)
    assert store.article("http://alpha.example/news/budget.html")["title"] == "Title the worker read"


def test_reextract_all_reads_every_stored_page_again(store):
    process_capture(store, rec())
    process_capture(store, rec(url="http://alpha.example/file.pdf", body=b"%PDF-1.4", content_type="application/pdf"))
    stale = store.article("http://alpha.example/news/budget.html")
    store.save_article({**stale, "title": "Stale title from an older extractor"})
    seen = []
    assert reextract_all(store, progress=lambda stage, done, total: seen.append((stage, done, total)), workers=1) == 1
    assert store.article("http://alpha.example/news/budget.html")["title"] == "Council approves the transit budget"
    assert seen == [("extract", 2, 2)]


def test_one_extract_worker_extracts_in_process():
    extractor = ExtractionPool(1)
    try:
        assert extractor.executor is None
        row = asyncio.run(extractor.extract(PAGE, "http://alpha.example/news/budget.html", {}))
    finally:
        extractor.close()
    assert row["site"] == "alpha.example" and row["page_type"] == "article"


def worker_state() -> tuple[int, bool]:
    """(niceness, whether the date parser is loaded) of the process this runs in."""
    return os.nice(0), "dateparser" in sys.modules


POOL_STATES = """
import json
from crawler.capture import ExtractionPool
from tests.test_capture import worker_state
with ExtractionPool(2, background=True) as background, ExtractionPool(2) as plain:
    print(json.dumps([worker_state(), background.executor.submit(worker_state).result(),
                      plain.executor.submit(worker_state).result()]))
"""


def test_a_crawls_extraction_workers_yield_the_cpu_and_start_warm():
    """The crawl's reactor keeps its core (its workers run at a lower priority), and no page waits for the
    extractor's start-up: each worker has read a page (the date parser loaded) before the first real one."""
    done = subprocess.run([sys.executable, "-c", POOL_STATES], capture_output=True, text=True, timeout=120,
                          check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    (nice, parent_loaded), background, plain = json.loads(done.stdout)
    assert not parent_loaded   # a fresh process: only a worker's warm-up can have loaded it
    assert background == [nice + capture.BACKGROUND_NICE, True]
    assert plain == [nice, True]


def test_extraction_in_the_pool_stores_what_serial_extraction_stores(tmp_path):
    """Issue 14.1: ingest with workers gives the rows one process gives (outlet names included: the last
    page of a site read names it, so the order of writes matters)."""
    pages = [(f"http://{site}.example/news/story-{i}.html", "text/html; charset=utf-8",
              PAGE.replace(b"Alpha Courier", f"{site.title()} {i % 3}".encode())
              .replace(b"Council approves", f"Story {i}: council approves".encode()))
             for i in range(24) for site in ("alpha", "beta")]
    warc = tmp_path / "pages.warc.gz"
    write_warc(warc, pages)
    tables = []
    for workers in (1, 2):
        store = Store(str(tmp_path / f"w{workers}.db"))
        report = ingest_files(store, [str(warc)], workers=workers)
        assert report.stored == len(pages)
        tables.append(([{k: v for k, v in a.items() if k != "extracted_at"} for a in store.articles(None)],
                       store.outlets()))
        store.close()
    assert tables[0] == tables[1] and len(tables[0][0]) == len(pages)


def test_the_pool_sends_pages_to_its_workers_a_few_at_a_time_and_keeps_their_order(monkeypatch):
    """Issue 14.1: a task per page cost the ingesting process a third of its CPU; pages go PAGES_PER_TASK at a
    time, and come back in the order given, the captures that need no extraction (None) in their places."""
    pages = [(f"tag-{i}", None if i % 3 == 1 or 8 <= i < 12 else
              (PAGE.replace(b"Council approves", f"Story {i}: council approves".encode()),
               f"http://alpha.example/news/story-{i}.html", {})) for i in range(19)]
    with ExtractionPool(2) as pool:
        submitted = []
        real_submit = pool.executor.submit
        monkeypatch.setattr(pool.executor, "submit", lambda fn, *args: submitted.append(fn) or real_submit(fn, *args))
        got = list(pool.ordered(iter(pages)))
    assert [tag for tag, _row in got] == [tag for tag, _job in pages]
    assert [row and row["title"] for _tag, row in got] == \
        [job and extract_capture(*job)["title"] for _tag, job in pages]
    assert len(submitted) == 4   # 19 pages: five tasks of four, one of them (pages 8-11) with nothing to extract


WORKER_DEATHS = """
import asyncio, json, os, signal, sys
from crawler import capture
from crawler.storage.store import Store
from crawler.warc import ingest_files

real = capture.extract_capture

def killing(body, url, headers):   # a page that takes its worker down (a crash in a parser, the OOM killer)
    if "crash" in url:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(body, url, headers)

capture.extract_capture = killing   # before the workers fork: they inherit it
store = Store(sys.argv[1])
report = ingest_files(store, [sys.argv[2]], workers=2)
extracted = sorted(a["url"] for a in store.articles(None))
pool = capture.ExtractionPool(2)
try:
    asyncio.run(pool.extract(b"<html></html>", "http://alpha.example/crash.html", {}))
    crawl_error = None
except capture.ExtractionWorkerDied as exc:
    crawl_error = str(exc)
after = asyncio.run(pool.extract(sys.argv[3].encode(), "http://alpha.example/after.html", {}))
pool.close()
print(json.dumps([report.stored, report.skipped, extracted, crawl_error, after["url"]]))
"""


def test_a_page_that_kills_its_extraction_worker_costs_that_page_only(tmp_path):
    """A worker that dies on a page (a parser crash, the out-of-memory killer) used to break the pool: every
    later page failed and closing it could hang. Now that page alone is kept raw, unextracted, and the run
    goes on with fresh workers, in ingest (the page found by re-running the pages in flight one at a time)
    and in the crawl's extraction (one clear error for that page)."""
    pages = [(f"http://alpha.example/news/{'crash' if i == 5 else 'story'}-{i}.html", "text/html; charset=utf-8",
              PAGE.replace(b"Council approves", f"Story {i}: council approves".encode())) for i in range(16)]
    warc = tmp_path / "pages.warc.gz"
    write_warc(warc, pages)
    done = subprocess.run([sys.executable, "-c", WORKER_DEATHS, str(tmp_path / "x.db"), str(warc),
                           PAGE.decode()], check=False, capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr[-2000:]
    stored, skipped, extracted, crawl_error, after = json.loads(done.stdout)
    assert (stored, skipped) == (15, 1)
    assert extracted == sorted(url for url, _, _ in pages if "crash" not in url)
    assert "crash.html" in crawl_error and "died" in crawl_error
    assert after == "http://alpha.example/after.html"
