"""The batch word splitter and hasher against the paragraph-by-paragraph functions they replace in signing:
same words, quoted flags, paragraph identities, word hashes, prints and signatures, on generated text in
every script, with odd whitespace, apostrophes, quotation marks and empty paragraphs."""

import json

import numpy as np
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.storage.store import CarriedPages
from dedupe.normalise import BatchWords, _xxh64, hashed_batch_words, paragraph_hashes, quoted_words
from dedupe.options import GroupingOptions
from dedupe.signature import SignatureParams, leads_to_bytes, word_hashes
from dedupe.spill import PrintFile
from dedupe.stages import _hash_batch, _sign_batch, print_batch, print_text, sign_article, stored_text_hash
from tests.words_reference import batch_words, span_hashes

TRICKY = list("aZ09'\"_ -.,\t\n\r\x0b\x0c\u00a0\u2009\u3000\u2018\u2019\u201c\u201d\u00ab\u00bb\u2014\u2026"
              "\ufb01\u00c6\u00e9\u00df\u0130\u01c5\u0301\uff21\u0627\u05d0\u4e2d\u0e01\u0905\u2460\U0001d400")
paragraph = st.text(alphabet=st.one_of(st.sampled_from(TRICKY), st.characters()), max_size=40)
texts = st.lists(st.lists(paragraph, max_size=6), max_size=5)
long_paragraph = st.text(alphabet=st.one_of(st.sampled_from(TRICKY), st.characters()), min_size=30, max_size=300)


def same_print(a, b) -> bool:
    arrays = ("shingles", "quoted", "paragraphs")
    return (all(np.array_equal(getattr(a, f), getattr(b, f)) and getattr(a, f).dtype == getattr(b, f).dtype
                for f in arrays) and (a.n_words, a.size) == (b.n_words, b.size))


@settings(max_examples=150, deadline=None)
@given(texts)
def test_batch_words_are_the_words_of_each_paragraph(batch):
    """The compiled pass (what grouping uses) and the numpy reference, each against the paragraph-by-paragraph
    functions."""
    for found, hashed in (hashed_batch_words(batch), (batch_words(batch), None)):
        _check_words_of_each_paragraph(batch, found, hashed)


def _check_words_of_each_paragraph(batch, found, hashed):
    flat = [p for paragraphs in batch for p in paragraphs]
    expected, flags, owners = [], [], []
    for i, p in enumerate(flat):
        w, q = quoted_words(p)
        expected += w
        flags += q
        owners += [i] * len(w)
    assert [found.buffer[a:b].tobytes().decode() for a, b in zip(found.starts, found.ends)] == expected
    assert found.quoted.tolist() == flags and found.paragraph_of.tolist() == owners
    assert np.array_equal(found.paragraph_hashes, paragraph_hashes(flat))
    made = span_hashes(found.buffer, found.starts, found.ends) if hashed is None else hashed
    assert np.array_equal(made, word_hashes(expected))
    assert found.text_paragraphs.tolist() == np.cumsum([0] + [len(t) for t in batch]).tolist()


@settings(max_examples=60, deadline=None)
@given(texts, st.data())
def test_batch_prints_and_signatures_are_those_of_each_text(batch, data):
    """Repeated paragraphs and furniture included: each text gets back paragraphs of its own and another's."""
    batch = [t + data.draw(st.lists(st.sampled_from(t), max_size=2)) if t else t for t in batch]
    every = [p for t in batch for p in t]
    banned = [set(paragraph_hashes(data.draw(st.lists(st.sampled_from(every), max_size=2))).tolist())
              if every else set() for _ in batch]
    options = GroupingOptions()
    params = SignatureParams(**options.signature_params())
    for (printed, hashes, *_), text, furniture in zip(print_batch(list(zip(batch, banned)), options), batch, banned):
        old, old_hashes = print_text(text, furniture, options)
        assert np.array_equal(hashes, old_hashes) and hashes.dtype == old_hashes.dtype and same_print(printed, old)
    urls = [f"u{i}" for i in range(len(batch))]
    stored = CarriedPages({url: json.dumps(text) for url, text in zip(urls, batch)})
    signed = _sign_batch(stored, urls, banned, options)
    prints = PrintFile()
    prints.add_block(urls, ["a.example"] * len(urls), signed.prints)   # the block as the parent writes it
    for url, text, furniture, distinct, full, leads, opening, capture in zip(
            urls, batch, banned, signed.distinct, signed.full, signed.leads, signed.openings, signed.captures):
        old = sign_article(text, furniture, options, params)
        assert full == old.full.to_bytes() and distinct == old.distinct and leads == leads_to_bytes(old.leads)
        assert same_print(prints[url], old.printed)
        assert opening == old.opening and capture == old.capture   # keys of a batch are those of the text alone
    assert len(signed.band_keys) == len(batch)
    prints.close()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(paragraph, long_paragraph), max_size=6), max_size=5), st.data())
