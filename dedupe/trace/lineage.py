"""Stage 7, lineage: the origin of a story and who copied from whom.

Origin, by evidence in this order:
  1. explicit credit: a copy that credits or links another copy, or whose rel=canonical points at one,
     says it is not the original;
  2. the earliest publication date the pages show: a page published surely later than another candidate
     (beyond what date-only values and time zones leave open) is not the original, unless copies on two
     or more other sites credit it (one credit may only be a chain copy naming the page it took, and
     a scraper can back-date); among the rest, the one the copies credit most, then the earliest;
  3. the earliest capture.
A later update (an "Update:" paragraph, a modified date) does not change the origin, because only the
publication date is compared.

Parent of each copy: the copy whose page it links in its credit (unless that link came with the text of
the copy whose edits it carries); otherwise a copy whose additions it carries (its note to readers,
disclaimer or edits, absent from the origin, and the words it changed in the original's paragraphs), which
gives chains A→B→C; otherwise a copy not surely published after it (a page dated only by its day may have
appeared after a copy timed that evening) that it credits by name and may have come through (a name
alone, with nothing of that copy's and no credit to the origin, is a misattribution); otherwise the origin.
An addition a site repeats on its own pages (its note, its disclaimer) was written by that site, and a
credit line on a site that writes none of its own (a scraper) came with the text, so both also say which way
the copying went when the dates cannot (undated scrapes). A site that republishes other republishers' copies
(it credits two outlets, the one it took a text from and that text's source, on several pages) is likelier to
have taken a credit line in the same words from the copy holding it, and an undated page carrying the same
edits as its page may be the copy it took them from. A candidate's headline of its own that the copy does not
show counts against it; a copy that credits nobody but shows a candidate's headline dropped every credit line,
so that candidate's lines do not. Of two candidates with the same evidence, the one holding fewer such lines,
then the one published closer before the copy, is its parent. Every decision keeps its evidence.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise

from dedupe.normalise import paragraph_key
from dedupe.options import LineageOptions
from dedupe.trace.members import Member

DEFAULTS = LineageOptions()


def _not_generic(key: str, site: str) -> bool:
    return False


def _never(site: str) -> bool:
    return False


@dataclass
class Decision:
    url: str
    parent: str | None
    origin: str
    signal: str
    evidence: dict


def choose_origin(members: list[Member], options: LineageOptions = DEFAULTS,
                  generic: Callable[[str, str], bool] = _not_generic) -> tuple[Member, str, dict]:
    """The story's original and why. Of pages the dates cannot order, one that looks scraped (boilerplate
    other sites insert too, spam or ads by ``generic``, in a text without the author most pages show) is
    not the original."""
    if len(members) == 1:
        return members[0], "only-copy", {}
    slack = timedelta(hours=options.date_only_slack_hours)
    votes = {m.url: [o.url for o in members if o is not m and o.references(m)] for m in members}
    candidates = [m for m in members if not m.claims_copy() and not any(m.references(o) for o in members if o is not m)]
    pool = candidates or members
    independent = {m.url: len({by.site for by in members if by.url in votes[m.url]}) >= 2 for m in members}
    pool = [m for m in pool if independent[m.url] or not any(o.surely_before(m, slack) for o in pool)]
    authors = Counter(key for m in members if (key := paragraph_key(m.author or "")))
    story_author = authors.most_common(1)[0][0] if authors else ""

    def scraped(m: Member) -> bool:
        return paragraph_key(m.author or "") != story_author and any(generic(k, m.site) for k in m.paragraph_keys)

    best = min(pool, key=lambda m: (-len(votes[m.url]), scraped(m), m.when))
    if votes[best.url] and len(pool) > 1:
        signal = "credited-by-copies"
    elif best.published and any(m.published for m in members if m is not best):
        signal = "earliest-published"
    elif best.published:
        signal = "only-dated"
    else:
        signal = "earliest-capture"
    evidence = {
        "credited_by": votes[best.url],
        "published": best.published.isoformat() if best.published else None,
        "claims_copy": sorted(m.url for m in members if m.claims_copy()),
    }
    return best, signal, evidence


Feature = tuple[str, ...]   # ("added", key) | ("dropped", key) | ("joined", key, key) | ("title", key) | ("byline", key)
#                           | ("word", word)


def _is_origin_credit(m: Member, key: str, origin: Member) -> bool:
    return any(host == origin.site and (key == k or k in key) for k, host in m.credit_keys.items() if k)


def edits_of(m: Member, origin: Member, origin_order: dict[str, int], origin_pairs: set[tuple[str, str]],
             min_words: int, generic: Callable[[str, str], bool]) -> set[Feature]:
    """What a page changed in the original's text, paragraph by paragraph: paragraphs it added (long enough
    to say something), runs of the original's paragraphs it dropped between two it kept (dropping the end is
    trimming, not an edit; a tweet or photo is one run), paragraphs it put next to each other that the
    original does not have in that order (a move, a drop, or where boilerplate was inserted; next to a
    paragraph of its own the addition itself says it), and a headline or byline of its own."""
    keys = m.paragraph_keys
    inside = set(keys)
    author = paragraph_key(m.author or "")
    own = {k for k in keys if k not in origin_order and k.count(" ") + 1 >= min_words and not _byline_line(k, author)}
    out: set[Feature] = {("added", k) for k in own}
    kept = sorted(origin_order[k] for k in inside if k in origin_order)
    if kept:
        run: list[str] = []
        for k, i in sorted(origin_order.items(), key=lambda ki: ki[1]):
            if kept[0] < i < kept[-1] and k not in inside:
                run.append(k)
            elif run:
                out.add(("dropped", run[0]))
                run = []
    plain = {k for k in own if not generic(k, m.site)}
    out |= {("joined", a, b) for a, b in pairwise(keys) if (a, b) not in origin_pairs and not {a, b} & plain}
    for kind, mine, theirs in (("title", m.title, origin.title), ("byline", m.author, origin.author)):
        key = paragraph_key(mine or "")
        if key and key != paragraph_key(theirs or ""):
            out.add((kind, key))
    return out


_BYLINE_LABEL_WORDS = 3   # "by", "written by:", "story by" before the name


def _byline_line(key: str, author: str) -> bool:
    """Is this line the page layout's byline: the page's author, after a label of a few words at most?"""
    return bool(author) and (key == author or key.endswith(f" {author}")
                             and key.count(" ") - author.count(" ") <= _BYLINE_LABEL_WORDS)


def changed_words(m: Member, origin_order: dict[str, int], vocabulary: Callable[[], set[str]],
                  min_words: int) -> set[Feature]:
    """Words a page brought into the original's own paragraphs (a typo, a changed name or figure): in a
    paragraph of the original's words (``vocabulary()``) but for one word in ten, each word the original never
    uses. Two copies rarely misspell the same word alike; a copy of a copy carries its parent's. The vocabulary
    is asked for only when a long paragraph is not the original's (most copies have none)."""
    out: set[Feature] = set()
    for k in m.paragraph_keys:
        if k in origin_order or k.count(" ") + 1 < 5 * min_words:
            continue
        words = k.split()
        known = vocabulary()
        new = [w for w in words if w not in known]
        if new and len(new) * 10 <= len(words):
            out.update(("word", w) for w in new)
    return out


