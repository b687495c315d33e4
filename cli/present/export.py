"""Export formats: json (the result format), csv (one row per article in a story), graphml (the copy
graph), html (a self-contained report) and warc (a story's captured pages, as evidence).

Every format can be limited to one story (``story``). A file is written to a temporary file in the same
folder and renamed over the target, so an existing file is replaced whole or not at all. The description
returned counts what the file holds.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable

from cli.present.escape import for_xml
from cli.present.formats import to_json, write_csv
from cli.present.html import render_html
from cli.present.tables import export_object, find_story
from crawler.errors import UserInputError
from crawler.storage.store import Store
from crawler.warc import write_story_warc

FORMATS = ("json", "csv", "graphml", "html", "warc")
CSV_FIELDS = ["url", "story", "is_origin", "parent", "published", "author", "authors", "site", "title", "verdict",
              "credits_origin", "links_to_origin", "author_kept", "license", "copyright", "similarity", "signal",
              "gone_since"]
GRAPHML_NODE_KEYS = [("site", "string"), ("title", "string"), ("published", "string"), ("verdict", "string"),
                     ("story", "string"), ("is_origin", "boolean")]


def to_csv(obj: dict) -> str:
    """One row per article in a story, one plain value per cell (``cli.present.formats``)."""
    buf = io.StringIO()
    write_csv(buf, [{**a, **a["attribution"]} for a in obj["articles"] if a["story"] is not None], CSV_FIELDS)
    return buf.getvalue()


def to_graphml(obj: dict) -> str:
    """The copy graph: one node per article, one edge parent → copy (GraphML, loads in networkx and Gephi)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">']
    for name, typ in GRAPHML_NODE_KEYS:
        lines.append(f'  <key id="{name}" for="node" attr.name="{name}" attr.type="{typ}"/>')
    lines.append('  <key id="similarity" for="edge" attr.name="similarity" attr.type="double"/>')
    lines.append('  <graph id="copies" edgedefault="directed">')
    arts = [a for a in obj["articles"] if a["story"] is not None]
    for a in arts:
        lines.append(f'    <node id="{for_xml(a["url"])}">')
        for name, typ in GRAPHML_NODE_KEYS:
            value = a["attribution"]["verdict"] if name == "verdict" else a.get(name)
            if value is None:
                continue
            text = ("true" if value else "false") if typ == "boolean" else for_xml(str(value))
            lines.append(f'      <data key="{name}">{text}</data>')
        lines.append("    </node>")
    urls = {a["url"] for a in arts}
    for i, a in enumerate(arts):
        if a["parent"] and a["parent"] in urls:
            lines.append(f'    <edge id="e{i}" source="{for_xml(a["parent"])}" target="{for_xml(a["url"])}">')
            if a.get("similarity") is not None:
                lines.append(f'      <data key="similarity">{float(a["similarity"])}</data>')
            lines.append("    </edge>")
    lines += ["  </graph>", "</graphml>", ""]
    return "\n".join(lines)


def write_atomically(path: str, write: Callable[[str], None]) -> None:
    """``write(temporary_path)``, then the temporary file renamed to ``path`` (removed if writing failed)."""
    if os.path.isdir(path):
        raise UserInputError(f"cannot write {path}: it is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".syndtrace-", suffix=".part", dir=folder)
    except OSError as exc:
        raise UserInputError(f"cannot write {path}: {exc.strerror}") from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        raise UserInputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _describe(obj: dict, fmt: str) -> str:
    arts = [a for a in obj["articles"] if a["story"] is not None]
    if fmt == "json":
        return f"{len(obj['articles'])} pages ({len(arts)} articles in stories)"
    if fmt == "csv":
        return f"{len(arts)} rows"
    if fmt == "graphml":
        urls = {a["url"] for a in arts}
        return f"{len(arts)} pages and {sum(1 for a in arts if a['parent'] in urls)} copy links"
    stories = {a["story"] for a in arts}
    return f"a report of {len(stories)} stories ({len(arts)} pages)"


def export(store: Store, fmt: str, out_path: str | None, story: str | None = None) -> str:
    """Write one export (to stdout without ``out_path``); returns what the output holds, in words."""
    if fmt not in FORMATS:
        raise UserInputError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    sid = find_story(store, story) if story else None
    if fmt == "warc":
        if not sid or not out_path:
            raise UserInputError("--format warc needs --story (an id or URL) and --output FILE")
        urls = [m["url"] for m in store.members(sid)]
        written: list[int] = []
        write_atomically(out_path, lambda tmp: written.append(write_story_warc(store, urls, tmp)))
        return f"{written[0]} WARC records"
    obj = export_object(store, story=sid)
    if fmt == "json":
        text = to_json(obj)
    elif fmt == "csv":
        text = to_csv(obj)
    elif fmt == "graphml":
        text = to_graphml(obj)
    else:
        text = render_html(obj, story=sid)
    if out_path:
        write_atomically(out_path, lambda tmp: _write_text(tmp, text))
    else:
        sys.stdout.write(text)
    return _describe(obj, fmt)
