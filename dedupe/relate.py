"""What two texts are to each other, decided from the passages they share (``dedupe.align``).

A pair is a **copy** (the same piece of writing: a reprint, a trimmed or re-headlined copy, a write-thru)
on one of three grounds, each measured on words outside quotation marks:

  covers  most of one text lies in the other, in order: a reprint, an excerpt, a copy padded with
          captions and widgets (the padded side is the larger one, so the other side is measured);
  lead    one text's opening stretch, from its lead on and without a break, makes up a real share of it
          and is found whole in the other: a trimmed copy whose own captions and boxes outweigh it;
  leads   both texts start with the passages they share, in the same order, and those cover a real share
          of one of them: a write-thru or a lightly rewritten version with its lead reworded.

Two pages of one site must be mostly each other, or share their leads (see ``copy_basis``).

A fourth ground, **caption**, is decided apart (``relate_caption``), for a short page no other relation links to
a longer page: a caption-only capture of a story's page (a share widget's headline and a deck cut from the lead,
words dropped), whose words are found in order in the story's opening by a word-level chain that extends across
the drops.

Where the shared words are mostly inside quotation marks, two texts quote the same statement: a
**quote** relation, kept (an article quoting another is shown as containing it) but never a copy.
Shared passages elsewhere (background paragraphs, a press release, a caption in the middle of both) are
no relation at all. Which side contains which is kept with the relation, for the aggregate rules of
``dedupe.group``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from dedupe.align import Alignment, TextPrint, align, loose_passages
from dedupe.jit import kernel
from dedupe.options import GroupingOptions


@dataclass(frozen=True, slots=True)
class Edge:
    """A relation between two articles (``a`` < ``b``), with what it was decided from.

    ``cover_a``/``cover_b``: share of each text's unquoted words in the aligned chain; ``passages``: the
    chain's passages, each (start, end) in text a then in text b, in words; ``len_a``/``len_b``: words of
    each text as aligned; ``containment``/``jaccard``: of the shingle sets.
    """

    a: str
    b: str
    containment: float
    jaccard: float
    kind: str = "copy"          # copy | quote
    basis: str = "covers"       # covers | lead | leads | caption (copies); the quoted side for quotes: "a" or "b"
    cover_a: float = 1.0
    cover_b: float = 1.0
    passages: tuple[tuple[int, int, int, int], ...] = ()
    opens: str = ""             # the texts ("a", "b") whose opening stretch (lead rule) the other holds
    len_a: int = 0              # words of each text as aligned
    len_b: int = 0

    @property
    def is_copy(self) -> bool:
        return self.kind == "copy"

    def cover(self, url: str) -> float:
        return self.cover_a if url == self.a else self.cover_b

    def opened(self, url: str) -> bool:
        """Does the other text hold this text's opening stretch (a real share of it, from its lead on)?"""
        return ("a" if url == self.a else "b") in self.opens

    def ranges(self, url: str) -> list[tuple[int, int]]:
        """Where the shared passages lie in this text: (start, end) in words."""
        return [(p[0], p[1]) if url == self.a else (p[2], p[3]) for p in self.passages]

    def other(self, url: str) -> str:
        return self.b if url == self.a else self.a


@dataclass(frozen=True, slots=True)
class SideView:
    """One text's side of an alignment: what its chain covers and where the chain starts."""

    cover: float          # unquoted words in the chain / unquoted words
    cover_all: float      # all words in the chain / all words
    anchored: bool        # nothing but short header lines before the chain's first passage
    lead_stretch: float   # share of the text in the chain's first passage


def _side(p: TextPrint, chain: np.ndarray, covered: np.ndarray, column: int, noise_words: int) -> SideView:
    cover, cover_all, anchored, stretch = side_numbers(p.quoted, p.paragraphs, p.n_words, chain, covered, column,
                                                       noise_words)
    return SideView(cover, cover_all, anchored, stretch)


@kernel
def side_numbers(quoted: np.ndarray, paragraphs: np.ndarray, n_words: int, chain: np.ndarray, covered: np.ndarray,
                 column: int, noise_words: int) -> tuple[float, float, bool, float]:
    """A :class:`SideView`'s numbers for the text of ``n_words`` words whose ``quoted`` bits (packed) and
    ``paragraphs`` are given, its words in the alignment's passages ``covered``, the ``chain``'s passages in
    it in columns ``column`` and ``column + 1``."""
    in_chain = np.zeros(n_words, dtype=np.bool_)
    for r in range(len(chain)):
        in_chain[chain[r, column]:chain[r, column + 1]] = True
    unquoted = np.ones(n_words, dtype=np.bool_)
    for w in range(min(n_words, 8 * len(quoted))):
        unquoted[w] = not (quoted[w >> 3] >> (7 - (w & 7))) & 1
    # a text mostly in quotation marks (a transcript, a statement) is measured on all its words
    measure_all = unquoted.sum() * 4 < n_words
    shared = measured = shared_measured = 0
    for w in range(n_words):
        in_chain[w] = in_chain[w] and covered[w]
        shared += in_chain[w]
        measured += measure_all or unquoted[w]
        shared_measured += in_chain[w] and (measure_all or unquoted[w])
    first = chain[0, column] if len(chain) else n_words
    anchored = len(chain) > 0
    for p in range(len(paragraphs)):   # nothing but short lines (fewer unaligned words) before the chain
        start, end = paragraphs[p], paragraphs[p + 1] if p + 1 < len(paragraphs) else n_words
        if start < first:
            unaligned = 0
            for w in range(start, min(end, first, n_words)):
                unaligned += not covered[w]
            anchored = anchored and unaligned < noise_words
    stretch = (chain[0, column + 1] - first) / max(n_words, 1) if len(chain) else 0.0
    return shared_measured / max(measured, 1), shared / max(n_words, 1), anchored, stretch


