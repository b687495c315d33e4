"""Candidate search by sorted bands, and incremental grouping that skips unchanged texts."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHashLSH

from bench.corpus import make_corpus
from crawler.storage.records import FetchRecord
from crawler.storage.store import SIGNED_FURNITURE, Store
from dedupe import pipeline, stages
from dedupe.index import all_band_keys, banded_pairs, lsh_bands
from dedupe.normalise import words
from dedupe.options import GroupingOptions
from dedupe.pipeline import update_stories
from dedupe.pool import KernelPool
from dedupe.signature import SignatureParams, lead_signatures, shingle_hashes, sign, word_hashes


def _signed(texts: dict[str, list[str]], options: GroupingOptions):
    params = SignatureParams(**options.signature_params())
    out = []
    for url, paragraphs in texts.items():
        wh = word_hashes([w for p in paragraphs for w in words(p)])
        out.append((url, sign(shingle_hashes(wh, options.shingle_size), params),
                    lead_signatures(wh, options.lead_words, options.shingle_size, params)))
    return params, out


def test_banded_pairs_are_what_minhashlsh_returns():
    options = GroupingOptions()
    params, entries = _signed(make_corpus(400, seed=3), options)
    queries = {url for i, (url, _, _) in enumerate(entries) if i % 7 == 0}
    lsh = MinHashLSH(threshold=options.lsh_threshold, num_perm=params.num_perm)
    with lsh.insertion_session() as session:
        for url, full, leads in entries:
            for part, sig in enumerate((full, *leads)):
                session.insert((url, part), sig.minhash(), check_duplication=False)
    expected = set()
    for url, full, leads in entries:
        if url in queries:
            expected.update(tuple(sorted((url, other))) for sig in (full, *leads)
                            for other, _part in lsh.query(sig.minhash()) if other != url)

    urls = [url for url, _, _ in entries]
    rows = [(i, sig.hashvalues) for i, (_, full, leads) in enumerate(entries) for sig in (full, *leads)]
    owners = np.array([i for i, _ in rows], dtype=np.int64)
    matrix = np.array([h for _, h in rows], dtype=np.uint32)
    query = np.array([u in queries for u in urls])
    found = banded_pairs(owners, matrix, query, *lsh_bands(options.lsh_threshold, params.num_perm))
    assert {tuple(sorted((urls[a], urls[b]))) for a, b in found.tolist()} == expected
    assert expected  # the corpus has copies


def _add(store: Store, url: str, paragraphs: list[str]) -> None:
    body = json.dumps(paragraphs).encode()
    store.save_fetch(FetchRecord(url=url, requested_url=url, final_url=url, status=200,
                                 headers={"content-type": "text/html"}, body=body, fetched_at="2020-01-01T00:00:00"))
    store.save_article({"url": url, "site": url.split("/")[2], "page_type": "article", "title": url,
                        "paragraphs": paragraphs, "text": "\n".join(paragraphs), "content_hash": url})


def _grown(path, texts: list[tuple[str, list[str]]], first: int) -> Store:
    """A store whose first ``first`` pages were grouped, then given the rest (not yet grouped)."""
    store = Store(path)
    for url, paragraphs in texts[:first]:
        _add(store, url, paragraphs)
    update_stories(store)
    for url, paragraphs in texts[first:]:
        _add(store, url, paragraphs)
    return store


def _partition(store: Store) -> set[frozenset]:
    groups: dict[str, set] = {}
    for url, sid in store.member_stories().items():
        groups.setdefault(sid, set()).add(url)
    return {frozenset(g) for g in groups.values()}


def test_incremental_signs_only_new_or_changed_texts_and_matches_a_rebuild(tmp_path):
    texts = list(make_corpus(300, seed=5).items())
    options = GroupingOptions(furniture_min_pages=10**6)  # no furniture: new pages never change old fingerprints
    store = Store(tmp_path / "t.db")
    for url, paragraphs in texts[:250]:
        _add(store, url, paragraphs)
    assert update_stories(store, options).signed == 250
    assert update_stories(store, options).signed == 0  # nothing new: nothing normalised or signed again

    for url, paragraphs in texts[250:]:
        _add(store, url, paragraphs)
    edited_url, edited = texts[0]
    _add(store, edited_url, edited + ["A paragraph added by a later edit of this article, long enough to count."])
    assert update_stories(store, options).signed == 51  # the 50 new articles and the edited one
    incremental = _partition(store)
    update_stories(store, options, full=True)
    assert _partition(store) == incremental


def test_an_increment_that_changes_site_furniture_gives_what_a_rebuild_gives(tmp_path):
    """New pages make some paragraphs furniture of their site (a note, a subscription box on a third page):
    the stored pages holding them are signed again, and every table a grouping writes is what a rebuild of
    the same database writes."""
    store = _grown(tmp_path / "t.db", list(make_corpus(300, seed=11).items()), 240)
    report = update_stories(store)
    assert report.signed > 60        # the 60 new pages, and stored ones whose site furniture changed
    incremental = store.grouping_rows()
    update_stories(store, full=True)
    rebuilt = store.grouping_rows()
    assert [t for t in rebuilt if rebuilt[t] != incremental[t]] == []
    assert _partition(store) and len(rebuilt["members"]) == 300


@pytest.mark.parametrize("older", [False, True])
def test_an_increment_fingerprints_again_only_the_stored_pages_carrying_a_paragraph_whose_furniture_changed(
        tmp_path, monkeypatch, older):
    """Every site's furniture changes (new pages on each), but a stored page carrying none of the paragraphs that
    became or stopped being furniture keeps the digest its signature was made from: no digest is made of it (a
    page that carries one is signed again). A file written by older code (a digest of each site's furniture kept,
    not its paragraphs) has a digest made of every page once, and both give every table a rebuild gives."""
    store = _grown(tmp_path / "t.db", list(make_corpus(300, seed=11).items()), 240)
    if older:
        kept = json.loads(store.grouping_state(SIGNED_FURNITURE))
        store.keep_grouping_state(SIGNED_FURNITURE, json.dumps({site: "digest" for site in kept}))
    made: list[str] = []
    digest = stages.fingerprint_digest
    monkeypatch.setattr(stages, "fingerprint_digest", lambda hashes, banned: made.append(1) or digest(hashes, banned))
    report = update_stories(store)
    monkeypatch.undo()
    assert report.signed > 60 and len(made) == (300 if older else report.signed)   # on its first pass, 113
    assert all(isinstance(hashes, list) for hashes in json.loads(store.grouping_state(SIGNED_FURNITURE)).values())
    incremental = store.grouping_rows()
    update_stories(store, full=True)
    rebuilt = store.grouping_rows()
    assert [t for t in rebuilt if rebuilt[t] != incremental[t]] == []


def test_stories_only_a_furniture_change_touches_are_not_traced_again(tmp_path, monkeypatch):
    """Stored pages signed again only because new pages made a paragraph of theirs site furniture keep their
    stories' lineage: those stories are not traced again (their copies' similarity to their parents, read from
    the relations made again, is), and every table is what a rebuild writes."""
    store = _grown(tmp_path / "t.db", list(make_corpus(300, seed=11).items()), 240)
    signed_before = {row[0]: row for row in store.grouping_rows()["signatures"]}
    members_before = {row[0]: row for row in store.grouping_rows()["members"]}
    traced: list[str] = []
    trace_batch = stages._trace_batch

    def spy(source, groups, *args):
        traced.extend(url for group in groups for url in group)
        return trace_batch(source, groups, *args)

    monkeypatch.setattr(stages, "_trace_batch", spy)
    update_stories(store)
    incremental = store.grouping_rows()
    resigned = {row[0] for row in incremental["signatures"] if row[0] in signed_before and row != signed_before[row[0]]}
    refreshed = {row[0] for row in incremental["members"] if row[0] in members_before and row != members_before[row[0]]}
    assert len(resigned - set(traced)) > 10 and refreshed - set(traced)   # standing stories, their numbers made again
    monkeypatch.undo()
    update_stories(store, full=True)
    rebuilt = store.grouping_rows()
    assert [t for t in rebuilt if rebuilt[t] != incremental[t]] == []


def test_an_increment_keeps_the_run_each_story_and_page_first_appeared_in(tmp_path):
    """Stories an increment writes again (a new copy joined them) and their stored pages keep the run they first
    appeared in; only the new pages and the new stories have the increment's run."""
    texts = list(make_corpus(200, seed=7).items())
    store = Store(tmp_path / "t.db")
    for url, paragraphs in texts[:180]:
        _add(store, url, paragraphs)
    first = store.start_run("ingest")
    update_stories(store, run_id=first)
    stories_before = {r["id"] for r in store.list_stories()}
    for url, paragraphs in texts[180:]:
        _add(store, url, paragraphs)
    second = store.start_run("ingest")
    assert update_stories(store, run_id=second).stories_updated
    runs = {r["id"]: r["first_run"] for r in store.list_stories()}
    assert {runs[i] for i in runs if i in stories_before} == {first}
    assert {runs[i] for i in runs if i not in stories_before} == {second}
    members = {r["url"]: r["first_run"] for r in store.members()}
    assert {members[u] for u, _ in texts[:180]} == {first} and {members[u] for u, _ in texts[180:]} == {second}