@dataclass
class _Carrier:
    """The earlier copy whose edits a copy carries most, and how strongly."""

    member: Member | None = None
    score: float = 0.0
    shared: list[str] = field(default_factory=list)
    passed: int = 0   # its credit lines the copy lacks that were not counted against it (``_lacked_weight``)


@dataclass(frozen=True)
class _SiteHabits:
    """What a site's other pages say about the copy on one of its pages (see ``choose_parents``)."""

    carried: Callable[[str], bool] = _never   # writes no credit line of its own
    relays: Callable[[str], bool] = _never    # republishes other republishers' copies


def _weight(feature: Feature, cand: Member, origin: Member, site: str, generic: Callable[[str, str], bool],
            options: LineageOptions, habits: _SiteHabits) -> float:
    """How much one shared edit says (see ``LineageOptions``): a paragraph of its own 1; a headline of their own,
    a dropped passage, a credit line to the origin in the same words, boilerplate, a subheading (kept by one
    layout, dropped by another), a line of a few words (a fragment, a label, a placeholder byline) or a new
    order of paragraphs less, as two copies may make them alike by chance. A credit line on the page of a site
    that writes none of its own came with the text: it counts in full; on the page of a site that republishes
    copies, more than on others."""
    if feature[0] == "dropped":
        return options.drop_weight
    if feature[0] == "word":
        return 1.0
    if feature[0] == "joined":
        return options.weak_edit_weight
    if feature[0] == "title":
        return options.headline_weight
    if _is_origin_credit(cand, feature[1], origin):
        if habits.carried(site):
            return 1.0
        return options.relay_credit_weight if habits.relays(site) else options.credit_line_weight
    if generic(feature[1], site) or feature[1] in cand.headings or _short_line(feature[1], cand, options):
        return options.weak_edit_weight
    return 1.0


