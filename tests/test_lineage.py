"""Tables for the origin, parent and verdict decisions."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dedupe.normalise import paragraph_key
from dedupe.trace.audit import audit_story, verdict_of
from dedupe.trace.lineage import ancestors, decide
from dedupe.trace.members import Member, member_from_article, parse_when

BODY = [f"Paragraph number {i} of the original report with enough words to count." for i in range(8)]
NOTE = "Note to readers: please click the share buttons above or below. Forward this article."
CREDIT = "The original source of this article is Common Dreams Copyright Jake Johnson, Common Dreams, 2020"


def d(day, hour=12):
    return datetime(2020, 2, day, hour, tzinfo=UTC)


def member(url, site, day=None, paragraphs=BODY, author="Jake Johnson", hosts=(), links=(), names=(),
           canonical=None, license=None, excerpt=False, captured=None):
    return Member(url=url, site=site, published=d(day) if day else None, captured=captured, author=author,
                  paragraph_keys=[paragraph_key(p) for p in paragraphs], credited_hosts=set(hosts),
                  credited_names=set(names), linked_urls=set(links),
                  linked_hosts={u.split("/")[2] for u in links}, canonical=canonical, license=license,
                  excerpt=excerpt)


O = "http://cd.example/news/bombshell"
G = "http://gr.example/bombshell/5690015"
W = "http://wad.example/2020/02/12/bombshell"
S = "http://scraper.example/bombshell"
E = "http://agg.example/bombshell-excerpt"


def seed_story():
    return [
        member(O, "cd.example", 7, license="CC BY-NC-ND 3.0"),
        member(G, "gr.example", 10, BODY + [NOTE, CREDIT], hosts={"cd.example"}, links={O}),
        member(W, "wad.example", 12, BODY + [NOTE, CREDIT], hosts={"cd.example"}),
        member(S, "scraper.example", 8, BODY[:6] + ["Earn passive income from crypto now!"] + BODY[6:], author="admin"),
        member(E, "agg.example", 8, BODY[:3] + ["Read the full article at Common Dreams"], hosts={"cd.example"},
               links={"http://cd.example/"}, excerpt=True),
    ]


def test_origin_is_the_credited_page_even_when_a_scrape_claims_an_earlier_date():
    ms = seed_story()
    ms[3].published = d(6)   # the scraper back-dates its copy
    decisions = decide(ms)
    assert decisions[O].parent is None and decisions[O].signal == "credited-by-copies"
    assert all(dec.origin == O for dec in decisions.values())


def test_one_chain_credit_does_not_outweigh_an_earlier_date():
    """A scrape credited only by the chain copy that took it is later than the uncredited original."""
    origin = member(O, "cd.example", 7, author="Jake Johnson")
    scrape = member(S, "scraper.example", 8, BODY + ["Earn passive income from crypto now!"], author=None)
    chain = member(W, "wad.example", 9, BODY + ["Earn passive income from crypto now!"], hosts={"scraper.example"})
    decisions = decide([scrape, chain, origin])
    assert decisions[O].signal == "earliest-published" and decisions[O].parent is None
    assert decisions[S].parent == O and decisions[W].parent == S


def test_date_only_values_are_not_compared_beyond_their_precision():
    origin = member(O, "cd.example", 7, author="Jake Johnson")
    origin.published = datetime(2020, 2, 7, 20, tzinfo=timezone(timedelta(hours=-5)))   # 8 Feb 01:00 UTC
    scrape = member(S, "scraper.example", None, BODY)
    scrape.published, scrape.date_only = datetime(2020, 2, 7, tzinfo=UTC), True
    excerpt = member(E, "agg.example", 9, BODY[:3], hosts={"cd.example"}, excerpt=True)
    assert decide([scrape, origin, excerpt])[O].parent is None      # same day, maybe: the credit settles it
    scrape.date_only = False                                         # 7 Feb 00:00 UTC, surely earlier
    assert decide([scrape, origin, excerpt])[S].parent is None


@pytest.mark.parametrize("url,parent,signal", [
    (G, O, "credits-origin"),
    (W, G, "carries-edits"),          # carries Global Research's note: a chain A→B→C
    (S, O, "default-origin"),
    (E, O, "credits-origin"),
])
def test_parents(url, parent, signal):
    decisions = decide(seed_story())
    assert (decisions[url].parent, decisions[url].signal) == (parent, signal)


def test_chain_ancestors():
    decisions = decide(seed_story())
    assert ancestors(W, decisions) == [G, O]


@pytest.mark.parametrize("url,verdict", [
    (O, "origin"), (G, "credited"), (W, "partial"), (S, "uncredited"), (E, "credited"),
])
def test_verdicts(url, verdict):
    ms = seed_story()
    results = {r.url: r for r in audit_story(ms, decide(ms))}
    assert results[url].verdict == verdict


def test_excerpt_without_the_byline_is_partial():
    ms = seed_story()
    ms[4].author = None
    results = {r.url: r for r in audit_story(ms, decide(ms))}
    assert results[E].verdict == "partial" and results[E].links_to_origin


def test_misattributed_names_an_outlet_outside_the_chain():
    ms = [member(O, "cd.example", 7), member("http://sloppy.example/x", "sloppy.example", 9, hosts={"reuters.example"})]
    results = {r.url: r for r in audit_story(ms, decide(ms))}
    assert results["http://sloppy.example/x"].verdict == "misattributed"


def test_origin_without_credit_is_the_earliest_published():
    ms = [member("http://b.example/1", "b.example", 9), member("http://a.example/1", "a.example", 7),
          member("http://c.example/1", "c.example", None, captured=d(1))]
    assert decide(ms)["http://a.example/1"].signal == "earliest-published"


def test_canonical_pointing_at_another_copy_excludes_the_page():
    ms = [member("http://b.example/1", "b.example", 5, canonical="http://a.example/1"),
          member("http://a.example/1", "a.example", 7)]
    decisions = decide(ms)
    assert decisions["http://a.example/1"].parent is None


def test_updated_origin_stays_the_origin():
    update = "Update (Feb 20): This article has been updated to include a response from the agency."
    ms = [member(O, "cd.example", 7, BODY + [update]), member(S, "scraper.example", 9)]
    assert decide(ms)[O].parent is None


@pytest.mark.parametrize("co,cp,links,author,other,expected", [
    (True, True, True, True, False, "credited"),
    (True, True, True, False, False, "partial"),
    (True, False, False, True, False, "partial"),
    (False, True, False, True, False, "partial"),
    (False, False, True, True, False, "partial"),
    (False, False, False, True, False, "uncredited"),
    (False, False, False, False, True, "misattributed"),
    (True, False, True, True, True, "credited"),
    (False, True, False, False, True, "partial"),
])
def test_verdict_rules(co, cp, links, author, other, expected):
    assert verdict_of(co, cp, links, author, other) == expected


def test_licence_conflict_for_edited_copy_of_no_derivatives_original():
    ms = [member(O, "cd.example", 7, license="CC BY-ND 4.0"),
          member(G, "gr.example", 9, BODY[:5] + BODY[6:], hosts={"cd.example"}, links={O})]
    results = {r.url: r for r in audit_story(ms, decide(ms))}
    assert any("no derivatives" in c for c in results[G].conflicts)
    assert results[G].removed == [paragraph_key(BODY[5])]


def test_parse_when():
    assert parse_when("2020-02-10") == datetime(2020, 2, 10, tzinfo=UTC)
    assert parse_when("2020-02-10T09:12:00-05:00").utcoffset().total_seconds() == -5 * 3600
    assert parse_when("not a date") is None and parse_when(None) is None


SIGN_OFF = "— Jake Johnson"   # a layout printing the byline under the text
B_NOTE = "Reposted for our readers. Emphasis ours."
B, C = "http://b.example/p/bombshell", "http://c.example/2020/02/11/bombshell"


def wrote_by(site, line):
    return lambda key, s: s == site and key == paragraph_key(line)


def test_a_note_the_parent_site_wrote_gives_the_parent_even_when_it_shows_no_date():
    """B (no date) carries its site's note and a sign-off of its byline; C (dated) carries B's note: C was taken
    from B. Without knowing who wrote the note, the undated page counts as the later one and is not chosen."""
    ms = [member(O, "cd.example", 7), member(B, "b.example", None, BODY + [B_NOTE, CREDIT, SIGN_OFF]),
          member(C, "c.example", 11, BODY + [B_NOTE, CREDIT])]
    assert decide(ms, wrote=wrote_by("b.example", B_NOTE))[C].parent == B
    assert decide(ms)[C].parent == O


def test_a_page_holding_what_the_copy_site_wrote_is_not_its_parent():
    """The undated B holds C's own note: B was taken from C, not the other way round, though B has no edit
    of its own."""
    c_note = "Editor's note: the views expressed in republished articles are the authors' own."
    ms = [member(O, "cd.example", 7), member(B, "b.example", None, BODY + [c_note, CREDIT]),
          member(C, "c.example", 11, BODY + [c_note, CREDIT, "A paragraph C added of its own, long enough."])]
    decisions = decide(ms, wrote=wrote_by("c.example", c_note))
    assert decisions[C].parent == O and decisions[B].parent == C


def test_a_credit_line_to_the_origin_is_nobody_s_own_writing():
    """Two copies crediting the origin in the same words stay apart even when one site often writes that line."""
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9, BODY + [CREDIT]),
          member(C, "c.example", 11, BODY + [CREDIT], hosts={"cd.example"})]
    ms[1].credit_keys = ms[2].credit_keys = {paragraph_key(CREDIT): "cd.example"}
    assert decide(ms, wrote=wrote_by("b.example", CREDIT))[C].parent == O


def test_a_credit_read_by_outlet_name_is_a_credit_line_to_that_outlet():
    """A credit line whose outlet had no known host when the page was read still names it once the crawl knows
    the outlet, so two copies crediting the origin in the same words are not taken for a shared note."""
    article = {"url": C, "site": "c.example", "paragraphs": BODY + [CREDIT], "attribution": {"credits": [
        {"outlet": "Common Dreams", "host": None, "url": None, "role": "source", "text": CREDIT}]}}
    m = member_from_article(article, lambda u: u.split("/")[2], lambda u: u,
                            lambda name: "cd.example" if name == "Common Dreams" else None)
    assert m.credit_keys[paragraph_key(CREDIT)] == "cd.example" and "cd.example" in m.credited_hosts


def test_a_link_to_a_copy_of_the_same_calendar_day_names_the_parent():
    """C shows only the day B was published on (its midday comes before B's hour) and links B's page: the date
    cannot order them, the link names the page C came through."""
    ms = [member(O, "cd.example", 7), member(B, "b.example", 11, BODY + [CREDIT], hosts={"cd.example"}),
          member(C, "c.example", None, BODY + [CREDIT], hosts={"cd.example", "b.example"}, links={B})]
    ms[1].published = datetime(2020, 2, 11, 20, tzinfo=UTC)
    ms[2].published, ms[2].date_only = datetime(2020, 2, 11, tzinfo=UTC), True
    assert decide(ms)[C].parent == B


def test_a_named_outlet_is_the_parent_only_if_the_copy_could_have_come_through_it():
    """C names B's outlet as its source but carries nothing of B's and does not credit the origin: a
    misattribution, taken from the origin. Naming the origin as well is the usual credit down a chain."""
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9, BODY + [B_NOTE], hosts={"cd.example"}),
          member(C, "c.example", 11, BODY, hosts={"b.example"})]
    assert decide(ms)[C].parent == O and decide(ms)[C].signal == "default-origin"
    ms[2].credited_hosts.add("cd.example")
    assert decide(ms)[C].parent == B
    ms[1].paragraph_keys = ms[1].paragraph_keys[:4] + ms[1].paragraph_keys[5:]   # B dropped what C holds
    assert decide(ms)[C].parent == O


def test_a_misspelt_word_a_copy_carries_names_its_parent():
    """B misspelt a word of the original and C has it so: C came through B, though neither added a line."""
    typo = BODY[3].replace("original", "orignal")
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9, BODY[:3] + [typo] + BODY[4:]),
          member(C, "c.example", 11, BODY[:3] + [typo] + BODY[4:])]
    assert decide(ms)[C].parent == B
    ms[2].paragraph_keys = [paragraph_key(p) for p in BODY]
    assert decide(ms)[C].parent == O


def test_of_pages_the_dates_cannot_order_a_scrape_is_not_the_original():
    """The scrape shows only the day (its midday comes first) and carries spam other sites insert too, without
    the author the other pages show."""
    spam = "Earn passive income from home with our proven crypto signals."
    origin = member(O, "cd.example", 7)
    origin.published = datetime(2020, 2, 7, 19, tzinfo=UTC)
    scrape = member(S, "scraper.example", 7, BODY + [spam], author=None)
    scrape.published, scrape.date_only = datetime(2020, 2, 7, tzinfo=UTC), True
    copy = member(G, "gr.example", 9, BODY[:7])   # credits nobody: no vote for either
    assert decide([origin, scrape, copy])[S].parent is None
    decisions = decide([origin, scrape, copy], generic=lambda key, site: key == paragraph_key(spam))
    assert decisions[O].parent is None and decisions[S].parent == O


def test_a_link_names_the_parent_unless_it_came_with_the_text():
    """S (no date) scraped the original with spam; B and C both took S's text, and C's credit links S: C came
    through S, not through the dated B that holds the same spam. When B's credit links S too and W carries
    B's note and that link, the link came with B's text: W came through B."""
    spam = "Earn passive income from home with our proven crypto signals today."
    ms = [member(O, "cd.example", 7), member(S, "scraper.example", None, BODY + [spam], author=None),
          member(B, "b.example", 9, BODY + [spam, B_NOTE], author=None),
          member(C, "c.example", 10, BODY + [spam], author=None, hosts={"scraper.example", "cd.example"}, links={S}),
          member(W, "wad.example", 12, BODY + [spam, B_NOTE], author=None, hosts={"scraper.example", "cd.example"}, links={S})]
    decisions = decide(ms, wrote=wrote_by("b.example", B_NOTE))
    assert decisions[C].parent == S and decisions[C].signal == "credits-copy"
    assert decisions[W].parent == S
    ms[2].linked_urls = {S}
    assert decide(ms, wrote=wrote_by("b.example", B_NOTE))[W].parent == B


def test_a_credit_line_on_a_site_that_writes_none_came_from_the_page_holding_it():
    """A scraper's undated page credits the origin in B's words: two copies crediting alike prove little, but
    a site that never writes a credit of its own took the line with B's text."""
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9, BODY + [CREDIT], hosts={"cd.example"}),
          member(S, "scraper.example", None, BODY + [CREDIT], hosts={"cd.example"}, author="admin")]
    ms[1].credit_keys = ms[2].credit_keys = {paragraph_key(CREDIT): "cd.example"}
    assert decide(ms)[S].parent == O
    assert decide(ms, carries_credits=lambda site: site == "scraper.example")[S].parent == B