def test_workers_write_what_one_process_writes(tmp_path, monkeypatch):
    """Normalising, signing and aligning in worker processes (forced here for a small corpus), the signatures
    cleared by a worker beside normalising and the page facts made by one beside candidates, store the same tables
    as doing it all in this process, pass after pass; a batch of pairs to align ships no prints (the workers read
    them from the print file)."""
    monkeypatch.setattr(pipeline, "_BESIDE_MIN", 1)
    beside = KernelPool.beside
    ran_beside: list[tuple[str, int]] = []
    monkeypatch.setattr(KernelPool, "beside", lambda self, kernel, *args: ran_beside.append((kernel.__name__, self.workers))
                        or beside(self, kernel, *args))
    facts_before_lineage: list[int] = []   # page facts found when the lineage evidence is read: the worker's
    evidence = pipeline.LineageEvidence
    monkeypatch.setattr(pipeline, "LineageEvidence", lambda store, *args, **kw: facts_before_lineage.append(
        len(store.title_keys())) or evidence(store, *args, **kw))
    merged: list[str] = []   # a full pass saves each key once: none merged (a clearing that did nothing would be)
    merge = Store._merge_repeated_keys
    monkeypatch.setattr(Store, "_merge_repeated_keys", lambda self, table: merged.append(table) or merge(self, table))
    monkeypatch.setattr(stages, "_PARALLEL_SIGN", 1)
    monkeypatch.setattr(stages, "_PARALLEL_VERIFY", 1)
    monkeypatch.setattr(stages, "_PAIR_BATCH", 7)
    monkeypatch.setattr(stages, "_BATCH", 9)
    shipped: list[bytes] = []
    kernel_map = KernelPool.map

    def recording_map(self, kernel, batches, parallel=True):
        if kernel is stages._relate_batch:
            batches = ((tag, args) for tag, args in batches if shipped.append(pickle.dumps(args)) is None)
        return kernel_map(self, kernel, batches, parallel)

    monkeypatch.setattr(KernelPool, "map", recording_map)
    texts = make_corpus(120, seed=3)
    tables = []
    for workers in (1, 2):
        store = Store(tmp_path / f"w{workers}.db")
        for url, paragraphs in texts.items():
            _add(store, url, paragraphs)
        for _ in range(2):   # the second pass clears what the first signed
            report = update_stories(store, GroupingOptions(workers=workers), full=True)
            assert report.edges_new > 10
            tables.append((store.grouping_rows(), sorted(store.credit_facts()),
                           sorted(np.frombuffer(store.title_keys(), dtype=np.uint64).tolist())))
    assert tables[0] == tables[1] == tables[2] == tables[3] and tables[0][2]
    assert ran_beside == [("clear_signatures_of", 1), ("remake_page_facts", 1)] * 2 + [
        ("clear_signatures_of", 2), ("remake_page_facts", 2)] * 2
    assert facts_before_lineage == [8 * len(tables[0][2])] * 4   # made beside, not left for lineage to make
    assert merged == []
    assert shipped and not any(b"numpy" in args for args in shipped)   # where the prints lie, never the prints


