"""A self-contained HTML report: every story with copies, collapsed, each with its lineage graph, its spread
timeline (lag from the origin) and its pages' verdicts; a search box and filters by verdict and site; a
colour legend that says what each verdict means. One story (``story``): a page to share, opened.

No network: styles and the small filtering script are inline, and the report reads as a plain page
without the script. Every scraped string passes through ``cli.present.escape.for_html``; links are made
only of http(s) URLs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from cli.present.escape import for_html
from dedupe.trace.members import parse_when
from dedupe.trace.verdicts import COPY_VERDICTS, Verdict

COLOURS = {Verdict.ORIGIN: "#1f6feb", Verdict.CREDITED: "#2da44e", Verdict.PARTIAL: "#bf8700",
           Verdict.UNCREDITED: "#cf222e", Verdict.MISATTRIBUTED: "#8250df"}
UNKNOWN_COLOUR = "#57606a"
MAX_STORIES = 5000   # stories with copies in one report; JSON and CSV exports hold every one

CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f8fa;color:#1f2328}
header{background:#24292f;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
main{max-width:1180px;margin:0 auto;padding:16px 28px}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:6px 0 14px}.card{background:#fff;border:1px solid #d0d7de;
border-radius:8px;padding:8px 14px;min-width:110px}.card b{display:block;font-size:21px}
.legend{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:6px 18px;font-size:13px;
margin:0 0 12px}td.d{white-space:nowrap}
.bar{position:sticky;top:0;z-index:2;background:#f6f8fa;padding:8px 0;display:flex;gap:8px;flex-wrap:wrap;
align-items:center;border-bottom:1px solid #d0d7de}.bar input,.bar select,.bar button{font:inherit;padding:4px 8px}
.bar input{flex:1;min-width:220px}
details.story{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:8px 0}
details.story>summary{cursor:pointer;padding:8px 14px;list-style-position:outside}
details.story[open]>summary{border-bottom:1px solid #d8dee4}
.sb{padding:10px 14px}.t{font-weight:600}.muted{color:#656d76;font-size:13px}
.v{display:inline-block;padding:0 7px;border-radius:10px;color:#fff;font-size:12px;margin-left:3px}
.gone{background:#fff1f0;color:#cf222e;border:1px solid #cf222e}
.figs{display:flex;gap:14px;flex-wrap:wrap;margin:8px 0}svg{background:#fbfcfd;border:1px solid #eaeef2;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #d8dee4;padding:5px 7px;text-align:left;vertical-align:top}th{background:#f0f3f6}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
svg text{font-size:11px}svg.lineage text{font-size:12px;fill:#fff}svg.lineage rect{width:180px;height:26px;rx:6px}
svg.lineage line{stroke:#8c959f;marker-end:url(#arr)}svg .gone{stroke:#cf222e;stroke-width:2px;stroke-dasharray:4 3}
svg.timeline text.l{text-anchor:end}svg.timeline line{stroke-dasharray:2 3}svg .axis{stroke:#57606a;stroke-dasharray:none}
svg .note{fill:#656d76}
"""
CSS += "".join(f".c-{v.value}{{background:{c};fill:{c};stroke:{c}}}" for v, c in COLOURS.items())
# one arrow head for every lineage graph of the page
MARKER = ('<svg width="0" height="0" style="position:absolute"><defs><marker id="arr" markerWidth="8" markerHeight="8" '
          'refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#8c959f"/></marker></defs></svg>')

