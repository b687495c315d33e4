"""The stages of a grouping pass, each a function with typed inputs and outputs, testable alone.

    settle_numeric_dates → read_corpus → find_furniture → plan_signing → sign_changed → find_candidates
    → verify_candidates → link_captions → cluster_touched → trace_groups (lineage and audit) → save_results

``dedupe.pipeline.update_stories`` calls them in this order and times each. Stages read and write the
database only through named :class:`~crawler.storage.store.Store` methods.
"""

from __future__ import annotations

import bisect
import copy
import ctypes
import functools
import hashlib
import itertools
import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import xxhash

from crawler.batches import batched
from crawler.options import SaveOptions
from crawler.page.attribution import OutletDirectory, cue_line_credit, edge_line_credit
from crawler.page.dates import numeric_date_order, parse_visible_date
from crawler.page.metadata import repeated_affixes, without_affixes
from crawler.page.urls import site_of, url_key
from crawler.storage.records import StoredEdge, StoredSignature
from crawler.storage.store import SIGNED_FURNITURE, PageSource, Store, decode_lineage_article, utc_now
from dedupe.align import TextPrint, text_print_of_hashes
from dedupe.group import cluster
from dedupe.index import all_band_keys, keyed_pairs, lsh_bands
from dedupe.normalise import (
    BatchWords,
    furniture_and_writers,
    hashed_batch_words,
    paragraph_hash,
    paragraph_key,
    print_words,
)
from dedupe.openings import CaptureIndex, batch_opening_keys, capture_keys, from_bytes, to_bytes
from dedupe.options import GroupingOptions, LineageOptions
from dedupe.pool import KernelPool, Shipped
from dedupe.relate import Edge, caption_chains, relate, relate_caption
from dedupe.signature import (
    Signature,
    SignatureParams,
    batch_shingles,
    leads_to_bytes,
    sign_text,
    sign_texts,
    sorted_distinct,
    word_hashes,
)
from dedupe.spill import BandKeyFile, PrintBlock, PrintFile, PrintSpan, Relations, Similarity, read_print
from dedupe.trace.audit import audit_story
from dedupe.trace.lineage import decide
from dedupe.trace.members import Member, credited_hosts_of, member_from_article, read_paragraph
from dedupe.trace.verdicts import UNCREDITED_VERDICTS
from dedupe.trace.versions import Versions, find_versions

Progress = Callable[[str, int, int], None]
Timer = Callable[[str], AbstractContextManager]
Spent = Callable[[str, float], None]   # (part of a stage, seconds it took), added to the stage's report


def no_progress(stage: str, done: int, total: int) -> None:
    """A progress callback that shows nothing."""


# -- dates --------------------------------------------------------------------------------------------
def settle_numeric_dates(store: Store) -> list[str]:
    """Read each site's ambiguous numeric dates (03/04/2020) the way its unambiguous ones read; returns
    the pages whose publication date changed (their stories are traced again)."""
    by_site: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
    for url, site, raw, published in store.numeric_dates():
        by_site[site].append((url, raw, published))
    changed: list[tuple[str, str]] = []
    for rows in by_site.values():
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
    return [url for url, _ in changed]


# -- titles -------------------------------------------------------------------------------------------
def settle_title_affixes(store: Store, min_pages: int) -> list[str]:
    """Cut from each site's titles the part it repeats on most of them (its name, a tagline, a section label)
    when no metadata named it; returns the pages whose title changed (their stories are traced again). A site
    whose titles are those a pass found nothing to cut from (kept as a digest, ``SETTLED_TITLES``) is not looked
    at again: the same titles give the same answer."""
    by_site: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for url, site, title in store.site_titles():
        by_site[site].append((url, title))
    kept = json.loads(store.grouping_state(SETTLED_TITLES) or "{}")
    settled: dict[str, str] = {}
    changed: list[tuple[str, str]] = []
    for site, rows in by_site.items():
        if len(rows) < min_pages:
            continue
        digest = xxhash.xxh64_hexdigest(json.dumps([min_pages, rows]).encode())
        if kept.get(site) != digest:
            prefixes, suffixes = repeated_affixes([t for _, t in rows], min_pages)
            cut = [(url, new) for url, title in rows if (new := without_affixes(title, prefixes, suffixes)) != title
                   ] if prefixes or suffixes else []
            changed += cut
            if cut:
                continue
        settled[site] = digest
    if changed:
        store.set_titles(changed)
    if settled != kept:
        store.keep_grouping_state(SETTLED_TITLES, json.dumps(settled))
    return [url for url, _ in changed]


SETTLED_TITLES = "settled_titles"   # each site's titles a pass found nothing to cut from, as a digest (grouping_state)


# -- corpus, furniture, what to sign -------------------------------------------------------------------
@dataclass(slots=True)
class ArticleText:
    """One stored article as grouping sees it: its site, the identity of each paragraph, and what its stored
    signature was made from (one is made per article: it stays small)."""

    site: str
    text_hash: str                  # hash of the stored paragraphs, to tell an unchanged text
    paragraph_hashes: np.ndarray    # normalise.paragraph_hashes of its paragraphs
    signed_digest: str | None       # digest its signature was made from, if made with this pass's parameters
    refresh: bool = False           # its signature keeps the identities of another text (to update if not re-signed)
    unread: bool = False            # not read this pass: the text it was last signed from (``Store.text_changes``)


@dataclass
class Corpus:
    """Every stored article's paragraph identities, and the signed articles no longer stored as articles."""

    texts: dict[str, ArticleText]   # in URL order
    gone: list[str]
    changes_upto: int = 0           # the last text change read (``Store.text_changes``), forgotten once signed
    read_order: list[str] = field(default_factory=list)   # the texts read, in the order they were read
    noted: set[str] = field(default_factory=set)   # of an increment: pages whose text or headline changed since the last

    def file_ranks(self) -> np.ndarray:
        """Each text's place in ``read_order``, in URL order (of a pass that read every text: where its row lies
        in the file)."""
        return np.argsort(np.array(self.read_order, dtype=object), kind="stable")


def lead_sizes_of(options: GroupingOptions) -> str:
    """The lead sizes as stored with each signature ("50,150")."""
    return ",".join(map(str, sorted(options.lead_words)))


def stored_text_hash(paragraphs_json: str | None) -> str:
    """The hash of an article's stored paragraphs as stored (tells an unchanged text without reading it)."""
    return xxhash.xxh64_hexdigest((paragraphs_json or "").encode())


def read_corpus(store: Store, options: GroupingOptions, full: bool, pool: KernelPool | None = None) -> Corpus:
    """Stored articles and signatures. Paragraph identities are kept with each signature, so an article whose
    text has not changed is not read again (unless ``full``): the database notes the texts added or changed
    since the last pass (``Store.text_changes``), and only those, and articles without identities to reuse, are
    read, hashed and, when the hash differs, normalised. A full pass re-signs everything (and clears the stored
    signatures, maybe meanwhile: ``clear_signatures_of``), so it reads none. The texts are read, a batch at a
    time, by the ``pool``'s workers (``Store.page_reader``)."""
    noted, upto = store.text_changes()
    texts, read, olds = ({}, store.article_sites_as_stored(), {}) if full else _unread_texts(store, options, noted)
    reader = store.page_reader()

    def batches() -> Iterator[tuple[tuple, tuple]]:
        for batch in batched(read, _BATCH):
            urls = [url for url, _ in batch]
            kept = [olds.get(url) for url in urls]
            known = [old.paragraphs_hash if old is not None and old.paragraph_keys is not None else None for old in kept]
            yield (batch, kept), (reader or store.carried_pages(urls), urls, known)

    order: list[str] = []
    for (batch, kept), made in (pool or KernelPool(1)).map(_hash_batch, batches(), full):
        for (url, site), old, (text_hash, hashes) in zip(batch, kept, made):
            texts[url] = ArticleText(site, text_hash, np.frombuffer(old.paragraph_keys, dtype=np.uint64)
                                     if hashes is None else hashes, old.content_hash if old and old.same_parameters else None,
                                     refresh=hashes is not None and old is not None)
            order.append(url)
    if full:   # read in the order of the file; kept in URL order
        texts = {url: texts[url] for url in sorted(texts)}
    return Corpus(texts, [] if full else sorted(set(store.signed_urls()) - texts.keys()), upto, order,
                  noted=set() if full else noted & texts.keys())