def test_an_undated_page_with_as_many_edits_of_its_own_is_the_later_one():
    """N (dated) credits the origin and misspelt a word; the undated S has the misspelling and a spam line: each
    has one edit of its own, N's credit line weighing as a credit line. Of the two, the dated N is the earlier:
    S came from N, not N from S."""
    typo = BODY[3].replace("original", "orignal")
    spam = "Advertisement: cheap flights, hotels and car rentals, book today."
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9, BODY[:3] + [typo] + BODY[4:] + [CREDIT]),
          member(S, "scraper.example", None, BODY[:3] + [typo] + BODY[4:] + [spam], author="admin")]
    ms[1].credit_keys = {paragraph_key(CREDIT): "cd.example"}
    decisions = decide(ms, generic=lambda key, site: key == paragraph_key(spam))
    assert decisions[B].parent == O and decisions[S].parent == B


def test_of_two_candidates_with_the_same_edits_the_one_closest_before_the_copy_is_its_parent():
    """B misspelt a word; C took B's text unchanged; D, a day after C, has the misspelling: B and C carry the
    same evidence, and the page published closer before D is the likelier source."""
    typo = BODY[3].replace("original", "orignal")
    edited = BODY[:3] + [typo] + BODY[4:]
    ms = [member(O, "cd.example", 7), member(B, "b.example", 8, edited), member(C, "c.example", 10, edited),
          member(W, "wad.example", 11, edited)]
    assert decide(ms)[W].parent == C


