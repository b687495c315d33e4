"""Stored articles → stories, lineage and audit, as named, timed stages.

normalise → shingle → signature → candidates → verify → group → lineage → audit

``update_stories`` is incremental: only articles without a current signature are signed and queried,
verified edges are kept in the database, and only the connected components that new edges touch are
regrouped. Each signature keeps its article's paragraph identities (hashes of the normalised
paragraphs), so a pass normalises only new or changed texts; the other stored texts are hashed, not
re-read word by word. ``full=True`` recomputes everything from stored articles. Because grouping
depends only on the set of verified edges of a component, both give the same stories.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import xxhash

from dedupe.trace.audit import audit_story
from dedupe.group import Edge, cluster, connected_components, verify
from dedupe.index import banded_pairs, lsh_bands
from dedupe.trace.lineage import decide, member_from_article
from dedupe.normalise import paragraph_key
from dedupe.options import GroupingOptions
from dedupe.signature import (SignatureParams, lead_signatures, leads_to_bytes, shingle_hashes, sign,
                              word_hashes)
from crawler.storage.store import Store, utc_now

Progress = Callable[[str, int, int], None]
LINEAGE_BATCH = 5000   # articles read at once by the lineage stage


@dataclass
class GroupReport:
    """What a grouping pass did, with the seconds each stage took."""

    articles: int = 0
    signed: int = 0
    candidate_pairs: int = 0
    edges_new: int = 0
    stories: int = 0
    stories_with_copies: int = 0
    stories_updated: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 4)


def _key_hash(key: str) -> int:
    return xxhash.xxh64_intdigest(key.encode())


def story_id(urls: list[str]) -> str:
    """A stable id from the story's members: the same partition always gets the same ids."""
    return "st-" + hashlib.sha1(min(urls).encode()).hexdigest()[:10]


class _Texts:
    """Per-article fingerprint words and shingles, computed once per pass."""

    def __init__(self, furniture: dict[str, set[int]], options: GroupingOptions):
        self.furniture = furniture
        self.options = options
        self.shingles: dict[str, np.ndarray] = {}

    def words(self, site: str, paragraphs: list[str]) -> list[str]:
        banned = self.furniture.get(site, set())
        out: list[str] = []
        for p in paragraphs:
            key = paragraph_key(p)
            if key and _key_hash(key) not in banned:
                out.extend(key.split(" "))
        return out


def resolve_numeric_dates(store: Store) -> int:
    """Read each site's ambiguous numeric dates (03/04/2020) the way its unambiguous ones read."""
    from crawler.page.dates import numeric_date_order, parse_visible_date

    by_site: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
    for url, site, raw, published in store.numeric_dates():
        by_site[site].append((url, raw, published))
    changed: list[tuple[str, str]] = []
    for site, rows in by_site.items():
        order = numeric_date_order(raw for _, raw, _ in rows)
        if order is None:
            continue
        for url, raw, published in rows:
            when = parse_visible_date(raw, day_first=order == "dmy")
            value = when.date().isoformat() if when else None
            if value and not (published or "").startswith(value):
                changed.append((url, value))
    if changed:
        store.set_published(changed)
    return len(changed)


def _paragraph_hashes(paragraphs: list[str]) -> np.ndarray:
    """Each paragraph's identity (the hash of its normalised words; 0 for a paragraph without words)."""
    return np.array([_key_hash(k) if (k := paragraph_key(p)) else 0 for p in paragraphs], dtype=np.uint64)


def _furniture(keys: dict[str, tuple[str, str, np.ndarray]], options: GroupingOptions) -> dict[str, set[int]]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for site, _, hashes in keys.values():
        counts[site].update(set(hashes.tolist()) - {0})
    return {site: {h for h, n in c.items() if n >= options.furniture_min_pages} for site, c in counts.items()}


