"""Settings as data: one options object per concern, each field with its default and help text.

The Scrapy settings (``crawler.settings``) and the command line's options and ``--help`` read their
defaults and help from these objects, so each setting is defined once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

USER_AGENT = "syndtrace/0.1 (+https://pypi.org/project/syndtrace/; syndication tracer)"
WARN_BYTES = 2 * 1024 * 1024   # Scrapy logs a warning for responses larger than this
OPTIONS_ENV = "SYNDTRACE_CRAWL_OPTIONS"   # how a crawl process gets its CrawlOptions: not on its command line


def setting(default, help: str):
    """A dataclass field that carries its help text."""
    return field(default=default, metadata={"help": help})


def help_of(options_cls, name: str) -> str:
    """The help text of one setting (for the command line's ``--help``)."""
    return {f.name: f.metadata.get("help", "") for f in fields(options_cls)}[name]


@dataclass(frozen=True)
class CrawlOptions:
    """How a crawl behaves. Polite defaults for real sites; ``delay=0`` and more concurrency for local webs."""

    seeds: tuple[str, ...] = setting((), "Start URLs (site home pages or any pages).")
    delay: float = setting(1.0, "Seconds between requests to one site (robots.txt Crawl-delay wins if larger).")
    concurrency: int = setting(8, "Requests in flight at once, all sites together.")
    per_site: int = setting(2, "Requests in flight per site.")
    max_pages: int = setting(0, "Stop after this many pages (0: no limit).")
    proxy: str | None = setting(None, "HTTP proxy URL, e.g. http://127.0.0.1:8080 (default: the *_proxy environment).")
    user_agent: str = setting(USER_AGENT, "User-Agent sent with every request.")
    timeout: float = setting(30.0, "Seconds before a request is given up.")
    retries: int = setting(2, "Retries of a request that failed with a 5xx status, a timeout or a reset.")
    retry_backoff: float = setting(1.0, "Seconds before the first retry; doubled for each further one.")
    max_bytes: int = setting(10 * 1024 * 1024, "Largest response accepted, after decompression.")
    autothrottle: bool = setting(True, "Adapt the delay to each site's response times.")
    offsite: bool = setting(False, "Also follow links to sites not in the seeds.")
    private_targets: bool = setting(False, "Also fetch private, loopback and link-local addresses that pages or "
                                           "redirects name (for local testing; the seeds' hosts always are).")
    log_level: str = setting("WARNING", "Scrapy log level.")
    max_crawl_delay: float = setting(60.0, "Sites whose robots.txt asks for a longer Crawl-delay (seconds) are skipped "
                                           "with a warning: at that pace a crawl would not end.")
    extract_workers: int = setting(0, "Processes that extract pages (0: one per CPU).")
    site_limits: tuple = setting((), "Per-site (host, max_pages, delay) overrides from the watch list.")
    redis_url: str | None = setting(None, "redis://HOST:PORT/DB: share the frontier and duplicate filter in Redis.")

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CrawlOptions:
        data = json.loads(text)
        data["seeds"] = tuple(data.get("seeds", ()))
        data["site_limits"] = tuple(tuple(x) for x in data.get("site_limits", ()))
        return cls(**data)



@dataclass(frozen=True)
class ReadLimits:
    """The largest inputs read whole, so that one huge or hostile file cannot exhaust memory."""

    # lxml and trafilatura take time in proportion to the page; article pages are well under 1 MB, and the
    # article of a larger page is in its first 5 MB
    max_html_bytes: int = setting(5 * 1024 * 1024, "HTML bytes of a capture that extraction reads.")
    # warcio reads a record whole; the same limit as a crawl's responses (CrawlOptions.max_bytes)
    max_warc_record_bytes: int = setting(10 * 1024 * 1024, "Largest WARC response record ingested.")
    # the sitemaps protocol limits a sitemap to 50 MB uncompressed; anything past it is not read
    max_sitemap_bytes: int = setting(50 * 1024 * 1024, "Bytes of a decompressed sitemap that are read.")
    # the protocol has one level (an index of sitemaps); large sites nest a level or two more, never more
    max_sitemap_depth: int = setting(3, "Levels of sitemap indexes followed below the sitemaps robots.txt names.")
    # a sitemap index may list 50,000 sitemaps; a news site's runs to hundreds (a monthly or daily sitemap)
    max_listing_files: int = setting(2000, "Sitemaps and feeds read per site in one crawl.")


LIMITS = ReadLimits()


@dataclass(frozen=True)
class SaveOptions:
    """How SQLite is set while a grouping pass writes: its page cache, checkpoints and sort threads for the whole
    pass, and for the one long write of its results (``Store.replacing_results``) the temporary store. No setting
    touches what a commit keeps: a killed pass leaves the last committed results."""

    # a full rebuild writes a row per page into signatures, edges, members, lineage and audits, each at a random
    # place of its URL index: with SQLite's own cache (about 2 MB) the pages of those indexes are spilled to the
    # journal and read back again and again. 256 MB took the save of a 100,000-article rebuild from 11.6 and 13.1 s
    # to 9.0 and 8.9 s (alternated, load 2-4), its peak from 313 to 530 MB; a million articles' pass peaks near
    # 2 GB with it, under the 3 GB the issue allows. A machine short of memory can lower it
    cache_mb: int = setting(256, "SQLite page cache (MB) while a grouping pass writes its signatures, relations, "
                                 "stories, lineage and audits.")
    # a commit whose WAL has grown past this copies it into the file. A full pass writes signatures, band keys and
    # results in thousands of commits, each touching index pages at random places: copied at SQLite's 4 MB, the
    # same pages went into the file again at every commit
    checkpoint_mb: int = setting(256, "WAL size (MB) from which a grouping pass's commit copies it into the "
                                      "database file (SQLite's own: 4 MB).")
    # a full pass's save sorts every result by key and makes the tables' indexes again, at the end, when the
    # pass's workers are done: SQLite's sorter can use the other cores then
    sort_threads: int = setting(2, "Helper threads SQLite may sort with while a grouping pass writes (0: none).")
    # the old stories' and members' first runs are copied aside (a row per page) before the old rows go: in
    # memory they cost about 300 bytes a page, which 110,000 pages can afford and a million should not
    temp_in_memory: bool = setting(False, "Keep that write's temporary tables in memory rather than in a "
                                          "temporary file.")
    # staged rows are written twice and sorted: at 10,000 pages that cost the save 0.06 s of 0.53 (web4000), at
    # 100,000 it took the save from 14.1 / 11.8 s to 11.1 / 9.2 s and at a million from 131 to 118 s (bench/RESULTS.md,
    # tenth session)
    staged_min_pages: int = setting(50_000, "Pages from which a save of every result stages its rows and writes "
                                            "them in key order at the end, rather than each at its place.")
