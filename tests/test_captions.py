"""Caption-only captures of a story's page (a share widget's headline and deck) join the story; short pages
that share a quote or a common phrase with it do not."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.storage.records import FetchRecord
from dedupe import stages
from dedupe.align import loose_passage
from dedupe.group import cluster
from dedupe.normalise import paragraph_hashes
from dedupe.openings import batch_opening_keys
from dedupe.options import GroupingOptions
from dedupe.pipeline import update_stories
from dedupe.relate import Edge, _closed_quotes, caption_chains
from dedupe.signature import shingle_hashes_in_order, word_hashes

LEAD = ("The city council voted on Tuesday night to close two branch libraries in the northern districts and move "
        "their collections to a new central building downtown, ending a two-year fight over the plan.")
SECOND = ("Officials said the decision, reached after a six-hour meeting that drew hundreds of residents, would save "
          "about four million dollars a year and let the library system extend opening hours at the remaining "
          "branches.")
BODY = [f"Paragraph {i} of the library story: the union, the architects, the readers' petition and the budget "
        f"office each had a say, and number {i} of the council members spoke against it at length." for i in range(6)]
STORY = [LEAD, SECOND, *BODY]
# the headline and a deck cut from the second paragraph (words dropped: no five-word run of the story is whole)
DECK = ("Officials said decision reached after six-hour meeting drew hundreds of residents would save four million "
        "dollars year and let library system extend hours at remaining branches")
CAPTION = ["Council votes to close two libraries", DECK, "Post to Facebook", "Share by email", "Join the Conversation"]
OTHER = [f"Paragraph {i} of an unrelated report on the harbour, the storm and the fishing fleet's losses this winter, "
         f"with the mayor's comments on insurance." for i in range(8)]


def add(store, url: str, paragraphs: list[str]) -> None:
    store.save_fetch(FetchRecord(url=url, requested_url=url, final_url=url, status=200,
                                 headers={"content-type": "text/html"}, body=(url + repr(paragraphs)).encode(),
                                 fetched_at="2020-01-01T00:00:00+00:00"))
    store.save_article({"url": url, "site": url.split("/")[2], "page_type": "article", "title": url,
                        "paragraphs": paragraphs, "text": "\n".join(paragraphs)})


def stories_of(store, full: bool = False) -> dict[str, str]:
    update_stories(store, full=full)
    return store.member_stories()


def story_pages(store) -> None:
    add(store, "http://origin.example/libraries", STORY)
    add(store, "http://copy.example/libraries", ["By Staff", *STORY, "Copyright the Origin."])
    add(store, "http://other.example/harbour", OTHER)


def test_a_caption_only_capture_of_a_storys_page_joins_the_story(store):
    story_pages(store)
    add(store, "http://widget.example/share-libraries", CAPTION)
    stories = stories_of(store)
    assert stories["http://widget.example/share-libraries"] == stories["http://origin.example/libraries"]
    assert stories["http://other.example/harbour"] != stories["http://origin.example/libraries"]


def test_a_capture_found_in_a_later_pass_joins_the_story_as_in_a_rebuild(store):
    story_pages(store)
    update_stories(store)
    add(store, "http://widget.example/share-libraries", CAPTION)
    incremental = stories_of(store)
    assert incremental["http://widget.example/share-libraries"] == incremental["http://origin.example/libraries"]
    rebuilt = stories_of(store, full=True)
    assert len(set(rebuilt.values())) == len(set(incremental.values()))


def test_short_pages_sharing_a_quote_or_a_common_phrase_with_a_story_do_not_join_it(store):
    story_pages(store)
    quoting = "http://blog.example/quote"
    add(store, quoting, ["A reader writes", f'"{SECOND}" That is what the council said, and nothing more.',
                         "Comments are closed."])
    phrase = "http://parks.example/hours"
    add(store, phrase, ["Parks news", ("The parks department will extend opening hours at the remaining branches of its "
                                       "pools this summer, it said on Monday in a note to residents about swimming.")])
    stories = stories_of(store)
    story = stories["http://origin.example/libraries"]
    assert stories.get(quoting) != story and stories.get(phrase) != story


def test_a_loose_passage_extends_across_dropped_words_but_not_across_long_gaps():
    story = word_hashes("officials said the decision reached after a six hour meeting that drew hundreds".split())
    deck = word_hashes("officials said decision reached after six hour meeting drew hundreds".split())
    kept, s0, s1, t0, t1 = loose_passage(deck, np.zeros(len(deck), dtype=bool), story, 2, 4, 1)
    assert (kept, s0, s1, t0, t1) == (10, 0, 10, 0, 13)
    kept, *_ = loose_passage(deck, np.zeros(len(deck), dtype=bool), story, 2, 0, 1)   # no word of the story dropped
    assert kept < 10
    skip = np.ones(len(deck), dtype=bool)   # quoted words are not matched
    assert loose_passage(deck, skip, story, 2, 4, 1)[0] == 0
    assert loose_passage(deck, np.zeros(len(deck), dtype=bool), story, 2, 4, 11)[0] == 0   # 10 words shared


def partition(stories: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for url, story in stories.items():
        groups.setdefault(story, set()).add(url)
    return {frozenset(urls) for urls in groups.values()}


def test_a_capture_stored_before_its_story_joins_it_in_the_increment_that_brings_the_story(store):
    add(store, "http://widget.example/share-libraries", CAPTION)
    add(store, "http://other.example/harbour", OTHER)
    update_stories(store)
    add(store, "http://origin.example/libraries", STORY)
    incremental = stories_of(store)
    assert incremental["http://widget.example/share-libraries"] == incremental["http://origin.example/libraries"]
    assert partition(incremental) == partition(stories_of(store, full=True))


def test_a_page_another_relation_links_keeps_no_caption_relation():
    """A short page that copies a story (a preview) is not a capture: its caption relation to another story's
    page does not join them; a caption relation alone does."""
    copy = Edge("p/preview", "s/story", 0.9, 0.9, basis="lead", opens="a", len_a=60, len_b=800)
    caption = Edge("p/preview", "t/other", 0.0, 0.0, basis="caption", cover_a=0.5, cover_b=0.05, opens="a",
                   len_a=60, len_b=700)
    assert sorted(map(sorted, cluster([], [copy, caption]).stories)) == [["p/preview", "s/story"], ["t/other"]]
    assert sorted(map(sorted, cluster([], [caption]).stories)) == [["p/preview", "t/other"]]


def test_a_short_page_sharing_a_stock_sentence_with_another_name_in_it_does_not_join_the_story(store):
    story_pages(store)
    stock = ("Asked whether the council would reconsider its position on the libraries, Mary Stone of the "
             "planning office declined to give a direct answer.")
    add(store, "http://origin2.example/harbour-vote", [LEAD.replace("libraries", "harbours"), stock, *OTHER])
    page = "http://petition.example/parks"
    add(store, page, ["Continue reading at the Courier", "For many households in the valley the issue is old. " +
                      stock.replace("Mary Stone", "Felix Kaplan"), "Supporters of the parks petition met on Monday."])
    stories = stories_of(store)
    assert stories.get(page) != stories["http://origin2.example/harbour-vote"]


def dense_loose_passage(short, skip, long, short_gap, long_gap):
    """The chain of ``loose_passage`` by the plain dynamic programme over every cell (the reference)."""
    n, m = len(short), len(long)
    score = np.zeros((n, m), dtype=int)
    first = np.zeros((n, m, 2), dtype=int)
    best = (0, 0, 0, 0, 0)
    for i in range(n):
        for j in range(m):
            if skip[i] or short[i] != long[j]:
                continue
            got, s0, l0 = 1, i, j
            for pi in range(max(i - short_gap - 1, 0), i):
                for pj in range(max(j - long_gap - 1, 0), j):
                    if score[pi, pj] + 1 > got:
                        got, (s0, l0) = score[pi, pj] + 1, first[pi, pj]
            score[i, j], first[i, j] = got, (s0, l0)
            if got > best[0]:
                best = (got, s0, i + 1, l0, j + 1)
    return best


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=40), st.lists(st.integers(0, 6), max_size=60), st.data())
def test_a_loose_passage_is_the_dense_programmes_chain(short, long, data):
    """Only equal cells visited, only the last rows kept: the same chain, ties broken alike (small alphabets:
    many equal words, repeated words in both texts), whatever ``min_words`` up to the chain's length; zeros
    where no run of shared words close enough reaches ``min_words``."""
    skip = np.array(data.draw(st.lists(st.booleans(), min_size=len(short), max_size=len(short))), dtype=bool)
    short_gap, long_gap = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 5))
    a, b = np.array(short, dtype=np.uint64), np.array(long, dtype=np.uint64)
    expected = dense_loose_passage(a, skip, b, short_gap, long_gap)
    assert tuple(loose_passage(a, skip, b, short_gap, long_gap, 1)) == expected
    assert tuple(loose_passage(a, skip, b, short_gap, long_gap, max(expected[0], 1))) == expected
    bound, run, last = 0, 0, -short_gap - 2   # the longest run of shared words a chain could keep
    for i, (w, s) in enumerate(zip(short, skip)):
        if not s and w in set(long):
            run, last = (run + 1 if i - last <= short_gap + 1 else 1), i
            bound = max(bound, run)
    assert expected[0] <= bound
    assert tuple(loose_passage(a, skip, b, short_gap, long_gap, bound + 1)) == (0, 0, 0, 0, 0)


def edge_rows(store) -> list[tuple]:
    return store.grouping_rows()["edges"]


def test_a_capture_that_loses_or_gains_another_relation_has_a_rebuilds_relations(store):
    """Pass 1: a longer page opening with the capture's text links it (no lookup). Pass 2: that page becomes
    another text, so the capture, linked by nothing, is looked up against every stored text and joins the
    story. Pass 3: the page links it again, so its caption relation goes. After each increment, the relations and stories are those a
    rebuild makes."""
    story_pages(store)
    capture, mirror = "http://widget.example/share-libraries", "http://mirror.example/share-libraries"
    add(store, capture, CAPTION)
    add(store, mirror, ["Council votes to close two libraries", DECK, *OTHER])
    first = stories_of(store)
    assert first[capture] == first[mirror] != first["http://origin.example/libraries"]
    add(store, mirror, OTHER[::-1])   # the mirror's page now holds another text
    second = stories_of(store)
    assert second[capture] == second["http://origin.example/libraries"]
    edges = edge_rows(store)
    assert partition(second) == partition(stories_of(store, full=True)) and edges == edge_rows(store)
    assert any("caption" in row for row in edges)
    add(store, mirror, ["Council votes to close two libraries", DECK, *OTHER])
    third = stories_of(store)
    edges = edge_rows(store)
    assert partition(third) == partition(stories_of(store, full=True)) and edges == edge_rows(store)
    assert not any("caption" in row for row in edges)


def test_a_capture_stored_twice_joins_the_story_with_its_copy(store):
    """Two sites carrying the same capture are copies of each other, short both: each is still looked up as a
    capture, and both join the story (a preview linked to its story, a longer text, is not looked up)."""
    story_pages(store)
    add(store, "http://widget.example/share-libraries", CAPTION)
    add(store, "http://widget2.example/share-libraries", CAPTION)
    stories = stories_of(store)
    story = stories["http://origin.example/libraries"]
    assert stories["http://widget.example/share-libraries"] == stories["http://widget2.example/share-libraries"] == story
    assert partition(stories) == partition(stories_of(store, full=True))


def test_a_full_pass_appends_the_signed_rows_an_increment_saves_row_by_row(store):
    """A full pass appends its signatures, band keys and openings with their URL index dropped, and indexes them at
    the end: the same rows as a first increment, which saves each in place of an older one."""
    story_pages(store)
    add(store, "http://widget.example/share-libraries", CAPTION)
    update_stories(store)
    signed = ("signatures", "openings")
    increment = {table: rows for table, rows in store.grouping_rows().items() if table in signed}
    update_stories(store, full=True)
    assert {table: rows for table, rows in store.grouping_rows().items() if table in signed} == increment
    assert increment["openings"] and len(increment["signatures"]) == len(list(store.signed_urls())) == 4


def test_a_full_pass_stopped_while_appending_leaves_the_next_pass_whole(store, monkeypatch, caplog):
    """A full pass stopped after signing, its rows appended (indexed again as it stops): its relations are not
    made, so the next pass runs full, says so, and groups the capture with its story."""
    story_pages(store)
    add(store, "http://widget.example/share-libraries", CAPTION)
    sign_all = stages._sign_all

    def stopped(*args):   # every batch signed and appended
        sign_all(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(stages, "_sign_all", stopped)
    with pytest.raises(KeyboardInterrupt):
        update_stories(store, full=True)
    monkeypatch.undo()
    assert store.grouping_rows()["openings"] and store.full_pass_unfinished()
    with caplog.at_level("WARNING", logger="dedupe.pipeline"):
        report = update_stories(store)
    stories = store.member_stories()
    assert report.full and not store.full_pass_unfinished()
    assert [r.getMessage() for r in caplog.records] == [
        f"the last full grouping pass of {store.path} stopped before its end: this pass groups everything again"]
    assert stories["http://widget.example/share-libraries"] == stories["http://origin.example/libraries"]
    assert partition(stories) == partition(stories_of(store, full=True))


def plain_opening_keys(hashes: np.ndarray, lengths: np.ndarray, options: GroupingOptions) -> np.ndarray:
    """The opening keys of one text, pair by pair (the reference)."""
    n = min(len(hashes), options.caption_lead_words)
    pairs = shingle_hashes_in_order(hashes[:n], 2) if n >= 2 else np.empty(0, dtype=np.uint32)
    return np.array(sorted({int(pairs[i]) for i in range(n - 1)
                            if lengths[i] + lengths[i + 1] >= options.caption_key_letters}), dtype=np.uint32)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 9)), max_size=30), max_size=6))
def test_a_batchs_opening_keys_are_each_texts_own(texts):
    """Texts of any length (none, one word, past the opening), words repeated: each text's keys as made alone."""
    options = GroupingOptions(caption_lead_words=12)   # an opening most drawn texts run past
    hashes = [np.array([w for w, _ in t], dtype=np.uint64) for t in texts]
    lengths = [np.array([n for _, n in t], dtype=np.int64) for t in texts]
    bounds = np.cumsum([0, *(len(h) for h in hashes)])
    made = batch_opening_keys(np.concatenate(hashes) if texts else np.empty(0, dtype=np.uint64),
                              np.concatenate(lengths) if texts else np.empty(0, dtype=np.int64), bounds, options)
    assert len(made) == len(texts)
    for keys, h, n in zip(made, hashes, lengths):
        assert keys.dtype == np.uint32 and np.array_equal(keys, plain_opening_keys(h, n, options))


