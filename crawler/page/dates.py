"""Publication and update dates, in the page's own zone: the page's own statements (JSON-LD, meta tags,
``itemprop``, ``<time>``) first, then the date line of the article header and other short date lines of the
article, read as written (numeric forms, month names in English, and words in the page's language through
dateparser), then htmldate (more meta names, the URL, the whole page).

A date is never moved to another day: an instant stated in UTC is put back into the page's zone when the
page's visible date line shows the same instant in local time; a local statement of the same instant is
preferred to a UTC one. The modified date is kept apart.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import urljoin

from crawler.page.dom import is_info_box, xpath
from crawler.page.metadata import clean_text, json_ld, ld_types
from crawler.page.urls import site_of

logger = logging.getLogger(__name__)

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_MONTH_RE = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_TIME_RE = r"(?:,?\s*(?:at\s+|um\s+|à\s+|a\s+las\s+)?(\d{1,2})[:.h](\d{2})\s*(a\.?m\.?|p\.?m\.?|AM|PM)?(?:\s*(GMT|UTC|[A-Z]{2,4}))?)?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?\b")),
    ("mdy", re.compile(r"\b" + _MONTH_RE + r"\s+(\d{1,2})" + _ORDINAL + r",?\s+(\d{4})" + _TIME_RE, re.I)),
    ("dmy", re.compile(r"\b(\d{1,2})" + _ORDINAL + r"(?:\s+of)?\s+" + _MONTH_RE + r",?\s+(\d{4})" + _TIME_RE, re.I)),
    ("num", re.compile(r"\b(\d{1,2})([/-])(\d{1,2})\2(\d{4})\b")),
    # day first with dots (Europe): 28.04.2023, 28. 04. 2023
    ("dot", re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?![\d.])" + _TIME_RE)),
    # year first: 2019年3月5日, 2026년 1월 29일, 2019/03/05, 2019.03.05
    ("ymd", re.compile(r"(?<!\d)(\d{4})\s*(?:年|년|/|\.)\s*(\d{1,2})\s*(?:月|월|/|\.)\s*(\d{1,2})(?!\d)\s*(?:日|일)?" + _TIME_RE)),
]


def parse_visible_date(text: str, day_first: bool | None = None) -> datetime | None:
    """The first date written in ``text`` ("February 10, 2020", "10 Feb 2020 14.03 GMT", "10/02/2020",
    "28.04.2023", "2019年3月5日"…).

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


def _zone(tz: str | None):
    if not tz:
        return None
    if tz == "Z":
        return UTC
    sign = 1 if tz[0] == "+" else -1
    tz = tz[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(tz[:2]), minutes=int(tz[2:4] or 0)))


def _clock(hh, mm, ampm) -> tuple[int, int]:
    hour = int(hh) if hh else 0
    if ampm and ampm.lower().startswith("p") and hour < 12:
        hour += 12
    if ampm and ampm.lower().startswith("a") and hour == 12:
        hour = 0
    return hour, int(mm or 0)


def _build_date(kind, m, day_first):
    if kind == "iso":
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        return datetime(y, mo, d, int(m.group(4) or 0), int(m.group(5) or 0), tzinfo=_zone(m.group(6)))
    if kind in ("mdy", "dmy"):
        if kind == "mdy":
            month, day, year = m.group(1), m.group(2), m.group(3)
        else:
            day, month, year = m.group(1), m.group(2), m.group(3)
        return datetime(int(year), _MONTHS[month[:3].lower()], int(day), *_clock(m.group(4), m.group(5), m.group(6)))
    if kind == "dot":
        year = int(m.group(3))
        if year < 100:   # 25.04.24: this century, unless that is in the future
            year += 2000 if year <= date.today().year % 100 + 1 else 1900
        return datetime(year, int(m.group(2)), int(m.group(1)), *_clock(m.group(4), m.group(5), m.group(6)))
    if kind == "ymd":
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), *_clock(m.group(4), m.group(5), m.group(6)))
    a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    if a > 12:
        day_first = True
    elif b > 12:
        day_first = False
    return datetime(year, b, a) if day_first else datetime(year, a, b)


