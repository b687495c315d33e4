"""Settings of grouping and tracing as data: one options object per concern, each field with its default,
help text, and a comment on how the value was chosen.

None of these values was tuned by a parameter sweep; each is a reasoned default, and the syndweb and
scale figures in ``bench/RESULTS.md`` are measured with them (change one, re-run those benchmarks).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from crawler.errors import UserInputError
from crawler.options import SaveOptions, setting

# the master URLs Spark takes (https://spark.apache.org/docs/latest/submitting-applications.html#master-urls)
_SPARK_MASTER = re.compile(r"local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?|spark://[^\s/:,]+:\d+(,[^\s/:,]+:\d+)*|yarn"
                           r"|k8s://\S+")


@dataclass(frozen=True)
class LineageOptions:
    """How a story's origin and each copy's parent are decided (``dedupe.trace.lineage``)."""

    # two copies may credit the origin in the same words, or carry the same boilerplate, by chance, and a new
    # order of paragraphs mostly comes with an addition or drop already counted: such shared edits only add
    # to others (alone, held by the copy and its candidate only, they stay under min_parent_score)
    weak_edit_weight: float = setting(0.25, "Weight of shared boilerplate, a subheading or a new paragraph order "
                                            "(a shared paragraph of its own: 1).")
    # of the headlines unlike the origin's that two copies alone show, on syndweb's five baseline webs, 29 of 41
    # are a copy's and its parent's (two copies rewrite a headline alike less often than they credit alike)
    headline_weight: float = setting(0.5, "Weight of a headline of their own two copies share (none of the origin's "
                                          "site's pages shows it).")
    # a stray fragment ("751 The U.S."), a label or a placeholder byline ("Staff") is too short to say who
    # copied whom, like boilerplate
    short_line_words: int = setting(5, "Words from which an added line or byline counts in full (shorter: as "
                                       "boilerplate).")
    credit_line_weight: float = setting(0.25, "Weight of a shared credit line to the origin in the same words.")
    # of the copies sharing such a line with one other copy alone, on syndweb's webs, most on sites that
    # republish copies came from that copy, most on other sites did not (both wrote the origin's credit)
    relay_credit_weight: float = setting(0.5, "Weight of that line on the page of a site that republishes other "
                                              "republishers' copies.")
    # a scraper keeps the credit lines of the pages it takes and writes none: on syndweb's webs seeds 1-3 it shows
    # two to five credited pages, every line also on another site's page; an origin or syndicator writing credits
    # of its own has at least one line no other site holds
    carried_min_pages: int = setting(2, "Credited pages a site needs, every credit line also on another site's page, "
                                        "to be taken as writing no credit line of its own.")
    relay_min_pages: int = setting(2, "Pages on which a site credits both a copy's outlet and its source to be "
                                      "taken as republishing copies.")
    # copies often drop the same embedded tweet or photo: a shared drop says less than a shared addition
    drop_weight: float = setting(0.4, "Weight of a passage of the original two copies both dropped.")
    # a copy keeps what it copies but may drop a paragraph or a credit line of it: a candidate parent's edits
    # the copy lacks count against it, at half their weight
    missing_edit_factor: float = setting(0.5, "Share of the weight of a candidate parent's edit the copy lacks "
                                              "that counts against the candidate.")
    # a one-word line ("Advertisement", a lone name) is too common to say who copied whom
    min_addition_words: int = setting(2, "Words a paragraph added by a copy needs to count as its addition.")
    # a bare calendar date may be that day anywhere from UTC-12 to UTC+14
    date_only_slack_hours: float = setting(14.0, "Hours a date without a time may be off on either side.")
    # an addition held only by the copy and its candidate parent scores 1, one also held by one other page
    # 0.5: either is enough; one held by three or more pages (1/3) is not, nor one weak edit alone
    min_parent_score: float = setting(0.5, "Evidence a copy needs to be taken as another copy's copy.")
    # versions (dedupe.trace.versions): a paragraph rewritten by a newer take keeps some of its word pairs
    # (a reworded lead shares a third to two thirds of them); one or two typos keep more than 0.7, two
    # different paragraphs less than a fifth; bylines and datelines are too short to tell
    rewrite_floor: float = setting(0.2, "Least word-pair similarity of a paragraph and its rewrite.")
    typo_similarity: float = setting(0.7, "Word-pair similarity from which a changed paragraph is the same one "
                                          "with typos or a changed word, not a rewrite.")
    rewrite_min_words: int = setting(15, "Words a paragraph needs for its rewrite to make a new version.")
    # two paragraphs joined into one, or a caption quoting the lead, bring no word pair of their own but the
    # one at the seam; a rewrite keeping a quote and changing the sentence around it brings a fifth or more
    rewrite_new_share: float = setting(0.1, "Share of a rewritten paragraph's word pairs found nowhere in the "
                                            "older text.")
    # a site repeats its own boilerplate across its pages; the shared lines prove less across them
    same_site_factor: float = setting(0.5, "Factor on the evidence for a candidate parent on the copy's own site.")


@dataclass(frozen=True)
class GroupingOptions:
    """How article texts become signatures, candidates and stories."""

    # datasketch's default signature length; its LSH bands for the threshold below come with it
    num_perm: int = setting(128, "MinHash permutations per signature.")
    seed: int = setting(1, "MinHash permutation seed.")
    # the scheme vectorised in dedupe.signature (checked bit for bit against datasketch)
    scheme: str = setting("affine32", "datasketch MinHash permutation scheme.")
    # five words: short enough that edited copies keep most shingles, long enough that common phrases
    # ("said in a statement") do not make unrelated texts similar
    shingle_size: int = setting(5, "Words per shingle.")
    # low, so that excerpts and trimmed reprints become candidates; verification is exact anyway
    lsh_threshold: float = setting(0.3, "Jaccard threshold of the candidate LSH (low, so excerpts are found).")
    # a 50-word lead finds excerpts of one paragraph, a 150-word lead those of a few paragraphs (syndweb's
    # excerpt-with-link pages: coverage 1.000 with both, bench/RESULTS.md)
    lead_words: tuple[int, ...] = setting((50, 150), "Lengths (words) of an article's leads, each indexed separately "
                                          "so that short and long excerpts of long articles are both found.")
    # what is fingerprinted and aligned: 2 = every paragraph once (repeated captions and headlines count
    # once); stored with each signature, so that signatures of another version are made again, never mixed
    fingerprint: int = setting(2, "Version of the rules for the words that are fingerprinted.")
    # half of a text: an excerpt is wholly in its original, a copy padded with captions is measured on the
    # original's side; two stories sharing a press-release paragraph or quotes share far less of their own
    # words (quotes are not counted)
    min_cover: float = setting(0.5, "Share of one text's own (unquoted) words found in order in the other for a copy.")
    # a trimmed copy keeps the lead and a good part of what follows; a commentary quoting an article's first
    # sentence or paragraph, or a listing holding it, keeps far less of it
    lead_share: float = setting(1 / 3, "Share of a text its shared opening stretch must make up for a trimmed copy "
                                       "(and the shared passages of two texts that both open with them).")
    # a one-sentence news lead is at least this long; bylines, datelines, credits and widget labels are shorter
    lead_noise_words: int = setting(20, "Unshared words of one paragraph that make it a text's own lead, "
                                        "not header lines, when it precedes the shared passages.")
    # a changed word or phrase, or a typo, breaks a run of shared shingles for a few words
    align_gap: int = setting(12, "Words between two shared runs that still join them into one passage.")
    # shorter shared runs are common phrases ("said in a statement on Friday")
    min_passage_words: int = setting(8, "Words a shared run needs to count as a passage.")
    # a preview keeps its story's headline behind a "WATCH:" or before a site's name; a column quoting the story's
    # lead in a photo caption has a headline of its own (synthetic real-like seeds 1-3: 0.963 / 0.930 / 0.992 ->
    # 0.983 / 0.963 / 0.998 with the tie broken so)
    headline_share: float = setting(0.6, "Share of the shorter headline's words two pages' headlines must have in "
                                    "common to be one headline: a piece two stories hold alike goes with the one "
                                    "carrying its headline, and a teaser carrying it is no borrowed lead.")
    # a share widget's capture of a page (headline, a deck, "Post to Facebook" lines) runs to a hundred words with
    # its labels; a page of its own prose that long has a lead of its own to be found by
    caption_max_words: int = setting(150, "Words up to which a text no copy relation links is looked up as a "
                                          "caption-only capture of a story's page (its headline and a deck).")
    # a deck is cut from the lead or the paragraph after it, within the first hundred and fifty words or so
    caption_lead_words: int = setting(150, "Opening words of a story a caption-only capture's deck is looked for in.")
    # one or two pairs are shared by chance (a name, "according to"); a deck keeps two of every three of the lead's
    caption_min_keys: int = setting(3, "Lookup pairs of a caption-only capture a story's opening must hold to be "
                                       "aligned with it.")
    # long words are the rare ones: eight long pairs of a deck are rarely all in another story's opening
    caption_query_pairs: int = setting(8, "Word pairs of a capture's deck (the longest) it is looked up by.")
    # a deck's longest pairs are shorter than an opening's (a deck is thirty words): with 9 letters, the synthetic
    # real-like sets' captures are all found as with no limit (pairwise F1 0.955 / 0.930 / 0.992, seeds 1-3), with
    # 10 one is lost (seed 3: 0.983), with 13 more (0.943 / 0.930 / 0.974); a census opening keeps 81 of its 144 pairs
    caption_key_letters: int = setting(9, "Letters two words need together for their pair to be a lookup key "
                                           "(kept for every text's opening, and for a capture's deck).")
    # a deck drops articles, names and asides ("that Thomas Hofeller, a"): a few words at a time
    caption_gap: int = setting(4, "Words of the story a deck may drop between two words it keeps.")
    caption_own_gap: int = setting(2, "Words a deck may add between two words it keeps of the story.")
    # a sentence's worth: two stories on one event share names and phrases, not fifteen words in order
    caption_min_words: int = setting(15, "Words a deck must keep of the story, in order, to be its capture.")
    # a deck keeps most of what it spans of the story ("revealed longtime Republican gerrymandering guru played
    # key role": 21 of 31 words); common words matched by chance along two texts keep far fewer
    caption_keep: float = setting(0.6, "Share of the story's words within the matched stretch a deck keeps.")
    # one page is not a pattern and two may be a story and its update; three pages of one site sharing a
    # paragraph is boilerplate
    furniture_min_pages: int = setting(3, "A paragraph seen on this many pages of one site is site furniture.")
    # measured at 100,000 articles: a few thousand rows at once keep the lineage stage's memory flat while
    # one query per story would dominate it (bench/RESULTS.md, "lineage stage reads articles in batches");
    # workers trace smaller batches still (dedupe.stages._TRACE_BATCH), so that each has several waiting
    lineage_batch: int = setting(5000, "Most articles the lineage stage reads from the database at once "
                                       "(workers read batches of at most 500).")
    lineage: LineageOptions = setting(LineageOptions(), "How origins and parents are decided.")
    save: SaveOptions = setting(SaveOptions(),  # noqa: RUF009 (frozen: one shared default is safe)
                                "How SQLite is set while stories, lineage and audits are written.")
    # signing and alignment are pure and most of a rebuild: one process per core (dedupe.pool)
    workers: int = setting(0, "Processes that normalise, sign and align articles (0: one per CPU; 1: this one).")

    def opening_params(self) -> str:
        """The settings a text's opening and capture keys are made with (``dedupe.openings``), kept with them:
        keys made with others are made again."""
        return (f"{self.caption_lead_words}:{self.caption_key_letters}:{self.caption_query_pairs}:"
                f"{self.caption_max_words}:{self.lead_noise_words}")

    def signature_params(self) -> dict:
        """The parameters stored next to every signature; mixing them is refused."""
        return {"num_perm": self.num_perm, "seed": self.seed, "scheme": self.scheme, "shingle_size": self.shingle_size,
                "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class SparkOptions:
    """Where and how ``rebuild --engine spark`` runs (``dedupe.spark_job``). Checked when made: a bad value is a
    one-line error before any JVM starts."""

    master: str | None = setting(None, "Spark master URL: spark://HOST:7077, yarn, k8s://https://HOST:PORT or "
                                       "local[N]; default: Spark's local mode on this machine.")
    workers: int | None = setting(None, "Cores of Spark's local mode (without --master); default: all.")
    stage_dir: str | None = setting(None, "Folder every executor can read (a shared file system on a cluster) where the "
                                          "stored texts are staged; default: a temporary folder on this machine.")
    conf: tuple[str, ...] = setting((), "A Spark setting, KEY=VALUE (spark.executor.memory=4g); repeat for more.")
    # one task per batch: a few MB of text, a few seconds of work, so that a lost task costs little
    batch: int = setting(5000, "Articles per staged file (one task each).")

    def __post_init__(self) -> None:
        """Raises:
        UserInputError: a master URL Spark does not take, --workers with a master, a setting that is not
            KEY=VALUE, or a stage folder that is not a folder.
        """
        if self.master is not None and not _SPARK_MASTER.fullmatch(self.master):
            raise UserInputError(f"--master {self.master!r} is not a Spark master URL "
                                 "(spark://HOST:PORT, yarn, k8s://https://HOST:PORT or local[N])")
        if self.workers is not None and self.master is not None:
            raise UserInputError("--workers sets the cores of Spark's local mode: leave it out with --master")
        bad = [c for c in self.conf if "=" not in c or not c.split("=", 1)[0].strip()]
        if bad:
            raise UserInputError(f"--conf takes KEY=VALUE, not {bad[0]!r}")
        if self.stage_dir is not None and not os.path.isdir(self.stage_dir):
            raise UserInputError(f"--stage-dir {self.stage_dir} is not a folder")

    def settings(self) -> list[tuple[str, str]]:
        """The ``conf`` settings as (key, value)."""
        return [(key.strip(), value) for key, value in (c.split("=", 1) for c in self.conf)]

    def master_url(self) -> str:
        """The master to connect to: the one given, or local mode with ``workers`` cores."""
        return self.master or f"local[{self.workers or '*'}]"