def _short_line(key: str, cand: Member, options: LineageOptions) -> bool:
    """A line of a few words that credits nobody: a stray fragment, a label, a placeholder byline."""
    return key.count(" ") + 1 < options.short_line_words and key not in cand.credit_keys


@dataclass
class _Story:
    """Each copy's edits, how many pages carry each edit, and each page's paragraphs, for one story."""

    origin: Member
    edits: dict[str, set[Feature]]
    holders: Counter
    keysets: dict[str, set[str]]


def _written_by(site: str, shared: set[Feature], wrote: Callable[[str, str], bool], cand: Member,
                origin: Member) -> set[Feature]:
    """Shared additions ``site`` wrote (its notes, disclaimers): a page of another site holding them took them
    from ``site``, whatever the dates say. Not a credit line to the origin: any site crediting it may write
    that one in the same words."""
    return {f for f in shared if f[0] == "added" and wrote(f[1], site) and not _is_origin_credit(cand, f[1], origin)}


def _carrier(copy: Member, candidates: list[Member], story: _Story, generic: Callable[[str, str], bool],
             options: LineageOptions, wrote: Callable[[str, str], bool] = _not_generic,
             habits: _SiteHabits = _SiteHabits()) -> _Carrier:
    """Each edit a candidate made and the copy carries counts its weight over the pages holding it. Against
    the candidate count its edits the copy lacks (half their weight: a copy may drop a paragraph or a
    credit) and each paragraph of the original the copy has and the candidate lacks (it could not have
    come from the candidate). A candidate on the copy's own site counts less. A candidate that comes after
    the copy in publication order (undated pages last) must have fewer edits of its own than the copy: of
    two pages with the same edits, the earlier is the parent; but an undated page with the copy's edits may
    be the one a site that republishes copies took them from (the dates cannot order the two). Of candidates
    with the same score, the one published closest before the copy wins. Weights over a set of edits are added with
    ``math.fsum`` (correctly rounded): a plain sum follows the set's order, which changes with every process's
    string hashing, and its last bit decided ties and the ``min_parent_score`` threshold differently from one
    run (or a Spark driver) to the next."""
    best = _Carrier()
    origin = story.origin
    origin_keys = set(origin.paragraph_keys)
    mine = story.edits[copy.url]

    def weight(features: set[Feature], cand: Member) -> float:
        return math.fsum(_weight(f, cand, origin, copy.site, generic, options, habits)
                         for f in features if f[0] in ("added", "dropped"))

    for cand in candidates:
        theirs = story.edits[cand.url]
        shared = theirs & mine
        authored = _written_by(cand.site, shared, wrote, cand, origin) if cand.site != copy.site else set()
        if not authored and cand.site != copy.site and _written_by(copy.site, shared, wrote, copy, origin):
            continue   # the candidate holds what the copy's site wrote: it was taken from the copy's site
        if not shared:
            continue
        missing, passed = _lacked_weight(copy, cand, theirs - mine, shared, weight, options)
        if cand.when > copy.when and not authored and _taken_later(copy, cand, missing, weight(mine - theirs, copy), habits):
            continue
        score = math.fsum((1.0 if f in authored else _weight(f, cand, origin, copy.site, generic, options, habits))
                          / max(story.holders[f] - 1, 1) for f in shared)
        score -= options.missing_edit_factor * missing
        score -= len((story.keysets[copy.url] - story.keysets[cand.url]) & origin_keys)
        if cand.site == copy.site:
            score *= options.same_site_factor
        if authored:   # what the candidate's site wrote came through a page of that site: this one
            score = max(score, options.min_parent_score)
        if score > best.score or (score == best.score and best.member is not None
                                  and (passed, cand.when > copy.when) <= (best.passed, False)):
            best = _Carrier(cand, score, sorted(" ".join(f) for f in shared), passed)
    return best