def _unread_texts(store: Store, options: GroupingOptions, noted: set[str]
                  ) -> tuple[dict[str, ArticleText | None], list[tuple[str, str]], dict[str, StoredSignature]]:
    """An increment's articles, in URL order, from one read of the articles beside their signatures: those whose
    stored identities stand (not ``noted`` as changed) made unread, the others (None, to read) with (url, site) in
    ``read`` and their stored signature, if any, in ``olds``."""
    texts: dict[str, ArticleText | None] = {}
    read: list[tuple[str, str]] = []
    olds: dict[str, StoredSignature] = {}
    for url, site, old in store.article_signature_states(**options.signature_params(), lead_words=lead_sizes_of(options),
                                                         openings=options.opening_params()):
        if old is not None and old.paragraph_keys is not None and url not in noted:
            texts[url] = ArticleText(site, old.paragraphs_hash, np.frombuffer(old.paragraph_keys, dtype=np.uint64),
                                     old.content_hash if old.same_parameters else None, unread=True)
            continue
        texts[url] = None   # its place in URL order, filled once read
        read.append((url, site))
        if old is not None:
            olds[url] = old
    return texts, read, olds


_BATCH = 200   # articles per batch a worker normalises or signs: a few hundred kB of text


def stored_paragraphs(source: PageSource, urls: list[str]) -> list[list[str]]:
    """The stored paragraphs of these articles, in order, read from ``source``."""
    texts = source.texts(urls)
    return [json.loads(texts.get(url) or "[]") for url in urls]


def _hash_batch(source: PageSource, urls: list[str], known: list[str | None]) -> list[tuple[str, np.ndarray | None]]:
    """(text hash, paragraph identities) of each stored text given, read from ``source`` (a kernel); no identities
    for a text whose hash is the ``known`` one (its stored identities stand). The identities are
    ``normalise.paragraph_hashes`` of each, from the compiled pass over the batch's words
    (``hashed_batch_words``, the one signing uses)."""
    texts = source.texts(urls)
    hashed = [stored_text_hash(texts.get(url)) for url in urls]
    given = [i for i, (text_hash, old) in enumerate(zip(hashed, known)) if text_hash != old]
    batch, _ = hashed_batch_words([json.loads(texts.get(urls[i]) or "[]") for i in given])
    found: list[np.ndarray | None] = [None] * len(urls)
    edges = batch.text_paragraphs.tolist()
    for i, a, b in zip(given, edges[:-1], edges[1:]):
        found[i] = batch.paragraph_hashes[a:b].copy()
    return list(zip(hashed, found))


@dataclass
class Furniture:
    """Site furniture: paragraph hashes repeated on enough pages of one site."""

    by_site: dict[str, set[int]]
    writers: dict[int, str] = field(default_factory=dict)   # furniture hash → the site holding most of its pages

    def of(self, site: str) -> set[int]:
        return self.by_site.get(site, set())


def find_furniture(corpus: Corpus, options: GroupingOptions) -> Furniture:
    """Each site's furniture and who wrote each furniture paragraph: the site holding more than half of the pages
    that carry it (a site's note or disclaimer, carried now and then by pages copied from it; spam and ads that
    several sites insert alike have no writer)."""
    texts = corpus.texts.values()
    return Furniture(*furniture_and_writers([t.site for t in texts], [t.paragraph_hashes for t in texts],
                                            options.furniture_min_pages))


@dataclass
class SigningPlan:
    """What this pass signs and what it drops."""

    digests: dict[str, str]   # every article: digest of the paragraphs it fingerprints
    changed: list[str]        # to sign, in URL order: new, edited, furniture changed, or other parameters
    gone: list[str]           # signed articles no longer stored as articles
    refingerprinted: set[str] = field(default_factory=set)   # of ``changed``: only its site's furniture changed


def fingerprint_digest(hashes: np.ndarray, banned: set[int]) -> str:
    """The digest of the paragraphs an article fingerprints (its paragraph hashes less its site's furniture)."""
    kept = np.array([h for h in hashes.tolist() if h and h not in banned], dtype=np.uint64)
    return hashlib.sha1(kept.tobytes()).hexdigest()


def plan_signing(corpus: Corpus, furniture: Furniture, full: bool, signed_with: dict[str, set[int]] | None = None
                 ) -> SigningPlan:
    """What to sign: every article when ``full``, else those whose fingerprinted paragraphs differ from what their
    signature was made from. Of these, an unread text signed with this pass's parameters changed only in its site's
    furniture: its page is the same, and so is what lineage reads of it. ``signed_with`` is the furniture the stored
    signatures were made with (``SIGNED_FURNITURE``, kept by ``sign_changed``): an unread text carrying none of the
    paragraphs that became or stopped being its site's furniture since fingerprints what its signature was made
    from (no digest is made again; on a site whose furniture is unchanged, none is for any unread text)."""
    digests: dict[str, str] = {}
    changed: list[str] = []
    refingerprinted: set[str] = set()
    moved = {site: hashes ^ old for site, hashes in furniture.by_site.items()
             if (old := (signed_with or {}).get(site)) is not None}
    for url, text in corpus.texts.items():
        if not full and text.unread and text.signed_digest is not None and (
                (since := moved.get(text.site)) is not None and since.isdisjoint(text.paragraph_hashes.tolist())):
            digests[url] = text.signed_digest
            continue
        digest = digests[url] = fingerprint_digest(text.paragraph_hashes, furniture.of(text.site))
        if full or text.signed_digest is None or text.signed_digest != digest:
            changed.append(url)
            if not full and text.unread and text.signed_digest is not None:
                refingerprinted.add(url)
    return SigningPlan(digests, sorted(changed), corpus.gone, refingerprinted)


def signed_furniture(store: Store) -> dict[str, set[int]]:
    """The furniture every stored signature was made with (each site's paragraph hashes), or nothing when not known
    (a signature was written since the last pass that signed, by another engine or a pass stopped midway; or a
    file written by older code, which kept a digest of each site's)."""
    kept = json.loads(store.grouping_state(SIGNED_FURNITURE) or "{}")
    return {site: set(hashes) for site, hashes in kept.items() if isinstance(hashes, list)}


# -- signatures, candidates, verification --------------------------------------------------------------
@dataclass
class Signed:
    """The prints of the articles just signed, kept for verification in a temporary file (``PrintFile``: about
    4 bytes a word, off the heap), with their sites."""

    prints: PrintFile = field(default_factory=PrintFile)


def print_text(paragraphs: list[str], furniture: set[int], options: GroupingOptions) -> tuple[TextPrint, np.ndarray]:
    """A text's print for alignment, and its words' hashes (for lead signatures)."""
    found, quoted, starts = print_words(paragraphs, furniture)
    hashes = word_hashes(found)
    return text_print_of_hashes(hashes, quoted, starts, options.shingle_size), hashes


@dataclass(frozen=True, slots=True)
class SignedArticle:
    """One article's print (what alignment compares) and its signatures (whole text, then its leads)."""

    printed: TextPrint
    full: Signature
    leads: list[Signature]
    distinct: int   # distinct shingles (what the signatures table counts), counted where it was signed
    opening: bytes            # its opening keys, as stored (dedupe.openings)
    capture: bytes | None     # its capture keys, for a short text

    def matrix(self) -> np.ndarray:
        """Its signatures as rows of uint32 values (what LSH bands), whole text first."""
        return np.stack([s.hashvalues for s in (self.full, *self.leads)])


def sign_article(paragraphs: list[str], banned: set[int], options: GroupingOptions,
                 params: SignatureParams) -> SignedArticle:
    """Print, signatures, opening and capture keys of one article (``banned``: its site's furniture)."""
    words, quoted, starts = print_words(paragraphs, banned)
    wh = word_hashes(words)
    printed = text_print_of_hashes(wh, quoted, starts, options.shingle_size)
    full_text, leads = sign_text(printed.shingles, wh, options.lead_words, params)
    lengths = np.array([len(word.encode()) for word in words], dtype=np.int64)
    return SignedArticle(printed, full_text, leads, len(sorted_distinct(printed.shingles)),
                         to_bytes(batch_opening_keys(wh, lengths, np.array([0, len(wh)]), options)[0]),
                         to_bytes(capture_keys(wh, lengths, np.array(quoted, dtype=bool), starts, options)))


def signature_row(url: str, distinct: int, full: bytes, leads: bytes | None, digest: str, text_hash: str,
                  hashes: np.ndarray, options: GroupingOptions) -> dict:
    """The signatures-table row of a signed article: its print's distinct shingles counted (not kept: the prints
    held for verification stay half the size), its whole text's and its leads' signatures as bytes."""
    return {"url": url, **options.signature_params(), "n_shingles": distinct, "hashvalues": full,
            "lead_words": lead_sizes_of(options), "lead_hashvalues": leads, "content_hash": digest,
            "paragraphs_hash": text_hash, "paragraph_keys": hashes.tobytes(), "openings": options.opening_params()}


