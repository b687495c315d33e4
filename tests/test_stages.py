"""Each stage of a grouping pass on its own, on a real database file."""

from __future__ import annotations

import gc
import os
import pickle
import sqlite3

import numpy as np
import pytest

from crawler.page.metadata import repeated_affixes
from crawler.storage.records import FetchRecord
from crawler.storage.store import SIGNED_FURNITURE, Store
from dedupe import stages
from dedupe.normalise import paragraph_hash, paragraph_hashes, paragraph_key
from dedupe.options import GroupingOptions
from dedupe.pipeline import update_stories
from dedupe.pool import KernelPool, Shipped
from dedupe.stages import (
    ArticleText,
    Corpus,
    EvidenceState,
    Furniture,
    LineageEvidence,
    cluster_touched,
    credit_sites,
    find_candidates,
    find_furniture,
    fingerprint_digest,
    in_file_order,
    plan_signing,
    read_corpus,
    save_results,
    settle_numeric_dates,
    settle_title_affixes,
    sign_changed,
    trace_groups,
    verify_candidates,
)
from dedupe.trace.members import member_from_article, read_paragraph

OPTIONS = GroupingOptions()
NOTE = "Note to readers: please share this article with your friends and family."
STORY = [f"Paragraph {i} of the council budget story, about the schools and the transit line and taxes." for i in range(8)]
OTHER = [f"Paragraph {i} of an unrelated report on the harbour, the storm and the fishing fleet's losses." for i in range(8)]


def add(store, url, paragraphs, page_type="article", **fields):
    store.save_fetch(FetchRecord(url=url, requested_url=url, final_url=url, status=200,
                                 headers={"content-type": "text/html"}, body=(url + repr(paragraphs)).encode(),
                                 fetched_at="2020-01-01T00:00:00+00:00"))
    store.save_article({"url": url, "site": url.split("/")[2], "page_type": page_type, "title": url,
                        "paragraphs": paragraphs, "text": "\n".join(paragraphs), **fields})


def passes(store, full=False):
    """The stages up to signing, as update_stories runs them."""
    corpus = read_corpus(store, OPTIONS, full)
    furniture = find_furniture(corpus, OPTIONS)
    plan = plan_signing(corpus, furniture, full)
    return corpus, furniture, plan


@pytest.fixture
def story_db(store):
    add(store, "http://origin.example/story", STORY, published="2020-02-07T10:00:00+00:00")
    add(store, "http://copy.example/story", STORY + ["Originally published by origin.example."],
        attribution={"credits": [{"outlet": "origin.example", "host": "origin.example", "url": None,
                                  "role": "source", "text": "Originally published by origin.example."}]},
        published="2020-02-09T10:00:00+00:00")
    add(store, "http://other.example/report", OTHER)
    return store


def test_plan_signs_new_and_edited_articles_and_drops_gone_ones(story_db):
    update_stories(story_db)
    assert passes(story_db)[2].changed == []
    add(story_db, "http://copy.example/story", STORY + ["An editor's paragraph added to the copy later on."])
    add(story_db, "http://late.example/story", STORY)
    add(story_db, "http://other.example/report", OTHER, page_type="section")    # no longer an article
    corpus, _, plan = passes(story_db)
    assert plan.changed == ["http://copy.example/story", "http://late.example/story"]
    assert plan.gone == ["http://other.example/report"]
    assert set(plan.digests) == set(corpus.texts) == {"http://origin.example/story", "http://copy.example/story",
                                                      "http://late.example/story"}


def test_unchanged_texts_reuse_their_stored_paragraph_identities(story_db):
    update_stories(story_db)
    corpus, _, _ = passes(story_db)
    reused = corpus.texts["http://origin.example/story"].paragraph_hashes
    assert not reused.flags.owndata                      # read from the stored signature, not normalised again
    assert reused.tolist() == [paragraph_hash(paragraph_key(p)) for p in STORY]
    assert passes(story_db, full=True)[0].texts["http://origin.example/story"].paragraph_hashes.flags.owndata