def update_stories(store: Store, options: GroupingOptions | None = None, *, full: bool = False,
                   run_id: int | None = None, progress: Progress | None = None) -> GroupReport:
    """Bring signatures, edges, stories, lineage and audit up to date with the stored articles."""
    options = options or GroupingOptions()
    params = SignatureParams(**options.signature_params())
    report = GroupReport()
    say = progress or (lambda stage, done, total: None)

    with report.stage("normalise"):
        resolve_numeric_dates(store)
        lead_sizes = ",".join(map(str, sorted(options.lead_words)))
        stored = {url: (SignatureParams(n, seed, scheme, size) == params and leads == lead_sizes, *rest)
                  for url, n, seed, scheme, size, leads, *rest in store.signature_states()}
        # url -> (same params, content, text hash, paragraph keys)
        # paragraph identities: kept with each signature, so an article whose text has not changed is not
        # normalised again (an incremental pass hashes each stored text instead of re-reading its words)
        keys: dict[str, tuple[str, str, np.ndarray]] = {}
        for url, site, paragraphs in store.article_texts():
            text_hash = xxhash.xxh64_hexdigest((paragraphs or "").encode())
            old = stored.get(url)
            if not full and old and old[2] == text_hash and old[3] is not None:
                keys[url] = (site, text_hash, np.frombuffer(old[3], dtype=np.uint64))
            else:
                keys[url] = (site, text_hash, _paragraph_hashes(json.loads(paragraphs or "[]")))
        furniture = _furniture(keys, options)
        texts = _Texts(furniture, options)
        current: dict[str, str] = {}
        for url, (site, _, hashes) in list(keys.items()):
            banned = furniture.get(site, set())
            kept = np.array([h for h in hashes.tolist() if h and h not in banned], dtype=np.uint64)
            digest = current[url] = hashlib.sha1(kept.tobytes()).hexdigest()
            old = stored.get(url)
            if not full and old and old[0] and old[1] == digest:
                del keys[url]  # what is left in keys is what gets signed
        changed = sorted(keys)
        report.articles = len(current)
        gone = set(stored) - set(current)
        del stored

    with report.stage("signature"):
        # words, shingles and signatures one article at a time, saved in batches: memory holds the
        # shingles (4 bytes each) for verification, never every article's words
        if full:
            store.save_edges([], replace_all=True)
        store.delete_signatures(changed + sorted(gone))
        sig_rows = []
        for i, (url, site, paragraphs) in enumerate(store.paragraphs_of(changed)):
            wh = word_hashes(texts.words(site, paragraphs))
            sh = shingle_hashes(wh, options.shingle_size)
            texts.shingles[url] = sh
            leads = lead_signatures(wh, options.lead_words, options.shingle_size, params)
            sig_rows.append({"url": url, **options.signature_params(), "n_shingles": int(len(sh)),
                             "hashvalues": sign(sh, params).to_bytes(), "lead_words": lead_sizes,
                             "lead_hashvalues": leads_to_bytes(leads), "content_hash": current[url],
                             "paragraphs_hash": keys[url][1], "paragraph_keys": keys[url][2].tobytes()})
            if len(sig_rows) >= 1000:
                store.save_signatures(sig_rows)
                sig_rows = []
            say("signature", i + 1, len(changed))
        store.save_signatures(sig_rows)
        report.signed = len(changed)
        del sig_rows, keys

    with report.stage("candidates"):
        # every stored signature (full text and leads) is matched band by band against the changed
        # articles' ones, as MinHashLSH queries would be, without building a MinHashLSH of everything
        new_set = set(changed)
        width = 4 * params.num_perm
        n_rows = store.signature_bytes() // width
        matrix = np.empty((n_rows, params.num_perm), dtype=np.uint32)
        owners = np.empty(n_rows, dtype=np.int64)
        urls: list[str] = []
        row = 0
        for url, full_blob, lead_blob in store.signature_blobs():
            blob = full_blob + (lead_blob or b"")
            matrix[row:row + len(blob) // width] = np.frombuffer(blob, dtype=np.uint32).reshape(-1, params.num_perm)
            owners[row:row + len(blob) // width] = len(urls)
            urls.append(url)
            row += len(blob) // width
        query = np.fromiter((u in new_set for u in urls), dtype=bool, count=len(urls))
        found = (banded_pairs(owners, matrix, query, *lsh_bands(options.lsh_threshold, params.num_perm))
                 if query.any() else np.empty((0, 2), dtype=np.int64))  # (article number, article number)
        report.candidate_pairs = len(found)
        del matrix, owners

    with report.stage("verify"):
        need = sorted(u for u in (urls[i] for i in np.unique(found).tolist()) if u not in texts.shingles)
        for url, site, paragraphs in store.paragraphs_of(need):
            texts.shingles[url] = shingle_hashes(texts.words(site, paragraphs), options.shingle_size)
        new_edges = []
        for start in range(0, len(found), 100_000):  # in slices: millions of pairs as Python ints weigh
            part = found[start:start + 100_000]
            for a, b in zip(part[:, 0].tolist(), part[:, 1].tolist()):
                edge = verify(urls[a], urls[b], texts.shingles[urls[a]], texts.shingles[urls[b]],
                              options.min_containment)
                if edge:
                    new_edges.append({"a": edge.a, "b": edge.b, "containment": edge.containment,
                                      "jaccard": edge.jaccard})
        store.save_edges(new_edges)
        report.edges_new = len(new_edges)
        texts.shingles.clear()
        del found, urls

    with report.stage("group"):
        all_nodes = sorted(current)
        edges = [Edge(r["a"], r["b"], r["containment"], r["jaccard"]) for r in store.edges()]
        components = connected_components(all_nodes, edges)
        if full:
            touched = components
        else:
            old_story = store.member_stories()
            dirty = set(changed) | (set(current) - set(old_story)) | gone
            for e in new_edges:
                dirty.update((e["a"], e["b"]))
            dirty_stories = {old_story[u] for u in dirty if u in old_story}
            dirty.update(u for u, s in old_story.items() if s in dirty_stories)
            touched = [c for c in components if dirty.intersection(c)]
        edges_by_node: dict[str, list[Edge]] = defaultdict(list)
        for e in edges:
            edges_by_node[e.a].append(e)
        groups: list[list[str]] = []
        for comp in touched:
            comp_edges = [e for u in comp for e in edges_by_node[u]]
            groups.extend(cluster(comp, comp_edges))

    with report.stage("lineage"):
        from crawler.page.attribution import OutletDirectory, cue_line_credit
        from crawler.page.urls import site_of, url_key

        outlets = OutletDirectory()
        for host, name in store.outlets().items():
            outlets.add(host, name)

        aliases = store.aliases()

        def read_cue_line(line: str, site: str) -> tuple[str, str] | None:
            credit = cue_line_credit(line, outlets, site)
            return (credit.host, credit.role) if credit else None

        def resolve(url: str) -> str:
            """Where a linked URL leads, following recorded redirects (from memory: one query per link
            would dominate the stage)."""
            url, seen = url_key(url), set()
            while url in aliases and url not in seen:
                seen.add(url)
                url = aliases[url]
            return url

        captured = store.capture_times()
        furniture_sites: dict[int, set[str]] = defaultdict(set)
        for site, hashes in furniture.items():
            for h in hashes:
                furniture_sites[h].add(site)

        def generic(key: str, site: str) -> bool:
            """Boilerplate several other sites also repeat (spam, ads): no evidence of who copied whom."""
            return len(furniture_sites.get(_key_hash(key), set()) - {site}) >= 2
        stories, members, lineage_rows, audit_rows = [], [], [], []
        loaded: dict[str, dict] = {}
        for gi, group in enumerate(groups):
            if group[0] not in loaded:   # load the next few thousand articles at once, in group order
                loaded.clear()
                batch: list[str] = []
                for later in groups[gi:]:
                    if batch and len(batch) + len(later) > LINEAGE_BATCH:
                        break
                    batch.extend(later)
                loaded.update((a["url"], a) for a in store.articles(page_type=None, urls=batch))
            arts = [loaded[u] for u in sorted(group)]
            ms = [member_from_article(a, site_of, resolve, outlets.resolve_name, captured.get(a["url"]), read_cue_line)
                  for a in arts]
            decisions = decide(ms, generic)
            sid = story_id(group)
            origin = decisions[ms[0].url].origin
            by_url = {m.url: m for m in ms}
            for m in ms:
                d = decisions[m.url]
                members.append({"url": m.url, "story_id": sid, "is_origin": int(m.url == origin),
                                "parent_url": d.parent, "similarity": None, "containment": None,
                                "first_run": run_id})
                lineage_rows.append({"url": m.url, "story_id": sid, "parent_url": d.parent, "origin_url": origin,
                                     "signal": d.signal, "evidence": json.dumps(d.evidence)})
            with report.stage("audit"):
                results = audit_story(ms, decisions)
            uncredited = 0
            for r in results:
                row = r.to_row()
                uncredited += row["verdict"] in ("uncredited", "misattributed")
                for key in ("reasons", "conflicts", "added", "removed"):
                    row[key] = json.dumps(row[key])
                audit_rows.append({**row, "story_id": sid})
            dated = sorted(m.published.isoformat() for m in ms if m.published)
            stories.append({"id": sid, "origin_url": origin, "size": len(ms), "sites": len({m.site for m in ms}),
                            "first_published": dated[0] if dated else None,
                            "last_published": dated[-1] if dated else None,
                            "title": next((a["title"] for a in arts if a["url"] == origin), None),
                            "uncredited": uncredited, "first_run": run_id, "updated_at": utc_now()})
            say("lineage", gi + 1, len(groups))
        _fill_similarity(members, edges, {m["url"]: m["parent_url"] for m in members})
        _keep_first_run(store, stories, members)
        store.replace_results(stories, members, lineage_rows, audit_rows,
                              story_ids=None if full else _old_ids(store, groups) | _old_ids(store, [sorted(gone)]))
        report.stories_updated = len(stories)
    report.stories, report.stories_with_copies = store.story_counts()
    return report


def _old_ids(store: Store, groups: list[list[str]]) -> set[str]:
    return store.stories_of([u for g in groups for u in g])


def _fill_similarity(members: list[dict], edges: list[Edge], parents: dict[str, str | None]) -> None:
    by_pair = {(e.a, e.b): e for e in edges}
    for m in members:
        parent = parents.get(m["url"])
        if not parent:
            continue
        e = by_pair.get((m["url"], parent) if m["url"] < parent else (parent, m["url"]))
        if e:
            m["similarity"], m["containment"] = e.jaccard, e.containment


def _keep_first_run(store: Store, stories: list[dict], members: list[dict]) -> None:
    """A story or member seen in an earlier run keeps the run it first appeared in."""
    first_story, first_member = store.first_runs()
    for s in stories:
        if s["id"] in first_story:
            s["first_run"] = first_story[s["id"]]
    for m in members:
        if m["url"] in first_member:
            m["first_run"] = first_member[m["url"]]


def group_texts(texts: dict[str, list[str]], options: GroupingOptions | None = None) -> list[list[str]]:
    """Stories of in-memory texts (url → paragraphs), through the same stages without a database.

    Used by the benchmarks and the order-independence tests; ``update_stories`` is the stored variant.
    """
    from dedupe.normalise import words as words_of

    options = options or GroupingOptions()
    params = SignatureParams(**options.signature_params())
    urls = list(texts)
    shingles, sigs, owners = {}, [], []
    for i, url in enumerate(urls):
        wh = word_hashes([w for p in texts[url] for w in words_of(p)])
        sh = shingle_hashes(wh, options.shingle_size)
        shingles[url] = sh
        for sig in (sign(sh, params), *lead_signatures(wh, options.lead_words, options.shingle_size, params)):
            sigs.append(sig.hashvalues)
            owners.append(i)
    found = banded_pairs(np.array(owners, dtype=np.int64), np.array(sigs, dtype=np.uint32).reshape(-1, params.num_perm),
                         np.ones(len(urls), dtype=bool), *lsh_bands(options.lsh_threshold, params.num_perm))
    pairs = {(urls[a], urls[b]) if urls[a] < urls[b] else (urls[b], urls[a]) for a, b in found.tolist()}
    edges = [e for a, b in sorted(pairs)
             if (e := verify(a, b, shingles[a], shingles[b], options.min_containment)) is not None]
    return cluster(sorted(texts), edges)