def test_a_credit_line_on_a_site_that_republishes_copies_names_the_copy_holding_it():
    """W credits the origin in B's words and nothing else links them: two copies may write the same line, so W
    is the origin's copy; but a site that republishes copies (crediting two outlets on other pages) likely took
    the line with B's text."""
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9, BODY + [CREDIT], hosts={"cd.example"}),
          member(W, "wad.example", 11, BODY + [CREDIT], hosts={"cd.example"})]
    ms[1].credit_keys = ms[2].credit_keys = {paragraph_key(CREDIT): "cd.example"}
    assert decide(ms)[W].parent == O
    assert decide(ms, relays=lambda site: site == "wad.example")[W].parent == B


def test_an_undated_page_with_the_same_edits_may_be_the_source_of_a_site_that_republishes_copies():
    """The undated S and the dated W carry the same misspelling and spam line: the dates cannot order them.
    W's site republishes copies, so W may have taken them from S; otherwise the dated page counts as the
    earlier."""
    typo = BODY[3].replace("original", "orignal")
    spam = "Advertisement: cheap flights, hotels and car rentals, book today."
    text = BODY[:3] + [typo] + BODY[4:] + [spam]
    ms = [member(O, "cd.example", 7), member(S, "scraper.example", None, text, author="admin"),
          member(W, "wad.example", 11, text, author="admin")]
    generic = lambda key, site: key == paragraph_key(spam)
    assert decide(ms, generic)[S].parent == W
    decisions = decide(ms, generic, relays=lambda site: site == "wad.example")
    assert decisions[W].parent == S and decisions[S].parent == O