def test_site_furniture_is_left_out_of_fingerprints(store):
    for i in range(3):
        add(store, f"http://gr.example/{i}", [NOTE, *OTHER[3 * i:3 * i + 3]])
    corpus, furniture, plan = passes(store)
    assert furniture.of("gr.example") == {paragraph_hash(paragraph_key(NOTE))}
    signed = sign_changed(store, corpus, plan, furniture, OPTIONS, full=False)
    note_only = sign_changed(store, corpus, plan, type(furniture)({}), OPTIONS, full=False)
    assert all(signed.prints[u].n_words < note_only.prints[u].n_words for u in plan.changed)


def test_candidates_verification_and_clustering_find_the_copy(story_db):
    corpus, furniture, plan = passes(story_db)
    signed = sign_changed(story_db, corpus, plan, furniture, OPTIONS, full=True)
    candidates = find_candidates(story_db, set(plan.changed), OPTIONS)
    pairs = {(candidates.urls[a], candidates.urls[b]) for a, b in candidates.pairs.tolist()}
    assert ("http://copy.example/story", "http://origin.example/story") in pairs
    edges = verify_candidates(story_db, candidates, signed, furniture, OPTIONS)
    assert edges == [("http://copy.example/story", "http://origin.example/story")]
    assert [(e.a, e.b) for e in story_db.edges()] == edges
    grouping = cluster_touched(story_db, plan, edges, OPTIONS, full=True)
    assert sorted(grouping.groups) == [["http://copy.example/story", "http://origin.example/story"],
                                       ["http://other.example/report"]]


def test_an_incremental_pass_regroups_only_touched_stories(story_db):
    update_stories(story_db)
    add(story_db, "http://late.example/story", STORY)
    corpus, furniture, plan = passes(story_db)
    signed = sign_changed(story_db, corpus, plan, furniture, OPTIONS, full=False)
    edges = verify_candidates(story_db, find_candidates(story_db, set(plan.changed), OPTIONS), signed, furniture,
                              OPTIONS)
    grouping = cluster_touched(story_db, plan, edges, OPTIONS, full=False)
    assert grouping.groups == [["http://copy.example/story", "http://late.example/story",
                                "http://origin.example/story"]]       # the unrelated report is left alone


def test_trace_and_save_write_origin_parent_and_verdicts(story_db):
    corpus, furniture, plan = passes(story_db)
    signed = sign_changed(story_db, corpus, plan, furniture, OPTIONS, full=True)
    edges = verify_candidates(story_db, find_candidates(story_db, set(plan.changed), OPTIONS), signed, furniture,
                              OPTIONS)
    grouping = cluster_touched(story_db, plan, edges, OPTIONS, full=True)
    spent = []
    traced = list(trace_groups(story_db, grouping, furniture, OPTIONS, run_id=None,
                               spent=lambda name, seconds: spent.append(name)))
    assert spent == ["audit"]   # the two stories traced in one batch
    members = {m["url"]: m for batch in traced for m in batch.members}
    assert members["http://origin.example/story"]["is_origin"] == 1
    assert members["http://copy.example/story"]["parent_url"] == "http://origin.example/story"
    assert members["http://copy.example/story"]["similarity"] == next(story_db.edges()).jaccard
    verdicts = {a["url"]: a["verdict"] for batch in traced for a in batch.audits}
    assert verdicts["http://origin.example/story"] == "origin"
    assert verdicts["http://copy.example/story"] in ("partial", "credited")
    assert save_results(story_db, traced, grouping, plan, full=True) == 2
    assert story_db.story_counts() == (2, 1)


@pytest.mark.parametrize("pages_per_batch", [1, 2])
def test_lineage_saved_in_batches_writes_what_one_batch_writes(story_db, pages_per_batch):
    """Rows are saved a batch of stories at a time as they are traced: however the stories are cut into batches,
    every table holds the same rows (none dropped, none written twice), and each story keeps its first run."""
    add(story_db, "http://third.example/story", STORY + ["Note from the third desk on this budget story."],
        published="2020-02-08T10:00:00+00:00")
    add(story_db, "http://fourth.example/report", OTHER[:6], published="2020-02-08T10:00:00+00:00")
    first = story_db.start_run("ingest")
    update_stories(story_db, GroupingOptions(lineage_batch=10_000), run_id=first)
    whole = story_db.grouping_rows()
    assert len(whole["members"]) == 5 and len(whole["stories"]) == 2
    update_stories(story_db, GroupingOptions(lineage_batch=pages_per_batch), full=True,
                   run_id=story_db.start_run("rebuild"))
    assert story_db.grouping_rows() == whole
    assert {m["first_run"] for m in story_db.members()} == {first}


