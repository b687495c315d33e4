"""Versions of one running file: write-thrus and updates, apart from the copies of each.

A copy keeps the words of what it copies: it adds (notes, credits, captions, boilerplate), drops and
moves paragraphs, and its typos change a word or two. A newer version of the running file *rewrites*:
one of its paragraphs says what a paragraph of the version before it said, with other words (a reworded
lead, a changed figure and the sentence around it). So a page is a new version when it carries a
rewritten paragraph of the page it was taken from (its lineage parent); otherwise it carries the version
of its parent. The version chain is the pages that started a version, in that order, each with what it
changed: the paragraphs it rewrote, added and dropped relative to the version it updates.

Pure functions of the story's members and lineage decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from dedupe.options import LineageOptions
from dedupe.trace.lineage import Decision
from dedupe.trace.members import Member

DEFAULTS = LineageOptions()


def _bigrams(key: str) -> set[tuple[str, str]]:
    return set(pairwise(key.split(" ")))


def _jaccard(x: set, y: set) -> float:
    if not x or not y:
        return 0.0
    shared = len(x & y)
    return shared / (len(x) + len(y) - shared)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two paragraph keys' word pairs (a typo keeps it near 1, a rewrite lowers it,
    a different paragraph takes it near 0)."""
    return _jaccard(_bigrams(a), _bigrams(b))


@dataclass
class Changes:
    """What a version changed in the version it updates (paragraph keys, rewrites as (old, new))."""

    rewritten: list[tuple[str, str]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def to_json(self, limit: int = 5, words: int = 12) -> dict:
        def cut(k: str) -> str:
            parts = k.split(" ")
            return " ".join(parts[:words]) + (" …" if len(parts) > words else "")

        return {"rewritten": [[cut(a), cut(b)] for a, b in self.rewritten[:limit]],
                "added": [cut(k) for k in self.added[:limit]], "dropped": [cut(k) for k in self.dropped[:limit]],
                "counts": {"rewritten": len(self.rewritten), "added": len(self.added), "dropped": len(self.dropped)}}


def rewrites(newer: Member, older: Member, options: LineageOptions = DEFAULTS) -> list[tuple[str, str]]:
    """Paragraphs of ``older`` that ``newer`` says again in other words, as (old, new) pairs.

    The paragraphs only one of the two has (substantive ones) are paired, most alike first, each used
    once: a pair above ``typo_similarity`` is one paragraph with a typo or a changed word, a pair between
    ``rewrite_floor`` and that is a rewrite, provided the new paragraph brings words of its own (a share
    of its word pairs found nowhere in the older text: two paragraphs joined into one, or a photo caption
    that quotes the lead, only say again what the older text said). Pairing the most alike first keeps a caption from
    passing for a rewrite of the lead it quotes.
    """
    mine, theirs = set(newer.paragraph_keys), set(older.paragraph_keys)
    gone = [k for k in dict.fromkeys(older.paragraph_keys) if k not in mine and k.count(" ") + 1 >= options.rewrite_min_words]
    new = [k for k in dict.fromkeys(newer.paragraph_keys) if k not in theirs and k.count(" ") + 1 >= options.rewrite_min_words]
    if not gone or not new:   # most copies: nothing to pair (the older text's word pairs are not even read)
        return []
    gone_pairs, new_pairs = [_bigrams(k) for k in gone], [_bigrams(k) for k in new]   # each key's pairs once
    scored = sorted(((_jaccard(x, y), i, j) for i, x in enumerate(gone_pairs) for j, y in enumerate(new_pairs)),
                    reverse=True)
    used_old: set[int] = set()
    used_new: set[int] = set()
    said: set[tuple[str, str]] = set()   # the older text's word pairs, once a pair needs them
    out = []
    for sim, i, j in scored:
        if sim < options.rewrite_floor:
            break
        if i in used_old or j in used_new:
            continue
        used_old.add(i)
        used_new.add(j)
        pairs = new_pairs[j]
        if sim < options.typo_similarity:
            said = said or {pair for k in older.paragraph_keys for pair in _bigrams(k)}
            if len(pairs - said) >= options.rewrite_new_share * len(pairs):
                out.append((gone[i], new[j]))
    return out


def changes(newer: Member, older: Member, options: LineageOptions = DEFAULTS) -> Changes:
    """What ``newer`` changed in ``older``."""
    found = rewrites(newer, older, options)
    said = {a for a, _ in found} | {b for _, b in found}
    mine, theirs = set(newer.paragraph_keys), set(older.paragraph_keys)
    return Changes(found, [k for k in newer.paragraph_keys if k not in theirs and k not in said],
                   [k for k in older.paragraph_keys if k not in mine and k not in said])


@dataclass
class Version:
    """One version of the story: the page that started it, the version it updates, what it changed."""

    number: int
    url: str
    updates: str | None
    changes: Changes


@dataclass
class Versions:
    """Each page's version number and the chain of versions."""

    of: dict[str, int]
    chain: list[Version]

    def started_by(self, url: str) -> Version | None:
        return next((v for v in self.chain if v.url == url), None)

    def first_page(self, number: int) -> str:
        return self.chain[number - 1].url


def _known_version(m: Member, chain: list[Version], by_url: dict[str, Member]) -> int | None:
    """The latest version whose rewritten paragraphs ``m`` carries (a copy of it taken, as far as its edits
    tell, from an earlier version's page)."""
    keys = set(m.paragraph_keys)
    for version in reversed(chain[1:]):
        if any(new in keys for _, new in version.changes.rewritten):
            return version.number
    return None


def find_versions(members: list[Member], decisions: dict[str, Decision],
                  options: LineageOptions = DEFAULTS) -> Versions:
    """Versions of one story, following its lineage from the origin: a page with a rewritten paragraph of
    its parent starts a new version, any other page carries its parent's version."""
    by_url = {m.url: m for m in members}
    origin = next(d.origin for d in decisions.values())
    of = {origin: 1}
    chain = [Version(1, origin, None, Changes())]
    pending = sorted((m for m in members if m.url != origin), key=lambda m: m.when)
    while pending:
        ready = [m for m in pending if (decisions[m.url].parent or origin) in of]
        if not ready:   # a parent outside the story: take it from the origin
            ready = pending[:1]
        for m in ready:
            parent = decisions[m.url].parent or origin
            parent = parent if parent in by_url else origin
            if not rewrites(m, by_url[parent], options):
                of[m.url] = of.get(parent, 1)
            elif (known := _known_version(m, chain, by_url)) is not None:
                of[m.url] = known
            else:
                chain.append(Version(len(chain) + 1, m.url, chain[of.get(parent, 1) - 1].url,
                                     changes(m, by_url[parent], options)))
                of[m.url] = len(chain)
        pending = [m for m in pending if m.url not in of]
    return Versions(of, chain)
