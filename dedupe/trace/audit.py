"""Stage 8, audit: does each copy credit its source, and does it respect the original's licence?

Verdicts are tried in ``Verdict.in_decision_order()`` (origin, misattributed, credited, partial, uncredited);
what each means is written on the ``Verdict`` enum (``dedupe.trace.verdicts``), which ``syndtrace verdicts``
prints. ``verdict_of`` is the rule."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from dedupe.trace.lineage import Decision, ancestors
from dedupe.trace.members import Member
from dedupe.trace.verdicts import Verdict


@dataclass
class AuditResult:
    url: str
    verdict: Verdict
    credits_origin: bool = False
    credits_parent: bool = False
    links_to_origin: bool = False
    author_kept: bool = False
    license: str | None = None
    copyright: str | None = None
    reasons: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def to_row(self) -> dict:
        """Its fields as a row (``dataclasses.asdict`` without its deep copy: the lists hold strings)."""
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in ("reasons", "conflicts", "added", "removed"):
            row[key] = list(row[key])
        return {**row, "verdict": self.verdict.value}


def _names(author: str) -> set[str]:
    return {" ".join(n.split()).casefold() for n in author.split(", ") if n.strip()}


def _same_author(a: str | None, b: str | None) -> bool:
    """The same byline, or one that names one of the other's authors (``author`` joins several with ", ")."""
    return bool(a and b) and bool(_names(a) & _names(b))


def home_page(site: str) -> str:
    return f"http://{site}/"


def paragraph_changes(copy: Member, parent: Member) -> tuple[list[str], list[str]]:
    """Paragraph keys the copy added and removed relative to its parent."""
    parent_keys, copy_keys = set(parent.paragraph_keys), set(copy.paragraph_keys)
    added = [k for k in copy.paragraph_keys if k not in parent_keys]
    removed = [k for k in parent.paragraph_keys if k not in copy_keys]
    return added, removed


def verdict_of(credits_origin: bool, credits_parent: bool, links_to_origin: bool, author_kept: bool,
               credits_other: bool) -> Verdict:
    if credits_other and not (credits_origin or credits_parent):
        return Verdict.MISATTRIBUTED
    if credits_origin and links_to_origin and author_kept:
        return Verdict.CREDITED
    if credits_origin or credits_parent or links_to_origin:
        return Verdict.PARTIAL
    return Verdict.UNCREDITED


def audit_copy(copy: Member, members: dict[str, Member], decisions: dict[str, Decision]) -> AuditResult:
    decision = decisions[copy.url]
    origin = members[decision.origin]
    if copy.url == origin.url:
        return AuditResult(copy.url, Verdict.ORIGIN, license=copy.license, copyright=copy.copyright,
                           reasons=["the original"])
    parent = members[decision.parent] if decision.parent else origin
    chain_sites = {members[u].site for u in ancestors(copy.url, decisions)} | {origin.site}
    links_to_origin = origin.url in copy.linked_urls or home_page(origin.site) in copy.linked_urls
    credits_origin = origin.site in copy.credited_hosts or links_to_origin
    author_kept = _same_author(copy.author, origin.author) or _same_author(copy.credited_author, origin.author)
    credits_parent = parent.site in copy.credited_hosts or parent.url in copy.linked_urls
    outside = sorted(h for h in copy.credited_hosts if h not in chain_sites and h != copy.site)
    outside += sorted(copy.credited_names)
    verdict = verdict_of(credits_origin, credits_parent, links_to_origin, author_kept, bool(outside))

    reasons = []
    if credits_origin:
        reasons.append(f"names or links {origin.site}")
    if links_to_origin:
        reasons.append("links the original" if origin.url in copy.linked_urls else f"links {origin.site}'s home page")
    if credits_parent and parent is not origin:
        reasons.append(f"credits its source {parent.site}")
    reasons.append(("keeps the byline" if _same_author(copy.author, origin.author) else "credits the author")
                   if author_kept else (f"byline changed to {copy.author!r}" if copy.author else "drops the byline"))
    if outside:
        reasons.append("names " + ", ".join(outside) + " as the source")
    if not (credits_origin or credits_parent or links_to_origin or outside):
        reasons.append("no credit to any source")

    added, removed = paragraph_changes(copy, parent)
    conflicts = licence_conflicts(copy, origin, added, removed)
    return AuditResult(copy.url, verdict, credits_origin, credits_parent, links_to_origin, author_kept,
                       copy.license, copy.copyright, reasons, conflicts, added, removed)


def licence_conflicts(copy: Member, origin: Member, added: list[str], removed: list[str]) -> list[str]:
    """Ways a copy breaks the original's licence, in words."""
    out = []
    lic = (origin.license or "").upper()
    edited = any(k not in origin.notice_keys for k in removed) and not copy.excerpt
    if ("ND" in lic.split("-") or "-ND" in lic) and edited:
        out.append(f"edited copy of a {origin.license} (no derivatives) original")
    if lic.startswith("CC"):
        if not (origin.site in copy.credited_hosts or origin.url in copy.linked_urls
                or home_page(origin.site) in copy.linked_urls):
            out.append(f"{origin.license} requires attribution, none given")
    elif not copy.permission and not copy.excerpt:
        out.append("copy of an all-rights-reserved original without 'reprinted with permission'")
    return out


def audit_story(members: list[Member], decisions: dict[str, Decision]) -> list[AuditResult]:
    by_url = {m.url: m for m in members}
    return [audit_copy(m, by_url, decisions) for m in members]