def test_an_increment_reads_only_the_relations_of_the_components_it_touches(tmp_path, monkeypatch):
    """An increment follows the stored relations out from the pages it touches instead of reading every
    relation, and still writes what a rebuild writes."""
    store = _grown(tmp_path / "t.db", list(make_corpus(200, seed=7).items()), 190)
    read: list[str] = []
    touching = Store.edges_touching

    def spy(self, urls):
        read.extend(urls)
        return touching(self, urls)

    monkeypatch.setattr(Store, "edges", lambda self: (_ for _ in ()).throw(AssertionError("every relation read")))
    monkeypatch.setattr(Store, "edges_touching", spy)
    report = update_stories(store)
    assert report.stories_updated and 0 < len(set(read)) < 100
    incremental = store.grouping_rows()
    monkeypatch.undo()
    update_stories(store, full=True)
    assert store.grouping_rows() == incremental


def test_an_increment_reads_only_the_texts_added_or_changed(tmp_path, monkeypatch):
    """The database notes which texts were added or changed (by any client: here plain sqlite3 edits two), and
    an increment reads only those; a text changed in form but not in words keeps its signature, which then
    describes the new text. Every table is what a rebuild writes, and the next increment reads no text."""
    texts = list(make_corpus(200, seed=7).items())
    store = _grown(tmp_path / "t.db", texts, 190)
    (edited, paragraphs), (reformatted, same) = texts[3], texts[4]
    with sqlite3.connect(tmp_path / "t.db") as other:
        other.execute("update articles set paragraphs = ? where url = ?",
                      [json.dumps(paragraphs + ["A paragraph added later by an edit of this article."]), edited])
        other.execute("update articles set paragraphs = ? where url = ?", [json.dumps(same, indent=1), reformatted])
    read: list[str] = []
    hash_batch = stages._hash_batch

    def spy(source, urls, known):
        read.extend(urls)
        return hash_batch(source, urls, known)

    signed: list[str] = []
    sign_batch = stages._sign_batch

    def signing(source, urls, *args):
        signed.extend(urls)
        return sign_batch(source, urls, *args)

    monkeypatch.setattr(stages, "_hash_batch", spy)
    monkeypatch.setattr(stages, "_sign_batch", signing)
    report = update_stories(store)
    assert sorted(read) == sorted([edited, reformatted] + [u for u, _ in texts[190:]])
    assert report.signed >= 11 and report.signed < 40 and edited in signed and reformatted not in signed
    read.clear()
    update_stories(store)
    assert read == []
    incremental = store.grouping_rows()
    monkeypatch.undo()
    update_stories(store, full=True)
    assert store.grouping_rows() == incremental


