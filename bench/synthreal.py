"""A synthetic real-like set for grouping (issue 13): wire copies, versions, aggregates and hard negatives,
built from the development sets' own texts and labelled by construction.

    python bench/synthreal.py --csv census_articles.csv --labels bench/labels/census.tsv \
        --csv spotify_articles.csv --labels bench/labels/spotify.tsv --out DIR [--seed 1]
    python bench/realgroup.py --csv DIR/synthreal.csv --labels DIR/synthreal.tsv --syndweb ../shared/syndweb

The development sets hold few of the things the held-out set is described to hold (AP stories on 10-15
sites, write-thrus, previews, caption-only captures, listings). This set builds them, from one text of
each gold story of the development sets (so that two synthetic stories never share a source), in the CSV
and label formats ``bench/realgroup.py`` reads:

- wire stories copied by many outlets: full copies, trimmed copies (the lead and a few paragraphs),
  copies missing their first paragraphs, copies keeping two separate stretches, previews (headline and
  lead), caption-only captures (headline and a deck cut from the lead), byte-identical re-captures;
- write-thrus: later versions with the lead reworded, paragraphs added, moved or dropped, each copied too;
- outlet noise: header lines, photo captions (repeated, and some quoting another story's lead), widgets,
  a subscription box shared by a group of outlets, teaser headlines of other stories inside the body;
- aggregates, each its own story: listing pages (headline and first sentence of many stories, one
  captured twice), news-in-brief compilations, commentary block-quoting an article's paragraphs;
- a live blog captured twice (overlapping windows) and a standalone copy of one of its items: one story;
- hard negatives: two wire stories quoting the same statement, two stories of one outlet reusing the same
  background paragraphs, and the development sets' own other texts of the same event (singles).

The texts are third-party (no licence stated): the set is written to a folder given on the command line
and never committed. The same inputs and seed give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.realgroup import BenchInputError, Doc, read_labels, read_set

BODY_MIN_WORDS, BODY_MAX_WORDS = 20, 160   # a body paragraph of a source text (shorter: bylines, datelines)
WIRE_MIN_PARAGRAPHS = 7                    # a source long enough to be trimmed several ways
START = datetime(2030, 1, 7, 6, 0, tzinfo=UTC)


@dataclass
class Source:
    """One development text reduced to its body paragraphs, with a headline."""

    id: str
    headline: str
    body: list[str]


@dataclass
class Outlet:
    """A synthetic outlet and the furniture it puts around every text."""

    name: str
    header: list[str]
    footer: list[str]
    caption_repeats: int          # how often a photo caption is printed (0: no captions)
    teasers: bool                 # teaser headlines of other stories inside the body


@dataclass
class Item:
    """One text of the set and its label."""

    publisher: str
    scraped: datetime
    paragraphs: list[str]
    story: str
    role: str
    note: str


@dataclass
class Builder:
    """Makes the set; every choice comes from one seeded random generator."""

    rng: random.Random
    wires: list[Source]
    material: list[Source]
    items: list[Item] = field(default_factory=list)
    outlets: list[Outlet] = field(default_factory=list)
    clock: datetime = START

    def tick(self, hours: float = 0.5) -> datetime:
        self.clock += timedelta(minutes=int(hours * 60 * (0.5 + self.rng.random())))
        return self.clock

    def add(self, outlet: str, paragraphs: list[str], story: str, role: str, note: str) -> Item:
        item = Item(outlet, self.tick(), [p for p in paragraphs if p.strip()], story, role, note)
        self.items.append(item)
        return item

    # -- text edits ------------------------------------------------------------------------------
    def shuffled(self, text: str) -> str:
        """The words of ``text`` in another order: new prose that shares no phrase with anything."""
        words = text.split()
        self.rng.shuffle(words)
        return " ".join(words).capitalize() + "."

    def reword(self, text: str) -> str:
        """A rewrite of one paragraph: two neighbouring words swapped every six words (no 5-word run survives,
        about half the word pairs do, as in the development sets' write-thrus)."""
        words = text.split()
        for i in range(2, len(words) - 1, 6):
            words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)

    def deck(self, text: str) -> str:
        """A deck cut from a sentence: every third word dropped after the first few."""
        words = text.split()[:30]
        return " ".join(w for i, w in enumerate(words) if i < 6 or i % 3)

    @staticmethod
    def first_sentence(text: str) -> str:
        """The paragraph's first sentence (at least twelve words: "D.C." and "U.S." end no sentence)."""
        words = text.split()
        for i in range(11, min(len(words), 45)):
            if words[i].endswith("."):
                return " ".join(words[: i + 1])
        return " ".join(words[:30])

    def new_paragraph(self) -> str:
        return self.shuffled(self.rng.choice(self.rng.choice(self.material).body))

    def reheadline(self, headline: str) -> str:
        words = headline.split()
        return self.rng.choice([" ".join(words[: max(4, len(words) - 3)]) + "...", "WATCH: " + headline,
                                headline.upper(), " ".join(words[1:] + words[:1])])

    # -- outlets ---------------------------------------------------------------------------------
    def make_outlets(self, n: int) -> None:
        group_box = self.shuffled(self.rng.choice(self.material).body[0])   # one subscription box for a group
        for i in range(n):
            header = [self.rng.choice(["By The Associated Press", "Associated Press", "By Staff and wire reports",
                                       "From wire services"]),
                      self.rng.choice(["NEW YORK", "WASHINGTON", "Updated 6:35 PM ET", "Posted: 4:56 AM"])]
            footer = [f"Sign up for the outlet {i} newsletter", group_box if i < n // 4 else
                      self.shuffled(self.rng.choice(self.material).body[-1])]
            self.outlets.append(Outlet(f"outlet{i:02d}.example", header[: self.rng.randint(0, 2)], footer,
                                       self.rng.choice([0, 0, 1, 3]), self.rng.random() < 0.25))

    def dress(self, outlet: Outlet, headline: str, body: list[str], caption: str | None) -> list[str]:
        """A text as the outlet's page would be scraped: headline, header lines, captions, body, widgets."""
        top = [headline] + outlet.header
        if caption and outlet.caption_repeats:
            top += [caption] * outlet.caption_repeats
        body = list(body)
        if outlet.teasers and len(body) > 3 and len(self.wires) > 1:
            body.insert(2, self.rng.choice(self.wires).headline)
        return top + body + outlet.footer


