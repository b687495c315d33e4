"""Publication and update dates: the page's own statements (JSON-LD, meta, <time>) first, then the date
line of the article header, read as written ("February 10, 2020", "10 Feb 2020 14.03 GMT", "10/02/2020")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from crawler.page.metadata import meta_content

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_MONTH_RE = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_TIME_RE = r"(?:,?\s*(?:at\s+)?(\d{1,2})[:.](\d{2})\s*(a\.?m\.?|p\.?m\.?|AM|PM)?(?:\s*(GMT|UTC|[A-Z]{2,4}))?)?"
_DATE_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{2}):(\d{2})(?::\d{2})?(Z|[+-]\d{2}:?\d{2})?)?\b")),
    ("mdy", re.compile(r"\b" + _MONTH_RE + r"\s+(\d{1,2}),?\s+(\d{4})" + _TIME_RE, re.I)),
    ("dmy", re.compile(r"\b(\d{1,2})\s+" + _MONTH_RE + r",?\s+(\d{4})" + _TIME_RE, re.I)),
    ("num", re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")),
]


def parse_visible_date(text: str, day_first: bool | None = None) -> datetime | None:
    """The first date written in ``text`` ("February 10, 2020", "10 Feb 2020 14.03 GMT", "10/02/2020"…).

    ``day_first`` settles ambiguous numeric dates (None: month first unless impossible). Never raises.
    """
    if not text:
        return None
    best = None
    for kind, pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m or (best and m.start() >= best[0]):
            continue
        try:
            when = _build_date(kind, m, day_first)
        except (ValueError, OverflowError, KeyError, TypeError):
            continue
        if when:
            best = (m.start(), when)
    return best[1] if best else None


def _build_date(kind, m, day_first):
    if kind == "iso":
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        hh, mm = int(m.group(4) or 0), int(m.group(5) or 0)
        tz = m.group(6)
        tzinfo = None
        if tz:
            if tz == "Z":
                tzinfo = UTC
            else:
                sign = 1 if tz[0] == "+" else -1
                tz = tz[1:].replace(":", "")
                tzinfo = timezone(sign * timedelta(hours=int(tz[:2]), minutes=int(tz[2:4] or 0)))
        return datetime(y, mo, d, hh, mm, tzinfo=tzinfo)
    if kind in ("mdy", "dmy"):
        if kind == "mdy":
            month, day, year = m.group(1), m.group(2), m.group(3)
        else:
            day, month, year = m.group(1), m.group(2), m.group(3)
        hh, mm, ampm = m.group(4), m.group(5), m.group(6)
        hour = int(hh) if hh else 0
        if ampm and ampm.lower().startswith("p") and hour < 12:
            hour += 12
        if ampm and ampm.lower().startswith("a") and hour == 12:
            hour = 0
        return datetime(int(year), _MONTHS[month[:3].lower()], int(day), hour, int(mm or 0))
    a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if a > 12:
        day_first = True
    elif b > 12:
        day_first = False
    return datetime(year, b, a) if day_first else datetime(year, a, b)


def iso_date(value) -> str | None:
    """A stated date as ISO 8601 (a bare date stays a bare date), or None when it reads as no date."""
    if not value:
        return None
    value = str(value).strip()
    when = parse_visible_date(value)
    if when is None:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return value
    return when.isoformat()



_SOURCE_DATE = re.compile(r"^\W*(?:originally|first)\s+(?:published|appeared|posted|ran)\b|^\W*(?:source|via)\b", re.I)
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


def reads_day_first(tree) -> bool | None:
    """How the page's language writes numeric dates: en-US month first, other regional variants day first."""
    lang = (tree.get("lang") or "").lower()
    if lang.startswith("en-us"):
        return False
    if lang and not lang.startswith("en-us") and "-" in lang:
        return True
    return None


@dataclass
class PageDates:
    published: str | None
    modified: str | None
    numeric_date: str | None = None   # an ambiguous numeric date line (03/04/2020), settled per site later


def page_dates(tree, region, article_ld: dict, header: list[str]) -> PageDates:
    """The page's own publication and update dates; ``header`` is the article header's text lines."""
    published = iso_date(article_ld.get("datePublished")) or iso_date(meta_content(
        tree, "article:published_time", "datePublished", "date", "dc.date", "DC.date.issued"))
    modified = iso_date(article_ld.get("dateModified")) or iso_date(meta_content(tree, "article:modified_time",
                                                                                 "dateModified"))
    if not published:
        times = [t for t in region.xpath(".//time[@datetime]")
                 if not re.search(r"modif|updat", " ".join([t.get("class") or "", t.get("itemprop") or "",
                                                           t.getparent().get("class") or ""]), re.I)]
        if not times:
            times = tree.xpath("//time[@datetime]")
        if times:
            published = iso_date(times[0].get("datetime"))
    if not modified:
        updated = tree.xpath("//time[@datetime][contains(@class,'modif') or contains(@class,'updat') or "
                             "contains(@itemprop,'dateModified') or contains(../@class,'updat')]")
        modified = iso_date(updated[0].get("datetime")) if updated else None
    dates = PageDates(published, modified)
    if not published:
        order = reads_day_first(tree)
        for line in header:
            if _SOURCE_DATE.match(line):
                continue   # "Originally published by X on <date>": the source's date, not this page's
            when = parse_visible_date(line, order)
            if when:
                dates.published = when.isoformat() if (when.hour or when.minute) else when.date().isoformat()
                numeric = _NUMERIC_DATE.search(line)
                if numeric and order is None:
                    dates.numeric_date = numeric.group(0)
                break
    return dates


def numeric_date_order(samples: Iterable[str]) -> str | None:
    """'dmy' or 'mdy' for a site, from its numeric dates that only read one way (13/02/2020, 02/13/2020)."""
    dmy = mdy = 0
    for s in samples:
        m = re.match(r"(\d{1,2})/(\d{1,2})/(\d{4})", s or "")
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        dmy += a > 12
        mdy += b > 12
    if dmy and not mdy:
        return "dmy"
    if mdy and not dmy:
        return "mdy"
    return None
