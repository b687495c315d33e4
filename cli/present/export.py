"""Export formats: json (the result format), csv (one row per article), graphml (the copy graph),
html (a self-contained report) and warc (a story's captured pages, as evidence)."""

from __future__ import annotations

import csv
import io
import json
import sys
from xml.sax.saxutils import escape, quoteattr

from cli.present.html import render_html
from cli.present.tables import export_object, find_story
from crawler.errors import UserInputError
from crawler.storage.store import Store
from crawler.warc import write_story_warc

FORMATS = ("json", "csv", "graphml", "html", "warc")
CSV_FIELDS = ("url", "story", "is_origin", "parent", "published", "author", "authors", "site", "title", "verdict",
              "credits_origin", "links_to_origin", "author_kept", "license", "copyright", "similarity", "signal")


def to_csv(obj: dict) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for a in obj["articles"]:
        if a["story"] is None:
            continue
        writer.writerow({**a, "authors": "; ".join(a.get("authors") or []),
                         **{k: a["attribution"][k] for k in ("verdict", "credits_origin", "links_to_origin",
                                                             "author_kept", "license")}})
    return buf.getvalue()


def to_graphml(obj: dict) -> str:
    """The copy graph: one node per article, one edge parent → copy (GraphML, loads in networkx and Gephi)."""
    keys = [("site", "string"), ("title", "string"), ("published", "string"), ("verdict", "string"),
            ("story", "string"), ("is_origin", "boolean")]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">']
    for name, typ in keys:
        lines.append(f'  <key id="{name}" for="node" attr.name="{name}" attr.type="{typ}"/>')
    lines.append('  <key id="similarity" for="edge" attr.name="similarity" attr.type="double"/>')
    lines.append('  <graph id="copies" edgedefault="directed">')
    arts = [a for a in obj["articles"] if a["story"] is not None]
    for a in arts:
        lines.append(f"    <node id={quoteattr(a['url'])}>")
        for name, typ in keys:
            value = a["attribution"]["verdict"] if name == "verdict" else a.get(name)
            if value is None:
                continue
            if typ == "boolean":
                value = "true" if value else "false"
            lines.append(f"      <data key=\"{name}\">{escape(str(value))}</data>")
        lines.append("    </node>")
    urls = {a["url"] for a in arts}
    for i, a in enumerate(arts):
        if a["parent"] and a["parent"] in urls:
            lines.append(f"    <edge id=\"e{i}\" source={quoteattr(a['parent'])} target={quoteattr(a['url'])}>")
            if a.get("similarity") is not None:
                lines.append(f"      <data key=\"similarity\">{a['similarity']}</data>")
            lines.append("    </edge>")
    lines += ["  </graph>", "</graphml>", ""]
    return "\n".join(lines)


def export(store: Store, fmt: str, out_path: str | None, story: str | None = None) -> str:
    """Write one export; returns a short description of what was written."""
    if fmt not in FORMATS:
        raise UserInputError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    if fmt == "warc":
        if not story or not out_path:
            raise UserInputError("--format warc needs --story (an id or URL) and --output FILE")
        sid = find_story(store, story)
        urls = [m["url"] for m in store.members(sid)]
        n = write_story_warc(store, urls, out_path)
        return f"{n} WARC records"
    obj = export_object(store)
    if fmt == "json":
        text = json.dumps(obj, indent=1, ensure_ascii=False)
    elif fmt == "csv":
        text = to_csv(obj)
    elif fmt == "graphml":
        text = to_graphml(obj)
    else:
        text = render_html(obj)
    if out_path:
        try:
            with open(out_path, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UserInputError(f"cannot write {out_path}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    return f"{sum(1 for a in obj['articles'] if a['story'])} articles"
