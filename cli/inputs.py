"""What people type, read the way they mean it or refused in one line: dates and sites.

Dates: ISO (2021-12-01, 2021-12, 2021), 2021/12/01, 1 Dec 2021, December 1, 2021, day/month/year when
only one reading is possible (13/12/2021), and relative ones (today, yesterday, 7d, 2w, 3 months ago).
12/01/2021 could be either of two days, so it is refused with both readings offered. Sites: a host or a
URL, any case, with or without ``www.``; an unknown one is refused with the nearest known names.
"""

from __future__ import annotations

import calendar
import difflib
import re
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from crawler.errors import UserInputError

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_UNIT_DAYS = {"d": 1, "day": 1, "w": 7, "week": 7, "m": 30, "mo": 30, "month": 30, "y": 365, "year": 365}
DATE_FORMS = "2021-12-01, 1 Dec 2021, 7d, 2w or yesterday"


def _relative(text: str, today: date) -> date | None:
    if text in ("today", "now"):
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    m = re.fullmatch(r"(\d{1,5})\s*(d|w|mo|m|y|days?|weeks?|months?|years?)(\s+ago)?", text)
    if not m:
        return None
    unit = m.group(2)
    return today - timedelta(days=int(m.group(1)) * _UNIT_DAYS[unit.removesuffix("s") if len(unit) > 2 else unit])


def _named_month(text: str) -> date | None:
    m = (re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})", text)
         or re.fullmatch(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text))
    if not m:
        return None
    a, b, year = m.groups()
    day, month = (a, b) if a.isdigit() else (b, a)
    if month not in _MONTHS:
        return None
    return date(int(year), _MONTHS[month], int(day))


def _numeric(text: str, raw: str) -> date | None:
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text):
        return date(*map(int, m.groups()))
    if m := re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?", text):
        return date(int(m.group(1)), int(m.group(2) or 1), 1)
    if m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text):
        a, b, year = map(int, m.groups())
        if a <= 12 and b <= 12 and a != b:
            raise UserInputError(f"{raw!r} could be {date(year, b, a).isoformat()} or {date(year, a, b).isoformat()}; "
                                 "write the date as YYYY-MM-DD")
        day, month = (a, b) if a > 12 or a == b else (b, a)
        return date(year, month, day)
    return None


def parse_date(raw: str, today: date | None = None) -> date:
    """A date from what a person would type.

    Raises:
        UserInputError: not a date in any of the forms above, an impossible date, or an ambiguous one.
    """
    text = " ".join(raw.strip().lower().split())
    today = today or date.today()
    try:
        found = _relative(text, today) or _named_month(text) or _numeric(text, raw)
        if found is None:
            found = datetime.fromisoformat(raw.strip()).date()
    except ValueError:
        raise UserInputError(f"cannot read {raw!r} as a date; use {DATE_FORMS}") from None
    return found


def host_of(text: str) -> str:
    """The host named by a host or a URL, lower case, without ``www.``, a port or a final dot."""
    value = text.strip()
    try:
        host = urlsplit(value if "://" in value else "//" + value).hostname or ""
    except ValueError:
        raise UserInputError(f"not a site or URL: {text!r}") from None
    return host.rstrip(".").removeprefix("www.")


def resolve_site(text: str, known: list[str]) -> str:
    """The stored site a person means by ``text``.

    Raises:
        UserInputError: no such site; the message names the closest known ones.
    """
    host = host_of(text)
    if host in known:
        return host
    close = difflib.get_close_matches(host, known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else f" among the {len(known)} sites of this database"
    raise UserInputError(f"no such site {host or text!r}{hint}")

