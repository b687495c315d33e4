"""Read-side of the database: the export object, lineage trees, story and audit tables.

Everything a command prints or writes comes from these functions, so the terminal, JSON, CSV and HTML
views of one question always agree.
"""

from __future__ import annotations

from datetime import datetime

from crawler.errors import UserInputError
from crawler.page.urls import url_key
from crawler.storage.store import SNIPPET_MARKS, STORY_ORDER, Store, authors_of
from dedupe.normalise import paragraph_key
from dedupe.trace.members import parse_when
from dedupe.trace.verdicts import COPY_VERDICTS, Verdict


def export_object(store: Store, story: str | None = None) -> dict:
    """``{"articles": [...]}`` in the result format: every stored page, articles with their story (only the
    pages of ``story`` when given)."""
    members = {m["url"]: m for m in store.members(story)}
    gone = store.gone_pages()
    contained: dict[str, set[str]] = {}
    for link in store.contains():
        contained.setdefault(link["url"], set()).add(link["contained_story"])
    out = []
    for row in store.article_summaries():
        m = members.get(row["url"])
        if story and m is None:
            continue
        authors = authors_of(row)
        if row["page_type"] != "article" or m is None:
            # not in a story, but still what the page says it is, when and by whom
            out.append({"url": row["url"], "story": None, "page_type": row["page_type"], "title": row["title"],
                        "published": row["published"], "author": row["author"], "authors": authors})
            continue
        out.append({
            "url": row["url"], "story": m["story_id"], "is_origin": bool(m["is_origin"]), "parent": m["parent_url"],
            "published": row["published"], "author": row["author"], "authors": authors,
            "attribution": {
                "credits_origin": bool(m["credits_origin"]), "links_to_origin": bool(m["links_to_origin"]),
                "author_kept": bool(m["author_kept"]), "license": m["license"],
                "verdict": m["verdict"] or (Verdict.ORIGIN.value if m["is_origin"] else Verdict.UNCREDITED.value),
            },
            "title": row["title"], "site": row["site"], "modified": row["modified"], "canonical": row["canonical"],
            "similarity": m["similarity"], "containment": m["containment"], "signal": m["signal"],
            "evidence": m["evidence"], "reasons": m["reasons"], "copyright": m["copyright"],
            "license_conflicts": m["conflicts"], "credits_parent": bool(m["credits_parent"]),
            "gone_since": gone[row["url"]][1] if row["url"] in gone else None,
            "role": m["role"], "version": m["version"], "version_url": m["version_url"],
            "contains": sorted(contained.get(row["url"], ())),
        })
    return {"articles": out + twin_entries(store, out)}


def twin_entries(store: Store, articles: list[dict]) -> list[dict]:
    """Pages stored as byte-identical twins of an article (one page captured under two URLs of its site):
    each is reported with its twin's story, as a copy of it, so that every URL carrying a story is listed."""
    by_url = {a["url"]: a for a in articles if a["story"] is not None}
    out = []
    for source, target in sorted(store.twins().items()):
        twin = by_url.get(store.resolve_alias(target))
        if twin is not None:
            out.append({**twin, "url": source, "is_origin": False, "parent": twin["url"], "twin_of": twin["url"],
                        "signal": "byte-identical-twin"})
    return out


def find_story(store: Store, ref: str) -> str:
    """A story id from a story id or any URL of one of its pages (redirects followed)."""
    if store.story(ref):
        return ref
    try:
        key = store.resolve_alias(url_key(ref))
    except ValueError:
        key = ref
    sid = store.story_of(key)
    if sid is None:
        raise UserInputError(f"unknown URL or story: {ref}")
    return sid


def _lag(origin: datetime | None, when: datetime | None) -> str | None:
    if not origin or not when:
        return None
    hours = (when - origin).total_seconds() / 3600
    return f"+{hours / 24:.1f} d" if abs(hours) >= 48 else f"+{hours:.0f} h"


