"""Distributed crawls for real: a redis-server on 127.0.0.1, the coordinator and two workers started through
the command line, sharing one frontier over a local web; compared with a single-process crawl of that web.

Each crawl process reaches the web through its own proxy server (the same folder served three times), so
who fetched what is counted by the servers, not reported by the crawlers.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict

import pytest
import redis

from cli.jobs import crawl_and_trace
from cli.present.tables import export_object
from crawler.distributed import Keys, safe_redis_url
from crawler.localserver import LocalWeb
from crawler.options import CrawlOptions
from crawler.storage.store import Store
from tests.test_crawl import article, write

HOSTS = ("alpha.example", "beta.example", "gamma.example")
REDIRECTS = {(host, "/moved"): f"http://{host}/" for host in HOSTS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    exe = shutil.which("redis-server")
    if not exe:
        pytest.skip("redis-server not found on PATH")
    workdir = tmp_path_factory.mktemp("redis")
    for _attempt in range(3):
        port = free_port()
        proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                 "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.time() + 5
        while proc.poll() is None and time.time() < deadline:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            proc.kill()
            proc.wait()
            continue
        yield url
        proc.terminate()
        proc.wait(timeout=10)
        return
    pytest.skip("redis-server could not be started on 127.0.0.1")


def build_web(root: str) -> set[frozenset[str]]:
    """72 articles on three sites; 23 stories have a copy on another site; each home page links a moved
    page (see REDIRECTS). Returns the true stories."""
    stories = defaultdict(set)
    pages = {host: [] for host in HOSTS}

    def page(host, path, title, **kw):
        write(root, host, path, article(title, **kw))
        pages[host].append(path)
        stories[title].add(f"http://{host}{path}")

    for i in range(30):
        page("alpha.example", f"/news/{i}.html", f"Alpha story {i}")
    for i in range(10):
        page("beta.example", f"/copy/{i}.html", f"Alpha story {i}", date="2021-03-06",
             extra=f'<p>Originally published by <a href="http://alpha.example/news/{i}.html">Alpha</a>.</p>')
    for i in range(12):
        page("beta.example", f"/own/{i}.html", f"Beta story {i}")
    for i in range(10, 18):
        page("gamma.example", f"/a/{i}.html", f"Alpha story {i}", date="2021-03-07")
    for i in range(5):
        page("gamma.example", f"/b/{i}.html", f"Beta story {i}", date="2021-03-08")
    for i in range(7):
        page("gamma.example", f"/g/{i}.html", f"Gamma story {i}")
    for n, host in enumerate(HOSTS):
        # each home page also links a few pages of the next site, with tracking parameters: links that
        # different workers find must still be fetched once
        other = HOSTS[(n + 1) % 3]
        links = [f"/{p.lstrip('/')}" for p in pages[host]] + ["/moved"] + \
                [f"http://{other}{p}?utm_source={host}" for p in pages[other][:6]]
        write(root, host, "/", "<html><body>" + "".join(f'<a href="{u}">x</a>' for u in links) + "</body></html>")
        write(root, host, "/robots.txt", "User-agent: *\nAllow: /\n")
    return {frozenset(urls) for urls in stories.values()}


def story_partition(db: str) -> set[frozenset[str]]:
    groups = defaultdict(set)
    for a in export_object(Store(db))["articles"]:
        if a["story"]:
            groups[a["story"]].add(a["url"])
    return {frozenset(urls) for urls in groups.values()}


def requests_by_path(*servers: LocalWeb) -> Counter:
    """Requests the servers answered, robots.txt aside (each crawl process reads it for itself)."""
    return Counter((host, path) for server in servers for host, path, _agent in server.requests
                   if path != "/robots.txt")


def pages(counts: Counter) -> set[str]:
    """The pages among the requests: no sitemap (there is none: 404) and no redirect."""
    return {f"http://{host}{path}" for host, path in counts if path != "/sitemap.xml" and (host, path) not in REDIRECTS}


def cli(*args: str, proxy: str | None = None, **kw) -> subprocess.Popen:
    env = dict(os.environ)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        env.pop(name, None)
    if proxy:
        env["http_proxy"] = env["HTTP_PROXY"] = proxy
    return subprocess.Popen([sys.executable, "-m", "cli.app", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_two_workers_share_the_frontier_and_find_the_same_stories(redis_url, tmp_path):
    root = str(tmp_path / "web")
    truth = build_web(root)
    seeds = [f"http://{h}/" for h in HOSTS]
    db = str(tmp_path / "dist.db")
    # the coordinator and each worker fetch through their own server of the same folder
    web = {"redirects": REDIRECTS, "latency": 0.15}
    with LocalWeb(root, **web) as mine, LocalWeb(root, **web) as w1, LocalWeb(root, **web) as w2:
        for server in (mine, w1, w2):
            server.pause()   # until all three processes have joined: how fast each starts is not the point
        workers = [cli("worker", "--redis", redis_url, "--wait", "30", proxy=w.proxy) for w in (w1, w2)]
        coordinator = cli("crawl", *seeds, "--redis", redis_url, "--delay", "0", "--concurrency", "2",
                          "--per-site", "2", "--db", db, proxy=mine.proxy)
        joined = redis.Redis.from_url(redis_url)
        deadline = time.time() + 30
        while joined.hlen(Keys("default").workers) < 3 and time.time() < deadline:
            time.sleep(0.05)
        for server in (mine, w1, w2):
            server.resume()
        out, err = coordinator.communicate(timeout=50)
        assert coordinator.returncode == 0, err
        for w in workers:
            _, werr = w.communicate(timeout=20)
            assert w.returncode == 0, werr
        requests = requests_by_path(mine, w1, w2)
        per_process = [len(pages(requests_by_path(s))) for s in (mine, w1, w2)]

    assert [k for k, n in requests.items() if n > 1] == []           # nothing fetched twice, across processes
    fetched = pages(requests)
    assert set().union(*truth) <= fetched and len(fetched) == 72 + 3   # and everything once
    # every process took a share (not an even one: under load one can be descheduled for seconds)
    assert all(n >= 0.05 * len(fetched) for n in per_process), per_process
    # the coordinator's own count, from the results the workers sent, agrees with the servers
    shares = [int(n) for n in re.findall(r" (\d+) \(\d+%\)", out.split("pages by worker:")[1])]
    assert sorted(shares) == sorted(per_process), (out, per_process)
    assert redis.Redis.from_url(redis_url).keys("syndtrace:*") == []   # the coordinator cleared the crawl
    assert Store(db).resolve_alias("http://beta.example/moved") == "http://beta.example/"   # workers' redirects

    single_db = str(tmp_path / "single.db")
    with LocalWeb(root, redirects=REDIRECTS) as server:
        crawl_and_trace(single_db, CrawlOptions(seeds=tuple(seeds), proxy=server.proxy, delay=0, concurrency=8,
                                                per_site=4, autothrottle=False, extract_workers=1))
    assert story_partition(db) == story_partition(single_db) == truth
    assert sum(len(s) > 1 for s in truth) == 23


def test_redis_url_password_is_never_shown():
    assert safe_redis_url("redis://:s3cret@hub:6379/0") == "redis://:***@hub:6379/0"
    assert safe_redis_url("redis://crawler:s3cret@[::1]:6379/2") == "redis://crawler:***@[::1]:6379/2"
    assert safe_redis_url("rediss://hub:6380/0?password=s3cret&ssl_cert_reqs=none") == \
        "rediss://hub:6380/0?password=***&ssl_cert_reqs=none"
    assert safe_redis_url("redis://hub:6379/0") == "redis://hub:6379/0"


@pytest.mark.parametrize("command", [["worker", "--wait", "1"], ["crawl", "http://alpha.example/"]])
def test_unreachable_redis_is_a_one_line_error(command, tmp_path):
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    proc = cli(*command, "--redis", url, "--db", str(tmp_path / "x.db")) if command[0] == "crawl" else \
        cli(*command, "--redis", url)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert err.startswith("Error: cannot reach Redis at redis://:***@127.0.0.1:") and "s3cret" not in out + err