@dataclass(frozen=True, slots=True)
class SignedBatch:
    """What a signing worker hands back for a batch: its prints as one block, and each article's distinct
    shingles, signatures (whole text; leads), LSH band keys, opening keys and capture keys (``dedupe.openings``)
    as bytes, as they are stored."""

    prints: PrintBlock
    distinct: list[int]
    full: list[bytes]
    leads: list[bytes | None]
    band_keys: list[bytes]
    openings: list[bytes]
    captures: list[bytes | None]


def sign_changed(store: Store, corpus: Corpus, plan: SigningPlan, furniture: Furniture, options: GroupingOptions,
                 full: bool, progress: Progress = no_progress, pool: KernelPool | None = None,
                 cleared: Callable[[], None] | None = None) -> Signed:
    """Sign every changed article (whole text and leads) and store the signatures; drop those of gone ones.

    Words, shingles and signatures are made a batch of articles at a time (in the ``pool``'s workers when
    there are enough) and saved in batches; the prints verification needs go to a temporary file
    (``PrintFile``): memory never holds every article's words or prints. A signature whose text changed but not what it signs gets the new text's identities; then the text
    changes this pass read are forgotten, and the furniture every signature is now made with is kept
    (``SIGNED_FURNITURE``, for ``plan_signing``). A full pass first clears every signature, or waits for
    ``cleared``, the clearing a worker began meanwhile (``clear_signatures_of``).
    """
    changed = plan.changed
    if full:   # every text was read: signed in the order read, the order of the file
        (cleared or store.clear_signatures)()
        changed = corpus.read_order
    else:
        store.delete_signatures(changed + plan.gone)
    with store.appending_signatures() if full else nullcontext():   # emptied by clear_signatures
        signed = _sign_all(store, corpus, plan, furniture, options, changed, progress, pool)
    resigned = set(changed)
    store.update_signature_texts([(url, t.text_hash, t.paragraph_hashes.tobytes()) for url, t in corpus.texts.items()
                                  if t.refresh and url not in resigned])
    store.forget_text_changes(corpus.changes_upto)
    store.keep_grouping_state(SIGNED_FURNITURE, json.dumps({site: sorted(hashes)   # what every signature is made with now
                                                            for site, hashes in furniture.by_site.items()}))
    return signed


def _sign_all(store: Store, corpus: Corpus, plan: SigningPlan, furniture: Furniture, options: GroupingOptions,
              changed: list[str], progress: Progress, pool: KernelPool | None) -> Signed:
    """The batches of ``sign_changed``, signed and saved."""
    signed = Signed()
    rows, keys, openings = [], [], []
    banding = banding_of(options)
    reader = store.page_reader()
    batches = ((urls, (reader or store.carried_pages(urls), urls, [furniture.of(corpus.texts[url].site) for url in urls],
                       options)) for urls in batched(changed, _BATCH))
    for urls, batch in (pool or KernelPool(1)).map(_sign_batch, batches, len(changed) >= _PARALLEL_SIGN):
        texts = [corpus.texts[url] for url in urls]
        signed.prints.add_block(urls, [text.site for text in texts], batch.prints)
        for url, text, distinct, whole, leads, band_keys in zip(urls, texts, batch.distinct, batch.full, batch.leads,
                                                                batch.band_keys):
            rows.append(signature_row(url, distinct, whole, leads, plan.digests[url], text.text_hash,
                                      text.paragraph_hashes, options))
            keys.append((url, band_keys))
        openings.extend(zip(urls, batch.openings, batch.captures))
        if len(rows) >= _SAVE_BATCH:
            _save_signed(store, rows, keys, openings, banding)
            rows, keys, openings = [], [], []
        progress("signature", len(signed.prints), len(changed))
    _save_signed(store, rows, keys, openings, banding)
    return signed


def _save_signed(store: Store, rows: list[dict], keys: list[tuple[str, bytes]],
                 openings: list[tuple[str, bytes, bytes | None]], banding: str) -> None:
    store.save_signatures(rows)
    store.save_band_keys(keys, banding)
    store.save_openings(openings)


_SAVE_BATCH = 10_000      # signatures saved a transaction: each commit writes again the index pages it touched
_PARALLEL_SIGN = 1000     # articles to sign from which workers pay for their start and the shipping of texts
_PARALLEL_VERIFY = 5000   # candidate pairs to align from which they do
_PAIR_BATCH = 500         # candidate pairs per batch a worker aligns


def _sign_batch(source: PageSource, urls: list[str], banned: list[set[int]], options: GroupingOptions
                ) -> SignedBatch:
    """Print and signatures of each stored text, read from ``source``, less its site's furniture (``banned``)
    (a kernel): ``sign_article`` of each, with the words of the whole batch split and hashed at once
    (``print_batch``)."""
    params = SignatureParams(**options.signature_params())
    prints = print_batch(list(zip(stored_paragraphs(source, urls), banned)), options)
    signed = sign_texts([(p.printed.shingles, p.hashes) for p in prints], options.lead_words, params)
    counts = [1 + len(leads) for _, leads in signed]
    matrix = np.stack([s.hashvalues for full, leads in signed for s in (full, *leads)]) if signed else None
    keys = all_band_keys(matrix, *lsh_bands(options.lsh_threshold, options.num_perm)) if signed else None
    bounds = np.cumsum([0, *counts]).tolist()
    word_bounds = np.cumsum([0, *(p.printed.n_words for p in prints)])
    openings = batch_opening_keys(np.concatenate([p.hashes for p in prints]) if prints else _NO_WORDS,
                                  np.concatenate([p.lengths for p in prints]) if prints else _NO_WORDS,
                                  word_bounds, options)
    captures = [capture_keys(p.hashes, p.lengths, p.quoted, p.printed.paragraphs.tolist(), options) for p in prints]
    return SignedBatch(PrintBlock.of([p.printed for p in prints]), [p.distinct for p in prints],
                       [full.to_bytes() for full, _ in signed], [leads_to_bytes(leads) for _, leads in signed],
                       [keys[a:b].tobytes() for a, b in itertools.pairwise(bounds)],
                       [to_bytes(keys) for keys in openings], [to_bytes(keys) for keys in captures])


_NO_WORDS = np.empty(0, dtype=np.int64)


class BatchPrint(NamedTuple):
    """One text's print made in a batch, with what signing needs of its printed words."""

    printed: TextPrint
    hashes: np.ndarray    # uint64, each printed word's hash
    distinct: int         # the print's distinct shingles, counted
    lengths: np.ndarray   # int64, each printed word's UTF-8 length (its opening's keys are long pairs)
    quoted: np.ndarray    # bool, each printed word inside quotation marks


def print_batch(texts: list[tuple[list[str], set[int]]], options: GroupingOptions) -> list[BatchPrint]:
    """``print_text`` of each (paragraphs, its site's furniture), bit for bit, and its print's distinct shingles
    (counted), from one pass over the batch's words and their hashes (``normalise.hashed_batch_words``) and one
    over their shingles (``signature.batch_shingles``): no Python string or list per word."""
    found, word_hashes = hashed_batch_words([paragraphs for paragraphs, _ in texts])
    keep = _printed_paragraphs(found, [banned for _, banned in texts])[found.paragraph_of]
    paragraph_of = found.paragraph_of[keep]
    hashes = word_hashes[keep]
    quoted = found.quoted[keep]
    lengths = (found.ends - found.starts)[keep]
    text_of = np.repeat(np.arange(len(texts)), np.diff(found.text_paragraphs))[paragraph_of]
    bounds = np.searchsorted(text_of, np.arange(len(texts) + 1))
    firsts = np.flatnonzero(np.diff(paragraph_of, prepend=-1))   # each printed paragraph's first word
    first_bounds = np.searchsorted(firsts, bounds).tolist()
    size = options.shingle_size
    shingles, shingle_bounds, distinct = batch_shingles(hashes, bounds, size)
    bounds, shingle_bounds = bounds.tolist(), shingle_bounds.tolist()
    prints = []
    for t, n_distinct in enumerate(distinct.tolist()):
        a, b = bounds[t], bounds[t + 1]
        starts = (firsts[first_bounds[t]:first_bounds[t + 1]] - a).astype(np.int32)
        printed = TextPrint(shingles[shingle_bounds[t]:shingle_bounds[t + 1]].copy(), np.packbits(quoted[a:b]), starts,
                            b - a, size)
        prints.append(BatchPrint(printed, hashes[a:b], n_distinct, lengths[a:b], quoted[a:b]))
    return prints