def shared_edits_parents() -> dict[str, list]:
    """Parents in a story whose copies share one addition and two new paragraph orders, each held by four
    pages: the evidence for the second copy's parent is 1/3 + 1/12 + 1/12, exactly ``min_parent_score``."""
    added = "A paragraph every copy added to the report, with words of its own."
    copied = [BODY[1], BODY[0], *BODY[2:], added]
    story = [member("http://o.example/a", "o.example", 7)] + [
        member(f"http://{s}.example/a", f"{s}.example", day, copied) for s, day in (("p", 8), ("c", 9), ("x", 11), ("y", 12))]
    return {url: [d.parent, d.signal] for url, d in sorted(decide(story).items())}


def test_parents_do_not_depend_on_the_process_s_string_hashing():
    """A sum over a set of edits followed the set's order, which each process's string hashing changes: its
    last bit put that evidence over or under the threshold, so two rebuilds of one database (a local one and
    a Spark driver's) could give different parents."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = "import json; from tests.test_lineage import shared_edits_parents as f; print(json.dumps(f()))"
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                                      env={**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": root}).stdout)
            for seed in range(4)]
    assert all(run == runs[0] for run in runs)
    assert runs[0]["http://c.example/a"] == ["http://p.example/a", "carries-edits"]


def test_a_headline_two_copies_alone_share_names_the_parent_unless_a_version_of_the_origin_shows_it():
    """B re-headlined the report and W shows B's headline, nothing else links them: a rewrite two copies alone
    share is likelier a copy's and its parent's. A page of the origin's site with that headline (an updated
    version of the running story) makes it the origin's own: copies of that version share it."""
    rewrite = "Bombshell report, analysis"
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9), member(W, "wad.example", 11)]
    ms[0].title = "Bombshell report"
    ms[1].title = ms[2].title = rewrite
    assert decide(ms)[W].parent == B
    update = member("http://cd.example/news/bombshell-update", "cd.example", 8)
    update.title = rewrite
    assert decide([*ms, update])[W].parent == O


