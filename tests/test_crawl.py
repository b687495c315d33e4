"""Real Scrapy crawls of a small local web on 127.0.0.1: manners, hygiene, incremental re-crawls, resume."""

import logging
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.http import HtmlResponse, Request
from scrapy.settings import Settings
from scrapy.utils.misc import load_object

from cli.jobs import crawl_and_trace
from cli.present.tables import export_object
from crawler import crawl_process, middlewares
from crawler import settings as crawl_settings
from crawler.errors import LockedError
from crawler.localserver import LocalWeb
from crawler.options import CrawlOptions
from crawler.storage.store import Store
from tests.conftest import query

WORDS = ("council vote bus line residents protest budget school clinic transit mayor report agency court ruling "
         "housing rent water river storm farm price market union strike teacher nurse doctor police budget deficit "
         "election ballot senator bill law tax road bridge rail port harbor airport energy power wind solar").split()


def prose(title: str, i: int) -> str:
    rnd = random.Random(f"{title}-{i}")
    return " ".join(rnd.choice(WORDS) for _ in range(45)).capitalize() + "."


def article(title, n=8, extra="", charset="utf-8", author="Ana Ruiz", date="2021-03-04"):
    paras = "\n".join(f"<p>{prose(title, i)}</p>" for i in range(n))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="{charset}"><title>{title}</title>'
            f'<meta property="og:type" content="article"><meta property="og:site_name" content="Site">'
            f'<meta property="article:published_time" content="{date}T10:00:00+00:00"></head><body>'
            f'<article><h1>{title}</h1><p class="byline">By {author}</p>{paras}{extra}</article></body></html>')


def write(root, host, path, text, encoding="utf-8"):
    full = os.path.join(root, host, path.lstrip("/"))
    if path.endswith("/"):
        full = os.path.join(full, "index.html")
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as fh:
        fh.write(text.encode(encoding))


@pytest.fixture
def web(tmp_path):
    root = str(tmp_path / "sites")
    links = "".join(f'<a href="/news/story-{i}.html?utm_source=home">s{i}</a>' for i in range(6))
    write(root, "alpha.example", "/", f'<html><body>{links}<a href="/private/secret.html">x</a>'
                                      f'<a href="/old-story">moved</a><a href="/loop">loop</a><a href="/missing.html">404</a>'
                                      f'<a href="ftp://alpha.example/file">ftp</a><a href="http://beta.example/">beta</a></body></html>')
    for i in range(6):
        write(root, "alpha.example", f"/news/story-{i}.html", article(f"Alpha story {i}"))
    write(root, "alpha.example", "/private/secret.html", article("Secret"))
    write(root, "alpha.example", "/robots.txt", "User-agent: *\nDisallow: /private/\n")
    # beta republishes alpha's story 0, credits it, and serves windows-1252
    write(root, "beta.example", "/", '<html><body><a href="/copy.html">c</a></body></html>')
    write(root, "beta.example", "/copy.html",
          article("Alpha story 0", extra='<p>Originally published at <a href="http://alpha.example/news/story-0.html">Alpha</a>'
                  ' \u2014 \u201cquoted\u201d caf\u00e9.</p>', charset="windows-1252", date="2021-03-06"),
          encoding="cp1252")
    with open(os.path.join(root, "beta.example", ".charset"), "w") as fh:
        fh.write("windows-1252")
    write(root, "beta.example", "/robots.txt", "User-agent: *\nAllow: /\n")
    redirects = {("alpha.example", "/old-story"): "http://alpha.example/news/story-1.html",
                 ("alpha.example", "/loop"): "http://alpha.example/loop2",
                 ("alpha.example", "/loop2"): "http://alpha.example/loop"}
    with LocalWeb(root, redirects=redirects) as server:
        yield server


def options(server, **kw):
    return CrawlOptions(seeds=("http://alpha.example/", "http://beta.example/"), proxy=server.proxy, delay=0,
                        concurrency=8, per_site=4, autothrottle=False, extract_workers=1, **kw)