def test_numeric_dates_follow_the_sites_unambiguous_ones(store):
    add(store, "http://uk.example/a", STORY, published="2020-02-13", evidence={"numeric_date": "13/02/2020"})
    add(store, "http://uk.example/b", OTHER, published="2020-03-04", evidence={"numeric_date": "03/04/2020"})
    add(store, "http://us.example/c", OTHER, published="2020-03-04", evidence={"numeric_date": "03/04/2020"})
    assert settle_numeric_dates(store) == ["http://uk.example/b"]
    assert store.article("http://uk.example/b")["published"] == "2020-04-03"
    assert store.article("http://us.example/c")["published"] == "2020-03-04"   # nothing settles it: kept


def test_a_sites_repeated_title_suffix_is_cut(store):
    for i, title in enumerate(["Port strike ends - Kestrel Online", "Council keeps bus line - Kestrel Online",
                               "Budget vote: what it means - Kestrel Online", "Harbour storm"]):
        add(store, f"http://kestrel.example/{i}", STORY, title=title)
    add(store, "http://other.example/a", STORY, title="Port strike ends - Kestrel Online")   # one page: kept
    assert len(settle_title_affixes(store, min_pages=3)) == 3
    assert store.article("http://kestrel.example/2")["title"] == "Budget vote: what it means"
    assert store.article("http://kestrel.example/3")["title"] == "Harbour storm"
    assert store.article("http://other.example/a")["title"] == "Port strike ends - Kestrel Online"
    assert settle_title_affixes(store, min_pages=3) == []


def test_a_site_whose_titles_had_nothing_to_cut_is_looked_at_again_only_when_they_change(store, monkeypatch):
    """A pass keeps a digest of each site's titles it found nothing to cut from; the next pass skips the site while
    its titles are the same (the same titles give the same answer), and looks again once a page is added: the
    suffix now on three of five titles is cut."""
    for i, title in enumerate(["Port strike ends - Kestrel Online", "Council keeps bus line - Kestrel Online",
                               "Budget vote: what it means", "Harbour storm"]):
        add(store, f"http://kestrel.example/{i}", STORY, title=title)
    assert settle_title_affixes(store, min_pages=3) == []
    looked: list[int] = []
    monkeypatch.setattr(stages, "repeated_affixes", lambda titles, n: looked.append(len(titles)) or repeated_affixes(titles, n))
    assert settle_title_affixes(store, min_pages=3) == [] and looked == []
    add(store, "http://kestrel.example/4", OTHER, title="Ferry fares rise - Kestrel Online")
    assert len(settle_title_affixes(store, min_pages=3)) == 3 and looked == [5]
    assert store.article("http://kestrel.example/4")["title"] == "Ferry fares rise"


def test_unread_texts_of_a_site_with_the_furniture_they_were_signed_with_are_not_fingerprinted_again(story_db,
                                                                                                     monkeypatch):
    """A pass that signs keeps the furniture every signature was made with; the next pass makes no digest of an
    unread text of a site whose furniture is that one. A signature written otherwise (another engine) drops what
    was kept, and the next pass makes every digest again."""
    update_stories(story_db)
    assert story_db.grouping_state(SIGNED_FURNITURE)
    made: list[int] = []
    monkeypatch.setattr(stages, "fingerprint_digest", lambda hashes, banned: made.append(1) or fingerprint_digest(hashes, banned))
    assert update_stories(story_db).signed == 0 and made == []
    story_db.save_signatures([])
    assert story_db.grouping_state(SIGNED_FURNITURE) is None
    assert update_stories(story_db).signed == 0 and len(made) == 3 and story_db.grouping_state(SIGNED_FURNITURE)


def test_every_stage_is_timed(story_db):
    report = update_stories(story_db)
    assert set(report.timings) == {"normalise", "signature", "candidates", "verify", "captions", "group", "lineage",
                                   "audit", "save"}
    assert (report.articles, report.signed, report.edges_new, report.stories, report.stories_with_copies) == \
        (3, 3, 1, 2, 1)


