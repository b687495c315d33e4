"""A synthetic article corpus for benchmarks: stories with copies, excerpts and edits.

Words follow a Zipf-like law over a large vocabulary, so distinct articles share common words but not
passages, as real news does. Deterministic for a seed.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from itertools import accumulate

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def make_corpus(n_articles: int, seed: int = 1, words_per_paragraph: int = 60,
                paragraphs: tuple[int, int] = (6, 16)) -> dict[str, list[str]]:
    """url → paragraphs; about 40% of articles are copies of another story."""
    rnd = random.Random(seed)
    vocab = [f"w{i:05d}" for i in range(30000)]
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(vocab))]
    pool = rnd.choices(vocab, weights=weights, k=200_000)

    def paragraph() -> str:
        start = rnd.randrange(0, len(pool) - words_per_paragraph)
        return " ".join(pool[start:start + words_per_paragraph]) + "."

    texts: dict[str, list[str]] = {}
    story = 0
    while len(texts) < n_articles:
        body = [paragraph() for _ in range(rnd.randint(*paragraphs))]
        texts[f"http://site{story % 25}.example/story/{story}"] = body
        for c in range(rnd.choice([0, 0, 0, 1, 1, 2, 3])):
            if len(texts) >= n_articles:
                break
            kind = rnd.random()
            if kind < 0.25:
                copy = body[: rnd.randint(2, 4)] + ["Read the full article at the original outlet."]
            elif kind < 0.5:
                copy = body[:]
                copy.insert(rnd.randrange(len(copy)), "Subscribe to our channel for breaking news now.")
            else:
                copy = [p.replace(" w0", " W0", 1) for p in body] + ["Note to readers: please share this."]
            texts[f"http://site{(story + c + 1) % 25}.example/copy/{story}-{c}"] = copy
        story += 1
    return texts


# -- a syndicated news corpus, as HTML pages ------------------------------------------------------------

_SYLLABLES = ["ba", "ca", "de", "fo", "gu", "ha", "ji", "ko", "la", "me", "ni", "po", "qua", "ri", "sa", "te", "vu",
              "wo", "xe", "yo", "za", "bri", "cla", "dre", "fli", "gro", "pra", "sto", "tri", "ven", "mar", "lon",
              "ter", "sel", "dor", "nan", "pel", "rin", "sul", "tam"]
_FIRST = ["Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jake", "Kofi", "Lena", "Marco",
          "Nadia", "Omar", "Paula", "Quentin", "Rosa", "Sam", "Tara"]
_LAST = ["Johnson", "Okafor", "Schmidt", "Dubois", "Rossi", "Tanaka", "Silva", "Novak", "Haddad", "Kowalski", "Larsen",
         "Moreau", "Nguyen", "Petrov", "Quinn", "Reyes", "Stein", "Torres", "Varga", "Walsh"]


@dataclass
class Page:
    """One article page of the synthetic web."""

    url: str
    site: int
    story: int
    kind: str          # origin, reprint, excerpt, edited, scrape, chain
    title: str
    author: str
    published: datetime
    paragraphs: list[str]
    credit_url: str | None = None
    credit_name: str | None = None


class SyndicatedCorpus:
    """Stories with 1–6 copies each (reprints with notes and credit lines, excerpts, edited copies,
    uncredited scrapes, copies of copies), on many sites with their own furniture; and hard negatives:
    distinct stories that share one or two press-release paragraphs (never enough to be copies).

    Everything is derived from (seed, story number), so a later batch can add copies to earlier stories.
    Words are drawn independently from a Zipf-like law over 40,000 pronounceable made-up words, so
    unrelated articles share common words and short phrases but no passages, at any corpus size.
    """

    COPIES = (1, 2, 3, 4, 5, 6)            # articles per story, origin included
    COPY_WEIGHTS = (40, 22, 15, 11, 7, 5)  # mean ≈ 2.4 articles per story
    KINDS = ("reprint", "excerpt", "edited", "scrape", "chain")
    KIND_WEIGHTS = (35, 20, 20, 15, 10)

    def __init__(self, n_sites: int = 100, seed: int = 1):
        self.seed = seed
        self.n_sites = n_sites
        rnd = random.Random(seed)
        vocab = sorted({"".join(rnd.choice(_SYLLABLES) for _ in range(rnd.choice([1, 2, 2, 3, 3, 4])))
                        for _ in range(40000)})
        rnd.shuffle(vocab)
        self.vocab = vocab
        self.cum_weights = list(accumulate(1.0 / (i + 1) ** 0.9 for i in range(len(vocab))))
        self.site_names = [f"The {rnd.choice(_SYLLABLES).title()}{rnd.choice(_SYLLABLES)} {t}"
                           for t in rnd.choices(["Times", "Post", "Herald", "Daily", "Report", "Observer", "Wire"],
                                                k=n_sites)]
        self.furniture = [self._paragraph(rnd, 30) for _ in range(n_sites)]
        self.press = [self._paragraph(rnd, 60) for _ in range(max(50, n_sites * 20))]
        self.epoch = datetime(2020, 1, 1, tzinfo=UTC)

    def host(self, site: int) -> str:
        return f"news{site:03d}.test"

    def _words(self, rnd: random.Random, n: int) -> list[str]:
        """Words drawn one by one (unrelated texts share words and short phrases, never passages)."""
        return rnd.choices(self.vocab, cum_weights=self.cum_weights, k=n)

    def _paragraph(self, rnd: random.Random, n: int) -> str:
        ws = self._words(rnd, n)
        out, i = [], 0
        while i < n:
            k = rnd.randint(8, 20)
            sentence = ws[i:i + k]
            out.append(" ".join([sentence[0].title(), *sentence[1:]]) + ".")
            i += k
        return " ".join(out)

    def _edit(self, rnd: random.Random, paragraph: str) -> str:
        """A copy editor's touch: three words replaced."""
        ws = paragraph.split(" ")
        for _ in range(3):
            ws[rnd.randrange(len(ws))] = self._words(rnd, 1)[0]
        return " ".join(ws)

    def _rnd(self, story: int, salt: int = 0) -> random.Random:
        return random.Random((self.seed * 1_000_003 + story) * 101 + salt)

    def origin(self, story: int) -> Page:
        rnd = self._rnd(story)
        body = [self._paragraph(rnd, rnd.randint(40, 80)) for _ in range(rnd.randint(5, 14))]
        if rnd.random() < 0.15:  # hard negative: press-release paragraphs shared with other stories
            for _ in range(rnd.randint(1, 2)):
                body.insert(rnd.randint(3, len(body)), self.press[rnd.randrange(len(self.press))])
        site = rnd.randrange(self.n_sites)
        title = self._paragraph(rnd, rnd.randint(6, 11)).rstrip(".")
        published = self.epoch + timedelta(minutes=story * 7 + rnd.randrange(600))
        slug = "-".join(title.lower().split()[:5])
        url = f"http://{self.host(site)}/{published:%Y/%m/%d}/{slug}-{story}.html"
        return Page(url, site, story, "origin", title, f"{rnd.choice(_FIRST)} {rnd.choice(_LAST)}", published, body)

    def copy(self, story: int, index: int, parent: Page | None = None, origin: Page | None = None) -> Page:
        """The ``index``-th copy of a story (copies of copies take ``parent`` as their source)."""
        o = origin or self.origin(story)
        rnd = self._rnd(story, index + 1)
        kind = rnd.choices(self.KINDS, self.KIND_WEIGHTS)[0]
        if kind == "chain" and parent is None:
            kind = "reprint"
        src = parent if kind == "chain" else o
        site = rnd.randrange(self.n_sites - 1)
        site += site >= o.site
        body = list(src.paragraphs)
        author, credit_url, credit_name = src.author, src.url, self.site_names[src.site]
        if kind in ("reprint", "chain"):
            body = [f"Note to readers: {self.site_names[site]} republishes this article with permission."] + body
            body.append(f"The original source of this article is {self.site_names[src.site]}. "
                        f"Copyright © {src.author}, {self.site_names[src.site]}, {src.published.year}.")
        elif kind == "excerpt":
            body = body[:rnd.randint(2, 4)] + [f"Read the full article at {self.site_names[o.site]}."]
        elif kind == "edited":
            body = [self._edit(rnd, p) if i % 2 else p for i, p in enumerate(body)]
            if len(body) > 4:
                del body[rnd.randrange(1, len(body))]
            body.insert(rnd.randint(1, len(body)), self._paragraph(rnd, 50))
            if rnd.random() < 0.5:
                credit_url = None
        else:  # scrape
            author, credit_url, credit_name = "admin", None, None
        published = src.published + timedelta(hours=rnd.randint(2, 24 * 5))
        url = f"http://{self.host(site)}/{published:%Y/%m/%d}/story-{story}-{index}.html"
        title = o.title if kind != "edited" else o.title + " (updated)"
        return Page(url, site, story, kind, title, author, published, body,
                    credit_url if kind != "scrape" else None, credit_name if credit_url else None)

    def story_size(self, story: int) -> int:
        """Articles in a story, origin included."""
        return self._rnd(story, 999).choices(self.COPIES, self.COPY_WEIGHTS)[0]

    def story_pages(self, story: int) -> list[Page]:
        n = self.story_size(story)
        pages = [self.origin(story)]
        for i in range(1, n):
            pages.append(self.copy(story, i, parent=pages[-1] if i > 1 else None, origin=pages[0]))
        return pages

    def pages(self, n: int, first_story: int = 0) -> tuple[list[Page], int]:
        """``n`` pages from consecutive stories starting at ``first_story``; returns them and the next story."""
        out: list[Page] = []
        story = first_story
        while len(out) < n:
            out.extend(self.story_pages(story)[: n - len(out)])
            story += 1
        return out, story

    def extra_copies(self, n: int, stories: range, salt: int = 7) -> list[Page]:
        """``n`` new copies of existing stories (copy numbers from 10 up, so URLs never collide)."""
        rnd = random.Random(self.seed * 7919 + salt)
        used: dict[int, int] = {}
        out = []
        for _ in range(n):
            story = rnd.choice(stories)
            used[story] = used.get(story, 9) + 1
            out.append(self.copy(story, used[story]))
        return out

    def html(self, page: Page) -> bytes:
        name = self.site_names[page.site]
        host = self.host(page.site)
        paras = "\n".join(f"<p>{escape(p)}</p>" for p in page.paragraphs)
        credit = (f'<p>Source: <a href="{page.credit_url}">{escape(page.credit_name or "")}</a></p>'
                  if page.credit_url else "")
        nav = " ".join(f'<a href="http://{host}/category/{s}/">{s.title()}</a>'
                       for s in ("world", "politics", "business", "science", "culture", "sport"))
        related = "".join(f'<li><a href="http://{host}/2020/01/0{i}/related-{i}.html">Related story {i}</a></li>'
                          for i in range(1, 6))
        when = page.published.isoformat()
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(page.title)} | {escape(name)}</title>
<meta property="og:type" content="article"><meta property="og:site_name" content="{escape(name)}">
<meta property="og:title" content="{escape(page.title)}">
<meta property="article:published_time" content="{when}">
<meta name="author" content="{escape(page.author)}">
<link rel="canonical" href="{page.url}"></head>
<body><header><a href="http://{host}/">{escape(name)}</a><nav>{nav}</nav></header>
<main><article><h1>{escape(page.title)}</h1>
<p class="byline">By {escape(page.author)} · <time datetime="{when}">{page.published:%d %B %Y}</time></p>
{paras}
{credit}
</article>
<aside><p>{escape(self.furniture[page.site])}</p><ul>{related}</ul></aside></main>
<footer><p>© {page.published.year} {escape(name)}. All rights reserved.</p></footer></body></html>
""".encode()


def write_warc(corpus: SyndicatedCorpus, pages: list[Page], path: str) -> int:
    """The pages as HTTP response records of a gzipped WARC file; returns the bytes written."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for page in pages:
            body = corpus.html(page)
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            fetched = page.published + timedelta(hours=1)
            writer.write_record(writer.create_warc_record(
                page.url, "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": fetched.strftime("%Y-%m-%dT%H:%M:%SZ")}))
        return fh.tell()