def test_crawl_obeys_robots_follows_redirects_and_reads_charsets(web, tmp_path):
    db = str(tmp_path / "c.db")
    _report, grouping = crawl_and_trace(db, options(web))
    first = {}
    for host, path, agent in web.requests:
        first.setdefault(host, path)
        assert agent.startswith("syndtrace/")
    assert first == {"alpha.example": "/robots.txt", "beta.example": "/robots.txt"}
    paths = [(h, p) for h, p, _ in web.requests]
    assert paths.count(("alpha.example", "/robots.txt")) == paths.count(("beta.example", "/robots.txt")) == 1
    assert ("alpha.example", "/private/secret.html") not in paths
    pages = [p for h, p in paths if p.startswith("/news/")]
    assert len(pages) == len(set(pages)) == 6          # tracking parameters and the redirect did not refetch
    store = Store(db)
    assert store.resolve_alias("http://alpha.example/old-story") == "http://alpha.example/news/story-1.html"
    status = {r["url"]: r["status"] for r in query(db, "select url, status from fetches where url like '%missing%'")}
    assert status == {"http://alpha.example/missing.html": 404}
    copy = store.article("http://beta.example/copy.html")
    assert "\u2014 \u201cquoted\u201d caf\u00e9" in copy["text"]
    result = {a["url"]: a for a in export_object(store)["articles"] if a["story"]}
    assert result["http://beta.example/copy.html"]["parent"] == "http://alpha.example/news/story-0.html"
    assert result["http://beta.example/copy.html"]["attribution"]["verdict"] == "credited"
    assert grouping.stories == 6 and grouping.stories_with_copies == 1


def test_crawl_delay_is_honoured_on_its_host_only(web, tmp_path):
    write(web.httpd.root, "beta.example", "/robots.txt", "User-agent: *\nCrawl-delay: 0.6\nAllow: /\n")
    write(web.httpd.root, "beta.example", "/", "<html><body>" + "".join(
        f'<a href="/page-{i}.html">p{i}</a>' for i in range(3)) + "</body></html>")
    for i in range(3):
        write(web.httpd.root, "beta.example", f"/page-{i}.html", article(f"Beta page {i}"))
    times = []
    original = web.httpd.RequestHandlerClass._respond

    def timed(handler, head):
        times.append((handler._target()[0], time.monotonic()))
        return original(handler, head)

    web.httpd.RequestHandlerClass._respond = timed
    try:
        crawl_and_trace(str(tmp_path / "d.db"), options(web))
    finally:
        web.httpd.RequestHandlerClass._respond = original
    beta = [t for h, t in times if h == "beta.example"]
    alpha = [t for h, t in times if h == "alpha.example"]
    # the mean gap, as the server sees it: one request handled late on a loaded machine narrows one gap only
    assert len(beta) >= 5 and (beta[-1] - beta[0]) / (len(beta) - 1) >= 0.5
    assert (alpha[-1] - alpha[0]) / (len(alpha) - 1) < 0.5     # the other host is not slowed down


def test_recrawl_is_conditional_and_reports_nothing_new(web, tmp_path):
    db = str(tmp_path / "c.db")
    crawl_and_trace(db, options(web))
    before = len(web.requests)
    report, _ = crawl_and_trace(db, options(web))
    second = web.requests[before:]
    assert report.pages_fetched == 0 and report.unchanged >= 8
    store = Store(db)
    assert store.new_members(report.run_id) == 0
    assert len(second) > 0   # it asked, and the server said 304


def test_new_pages_are_reported_after_the_next_run(web, tmp_path):
    db = str(tmp_path / "c.db")
    crawl_and_trace(db, options(web))
    root = web.httpd.root
    write(root, "beta.example", "/copy2.html", article("Alpha story 3", extra="<p>Source: Alpha</p>", date="2021-03-08"))
    write(root, "beta.example", "/", '<html><body><a href="/copy.html">c</a><a href="/copy2.html">d</a></body></html>')
    report, _ = crawl_and_trace(db, options(web))
    new = [r["url"] for r in query(db, "select url from members where first_run = ?", (report.run_id,))]
    assert new == ["http://beta.example/copy2.html"]


def test_overlapping_run_exits_at_once_without_touching_the_db(web, tmp_path):
    db = str(tmp_path / "c.db")
    holder = Store(db)
    with holder.run_lock(), pytest.raises(LockedError):
        crawl_and_trace(db, options(web))
    assert Store(db).counts()["runs"] == 0