def _printed_paragraphs(found: BatchWords, banned: list[set[int]]) -> np.ndarray:
    """Which paragraphs of the batch are printed (``print_words``): those with words, each once a text, less
    its site's furniture."""
    keep = np.zeros(len(found.paragraph_hashes), dtype=bool)
    has_words = np.bincount(found.paragraph_of, minlength=len(keep)).astype(bool).tolist()
    hashes = found.paragraph_hashes.tolist()
    bounds = found.text_paragraphs.tolist()
    for t, furniture in enumerate(banned):
        seen: set[int] = set()
        for p in range(bounds[t], bounds[t + 1]):
            if has_words[p] and (h := hashes[p]) not in furniture and h not in seen:
                seen.add(h)
                keep[p] = True
    return keep


@dataclass
class Candidates:
    """Pairs of articles whose signatures collide in some LSH band."""

    urls: list[str]      # article number → URL
    pairs: np.ndarray    # int64 (n, 2): article numbers, smaller first


def banding_of(options: GroupingOptions) -> str:
    """The LSH banding band keys are made for, as kept with them ("37x3": bands x rows per band)."""
    bands, rows = lsh_bands(options.lsh_threshold, options.num_perm)
    return f"{bands}x{rows}"


def find_candidates(store: Store, queries: set[str], options: GroupingOptions) -> Candidates:
    """Every stored signature (full text and leads) matched band by band against the ``queries``' ones, as
    MinHashLSH queries would be, without building a MinHashLSH of everything. Each signature's band keys
    (``all_band_keys``: 37 keys of 8 bytes where 128 values take 4) are kept beside it, made when it was signed
    (``Store.signature_band_keys``): they are read a page at a time into a temporary file (``BandKeyFile``),
    read back a band at a time. Signatures without kept keys (an older file, another banding, another engine's
    signatures) are banded here, and their keys kept for the next pass."""
    bands, rows = lsh_bands(options.lsh_threshold, options.num_perm)
    banding = banding_of(options)
    owners: list[np.ndarray] = []   # of each block of signatures: the article number of each
    urls: list[str] = []
    with BandKeyFile(bands) as keys:
        for page in store.signature_band_keys(banding):
            made = _missing_band_keys(page, options.num_perm, bands, rows)
            if made:
                store.save_band_keys(list(made.items()), banding)
            found = [made.get(url) or kept for url, kept, _, _ in page]
            keys.append(np.frombuffer(b"".join(found), dtype=np.uint64).reshape(-1, bands))
            sizes = [len(k) // (8 * bands) for k in found]
            owners.append(np.repeat(np.arange(len(urls), len(urls) + len(page), dtype=np.int32), sizes))
            urls.extend(url for url, _, _, _ in page)
        query = np.fromiter((u in queries for u in urls), dtype=bool, count=len(urls))
        pairs = (keyed_pairs(np.concatenate(owners), keys.columns(), query) if query.any()
                 else np.empty((0, 2), dtype=np.int64))
    return Candidates(urls, pairs)


def _missing_band_keys(page: list[tuple], num_perm: int, bands: int, rows: int) -> dict[str, bytes]:
    """The band keys of the signatures of a page of ``Store.signature_band_keys`` that have none kept, by URL."""
    missing = [(url, full + (leads or b"")) for url, kept, full, leads in page if kept is None]
    if not missing:
        return {}
    values = np.frombuffer(b"".join(blob for _, blob in missing), dtype=np.uint32).reshape(-1, num_perm)
    found = all_band_keys(values, bands, rows)
    bounds = np.cumsum([0] + [len(blob) // (4 * num_perm) for _, blob in missing]).tolist()
    return {url: found[a:b].tobytes() for (url, _), a, b in zip(missing, bounds[:-1], bounds[1:])}


def edge_row(e: Edge) -> dict:
    """A relation as a row of the edges table."""
    return {"a": e.a, "b": e.b, "containment": e.containment, "jaccard": e.jaccard, "kind": e.kind, "basis": e.basis,
            "cover_a": e.cover_a, "cover_b": e.cover_b, "len_a": e.len_a, "len_b": e.len_b,
            "passages": np.array(e.passages, dtype=np.int32).tobytes(), "opens": e.opens}


def edge_of_row(r: StoredEdge) -> Edge:
    passages = tuple(map(tuple, np.frombuffer(r.passages or b"", dtype=np.int32).reshape(-1, 4).tolist()))
    return Edge(r.a, r.b, r.containment, r.jaccard, r.kind or "copy", r.basis or "covers",
                1.0 if r.cover_a is None else r.cover_a, 1.0 if r.cover_b is None else r.cover_b,
                passages, r.opens or "", r.len_a or 0, r.len_b or 0)


def verify_candidates(store: Store, candidates: Candidates, signed: Signed, furniture: Furniture,
                      options: GroupingOptions, pool: KernelPool | None = None) -> list[tuple[str, str]]:
    """Align every candidate pair and store the relations found (copies and quotes) as they come; returns the
    URLs (a, b) of each. The prints of stored articles not signed in this pass, then the pairs, go to the
    ``pool``'s workers in batches when there are enough; a batch of pairs carries only where its articles'
    prints lie in ``signed``'s file, and the worker reads them from it (shipping the prints themselves kept
    this process's core busy reading and pickling them while the workers waited)."""
    urls, found = candidates.urls, candidates.pairs
    prints = signed.prints
    need = sorted(u for u in (urls[i] for i in np.unique(found).tolist()) if u not in prints)
    sites, reader = dict(store.sites_of(need)), store.page_reader()
    texts = ((some, (reader or store.carried_pages(some), some, [furniture.of(sites[url]) for url in some], options))
             for some in batched([url for url in need if url in sites], _BATCH))
    for some, made in (pool or KernelPool(1)).map(_print_batch, texts, len(need) >= _PARALLEL_SIGN):
        prints.add_block(some, [sites[url] for url in some], made)

    def batches() -> Iterator[tuple[None, tuple]]:
        path = prints.shared_path()
        for start in range(0, len(found), _PAIR_BATCH):  # in slices: millions of pairs as Python ints weigh
            part = found[start:start + _PAIR_BATCH]
            held = np.unique(part)
            spans = [prints.span(urls[i]) for i in held.tolist()]
            at_a, at_b = np.searchsorted(held, part[:, 0]).tolist(), np.searchsorted(held, part[:, 1]).tolist()
            batch = [(urls[i], urls[j], a, b, prints.site(urls[i]) == prints.site(urls[j]))
                     for i, j, a, b in zip(part[:, 0].tolist(), part[:, 1].tolist(), at_a, at_b)]
            yield None, (path, spans, batch, options)

    related: list[tuple[str, str]] = []

    def rows() -> Iterator[dict]:
        for _, found_edges in (pool or KernelPool(1)).map(_relate_batch, batches(), len(found) >= _PARALLEL_VERIFY):
            for e in found_edges:
                related.append((e.a, e.b))
                yield edge_row(e)

    store.save_edges(rows())
    return related


def return_freed_memory() -> None:
    """Hand the memory a big stage freed back to the system: glibc keeps freed blocks in its heaps, so without
    this the process stays at its peak size after verification while lineage grows on top. Nothing where
    ``malloc_trim`` is missing (not glibc)."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)


def _print_batch(source: PageSource, urls: list[str], banned: list[set[int]], options: GroupingOptions
                 ) -> PrintBlock:
    """The print of each stored text, read from ``source``, less its site's furniture (``banned``) (a kernel):
    the batch word pass signing uses."""
    return PrintBlock.of([p.printed for p in print_batch(list(zip(stored_paragraphs(source, urls), banned)),
                                                                   options)])


def _relate_batch(path: str, spans: list[PrintSpan], pairs: list[tuple[str, str, int, int, bool]],
                  options: GroupingOptions) -> list[Edge]:
    """The relations found among candidate pairs, each (url a, url b, its print's place in ``spans``, the
    other's, same site), the prints read from the print file at ``path`` (a kernel: only where the prints
    lie crosses processes, not the prints)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        held = [read_print(fd, span) for span in spans]
    finally:
        os.close(fd)
    return [e for a, b, i, j, same_site in pairs if (e := relate_pair(a, b, held[i], held[j], same_site, options))]


def relate_pair(url_a: str, url_b: str, print_a: TextPrint, print_b: TextPrint, same_site: bool,
                options: GroupingOptions) -> Edge | None:
    """One candidate pair, in either order, related from the two articles' prints: a copy or quote Edge (its
    URLs in order), or None."""
    if url_b < url_a:
        url_a, url_b, print_a, print_b = url_b, url_a, print_b, print_a
    return relate(url_a, url_b, print_a, print_b, options, same_site=same_site)


# -- caption-only captures -----------------------------------------------------------------------------
def link_captions(store: Store, signed: list[str] | None, furniture: Furniture, options: GroupingOptions,
                  pool: KernelPool | None = None, prints: PrintFile | None = None) -> list[tuple[str, str]]:
    """Relate caption-only captures to their stories and store the relations; returns the URLs (a, b) of each.

    A capture (a headline and a deck cut from the lead, among share-widget labels) shares too few shingles with
    its story for an LSH band to pair them. A short text no other relation links to a longer text (after this
    pass's verification; ``group.cluster`` reads the same rule) is a capture to look up: its capture keys are
    matched against every text's opening keys (``dedupe.openings``, both kept when a text is signed), and a text
    whose opening holds ``caption_min_keys`` of them is aligned with it word by word (``relate.relate_caption``),
    in the ``pool``'s workers. A text this pass printed (in ``prints``) is printed again only as far as its
    opening: its word count is known, and the rest of its words are never aligned.

    ``signed``: the texts this pass signed (None: all of them, a full pass). Which texts a capture matches
    depends on the two texts alone, so an increment gets a rebuild's relations by keeping, for each capture,
    whether it has been looked up against every text: one that has is matched only with the texts signed
    now; one that has not (new, signed again, or no longer linked) with every text; one another relation now
    links loses its caption relations, which a rebuild would not make.
    """
    states = {url: (from_bytes(keys), looked_up) for url, keys, looked_up in store.capture_states()}
    linked = store.linked_pages(sorted(states), options.caption_max_words)
    stale = sorted(url for url in linked if states[url][1])
    store.delete_caption_edges(stale)
    store.mark_looked_up(stale, False)
    fresh = set(signed) if signed is not None else None
    every = [(url, keys) for url, (keys, looked_up) in states.items() if url not in linked and
             (fresh is None or not looked_up)]
    again = [(url, keys) for url, (keys, looked_up) in states.items() if url not in linked and
             fresh is not None and looked_up]
    del states
    found: set[tuple[str, str]] = set()
    for captures, texts in ((every, None), (again, sorted(fresh or ()))):
        index = CaptureIndex.of(captures, options.caption_min_keys)
        if index.urls and (texts is None or texts):
            found.update(index.matches(store.opening_pages(texts), options.caption_min_keys))
    pairs = sorted(found)
    reader = store.page_reader()

    def batches() -> Iterator[tuple[None, tuple]]:
        by_text: dict[str, list[str]] = defaultdict(list)   # each text printed once, with its captures
        for capture, text in pairs:
            by_text[text].append(capture)
        for texts in batched(sorted(by_text), _CAPTION_BATCH):
            some = [(capture, text) for text in texts for capture in by_text[text]]
            urls = sorted({url for pair in some for url in pair})
            held = dict(store.sites_of(urls))
            urls = [url for url in urls if url in held]
            known = [prints.span(url)[4] if prints is not None and url in prints else None for url in urls]
            yield None, (reader or store.carried_pages(urls), urls, [furniture.of(held[url]) for url in urls], known,
                         [(c, t) for c, t in some if c in held and t in held and held[c] != held[t]], options)

    edges = [e for _, made in (pool or KernelPool(1)).map(_caption_batch, batches(), signed is None) for e in made]
    store.save_edges(edge_row(e) for e in edges)
    store.mark_looked_up(sorted(url for url, _ in every), True)   # once their relations are kept
    return [(e.a, e.b) for e in edges]


_CAPTION_BATCH = 500   # texts (with the captures matched to them) per batch a worker prints and aligns


def _caption_batch(source: PageSource, urls: list[str], banned: list[set[int]], known: list[int | None],
                   pairs: list[tuple[str, str]], options: GroupingOptions) -> list[Edge]:
    """The relation of each (capture, text) pair of other sites' pages (a site's pages share its own labels and
    notes) where the capture is the shorter (``_captures``), the texts read from ``source`` and printed as for
    signing (``_opening_prints``: as far as their openings where their words are ``known``) (a kernel)."""
    prints, words = _opening_prints(stored_paragraphs(source, urls), banned, known, options)
    number = {url: n for n, url in enumerate(urls)}
    tried = [(number[url], number[other]) for url, other in pairs
             if _captures(url, prints[number[url]].n_words, other, prints[number[other]].n_words)]
    edges = []
    for (a, b), chain in zip(tried, caption_chains(prints, words, tried, options)):
        if chain[0] >= options.caption_min_words and (e := relate_caption(
                urls[a], urls[b], prints[a], words[a], prints[b], words[b], chain, options)) is not None:
            edges.append(e)
    return edges


def _opening_prints(texts: list[list[str]], banned: list[set[int]], known: list[int | None],
                    options: GroupingOptions) -> tuple[list[TextPrint], list[np.ndarray]]:
    """Each text's print (``print_batch``) and its words' hashes, as far as a capture can be aligned with it.

    A text whose printed words are ``known`` (this pass printed it) and more than ``caption_lead_words`` is
    printed from its first paragraphs only (``_opening_paragraphs``), its word count set to the known one: a
    deck is looked for in the opening alone, and printing is per paragraph, so the opening's words, quoted
    flags and paragraph starts are the whole print's. One whose first paragraphs print no more words than the
    opening is printed whole."""
    lead = options.caption_lead_words
    short = [k is not None and k > lead for k in known]
    made = print_batch([(_opening_paragraphs(t, lead) if cut else t, f) for t, f, cut in zip(texts, banned, short)],
                       options)
    again = [i for i, (p, cut) in enumerate(zip(made, short)) if cut and p.printed.n_words <= lead]
    for i, p in zip(again, print_batch([(texts[i], banned[i]) for i in again], options)):
        made[i] = p
    prints = [replace(p.printed, n_words=k) if cut else p.printed for p, cut, k in zip(made, short, known)]
    return prints, [p.hashes for p in made]


def _opening_paragraphs(paragraphs: list[str], lead: int) -> list[str]:
    """The first paragraphs of a text, up to one and a half times ``lead`` words and more, split at blanks
    (printing splits more finely; a text whose furniture or repeats leave fewer is printed again whole)."""
    words = 0
    for n, paragraph in enumerate(paragraphs):
        words += paragraph.count(" ") + 1
        if words > lead + lead // 2:
            return paragraphs[:n + 1]
    return paragraphs


def _captures(url: str, n_words: int, other: str, other_words: int) -> bool:
    """May text ``url`` be a capture of text ``other``? Only if shorter (ties: in URL order): of two short texts,
    one is aligned as the other's capture, whichever pass matches them."""
    return (n_words, url) < (other_words, other)


# -- stories -------------------------------------------------------------------------------------------
@dataclass
class Grouping:
    """The stories to trace again, which page contains which (without joining its story), and the similarity
    and containment of every related pair (a, b), a < b (for each copy's to its parent: only these numbers of a
    relation are kept past grouping)."""

    groups: list[list[str]]
    similarity: Similarity
    contains: list[tuple[str, str]] = field(default_factory=list)
    standing: set[str] = field(default_factory=set)   # ids of the groups whose lineage stands (``standing_stories``)


def cluster_touched(store: Store, plan: SigningPlan, new_pairs: list[tuple[str, str]], options: GroupingOptions,
                    full: bool, retrace: set[str] = frozenset()) -> Grouping:
    """Stories of the connected components this pass touched (all of them when ``full``): a component is
    touched when it holds a changed, new or gone article, a new relation (``new_pairs``: its two URLs), a page
    to ``retrace`` (``evidence_changes``), or a member of a story one of those belonged to. Components are
    taken over every relation, quotes too, so a page and what it contains are always grouped together. An
    increment reads only the relations of the touched components, and marks the groups whose lineage stands
    (``standing_stories``). Relations are held as numpy columns and made objects one component at a time."""
    traced = set()
    if full:
        relations = Relations(sorted(plan.digests), store.edges())
    else:
        traced = (set(plan.changed) - plan.refingerprinted) | set(store.articles_without_story()) | retrace
        relations = _touched_relations(store, plan, new_pairs, traced)
    groups: list[list[str]] = []
    contains: list[tuple[str, str]] = []
    for comp, numbers in relations.components():
        found = cluster(comp, [edge_of_row(relations.row(k)) for k in numbers], options.min_cover, options.lead_share,
                        options.caption_max_words, functools.partial(headline_words, store), options.headline_share)
        groups.extend(found.stories)
        contains.extend(found.contains)
    standing = set() if full else standing_stories(store, groups, traced)
    return Grouping(groups, relations.similarity(), contains, standing)


def headline_words(store: Store, urls: list[str]) -> dict[str, frozenset[str]]:
    """The words of these pages' stored headlines (``group.find_shared_pieces`` breaks a tie by them)."""
    return {url: frozenset(paragraph_key(title).split()) for url, title in store.titles_of(urls).items()}


def in_file_order(groups: list[list[str]], urls: list[str], ranks: np.ndarray) -> list[list[str]]:
    """The groups in the order their first page lies in the file (``urls`` in URL order, ``ranks`` their places,
    ``Corpus.file_ranks``): lineage reads each story's pages, and copies stored together are read together
    rather than from all over the file."""
    last = len(urls) - 1
    first = [int(ranks[min(bisect.bisect_left(urls, min(group)), last)]) for group in groups] if urls else []
    return [groups[i] for i in sorted(range(len(groups)), key=first.__getitem__)]


def standing_stories(store: Store, groups: list[list[str]], traced: set[str]) -> set[str]:
    """The ids of the groups that are a stored story, page for page, holding no page whose lineage must be read
    again (``traced``: new, edited, resettled, or read otherwise by lineage's evidence): a stored page signed again
    only because its site's furniture changed leaves what lineage reads as it was (its article, its story, the
    evidence), so its story's origin, parents, versions and verdicts stand; only the relations' numbers (each
    copy's similarity to its parent) and the "contains" links are made again. An aggregate is traced again (its
    pages' roles before they were marked are not stored)."""
    candidates = [g for g in groups if traced.isdisjoint(g)]
    stored = store.story_membership([u for g in candidates for u in g])
    standing = set()
    for group in candidates:
        sid = story_id(group)
        if all((found := stored.get(u)) is not None and found[:2] == (sid, len(group)) and found[2] != "aggregate"
               for u in group):
            standing.add(sid)
    return standing


def _touched_relations(store: Store, plan: SigningPlan, new_pairs: list[tuple[str, str]], traced: set[str]
                       ) -> Relations:
    """The relations of the touched components, in the table's order, over the pages they reach: the components
    of every relation that hold a touched page (``traced``, signed again, gone, or of a new relation), found by
    following relations out from the touched pages."""
    dirty = traced | set(plan.changed) | set(plan.gone)
    for a, b in new_pairs:
        dirty.update((a, b))
    dirty.update(store.story_members(store.stories_of(sorted(dirty))))
    reached = {u for u in dirty if u in plan.digests}
    found: dict[int, StoredEdge] = {}
    frontier = sorted(reached)
    while frontier:
        step: set[str] = set()
        for rowid, row in store.edges_touching(frontier):
            if rowid not in found:
                found[rowid] = row
                step.update(u for u in (row.a, row.b) if u not in reached)
        reached |= step
        frontier = sorted(step)
    return Relations(sorted(reached), (found[rowid] for rowid in sorted(found)))


def story_id(urls: list[str]) -> str:
    """A stable id from the story's members: the same partition always gets the same ids."""
    return "st-" + hashlib.sha1(min(urls).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class EvidenceState:
    """What lineage reads of the whole database rather than of one story: the sites repeating each paragraph as
    furniture, the site that wrote each, the hashes of the stored titles, the sites writing no credit lines.
    Kept between passes (``save_results``), so that an increment traces again the stories it changed for."""

    furniture_sites: dict[int, frozenset[str]]
    writers: dict[int, str]
    titles: frozenset[int]
    uncrediting: frozenset[str]
    relaying: frozenset[str] = frozenset()   # sites republishing other republishers' copies

    def generic(self, h: int, site: str) -> bool:
        """See ``LineageEvidence.generic``."""
        return h in self.titles or len(self.furniture_sites.get(h, frozenset()) - {site}) >= 2

    def wrote(self, h: int, site: str) -> bool:
        return self.writers.get(h) == site

    def changed_paragraphs(self, other: EvidenceState) -> set[int]:
        """The paragraph hashes for which the two states may answer differently."""
        found = set(self.titles ^ other.titles)
        for mine, theirs in ((self.furniture_sites, other.furniture_sites), (self.writers, other.writers)):
            found.update(h for h in mine.keys() | theirs.keys() if mine.get(h) != theirs.get(h))
        return found

    def answers_differ(self, other: EvidenceState, h: int, site: str) -> bool:
        return self.generic(h, site) != other.generic(h, site) or self.wrote(h, site) != other.wrote(h, site)

    def differ_somewhere(self, other: EvidenceState, h: int) -> bool:
        """Do the two states answer differently about this paragraph for some site? Only the sites they name for it
        (as furniture, as its writer) can be answered apart from the rest; every other site gets one answer (a
        paragraph that stays furniture of three sites or more is generic everywhere, before and after)."""
        sites = self.furniture_sites.get(h, frozenset()), other.furniture_sites.get(h, frozenset())
        named = sites[0] | sites[1] | {w for w in (self.writers.get(h), other.writers.get(h)) if w is not None}
        if any(self.answers_differ(other, h, site) for site in named):
            return True
        return self.generic(h, "") != other.generic(h, "")   # as for any site not named ("" names none)

    def to_json(self) -> str:
        return json.dumps({"furniture_sites": sorted([h, sorted(s)] for h, s in self.furniture_sites.items()),
                           "writers": sorted(self.writers.items()), "titles": sorted(self.titles),
                           "uncrediting": sorted(self.uncrediting), "relaying": sorted(self.relaying)})

    @classmethod
    def from_json(cls, text: str) -> EvidenceState:
        data = json.loads(text)
        return cls({h: frozenset(s) for h, s in data["furniture_sites"]}, {h: s for h, s in data["writers"]},
                   frozenset(data["titles"]), frozenset(data["uncrediting"]), frozenset(data.get("relaying", [])))


class CreditReader:
    """Which outlets a page's credits name, now that every stored outlet's name is known (names are learnt as the
    crawl goes on, so lines a page's reading could not place are read again)."""

    def __init__(self, store: Store):
        self.outlets = OutletDirectory()
        for host, name in store.outlets().items():
            self.outlets.add(host, name)

    def read_cue_line(self, line: str, site: str) -> tuple[str, str] | None:
        """(credited host, role) of a short credit-cue line."""
        credit = cue_line_credit(line, self.outlets, site)
        return (credit.host, credit.role) if credit else None

    def read_edge_line(self, line: str, site: str) -> tuple[str, str] | None:
        """(credited host, role) of a short line at the head or foot of a body naming an outlet now known."""
        credit = edge_line_credit(line, self.outlets, site)
        return (credit.host, credit.role) if credit else None

    def credited_hosts(self, article: dict) -> set[str]:
        """``member(article).credited_hosts``, alone."""
        return credited_hosts_of(article, site_of, self.outlets.resolve_name, self.read_cue_line, self.read_edge_line)


def clear_signatures_of(path: str) -> None:
    """``Store.clear_signatures`` through a connection of its own: a kernel, run by a worker while a full pass
    reads its texts (at a million articles, 31 s of freeing pages, most of it reading them, with the other core
    idle). Nothing else writes meanwhile."""
    store = Store(path)
    try:
        store.clear_signatures()
    finally:
        store.close()


def remake_page_facts(path: str) -> None:
    """Every article page's facts made again (``keep_page_facts``), through a connection of its own: a kernel, run
    by a worker beside the stages of a full pass that keep one core busy (at a million articles, 48 s of parsing
    credits and titles, which held the other core idle). It ends before any other write of the pass begins."""
    store = Store(path)
    try:
        keep_page_facts(store, CreditReader(store).credited_hosts, fresh=True)
    finally:
        store.close()


class LineageEvidence(CreditReader):
    """What the whole database knows that one article does not: outlet names, redirects, capture times,
    and which paragraphs several sites repeat. Read once per pass (from memory: a query per link would
    dominate the stage)."""

    def __init__(self, store: Store, furniture: Furniture, carried_min_pages: int = LineageOptions.carried_min_pages,
                 relay_min_pages: int = LineageOptions.relay_min_pages, fresh: bool = False):
        super().__init__(store)
        self.aliases = store.aliases()
        self.resolved: dict[str, str] = {}
        self.paragraphs: dict[str, tuple[str, bool]] = {}
        self.captured = store.capture_times()
        furniture_sites: dict[int, set[str]] = defaultdict(set)
        for site, hashes in furniture.by_site.items():
            for h in hashes:
                furniture_sites[h].add(site)
        uncrediting, relaying = credit_sites(store, self.credited_hosts, carried_min_pages, relay_min_pages, fresh)
        titles = frozenset(np.frombuffer(store.title_keys(), dtype=np.uint64).tolist())   # kept by credit_sites
        self.state = EvidenceState({h: frozenset(sites) for h, sites in furniture_sites.items()}, furniture.writers,
                                   titles, frozenset(uncrediting), frozenset(relaying))

    def captures(self, urls: list[str]) -> dict[str, str]:
        """The capture times of these pages (what a batch of them ships with it)."""
        return {u: self.captured[u] for u in urls if u in self.captured}

    def for_pages(self, captured: dict[str, str]) -> LineageEvidence:
        """A copy that knows these capture times only (``captures``: of a batch's pages; none, to ship it once to
        every worker), with memories of its own."""
        part = copy.copy(self)
        part.captured = captured
        part.resolved = {}
        part.paragraphs = {}
        return part

    def resolve(self, url: str) -> str:
        """Where a linked URL leads, following recorded redirects (remembered: pages of a site link the same
        pages, and canonicalising a URL costs more than looking it up)."""
        found = self.resolved.get(url)
        if found is None:
            if len(self.resolved) >= 200_000:
                self.resolved.clear()
            key, seen = url_key(url), set()
            while key in self.aliases and key not in seen:
                seen.add(key)
                key = self.aliases[key]
            found = self.resolved[url] = key
        return found

    def read_paragraph(self, paragraph: str) -> tuple[str, bool]:
        """A paragraph's key and whether it is a heading (remembered: the copies of a story share most of their
        paragraphs, and reading one costs more than looking it up)."""
        found = self.paragraphs.get(paragraph)
        if found is None:
            if len(self.paragraphs) >= 200_000:
                self.paragraphs.clear()
            found = self.paragraphs[paragraph] = read_paragraph(paragraph)
        return found

    def generic(self, key: str, site: str) -> bool:
        """Boilerplate several other sites also repeat (spam, ads), or the headline of a stored article (a
        related link, a page's own headline printed in its text): no evidence of who copied whom."""
        return self.state.generic(paragraph_hash(key), site)

    def carries_credits(self, site: str) -> bool:
        """Are the credit lines on this site's pages all carried from the pages it copies (``credit_sites``)?"""
        return site in self.state.uncrediting

    def relays(self, site: str) -> bool:
        """Does this site republish other republishers' copies (``credit_sites``)?"""
        return site in self.state.relaying

    def wrote(self, key: str, site: str) -> bool:
        """Did ``site`` write this paragraph (its note or disclaimer: see ``furniture_writers``)?"""
        return self.state.wrote(paragraph_hash(key), site)

    def member(self, article: dict) -> Member:
        return member_from_article(article, site_of, self.resolve, self.outlets.resolve_name,
                                   self.captured.get(article["url"]), self.read_cue_line, self.read_edge_line,
                                   self.read_paragraph)


EVIDENCE_STATE = "lineage_evidence"   # the name of the kept EvidenceState (Store.grouping_state)


def evidence_changes(store: Store, corpus: Corpus, evidence: LineageEvidence) -> set[str]:
    """Pages of the stories whose lineage reads something of the whole database that changed since the last pass
    (a paragraph of theirs became furniture of a site, got a writer, became a title; a site of theirs started or
    stopped writing credits): tracing them again keeps an increment's lineage what a rebuild's is. Every stored
    article when the last pass kept no state."""
    kept = store.grouping_state(EVIDENCE_STATE)
    if kept is None:
        return set(corpus.texts)
    old, new = EvidenceState.from_json(kept), evidence.state
    hashes = {h for h in old.changed_paragraphs(new) if old.differ_somewhere(new, h)}
    stories = store.stories_on_sites((old.uncrediting ^ new.uncrediting) | (old.relaying ^ new.relaying))
    if hashes:
        carried = _carried(corpus, hashes)
        pages: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for story, url, site in store.story_sites(store.stories_of(sorted(carried))):
            pages[story].append((url, site))
        differs = functools.cache(lambda h, site: old.answers_differ(new, h, site))   # stories share paragraphs
        for story, found in pages.items():
            sites = {site for _, site in found}
            mine = set().union(*(carried.get(url, ()) for url, _ in found))
            if any(differs(h, site) for h in mine for site in sites):
                stories.add(story)
    return set(store.story_members(stories))


def _carried(corpus: Corpus, hashes: set[int]) -> dict[str, set[int]]:
    """The stored pages holding any of these paragraph hashes, each with those it holds."""
    urls = list(corpus.texts)
    held = [corpus.texts[u].paragraph_hashes for u in urls]
    owners = np.repeat(np.arange(len(urls)), [len(h) for h in held])
    flat = np.concatenate(held) if held else np.empty(0, np.uint64)
    hit = np.isin(flat, np.array(sorted(hashes), np.uint64))
    carried: dict[str, set[int]] = defaultdict(set)
    for i, h in zip(owners[hit].tolist(), flat[hit].tolist()):
        carried[urls[i]].add(h)
    return carried


def credit_sites(store: Store, credited_hosts: Callable[[dict], set[str]], min_pages: int, relay_min_pages: int,
                 fresh: bool = False) -> tuple[set[str], set[str]]:
    """What every page's credits say of its site, from what each page's credits say (its facts, kept between
    passes: ``keep_page_facts``, every page's made again when ``fresh``):

    - the sites writing no credits: their pages carry credit lines (on ``min_pages`` or more) but never one of
      their own, every line also being on another site's page. Such a site (a scraper) writes no credit; a line
      on its page came with the text it took, from a page holding that line;
    - the sites relaying copies: they credit two or more other outlets on ``relay_min_pages`` or more pages (the
      outlet a text came from and that text's source: "via X", "originally published by Y"). Such a site
      republishes copies; on its pages a credit line in the same words as another copy's more likely came from
      that copy."""
    keep_page_facts(store, credited_hosts, fresh)
    holders: dict[int, set[str]] = defaultdict(set)
    crediting: Counter = Counter()
    relaying: Counter = Counter()
    for site, credits, lines, relays in store.credit_facts():
        crediting[site] += credits
        relaying[site] += relays
        for h in np.frombuffer(lines, dtype=np.uint64).tolist():
            holders[h].add(site)
    writers = {next(iter(sites)) for sites in holders.values() if len(sites) == 1}
    return ({site for site, n in crediting.items() if n >= min_pages and site not in writers},
            {site for site, n in relaying.items() if n >= relay_min_pages})


def keep_page_facts(store: Store, credited_hosts: Callable[[dict], set[str]], fresh: bool = False) -> None:
    """Make and keep the facts of every article page that has none kept (the ``page_facts`` table; of every page
    when ``fresh``): a pass reads and parses only the credits and titles of pages added or changed since the last."""
    if fresh:
        store.clear_page_facts()
    for page in store.unread_page_facts():
        store.save_page_facts([page_facts(url, site, title, statements, source, credited_hosts)
                               for url, site, title, statements, source in page])


def page_facts(url: str, site: str, title: str | None, statements: list[str], source: dict | None,
               credited_hosts: Callable[[dict], set[str]]) -> tuple[str, str, int, bytes, int, bytes | None]:
    """What lineage reads of one page beyond its text (a row of ``Store.save_page_facts``): whether it carries
    credit lines, their identities (``paragraph_hash`` of each line's words), whether it credits two or more
    other outlets, its title's identity (none for a title without words)."""
    lines = np.array([paragraph_hash(paragraph_key(line)) for line in statements], dtype=np.uint64)
    relays = source is not None and len(credited_hosts(source) - {source["site"]}) >= 2
    key = paragraph_key(title) if title else ""
    title_key = np.array([paragraph_hash(key)], dtype=np.uint64).tobytes() if key else None
    return url, site, int(bool(statements)), lines.tobytes(), int(relays), title_key


def articles_by_group(store: Store, groups: list[list[str]], batch: int) -> Iterator[list[dict]]:
    """Each group's stored articles in URL order, read a few thousand at a time in group order."""
    loaded: dict[str, dict] = {}
    for gi, group in enumerate(groups):
        if group[0] not in loaded:
            loaded.clear()
            urls: list[str] = []
            for later in groups[gi:]:
                if urls and len(urls) + len(later) > batch:
                    break
                urls.extend(later)
            loaded.update((a["url"], decode_lineage_article(a)) for a in store.lineage_articles(urls))
        yield [loaded[u] for u in sorted(group)]


@dataclass
class Traced:
    """Rows for the stories, members, lineage and audits tables: of one batch of stories."""

    stories: list[dict] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    lineage: list[dict] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)
    evidence: EvidenceState | None = None   # what they were traced with, kept for the next pass


def trace_groups(store: Store, grouping: Grouping, furniture: Furniture, options: GroupingOptions,
                 run_id: int | None, spent: Spent, progress: Progress = no_progress,
                 evidence: LineageEvidence | None = None, pool: KernelPool | None = None) -> Iterator[Traced]:
    """Origin, parents and verdicts of every story to trace again, a batch of stories at a time (the rows are
    saved and dropped as they are made, never held for the whole database), at least one batch. Stories are
    read and traced a few hundred pages at a time (``options.lineage_batch`` at most), in the ``pool``'s
    workers when there are enough, each reading its own batch's articles (stories are independent given the
    ``evidence``); ``spent("audit", s)``
    counts the seconds audit took. The stories whose lineage stands (``Grouping.standing``) are not traced: their
    stored rows come back with each copy's similarity to its parent made again."""
    evidence = evidence or LineageEvidence(store, furniture, options.lineage.carried_min_pages, options.lineage.relay_min_pages)
    groups = [g for g in grouping.groups if story_id(g) not in grouping.standing]
    reader = store.page_reader()   # taken before the results' write opens its transaction: articles are not written
    with Shipped(evidence.for_pages({})) as shared:   # to each worker once, not with every batch
        def work() -> Iterator[tuple[int, tuple]]:
            for part in story_batches(groups, min(_TRACE_BATCH, options.lineage_batch)):
                urls = [u for g in part for u in g]
                source = reader or store.carried_pages(urls, lineage=True)
                yield len(part), (source, part, shared, evidence.captures(urls), options.lineage, run_id)

        done = 0
        parallel = sum(map(len, groups)) >= _PARALLEL_SIGN
        for count, (traced, audit_seconds) in (pool or KernelPool(1)).map(_trace_batch, work(), parallel):
            _fill_similarity(traced.members, grouping.similarity)
            traced.evidence = evidence.state
            spent("audit", audit_seconds)
            done += count
            progress("lineage", done, len(groups))
            yield traced
    for chunk in batched(sorted(grouping.standing), options.lineage_batch):
        stories, members = store.story_rows(chunk)
        for m in members:
            m["similarity"] = m["containment"] = None
        _fill_similarity(members, grouping.similarity)
        for story in stories:
            story["updated_at"] = utc_now()
        yield Traced(stories, members, evidence=evidence.state)
    if not groups and not grouping.standing:
        yield Traced(evidence=evidence.state)


_TRACE_BATCH = 500   # pages of stories a worker traces at once: a few such batches wait per worker


def story_batches(groups: list[list[str]], pages: int) -> Iterator[list[list[str]]]:
    """Consecutive groups, about ``pages`` pages a batch (a larger story alone)."""
    batch: list[list[str]] = []
    held = 0
    for group in groups:
        if batch and held + len(group) > pages:
            yield batch
            batch, held = [], 0
        batch.append(group)
        held += len(group)
    if batch:
        yield batch


def _trace_batch(source: PageSource, groups: list[list[str]], shared: Shipped[LineageEvidence],
                 captured: dict[str, str], options: LineageOptions, run_id: int | None) -> tuple[Traced, float]:
    """The rows of each story (its pages' stored articles, read from ``source``, in URL order), and the seconds
    audit took (a kernel): with the pass's evidence, shipped once, and the capture times of the batch's pages."""
    evidence = shared.value.for_pages(captured)
    loaded = {a["url"]: a for a in source.lineage_articles([u for g in groups for u in g])}
    traced, audit_seconds = Traced(), 0.0
    for arts in ([loaded[u] for u in sorted(g)] for g in groups):
        members = [evidence.member(decode_lineage_article(a)) for a in arts]
        decisions = decide(members, evidence.generic, options, evidence.wrote, evidence.carries_credits,
                           evidence.relays)
        versions = find_versions(members, decisions, options)
        started = time.perf_counter()
        results = audit_story(members, decisions)
        audit_seconds += time.perf_counter() - started
        _add_story(traced, story_id([a["url"] for a in arts]), arts, members, (decisions, versions), results, run_id)
    return traced, audit_seconds


def _add_story(traced: Traced, sid: str, arts: list[dict], members: list, traced_story: tuple[dict, Versions],
               results: list, run_id: int | None) -> None:
    decisions, versions = traced_story
    origin = decisions[members[0].url].origin
    for m in members:
        d = decisions[m.url]
        started = versions.started_by(m.url)
        role = "origin" if m.url == origin else "version" if started else "copy"
        number = versions.of[m.url]
        traced.members.append({"url": m.url, "story_id": sid, "is_origin": int(m.url == origin),
                               "parent_url": d.parent, "similarity": None, "containment": None, "first_run": run_id,
                               "role": role, "version": number, "version_url": versions.first_page(number)})
        traced.lineage.append({"url": m.url, "story_id": sid, "parent_url": d.parent, "origin_url": origin,
                               "signal": d.signal, "evidence": json.dumps(d.evidence),
                               "changes": json.dumps({**started.changes.to_json(), "updates": versions.of[started.updates]})
                               if started and started.updates else None})
    uncredited = 0
    for r in results:
        row = r.to_row()
        uncredited += r.verdict in UNCREDITED_VERDICTS
        for key in ("reasons", "conflicts", "added", "removed"):
            row[key] = json.dumps(row[key])
        traced.audits.append({**row, "story_id": sid})
    dated = sorted(m.published.isoformat() for m in members if m.published)
    traced.stories.append({"id": sid, "origin_url": origin, "size": len(members),
                           "sites": len({m.site for m in members}),
                           "first_published": dated[0] if dated else None,
                           "last_published": dated[-1] if dated else None,
                           "title": next((a["title"] for a in arts if a["url"] == origin), None),
                           "uncredited": uncredited, "first_run": run_id, "updated_at": utc_now(),
                           "versions": len(versions.chain), "contains": 0})


def _fill_similarity(members: list[dict], similarity: Similarity) -> None:
    """Each copy's similarity and containment to its parent, from the verified relation between them."""
    for m in members:
        parent = m["parent_url"]
        if not parent:
            continue
        found = similarity.get(*((m["url"], parent) if m["url"] < parent else (parent, m["url"])))
        if found:
            m["similarity"], m["containment"] = found


def save_results(store: Store, traced: Iterable[Traced], grouping: Grouping, plan: SigningPlan, full: bool,
                 timed: Timer = lambda name: nullcontext(), options: SaveOptions | None = None) -> int:
    """Swap the traced stories in, each batch written as it comes: for the stories their pages (or gone pages)
    belonged to, or for everything when ``full``, with SQLite set by ``options``. A story whose lineage stands
    keeps its lineage and audit rows; its story and member rows are written again and its "contains" links made
    again. A story or member seen in an earlier run keeps the run it first appeared in. Returns the number of
    stories written; ``timed("save")`` times the writing."""
    replaced = None
    pages = [u for g in grouping.groups if story_id(g) not in grouping.standing for u in g]
    if not full:
        replaced = store.stories_of(pages) | store.stories_of(plan.gone)
    rows = contains_rows(grouping)
    contained, aggregates = aggregate_stories(grouping, rows)
    batches = iter(traced)
    first = next(batches)
    state = {EVIDENCE_STATE: first.evidence.to_json()} if first.evidence else None
    written = 0
    with ExitStack() as transaction:
        with timed("save"):
            write = transaction.enter_context(
                store.replacing_results(replaced, pages, state, options,
                                        relinked=[u for g in grouping.groups if story_id(g) in grouping.standing for u in g]))
        for batch in itertools.chain([first], batches):
            with timed("save"):
                for story in batch.stories:
                    story["contains"] = contained.get(story["id"], 0)
                for m in batch.members:
                    if m["story_id"] in aggregates:
                        m["role"] = "aggregate"
                write(batch.stories, batch.members, batch.lineage, batch.audits)
            written += len(batch.stories)
        with timed("save"):
            write([], [], [], [], contains=rows)
            transaction.close()   # commits
    return written


def contains_rows(grouping: Grouping) -> list[dict]:
    """The "contains" links as rows, with the story of each side (a link inside one story is dropped)."""
    linked = {u for pair in grouping.contains for u in pair}
    story = {u: sid for g in grouping.groups if not linked.isdisjoint(g) for sid in [story_id(g)] for u in g}
    return [{"url": a, "contained_url": b, "story_id": story[a], "contained_story": story[b]}
            for a, b in grouping.contains if a in story and b in story and story[a] != story[b]]


def aggregate_stories(grouping: Grouping, contains: list[dict]) -> tuple[dict[str, int], set[str]]:
    """How many stories each story contains, and the aggregates: the stories made only of pages holding pieces
    of two or more other stories (a listing, a compilation, and their captures)."""
    by_page: dict[str, set[str]] = defaultdict(set)
    by_story: dict[str, set[str]] = defaultdict(set)
    for row in contains:
        by_page[row["url"]].add(row["contained_story"])
        by_story[row["story_id"]].add(row["contained_story"])
    aggregates = {story_id(g) for g in grouping.groups if all(len(by_page.get(u, ())) >= 2 for u in g)}
    return {sid: len(found) for sid, found in by_story.items()}, aggregates