def _has_time(when: datetime) -> bool:
    return bool(when.hour or when.minute or when.tzinfo)


def iso_text(when: datetime) -> str:
    """ISO 8601: a datetime when a time was given, else a bare date."""
    return when.isoformat() if _has_time(when) else when.date().isoformat()


def iso_date(value) -> str | None:
    """A stated date as ISO 8601 (a bare date stays a bare date), or None when it reads as no date."""
    text = clean_text(value)
    if not text:
        return None
    when = parse_visible_date(text)
    if when is None or not 1990 <= when.year <= 2100:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return text
    return when.isoformat()


# -- words in the page's language (dateparser) --------------------------------------------------------

_YEAR = re.compile(r"(?<!\d)(?:19[89]\d|20\d\d)(?!\d)")
_WORD = re.compile(r"[^\W\d_]{3,}")
_DATEPARSER_SETTINGS = {"REQUIRE_PARTS": ["day", "month", "year"], "PREFER_DATES_FROM": "past",
                        "RETURN_AS_TIMEZONE_AWARE": False}


@functools.lru_cache(maxsize=2048)   # a site's pages repeat their short lines (a footer's year): dateparser once each
def words_date(text: str, language: str | None) -> datetime | None:
    """A date written in words in the page's language ("5. März 2021", "3 de marzo de 2021", "5 марта 2021"),
    by dateparser; only for short lines with a year, and only when the page says its language."""
    if not language or len(text) > 160 or not _YEAR.search(text) or not _WORD.search(text):
        return None
    import dateparser.search  # lazily: commands that do not extract start without it

    try:
        found = dateparser.search.search_dates(text, languages=[language], settings=_DATEPARSER_SETTINGS)
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError, AttributeError):
        return None
    for written, when in found or []:
        if _YEAR.search(written) and 1990 <= when.year <= 2100:
            return when
    return None


# -- what the page states --------------------------------------------------------------------------------

_PUBLISHED_NAMES = (
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished", "pubdate",
    "publishdate", "publish-date", "publish_date", "publication_date", "publication-date", "date", "dc.date",
    "dc.date.issued", "dc.date.created", "dcterms.date", "dcterms.issued", "dcterms.created", "sailthru.date",
    "parsely-pub-date", "article.published", "article_date_original", "cxenseparse:recs:publishtime",
    "citation_publication_date", "citation_date", "originalpublicationdate", "displaydate", "rnews:datepublished",
    "published_time", "bt:pubdate", "pdate", "ptime", "date_published", "release_date",
)
_MODIFIED_NAMES = ("article:modified_time", "og:article:modified_time", "og:updated_time", "datemodified",
                   "dcterms.modified", "dc.date.modified", "article.updated", "lastmod", "last-modified",
                   "parsely-updated-date", "sailthru.lastmodified")


def _meta_values(tree) -> dict[str, str]:
    values: dict[str, str] = {}
    for meta in xpath(tree, "//meta[@content]"):
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = (meta.get(attr) or "").strip().lower()
            if key and key not in values and (meta.get("content") or "").strip():
                values[key] = meta.get("content")
    return values


def _is_utc(when: datetime) -> bool:
    return when.tzinfo is not None and when.utcoffset() == timedelta(0)


def stated_dates(tree, article_ld: dict) -> tuple[str | None, str | None]:
    """(published, modified) as the page states them in JSON-LD, meta tags and ``itemprop``; of two statements
    of one instant, the one in local time."""
    metas = _meta_values(tree)
    lds = [article_ld] + [d for d in json_ld(tree) if d is not article_ld and any(
        t.endswith(("article", "posting", "report", "webpage", "page")) for t in ld_types(d))]
    published = [ld.get("datePublished") for ld in lds] + [metas.get(n) for n in _PUBLISHED_NAMES]
    published += xpath(tree, "//*[@itemprop='datePublished'][not(self::meta)]/@datetime|"
                            "//*[@itemprop='datePublished'][not(self::meta)]/@content")
    modified = [ld.get("dateModified") for ld in lds] + [metas.get(n) for n in _MODIFIED_NAMES]
    return _prefer_local([iso_date(v) for v in published if v]), _prefer_local([iso_date(v) for v in modified if v])


