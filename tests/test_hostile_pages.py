"""Hostile pages served on 127.0.0.1 (issue 17): invisible characters, bombs of listing files, endless
crawls, unbounded sitemaps, addresses a page should not make the crawler reach."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import pytest

from cli.jobs import crawl_and_trace
from crawler import run
from crawler.errors import UserInputError
from crawler.localserver import LocalWeb
from crawler.options import OPTIONS_ENV, CrawlOptions
from crawler.page.decode import clean_text, decode_html
from crawler.targets import TargetGuard
from tests.conftest import QuietHTTPServer, query
from tests.test_crawl import article, write


def crawl_options(server, seeds, **kw) -> CrawlOptions:
    return CrawlOptions(seeds=tuple(seeds), proxy=server.proxy, delay=0, concurrency=8, per_site=4,
                        autothrottle=False, extract_workers=1, **kw)


# -- item 1: one invisible character must not hide a copy ------------------------------------------------

ORIGINAL = article("Harbor council restores the night bus line", date="2021-03-04")
HIDDEN = {   # copy host -> the verbatim copy with one invisible character or reference somewhere
    "entity.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>&#1;", 1),
    "hexentity.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>&#x1b;[31m", 1),
    "soh.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>\x01", 1),
    "formfeed.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>\x0c", 1),
    "escape.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>\x1b[2J", 1),
    "nonchar.example": ORIGINAL.replace("</p>\n<p>", "</p>\n<p>\ufffe", 1),
    "headline.example": ORIGINAL.replace("<h1>Harbor", "<h1>Har\x01bor\x1b").replace("<title>Harbor", "<title>\x07Harbor"),
    "nul.example": ORIGINAL.replace("<head>", "<head>\x00"),
}


@pytest.fixture
def invisible_web(tmp_path):
    root = str(tmp_path / "sites")
    for host, page in {"origin.example": ORIGINAL, **HIDDEN}.items():
        write(root, host, "/", '<html><body><a href="/2021/03/night-bus.html">story</a></body></html>')
        write(root, host, "/2021/03/night-bus.html", page)
        write(root, host, "/robots.txt", "User-agent: *\nAllow: /\n")
    with LocalWeb(root) as server:
        yield server


def test_invisible_characters_do_not_hide_a_copy(invisible_web, tmp_path):
    db = str(tmp_path / "inv.db")
    hosts = ["origin.example", *HIDDEN]
    crawl_and_trace(db, crawl_options(invisible_web, [f"http://{h}/" for h in hosts]))
    rows = {r["site"]: dict(r) for r in query(
        db, "select a.site, a.title, a.text, m.story_id from articles a left join members m on m.url = a.url "
            "where a.page_type = 'article'")}
    assert set(rows) == set(hosts), sorted(set(hosts) - set(rows))
    origin = rows["origin.example"]
    for host in HIDDEN:
        row = rows[host]
        assert len(row["text"]) > 0.9 * len(origin["text"]), host
        assert row["story_id"] == origin["story_id"], host
        assert row["title"].replace(" ", "") == origin["title"].replace(" ", ""), (host, row["title"])
        assert not any(ord(c) < 32 and c not in "\t\n\r" for c in row["title"] + row["text"]), host


@pytest.mark.parametrize("raw,clean", [
    ("a\x01b\x1b[31mc\x7fd\x85e", "ab[31mcde"),
    ("tab\tnew\nline\r", "tab\tnew\nline\r"),
    ("form\x0cfeed", "form feed"),
    ("&#1;&#x1B;&#0;&#xfffe;&#65535;&#x10FFFF;&#12;", " "),
    ("&#150; &#8217; &#x41; &#9;", "&#150; &#8217; &#x41; &#9;"),   # the parser reads these as browsers do
    ("\ufffe\uffff\ufdd0\U0001fffe\ud800", ""),
    ("cafe\u0301 \U0001F600", "caf\u00e9 \U0001F600"),
])
def test_page_text_is_cleaned_once_where_it_is_decoded(raw, clean):
    assert clean_text(raw) == clean
    assert decode_html(raw.encode("utf-8", "surrogatepass")) == clean or "\ud800" in raw


# -- a server of hostile listing files and robots.txt ----------------------------------------------------

def urlset(urls) -> bytes:
    return b"<urlset>" + b"".join(b"<url><loc>%s</loc></url>" % u.encode() for u in urls) + b"</urlset>"


class HostileHandler(BaseHTTPRequestHandler):
    """Answers by host (proxy form): each site's routes are a dict path -> (content type, body or callable)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        host, path = parts.hostname or "", parts.path or "/"
        with self.server.lock:
            self.server.hits.append((host, path))
        route = self.server.sites.get(host, {}).get(path)
        if route is None:
            ctype, body = "text/html", b"<h1>not found</h1>"
            status = 404
        else:
            ctype, body = route
            body = body(path) if callable(body) else body
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hostile(request):
    server = QuietHTTPServer(("127.0.0.1", 0), HostileHandler)
    server.sites, server.hits, server.lock = {}, [], threading.Lock()
    server.proxy = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def plain_site(host: str, robots: str = "User-agent: *\nAllow: /\n", stories: int = 2) -> dict:
    links = "".join(f'<a href="/2021/03/story-{i}.html">s</a>' for i in range(stories))
    routes = {"/robots.txt": ("text/plain", robots.encode()),
              "/": ("text/html", f"<html><body>{links}</body></html>".encode())}
    for i in range(stories):
        routes[f"/2021/03/story-{i}.html"] = ("text/html", article(f"{host} story {i}").encode())
    return routes