def test_a_paragraph_differs_somewhere_when_a_site_reads_it_differently():
    """The evidence check follows only the paragraphs some site reads differently in the new state: every site
    named for them, and any other (one answer for all the rest), as asking each site would tell."""
    sites = ["a", "b", "c", "d", "e"]
    furniture = [frozenset(), frozenset("a"), frozenset("ab"), frozenset("abc"), frozenset("abcd"), frozenset("bcd")]
    states = [EvidenceState({1: f} if f else {}, {1: w} if w else {}, frozenset([1]) if title else frozenset(),
                            frozenset()) for f in furniture for w in (None, "a", "e") for title in (False, True)]
    checked = 0
    for old in states:
        for new in states:
            asked = any(old.answers_differ(new, 1, site) for site in sites + ["outside"])
            assert old.differ_somewhere(new, 1) == asked
            checked += asked
    assert 0 < checked < len(states) ** 2


def test_edge_lines_credit_an_outlet_learnt_later_at_lineage_time():
    from_edge = member_from_article(
        {"url": "http://copy.example/a", "site": "copy.example", "paragraphs": [],
         "attribution": {"edge_lines": ["Julkaistu alun perin sivustolla Civic Wire.", "Port strike ends"]}},
        lambda url: url.split("/")[2], lambda url: url, lambda name: None,
        read_edge_line=lambda line, site: ("civicwire.example", "source") if "Civic Wire" in line else None)
    assert from_edge.credited_hosts == {"civicwire.example"}


def test_furniture_has_a_writer_only_when_one_site_holds_most_of_its_pages():
    """A site's note, carried by a page copied from it elsewhere, was written by that site; spam that two sites
    insert alike was written by neither."""
    spam = "Earn passive income from home with our proven crypto signals. Join thousands now."
    pages = [("a.example", [NOTE])] * 4 + [("b.example", [NOTE, spam])] + [("b.example", [spam])] * 2 + \
        [("c.example", [spam])] * 3
    texts = {f"http://{site}/{i}": ArticleText(site, "", paragraph_hashes([f"{site} page {i}", *lines]), None)
             for i, (site, lines) in enumerate(pages)}
    writers = find_furniture(Corpus(texts, []), OPTIONS).writers
    assert writers[paragraph_hash(paragraph_key(NOTE))] == "a.example"
    assert paragraph_hash(paragraph_key(spam)) not in writers


def test_a_site_whose_credit_lines_are_all_found_on_other_sites_writes_none(store):
    """The scraper's three credited pages carry lines other sites wrote: it writes no credit of its own. A site
    with one line no other site has writes its own; one with two such credited pages is judged from two pages
    (``LineageOptions.carried_min_pages``), not from three."""
    lines = {"a": "Reprinted with permission from Common Dreams.", "b": "Source: The Open Record.",
             "c": "This article originally appeared on Civic Wire."}
    for i, (site, line) in enumerate([("a", lines["a"]), ("b", lines["b"]), ("c", lines["c"]),
                                      ("scraper", lines["a"]), ("scraper", lines["b"]), ("scraper", lines["c"]),
                                      ("few", lines["a"]), ("few", lines["b"])]):
        add(store, f"http://{site}.example/{i}", STORY, attribution={"statements": [line]})
    evidence = LineageEvidence(store, Furniture({}))
    assert credit_sites(store, evidence.credited_hosts, 3, 2)[0] == {"scraper.example"}
    assert credit_sites(store, evidence.credited_hosts, 2, 2)[0] == {"scraper.example", "few.example"} \
        == evidence.state.uncrediting


def test_a_site_crediting_two_outlets_on_two_pages_republishes_copies(store):
    """The relay names two other outlets (the copy it took and its source) on two pages; a site doing so once,
    or naming one outlet, is not taken for one."""
    two = {"credits": [{"outlet": "B", "host": "b.example", "url": None, "role": "source", "text": "Via B"},
                       {"outlet": "C", "host": "c.example", "url": None, "role": "source", "text": "Source: C"}]}
    one = {"credits": two["credits"][:1]}
    for i, (site, attribution) in enumerate([("relay", two), ("relay", two), ("once", two), ("once", one),
                                             ("plain", one), ("plain", one)]):
        add(store, f"http://{site}.example/{i}", STORY, attribution=attribution)
    evidence = LineageEvidence(store, Furniture({}))
    assert credit_sites(store, evidence.credited_hosts, 3, 2)[1] == {"relay.example"} == evidence.state.relaying