def test_a_line_of_a_few_words_that_credits_nobody_says_little_of_who_copied_whom():
    """Two scrapes of the original carry a stray fragment alike (a layout's leftover, like a placeholder byline),
    not words one took from the other. A credit line of as few words still counts."""
    fragment = "751 The U.S."
    ms = [member(O, "cd.example", 7), member(S, "scraper.example", 8, [fragment] + BODY, author="admin"),
          member(W, "wad.example", 9, [fragment] + BODY, author="Editor")]
    assert decide(ms)[W].parent == O
    credit = "Source: Scraper Daily"
    ms[1].paragraph_keys.append(paragraph_key(credit))
    ms[2].paragraph_keys.append(paragraph_key(credit))
    ms[1].credit_keys = ms[2].credit_keys = {paragraph_key(credit): "agg.example"}
    assert decide(ms)[W].parent == S


def test_a_copy_dated_only_by_its_day_may_name_a_copy_published_later_that_day():
    """G shows only the day (its midnight sorts first) and names W, a copy published that evening, as well as
    linking the original: the day cannot put W after G, so G came through W."""
    origin = member(O, "cd.example", 7)
    relay = member(W, "wad.example", 10, BODY + [CREDIT], hosts={"cd.example"}, links={O})
    relay.published = datetime(2020, 2, 10, 19, tzinfo=UTC)
    chain = member(G, "gr.example", 10, BODY + [CREDIT], hosts={"cd.example", "wad.example"}, links={O})
    chain.published, chain.date_only = datetime(2020, 2, 10, tzinfo=UTC), True
    decisions = decide([origin, relay, chain])
    assert decisions[G].parent == W and decisions[G].signal == "credits-copy"
    chain.date_only = False                                          # 10 Feb 00:00 UTC: surely before W
    assert decide([origin, relay, chain])[G].parent == O