def sides(a: TextPrint, b: TextPrint, options: GroupingOptions) -> tuple[Alignment, SideView, SideView]:
    """The alignment of two texts and each text's view of it."""
    al = align(a, b, options.align_gap, options.min_passage_words)
    chain = al.passages[al.chain] if len(al.passages) else al.passages
    return (al, _side(a, chain, al.covered_a, 0, options.lead_noise_words),
            _side(b, chain, al.covered_b, 2, options.lead_noise_words))


def copy_basis(va: SideView, vb: SideView, options: GroupingOptions, same_site: bool = False) -> str | None:
    """Why two texts are copies of one piece of writing, or None (see the module's docstring).

    Two pages of one site are held to more: an outlet reuses its own background paragraphs across its
    articles on a running event, so there only the same text on both (each mostly in the other) or a
    shared lead makes them one article.
    """
    if same_site:
        if min(va.cover, vb.cover) >= options.min_cover:
            return "covers"
        both_lead = va.anchored and vb.anchored and max(va.cover, vb.cover) >= options.lead_share
        return "leads" if both_lead else None
    if max(va.cover, vb.cover) >= options.min_cover:
        return "covers"
    if any(v.anchored and v.lead_stretch >= options.lead_share for v in (va, vb)):
        return "lead"
    if va.anchored and vb.anchored and max(va.cover, vb.cover) >= options.lead_share:
        return "leads"
    return None


@kernel
def shared_count(ua: np.ndarray, ub: np.ndarray) -> int:
    """How many values two sorted arrays of distinct values have in common."""
    i = j = shared = 0
    while i < len(ua) and j < len(ub):   # no branch on the values: they are random, a branch mispredicted
        x, y = ua[i], ub[j]
        shared += x == y
        i += x <= y
        j += y <= x
    return shared


def relate(url_a: str, url_b: str, a: TextPrint, b: TextPrint, options: GroupingOptions,
           same_site: bool = False) -> Edge | None:
    """The relation of two texts (``url_a`` < ``url_b``), or None when they are unrelated."""
    ua, ub = a.unique(), b.unique()
    if not len(ua) or not len(ub):
        return None
    inter = shared_count(ua, ub)
    containment = inter / min(len(ua), len(ub))
    # no rule can hold with fewer shared shingles (a chain covering a third of a text needs a third of its
    # shingles less the few at passage ends): skip the alignment
    if containment < 0.15:
        return None
    al, va, vb = sides(a, b, options)
    jaccard = inter / (len(ua) + len(ub) - inter)
    common = {"containment": round(containment, 4), "jaccard": round(jaccard, 4), "cover_a": round(va.cover, 4),
              "cover_b": round(vb.cover, 4),
              "passages": tuple(tuple(row) for row in al.passages[al.chain].tolist()),
              "opens": "".join(side for side, v in (("a", va), ("b", vb))
                               if v.anchored and v.lead_stretch >= options.lead_share),
              "len_a": a.n_words, "len_b": b.n_words}
    basis = copy_basis(va, vb, options, same_site)
    if basis:
        return Edge(url_a, url_b, kind="copy", basis=basis, **common)
    quoted = max(("a", va), ("b", vb), key=lambda s: s[1].cover_all)
    if quoted[1].cover_all >= options.min_cover > quoted[1].cover:   # most of it shared, but only in quotes
        return Edge(url_a, url_b, kind="quote", basis=quoted[0], **common)
    return None


