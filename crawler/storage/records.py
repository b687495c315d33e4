"""What goes into and comes out of the database besides plain row dicts: a capture, and the compact rows
the grouping pass streams (named tuples: one is made per stored article, so they must stay cheap)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple


@dataclass
class FetchRecord:
    """One HTTP capture, as the crawler or a WARC file saw it."""

    url: str
    requested_url: str
    final_url: str
    status: int
    headers: dict
    body: bytes
    fetched_at: str
    content_type: str = ""
    source: str = "crawl"
    error: str | None = None

    @cached_property
    def content_hash(self) -> str:
        """SHA-1 of the body, hashed once: storing a capture asks for it twice (its twins, its row)."""
        return hashlib.sha1(self.body).hexdigest()

    @classmethod
    def from_capture(cls, capture) -> FetchRecord:
        """From a crawl's capture (a PageItem, or its dict sent through Redis)."""
        headers = capture["headers"] or {}
        return cls(url=capture["url"], requested_url=capture["requested_url"], final_url=capture["final_url"],
                   status=capture["status"], headers=headers, body=capture["body"],
                   fetched_at=capture["fetched_at"], content_type=headers.get("content-type", ""),
                   error=capture.get("error"))


class StoredSignature(NamedTuple):
    """What is kept of an article's last signing: whether it was made with the parameters asked about, and
    the identities of the text signed."""

    url: str
    same_parameters: bool         # made with the MinHash parameters and lead sizes asked about
    content_hash: str | None      # digest of the fingerprinted paragraphs (site furniture left out)
    paragraphs_hash: str | None   # hash of the stored paragraphs, to tell an unchanged text without reading it
    paragraph_keys: bytes | None  # each paragraph's identity (uint64 hashes)


class StoredText(NamedTuple):
    """An article's site and paragraphs as stored (JSON text, hashed as is to tell an unchanged text)."""

    url: str
    site: str
    paragraphs_json: str | None


class StoredEdge(NamedTuple):
    """A stored relation between two articles (``dedupe.relate.Edge`` as a row)."""

    a: str
    b: str
    containment: float
    jaccard: float
    kind: str | None
    basis: str | None
    cover_a: float | None
    cover_b: float | None
    len_a: int | None
    len_b: int | None
    passages: bytes | None   # the aligned passages, int32 (start, end in a, start, end in b) each
    opens: str | None        # the texts whose opening stretch the other holds ("a", "b", "ab")
