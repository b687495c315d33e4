"""Rich renderings of library results: tables, trees, progress. No logic beyond layout."""

from __future__ import annotations

import csv
import json

from rich.console import Console, Group
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from dedupe.trace.verdicts import Verdict

VERDICT_STYLE = {Verdict.ORIGIN: "bold cyan", Verdict.CREDITED: "green", Verdict.PARTIAL: "yellow",
                 Verdict.UNCREDITED: "red", Verdict.MISATTRIBUTED: "magenta"}


def _verdict(v: str | None) -> Text:
    return Text(v or "-", style=VERDICT_STYLE.get(v or "", ""))


def _node_label(node: dict) -> Text:
    t = Text()
    if node.get("role") == "version":
        t.append(f"[version {node['version']}] ", style="bold magenta")
    elif (node.get("version") or 1) > 1:
        t.append(f"[v{node['version']}] ", style="magenta")
    t.append(node["site"] or "?", style="bold")
    t.append(f"  {node['published'] or 'no date'}")
    if node.get("lag"):
        t.append(f" ({node['lag']})", style="dim")
    if node.get("similarity") is not None:
        t.append(f"  sim {node['similarity']:.2f}", style="dim")
    t.append("  ")
    t.append_text(_verdict(node["verdict"]))
    if node.get("reasons") and node["verdict"] != Verdict.ORIGIN:
        t.append(": " + ", ".join(node["reasons"]), style="dim")
    t.append(f"\n{node['url']}", style="blue")
    if node.get("copyright"):
        t.append(f"\n{node['copyright']}", style="italic")
    if node.get("license"):
        t.append(f"\nlicence: {node['license']}", style="italic")
    for c in node.get("conflicts") or []:
        t.append(f"\n! {c}", style="red")
    return t


def lineage_tree(tree: dict) -> Tree:
    root = Tree(Text(f"story {tree['story']}: {tree['title'] or ''} ({tree['size']} pages)", style="bold"))

    def add(parent: Tree, node: dict) -> None:
        branch = parent.add(_node_label(node))
        for child in node["children"]:
            add(branch, child)

    add(root, tree["origin"])
    if len(tree.get("versions") or []) > 1:
        branch = root.add(Text("versions of the running file", style="bold magenta"))
        for v in tree["versions"]:
            branch.add(_version_label(v))
    for key, title in (("contains", "holds pieces of"), ("contained_in", "quoted or listed by")):
        if tree.get(key):
            branch = root.add(Text(title, style="bold"))
            for other in tree[key]:
                branch.add(Text(f"story {other['story']}: {other['title'] or ''} ({len(other['via'])} link(s))"))
    return root


def _version_label(v: dict) -> Text:
    t = Text(f"version {v['version']}: {v['site'] or '?'}  {v['published'] or 'no date'}  "
             f"({len(v['pages'])} page(s))", style="magenta")
    counts = (v.get("changes") or {}).get("counts")
    if v.get("updates") and counts:
        t.append(f"  updates version {v['updates']}: rewrote {counts['rewritten']}, added {counts['added']}, "
                 f"dropped {counts['dropped']} paragraph(s)", style="dim")
    for old, new in (v.get("changes") or {}).get("rewritten", [])[:2]:
        t.append(f"\n  - {old}\n  + {new}", style="dim")
    t.append(f"\n{v['url']}", style="blue")
    return t


def crawl_summary(crawl, grouping) -> Text:
    text = (f"crawl run {crawl.run_id}: {crawl.pages_fetched} pages fetched ({crawl.new} new, {crawl.changed} changed, "
            f"{crawl.unchanged} unchanged, {crawl.errors} errors) in {crawl.seconds:.1f} s; "
            f"{grouping.stories} stories, {grouping.stories_with_copies} with copies")
    if crawl.by_worker:
        text += "\npages by worker: " + ", ".join(f"{w} {n} ({n / max(crawl.pages_fetched, 1):.0%})"
                                                 for w, n in crawl.by_worker.items())
    return Text(text)


def group_report(report) -> Group:
    t = Table(title="seconds per stage")
    t.add_column("stage")
    t.add_column("seconds", justify="right")
    for stage, secs in report.timings.items():
        t.add_row(stage, f"{secs:.3f}")
    return Group(Text(f"rebuild: {report.articles} articles, {report.stories} stories "
                      f"({report.stories_with_copies} with copies), {report.edges_new} copy edges"), t)


def stories_table(rows: list[dict]) -> Table:
    t = Table(title=f"{len(rows)} stories")
    for col in ("story", "origin", "copies", "sites", "first", "last", "uncredited", "title"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["story"], r["origin_site"] or "", str(r["copies"]), str(r["sites"]), (r["first"] or "")[:10],
                  (r["last"] or "")[:10], str(r["uncredited"]), escape((r["title"] or "")[:70]))
    return t


def audit_table(rows: list[dict]) -> Table:
    t = Table(title=f"{len(rows)} copies")
    for col in ("site", "verdict", "credits", "links", "byline", "licence", "why", "url"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["site"], _verdict(r["verdict"]), "yes" if r["credits_origin"] else "no",
                  "yes" if r["links_to_origin"] else "no", "kept" if r["author_kept"] else "changed",
                  r["license"] or "", escape("; ".join(r["reasons"] + r["conflicts"])), r["url"])
    return t


def write_csv(stream, rows: list[dict]) -> None:
    if not rows:
        return
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
    writer.writeheader()
    for r in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in r.items()})


def status(info: dict) -> Group:
    t = Table(title=f"{info['db']} (schema {info['schema_version']})")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for k, v in info["counts"].items():
        t.add_row(k, str(v))
    runs = Table(title="last runs")
    for col in ("id", "kind", "started", "ended", "status", "fetched", "new", "changed", "unchanged", "errors"):
        runs.add_column(col)
    for r in info["runs"]:
        runs.add_row(str(r["id"]), r["kind"], r["started"] or "", r["ended"] or "", r["status"] or "",
                     *(str(r[k] or 0) for k in ("pages_fetched", "new", "changed", "unchanged", "errors")))
    return Group(t, runs)


def search_table(rows: list[dict]) -> Table:
    t = Table(title=f"{len(rows)} matches")
    for col in ("published", "site", "title", "story", "url"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row((r["published"] or "")[:10], r["site"], escape(r["title"] or ""), r["story"] or "", r["url"])
    return t


def diff(result: dict) -> Group:
    parts = [Text(f"{result['b']} vs {result['a']}: {result['kept']} passages kept, "
                  f"{len(result['added'])} added, {len(result['removed'])} removed", style="bold")]
    for p in result["added"]:
        parts.append(Text("+ " + p, style="green"))
    for p in result["removed"]:
        parts.append(Text("- " + p, style="red"))
    return Group(*parts)


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


def sites_table(rows: list[dict]) -> Table:
    t = Table(title=f"{len(rows)} watched sites")
    for col in ("url", "feed", "max pages", "delay", "added"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["url"], r["feed"] or "", str(r["max_pages"] or ""), "" if r["delay"] is None else str(r["delay"]),
                  r["added"] or "")
    return t