def relate_caption(caption_url: str, story_url: str, caption: TextPrint, caption_words: np.ndarray,
                   story: TextPrint, story_words: np.ndarray, chain: tuple[int, int, int, int, int],
                   options: GroupingOptions) -> Edge | None:
    """A caption-only capture's relation to a story (a copy, basis "caption"), or None.

    A share widget or a teaser captured instead of the page shows the headline and a deck: the lead, or the
    paragraph after it, with words dropped. The deck's words must be found in order within the story's opening
    (``caption_lead_words``), with small gaps on either side (``loose_passage``), keeping at least
    ``caption_min_words`` words and most of the stretch they span; they must make up most of the capture's
    paragraphs they lie in (``min_cover``), and the capture must open with them (nothing but short header lines
    before, as for the lead rule): a short page of its own prose that borrows a phrase or a sentence of the story
    has its own words around it, and its own lead first. A paragraph both print whole, word for word, is a line
    both carry (a credit line, a note), left to the exact rules and the furniture; a deck is cut from the story,
    so a stretch kept mostly in runs of ``min_passage_words`` whole words is a shared sentence (a stock phrase
    with another name in it), not a deck.
    ``caption_words``/``story_words`` are the texts' word hashes
    as printed (``caption``: the capture's print, for its quoted words and paragraphs); ``chain`` is
    ``loose_passage`` of the capture's unquoted words in the story's opening, with ``caption_own_gap``,
    ``caption_gap`` and ``caption_min_words`` (``caption_chains`` makes a batch's at once).
    """
    kept, s0, s1, t0, t1 = chain
    if kept < options.caption_min_words or kept < options.caption_keep * (t1 - t0):
        return None
    starts = [int(start) for start in caption.paragraphs]
    before = [start for start in starts if start <= s0] + [s0]
    if any(b - a >= options.lead_noise_words for a, b in pairwise(before)):
        return None
    ends = [*starts[1:], caption.n_words]
    spanned = sum(end - start for start, end in zip(starts, ends) if start < s1 and end > s0)
    if kept < options.min_cover * spanned:   # a paragraph of its own prose sharing a phrase, not a deck
        return None
    if kept == s1 - s0 == t1 - t0 and _whole_paragraph(starts, caption.n_words, s0, s1) and \
            _whole_paragraph(story.paragraphs.tolist(), story.n_words, t0, t1):
        return None
    if 2 * _in_whole_runs(caption_words[s0:s1].tolist(), story_words[t0:t1].tolist(), options.min_passage_words) \
            >= kept:   # mostly a sentence both print whole: a stock phrase, not a deck
        return None
    cover_caption, cover_story = round(kept / max(caption.n_words, 1), 4), round(kept / max(story.n_words, 1), 4)
    if caption_url < story_url:
        return Edge(caption_url, story_url, 0.0, 0.0, basis="caption", cover_a=cover_caption, cover_b=cover_story,
                    passages=((s0, s1, t0, t1),), opens="a", len_a=caption.n_words, len_b=story.n_words)
    return Edge(story_url, caption_url, 0.0, 0.0, basis="caption", cover_a=cover_story, cover_b=cover_caption,
                passages=((t0, t1, s0, s1),), opens="b", len_a=story.n_words, len_b=caption.n_words)


def caption_chains(prints: list[TextPrint], words: list[np.ndarray], pairs: list[tuple[int, int]],
                   options: GroupingOptions) -> list[tuple[int, int, int, int, int]]:
    """The chain ``relate_caption`` needs of each (capture, story) pair of these texts (numbers into ``prints``
    and ``words``, the texts' prints and word hashes: of a story, at least its opening's), made by one call of
    ``loose_passages``."""
    if not pairs:
        return []
    bounds = np.cumsum([0, *(len(w) for w in words)])
    skip = np.concatenate([_closed_quotes(np.unpackbits(p.quoted, count=len(w)).astype(np.bool_), p.paragraphs)
                           for p, w in zip(prints, words)])
    shorts, longs = (np.array(side, dtype=np.int64) for side in zip(*pairs))
    found = loose_passages(np.concatenate(words), bounds, skip, shorts, longs, options.caption_lead_words,
                           options.caption_own_gap, options.caption_gap, options.caption_min_words)
    return [tuple(row) for row in found.tolist()]


def _closed_quotes(quoted: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """A capture's quoted words, less those of a quotation opened inside a paragraph and never closed in it: a
    widget cuts its deck short, often inside a quotation, and the words it kept after the mark are the story's
    own prose as much as a quote. (A paragraph that opens with the mark is left quoted: a quotation running over
    paragraphs is written so.)"""
    out = quoted.copy()
    ends = [*starts[1:].tolist(), len(quoted)]
    for a, b in zip(starts.tolist(), ends):
        if a < b <= len(quoted) and quoted[b - 1]:
            k = b - 1
            while k > a and quoted[k - 1]:
                k -= 1
            if k > a:
                out[k:b] = False
    return out


def _in_whole_runs(short: list[int], long: list[int], min_words: int) -> int:
    """Words of ``short`` in runs of at least ``min_words`` words that ``long`` holds whole, word for word (a
    quadratic pass: only for the few stretches every other test let through)."""
    inside = [False] * len(short)
    previous = [0] * (len(long) + 1)
    for i, word in enumerate(short):
        current = [0] * (len(long) + 1)
        for j, other in enumerate(long):
            if word == other:
                current[j + 1] = run = previous[j] + 1
                if run >= min_words:
                    inside[i - run + 1:i + 1] = [True] * run
        previous = current
    return sum(inside)


def _whole_paragraph(starts: list[int], n_words: int, start: int, end: int) -> bool:
    """Is words ``start`` to ``end`` exactly one paragraph of a text whose paragraphs start at ``starts``?"""
    return start in starts and (end == n_words or end in starts)
