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

Parent of each copy: a copy that carries another copy's additions (its note to readers, disclaimer or
edits, absent from the origin) was taken from that copy, which gives chains A→B→C; otherwise the
earlier copy it credits by link or name; otherwise the origin. Every decision keeps its evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from dedupe.options import LineageOptions
from dedupe.trace.members import Member

DEFAULTS = LineageOptions()


def _not_generic(key: str, site: str) -> bool:
    return False


@dataclass
class Decision:
    url: str
    parent: str | None
    origin: str
    signal: str
    evidence: dict


def choose_origin(members: list[Member], options: LineageOptions = DEFAULTS) -> tuple[Member, str, dict]:
    """The story's original and why."""
    if len(members) == 1:
        return members[0], "only-copy", {}
    slack = timedelta(hours=options.date_only_slack_hours)
    votes = {m.url: [o.url for o in members if o is not m and o.references(m)] for m in members}
    candidates = [m for m in members if not m.claims_copy() and not any(m.references(o) for o in members if o is not m)]
    pool = candidates or members
    independent = {m.url: len({by.site for by in members if by.url in votes[m.url]}) >= 2 for m in members}
    pool = [m for m in pool if independent[m.url] or not any(o.surely_before(m, slack) for o in pool)]
    best = min(pool, key=lambda m: (-len(votes[m.url]), m.when))
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


def _own_additions(m: Member, origin_keys: set[str], generic: Callable[[str, str], bool], min_words: int) -> set[str]:
    """Paragraphs a copy added to the original that could only have come from it: long enough, and not
    boilerplate many sites use."""
    out = set()
    for k in m.paragraph_keys:
        if k in origin_keys or k.count(" ") + 1 < min_words:
            continue
        if generic(k, m.site):
            continue
        out.add(k)
    return out


def _is_origin_credit(m: Member, key: str, origin: Member) -> bool:
    return any(host == origin.site and (key == k or k in key) for k, host in m.credit_keys.items() if k)


@dataclass
class _Carrier:
    """The earlier copy whose own additions a copy carries most, and how strongly."""

    member: Member | None = None
    score: float = 0.0
    shared: list[str] = field(default_factory=list)


def _carrier(copy: Member, earlier: list[Member], members: list[Member], origin: Member,
             additions: dict[str, set[str]], keysets: dict[str, set[str]], options: LineageOptions) -> _Carrier:
    """Each shared addition counts 1 / (pages holding it), a shared credit line to the origin less (two copies
    may credit the origin in the same words), a candidate on the copy's own site less again."""
    best = _Carrier()
    for cand in earlier:
        shared = additions[cand.url] & keysets[copy.url]
        if not shared:
            continue
        score = 0.0
        for key in shared:
            holders = sum(1 for m in members if m is not copy and key in keysets[m.url])
            weight = options.credit_line_weight if _is_origin_credit(cand, key, origin) else 1.0
            score += weight / max(holders, 1)
        if cand.site == copy.site:
            score *= options.same_site_factor
        if score > best.score:
            best = _Carrier(cand, score, sorted(shared))
    return best


def choose_parents(members: list[Member], origin: Member, generic: Callable[[str, str], bool] = _not_generic,
                   options: LineageOptions = DEFAULTS) -> dict[str, Decision]:
    """Parent of every copy, with the evidence for it.

    Args:
        generic: tells whether a paragraph is boilerplate used across sites (spam, ads), seen from a site.
    """
    decisions = {origin.url: Decision(origin.url, None, origin.url, "origin", {})}
    origin_keys = set(origin.paragraph_keys)
    additions = {m.url: _own_additions(m, origin_keys, generic, options.min_addition_words) for m in members}
    keysets = {m.url: set(m.paragraph_keys) for m in members}
    ordered = [origin] + sorted((m for m in members if m is not origin), key=lambda m: m.when)
    for i, copy in enumerate(ordered[1:], start=1):
        earlier = ordered[1:i]
        carrier = _carrier(copy, earlier, members, origin, additions, keysets, options)
        if carrier.member is not None and carrier.score >= options.min_parent_score:
            decisions[copy.url] = Decision(copy.url, carrier.member.url, origin.url, "carries-additions",
                                           {"shared_additions": carrier.shared[:5], "score": round(carrier.score, 3)})
            continue
        # a copy that credits an intermediate copy got the origin's credit line through it
        referenced = [(cand, copy.references(cand)) for cand in earlier]
        linked = [c for c, how in referenced if how in ("link", "canonical")]
        credited = [c for c, how in referenced if how == "credit"]
        if linked or credited:
            chosen = (linked or credited)[0]
            decisions[copy.url] = Decision(copy.url, chosen.url, origin.url, "credits-copy",
                                           {"how": copy.references(chosen)})
        elif copy.references(origin):
            decisions[copy.url] = Decision(copy.url, origin.url, origin.url, "credits-origin",
                                           {"how": copy.references(origin)})
        else:
            decisions[copy.url] = Decision(copy.url, origin.url, origin.url, "default-origin", {})
    return decisions


def decide(members: list[Member], generic: Callable[[str, str], bool] = _not_generic,
           options: LineageOptions = DEFAULTS) -> dict[str, Decision]:
    """Origin and parents of one story."""
    origin, signal, evidence = choose_origin(members, options)
    decisions = choose_parents(members, origin, generic, options)
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
