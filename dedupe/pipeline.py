"""Stored articles → stories, lineage and audit: the orchestrator of the stages in ``dedupe.stages``.

normalise → signature → candidates → verify → group → lineage (with audit, and its rows saved batch by batch)

``update_stories`` is incremental: only articles without a current signature are signed and queried,
verified edges are kept in the database, and only the connected components that new edges touch are
regrouped. Each signature keeps its article's paragraph identities (hashes of the normalised
paragraphs), and the database notes which texts were added or changed since (``Store.text_changes``), so
a pass reads and normalises only those; the other stored texts are not read. ``full=True`` recomputes everything from stored articles. Because grouping
depends only on the set of verified edges of a component, both give the same stories. Lineage also reads
what the whole database says of a paragraph (furniture, its writer, titles) and of a site (writes no
credits): each pass keeps that state, and an increment traces again the stories for which it changed, so
lineage and audit are a rebuild's too. An increment reads only the relations of the components it touches, and
does not trace again a stored story that only a change of site furniture touched (the same pages, nothing its
lineage reads changed): its lineage and audit stand, its copies' similarities are made again from the relations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import numpy as np

from crawler.storage.store import Store
from dedupe import jit
from dedupe.group import cluster
from dedupe.index import banded_pairs, lsh_bands
from dedupe.options import GroupingOptions
from dedupe.pool import KernelPool
from dedupe.relate import relate
from dedupe.signature import SignatureParams, load_kernel, load_permutations, sign_text
from dedupe.stages import (
    LineageEvidence,
    Progress,
    clear_signatures_of,
    cluster_touched,
    evidence_changes,
    find_candidates,
    find_furniture,
    in_file_order,
    link_captions,
    no_progress,
    plan_signing,
    print_text,
    read_corpus,
    remake_page_facts,
    return_freed_memory,
    save_results,
    settle_numeric_dates,
    settle_title_affixes,
    sign_changed,
    signed_furniture,
    trace_groups,
    verify_candidates,
)

log = logging.getLogger(__name__)


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
    full: bool = False   # every signature, relation and story made again (asked for, or a full pass left unfinished)
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        """Count seconds spent in a stage (or a part of one: "audit" and "save" are parts of "lineage")."""
        self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 4)


def update_stories(store: Store, options: GroupingOptions | None = None, *, full: bool = False,
                   run_id: int | None = None, progress: Progress | None = None) -> GroupReport:
    """Bring signatures, edges, stories, lineage and audit up to date with the stored articles: all made again when
    ``full``, or when the last full pass stopped before its end."""
    options = options or GroupingOptions()
    if not full and store.full_pass_unfinished():
        # the cleared signatures of a stopped full pass are not made again by an increment: this pass is full, and
        # takes a rebuild's time where an update was expected, so it says why
        log.warning("the last full grouping pass of %s stopped before its end: this pass groups everything again",
                    store.path)
        full = True
    report = GroupReport(full=full)
    say = progress or no_progress
    load_permutations(SignatureParams(**options.signature_params()))   # before the pool's workers fork: they share it
    lsh_bands(options.lsh_threshold, options.num_perm)
    with KernelPool(options.workers) as pool, store.pass_settings(options.save):
        _group(store, options, full, run_id, say, pool, report)
    report.stories, report.stories_with_copies = store.story_counts()
    return report


# articles of a full pass from which workers clear its signatures beside normalising and make its page facts beside
# candidates: where the pool's workers run anyway. At 10,000 articles the facts (0.5 s of parsing credits) left the
# lineage stage, which had waited for them alone (2.5 → 2.0 s; the rebuild 8.9 → 8.0-8.7 s; the same tables)
_BESIDE_MIN = 1_000


def _load_kernels() -> None:
    """The compiled kernels, loaded before the pool's workers fork, for an increment with something to sign: each
    worker loading numba and the kernels itself costs 1-1.5 CPU s a worker, a third of a 10% increment at 10,000
    articles; a pass with nothing new never loads them. A full pass leaves them to the workers, so that numba's
    ~100 MB stay out of this process through every later stage."""
    load_kernel()
    jit.load("dedupe.normalise", "dedupe.signature", "dedupe.align", "dedupe.relate")


def _group(store: Store, options: GroupingOptions, full: bool, run_id: int | None, say: Progress, pool: KernelPool,
           report: GroupReport) -> None:
    """The stages of ``update_stories``, in order, each timed in the report."""
    with report.stage("normalise"):
        resettled = set(settle_numeric_dates(store)) | set(settle_title_affixes(store, options.furniture_min_pages))
        beside = full and store.article_pages(up_to=_BESIDE_MIN) >= _BESIDE_MIN
        cleared = pool.beside(clear_signatures_of, store.path) if beside else None
        corpus = read_corpus(store, options, full, pool)
        furniture = find_furniture(corpus, options)
        plan = plan_signing(corpus, furniture, full, None if full else signed_furniture(store))
        report.articles = len(plan.digests)
        evidence = None if full else LineageEvidence(store, furniture, options.lineage.carried_min_pages,
                                                     options.lineage.relay_min_pages)
        retrace = set() if evidence is None else evidence_changes(store, corpus, evidence) | resettled | corpus.noted
    if not full and plan.changed:   # an increment's pool has not forked yet (it reads its texts here, unshipped)
        _load_kernels()
    with report.stage("signature"):
        signed = sign_changed(store, corpus, plan, furniture, options, full, say, pool, cleared)
        report.signed = len(plan.changed)
        ranks = corpus.file_ranks() if full else None
        del corpus
        return_freed_memory()   # what normalising and signing freed, before candidates and verification grow
    with report.stage("candidates"):
        facts = pool.beside(remake_page_facts, store.path) if beside else None
        candidates = find_candidates(store, set(plan.changed), options)
        report.candidate_pairs = len(candidates.pairs)
        if facts:
            facts()   # made and written before verification writes its relations
    with report.stage("verify"):
        with store.appending_relations() if full else nullcontext():   # emptied by clear_signatures
            new_pairs = verify_candidates(store, candidates, signed, furniture, options, pool)
        with report.stage("captions"):   # a part of verification, timed on its own
            new_pairs += link_captions(store, None if full else plan.changed, furniture, options, pool, signed.prints)
        report.edges_new = len(new_pairs)
        del candidates, signed
        return_freed_memory()
    with report.stage("group"):
        grouping = cluster_touched(store, plan, new_pairs, options, full, retrace)
        if ranks is not None:
            grouping.groups = in_file_order(grouping.groups, list(plan.digests), ranks)
        del new_pairs, ranks
        return_freed_memory()
    with report.stage("lineage"):   # its rows saved batch by batch ("save", like "audit", is a part of it)
        evidence = evidence or LineageEvidence(store, furniture, options.lineage.carried_min_pages,
                                               options.lineage.relay_min_pages, fresh=facts is None)
        traced = trace_groups(store, grouping, furniture, options, run_id, report.add, say, evidence, pool)
        report.stories_updated = save_results(store, traced, grouping, plan, full, report.stage, options.save)
    if full:
        store.finish_full_pass()


def group_texts(texts: dict[str, list[str]], options: GroupingOptions | None = None,
                sites: dict[str, str] | None = None) -> list[list[str]]:
    """Stories of in-memory texts (url → paragraphs), through the same stages without a database.

    Used by the benchmarks and the order-independence tests; ``update_stories`` is the stored variant.
    ``sites`` gives each text's site (by default each text is on a site of its own).
    """
    options = options or GroupingOptions()
    params = SignatureParams(**options.signature_params())
    urls = list(texts)
    prints, sigs, owners = {}, [], []
    for i, url in enumerate(urls):
        printed, wh = print_text(texts[url], set(), options)
        prints[url] = printed
        full_text, leads = sign_text(printed.shingles, wh, options.lead_words, params)
        for sig in (full_text, *leads):
            sigs.append(sig.hashvalues)
            owners.append(i)
    found = banded_pairs(np.array(owners, dtype=np.int64), np.array(sigs, dtype=np.uint32).reshape(-1, params.num_perm),
                         np.ones(len(urls), dtype=bool), *lsh_bands(options.lsh_threshold, params.num_perm))
    pairs = {(urls[a], urls[b]) if urls[a] < urls[b] else (urls[b], urls[a]) for a, b in found.tolist()}
    site_of = sites or {}
    edges = [e for a, b in sorted(pairs)
             if (e := relate(a, b, prints[a], prints[b], options, site_of.get(a, a) == site_of.get(b, b))) is not None]
    return cluster(sorted(texts), edges, options.min_cover, options.lead_share, options.caption_max_words).stories
