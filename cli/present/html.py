"""A self-contained HTML report: summary, stories, each story's lineage graph and spread timeline
(inline SVG), and the audit table. No scripts, no network; every scraped string is escaped."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from html import escape

from dedupe.trace.members import parse_when
from dedupe.trace.verdicts import COPY_VERDICTS, UNCREDITED_VERDICTS, Verdict

COLOURS = {Verdict.ORIGIN: "#1f6feb", Verdict.CREDITED: "#2da44e", Verdict.PARTIAL: "#d4a72c",
           Verdict.UNCREDITED: "#cf222e", Verdict.MISATTRIBUTED: "#8250df"}
MAX_STORIES = 200

CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f8fa;color:#1f2328}
header{background:#24292f;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
main{max-width:1180px;margin:0 auto;padding:20px 28px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0 20px}.card{background:#fff;border:1px solid #d0d7de;
border-radius:8px;padding:10px 16px;min-width:120px}.card b{display:block;font-size:22px}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0 18px;font-size:13px}
th,td{border-bottom:1px solid #d8dee4;padding:6px 8px;text-align:left;vertical-align:top}th{background:#f0f3f6}
section.story{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:14px 18px;margin:18px 0}
section.story h2{font-size:17px;margin:0 0 6px}.muted{color:#656d76;font-size:13px}
.v{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.figs{display:flex;gap:16px;flex-wrap:wrap}svg{background:#fbfcfd;border:1px solid #eaeef2;border-radius:6px}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
"""


def _href(url: str | None) -> str:
    """Only http(s) links become hrefs."""
    if url and url.lower().startswith(("http://", "https://")):
        return f' href="{escape(url, quote=True)}"'
    return ""


def _badge(verdict: str | None) -> str:
    colour = COLOURS.get(verdict or "", "#57606a")
    return f'<span class="v" style="background:{colour}">{escape(verdict or "-")}</span>'


def _generations(arts: list[dict]) -> dict[str, int]:
    by_url = {a["url"]: a for a in arts}
    depth: dict[str, int] = {}

    def gen(url: str, seen: frozenset = frozenset()) -> int:
        if url in depth:
            return depth[url]
        parent = by_url[url].get("parent")
        d = 0 if not parent or parent not in by_url or parent in seen else gen(parent, seen | {url}) + 1
        depth[url] = d
        return d

    for a in arts:
        gen(a["url"])
    return depth