def _body(doc: Doc) -> list[str]:
    return [p for p in doc.body if BODY_MIN_WORDS <= len(p.split()) <= BODY_MAX_WORDS]


def sources_of(docs: list[Doc], labels: dict[str, str]) -> list[Source]:
    """One text per gold story: the one with the longest body."""
    best: dict[str, Doc] = {}
    for doc in docs:
        story = labels[doc.id]
        if story not in best or len(_body(doc)) > len(_body(best[story])):
            best[story] = doc
    out = []
    for story in sorted(best):
        doc = best[story]
        body = _body(doc)
        if len(body) >= 2:
            out.append(Source(doc.id, doc.headline or " ".join(body[0].split()[:10]), body))
    return out


# -- wire stories and their copies ---------------------------------------------------------------------
COPY_KINDS = (("full", 0.40), ("trim", 0.28), ("tail", 0.05), ("two-stretches", 0.07), ("preview", 0.10),
              ("caption-only", 0.05), ("twin", 0.05))


def versions_of(b: Builder, source: Source) -> list[list[str]]:
    """The running file's versions: the first take, then write-thrus (lead reworded, paragraphs added,
    one moved or dropped)."""
    takes = [list(source.body)]
    for _ in range(b.rng.choice([0, 0, 1, 2])):
        body = list(takes[-1])
        body[0] = b.reword(body[0])
        body.insert(b.rng.randint(1, 2), b.new_paragraph())
        if len(body) > 6 and b.rng.random() < 0.5:
            body.insert(len(body) - 2, body.pop(3))
        elif len(body) > 6:
            del body[b.rng.randint(4, len(body) - 1)]
        takes.append(body)
    return takes