WORDS = ["deck", "lead", "Council's", "\"quoted", "words\"", "U.S.", "—", "vote", "le café", "2020"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.lists(st.integers(0, len(WORDS) - 1), max_size=12), max_size=12), min_size=1, max_size=5),
       st.data())
def test_a_texts_opening_printed_alone_is_its_whole_prints_opening(texts, data):
    """A text printed only as far as its opening (its word count known) has the whole print's words, quoted
    flags and paragraph starts there, and its word count; furniture and repeated paragraphs dropped first."""
    options = GroupingOptions(caption_lead_words=8, caption_min_words=2)   # an opening most texts run past
    paragraphs = [[" ".join(WORDS[w] for w in p) for p in text] for text in texts]
    banned = [set(data.draw(st.sets(st.sampled_from(sorted(set(paragraph_hashes(p).tolist()) or [0]))))) for p in paragraphs]
    whole = stages.print_batch(list(zip(paragraphs, banned)), options)
    known = [p.printed.n_words for p in whole]
    prints, words = stages._opening_prints(paragraphs, banned, known, options)
    for full, opening, hashes in zip(whole, prints, words):
        n = full.printed.n_words
        assert opening.n_words == n
        assert len(hashes) == n or len(hashes) > options.caption_lead_words
        assert np.array_equal(hashes, full.hashes[:len(hashes)])
        assert np.array_equal(np.unpackbits(opening.quoted, count=len(hashes)), full.quoted[:len(hashes)])
        kept = full.printed.paragraphs[full.printed.paragraphs <= options.caption_lead_words]
        assert np.array_equal(opening.paragraphs[opening.paragraphs <= options.caption_lead_words], kept)
    pairs = [(a, b) for a in range(len(texts)) for b in range(len(texts)) if known[a] <= options.caption_lead_words]
    assert caption_chains(prints, words, pairs, options) == \
        caption_chains([p.printed for p in whole], [p.hashes for p in whole], pairs, options)


