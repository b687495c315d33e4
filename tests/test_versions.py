"""Versions of a running file and parents of chain copies: pure functions on made-up members."""

from datetime import UTC, datetime

from dedupe.normalise import paragraph_key
from dedupe.trace.lineage import decide
from dedupe.trace.members import Member
from dedupe.trace.versions import find_versions, rewrites, similarity

LEAD = ("The city council voted on Tuesday to restore the route 14 bus line after months of complaints from "
        "riders who said the cut left whole neighbourhoods without service.")
REWORDED = ("The city council on Tuesday restored the route 14 bus line, months after riders complained that the "
            "cut had left whole neighbourhoods without a service to the centre.")
BODY = [f"Paragraph {i} of the report tells what the councillors said about the budget and the buses, "
        f"with enough words to count as prose number {i}." for i in range(6)]
NEW = "The transit authority said the first buses would run again from Monday, with the old timetable and stops."


def member(url, day, paragraphs, site=None, author="Ana Ruiz"):
    return Member(url=url, site=site or url.split("/")[2], published=datetime(2024, 3, day, 9, tzinfo=UTC),
                  captured=None, author=author, paragraph_keys=[paragraph_key(p) for p in paragraphs])


def test_word_pair_similarity_separates_typos_rewrites_and_other_paragraphs():
    lead, typo = paragraph_key(LEAD), paragraph_key(LEAD.replace("complaints", "complants"))
    assert similarity(lead, typo) > 0.85
    assert 0.2 <= similarity(lead, paragraph_key(REWORDED)) < 0.7
    assert similarity(lead, paragraph_key(BODY[0])) < 0.2


def test_a_reworded_lead_is_a_rewrite_but_typos_captions_and_joins_are_not():
    take1 = member("http://a.example/1", 1, [LEAD] + BODY)
    take2 = member("http://b.example/2", 2, [REWORDED] + BODY)
    assert [(paragraph_key(LEAD), paragraph_key(REWORDED))] == rewrites(take2, take1)
    typo = member("http://c.example/3", 2, [LEAD.replace("complaints", "complants")] + BODY)
    assert rewrites(typo, take1) == []
    caption = member("http://d.example/4", 2, ["FILE - A bus waits at the depot. " + LEAD + " (Photo: Staff)"] + BODY)
    assert rewrites(take1, caption) == []      # the lead is said again, not rewritten, by its caption
    joined = member("http://e.example/5", 2, [LEAD + " " + BODY[0]] + BODY[1:])
    assert rewrites(joined, take1) == []


def test_versions_follow_the_lineage_and_copies_carry_their_version():
    origin = member("http://wire.example/take1", 1, [LEAD] + BODY)
    copy1 = member("http://one.example/copy", 2, [LEAD] + BODY + ["Reprinted with permission from the wire."])
    take2 = member("http://two.example/take2", 3, [REWORDED] + BODY[:3] + [NEW] + BODY[3:])
    copy2 = member("http://three.example/copy", 4, [REWORDED] + BODY[:3] + [NEW] + BODY[3:5])
    members = [origin, copy1, take2, copy2]
    decisions = decide(members)
    versions = find_versions(members, decisions)
    assert versions.of == {origin.url: 1, copy1.url: 1, take2.url: 2, copy2.url: 2}
    assert [v.url for v in versions.chain] == [origin.url, take2.url]
    change = versions.chain[1].changes
    assert change.rewritten == [(paragraph_key(LEAD), paragraph_key(REWORDED))] and change.added == [paragraph_key(NEW)]


SPAM = "Earn passive income from home with our proven signals, join thousands of happy members today."


def test_a_chain_copy_of_an_undated_scrape_is_taken_from_it_by_the_edits_it_carries():
    # the scrape shows no date (it sorts last) and inserts boilerplate many sites use; the chain copy keeps
    # it at the same place, drops the same paragraph and adds its own
    origin = member("http://origin.example/a", 1, [LEAD] + BODY)
    scrape = Member(url="http://scrape.example/a", site="scrape.example", published=None, captured=None,
                    author="admin", paragraph_keys=[paragraph_key(p) for p in [LEAD] + BODY[:2] + [SPAM] + BODY[3:]])
    chain = member("http://chain.example/a", 3, [LEAD] + BODY[:2] + [SPAM] + BODY[3:] + [NEW], author="admin")
    other = member("http://other.example/a", 2, [LEAD] + BODY + ["Reprinted with permission."])
    decisions = decide([origin, scrape, chain, other], generic=lambda key, site: key == paragraph_key(SPAM))
    assert decisions[chain.url].parent == scrape.url and decisions[chain.url].signal == "carries-edits"
    assert decisions[scrape.url].parent == origin.url      # not the chain copy that came after it
    assert decisions[other.url].parent == origin.url


def test_two_copies_crediting_the_origin_in_the_same_words_are_not_made_parent_and_child():
    credit = "This piece was first published at the Wire and is reproduced here with permission."
    origin = member("http://wire.example/a", 1, [LEAD] + BODY)
    one = member("http://one.example/a", 2, [LEAD] + BODY + [credit])
    two = member("http://two.example/a", 3, [LEAD] + BODY + [credit])
    for m in (one, two):
        m.credit_keys = {paragraph_key(credit): "wire.example"}   # as the attribution reader finds it
    decisions = decide([origin, one, two])
    assert decisions[two.url].parent == origin.url