def lineage_svg(arts: list[dict]) -> str:
    """Origin at the left, copies by generation, arrows parent → copy, nodes coloured by verdict."""
    depth = _generations(arts)
    columns: dict[int, list[dict]] = defaultdict(list)
    for a in sorted(arts, key=lambda a: (a.get("published") or "", a["url"])):
        columns[depth[a["url"]]].append(a)
    col_w, row_h = 210, 46
    width = 40 + col_w * (max(columns) + 1)
    height = 30 + row_h * max(len(c) for c in columns.values())
    pos = {}
    for d, col in columns.items():
        for i, a in enumerate(col):
            pos[a["url"]] = (20 + d * col_w, 20 + i * row_h)
    parts = [(f'<svg class="lineage" role="img" aria-label="lineage graph" width="{width}" height="{height}" '
              f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'),
             ('<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
              '<path d="M0,0 L8,4 L0,8 z" fill="#8c959f"/></marker></defs>')]
    for a in arts:
        parent = a.get("parent")
        if parent in pos:
            (x1, y1), (x2, y2) = pos[parent], pos[a["url"]]
            parts.append(f'<line x1="{x1 + 170}" y1="{y1 + 14}" x2="{x2 - 4}" y2="{y2 + 14}" stroke="#8c959f" '
                         f'stroke-width="1.5" marker-end="url(#arr)"/>')
    for a in arts:
        x, y = pos[a["url"]]
        colour = COLOURS.get(a["attribution"]["verdict"], "#57606a")
        parts.append(f'<g><title>{escape(a["url"])}</title><rect x="{x}" y="{y}" width="170" height="28" rx="6" '
                     f'fill="{colour}"/><text x="{x + 8}" y="{y + 18}" font-size="12" fill="#fff">'
                     f'{escape((a.get("site") or "?")[:24])}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def timeline_svg(arts: list[dict]) -> str:
    """Publication times of the story's pages on one axis: how fast and how far it spread."""
    dated = [(parse_when(a.get("published")), a) for a in arts]
    dated = [(w, a) for w, a in dated if w is not None]
    width, height, pad = 520, 90 + 14 * len(dated), 40
    parts = [(f'<svg class="timeline" role="img" aria-label="spread timeline" width="{width}" height="{height}" '
              f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">')]
    if not dated:
        parts.append(f'<text x="{pad}" y="40" font-size="12" fill="#656d76">no publication dates shown</text></svg>')
        return "".join(parts)
    dated.sort(key=lambda t: t[0])
    t0, t1 = dated[0][0], dated[-1][0]
    span = max((t1 - t0).total_seconds(), 3600.0)
    axis_y = height - 30
    parts.append(f'<line x1="{pad}" y1="{axis_y}" x2="{width - pad}" y2="{axis_y}" stroke="#57606a"/>')
    parts.append(f'<text x="{pad}" y="{axis_y + 18}" font-size="11" fill="#656d76">{escape(t0.date().isoformat())}</text>')
    parts.append(f'<text x="{width - pad}" y="{axis_y + 18}" font-size="11" fill="#656d76" text-anchor="end">'
                 f'{escape(t1.date().isoformat())}</text>')
    for i, (when, a) in enumerate(dated):
        x = pad + (width - 2 * pad) * (when - t0).total_seconds() / span
        y = 16 + i * 14
        colour = COLOURS.get(a["attribution"]["verdict"], "#57606a")
        lag = (when - t0).total_seconds() / 3600
        label = f'{a.get("site") or "?"}' + (f" +{lag / 24:.1f} d" if lag >= 48 else (f" +{lag:.0f} h" if i else ""))
        parts.append(f'<line x1="{x:.1f}" y1="{y + 4}" x2="{x:.1f}" y2="{axis_y}" stroke="{colour}" stroke-dasharray="2,3"/>'
                     f'<circle cx="{x:.1f}" cy="{y}" r="5" fill="{colour}"><title>{escape(a["url"])}</title></circle>'
                     + (f'<text x="{x - 8:.1f}" y="{y + 4}" font-size="11" text-anchor="end">{escape(label)}</text>'
                        if x > width / 2 else f'<text x="{x + 8:.1f}" y="{y + 4}" font-size="11">{escape(label)}</text>'))
    parts.append("</svg>")
    return "".join(parts)


def render_html(obj: dict, story: str | None = None) -> str:
    """The report for an export object (``cli.present.tables.export_object``)."""
    arts = [a for a in obj["articles"] if a.get("story")]
    stories: dict[str, list[dict]] = defaultdict(list)
    for a in arts:
        stories[a["story"]].append(a)
    verdicts = Counter(a["attribution"]["verdict"] for a in arts)
    multi = sorted(((sid, m) for sid, m in stories.items() if len(m) > 1), key=lambda t: (-len(t[1]), t[0]))
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>syndtrace report</title>",
           f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{CSS}</style></head><body>",
           ("<header><h1>syndtrace report</h1><div>Where stories spread, who copied whom, and who credited the "
            "original</div></header><main>"), "<div class='cards'>"]
    for label, value in [("articles", len(arts)), ("stories", len(stories)), ("stories with copies", len(multi))] + \
            [(v.value, verdicts.get(v, 0)) for v in COPY_VERDICTS]:
        out.append(f"<div class='card'><b>{value}</b>{escape(label)}</div>")
    out.append("</div><h2>Stories by spread</h2><table><tr><th>story</th><th>origin</th><th>copies</th><th>sites</th>"
               "<th>first</th><th>uncredited</th><th>title</th></tr>")
    for sid, members in multi[:MAX_STORIES]:
        origin = next((a for a in members if a["is_origin"]), members[0])
        bad = sum(a["attribution"]["verdict"] in UNCREDITED_VERDICTS for a in members)
        out.append(f"<tr><td><a href='#{escape(sid)}'>{escape(sid)}</a></td><td>{escape(origin.get('site') or '')}</td>"
                   f"<td>{len(members) - 1}</td><td>{len({a.get('site') for a in members})}</td>"
                   f"<td>{escape((origin.get('published') or '')[:10])}</td><td>{bad}</td>"
                   f"<td>{escape(origin.get('title') or '')}</td></tr>")
    out.append("</table>")
    if len(multi) > MAX_STORIES:
        out.append(f"<p class='muted'>Showing the {MAX_STORIES} most widely copied of {len(multi)} stories with copies; "
                   "export JSON or CSV for all.</p>")
    for sid, members in multi[:MAX_STORIES]:
        origin = next((a for a in members if a["is_origin"]), members[0])
        out.append(f"<section class='story' id='{escape(sid)}'><h2>{escape(origin.get('title') or sid)}</h2>"
                   f"<div class='muted'>{escape(sid)} · origin <a{_href(origin['url'])}>{escape(origin['url'])}</a>"
                   f" · {escape(origin['attribution'].get('license') or 'no licence stated')}</div>"
                   f"<div class='figs'>{lineage_svg(members)}{timeline_svg(members)}</div>"
                   "<table><tr><th>site</th><th>published</th><th>verdict</th><th>why</th><th>copyright</th>"
                   "<th>licence</th><th>conflicts</th></tr>")
        for a in sorted(members, key=lambda a: (not a["is_origin"], a.get("published") or "", a["url"])):
            out.append(f"<tr><td><a{_href(a['url'])}>{escape(a.get('site') or a['url'])}</a></td>"
                       f"<td>{escape((a.get('published') or '')[:16])}</td><td>{_badge(a['attribution']['verdict'])}</td>"
                       f"<td>{escape('; '.join(a.get('reasons') or []))}</td><td>{escape(a.get('copyright') or '')}</td>"
                       f"<td>{escape(a['attribution'].get('license') or '')}</td>"
                       f"<td>{escape('; '.join(a.get('licence_conflicts') or []))}</td></tr>")
        out.append("</table></section>")
    out.append(f"<p class='muted'>Generated by syndtrace on {datetime.now().date().isoformat()}.</p></main></body></html>")
    return "".join(out)