def _prefer_local(values: list[str | None]) -> str | None:
    values = [v for v in values if v]
    if not values:
        return None
    first = datetime.fromisoformat(values[0]) if "T" in values[0] else None
    if first is not None and _is_utc(first):
        for other in values[1:]:
            when = datetime.fromisoformat(other) if "T" in other else None
            if when is not None and when.tzinfo is not None and not _is_utc(when) and when == first:
                return other
    return values[0]


def _time_element(tree, region) -> str | None:
    times = [t for t in xpath(region, ".//time[@datetime]")
             if not re.search(r"modif|updat", " ".join([t.get("class") or "", t.get("itemprop") or "",
                                                       (t.getparent().get("class") or "")
                                                       if t.getparent() is not None else ""]), re.I)]
    times = times or xpath(tree, "//time[@datetime]")
    return iso_date(times[0].get("datetime")) if times else None


def _modified_time_element(tree) -> str | None:
    updated = xpath(tree, "//time[@datetime][contains(@class,'modif') or contains(@class,'updat') or "
                         "contains(@itemprop,'dateModified') or contains(../@class,'updat')]")
    return iso_date(updated[0].get("datetime")) if updated else None


# -- the page's own zone ---------------------------------------------------------------------------------

MAX_SHIFT = timedelta(hours=10)


def in_page_zone(stated: str, shown: datetime | None) -> str:
    """A UTC statement put back into the page's zone when the page shows the same instant in local time
    (``2024-08-26T23:27Z`` shown as ``27.08.2024, 01:27`` → ``2024-08-27T01:27+02:00``); when the page shows only
    a neighbouring day, that day. Anything else unchanged."""
    when = datetime.fromisoformat(stated) if "T" in stated else None
    if when is None or not _is_utc(when) or shown is None or shown.tzinfo is not None:
        return stated
    if _has_time(shown):
        offset = shown - when.replace(tzinfo=None)
        if offset and timedelta(hours=-12) <= offset <= timedelta(hours=14) and offset % timedelta(minutes=15) == \
                timedelta(0):
            return when.astimezone(timezone(offset)).isoformat()
        return stated
    # only a day shown: the neighbouring day, if a zone within ten hours of UTC (where most readers live) puts
    # the instant on it; a day further off is another date on the page
    since_midnight = when - when.replace(hour=0, minute=0, second=0, microsecond=0)
    days = (shown.date() - when.date()).days
    if (days == 1 and timedelta(days=1) - since_midnight <= MAX_SHIFT) or (days == -1 and since_midnight < MAX_SHIFT):
        return shown.date().isoformat()
    return stated


# -- the page's visible date lines -------------------------------------------------------------------------

_SOURCE_DATE = re.compile(r"^\W*(?:originally|first)\s+(?:published|appeared|posted|ran)\b|^\W*(?:source|via)\b|"
                          r"\b(?:originally|first)\s+(?:published|appeared|posted|ran)\b", re.I)
_UPDATE_LINE = re.compile(r"^\W*(?:updated?|last\s+updated|modified|corrections?|corrected|editor'?s\s+note|aktualisiert|"
                          r"aktualisierung|korrektur|berichtigung|mis\s+à\s+jour|rectificatif|actualizad[oa]|"
                          r"actualización|corrección|aggiornat[oa]|rettifica)\b", re.I)
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


def reads_day_first(tree) -> bool | None:
    """How the page's language writes numeric dates: en-US month first, other regional variants day first."""
    lang = (tree.get("lang") or "").lower()
    if lang.startswith("en-us"):
        return False
    if lang and not lang.startswith("en-us") and "-" in lang:
        return True
    return None