def test_a_copy_that_credits_nobody_and_shows_a_copy_s_headline_came_through_that_copy():
    """B re-headlined the report and credits the origin and itself ("... wrote this for B"); the scrape S shows
    B's headline and no credit at all: it dropped every credit line, so B's lines it lacks do not count against
    B. A copy that credits someone dropped B's lines by choice: they still count."""
    mine = "Jake Johnson wrote this article for B Daily."
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9, BODY + [CREDIT, mine], hosts={"cd.example"}),
          member(S, "scraper.example", 11, author="admin")]
    ms[0].title = "Bombshell report"
    ms[1].title = ms[2].title = "Bombshell report | Analysis"
    ms[1].credit_keys = {paragraph_key(CREDIT): "cd.example", paragraph_key(mine): "b.example"}
    assert decide(ms)[S].parent == B
    ms[2].credit_keys = {paragraph_key("Source: Common Dreams"): "cd.example"}
    assert decide(ms)[S].parent == O


def test_a_candidate_s_headline_the_copy_does_not_show_counts_against_it():
    """W, on a site that republishes copies, credits the origin in B's words, but shows the origin's headline,
    not B's rewrite: it did not take B's page. B's headline with words of W's own around it, or cut short with an
    ellipsis, is B's, kept."""
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9, BODY + [CREDIT], hosts={"cd.example"}),
          member(W, "wad.example", 11, BODY + [CREDIT], hosts={"cd.example"})]
    ms[0].title = ms[2].title = "Bombshell report on the ministry's budget"
    ms[1].title = "Bombshell report on the ministry's budget, analysis"
    ms[1].credit_keys = ms[2].credit_keys = {paragraph_key(CREDIT): "cd.example"}
    assert decide(ms, relays=lambda site: site == "wad.example")[W].parent == O
    ms[2].title = "Bombshell report on the ministry's budget, ..."
    assert decide(ms, relays=lambda site: site == "wad.example")[W].parent == B
    ms[2].title = "Must read: bombshell report on the ministry's budget, analysis"
    assert decide(ms, relays=lambda site: site == "wad.example")[W].parent == B


def test_a_byline_line_in_the_text_is_the_layout_s_not_an_addition():
    """B's layout prints its byline as a line of the text ("Written by: ..."); S shows B's headline without that
    line. The line is not an addition of B's that S lacks."""
    ms = [member(O, "cd.example", 7), member(B, "b.example", 9, ["Written by: Jake Johnson", *BODY]),
          member(S, "scraper.example", 11, author="admin")]
    ms[0].title = "Bombshell report"
    ms[1].title = ms[2].title = "Bombshell report | Analysis"
    assert decide(ms)[S].parent == B


def test_of_two_candidates_with_the_same_evidence_the_one_without_credit_lines_the_copy_lacks_is_closer():
    """N re-headlined the report and inserted a line; B took N's page and credits N; S shows the headline and the
    line, and no credit. B's credit line does not count against B, but B added it since N: N is S's source."""
    spam = "Related: top ten stocks experts say you should buy right now"
    line = "First published by N Daily."
    ms = [member(O, "cd.example", 7), member(C, "n.example", 8, BODY + [spam]),
          member(B, "b.example", 9, BODY + [spam, line], hosts={"n.example"}),
          member(S, "scraper.example", 11, BODY + [spam], author="admin")]
    ms[0].title = "Bombshell report"
    ms[1].title = ms[2].title = ms[3].title = "Bombshell report | Analysis"
    ms[2].credit_keys = {paragraph_key(line): "n.example"}
    assert decide(ms)[S].parent == C
