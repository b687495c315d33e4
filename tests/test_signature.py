import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

import dedupe.signature
from dedupe.normalise import (
    furniture_and_writers,
    furniture_on_page,
    normalise_text,
    paragraph_hash,
    paragraph_hashes,
    paragraph_key,
    print_words,
    site_furniture,
    words,
    writer_of,
)
from dedupe.signature import (
    Signature,
    SignatureMismatch,
    SignatureParams,
    batch_shingles,
    shingle_hashes,
    shingle_hashes_in_order,
    sign,
    sign_text,
    sign_texts,
    word_hashes,
)

P = SignatureParams(128, 1, "affine32", 5)


def test_normalisation_folds_quotes_dashes_case_space():
    assert normalise_text("“Smart” quotes — and\u00a0DASHES") == '"smart" quotes - and dashes'
    assert words("Don’t  STOP—now!") == ["don't", "stop", "now"]
    assert paragraph_key("Hello,   World") == paragraph_key("hello world")


def test_signature_equals_datasketch_update_batch():
    hashes = shingle_hashes(("the quick brown fox jumps over the lazy dog " * 5).split(), 5)
    mine = sign(hashes, P)
    ref = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=lambda v: v)
    ref.update_batch([int(h) for h in hashes])
    assert np.array_equal(mine.hashvalues, ref.hashvalues)
    assert mine.minhash().jaccard(ref) == 1.0


def test_a_long_text_and_its_leads_are_signed_as_datasketch_signs_them():
    """A text of several permutation blocks: the whole text and each lead equal ``update_batch`` of their shingles."""
    word_list = [f"w{n}" for n in np.random.default_rng(3).integers(0, 400, size=700)]
    wh = word_hashes(word_list)
    full, leads = sign_text(shingle_hashes_in_order(wh, 5), wh, (50, 150), P)
    assert len(leads) == 2
    for signature, size in ((full, len(word_list)), (leads[0], 50), (leads[1], 150)):
        ref = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=lambda v: v)
        ref.update_batch([int(h) for h in shingle_hashes(wh[:size], 5)])
        assert np.array_equal(signature.hashvalues, ref.hashvalues)


def _datasketch_values(shingles: np.ndarray) -> np.ndarray:
    ref = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=lambda v: v)
    ref.update_batch([int(h) for h in shingles])
    return ref.hashvalues


def test_a_batch_of_texts_and_their_leads_is_signed_as_datasketch_signs_them():
    """One kernel call for texts of every size (none, one word, shorter than a shingle, around the leads' ends
    and the vector widths, repeated shingles): each text's and each lead's signature equal ``update_batch``."""
    rng = np.random.default_rng(5)
    lengths = [0, 1, 4, 5, 6, 7, 8, 9, 15, 16, 17, 0, 33, 50, 51, 54, 55, 56, 150, 151, 155, 256, 257, 700]
    lengths += rng.integers(0, 900, size=8).tolist()
    rng.shuffle(lengths)
    texts = []
    for n in lengths:
        wh = word_hashes([f"w{v}" for v in rng.integers(0, 300, size=n)])
        texts.append((shingle_hashes_in_order(wh, 5), wh))
    wh = word_hashes("one two three four five six seven".split() * 40)   # each shingle seven times
    texts.append((shingle_hashes_in_order(wh, 5), wh))
    for lead_sizes in ((50, 150), (60, 3)):   # a lead shorter than a shingle is one shingle of its own
        signed = sign_texts(texts, lead_sizes, P)
        assert len(signed) == len(texts)
        for (_, wh), (full, leads) in zip(texts, signed):
            ends = [s for s in sorted(lead_sizes) if len(wh) > s] + [len(wh)]
            assert len(leads) == len(ends) - 1
            for signature, end in zip((*leads, full), ends):
                assert np.array_equal(signature.hashvalues, _datasketch_values(shingle_hashes(wh[:end], 5)))


def test_signing_works_where_the_compiled_kernel_cannot_be_cached():
    """A read-only install with a read-only home: numba finds nowhere to write its cache, the kernel is compiled
    in memory, the signature is the same and nothing is printed."""
    code = ("import numpy as np; from dedupe.signature import SignatureParams, sign; "
            "print(sign(np.arange(300, dtype=np.uint32), SignatureParams(128, 1, 'affine32', 5)).to_bytes().hex())")
    env = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "IPythonCacheLocator"}   # finds no place, as read-only
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=False, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0 and done.stderr == ""
    assert bytes.fromhex(done.stdout.strip()) == sign(np.arange(300, dtype=np.uint32), P).to_bytes()


def test_similar_texts_estimate_close_to_exact_jaccard():
    base = [f"w{i}" for i in range(600)]
    other = base[:450] + [f"x{i}" for i in range(150)]
    a, b = shingle_hashes(base, 5), shingle_hashes(other, 5)
    exact = len(np.intersect1d(a, b)) / len(np.union1d(a, b))
    assert abs(sign(a, P).jaccard(sign(b, P)) - exact) < 0.12


def test_mixing_parameters_is_refused():
    h = shingle_hashes("one two three four five six".split(), 5)
    a = sign(h, P)
    b = sign(h, SignatureParams(64, 1, "affine32", 5))
    with pytest.raises(SignatureMismatch):
        a.jaccard(b)
    with pytest.raises(SignatureMismatch):
        a.jaccard(sign(h, SignatureParams(128, 2, "affine32", 5)))


