"""What a person reads: the reports laid out for a terminal of ``width`` columns, or for a pipe (``width``
None: one line per row, nothing cut). Every scraped string is made terminal-safe by ``cli.present.layout``.
No logic beyond layout."""

from __future__ import annotations

from collections import Counter
from typing import Self

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from cli.present.escape import for_terminal
from cli.present.layout import Column, Line, forest, table, tree
from crawler.progress import FAILED, WORDS, in_words
from crawler.storage.store import SNIPPET_MARKS
from dedupe.trace.verdicts import Verdict

VERDICT_STYLE = {Verdict.ORIGIN: "bold cyan", Verdict.CREDITED: "green", Verdict.PARTIAL: "yellow",
                 Verdict.UNCREDITED: "red", Verdict.MISATTRIBUTED: "magenta"}


def verdict_style(value) -> str:
    return VERDICT_STYLE.get(value or "", "")


def _day(value: str | None) -> str:
    return (value or "")[:10]


def _node_lines(node: dict) -> list[Line]:
    head = Text()
    if node.get("role") == "version":
        head.append(f"[version {node['version']}] ", style="bold magenta")
    elif (node.get("version") or 1) > 1:
        head.append(f"[v{node['version']}] ", style="magenta")
    head.append(for_terminal(node["site"] or "?"), style="bold")
    head.append(f"  {for_terminal(node['published'] or 'no date')}")
    if node.get("lag"):
        head.append(f" ({node['lag']})", style="dim")
    if node.get("similarity") is not None:
        head.append(f"  sim {node['similarity']:.2f}", style="dim")
    head.append("  ")
    head.append(node["verdict"] or "-", style=verdict_style(node["verdict"]))
    if node.get("reasons") and node["verdict"] != Verdict.ORIGIN:
        head.append(": " + for_terminal(", ".join(node["reasons"])), style="dim")
    if node.get("gone_since"):
        head.append(f"  gone since run {node['gone_since']}", style="bold red")
    lines = [Line(head), Line(node["url"], "blue", keep=True)]
    if node.get("copyright"):
        lines.append(Line(node["copyright"], "italic"))
    if node.get("license"):
        lines.append(Line(f"license: {node['license']}", "italic"))
    lines += [Line(f"! {c}", "red") for c in node.get("license_conflicts") or []]
    return lines


def lineage_tree(doc: dict, width: int | None) -> Text:
    def convert(node: dict) -> dict:
        return {"lines": _node_lines(node), "children": [convert(c) for c in node["children"]]}

    title = Line(f"story {doc['story']}: {doc['title'] or ''} ({doc['size']} pages)", "bold")
    out = tree(title, convert(doc["origin"]), width)
    sections = []
    if len(doc.get("versions") or []) > 1:
        sections.append((Line("versions of the running file", "bold magenta"),
                         [_version_lines(v) for v in doc["versions"]]))
    for key, heading in (("contains", "holds pieces of"), ("contained_in", "quoted or listed by")):
        if doc.get(key):
            sections.append((Line(heading, "bold"), [[Line(f"story {other['story']}: {other['title'] or ''} "
                                                          f"({len(other['via'])} link(s))")] for other in doc[key]]))
    for heading, items in sections:
        out.append("\n\n")
        out.append_text(forest(heading, [{"lines": i, "children": []} for i in items], width))
    return out


def _version_lines(v: dict) -> list[Line]:
    head = Text(f"version {v['version']}: {for_terminal(v['site'] or '?')}  {v['published'] or 'no date'}  "
                f"({len(v['pages'])} page(s))", style="magenta")
    counts = (v.get("changes") or {}).get("counts")
    if v.get("updates") and counts:
        head.append(f"  updates version {v['updates']}: rewrote {counts['rewritten']}, added {counts['added']}, "
                    f"dropped {counts['dropped']} paragraph(s)", style="dim")
    lines = [Line(head)]
    for old, new in (v.get("changes") or {}).get("rewritten", [])[:2]:
        lines += [Line(f"- {old}", "dim"), Line(f"+ {new}", "dim")]
    return lines + [Line(v["url"], "blue", keep=True)]