def _credits_a_source(line: str, credits: Iterable[str]) -> bool:
    """A line of a credit ("Originally published by X on <date>"): its date is the source's, not this page's."""
    return bool(_SOURCE_DATE.search(line)) or any(c in line or (line in c and len(line) >= 0.6 * len(c))
                                                  for c in credits if len(c) >= 12)


def shown_date(lines: Iterable[str], day_first: bool | None, language: str | None,
               credits: Iterable[str] = ()) -> tuple[datetime | None, str | None]:
    """The first publication date among short visible lines (not a source's date, not an update stamp), and
    the line's ambiguous numeric date (03/04/2020) if it has one."""
    for line in lines:
        if len(line) > 200 or _UPDATE_LINE.match(line) or _credits_a_source(line, credits):
            continue
        when = parse_visible_date(line, day_first) or words_date(line, language)
        if when and 1990 <= when.year <= 2100:
            numeric = _NUMERIC_DATE.search(line)
            return when, numeric.group(0) if numeric and day_first is None else None
    return None, None


def _date_lines(region, site: str, limit: int = 60) -> list[str]:
    """Short text lines of the article (a date line in its footer, a sidebar byline box), in order."""
    lines = []
    for el in region.iter("p", "div", "span", "time", "li", "small", "address", "footer", "td", "dd"):
        if len(lines) >= limit:
            break
        if el.tag in ("div", "li", "td", "footer") and len(el) or _quoted(el, site):
            continue
        text = " ".join(el.text_content().split())
        if 6 <= len(text) <= 120 and _YEAR.search(text):
            lines.append(text)
    return lines


@dataclass
class PageDates:
    published: str | None
    modified: str | None
    numeric_date: str | None = None   # an ambiguous numeric date line (03/04/2020), settled per site later
    source: str | None = None         # where the publication date was read (evidence)


def page_dates(tree, region, article_ld: dict, header: list[str], url: str = "",
               language: str | None = None, credits: Iterable[str] = ()) -> PageDates:
    """The page's own publication and update dates; ``header`` is the article header's text lines, ``region``
    the article's element (None for a page that is not an article: its short lines are not read), ``credits``
    the page's credit statements (a date in them is the source's)."""
    published, modified = stated_dates(tree, article_ld)
    order = reads_day_first(tree)
    credits = list(credits)
    shown, numeric = shown_date(header, order, language, credits)
    dates = PageDates(published, modified or _modified_time_element(tree), source="stated" if published else None)
    if published:
        dates.published = in_page_zone(published, shown)
        return dates
    time_element = _time_element(tree, tree if region is None else region)
    if time_element:
        dates.published, dates.source = in_page_zone(time_element, shown), "time"
        return dates
    if shown is None and region is not None:
        shown, numeric = shown_date(_date_lines(region, site_of(url)), order, language, credits)
    if shown is not None:
        dates.published, dates.numeric_date, dates.source = iso_text(shown), numeric, "visible"
        return dates
    # htmldate (its other meta names, the URL, then the whole page), kept only when the page backs its day: the
    # URL or a tag attribute states it, or the page writes it out in full outside links, quotations, embeds,
    # update notes and credits (a copyright year turned into 1 January, a tweet's date, "Update: As of June 29"
    # are not the publication date); else a stated update date
    backed = _Backing(tree, url, order, language, credits)
    guess = library_date(tree, url) if backed.any() else None
    if guess and backed.has(guess):
        dates.published, dates.source = guess, "htmldate"
    elif dates.modified:
        dates.published, dates.source = dates.modified[:10], "modified"
    elif backed.written:
        # the earliest day the page writes out in its own text, as htmldate's whole-page search would pick it
        # (without its dateparser fallback, which guesses the language from every locale: seconds per page)
        dates.published, dates.source = min(backed.written), "written"
    else:
        dates.source = None
    return dates