def test_bytes_round_trip():
    s = sign(shingle_hashes("a b c d e f g".split(), 5), P)
    assert np.array_equal(Signature.from_bytes(P, s.to_bytes()).hashvalues, s.hashvalues)


def test_short_text_is_one_shingle_and_empty_is_empty():
    assert len(shingle_hashes(["only", "two"], 5)) == 1
    assert len(shingle_hashes([], 5)) == 0


def test_site_furniture_needs_repetition_on_one_site():
    note = "Note to readers: share this."
    pages = [("gr.example", paragraph_hashes([note, f"body {i}", "—"])) for i in range(3)]
    pages.append(("other.example", paragraph_hashes(["Note to readers:  SHARE this!", "x"])))
    furniture = site_furniture(pages, min_pages=3)
    assert furniture["gr.example"] == {paragraph_hash(paragraph_key(note))}   # a paragraph without words never counts
    assert not furniture["other.example"]
    assert print_words([note, "Body one."], furniture["gr.example"])[0] == ["body", "one"]
    assert print_words([note], furniture["other.example"])[0] == ["note", "to", "readers", "share", "this"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.lists(st.integers(0, 9), max_size=8)), max_size=40),
       st.integers(1, 4))
def test_furniture_counted_by_one_sort_is_the_furniture_counted_page_by_page(pages, min_pages):
    """Paragraph 0 has no words, paragraphs repeat within a page and across sites: the sort gives each site's
    furniture and each furniture paragraph's writer as counting every page's set of paragraphs does."""
    given_pages = [(site, np.array(hashes, dtype=np.uint64)) for site, hashes in pages]
    expected = site_furniture(given_pages, min_pages)
    every = set().union(*expected.values()) if expected else set()
    carried: dict = {}
    for site, hashes in given_pages:
        for h in furniture_on_page(hashes, every):
            carried.setdefault(h, Counter())[site] += 1
    writers = {h: site for h, by in carried.items() if (site := writer_of(by)) is not None}
    found = furniture_and_writers([site for site, _ in given_pages], [hashes for _, hashes in given_pages], min_pages)
    assert found == (expected, writers)


def test_a_paragraph_repeated_on_a_page_is_fingerprinted_once():
    caption = "Photo: the minister leaves the building on Friday."
    found, quoted, starts = print_words([caption, "Body one.", caption, caption], set())
    assert found == ["photo", "the", "minister", "leaves", "the", "building", "on", "friday", "body", "one"]
    assert starts == [0, 8] and not any(quoted)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=0, max_size=80))
def test_identical_texts_give_identical_signatures(tokens):
    text = " ".join(tokens)
    a = sign(shingle_hashes(words(text), 5), P)
    b = sign(shingle_hashes(words(text.upper() if text.isascii() else text), 5), P)
    assert np.array_equal(a.hashvalues, sign(shingle_hashes(words(text), 5), P).hashvalues)
    if text.isascii():
        assert np.array_equal(a.hashvalues, b.hashvalues)


def test_signing_from_threads_gives_what_signing_one_after_another_gives():
    """The permutation pass reuses a scratch block: each thread must have its own, or texts signed at the same
    time would mix their values."""
    rng = np.random.default_rng(9)
    texts = [rng.integers(0, 2**32, size=int(n), dtype=np.uint64).astype(np.uint32)
             for n in rng.integers(200, 2000, size=48)]
    serial = [sign(t, P).hashvalues for t in texts]
    with ThreadPoolExecutor(8) as threads:
        for _ in range(3):
            together = list(threads.map(lambda t: sign(t, P).hashvalues, texts))
            assert all(np.array_equal(a, b) for a, b in zip(serial, together))


def test_the_compiled_kernel_is_made_once_a_process():
    """Each batch asks for the kernel: making it again (numba reading its disk cache) cost 8 ms a batch."""
    assert dedupe.signature._compiled_kernel() is dedupe.signature._compiled_kernel()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2 ** 64 - 1), max_size=40), max_size=6), st.integers(1, 7),
       st.booleans())
def test_batch_shingles_are_each_texts_shingles_and_their_distinct_count(texts, size, few_words):
    """The compiled pass over a batch: each text's own shingles in order (texts of no word, of fewer words than a
    shingle, repeated shingles) and their distinct count, as ``shingle_hashes_in_order`` and ``np.unique``."""
    if few_words:   # many repeated words, so repeated shingles
        texts = [[w % 3 for w in t] for t in texts]
    hashes = np.array([w for t in texts for w in t], dtype=np.uint64)
    bounds = np.cumsum([0] + [len(t) for t in texts])
    shingles, starts, distinct = batch_shingles(hashes, bounds, size)
    assert len(starts) == len(texts) + 1 and len(shingles) == starts[-1]
    for t, text in enumerate(texts):
        expected = shingle_hashes_in_order(np.array(text, dtype=np.uint64), size)
        mine = shingles[starts[t]:starts[t + 1]]
        assert mine.dtype == expected.dtype and np.array_equal(mine, expected)
        assert distinct[t] == len(np.unique(expected))