def test_the_compiled_word_pass_is_the_numpy_one(batch, data):
    """``hashed_batch_words`` (one compiled pass, what signing uses) against ``batch_words`` (numpy) and
    ``span_hashes``: every array bit for bit, with repeated paragraphs, keys and words of 32 bytes and more."""
    batch = [t + data.draw(st.lists(st.sampled_from(t), max_size=2)) if t else t for t in batch]
    found, word_hashes = hashed_batch_words(batch)
    reference = batch_words(batch)
    for name in BatchWords.__dataclass_fields__:
        made, expected = getattr(found, name), getattr(reference, name)
        assert made.dtype == expected.dtype and np.array_equal(made, expected), name
    expected = span_hashes(reference.buffer, reference.starts, reference.ends)
    assert word_hashes.dtype == expected.dtype and np.array_equal(word_hashes, expected)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 7))
def test_the_compiled_xxh64_is_xxhash(data, offset):
    padded = np.frombuffer(bytes(offset) + data + bytes(9), dtype=np.uint8)
    assert _xxh64(padded, offset, offset + len(data)) == xxhash.xxh64_intdigest(data)


def test_long_words_and_shingles_of_short_texts_come_out_as_before():
    """Words of 32 bytes and more are hashed by xxhash itself; a text shorter than a shingle is one shingle,
    even beside longer texts in its batch."""
    long_word = "supercalifragilisticexpialidocious" * 3
    batch = [[f"A {long_word} and \u00e9t\u00e9 {'x' * 31} {'y' * 32}"], ["Two words."], [], ["", "  "],
             ["One two three four five six seven eight nine ten."]]
    options = GroupingOptions()
    for (printed, hashes, *_), text in zip(print_batch([(t, set()) for t in batch], options), batch):
        assert same_print(printed, print_text(text, set(), options)[0])
    found, hashed = hashed_batch_words(batch)
    assert hashed[1] == xxhash.xxh64_intdigest(long_word.encode())
    assert span_hashes(found.buffer, found.starts, found.ends)[1] == hashed[1]


def test_paragraph_identities_of_a_batch_skip_texts_whose_hash_is_known():
    """A text whose stored hash is the one its identities were kept for is not normalised again; the others are,
    a text missing or null as an empty one."""
    jsons = [json.dumps(["Hello, world.", ""]), json.dumps(["Kept."]), None, "", json.dumps(["\u00c9t\u00e9 \u201cquoted\u201d"])]
    urls = [f"u{i}" for i in range(len(jsons))] + ["missing"]
    stored = CarriedPages(dict(zip(urls, jsons)))
    known = [None, stored_text_hash(jsons[1]), None, stored_text_hash(json.dumps(["Other."])), None, None]
    found = _hash_batch(stored, urls, known)
    assert [text_hash for text_hash, _ in found] == [stored_text_hash(j) for j in jsons + [None]]
    assert found[1][1] is None
    for (_, made), text in zip(found[:1] + found[2:], jsons[:1] + jsons[2:] + [None]):
        expected = paragraph_hashes(json.loads(text or "[]"))
        assert made.dtype == expected.dtype and np.array_equal(made, expected)