def story_tree(store: Store, ref: str) -> dict:
    """The lineage of one story as nested nodes, from the origin through every chain."""
    sid = find_story(store, ref)
    rows = store.members(sid)
    gone = store.gone_pages()
    by_url = {r["url"]: r for r in rows}
    origin = next((r for r in rows if r["is_origin"]), rows[0])
    origin_when = parse_when(origin["published"])
    children: dict[str, list[str]] = {}
    for r in rows:
        if r["url"] != origin["url"]:
            parent = r["parent_url"] if r["parent_url"] in by_url else origin["url"]
            children.setdefault(parent, []).append(r["url"])

    def node(url: str, seen: frozenset) -> dict:
        r = by_url[url]
        kids = sorted(children.get(url, []), key=lambda u: (by_url[u]["published"] or "", u))
        return {
            "url": url, "site": r["site"], "title": r["title"], "author": r["author"], "published": r["published"],
            "lag": _lag(origin_when, parse_when(r["published"])) if url != origin["url"] else None,
            "similarity": r["similarity"], "verdict": r["verdict"], "reasons": r["reasons"],
            "copyright": r["copyright"], "license": r["license"], "signal": r["signal"], "evidence": r["evidence"],
            "license_conflicts": r["conflicts"], "added": r["added"], "removed": r["removed"],
            "gone_since": gone[url][1] if url in gone else None,
            "role": r.get("role"), "version": r.get("version"),
            "children": [node(k, seen | {url}) for k in kids if k not in seen],
        }

    story = store.story(sid) or {}
    return {"story": sid, "title": story.get("title"), "size": len(rows), "origin": node(origin["url"], frozenset()),
            "versions": version_chain(rows), **contains_of(store, sid)}


def version_chain(rows: list[dict]) -> list[dict]:
    """The story's versions in order: the page that started each, the version it updates, what it changed,
    and the pages carrying it."""
    starts = {r["version_url"]: r for r in rows if r.get("version_url") == r["url"]}
    out = []
    for number in sorted({r["version"] or 1 for r in rows}):
        carriers = sorted(r["url"] for r in rows if (r["version"] or 1) == number)
        first = next((r for u, r in starts.items() if r["version"] == number), None)
        changes = (first or {}).get("changes") or {}
        out.append({"version": number, "url": first["url"] if first else carriers[0],
                    "site": first["site"] if first else None, "published": first["published"] if first else None,
                    "updates": changes.get("updates"), "changes": changes, "pages": carriers})
    return out


def contains_of(store: Store, sid: str) -> dict:
    """Stories this story's pages hold pieces of, and stories holding pieces of it (aggregates, quotes)."""
    held: dict[str, dict] = {}
    holders: dict[str, dict] = {}
    for row in store.contains(sid):
        if row["story_id"] == sid:
            entry = held.setdefault(row["contained_story"], {"story": row["contained_story"],
                                                             "title": row["contained_title"], "via": []})
            entry["via"].append([row["url"], row["contained_url"]])
        else:
            entry = holders.setdefault(row["story_id"], {"story": row["story_id"], "title": row["story_title"], "via": []})
            entry["via"].append([row["url"], row["contained_url"]])
    return {"contains": list(held.values()), "contained_in": list(holders.values())}


def stories_table(store: Store, since: str | None = None, site: str | None = None, min_copies: int = 0,
                  sort: str = "spread", new_in_run: int | None = None) -> list[dict]:
    """One row per story: origin, copies, sites, first and last dates, and its copies counted by verdict."""
    if sort not in STORY_ORDER:
        raise UserInputError(f"unknown sort {sort!r}: use spread or recent")
    counts = store.verdict_counts()
    rows = []
    for r in store.list_stories(since=since, site=site, min_copies=min_copies, sort=sort, new_in_run=new_in_run):
        verdicts = counts.get(r["id"], {})
        rows.append({"story": r["id"], "title": r["title"], "origin": r["origin_url"], "origin_site": r["origin_site"],
                     "copies": r["size"] - 1, "sites": r["sites"], "first": r["first_published"],
                     "last": r["last_published"], **{v.value: verdicts.get(v.value, 0) for v in COPY_VERDICTS}})
    return rows


def whats_new(store: Store, run_id: int, stories: list[dict]) -> list[dict]:
    """What a run changed among ``stories`` (rows of :func:`stories_table`): stories that are new, earlier
    stories with new copies, and stories whose copies answer 404 or 410 since the run; each with its URLs."""
    wanted = {r["story"]: r for r in stories}
    found: dict[tuple[str, str], list[str]] = {}
    for p in store.new_pages(run_id):
        if p["story_id"] in wanted:
            kind = "new copies" if p["story_seen_before"] else "new story"
            found.setdefault((p["story_id"], kind), []).append(p["url"])
    for url, (story, since) in store.gone_pages().items():
        if since == run_id and story in wanted:
            found.setdefault((story, "copies gone"), []).append(url)
    keep = ("story", "title", "origin", "origin_site", "copies")
    return [{"story": sid, "what": kind, **{k: wanted[sid][k] for k in keep[1:]}, "urls": urls}
            for (sid, kind), urls in sorted(found.items(), key=lambda t: (t[0][1] != "new story", t[0]))]