class _Backing:
    """The days a page states in its URL and tag attributes, and writes out in its own text (computed once)."""

    def __init__(self, tree, url: str, day_first: bool | None, language: str | None, credits: list[str]):
        self.tree, self.url, self.day_first, self.language, self.credits = tree, url, day_first, language, credits
        self.days: set[str] | None = None
        self.written: set[str] = set()

    def _read(self) -> set[str]:
        if self.days is None:
            self.written = written_days(self.tree, self.day_first, self.language, self.credits, site_of(self.url))
            self.days = stated_days(self.tree, self.url) | self.written
        return self.days

    def any(self) -> bool:
        """Does the page state or write any day at all? (If not, htmldate is not asked: it could only guess.)"""
        return bool(self._read())

    def has(self, day: str) -> bool:
        return day in self._read()


def stated_days(tree, url: str) -> set[str]:
    """Days in the URL's path and in date-like attributes (``<meta content>``, ``datetime``, ``data-*``)."""
    days = set()
    for value in [url, *xpath(tree, "//meta/@content|//@datetime|//@*[contains(name(), 'date')]")[:500]]:
        if value and _YEAR.search(value):
            when = parse_visible_date(str(value)[:200])
            if when:
                days.add(when.date().isoformat())
    return days


_QUOTING = {"blockquote", "q", "cite", "figure", "figcaption", "iframe", "embed", "object", "nav", "aside"}
_OTHERS = re.compile(r"comment|related|sidebar|widget|promo|recommend|trending|popular|more-?stories|newsletter|teaser",
                     re.I)


def _quoted(el, site: str = "") -> bool:
    """Inside a link to another site, a quotation, an embed (a tweet), a comment or a box of other stories:
    someone else's date. (A link on the page's own site, such as a permalink, is the page's.)"""
    if el is None:
        return False
    for node in (el, *el.iterancestors()):
        if node.tag in ("body", "html", "main", "article"):
            break   # their classes describe the whole page ("layout--with-sidebar")
        if node.tag in _QUOTING and not (node.tag == "aside" and is_info_box(node)) \
                or _OTHERS.search(f"{node.get('class', '')} {node.get('id', '')}"):
            return True
        if node.tag == "a" and site_of(urljoin(f"http://{site}/", node.get("href") or "")) not in ("", site):
            return True
    return False


def written_days(tree, day_first: bool | None, language: str | None, credits: Iterable[str] = (), site: str = "",
                 limit: int = 400) -> set[str]:
    """Every day written out in full (day, month and year) in the page's short text runs, credits left out."""
    days = set()
    worded = 0   # dateparser calls: a few short lines are enough, and each costs milliseconds
    for node in xpath(tree, "//body//text()[string-length(normalize-space()) > 5]")[:5000]:
        parent = node.getparent()
        if parent is not None and parent.tag in ("script", "style", "noscript", "template"):
            continue
        text = " ".join(node.split())
        if len(text) > 200 or not _YEAR.search(text) or "://" in text or "www." in text \
                or (_UPDATE_LINE.match(text) and len(text) > 60) or _credits_a_source(text, credits) or _quoted(parent, site):
            continue   # a URL's date path, a link, a quotation or embed, a comment, a sidebar: not this page's
        when = parse_visible_date(text, day_first)
        if when is None and len(text) <= 80 and worded < MAX_WORDED_LINES:
            worded += 1
            when = words_date(text, language)
        if when:
            days.add(when.date().isoformat())
            if len(days) >= limit:
                break
    return days


MAX_WORDED_LINES = 25


def library_date(tree, url: str) -> str | None:
    """htmldate's publication date from the page's markup (more meta names than ours, the URL, date-like
    elements; the earliest it trusts), a bare day."""
    from htmldate import find_date  # lazily: commands that do not extract start without it

    try:
        found = find_date(tree, url=url or None, original_date=True, extensive_search=False,
                          outputformat="%Y-%m-%d", max_date=(date.today() + timedelta(days=2)).isoformat())
    except (ValueError, TypeError, AttributeError, IndexError, OverflowError) as exc:
        logger.debug("htmldate failed on %s: %s", url, str(exc)[:80])
        return None
    return found or None


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