def add_titled(store, url: str, title: str, paragraphs: list[str]) -> None:
    add(store, url, paragraphs)
    store.save_article({"url": url, "site": url.split("/")[2], "page_type": "article", "title": title,
                        "paragraphs": paragraphs, "text": "\n".join(paragraphs)})


OPINION = [f"Paragraph {i} of a column on why the council's cuts are a mistake: the writer, a former librarian, "
           f"recalls the reading rooms and the children's hours, and asks who decided, point number {i}." for i in range(7)]


def test_a_preview_held_alike_by_two_stories_goes_with_its_headlines_and_a_new_headline_regroups_it(store):
    """A preview (a story's lead and a link) is held alike by its story and by a column whose photo caption
    quotes that lead: it joins the story whose headline it carries. Its headline changed alone (its text as it
    was), the next increment groups it again as a rebuild does: with neither."""
    headline, preview = "Council votes to close two libraries", "http://teaser.example/watch-libraries"
    add_titled(store, "http://origin.example/libraries", headline, STORY)
    add_titled(store, "http://copy.example/libraries", headline, ["By Staff", *STORY, "Copyright the Origin."])
    caption = f"FILE - In this file photo. {LEAD} (AP Photo/File)"
    for site in ("column.example", "column2.example"):
        add_titled(store, f"http://{site}/library-cuts", "Why the library cuts are a mistake", [caption, *OPINION])
    add_titled(store, preview, f"WATCH: {headline}", [LEAD, "Read the full story."])
    first = stories_of(store)
    assert first[preview] == first["http://origin.example/libraries"] != first["http://column.example/library-cuts"]
    add_titled(store, preview, "Weekend reading", [LEAD, "Read the full story."])
    second = stories_of(store)
    assert second[preview] not in (second["http://origin.example/libraries"], second["http://column.example/library-cuts"])
    rows = store.grouping_rows()
    assert partition(second) == partition(stories_of(store, full=True)) and rows == store.grouping_rows()


