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
        "columns": {
            "fingerprint": "version of the fingerprint rules the signature was made with (older ones are redone)",
            "openings": "settings the article's opening and capture keys were made with (older ones are redone)",
        },
    },
    "edges": {
        "description": ("Relations found by aligning the passages two texts share: copies (which join stories) and "
                        "quotes (which do not)."),
        "columns": {
            "containment": "share of the smaller text's shingles in the larger",
            "kind": "copy or quote",
            "basis": "rule that made a copy (covers, lead, leads), or the quoted side (a or b) of a quote",
            "cover_a": "share of a's unquoted words in the aligned passages",
            "cover_b": "share of b's unquoted words in the aligned passages",
            "len_a": "words of a as aligned",
            "len_b": "words of b as aligned",
            "passages": "the aligned passages as int32 quadruples: start, end in a, then in b, in words",
            "opens": "texts (a, b) whose opening stretch the other holds",
        },
    },
    "grouping_state": {
        "description": ("What the last grouping pass read of the whole database for lineage (site furniture, who "
                        "wrote it, titles, sites writing no credits), compared by the next pass."),
        "columns": {"name": "what is kept", "value": "its value, JSON"},
    },
    "text_changes": {
        "description": ("Articles whose stored paragraphs were added or changed since a grouping pass last read "
                        "them (noted by triggers), so that an increment reads only those texts."),
        "columns": {"seq": "number of the note", "url": "the article"},
    },
    "band_keys": {
        "description": ("Each signature's LSH band keys (made when it was signed), so that an increment's candidate "
                        "search need not band every stored signature again."),
        "columns": {"url": "the article", "banding": "bands and rows per band the keys were made for (\"37x3\")",
                    "band_keys": "uint64 keys: each of the article's signatures (whole text, then leads), band by band"},
    },
    "openings": {
        "description": ("Each signed article's opening keys and, for a short one, its keys as a caption-only capture "
                        "(made when it was signed), so that captures are matched without reading texts."),
        "columns": {"url": "the article",
                    "opening": "uint32 keys: the distinct long word pairs of its opening",
                    "capture": "uint32 keys: the longest word pairs of its deck, for a short text (else null)",
                    "looked_up": "1 once the capture has been matched against every stored article"},
    },
    "page_facts": {
        "description": ("What grouping reads of each article page beyond its text, kept between passes (dropped by "
                        "triggers when the page or an outlet changes), so that a pass parses only new pages' credits "
                        "and titles."),
        "columns": {"url": "the article", "site": "its site", "credits": "1 if it carries credit lines",
                    "lines": "uint64 hashes of its credit lines' normalised words",
                    "relays": "1 if it credits two or more other outlets (a copy's and its source)",
                    "title_key": "uint64 hash of its title's normalised words (none without words)"},
    },
    "contains": {
        "description": ("A page holding a piece of a page of another story (listing, compilation, commentary, quote): "
                        "linked, never merged."),
        "columns": {
            "url": "the page holding the piece",
            "contained_url": "the page of the other story",
            "story_id": "story of the holding page",
            "contained_story": "story of the page held",
        },
    },
    "stories": {
        "description": "Groups of copies of one article.",
        "columns": {
            "origin_url": "the original",
            "size": "pages in the story",
            "uncredited": "copies uncredited or misattributed (story_view counts them apart)",
            "versions": "versions of the running file (write-thrus, updates)",
            "contains": "links to other stories this story's pages hold pieces of",
        },
    },
    "members": {
        "description": "Which story each article belongs to, whether it is the origin, and its parent.",
        "columns": {
            "role": "origin, copy, version (starts a new version) or aggregate",
            "version": "number of the version of the running file the page carries",
            "version_url": "first page of that version",
        },
    },
    "lineage": {
        "description": "Why each origin and parent was chosen: signal and evidence (JSON).",
        "columns": {
            "changes": ("for a page starting a version: the version it updates and what it rewrote, added and "
                        "dropped (JSON)"),
        },
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
