"""Text from crawled pages made safe for the medium it is written to: one mechanism for every output.

A page can carry anything in a headline or a copyright line: terminal escape sequences (``ESC[2J``,
``ESC]0;title BEL``), characters XML forbids, a CSV cell that a spreadsheet runs as a formula
(``=HYPERLINK(…)``). Stored text stays as captured (it is evidence); each writer passes every string
through the function of its medium here, and nothing else of the program escapes on its own.
"""

from __future__ import annotations

import html
import re
from xml.sax.saxutils import escape as xml_escape

# C0 controls except tab, line feed and carriage return; DEL; C1 controls (0x9b is a one-byte CSI)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# what XML 1.0 does not allow at all, beyond the controls: lone surrogates and the two non-characters
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"[\t\r\n]+")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")   # what spreadsheets read as the start of a formula (OWASP)


def plain(text: str) -> str:
    """The text without control characters (escape sequences lose their ESC and become harmless text)."""
    return _CONTROLS.sub("", text)


def for_terminal(text: str) -> str:
    """One line of text fit for a terminal: no control characters, tabs and line breaks as spaces."""
    return _SPACES.sub(" ", plain(text))


def for_csv(value):
    """A CSV cell: text without controls, and never a formula (a leading ``'`` keeps it text); other
    values as they are."""
    if not isinstance(value, str):
        return value
    value = plain(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def for_xml(text: str) -> str:
    """Character data or an attribute value of well-formed XML 1.0."""
    return xml_escape(_NOT_XML.sub("", plain(text)), {'"': "&quot;"})


def for_html(text: str) -> str:
    """Text of an HTML element or attribute."""
    return html.escape(_NOT_XML.sub("", plain(text)), quote=True)


def clean(value, medium=for_terminal):
    """``value`` with every string inside it (dict values, list items) passed through ``medium``."""
    if isinstance(value, str):
        return medium(value)
    if isinstance(value, dict):
        return {k: clean(v, medium) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, medium) for v in value]
    return value
