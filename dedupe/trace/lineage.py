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

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from dedupe.normalise import paragraph_key

SOURCE_ROLES = {"source", "excerpt", "permission", "license", "via", "agency", "author"}
CREDIT_LINE_WEIGHT = 0.5   # two copies may credit the origin in the same words by chance
MIN_ADDITION_WORDS = 2
DATE_ONLY_SLACK = timedelta(hours=14)   # a bare calendar date may be that day in any time zone


def parse_when(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as an aware datetime (naive values are taken as UTC)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@dataclass
class Member:
    """What lineage and audit need to know about one article of a story."""

    url: str
    site: str
    published: datetime | None
    captured: datetime | None
    author: str | None
    paragraph_keys: list[str]
    credited_hosts: set[str] = field(default_factory=set)   # outlets named or linked as the source
    credited_names: set[str] = field(default_factory=set)   # source names that resolve to no known host
    linked_urls: set[str] = field(default_factory=set)      # URL keys linked from the article content
    linked_hosts: set[str] = field(default_factory=set)
    canonical: str | None = None
    license: str | None = None
    copyright: str | None = None
    permission: bool = False
    excerpt: bool = False
    credited_author: str | None = None     # named in a credit or copyright line, not in the byline
    credit_keys: dict[str, str | None] = field(default_factory=dict)  # credit statement key -> host it credits
    notice_keys: set[str] = field(default_factory=set)  # credit, copyright and licence statements
    date_only: bool = False                 # the page gave a calendar date without a time

    def published_span(self) -> tuple[datetime, datetime] | None:
        """Earliest and latest instant the shown publication date can mean."""
        if self.published is None:
            return None
        if self.date_only:
            return self.published - DATE_ONLY_SLACK, self.published + timedelta(days=1) + DATE_ONLY_SLACK
        return self.published, self.published

    def surely_before(self, other: "Member") -> bool:
        mine, theirs = self.published_span(), other.published_span()
        return bool(mine and theirs and mine[1] < theirs[0])

    @property
    def when(self) -> tuple:
        """Sort key: publication date first, then capture, then URL (undated pages last).

        A bare calendar date counts as its midday, the best guess of an hour it does not give.
        """
        far = datetime.max.replace(tzinfo=timezone.utc)
        published = self.published + timedelta(hours=12) if self.published and self.date_only else self.published
        return (published or far, self.captured or far, self.url)

    def references(self, other: "Member") -> str | None:
        """How this page points at ``other`` as its source, if it does: 'link', 'canonical' or 'credit'."""
        if other.url in self.linked_urls:
            return "link"
        if self.canonical and self.canonical == other.url and self.url != other.url:
            return "canonical"
        if other.site != self.site and other.site in self.credited_hosts:
            return "credit"
        return None

    def claims_copy(self) -> bool:
        """Does the page say it comes from elsewhere (a source credit or a foreign canonical)?"""
        foreign = {h for h in self.credited_hosts if h != self.site}
        return bool(foreign or self.credited_names or (self.canonical and self.canonical != self.url))


def member_from_article(article: dict, site_of: Callable[[str], str], resolve_url: Callable[[str], str],
                        resolve_name: Callable[[str], str | None], captured: str | None = None,
                        read_cue_line: Callable[[str, str], tuple[str, str] | None] = lambda line, site: None
                        ) -> Member:
    """Build a Member from a stored article row (attribution already parsed).

    Args:
        read_cue_line: (line, own site) → (credited host, role) or None, for the short credit-cue lines the
            page named no known outlet in when it was read (outlets are learnt as the crawl goes on).
    """
    attr = article.get("attribution") or {}
    hosts: set[str] = set()
    names: set[str] = set()
    excerpt = False
    credit_keys = {paragraph_key(c.get("text") or ""): c.get("host") for c in attr.get("credits", [])}
    notice_keys = {paragraph_key(s) for s in attr.get("statements", [])}
    permission = bool(attr.get("permission"))
    for line in attr.get("cue_lines", []):
        found = read_cue_line(line, article["site"])
        if found:
            hosts.add(found[0])
            credit_keys[paragraph_key(line)] = found[0]
            notice_keys.add(paragraph_key(line))
            permission |= found[1] == "permission"
    for credit in attr.get("credits", []):
        if credit.get("role") not in SOURCE_ROLES:
            continue
        excerpt |= credit.get("role") == "excerpt"
        host = credit.get("host") or (site_of(credit["url"]) if credit.get("url") else None)
        host = host or resolve_name(credit.get("outlet") or "")
        if host:
            hosts.add(host)
        elif credit.get("outlet"):
            names.add(credit["outlet"])
    links = {resolve_url(u) for u in attr.get("content_links", [])}
    canonical = resolve_url(article["canonical"]) if article.get("canonical") else None
    return Member(
        url=article["url"], site=article["site"], published=parse_when(article.get("published")),
        captured=parse_when(captured), author=article.get("author"),
        paragraph_keys=[k for k in (paragraph_key(p) for p in article.get("paragraphs", [])) if k],
        credited_hosts=hosts, credited_names=names, linked_urls=links, linked_hosts={site_of(u) for u in links},
        canonical=canonical, license=attr.get("license"), copyright=attr.get("copyright"),
        permission=permission, excerpt=excerpt, credited_author=attr.get("credited_author"),
        credit_keys=credit_keys,
        notice_keys=notice_keys,
        date_only=len((article.get("published") or "").strip()) == 10,
    )


@dataclass
class Decision:
    url: str
    parent: str | None
    origin: str
    signal: str
    evidence: dict


def choose_origin(members: list[Member]) -> tuple[Member, str, dict]:
    """The story's original and why."""
    if len(members) == 1:
        return members[0], "only-copy", {}
    votes = {m.url: [o.url for o in members if o is not m and o.references(m)] for m in members}
    candidates = [m for m in members if not m.claims_copy() and not any(m.references(o) for o in members if o is not m)]
    pool = candidates or members
    independent = {m.url: len({by.site for by in members if by.url in votes[m.url]}) >= 2 for m in members}
    pool = [m for m in pool if independent[m.url] or not any(o.surely_before(m) for o in pool)]
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


def _own_additions(m: Member, origin: Member, origin_keys: set[str], generic: Callable[[str, str], bool]) -> set[str]:
    """Paragraphs a copy added to the original that could only have come from it: not a credit line to the
    origin (two copies may credit the origin in the same words), not boilerplate many sites use."""
    out = set()
    for k in m.paragraph_keys:
        if k in origin_keys or k.count(" ") + 1 < MIN_ADDITION_WORDS:
            continue
        if generic(k, m.site):
            continue
        out.add(k)
    return out


def _is_origin_credit(m: Member, key: str, origin: Member) -> bool:
    return any(host == origin.site and (key == k or k in key) for k, host in m.credit_keys.items() if k)


def choose_parents(members: list[Member], origin: Member,
                   generic: Callable[[str, str], bool] = lambda key, site: False) -> dict[str, Decision]:
    """Parent of every copy, with the evidence for it.

    Args:
        generic: tells whether a paragraph is boilerplate used across sites (spam, ads), seen from a site.
    """
    decisions = {origin.url: Decision(origin.url, None, origin.url, "origin", {})}
    origin_keys = set(origin.paragraph_keys)
    additions = {m.url: _own_additions(m, origin, origin_keys, generic) for m in members}
    keysets = {m.url: set(m.paragraph_keys) for m in members}
    ordered = [origin] + sorted((m for m in members if m is not origin), key=lambda m: m.when)
    for i, copy in enumerate(ordered[1:], start=1):
        earlier = ordered[:i]
        best, best_score, best_shared = None, 0.0, []
        for cand in earlier[1:]:
            shared = additions[cand.url] & keysets[copy.url]
            if not shared:
                continue
            score = 0.0
            for key in shared:
                holders = sum(1 for m in members if m is not copy and key in keysets[m.url])
                weight = CREDIT_LINE_WEIGHT if _is_origin_credit(cand, key, origin) else 1.0
                score += weight / max(holders, 1)
            if cand.site == copy.site:
                score *= 0.5
            if score > best_score:
                best, best_score, best_shared = cand, score, sorted(shared)
        if best is not None and best_score >= 0.5:
            decisions[copy.url] = Decision(copy.url, best.url, origin.url, "carries-additions",
                                           {"shared_additions": best_shared[:5], "score": round(best_score, 3)})
            continue
        # a copy that credits an intermediate copy got the origin's credit line through it
        referenced = [(cand, copy.references(cand)) for cand in earlier[1:]]
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


def decide(members: list[Member], generic: Callable[[str, str], bool] = lambda key, site: False) -> dict[str, Decision]:
    """Origin and parents of one story."""
    origin, signal, evidence = choose_origin(members)
    decisions = choose_parents(members, origin, generic)
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