# filters by text, verdict and site; the state lives in the address (#q=…&verdict=…&site=…) so a filtered view
# can be shared; #st-… opens that story
SCRIPT = """
(function(){
var q=document.getElementById('q'),v=document.getElementById('verdict'),s=document.getElementById('site'),
 n=document.getElementById('shown'),all=[].slice.call(document.querySelectorAll('details.story'));
all.forEach(function(d){d._t=d.textContent.toLowerCase()});
function state(){var p=new URLSearchParams(location.hash.slice(1));
 if(p.has('q'))q.value=p.get('q');if(p.has('verdict'))v.value=p.get('verdict');if(p.has('site'))s.value=p.get('site');}
function apply(save){var t=q.value.trim().toLowerCase(),vv=v.value,ss=s.value,k=0;
 all.forEach(function(d){var ok=(!t||d._t.indexOf(t)>=0)&&(!vv||(' '+d.dataset.v+' ').indexOf(' '+vv+' ')>=0)
  &&(!ss||(' '+d.dataset.s+' ').indexOf(' '+ss+' ')>=0);d.hidden=!ok;if(ok)k++;});
 n.textContent=k+' of '+all.length+' stories';
 if(save){var p=new URLSearchParams();if(t)p.set('q',q.value.trim());if(vv)p.set('verdict',vv);if(ss)p.set('site',ss);
  history.replaceState(null,'',p.toString()?'#'+p.toString():location.pathname);}}
if(/^#st-/.test(location.hash)){var d=document.getElementById(location.hash.slice(1));if(d)d.open=true;}else state();
q.addEventListener('input',function(){apply(true)});v.addEventListener('change',function(){apply(true)});
s.addEventListener('change',function(){apply(true)});
document.getElementById('open').onclick=function(){all.forEach(function(d){if(!d.hidden)d.open=true})};
document.getElementById('close').onclick=function(){all.forEach(function(d){d.open=false})};
apply(false);document.documentElement.dataset.ready='1';})();
"""


def _href(url: str | None) -> str:
    """Only http(s) links become hrefs."""
    if url and url.lower().startswith(("http://", "https://")):
        return f' href="{for_html(url)}"'
    return ""


def _badge(verdict: str | None) -> str:
    return f'<span class="v c-{for_html(verdict or "none")}">{for_html(verdict or "-")}</span>'


def _verdict(a: dict) -> str:
    return a["attribution"]["verdict"]


def _class(a: dict) -> str:
    return f"c-{_verdict(a) or 'none'}"


def _lag(hours: float) -> str:
    sign = "-" if hours < 0 else "+"
    return f"{sign}{abs(hours) / 24:.1f} d" if abs(hours) >= 48 else f"{sign}{abs(hours):.0f} h"


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


def _labels(arts: list[dict]) -> dict[str, str]:
    """Each page's label: its site, numbered when the site has several pages in the story."""
    per_site = Counter(a.get("site") for a in arts)
    seen: Counter = Counter()
    out = {}
    for a in sorted(arts, key=lambda a: (a.get("published") or "", a["url"])):
        site = a.get("site") or "?"
        seen[site] += 1
        out[a["url"]] = f"{site} ({seen[site]})" if per_site[a.get("site")] > 1 else site
    return out