def _lacked_weight(copy: Member, cand: Member, lacked: set[Feature], shared: set[Feature],
                  weight: Callable[[set[Feature], Member], float], options: LineageOptions) -> tuple[float, int]:
    """What the candidate's edits the copy lacks say against it: their ``weight`` (additions and drops), and its
    headline of its own unless the copy shows it, whole or cut short (a copy of the candidate mostly keeps it).
    Not its credit lines when the copy credits nobody and carries the candidate's headline: it dropped every
    credit line, so their absence says nothing of whose page it took. (Without a shared headline those lines keep
    in check the weak coincidences two unrelated copies share, a dropped passage or a new order: not counting
    them there cost parents on syndweb.) Also returns how many credit lines were let pass: of two candidates
    with the same evidence, the one with fewer is closer to the copy (the other added lines since)."""
    passed = 0
    if not (copy.credit_keys or copy.notice_keys) and any(f[0] == "title" for f in shared):
        credits = {f for f in lacked if f[0] == "added" and (f[1] in cand.credit_keys or f[1] in cand.notice_keys)}
        lacked, passed = lacked - credits, len(credits)
    headlines = sum(1 for f in lacked if f[0] == "title" and not _shows_headline(copy.title, f[1]))
    return weight(lacked, cand) + options.headline_weight * headlines, passed


_ELLIPSES = ("...", "\u2026")


def _shows_headline(title: str | None, headline: str) -> bool:
    """Does a page's ``title`` show ``headline`` (a key): whole, with words of its own around it ("Must read:
    ..."), or cut short with an ellipsis (a layout or a copy trims long headlines)?"""
    key = paragraph_key(title or "")
    if not key:
        return False
    return f" {headline} " in f" {key} " or ((title or "").rstrip().endswith(_ELLIPSES) and f"{headline} ".startswith(f"{key} "))


def _taken_later(copy: Member, cand: Member, missing: float, added: float, habits: _SiteHabits) -> bool:
    """Was ``cand``, later than ``copy`` in publication order, taken from the copy rather than the other way?
    Yes if it has at least the copy's edits, unless it is undated, the copy is dated and its site republishes
    copies, and the two have the same edits: then either may be the other's source."""
    if cand.published is None and copy.published is not None and habits.relays(copy.site):
        return missing > added
    return missing >= added


def _descends(url: str, ancestor: str, decisions: dict[str, Decision]) -> bool:
    """Is ``url`` ``ancestor`` or taken from it, through the parents decided so far?"""
    seen = set()
    while url and url not in seen:
        if url == ancestor:
            return True
        seen.add(url)
        url = decisions[url].parent or "" if url in decisions else ""
    return False


def choose_parents(members: list[Member], origin: Member, generic: Callable[[str, str], bool] = _not_generic,
                   options: LineageOptions = DEFAULTS, wrote: Callable[[str, str], bool] = _not_generic,
                   carries_credits: Callable[[str], bool] = _never,
                   relays: Callable[[str], bool] = _never) -> dict[str, Decision]:
    """Parent of every copy, with the evidence for it.

    A copy's candidates are the other copies not surely published after it (pages without a date are
    candidates of dated ones: scrapers often show none) and not already taken from it; the direction of
    copying then comes from which of two pages carries the other's edits.

    Args:
        generic: tells whether a paragraph is boilerplate used across sites (spam, ads), seen from a site.
        wrote: tells whether a site wrote a paragraph (a note or disclaimer it repeats on its own pages),
            which says where a copy took an addition it shares with another copy.
        carries_credits: tells whether a site writes no credit line of its own (a scraper): a credit line on
            its page came with the text, from a page holding the same line.
        relays: tells whether a site republishes other republishers' copies (it credits both the outlet it
            took a text from and that text's source on several pages).
    """
    decisions = {origin.url: Decision(origin.url, None, origin.url, "origin", {})}
    origin_order = {k: i for i, k in reversed(list(enumerate(origin.paragraph_keys)))}
    origin_pairs = set(pairwise(origin.paragraph_keys))
    vocabulary = functools.cache(lambda: set(" ".join(origin_order).split()))   # built once, if a copy needs it
    versions = {paragraph_key(m.title or "") for m in members if m.site == origin.site}
    edits = {m.url: _not_versions(edits_of(m, origin, origin_order, origin_pairs, options.min_addition_words, generic),
                                  versions)
             | changed_words(m, origin_order, vocabulary, options.min_addition_words) for m in members}
    story = _Story(origin, edits, Counter(f for m in members if m is not origin for f in edits[m.url]),
                   {m.url: set(m.paragraph_keys) for m in members})
    slack = timedelta(hours=options.date_only_slack_hours)
    habits = _SiteHabits(carries_credits, relays)
    ordered = sorted((m for m in members if m is not origin), key=lambda m: m.when)
    for copy in ordered:
        candidates = [m for m in ordered if m is not copy and not copy.surely_before(m, slack)
                      and not _descends(m.url, copy.url, decisions)]
        carrier = _carrier(copy, candidates, story, generic, options, wrote, habits)
        carries = carrier.member is not None and carrier.score >= options.min_parent_score
        linked = [m for m in candidates if copy.references(m) in ("link", "canonical") and _could_hold(copy, m, story)]
        if linked and not (carries and carrier.member.references(linked[0]) in ("link", "canonical")):
            # the copy links the very page it came through (unless the page whose edits it carries links that
            # page too: then the link came with the text, from further up the chain)
            decisions[copy.url] = Decision(copy.url, linked[0].url, origin.url, "credits-copy",
                                           {"how": copy.references(linked[0])})
            continue
        if carries:
            decisions[copy.url] = Decision(copy.url, carrier.member.url, origin.url, "carries-edits",
                                           {"shared_edits": carrier.shared[:5], "score": round(carrier.score, 3)})
            continue
        named = [m for m in candidates if _passed_through(copy, m, story)]
        decisions[copy.url] = _by_credit(copy, named, origin)
    return decisions