def test_titles_cut_by_an_increment_are_traced_again(tmp_path):
    """New pages make a site's title suffix repeated enough to be cut from its stored pages' titles too: the
    stories of those pages are traced again (their titles are what a rebuild shows)."""
    texts = list(make_corpus(60, seed=4).items())
    store = Store(tmp_path / "t.db")
    for i, (url, paragraphs) in enumerate(texts):
        _add(store, url, paragraphs)
        if url.startswith("http://site3."):
            store.set_titles([(url, f"Headline {i} - Site Three Online")])
        if i == 40:
            update_stories(store)
    update_stories(store)
    incremental = store.grouping_rows()
    update_stories(store, full=True)
    assert store.grouping_rows() == incremental
    assert any(r[6] and r[6].startswith("Headline") and "Online" not in r[6] for r in incremental["stories"])


def test_a_database_without_kept_evidence_has_every_story_traced_once(tmp_path):
    """A file grouped by an older syndtrace kept no lineage evidence: the next increment traces every story
    (what changed since cannot be told), keeps the evidence, and the one after traces none."""
    store = Store(tmp_path / "t.db")
    for url, paragraphs in make_corpus(40, seed=2).items():
        _add(store, url, paragraphs)
    stories = update_stories(store).stories
    with sqlite3.connect(tmp_path / "t.db") as conn:   # as an older syndtrace leaves it
        conn.execute("delete from grouping_state")
    assert update_stories(store).stories_updated == stories
    assert store.grouping_state(stages.EVIDENCE_STATE) and update_stories(store).stories_updated == 0