def lineage_rows(doc: dict) -> list[dict]:
    """The tree as one row per page (depth first), for CSV and JSON lines."""
    rows: list[dict] = []

    def walk(node: dict, depth: int, parent: str | None) -> None:
        rows.append({"story": doc["story"], "depth": depth, "parent": parent,
                     **{k: v for k, v in node.items() if k != "children"}})
        for child in node["children"]:
            walk(child, depth + 1, node["url"])

    walk(doc["origin"], 0, None)
    return rows


STORY_COLUMNS = [Column("story", "story"), Column("origin_site", "origin"), Column("first", "first"),
                 Column("copies", "copies", right=True), Column("uncredited", "uncred.", right=True),
                 Column("misattributed", "misattr.", right=True), Column("title", "title", "shrink", min_width=16)]
def stories(rows: list[dict], width: int | None) -> Text:
    return table([{**r, "first": _day(r["first"])} for r in rows], STORY_COLUMNS, width)


NEW_KINDS = (("new story", "New stories", "+ ", "green"), ("new copies", "New copies of earlier stories", "+ ", "green"),
             ("copies gone", "Copies that answer 404 or 410 since this run", "- ", "red"))


def whats_new(rows: list[dict], width: int | None) -> Text:
    """``stories --new``: new stories, new copies of earlier stories and copies gone, each story with its
    pages concerned."""
    out = Text()
    for kind, heading, sign, style in NEW_KINDS:
        part = [r for r in rows if r["what"] == kind]
        if not part:
            continue
        out.append(f"{heading} ({len(part)})\n", style="bold")
        for r in part:
            line = Text(r["story"], style="bold")
            line.append(f"  {r['origin_site'] or '?'}  ")
            line.append(for_terminal(r["title"] or ""))
            if width is not None and line.cell_len > width:
                line.truncate(width - 1)
                line.append("…")
            out.append_text(line)
            out.append("\n")
            for url in r["urls"]:
                out.append(f"    {sign}{url}\n", style=style)
        out.append("\n")
    out.rstrip()
    return out or Text("nothing new in the last run")


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def crawl_summary(crawl, grouping, width: int | None = None) -> Text:
    """What a crawl did, in words: pages by state, what could not be fetched and why, start URLs that failed,
    and the stories after grouping."""
    lines = [f"crawl run {crawl.run_id}: {_counted(crawl.pages_fetched, 'page')} fetched in {crawl.seconds:.1f} s"
             + (f" from {_counted(crawl.sites, 'site')}" if crawl.sites else "")
             + f" ({crawl.new} new, {crawl.changed} changed, {crawl.unchanged} unchanged)"]
    failed = in_words(crawl.outcomes, (*FAILED, "robots")) if crawl.outcomes else (
        f"{crawl.errors} errors" if crawl.errors else "")
    if failed:
        lines.append(f"not fetched: {failed}; 'syndtrace status --errors' lists them")
    if crawl.failed_seeds:
        lines.append("start URLs that failed: " + ", ".join(f"{u} ({WORDS.get(why, (why,))[0]})"
                                                            for u, why in crawl.failed_seeds))
    if grouping is not None:
        lines.append(f"{grouping.stories} stories, {grouping.stories_with_copies} with copies; "
                     "'syndtrace stories --new' shows what is new")
    if crawl.by_worker:
        lines.append("pages by worker: " + ", ".join(f"{w} {n} ({n / max(crawl.pages_fetched, 1):.0%})"
                                                    for w, n in crawl.by_worker.items()))
    out = Text()
    for n, line in enumerate(lines):
        out.append_text(Text("\n").join(Line(line, "bold" if n == 0 else "").pieces(width)))
        out.append("\n")
    out.rstrip()
    return out