def _not_versions(edits: set[Feature], versions: set[str]) -> set[Feature]:
    """Edits without the headlines the origin's site shows on any of its pages of the story: a running story's
    origin may change its headline, and copies taken from one version share that version's headline."""
    return {f for f in edits if f[0] != "title" or f[1] not in versions}


def _could_hold(copy: Member, source: Member, story: _Story) -> bool:
    """Has ``source`` every paragraph of the original that ``copy`` has (else ``copy`` did not come from it)?"""
    return not (story.keysets[copy.url] - story.keysets[source.url]) & story.keysets[story.origin.url]


def _passed_through(copy: Member, named: Member, story: _Story) -> bool:
    """Could ``copy`` have come through ``named``, an outlet it credits by name? Only if it has none of the
    original's paragraphs ``named`` lacks, and it either carries an edit of ``named`` or credits the origin as
    well (the usual form of a credit down a chain). A page naming an outlet whose copy it carries nothing of,
    and not the origin, names the wrong outlet: a misattribution, not a parent."""
    if not _could_hold(copy, named, story):
        return False
    shared = {f for f in story.edits[copy.url] & story.edits[named.url] if f[0] != "joined"}
    return bool(shared) or copy.references(story.origin) is not None


def _by_credit(copy: Member, named: list[Member], origin: Member) -> Decision:
    """The parent a copy names: a copy not surely published after it that it credits by name and may have come
    through (it got the origin's credit line through it), else the origin."""
    credited = [c for c in named if copy.references(c) == "credit"]
    if credited:
        return Decision(copy.url, credited[0].url, origin.url, "credits-copy", {"how": "credit"})
    if copy.references(origin):
        return Decision(copy.url, origin.url, origin.url, "credits-origin", {"how": copy.references(origin)})
    return Decision(copy.url, origin.url, origin.url, "default-origin", {})


def decide(members: list[Member], generic: Callable[[str, str], bool] = _not_generic,
           options: LineageOptions = DEFAULTS, wrote: Callable[[str, str], bool] = _not_generic,
           carries_credits: Callable[[str], bool] = _never,
           relays: Callable[[str], bool] = _never) -> dict[str, Decision]:
    """Origin and parents of one story (``wrote``, ``carries_credits``, ``relays``: see ``choose_parents``)."""
    origin, signal, evidence = choose_origin(members, options, generic)
    decisions = choose_parents(members, origin, generic, options, wrote, carries_credits, relays)
    decisions[origin.url] = Decision(origin.url, None, origin.url, signal, evidence)
    return decisions


def ancestors(url: str, decisions: dict[str, Decision]) -> list[str]:
    """Parent, grandparent, … up to the origin."""
    out: list[str] = []
    seen = {url}
    while decisions[url].parent and decisions[url].parent not in seen:
        url = decisions[url].parent
        out.append(url)
        seen.add(url)
    return out
