"""What each table, view and column of the database holds, in words: shown by Datasette
(``syndtrace metadata`` writes its metadata file) and kept in step with the schema by the tests."""

from __future__ import annotations

TITLE = "syndtrace"
DESCRIPTION = "Where news stories spread, who copied whom, and whether each copy credits the original."
TABLES: dict[str, dict] = {
    "fetches": {
        "description": "Raw HTTP captures (compressed bodies), one per page URL key.",
        "columns": {
            "url": "URL key of the page (canonical, http, no trailing slash)",
            "requested_url": "URL first requested, before redirects",
            "final_url": "URL as served",
            "status": "HTTP status (0: network failure)",
            "headers": "response headers (JSON)",
            "fetched_at": "capture time (UTC)",
            "body": "zlib-compressed body",
            "content_hash": "SHA-1 of the body",
            "etag": "ETag validator",
            "last_modified": "Last-Modified validator",
            "source": "crawl or warc",
            "run_id": "run that captured it",
            "error": "why it failed",
        },
    },
    "aliases": {
        "description": "Redirect sources and byte-identical twins, mapped to the page they lead to.",
    },
    "articles": {
        "description": "Extracted pages: article text and metadata, credits (attribution JSON).",
        "columns": {
            "page_type": "article, home, section, tag, author, about, static, search, feed or other",
            "published": "the page's own publication date",
            "modified": "last modification date, if stated",
            "authors": "every author the page names (JSON list); author joins them with \", \"",
            "paragraphs": "body paragraphs (JSON)",
            "attribution": "credits, content links, copyright, licence (JSON)",
            "evidence": "raw strings behind decisions (JSON)",
        },
    },
    "signatures": {
        "description": "MinHash signatures with the parameters they were built with (mixing them is refused).",
    },
    "edges": {
        "description": "Verified copy relations: containment of the smaller text in the larger, and Jaccard.",
    },
    "stories": {
        "description": "Groups of copies of one article.",
        "columns": {
            "origin_url": "the original",
            "size": "pages in the story",
            "uncredited": "copies uncredited or misattributed (story_view counts them apart)",
        },
    },
    "members": {
        "description": "Which story each article belongs to, whether it is the origin, and its parent.",
    },
    "lineage": {
        "description": "Why each origin and parent was chosen: signal and evidence (JSON).",
    },
    "audits": {
        "description": "Attribution verdict per article, with reasons, licence conflicts and passage diff.",
    },
    "runs": {
        "description": "Crawl, ingest and demo runs with their figures.",
    },
    "sites": {
        "description": "The watch list.",
    },
    "outlets": {
        "description": "Outlet names learned from pages (og:site_name).",
    },
    "lineage_view": {
        "description": "One row per article of a story, with its parent site, signal and verdict.",
    },
    "audit_view": {
        "description": "One row per copy with its origin site and attribution status.",
    },
    "story_view": {
        "description": ("Stories with origin site, number of copies, and uncredited and misattributed copies "
                        "counted apart."),
    },
    "status_history": {
        "description": ("Every failed fetch by run, and the success after one: a copy whose last status is 404 or "
                        "410 is gone since the first run of that streak; its capture stays in fetches as evidence."),
        "columns": {
            "run_id": "run that saw this status (0: outside a run)",
            "status": "HTTP status (0: no answer)",
            "error": "why it failed",
        },
    },
}