QUOTED_LEAD = ("Officials said on Tuesday that the council had voted to close two branch libraries, a decision the chair "
               "called \"a painful but necessary step toward a library system the city can afford for the next twenty "
               "years of budgets\".")
CUT_DECK = ("Officials said council voted to close two branch libraries, decision the chair called \"a painful but "
            "necessary step toward library system the city can afford for")


def test_a_capture_whose_deck_is_cut_inside_a_quotation_joins_the_story(store):
    """The widget cut its deck inside the chair's words: the quotation mark it kept never closes, and the words
    after it count as the story's (before it, too few are left to make a deck), so the capture joins the story."""
    add(store, "http://origin.example/libraries", [QUOTED_LEAD, SECOND, *BODY])
    add(store, "http://copy.example/libraries", ["By Staff", QUOTED_LEAD, SECOND, *BODY])
    add(store, "http://widget.example/share-libraries", ["Council closes two libraries", CUT_DECK, "Share by email"])
    stories = stories_of(store)
    assert stories["http://widget.example/share-libraries"] == stories["http://origin.example/libraries"]


def test_only_a_quotation_opened_inside_a_paragraph_and_left_open_is_taken_back():
    quoted = np.array([0, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1], dtype=bool)   # paragraphs at 0, 5 and 8
    starts = np.array([0, 5, 8], dtype=np.int32)
    # the first paragraph's quotation closes; the second is quoted from its first word (a quotation running over
    # paragraphs); the third opens one after its first word and never closes it
    assert _closed_quotes(quoted, starts).tolist() == [0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0]
