"""The offline demo: the bundled mini-web served on 127.0.0.1, crawled for real, grouped and traced."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources

from crawler.localserver import LocalWeb
from crawler.options import CrawlOptions
from crawler.run import CrawlReport, crawl_and_trace
from dedupe.pipeline import GroupReport
from crawler.storage.store import Store

DEMO_ORIGIN_HOST = "commondreams.example"


def demo_sites_root() -> str:
    return str(resources.files("cli.demo_web") / "sites")


@dataclass
class DemoResult:
    crawl: CrawlReport
    grouping: GroupReport
    story_id: str | None
    seeds: list[str]


def run_demo(db_path: str) -> DemoResult:
    """Serve the mini-web, crawl it through the local server as proxy, group and trace it."""
    root = demo_sites_root()
    with LocalWeb(root) as web:
        seeds = [f"http://{host}/" for host in web.hosts()]
        options = CrawlOptions(seeds=tuple(seeds), proxy=web.proxy, delay=0, concurrency=8, per_site=4,
                               autothrottle=False, extract_workers=1)
        crawl, grouping = crawl_and_trace(db_path, options, kind="demo")
    store = Store(db_path)
    try:
        return DemoResult(crawl, grouping, store.story_with_copies_on(DEMO_ORIGIN_HOST), seeds)
    finally:
        store.close()


def remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