def test_killed_crawl_resumes_without_loss_or_duplicates(web, tmp_path):
    db = str(tmp_path / "k.db")
    opts = options(web, max_pages=0)
    Store(db).close()
    cmd = [sys.executable, "-m", "crawler.crawl_process", "--db", db, "--options", opts.to_json()]
    env = dict(os.environ, http_proxy=web.proxy)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        if os.path.exists(db) and Store(db).counts()["fetches"] >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _report, grouping = crawl_and_trace(db, options(web))
    store = Store(db)
    assert query(db, "pragma integrity_check")[0][0] == "ok"
    urls = store.article_urls()
    assert len(urls) == len(set(urls)) == 7
    assert grouping.stories == 6


class _Crawler:
    def __init__(self, level):
        self.settings = Settings({"LOG_LEVEL": level})


@pytest.mark.parametrize("level", ["WARNING", "ERROR", "INFO", logging.INFO])
def test_no_debug_line_is_built_per_page_unless_the_crawl_logs_at_debug(level):
    """The crawl's log formatter: Scrapy's "Crawled" and "Scraped from" lines only when DEBUG records are kept."""
    formatter = load_object(crawl_settings.LOG_FORMATTER)
    request = Request("http://a.example/page")
    response = HtmlResponse(request.url, body=b"<html><body>x</body></html>", request=request)
    quiet = formatter.from_crawler(_Crawler(level))
    assert quiet.crawled(request, response, None) is None
    assert quiet.scraped({"url": request.url}, response, None) is None
    for debug in ("DEBUG", "debug", logging.DEBUG):
        verbose = formatter.from_crawler(_Crawler(debug))
        assert verbose.crawled(request, response, None)["level"] == logging.DEBUG
        assert verbose.scraped({"url": request.url}, response, None)["level"] == logging.DEBUG


@pytest.mark.parametrize("no_proxy", [None, "b.example", ".example", "*", "a.example:8080, other"])
def test_the_proxy_middleware_decides_as_scrapys_and_reads_no_proxy_once_a_host(monkeypatch, no_proxy):
    """Same proxy, credentials and flags on every request as Scrapy's own middleware; ``proxy_bypass`` once a host."""
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", "http://user:pw@127.0.0.1:3128")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:3129")
    if no_proxy:
        monkeypatch.setenv("no_proxy", no_proxy)
    asked, bypass = [], urllib.request.proxy_bypass
    monkeypatch.setattr(middlewares, "proxy_bypass", lambda host: asked.append(host) or bypass(host))
    ours, scrapys = middlewares.ProxyMiddleware(), HttpProxyMiddleware()
    urls = ["http://a.example/1", "https://a.example/2", "http://b.example/3", "http://a.example:8080/4",
            "http://a.example/5", "http://b.example/6"]
    for url in urls:
        for meta in ({}, {"proxy": "http://127.0.0.1:9999"}, {"proxy": None}):
            mine, theirs = Request(url, meta=dict(meta)), Request(url, meta=dict(meta))
            ours.process_request(mine)
            scrapys.process_request(theirs)
            assert (mine.meta, mine.headers.to_unicode_dict()) == (theirs.meta, theirs.headers.to_unicode_dict())
    assert sorted(asked) == sorted(set(asked)) == ["a.example", "b.example"]


def test_the_crawl_process_keeps_its_start_up_heap_out_of_collections():
    """What importing Scrapy, Twisted and lxml made is frozen before the crawl starts: a full collection during the
    crawl walks only what the crawl itself made (each walk of the start-up heap cost ~0.1 s); young objects are
    collected less often than Python's every 700 allocations."""
    probe = ("import gc, crawler.crawl_process as c; c.keep_out_of_collections(); "
             "print(gc.get_freeze_count(), len(gc.get_objects()), gc.get_threshold()[0])")
    frozen, seen, young = map(int, subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                                  check=True).stdout.split())
    assert frozen > 20_000 and seen < frozen / 10
    assert young == crawl_process.YOUNG_OBJECTS > 700