def lineage_svg(arts: list[dict], labels: dict[str, str]) -> str:
    """Origin at the left, copies by generation, arrows parent → copy, nodes coloured by verdict (a gone page
    outlined in red). Sizes and colours come from the page's CSS, to keep 2,000 stories' figures small."""
    depth = _generations(arts)
    columns: dict[int, list[dict]] = defaultdict(list)
    for a in sorted(arts, key=lambda a: (a.get("published") or "", a["url"])):
        columns[depth[a["url"]]].append(a)
    col_w, row_h = 210, 40
    width, height = 30 + col_w * (max(columns) + 1), 20 + row_h * max(len(c) for c in columns.values())
    pos = {a["url"]: (12 + d * col_w, 12 + i * row_h) for d, col in columns.items() for i, a in enumerate(col)}
    parts = [f'<svg class="lineage" role="img" aria-label="lineage graph" width="{width}" height="{height}">']
    for a in arts:
        if a.get("parent") in pos:
            (x1, y1), (x2, y2) = pos[a["parent"]], pos[a["url"]]
            parts.append(f'<line x1="{x1 + 180}" y1="{y1 + 13}" x2="{x2 - 4}" y2="{y2 + 13}"/>')
    for a in arts:
        x, y = pos[a["url"]]
        gone = " gone" if a.get("gone_since") else ""
        parts.append(f'<rect x="{x}" y="{y}" class="{_class(a)}{gone}"/><text x="{x + 8}" y="{y + 17}">'
                     f'{for_html(labels[a["url"]][:26])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def timeline_svg(arts: list[dict], labels: dict[str, str]) -> tuple[str, list[dict]]:
    """Publication times on one axis, each page's lag measured from the origin's date; returns the figure and
    the undated pages (left out of it, and named under it)."""
    dated = sorted(((w, a) for a in arts if (w := parse_when(a.get("published"))) is not None),
                   key=lambda t: (t[0], t[1]["url"]))
    undated = [a for a in arts if parse_when(a.get("published")) is None]
    width, height, pad = 600, 50 + 16 * len(dated), 220
    parts = [f'<svg class="timeline" role="img" aria-label="spread timeline" width="{width}" height="{height}">']
    if not dated:
        parts.append('<text x="20" y="30" class="note">no page of this story is dated</text></svg>')
        return "".join(parts), undated
    origin = next((w for w, a in dated if a["is_origin"]), dated[0][0])
    t0, t1 = dated[0][0], dated[-1][0]
    span = max((t1 - t0).total_seconds(), 3600.0)
    axis_y = height - 22
    parts.append(f'<line x1="{pad}" y1="{axis_y}" x2="{width - 20}" y2="{axis_y}" class="axis"/>'
                 f'<text x="{pad}" y="{axis_y + 15}" class="note">{t0.date().isoformat()}</text>'
                 f'<text x="{width - 20}" y="{axis_y + 15}" class="note l">{t1.date().isoformat()}</text>')
    for i, (when, a) in enumerate(dated):
        x, y = round(pad + (width - 20 - pad) * (when - t0).total_seconds() / span), 14 + i * 16
        lag = "origin" if a["is_origin"] else _lag((when - origin).total_seconds() / 3600)
        parts.append(f'<text x="{pad - 8}" y="{y + 4}" class="l">{for_html(labels[a["url"]][:20])} {lag}</text>'
                     f'<line x1="{x}" y1="{y + 5}" x2="{x}" y2="{axis_y}" class="{_class(a)}"/>'
                     f'<circle cx="{x}" cy="{y}" r="5" class="{_class(a)}"/>')
    parts.append("</svg>")
    return "".join(parts), undated


def _member_rows(members: list[dict], labels: dict[str, str]) -> str:
    rows = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in ("page", "published", "verdict", "why", "copyright",
                                                               "license")) + "</tr>"]
    for a in sorted(members, key=lambda a: (not a["is_origin"], a.get("published") or "", a["url"])):
        why = "; ".join((a.get("reasons") or []) + (a.get("license_conflicts") or []))
        gone = f' <span class="v gone">gone since run {a["gone_since"]}</span>' if a.get("gone_since") else ""
        rows.append(f"<tr><td><a{_href(a['url'])}>{for_html(labels[a['url']])}</a>"
                    f"{gone}</td><td class=d>{for_html((a.get('published') or 'no date')[:16].replace('T', ' '))}</td><td>{_badge(_verdict(a))}"
                    f"</td><td>{for_html(why)}</td><td>{for_html(a.get('copyright') or '')}</td>"
                    f"<td>{for_html(a['attribution'].get('license') or '')}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def story_section(sid: str, members: list[dict], opened: bool = False) -> str:
    """One story: a summary line (title, origin, copies by verdict), and under it the figures and the pages."""
    origin = next((a for a in members if a["is_origin"]), members[0])
    labels = _labels(members)
    verdicts = Counter(_verdict(a) for a in members if not a["is_origin"])
    sites = sorted({a.get("site") or "" for a in members})
    gone = sum(1 for a in members if a.get("gone_since"))
    chips = "".join(f'<span class="v c-{v.value}" title="{v.value}">{verdicts[v]} {v.value}</span>'
                    for v in COPY_VERDICTS if verdicts[v])
    timeline, undated = timeline_svg(members, labels)
    note = (f'<p class="muted">Not on the timeline (no date): {for_html(", ".join(labels[a["url"]] for a in undated))}'
            "</p>") if undated else ""
    return (f'<details class="story" id="{for_html(sid)}"{" open" if opened else ""} data-v="{" ".join(v for v in verdicts if v)}" '
            f'data-s="{for_html(" ".join(sites))}"><summary><span class="t">'
            f'{for_html(origin.get("title") or sid)}</span> <span class="muted">{for_html(origin.get("site") or "")} · '
            f'{for_html((origin.get("published") or "no date")[:10])} · {len(members) - 1} copies</span> {chips}'
            + (f' <span class="v gone">{gone} gone</span>' if gone else "") + "</summary>"
            f'<div class="sb"><div class="muted">{for_html(sid)} · origin <a{_href(origin["url"])}>'
            f'{for_html(origin["url"])}</a> · {for_html(origin["attribution"].get("license") or "no license stated")}'
            f'</div><div class="figs">{lineage_svg(members, labels)}{timeline}</div>{note}'
            f"{_member_rows(members, labels)}</div></details>")


def _legend() -> str:
    items = "".join(f'<span>{_badge(v.value)} {for_html(v.meaning)}</span>' for v in Verdict.in_decision_order())
    return (f'<div class="legend">{items}<span><span class="v gone">gone since run N</span> the page answered 404 '
            "or 410 since that run; its capture is kept as evidence</span></div>")


def _controls(stories: dict[str, list[dict]]) -> str:
    sites = sorted({a.get("site") or "" for members in stories.values() for a in members} - {""})
    verdicts = "".join(f'<option value="{v.value}">{v.value}</option>' for v in COPY_VERDICTS)
    options = "".join(f'<option value="{for_html(s)}">{for_html(s)}</option>' for s in sites)
    return ('<div class="bar"><input id="q" type="search" placeholder="Search titles, sites, story ids, reasons" '
            'aria-label="search"><select id="verdict" aria-label="verdict"><option value="">any verdict</option>'
            f'{verdicts}</select><select id="site" aria-label="site"><option value="">any site</option>{options}'
            '</select><button id="open" type="button">open all</button><button id="close" type="button">close all'
            '</button><span id="shown" class="muted"></span></div>')


def render_html(obj: dict, story: str | None = None) -> str:
    """The report for an export object (``cli.present.tables.export_object``); with ``story``, that story alone."""
    arts = [a for a in obj["articles"] if a.get("story")]
    stories: dict[str, list[dict]] = defaultdict(list)
    for a in arts:
        stories[a["story"]].append(a)
    shown = sorted(((sid, m) for sid, m in stories.items() if len(m) > 1 or sid == story),
                   key=lambda t: (-len(t[1]), t[0]))
    verdicts = Counter(_verdict(a) for a in arts)
    title = "syndtrace report"
    if story and shown:
        title = f"syndtrace: {next((a.get('title') for a in shown[0][1] if a['is_origin']), None) or story}"
    head = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{for_html(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{CSS}</style></head>")
    intro = "Where stories spread, who copied whom, and who credited the original"
    out = [head, f"<body>{MARKER}<header><h1>{for_html(title)}</h1><div>{intro}</div></header><main><div class='cards'>"]
    cards = [("pages", len(arts))]
    if not story:
        cards += [("stories", len(stories)), ("stories with copies", sum(len(m) > 1 for m in stories.values()))]
    for label, value in cards + [(v.value, verdicts.get(v, 0)) for v in COPY_VERDICTS]:
        out.append(f"<div class='card'><b>{value}</b>{for_html(label)}</div>")
    out.append("</div>" + _legend())
    if not story:
        out.append(_controls(dict(shown)))
    out.extend(story_section(sid, members, opened=bool(story)) for sid, members in shown[:MAX_STORIES])
    if len(shown) > MAX_STORIES:
        out.append(f"<p class='muted'>The {MAX_STORIES} most widely copied of {len(shown)} stories with copies; "
                   "export JSON or CSV for all.</p>")
    out.append(f"<p class='muted'>Generated by syndtrace on {datetime.now().date().isoformat()}. Open a story to see "
               "its lineage (origin at the left, arrows from the copy each page was taken from), its timeline (lag "
               "from the origin) and each page's verdict.</p></main>")
    if not story:
        out.append(f"<script>{SCRIPT}</script>")
    out.append("</body></html>")
    return "".join(out)