CRAWL_IN_CHILD = """
import json, resource, sys, time
from cli.jobs import crawl_and_trace
from crawler import run
from crawler.errors import UserInputError
from crawler.options import OPTIONS_ENV, CrawlOptions
options = CrawlOptions.from_json(sys.argv[2])
started = time.monotonic()
report, grouping = crawl_and_trace(sys.argv[1], options,   # the crawl's log lines on stderr, as the CLI shows them
                                   on_event=lambda e: e.get('kind') == 'log' and print(e['message'], file=sys.stderr))
print(json.dumps({"seconds": time.monotonic() - started, "status": report.status,
                  "child_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def crawl_measured(db: str, options: CrawlOptions, timeout: float = 120) -> dict:
    """Crawl in a fresh process: its time, and the peak memory of the crawl process it starts."""
    result = subprocess.run([sys.executable, "-c", CRAWL_IN_CHILD, db, options.to_json()], capture_output=True,
                            text=True, timeout=timeout, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "log": result.stderr}


# -- item 2: a gzipped sitemap is read in bounded memory, the size limit applies after decompression --------

def test_gzipped_sitemap_bomb_is_read_in_bounded_memory(hostile, tmp_path):
    filler = b" " * (400 << 20)   # 400 MB of nothing between two entries: far past the 50 MB a sitemap may have
    bomb = gzip.compress(b"<urlset><url><loc>http://bomb.example/2021/03/story-0.html</loc></url>" + filler +
                         b"<url><loc>http://bomb.example/2021/03/story-1.html</loc></url></urlset>", 9)
    assert len(bomb) < 1 << 20
    site = plain_site("bomb.example", "User-agent: *\nSitemap: http://bomb.example/sitemap.xml.gz\n", stories=0)
    site["/sitemap.xml.gz"] = ("application/octet-stream", bomb)   # gzip as content, not as Content-Encoding
    site["/2021/03/story-0.html"] = ("text/html", article("Read before the limit").encode())
    site["/2021/03/story-1.html"] = ("text/html", article("Listed past the limit").encode())
    hostile.sites["bomb.example"] = site
    run = crawl_measured(str(tmp_path / "bomb.db"), crawl_options(hostile, ["http://bomb.example/"]))
    assert run["status"] == "crawled"
    assert run["child_rss_mb"] < 250, run["child_rss_mb"]
    assert ("bomb.example", "/2021/03/story-0.html") in hostile.hits
    assert ("bomb.example", "/2021/03/story-1.html") not in hostile.hits


# -- item 6: a million-URL sitemap read for 20 pages costs 20 pages ----------------------------------------

def test_huge_sitemap_with_a_page_limit_stops_early(hostile, tmp_path):
    urls = [f"http://big.example/2021/03/story-{i}.html" for i in range(300_000)]
    site = plain_site("big.example", "User-agent: *\nSitemap: http://big.example/sitemap.xml\n", stories=0)
    site["/sitemap.xml"] = ("application/xml", gzip.compress(urlset(urls)))
    page = article("One of many").encode()
    site.update({urlsplit(u).path: ("text/html", page) for u in urls[:200]})
    hostile.sites["big.example"] = site
    run = crawl_measured(str(tmp_path / "big.db"), crawl_options(hostile, ["http://big.example/"], max_pages=20))
    assert run["status"] == "crawled"
    assert run["seconds"] < 30, run["seconds"]
    assert run["child_rss_mb"] < 250, run["child_rss_mb"]
    assert len(hostile.hits) < 20 + 100   # the page limit, and no more than the requests in flight beyond it


# -- item 5: crawls that never end ---------------------------------------------------------------------

def test_endless_crawl_delays_and_sitemap_chains_end(hostile, tmp_path):
    hostile.sites["good.example"] = plain_site("good.example")
    hostile.sites["slow.example"] = plain_site("slow.example", "User-agent: *\nCrawl-delay: 100000\n")
    hostile.sites["huge.example"] = plain_site("huge.example", "User-agent: *\nCrawl-delay: 1e308\n")

    def next_index(path: str) -> bytes:   # every index names a newer one
        n = int(path.rsplit("-", 1)[1].split(".")[0])
        return (b"<sitemapindex><sitemap><loc>http://chain.example/index-%d.xml</loc></sitemap></sitemapindex>"
                % (n + 1))

    chain = plain_site("chain.example", "User-agent: *\nSitemap: http://chain.example/index-0.xml\n")
    chain.update({f"/index-{n}.xml": ("application/xml", next_index) for n in range(1000)})
    hostile.sites["chain.example"] = chain
    db = str(tmp_path / "endless.db")
    seeds = [f"http://{h}/" for h in ("good.example", "slow.example", "huge.example", "chain.example")]
    run = crawl_measured(db, crawl_options(hostile, seeds), timeout=90)
    assert run["status"] == "crawled" and run["seconds"] < 30, run
    assert "slow.example" in run["log"] and "Crawl-delay" in run["log"]
    hit_hosts = {h for h, _ in hostile.hits}
    assert [p for h, p in hostile.hits if h in ("slow.example", "huge.example")] == ["/robots.txt"] * 2
    assert "good.example" in hit_hosts
    assert sum(1 for h, p in hostile.hits if h == "chain.example" and p.startswith("/index-")) <= 5
    runs = query(db, "select status from runs")
    assert [r["status"] for r in runs] == ["finished"]
    assert query(db, "select count(*) from members")[0][0] == 4   # good's and chain's stories were grouped


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_endless_delay_is_refused(hostile, value, tmp_path):
    hostile.sites["good.example"] = plain_site("good.example")
    db = tmp_path / "delay.db"
    result = subprocess.run([sys.executable, "-m", "cli.app", "crawl", "http://good.example/", "--delay", value,
                             "--proxy", hostile.proxy, "--db", str(db)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode in (1, 2), result.stderr   # refused: a bad value (1) or a usage error (2)
    assert "Traceback" not in result.stderr and "delay" in result.stderr, result.stderr
    assert hostile.hits == [] and not db.exists()


# -- item 12: no private, loopback or link-local target that a page names ------------------------------------

PRIVATE_HOSTS = ["169.254.169.254", "0x7f000001", "2130706433", "127.0.0.7", "localhost", "::1"]


@pytest.fixture
def private_web(tmp_path):
    root = str(tmp_path / "sites")
    links = "".join(f'<a href="http://{h if ":" not in h else f"[{h}]"}/latest/meta-data/">x</a>'
                    for h in PRIVATE_HOSTS)
    links += '<a href="/go">go</a><a href="/moved">moved</a><a href="/2021/03/story.html">story</a>'
    write(root, "news.example", "/", f"<html><body>{links}</body></html>")
    write(root, "news.example", "/robots.txt", "User-agent: *\nAllow: /\n")
    write(root, "news.example", "/2021/03/story.html", article("A story with links"))
    for host in [*PRIVATE_HOSTS, "elsewhere.example"]:
        write(root, host, "/latest/meta-data/", "<html><body><p>secret-instance-credentials</p></body></html>")
        write(root, host, "/robots.txt", "User-agent: *\nAllow: /\n")
    redirects = {("news.example", "/go"): "http://169.254.169.254/latest/meta-data/",
                 ("news.example", "/moved"): "http://elsewhere.example/latest/meta-data/"}
    with LocalWeb(root, redirects=redirects) as server:
        yield server


def test_private_targets_named_by_pages_and_redirects_are_refused(private_web, tmp_path):
    db = str(tmp_path / "private.db")
    crawl_and_trace(db, crawl_options(private_web, ["http://news.example/"], offsite=True))
    reached = {host for host, _path, _agent in private_web.requests}
    assert reached == {"news.example", "elsewhere.example"}, reached
    bodies = query(db, "select url from fetches where body like '%secret%' or length(body) > 0 and url like '%meta%'")
    assert [r["url"] for r in bodies] == ["http://elsewhere.example/latest/meta-data"]
    refused = query(db, "select url, error from fetches where error like 'refused%'")
    assert len(refused) >= len(PRIVATE_HOSTS), [dict(r) for r in refused]


def test_refused_redirects_make_no_alias_and_seeds_may_be_private(private_web, tmp_path):
    db = str(tmp_path / "alias.db")
    crawl_and_trace(db, crawl_options(private_web, ["http://news.example/", "http://127.0.0.7/latest/meta-data/"]))
    assert query(db, "select source_url, target_url from aliases") == []
    assert ("127.0.0.7", "/latest/meta-data/") in {(h, p) for h, p, _ in private_web.requests}   # a seed: asked for
    assert ("169.254.169.254", "/latest/meta-data/") not in {(h, p) for h, p, _ in private_web.requests}


def test_names_that_resolve_to_private_addresses_are_refused():
    guard = TargetGuard(CrawlOptions(seeds=("http://127.0.0.1:8080/",), proxy="http://127.0.0.9:3128"))
    assert guard.refusal("rebind.example", "127.0.0.1") and guard.refusal("metadata.example", "169.254.169.254")
    assert guard.refusal("news.example", "93.184.216.34") is None
    assert guard.refusal("127.0.0.1") is None and guard.refusal("127.0.0.9", "127.0.0.9") is None   # seed, proxy
    assert TargetGuard(CrawlOptions(private_targets=True)).refusal("127.0.0.7") is None


@pytest.mark.parametrize("seed", ["http://exa mple.example/", "http://a.example:99999/", "http://a.example:0/",
                                  "http://[::1/", "http://-a.example/", "http://a..example/"])
def test_impossible_hosts_and_ports_are_refused_before_anything_is_written(seed, tmp_path):
    db = tmp_path / "bad.db"
    with pytest.raises(UserInputError, match="cannot crawl"):
        crawl_and_trace(str(db), CrawlOptions(seeds=(seed,)))
    assert not db.exists()


def test_crawl_options_reach_the_crawl_process_outside_its_command_line(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(run.subprocess, "Popen", lambda cmd, env, stdin, **_: started.append((cmd, env)))
    run._child(str(tmp_path / "x.db"), CrawlOptions(seeds=("http://u:hunter2@a.example/",),
                                                    proxy="http://p:secret@127.0.0.1:3128"), None)
    (cmd, env), = started
    assert "hunter2" not in " ".join(cmd) and "secret" not in " ".join(cmd)
    assert json.loads(env[OPTIONS_ENV])["seeds"] == ["http://u:hunter2@a.example/"]   # the child needs them
