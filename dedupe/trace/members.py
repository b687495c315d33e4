"""What lineage and audit know about one article of a story: a :class:`Member`, built from a stored
article row with the credits, links and dates its page showed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dedupe.normalise import paragraph_key

SOURCE_ROLES = {"source", "excerpt", "permission", "license", "via", "agency", "author"}


def parse_when(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as an aware datetime (naive values are taken as UTC)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))  # noqa: FURB162 (as stored values were read)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


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
    title: str | None = None
    headings: set[str] = field(default_factory=set)   # keys of short unpunctuated lines (subheadings, labels)

    def published_span(self, slack: timedelta) -> tuple[datetime, datetime] | None:
        """Earliest and latest instant the shown publication date can mean (a bare date: that day, give or
        take ``slack`` for time zones)."""
        if self.published is None:
            return None
        if self.date_only:
            return self.published - slack, self.published + timedelta(days=1) + slack
        return self.published, self.published

    def surely_before(self, other: Member, slack: timedelta) -> bool:
        mine, theirs = self.published_span(slack), other.published_span(slack)
        return bool(mine and theirs and mine[1] < theirs[0])

    @property
    def when(self) -> tuple:
        """Sort key: publication date first, then capture, then URL (undated pages last).

        A bare calendar date counts as its midday, the best guess of an hour it does not give.
        """
        far = datetime.max.replace(tzinfo=UTC)
        published = self.published + timedelta(hours=12) if self.published and self.date_only else self.published
        return (published or far, self.captured or far, self.url)

    def references(self, other: Member) -> str | None:
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


def read_paragraph(paragraph: str) -> tuple[str, bool]:
    """What a member keeps of one paragraph: its key, and whether it is a heading (:func:`is_heading`)."""
    return paragraph_key(paragraph), is_heading(paragraph)


def is_heading(paragraph: str) -> bool:
    """A short line that ends without a full stop: a subheading or a label, which one site's page layout
    keeps in the text and another's drops."""
    text = paragraph.strip()   # the ending first: most paragraphs end a sentence, and then no word is counted
    return not text.endswith((".", "!", "?", '"', "\u201d", "'", "\u2019", ":")) and 0 < len(text.split(None, 12)) <= 12


def member_from_article(article: dict, site_of: Callable[[str], str], resolve_url: Callable[[str], str],
                        resolve_name: Callable[[str], str | None], captured: str | None = None,
                        read_cue_line: Callable[[str, str], tuple[str, str] | None] = lambda line, site: None,
                        read_edge_line: Callable[[str, str], tuple[str, str] | None] = lambda line, site: None,
                        read_paragraph: Callable[[str], tuple[str, bool]] = read_paragraph) -> Member:
    """Build a Member from a stored article row (attribution already parsed).

    Args:
        read_cue_line: (line, own site) → (credited host, role) or None, for the short credit-cue lines the
            page named no known outlet in when it was read (outlets are learnt as the crawl goes on).
        read_edge_line: the same for the short lines at the head or foot of the body, whatever their words.
        read_paragraph: a paragraph's key and whether it is a heading (:func:`read_paragraph`, or a memory of it).
    """
    attr = article.get("attribution") or {}
    hosts: set[str] = set()
    names: set[str] = set()
    excerpt = False
    credit_keys = {paragraph_key(c.get("text") or ""): c.get("host") for c in attr.get("credits", [])}
    notice_keys = {paragraph_key(s) for s in attr.get("statements", [])}
    permission = bool(attr.get("permission"))
    for line, found in _later_lines(attr, article["site"], read_cue_line, read_edge_line):
        hosts.add(found[0])
        credit_keys[paragraph_key(line)] = found[0]
        notice_keys.add(paragraph_key(line))
        permission |= found[1] == "permission"
    for credit in attr.get("credits", []):
        if credit.get("role") not in SOURCE_ROLES:
            continue
        excerpt |= credit.get("role") == "excerpt"
        host = _source_host(credit, site_of, resolve_name)
        if host:
            hosts.add(host)
            credit_keys[paragraph_key(credit.get("text") or "")] = host   # a name read as an outlet once all are known
        elif credit.get("outlet"):
            names.add(credit["outlet"])
    links = {resolve_url(u) for u in attr.get("content_links", [])}
    canonical = resolve_url(article["canonical"]) if article.get("canonical") else None
    read = [read_paragraph(p) for p in article.get("paragraphs", [])]
    return Member(
        url=article["url"], site=article["site"], published=parse_when(article.get("published")),
        captured=parse_when(captured), author=article.get("author"),
        paragraph_keys=[k for k, _ in read if k],
        credited_hosts=hosts, credited_names=names, linked_urls=links, linked_hosts={site_of(u) for u in links},
        canonical=canonical, license=attr.get("license"), copyright=attr.get("copyright"),
        permission=permission, excerpt=excerpt, credited_author=attr.get("credited_author"),
        credit_keys=credit_keys,
        notice_keys=notice_keys,
        date_only=len((article.get("published") or "").strip()) == 10,
        title=article.get("title"),
        headings={k for k, heading in read if heading},
    )


def credited_hosts_of(article: dict, site_of: Callable[[str], str], resolve_name: Callable[[str], str | None],
                      read_cue_line: Callable[[str, str], tuple[str, str] | None],
                      read_edge_line: Callable[[str, str], tuple[str, str] | None]) -> set[str]:
    """``member_from_article(...).credited_hosts`` alone: what every pass reads of every crediting page (which
    sites relay copies), without the rest of a member (its paragraphs' keys, dates, links)."""
    attr = article.get("attribution") or {}
    hosts = {found[0] for _, found in _later_lines(attr, article["site"], read_cue_line, read_edge_line)}
    for credit in attr.get("credits", []):
        if credit.get("role") in SOURCE_ROLES and (host := _source_host(credit, site_of, resolve_name)):
            hosts.add(host)
    return hosts


def _later_lines(attr: dict, site: str, read_cue_line: Callable[[str, str], tuple[str, str] | None],
                 read_edge_line: Callable[[str, str], tuple[str, str] | None]) -> list[tuple[str, tuple[str, str]]]:
    """(line, (credited host, role)) of the page's credit-cue and edge lines that name an outlet now known."""
    later = [(line, read_cue_line) for line in attr.get("cue_lines", [])]
    later += [(line, read_edge_line) for line in attr.get("edge_lines", [])]
    return [(line, found) for line, read_line in later if (found := read_line(line, site))]


def _source_host(credit: dict, site_of: Callable[[str], str], resolve_name: Callable[[str], str | None]) -> str | None:
    """The host a source credit names: given, of its link, or of the outlet its name is known as."""
    host = credit.get("host") or (site_of(credit["url"]) if credit.get("url") else None)
    return host or resolve_name(credit.get("outlet") or "")