class CrawlDisplay:
    """A crawl as it runs: on a terminal, a live view on stderr (pages fetched, rate, queue, in flight,
    failures by kind, the busiest sites) with the crawl's log lines above it; elsewhere only the log lines.
    Each distinct log line is shown once and its repeats counted at the end. Called from the thread that
    reads the crawl's progress (``crawler.progress.read_events``)."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console = console
        self.live = Live(console=console, refresh_per_second=4, transient=True) \
            if console.is_terminal and not quiet else None
        self.repeats: Counter[str] = Counter()

    def __enter__(self) -> Self:
        if self.live is not None:
            self.live.update(Text("starting the crawl…", style="dim"))
            self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.stop()
        for message, n in self.repeats.items():
            if n > 1:
                self.console.print(f"(repeated {n - 1} more times) {message}", markup=False, style="dim")

    def __call__(self, event: dict) -> None:
        if event.get("kind") == "log":
            message = for_terminal(event.get("message", ""))
            self.repeats[message] += 1
            if self.repeats[message] == 1:   # errors and warnings for people (Scrapy's log: -v): shown even when quiet
                self.console.print(message, markup=False, style="yellow")
        elif self.live is not None:
            self.live.update(live_view(event))
            if event.get("kind") == "final":   # grouping's progress bars come next: one live display at a time
                self.live.stop()
                self.live = None


def live_view(event: dict) -> Text:
    out = Text()
    out.append(f"crawling {event.get('site_count', 0)} sites", style="bold")
    out.append(f"  {_span(event.get('seconds', 0))}\n", style="dim")
    out.append(f"{event.get('fetched', 0)} pages fetched", style="bold green")
    out.append(f"  {event.get('rate', 0):.1f}/s  ·  {event.get('queued', 0)} queued  ·  "
               f"{event.get('in_flight', 0)} in flight\n")
    failed = in_words(event.get("outcomes", {}), (*FAILED, "robots"))
    out.append((failed or "no failures") + "\n", style="yellow" if failed else "dim")
    sites = event.get("sites", {})
    for site, counts in sites.items():
        out.append(f"  {for_terminal(site)[:40]:40}  {counts.get('fetched', 0):>6} pages")
        if counts.get("failed"):
            out.append(f"  {counts['failed']} failed", style="yellow")
        out.append("\n")
    more = event.get("site_count", 0) - len(sites)
    if more > 0:
        out.append(f"  and {more} more sites\n", style="dim")
    out.rstrip()
    return out


def _span(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


AUDIT_COLUMNS = [Column("story", "story", repeat=False), Column("site", "site"),
                 Column("verdict", "verdict", style=verdict_style), Column("origin_license", "license checked"),
                 Column("title", "title", "shrink", min_width=14, repeat=False), Column("why", "why", "wrap", min_width=24)]
AUDIT_PIPED = AUDIT_COLUMNS + [Column("url", "url")]
BY_SITE_COLUMNS = [Column("site", "site"), Column("copies", "copies", right=True),
                   Column("credited", "credited", right=True, style=verdict_style(Verdict.CREDITED)),
                   Column("partial", "partial", right=True, style=verdict_style(Verdict.PARTIAL)),
                   Column("uncredited", "uncred.", right=True, style=verdict_style(Verdict.UNCREDITED)),
                   Column("misattributed", "misattr.", right=True, style=verdict_style(Verdict.MISATTRIBUTED)),
                   Column("origins", "origins", right=True)]


def audit(rows: list[dict], width: int | None) -> Text:
    """Each copy: its story, site, verdict, the licence it was checked against, the story's title, and why
    (the reasons and any licence conflicts). URLs only when piped or wide: ``--json`` has everything."""
    cells = [{**r, "origin_license": r["origin_license"] or "none stated",
              "why": "; ".join(r["reasons"] + r["license_conflicts"]) + (
                  f"; gone since run {r['gone_since']}" if r.get("gone_since") else "")} for r in rows]
    wide = width is None or width >= 160
    return table(cells, AUDIT_PIPED if wide else AUDIT_COLUMNS, width)


def audit_by_site(rows: list[dict], width: int | None) -> Text:
    """One row per copying site: its copies by verdict, and how many sites' originals it copied (``--json`` names
    them, and counts the stories)."""
    return table([{**r, "origins": len(r["origin_sites"])} for r in rows], BY_SITE_COLUMNS, width)


def search(rows: list[dict], width: int | None) -> Text:
    """Each hit: date, site, story and title on one line (the title cut to the width), its URL whole, and the
    passage that matched with the words found in bold."""
    out = Text()
    for r in rows:
        head = Text(f"{_day(r['published']) or 'no date':10}  ", style="dim")
        head.append(for_terminal(r["site"] or ""), style="bold")
        head.append(f"  {r['story'] or 'no story'}  ", style="dim")
        head.append(for_terminal(r["title"] or ""))
        if width is not None and head.cell_len > width:
            head.truncate(width - 1)
            head.append("…")
        out.append_text(head)
        out.append(f"\n    {r['url']}\n", style="blue")
        snippet = Text()
        for n, piece in enumerate(for_terminal(r["snippet"] or "").split(SNIPPET_MARKS[0])):
            found, _, rest = piece.partition(SNIPPET_MARKS[1]) if n else ("", "", piece)
            snippet.append(found, style="bold yellow")
            snippet.append(rest)
        for line in Line(snippet).pieces(None if width is None else width - 4):
            out.append("    ")
            out.append_text(line)
            out.append("\n")
    out.rstrip()
    return out or Text("no matches")


RUN_COLUMNS = [Column("id", "run", right=True), Column("kind", "kind"), Column("started", "started"),
               Column("status", "status"), Column("pages_fetched", "fetched", right=True),
               Column("new", "new", right=True), Column("errors", "errors", right=True),
               Column("stories_new", "new in stories", right=True)]


def status(info: dict, width: int | None) -> Text:
    out = Text(f"{for_terminal(info['db'])}  (schema {info['schema_version']})\n", style="bold")
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in info["counts"].items())
    out.append_text(Text("\n").join(Line(counts).pieces(width)))
    out.append("\n\n")
    runs = [{**r, "started": (r["started"] or "")[:16].replace("T", " ")} for r in info["runs"]]
    out.append_text(table(runs, RUN_COLUMNS, width) if runs else Text("no runs yet"))
    return out


ERROR_COLUMNS = [Column("run", "run", right=True), Column("status", "status", right=True), Column("why", "why"),
                 Column("url", "url")]   # whole, even past the edge: a URL cut in two cannot be copied


def errors(rows: list[dict], width: int | None) -> Text:
    return table(rows, ERROR_COLUMNS, width) if rows else Text("no failed pages")


SITE_COLUMNS = [Column("url", "url"), Column("feed", "feed"), Column("max_pages", "max pages", right=True),
                Column("delay", "delay", right=True), Column("added", "added")]


def sites(rows: list[dict], width: int | None) -> Text:
    return table([{**r, "added": _day(r["added"])} for r in rows], SITE_COLUMNS, width) if rows else \
        Text("the watch list is empty: syndtrace sites add URL")


def verdicts(rows: list[dict], width: int | None) -> Text:
    return table(rows, [Column("verdict", "verdict", style=verdict_style), Column("meaning", "meaning", "wrap")], width)


def diff(result: dict, width: int | None) -> Text:
    out = Text(f"{result['b']}\nvs {result['a']}\n{result['kept']} passages kept, {len(result['added'])} added, "
               f"{len(result['removed'])} removed\n", style="bold")
    for sign, key, style in (("+", "added", "green"), ("-", "removed", "red")):
        for p in result[key]:
            out.append_text(Text("\n").join(Line(f"{sign} {p}", style).pieces(width)))
            out.append("\n")
    out.rstrip()
    return out


def group_report(report, width: int | None) -> Text:
    out = Text(f"rebuild: {report.articles} articles, {report.stories} stories ({report.stories_with_copies} with "
               f"copies), {report.edges_new} copy edges\n")
    out.append_text(table([{"stage": k, "seconds": f"{v:.3f}"} for k, v in report.timings.items()],
                          [Column("stage", "stage"), Column("seconds", "seconds", right=True)], width))
    return out


def progress(console: Console, quiet: bool):
    """A progress callback (stage, done, total) drawing one rich bar per stage; a no-op when quiet."""
    if quiet or not console.is_terminal:
        return None
    bars: dict[str, tuple[Progress, int]] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for p, _ in bars.values():
                p.stop()
            p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                         console=console, transient=True)
            p.start()
            bars[stage] = (p, p.add_task(stage, total=total))
        p, task = bars[stage]
        p.update(task, completed=done, total=total)
        if done >= total:
            p.stop()

    return update