def test_kept_page_facts_follow_a_changed_page_and_a_new_outlet(store):
    """Page facts (what credits say, the title) are kept between passes; a page written again with other credits,
    an outlet made known and a title settled drop the facts they change (triggers), so the next pass reads what a
    fresh read of every page reads: the scraper's line becomes its own once no other site holds it; pages
    crediting two outlets by name alone relay copies once those outlets are known; the new title is a title."""
    lines = ["Reprinted with permission from Common Dreams.", "Source: The Open Record."]
    named = {"credits": [{"outlet": name, "host": None, "url": None, "role": "source", "text": f"Via {name}"}
                         for name in ("Bee News", "Sea Post")]}
    for i, (site, line) in enumerate([("a", lines[0]), ("b", lines[1]), ("scraper", lines[0]), ("scraper", lines[1])]):
        add(store, f"http://{site}.example/{i}", STORY, attribution={"statements": [line]})
    for i in range(2):
        add(store, f"http://relay.example/{i}", STORY, attribution=named)

    def evidence(fresh=False):
        found = LineageEvidence(store, Furniture({}), 2, 2, fresh=fresh).state
        return found.uncrediting, found.relaying

    assert evidence() == ({"scraper.example"}, set())
    assert len(_kept_facts(store.path)) == 6
    add(store, "http://a.example/0", STORY, attribution={"statements": ["Courtesy of another wire."]})
    assert evidence() == (set(), set()) == evidence(fresh=True)
    store.save_outlet("bee.example", "Bee News")
    store.save_outlet("sea.example", "Sea Post")
    assert evidence() == (set(), {"relay.example"}) == evidence(fresh=True)
    store.set_titles([("http://b.example/1", "A headline settled since")])
    titles = LineageEvidence(store, Furniture({})).state.titles
    assert paragraph_hash(paragraph_key("A headline settled since")) in titles
    assert titles == LineageEvidence(store, Furniture({}), fresh=True).state.titles


def test_a_file_without_page_facts_has_them_made_by_its_next_pass(db_path):
    """A file written by an older syndtrace (schema 12) keeps no page facts: opened, it gets the table, and
    its next pass reads every page's credits, as a rebuild does, and keeps them."""
    store = Store(db_path)
    add(store, "http://copy.example/1", STORY, attribution={"statements": ["Source: The Open Record."]})
    store.close()
    with sqlite3.connect(db_path) as conn:   # as an older syndtrace leaves it
        conn.execute("drop table page_facts")
        conn.execute("update meta set value = '12' where key = 'schema_version'")
    store = Store(db_path)
    assert _kept_facts(db_path) == []
    update_stories(store)
    assert _kept_facts(db_path) == [("http://copy.example/1", 1)]
    store.close()


def _kept_facts(path: str) -> list[tuple[str, int]]:
    """(url, carries credit lines) of every page's kept facts."""
    with sqlite3.connect(path) as conn:
        return conn.execute("select url, credits from page_facts order by url").fetchall()


class _Counted:
    """A value that counts how many times this process unpickled one."""

    loads = 0

    def __init__(self, size: int):
        self.items = list(range(size))

    def __setstate__(self, state: dict) -> None:
        type(self).loads += 1
        self.__dict__.update(state)


def _loads_seen(shared: Shipped[_Counted]) -> tuple[int, int, int]:
    return os.getpid(), _Counted.loads, len(shared.value.items)


def test_a_value_every_batch_reads_crosses_to_each_worker_once():
    """Lineage's evidence of the whole database grows with the articles, and so does the number of batches of
    stories: shipped with every batch, its pickling grew with their square. A batch carries a handle, and each
    worker loads the value once."""
    value = _Counted(50_000)
    with Shipped(value) as shared, KernelPool(2) as pool:
        assert len(pickle.dumps(shared)) < 1000
        seen = [found for _, found in pool.map(_loads_seen, ((i, (shared,)) for i in range(12)))]
        assert shared.value is value
    assert {size for _, _, size in seen} == {50_000}
    assert os.getpid() not in {pid for pid, _, _ in seen}
    assert {loads for _, loads, _ in seen} == {1}


