"""Tables and trees laid out for a terminal of any width, or for a pipe.

Rich's tables shrink every column in proportion when rows are too wide, so story ids, hosts and dates
broke mid-word at 80 columns and URLs folded across lines. Here each column says how it may give way:
``fixed`` columns (ids, hosts, dates, numbers) never wrap or shrink; ``shrink`` columns (titles) are cut
with "…"; ``wrap`` columns (reasons) wrap onto more lines. When even their minimum widths do not fit,
the flexible columns move to an indented line of their own under each row. With no width (output piped
to a program) every row is one line and nothing is cut, so grep and cut see whole URLs.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from cli.present.escape import for_terminal

GAP = "  "


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "fixed"              # fixed | shrink | wrap
    right: bool = False              # numbers align right
    min_width: int = 10              # a shrink or wrap column is never narrower (else it moves below the row)
    style: str | Callable[[object], str] = ""   # a style, or a function of the cell's value giving one
    repeat: bool = True              # False: on a terminal, blank when the row above has the same value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return for_terminal(str(value))


def _style(col: Column, value) -> str:
    return col.style(value) if callable(col.style) else col.style


def _widths(columns: list[Column], natural: list[int], width: int | None) -> tuple[list[int], bool]:
    """Column widths, and whether the flexible columns go on a line of their own."""
    if width is None:
        return natural, False
    flexible = [i for i, c in enumerate(columns) if c.kind != "fixed"]
    fixed = sum(w for i, w in enumerate(natural) if i not in flexible) + len(GAP) * (len(columns) - 1)
    room = width - fixed
    if not flexible or sum(natural[i] for i in flexible) <= room:
        return natural, False
    minimum = [min(columns[i].min_width, natural[i]) for i in flexible]
    if sum(minimum) > room:
        return natural, True
    widths = list(natural)
    spare = room - sum(minimum)
    wants = [natural[i] - m for i, m in zip(flexible, minimum, strict=True)]
    for i, m, want in zip(flexible, minimum, wants, strict=True):
        widths[i] = m + (spare * want // sum(wants) if sum(wants) else 0)
    return widths, False


def _fit(col: Column, text: str, width: int) -> list[str]:
    if col.kind == "wrap" and cell_len(text) > width:
        return textwrap.wrap(text, width, break_on_hyphens=False) or [""]
    if col.kind == "shrink" and cell_len(text) > width:
        return [set_cell_size(text, max(width - 1, 0)) + "…"]
    return [text]


def _pad(col: Column, text: str, width: int) -> str:
    gap = " " * max(width - cell_len(text), 0)
    return gap + text if col.right else text + gap


def table(rows: list[dict], columns: list[Column], width: int | None) -> Text:
    """Rows under a header line; ``width`` None for a pipe."""
    cells = [[_cell(r.get(c.key)) for c in columns] for r in rows]
    if width is not None:
        for above, row in zip(cells[::-1][1:], cells[::-1], strict=False):   # from the bottom up
            for i, col in enumerate(columns):
                if not col.repeat and row[i] == above[i]:
                    row[i] = ""
    natural = [max([cell_len(c.header)] + [cell_len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    widths, below = _widths(columns, natural, width)
    inline = [i for i, c in enumerate(columns) if not (below and c.kind != "fixed")]
    out = Text()
    out.append(GAP.join(_pad(columns[i], columns[i].header, widths[i]) for i in inline).rstrip() + "\n", style="bold")
    for row, values in zip(rows, cells, strict=True):
        parts = {i: _fit(columns[i], values[i], widths[i]) for i in inline}
        for line in range(max(len(p) for p in parts.values())):
            for n, i in enumerate(inline):
                text = parts[i][line] if line < len(parts[i]) else ""
                last = n == len(inline) - 1
                gap = " " * max(widths[i] - cell_len(text), 0)
                if columns[i].right:
                    out.append(gap)
                out.append(text, style=_style(columns[i], row.get(columns[i].key)))
                if not last:
                    out.append(("" if columns[i].right else gap) + GAP)
            out.append("\n")
        if below:
            for i, col in enumerate(columns):
                if col.kind != "fixed" and values[i]:
                    for text in _fit(col, values[i], max(width - 4, 20)):
                        out.append("    " + text + "\n", style=_style(col, row.get(col.key)) or "dim")
    out.rstrip()
    return out


@dataclass
class Line:
    """One line of a tree node (plain or styled text): wrapped to the width, or kept whole (URLs)."""

    text: str | Text
    style: str = ""
    keep: bool = False

    def pieces(self, room: int | None) -> list[Text]:
        text = self.text if isinstance(self.text, Text) else Text(for_terminal(self.text), style=self.style)
        if self.keep or room is None or text.cell_len <= room:
            return [text]
        lines = text.wrap(None, room, justify="left", overflow="fold")   # left-justifying needs no console
        for piece in lines:
            piece.rstrip()
        return list(lines)


def tree(title: Line, root: dict, width: int | None) -> Text:
    """``root`` is ``{"lines": [Line, …], "children": [node, …]}``; nodes are drawn with guide lines."""
    return forest(title, [root], width)


def forest(title: Line, roots: list[dict], width: int | None) -> Text:
    """Several trees under one title line (``tree`` is one)."""
    out = Text()
    _lines(out, "", [title], width)

    def draw(node: dict, prefix: str, last: bool) -> None:
        inner = prefix + ("    " if last else "│   ")
        kids = node["children"]
        detail = inner + ("│   " if kids else "    ")   # a node's further lines, over the guide to its children
        _lines(out, prefix + ("└── " if last else "├── "), node["lines"][:1], width, detail)
        _lines(out, detail, node["lines"][1:], width)
        for n, child in enumerate(kids):
            draw(child, inner, n == len(kids) - 1)

    for n, root in enumerate(roots):
        draw(root, "", n == len(roots) - 1)
    out.rstrip()
    return out


def _lines(out: Text, prefix: str, lines: list[Line], width: int | None, rest: str | None = None) -> None:
    rest = prefix if rest is None else rest
    for line in lines:
        for n, piece in enumerate(line.pieces(None if width is None else max(width - cell_len(prefix), 20))):
            out.append(prefix if n == 0 else rest, style="dim")
            out.append_text(piece)
            out.append("\n")
        prefix = rest