def audit_table(store: Store, origin_site: str | None = None, verdicts: list[str] | None = None,
                site: str | None = None) -> list[dict]:
    """Every copy with its attribution status and evidence, optionally for one publisher's originals or one
    copying site; ``origin_license`` is the original's licence, the one the copy was checked against."""
    origins = store.story_origins()
    gone = store.gone_pages()
    out = []
    for m in store.members():
        origin = origins.get(m["story_id"])
        if m["is_origin"] or (origin_site and (origin is None or origin["site"] != origin_site)):
            continue
        if (verdicts and m["verdict"] not in verdicts) or (site and m["site"] != site):
            continue
        origin = origin or {}
        out.append({"story": m["story_id"], "title": origin.get("title") or m["title"], "url": m["url"],
                    "site": m["site"], "verdict": m["verdict"], "origin": origin.get("url"),
                    "origin_site": origin.get("site"), "origin_license": origin.get("license"),
                    "parent": m["parent_url"], "credits_origin": bool(m["credits_origin"]),
                    "links_to_origin": bool(m["links_to_origin"]), "author_kept": bool(m["author_kept"]),
                    "license": m["license"], "copyright": m["copyright"], "reasons": m["reasons"],
                    "license_conflicts": m["conflicts"], "published": m["published"],
                    "gone_since": gone[m["url"]][1] if m["url"] in gone else None})
    return out


def audit_by_site(rows: list[dict]) -> list[dict]:
    """One row per copying site: its copies counted by verdict, and the stories and origin sites involved."""
    by_site: dict[str, dict] = {}
    for r in rows:
        entry = by_site.setdefault(r["site"], {"site": r["site"], "copies": 0, **{v.value: 0 for v in COPY_VERDICTS},
                                               "stories": set(), "origin_sites": set()})
        entry["copies"] += 1
        entry[r["verdict"]] = entry.get(r["verdict"], 0) + 1
        entry["stories"].add(r["story"])
        if r["origin_site"]:
            entry["origin_sites"].add(r["origin_site"])
    out = [{**e, "stories": len(e["stories"]), "origin_sites": sorted(e["origin_sites"])} for e in by_site.values()]
    return sorted(out, key=lambda e: (-e["copies"], e["site"]))


def search_articles(store: Store, text: str, limit: int = 20, raw: bool = False) -> list[dict]:
    """Full-text search over titles and bodies, each hit with its story and a snippet (matches marked with
    :data:`SNIPPET_MARKS`; ``plain_snippets`` removes the marks)."""
    if not text.strip():
        raise UserInputError("search for what? give some words")
    rows = store.search(text, limit, raw=raw)
    for r in rows:
        r["story"] = store.story_of(r["url"])
    return rows


def plain_snippets(rows: list[dict]) -> list[dict]:
    return [{**r, "snippet": (r["snippet"] or "").replace(SNIPPET_MARKS[0], "").replace(SNIPPET_MARKS[1], "")}
            for r in rows]


def compare_pages(store: Store, url_a: str, url_b: str) -> dict:
    """Two stored pages compared paragraph by paragraph: those of B that A lacks (added) and of A that B
    lacks (removed), in each page's order, and how many of B's A also has (kept)."""
    pages = []
    for ref in (url_a, url_b):
        try:
            key = store.resolve_alias(url_key(ref)) if ref.startswith(("http://", "https://")) else ref
        except ValueError:
            raise UserInputError(f"not a valid URL: {ref}") from None
        art = store.article(key)
        if art is None:
            raise UserInputError(f"unknown URL: {ref}")
        pages.append(art)
    a, b = pages
    keys_a = {paragraph_key(p) for p in a["paragraphs"]}
    keys_b = {paragraph_key(p) for p in b["paragraphs"]}
    return {"a": a["url"], "b": b["url"],
            "added": [p for p in b["paragraphs"] if paragraph_key(p) not in keys_a],
            "removed": [p for p in a["paragraphs"] if paragraph_key(p) not in keys_b],
            "kept": sum(1 for p in b["paragraphs"] if paragraph_key(p) in keys_a)}