def _frozen(i: int) -> tuple[int, int]:
    return os.getpid(), gc.get_freeze_count()


def test_a_grouping_worker_keeps_what_it_inherits_out_of_its_garbage_collector():
    """A worker forks with the pass's corpus, plan and evidence on the heap: its collections would go through
    them all, touching (and so copying) every page they lie on. What it inherits is frozen (``gc.freeze``)."""
    held = [[i] for i in range(100_000)]   # objects on the heap at the fork
    with KernelPool(2) as pool:
        seen = [found for _, found in pool.map(_frozen, ((i, (i,)) for i in range(4)))]
    assert os.getpid() not in {pid for pid, _ in seen}
    assert min(count for _, count in seen) >= len(held)


def test_members_read_with_the_evidences_memory_are_those_read_without(store):
    """The evidence remembers each paragraph's key and heading flag (copies share most paragraphs)."""
    add(store, "http://a.example/1", STORY)
    paragraphs = ["Budget talks.", *STORY, "Budget Talks", "\u2014 \u2014", "", STORY[0], "Budget Talks"]
    article = {"url": "http://b.example/1", "site": "b.example", "paragraphs": paragraphs, "canonical": None}
    evidence = LineageEvidence(store, Furniture({}))
    plain = member_from_article(dict(article), lambda u: u.split("/")[2], evidence.resolve, lambda name: None)
    assert evidence.member(dict(article)) == evidence.member(dict(article)) == plain
    assert plain.headings == {"budget talks", ""} and evidence.paragraphs["Budget Talks"] == read_paragraph("Budget Talks")


def test_the_credited_hosts_lineage_evidence_reads_are_a_members(store):
    """The credit evidence reads only each crediting page's credited hosts (``credited_hosts_of``): they are its
    member's, for credits given by host, by link, by an outlet's name known or not, roles that are no source, and
    credit-cue and edge lines naming an outlet learnt later or none."""
    store.save_outlet("known.example", "Known Outlet")
    attributions = [
        {"credits": [{"outlet": "B", "host": "b.example", "url": None, "role": "source", "text": "Via B"}]},
        {"credits": [{"outlet": None, "host": None, "url": "http://linked.example/x", "role": "via", "text": "Via"}]},
        {"credits": [{"outlet": "Known Outlet", "host": None, "url": None, "role": "agency", "text": "Known Outlet"},
                     {"outlet": "Unknown Outlet", "host": None, "url": None, "role": "source", "text": "From U"}]},
        {"credits": [{"outlet": "C", "host": "c.example", "url": None, "role": "photo", "text": "Photo: C"}]},
        {"cue_lines": ["This story first appeared in Known Outlet."], "edge_lines": ["Known Outlet", "Nothing here"]},
        {"edge_lines": ["Reprinted from Known Outlet with permission."]},
    ]
    for i, attribution in enumerate(attributions):
        add(store, f"http://site{i}.example/{i}", STORY, attribution=attribution)
    sources = [source for page in store.unread_page_facts() for *_, source in page if source is not None]
    evidence = LineageEvidence(store, Furniture({}))
    found = [evidence.credited_hosts(source) for source in sources]
    assert found == [evidence.member(source).credited_hosts for source in sources]
    assert len(sources) == 6 and {"b.example", "linked.example", "known.example"} <= set().union(*found)


def test_stories_are_traced_in_the_order_their_first_page_lies_in_the_file():
    """A full pass reads texts in file order and ranks each URL by where it was read; stories then go to lineage
    in the order of their first (smallest) page's place, so copies stored together are read together."""
    read = ["http://c/1", "http://a/1", "http://d/1", "http://b/1", "http://e/1"]
    corpus = Corpus({u: ArticleText("s", "", np.empty(0, np.uint64), None) for u in sorted(read)}, [], 0, read)
    ranks = corpus.file_ranks()
    assert [read[r] for r in ranks.tolist()] == sorted(read)
    groups = [["http://a/1", "http://e/1"], ["http://b/1"], ["http://d/1", "http://c/1"]]
    assert in_file_order(groups, sorted(read), ranks) == [["http://d/1", "http://c/1"], ["http://a/1", "http://e/1"],
                                                          ["http://b/1"]]