def copy_body(b: Builder, kind: str, body: list[str]) -> list[str]:
    """What a copy of one version keeps of its body."""
    n = len(body)
    if kind == "trim":
        return body[: b.rng.randint(3, min(6, n - 1))]
    if kind == "tail":
        return body[b.rng.randint(2, max(2, n // 2)):]
    if kind == "two-stretches":
        return body[:3] + body[max(4, n - 3):]
    if kind == "preview":
        return [b.first_sentence(body[0]), "Read the full story."]
    if kind == "caption-only":
        return [b.deck(body[0]), "Share on Facebook", "Share by email"]
    return list(body)


def wire_story(b: Builder, k: int, source: Source, quote: str | None, caption_of: Source | None) -> None:
    """A wire story: its versions, each copied by several outlets in several ways."""
    story = f"wire{k:02d}"
    takes = versions_of(b, source)
    kinds, weights = zip(*COPY_KINDS)
    outlets = b.rng.sample(b.outlets, k=min(len(b.outlets), b.rng.randint(5, 14)))
    caption = None
    if caption_of is not None:   # a photo caption quoting another story's lead
        caption = "FILE - In this file photo. " + caption_of.body[0] + " (AP Photo/File)"
    for i, outlet in enumerate(outlets):
        version = min(len(takes) - 1, i * len(takes) // len(outlets))
        body = list(takes[version])
        if quote:
            body.insert(min(3, len(body)), quote)
        kind = b.rng.choices(kinds, weights)[0] if i else "full"
        headline = source.headline if b.rng.random() < 0.7 else b.reheadline(source.headline)
        role = "copy" if version == 0 else "version"
        note = f"{kind} copy of take {version + 1} of {source.id}"
        if kind == "twin" and b.items and b.items[-1].story == story:
            twin = b.items[-1]
            b.add(twin.publisher, twin.paragraphs, story, role, f"byte-identical re-capture ({twin.note})")
            continue
        kind = "full" if kind == "twin" else kind
        b.add(outlet.name, b.dress(outlet, headline, copy_body(b, kind, body), caption), story, role, note)


# -- aggregates, live blog, hard negatives, singles -------------------------------------------------------
def listings(b: Builder, n: int) -> None:
    """Listing pages (headline and first sentence of many stories); the first is captured twice."""
    for k in range(n):
        listed = b.rng.sample(b.wires, k=min(len(b.wires), 8))
        lines = ["Top stories"]
        for s in listed:
            lines += [s.headline, b.first_sentence(s.body[0]), f"{b.rng.choice(b.outlets).name} - 2 hours ago"]
        host = f"news{k}.aggregator.example"
        b.add(host, lines, f"listing{k}", "aggregate", "listing: headline and lead of 8 stories")
        if k == 0:
            again = lines[:-3] + [b.wires[0].headline, b.first_sentence(b.wires[0].body[0])]
            b.add(host, again, f"listing{k}", "aggregate", "the same listing, captured later")


def compilations(b: Builder, n: int) -> None:
    """News-in-brief compilations: the first two paragraphs of three or four stories."""
    for k in range(n):
        lines = ["News in brief"]
        for s in b.rng.sample(b.wires, k=min(len(b.wires), b.rng.randint(3, 4))):
            lines += [s.headline] + s.body[:2]
        b.add(b.rng.choice(b.outlets).name, lines, f"brief{k}", "aggregate", "news-in-brief compilation")


def commentaries(b: Builder, own_texts: list[Source]) -> None:
    """Commentary around a block quote of two paragraphs from the middle of a wire story."""
    for k, own in enumerate(own_texts):
        quoted = b.rng.choice(b.wires)
        mid = len(quoted.body) // 2
        lines = [f"Opinion: {own.headline}"] + own.body[:2] + quoted.body[mid:mid + 2] + own.body[2:5]
        b.add(b.rng.choice(b.outlets).name, lines, f"comment{k}", "aggregate", f"commentary quoting {quoted.id}")


def live_blog(b: Builder, items: list[str]) -> None:
    """A live blog captured twice (newest items first, windows overlapping) and a copy of one item."""
    first, second = items[:8][::-1], items[4:12][::-1]
    b.add("live.example", ["Live updates"] + first, "liveblog", "version", "live blog, first window")
    b.add("live.example", ["Live updates"] + second, "liveblog", "version", "live blog, later window")
    b.add(b.rng.choice(b.outlets).name, ["One item of the live blog"] + items[6:7], "liveblog", "copy",
          "standalone copy of one live-blog item")


def shared_background(b: Builder, one: Source, two: Source, background: Source) -> None:
    """Two stories of one outlet that reuse the same two background paragraphs."""
    for k, own in enumerate((one, two)):
        body = own.body[:2] + background.body[:2] + own.body[2:5]
        b.add("samedesk.example", [own.headline] + body, f"desk{k}", "single", "own story reusing desk background")


def singles(b: Builder, sources: list[Source]) -> None:
    for s in sources:
        outlet = b.rng.choice(b.outlets)
        b.add(outlet.name, b.dress(outlet, s.headline, s.body, None), f"single-{s.id}", "single",
              f"development text {s.id}")


def build(sources: list[Source], seed: int) -> list[Item]:
    """The whole set from the development sets' sources."""
    rng = random.Random(seed)
    long = [s for s in sources if len(s.body) >= WIRE_MIN_PARAGRAPHS]
    rest = [s for s in sources if len(s.body) < WIRE_MIN_PARAGRAPHS] + long[14:]
    if len(long) < 6 or len(rest) < 13:
        raise BenchInputError(f"too few source texts: {len(long)} long and {len(rest)} others")
    wires, reserve = long[:14], rest[:9]
    b = Builder(rng, wires, reserve)
    b.make_outlets(30)
    statement = '"' + b.shuffled(reserve[0].body[0]) + '" the company said in a statement.'
    for k, source in enumerate(wires):
        wire_story(b, k, source, statement if k < 2 else None, wires[2] if k == 3 else None)
    listings(b, 3)
    compilations(b, 3)
    commentaries(b, reserve[6:9])
    live_blog(b, [p for s in reserve[1:4] for p in s.body][:12])
    shared_background(b, rest[9], rest[10], reserve[4])
    singles(b, rest[11:])
    return b.items


def write_set(items: list[Item], out: str) -> tuple[str, str]:
    """The set as a CSV in the development sets' format and its labels as a TSV; returns both paths."""
    os.makedirs(out, exist_ok=True)
    csv_path, tsv_path = os.path.join(out, "synthreal.csv"), os.path.join(out, "synthreal.tsv")
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "publisher", "scrape_time", "text"])
        for i, item in enumerate(items):
            writer.writerow([str(100000 + i), item.publisher, item.scraped.isoformat(), " ### ".join(item.paragraphs)])
    with open(tsv_path, "w", encoding="utf-8") as fh:
        fh.write("# synthetic real-like set (bench/synthreal.py): labels by construction\nid\tstory\trole\tnote\n")
        for i, item in enumerate(items):
            fh.write(f"{100000 + i}\t{item.story}\t{item.role}\t{item.note}\n")
    return csv_path, tsv_path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", action="append", required=True, help="a development set (repeat for several)")
    ap.add_argument("--labels", action="append", required=True, help="its labels TSV, in the same order")
    ap.add_argument("--out", required=True, help="folder for synthreal.csv and synthreal.tsv")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    try:
        if len(args.csv) != len(args.labels):
            raise BenchInputError("give one --labels per --csv")
        sources: list[Source] = []
        for path, labels in zip(args.csv, args.labels):
            docs = read_set(path)
            sources += sources_of(docs, read_labels(labels, docs))
        items = build(sources, args.seed)
        csv_path, tsv_path = write_set(items, args.out)
    except BenchInputError as exc:
        print(f"synthreal: {exc}", file=sys.stderr)
        return 2
    stories = {i.story for i in items}
    print(f"wrote {len(items)} texts in {len(stories)} stories to {csv_path} (labels: {tsv_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