def test_a_pass_with_nothing_new_does_not_load_the_compiled_kernels(tmp_path):
    """An increment loads numba and its kernels before its workers fork only when it has something to sign: a
    watch's pass after a crawl that found nothing new paid ~1 s of CPU for them."""
    store = Store(tmp_path / "t.db")
    for url, paragraphs in make_corpus(20, seed=3).items():
        _add(store, url, paragraphs)
    update_stories(store)
    store.close()
    script = ("import sys; from crawler.storage.store import Store; from dedupe.pipeline import update_stories\n"
              f"report = update_stories(Store({str(tmp_path / 't.db')!r}))\n"
              "print(report.signed, 'numba' in sys.modules)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.stdout.split() == ["0", "False"], done.stderr


def _kept_band_keys(path) -> dict[str, bytes]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("select url, band_keys from band_keys"))


def test_kept_band_keys_are_the_stored_signatures_band_keys(tmp_path):
    """Every signature's band keys are kept when it is signed (in the workers, a batch at a time), and they are the
    keys banding the stored signature gives (``all_band_keys``): an increment reads them instead."""
    store = _grown(tmp_path / "t.db", list(make_corpus(120, seed=5).items()), 100)
    options = GroupingOptions()
    update_stories(store, options)
    bands, rows = lsh_bands(options.lsh_threshold, options.num_perm)
    kept = _kept_band_keys(tmp_path / "t.db")
    with sqlite3.connect(tmp_path / "t.db") as conn:
        signed = list(conn.execute("select url, hashvalues, lead_hashvalues from signatures where n_shingles > 0"))
    assert len(signed) == 120 and set(kept) == {url for url, _, _ in signed}
    for url, full, leads in signed:
        values = np.frombuffer(full + (leads or b""), dtype=np.uint32).reshape(-1, options.num_perm)
        assert kept[url] == all_band_keys(values, bands, rows).tobytes(), url


def test_an_increment_with_kept_state_gives_a_rebuilds_tables_after_furniture_and_text_changes(tmp_path):
    """With every stored signature's band keys kept, an increment that makes site furniture of stored paragraphs
    (their pages signed again) and re-saves two stored articles with other texts (one now a copy of another
    story's page, one no longer a copy) writes every table a rebuild of the same database writes."""
    texts = list(make_corpus(300, seed=11).items())
    store = _grown(tmp_path / "t.db", texts, 240)
    assert len(_kept_band_keys(tmp_path / "t.db")) == 240
    copied = next(p for u, p in texts[100:] if u.split("/")[2] != texts[0][0].split("/")[2])
    _add(store, texts[0][0], copied)     # a copy of another story's page now
    _add(store, texts[1][0], ["A text rewritten from the start, sharing nothing with what it was or any other.",
                              "Its second paragraph is as new as its first one and long enough to be signed."])
    report = update_stories(store)
    assert report.signed > 62
    incremental = store.grouping_rows()
    update_stories(store, full=True)
    rebuilt = store.grouping_rows()
    assert [t for t in rebuilt if rebuilt[t] != incremental[t]] == []
    assert any(texts[0][0] in (row[0], row[1]) for row in rebuilt["edges"])


def test_a_file_without_kept_band_keys_has_them_made_by_its_next_pass(tmp_path, monkeypatch):
    """A file grouped by an older syndtrace kept no band keys: its next increment bands every stored signature (as
    passes did before), gives a rebuild's tables, and keeps the keys, so the pass after bands none."""
    texts = list(make_corpus(200, seed=7).items())
    store = _grown(tmp_path / "t.db", texts, 180)
    with sqlite3.connect(tmp_path / "t.db") as conn:   # as an older syndtrace leaves it (the migration adds none)
        conn.execute("delete from band_keys")
    banded: list[int] = []
    missing = stages._missing_band_keys

    def spy(page, *args):
        made = missing(page, *args)
        banded.append(len(made))
        return made

    monkeypatch.setattr(stages, "_missing_band_keys", spy)
    report = update_stories(store)
    assert sum(banded) == 200 - report.signed   # every stored signature not made again in this pass
    assert len(_kept_band_keys(tmp_path / "t.db")) == 200
    for n, (_url, paragraphs) in enumerate(texts[:3]):
        _add(store, f"http://late.example/{n}", paragraphs)
    banded.clear()
    update_stories(store)
    assert banded and sum(banded) == 0
    incremental = store.grouping_rows()
    monkeypatch.undo()
    update_stories(store, full=True)
    assert store.grouping_rows() == incremental
