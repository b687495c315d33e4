"""Stages 2 and 3, shingle and signature: word shingles hashed with xxhash, MinHash by datasketch.

Shingles are hashed by a polynomial over per-word 64-bit hashes: a text's in one vectorised pass, a batch's texts
(and their distinct counts) in one call of a kernel compiled with numba (``batch_shingles``). Signatures are
datasketch's affine32 MinHash with its own permutations, computed for a whole batch of texts and their leads
by one call of a kernel compiled with numba (other schemes: ``MinHash.update_batch`` on the whole shingle
array), never one ``update`` per shingle. A :class:`Signature` carries its parameters; comparing signatures built differently is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import xxhash

from crawler.errors import SyndtraceError
from dedupe.jit import compiled, kernel

if TYPE_CHECKING:
    from datasketch import MinHash


class SignatureMismatch(SyndtraceError):
    """Two signatures built with different parameters were compared."""


_MIX = np.uint64(0x9E3779B97F4A7C15)
_WORD_HASHES: dict[str, int] = {}
_WORD_CACHE_LIMIT = 2_000_000


def word_hashes(word_list: list[str]) -> np.ndarray:
    """64-bit hashes of the words, in order (computed once, shared by full and lead shingles).

    Each distinct word is hashed once (and kept in a bounded cache); the per-word lookup is a C-level
    ``map`` of the cache's ``__getitem__``, with no Python call per word. Most texts hold no word the cache
    lacks, so the lookup is tried first and the missing words are found only when it fails.
    """
    try:
        return np.fromiter(map(_WORD_HASHES.__getitem__, word_list), dtype=np.uint64, count=len(word_list))
    except KeyError:
        missing = set(word_list).difference(_WORD_HASHES)
    if len(_WORD_HASHES) + len(missing) > _WORD_CACHE_LIMIT:
        _WORD_HASHES.clear()
        missing = set(word_list)
    for w in missing:
        _WORD_HASHES[w] = xxhash.xxh64_intdigest(w.encode())
    return np.fromiter(map(_WORD_HASHES.__getitem__, word_list), dtype=np.uint64, count=len(word_list))


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by a sort and a comparison of neighbours: numpy 2's ``unique`` goes through a hash
    table first, 7-14 times slower on arrays of a text's size (measured for 50 to 3,000 values)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def shingle_hashes_in_order(word_list: list[str] | np.ndarray, size: int) -> np.ndarray:
    """32-bit hashes of the text's ``size``-word shingles, one per position in text order (a short text is one
    shingle). Takes the words, or their :func:`word_hashes`."""
    if len(word_list) == 0:
        return np.empty(0, dtype=np.uint32)
    h = word_list if isinstance(word_list, np.ndarray) else word_hashes(word_list)
    size = min(size, len(h))
    n = len(h) - size + 1
    with np.errstate(over="ignore"):
        acc = h[:n].copy()
        for j in range(1, size):
            acc = acc * _MIX + h[j:j + n]
        folded = (acc >> np.uint64(32)) ^ (acc & np.uint64(0xFFFFFFFF))
    return folded.astype(np.uint32)


def batch_shingles(hashes: np.ndarray, text_bounds: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`shingle_hashes_in_order` of each text of a batch (text ``t``'s words' hashes are
    ``hashes[text_bounds[t]:text_bounds[t + 1]]``), end to end, with where each text's shingles start (one more:
    the end) and how many of them are distinct (what the signatures table counts), by one call of a compiled
    kernel."""
    return _batch_shingles(hashes, text_bounds.astype(np.int64, copy=False), size)


@kernel
def _batch_shingles(hashes: np.ndarray, text_bounds: np.ndarray, size: int) -> tuple:
    """The arrays of :func:`batch_shingles`: the polynomial of ``shingle_hashes_in_order`` over each text's own
    words (a text shorter than a shingle is one shingle of all its words, a text without words none), folded to
    32 bits; distinct values counted in a hash table per text."""
    texts = len(text_bounds) - 1
    starts = np.zeros(texts + 1, dtype=np.int64)
    for t in range(texts):
        words = text_bounds[t + 1] - text_bounds[t]
        starts[t + 1] = starts[t] + (words - min(size, words) + 1 if words else 0)
    shingles = np.empty(starts[texts], dtype=np.uint32)
    distinct = np.zeros(texts, dtype=np.int64)
    for t in range(texts):
        width = min(size, text_bounds[t + 1] - text_bounds[t])
        for k in range(starts[t + 1] - starts[t]):
            at = text_bounds[t] + k
            acc = hashes[at]
            for j in range(1, width):
                acc = acc * _MIX + hashes[at + j]
            shingles[starts[t] + k] = np.uint32((acc >> np.uint64(32)) ^ (acc & np.uint64(0xFFFFFFFF)))
        distinct[t] = _count_distinct(shingles[starts[t]:starts[t + 1]])
    return shingles, starts, distinct


@kernel
def _count_distinct(values: np.ndarray) -> int:
    """How many distinct values (an open-addressing table, a power of two at least twice as many slots)."""
    slots = 1
    while slots < 2 * len(values):
        slots *= 2
    table = np.empty(slots, dtype=np.uint32)
    used = np.zeros(slots, dtype=np.bool_)
    found = 0
    for v in values:
        slot = int((np.uint64(v) * _MIX) >> np.uint64(32)) & (slots - 1)
        while used[slot] and table[slot] != v:
            slot = (slot + 1) & (slots - 1)
        if not used[slot]:
            used[slot], table[slot] = True, v
            found += 1
    return found


def shingle_hashes(word_list: list[str] | np.ndarray, size: int) -> np.ndarray:
    """Distinct 32-bit hashes of the text's ``size``-word shingles, sorted (a short text is one shingle).

    Takes the words, or their :func:`word_hashes`.
    """
    return sorted_distinct(shingle_hashes_in_order(word_list, size))


def _identity(value):
    return value


@lru_cache(maxsize=8)
def _template(num_perm: int, seed: int, scheme: str) -> MinHash:
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=seed, scheme=scheme, hashfunc=_identity)


@dataclass(frozen=True)
class SignatureParams:
    """Everything that must match for two signatures to be comparable."""

    num_perm: int
    seed: int
    scheme: str
    shingle_size: int
    fingerprint: int = 2   # version of the rules for which words are fingerprinted (dedupe.options)


@dataclass(frozen=True)
class Signature:
    params: SignatureParams
    hashvalues: np.ndarray

    def minhash(self) -> MinHash:
        t = _template(self.params.num_perm, self.params.seed, self.params.scheme)
        return type(t)(seed=self.params.seed, hashvalues=self.hashvalues, scheme=self.params.scheme,
                       permutations=t.permutations, hashfunc=_identity)

    def jaccard(self, other: Signature) -> float:
        """Estimated Jaccard similarity.

        Raises:
            SignatureMismatch: when the two were built with different parameters.
        """
        check_compatible(self.params, other.params)
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / len(self.hashvalues)

    def to_bytes(self) -> bytes:
        return self.hashvalues.astype(np.uint32).tobytes()

    @classmethod
    def from_bytes(cls, params: SignatureParams, blob: bytes) -> Signature:
        return cls(params, np.frombuffer(blob, dtype=np.uint32))


def lead_signatures(hashes: np.ndarray, sizes: tuple[int, ...], shingle_size: int,
                    params: SignatureParams) -> list[Signature]:
    """Signatures of the text's leads, one per size shorter than the text, smallest first."""
    return [sign(shingle_hashes(hashes[:size], shingle_size), params) for size in sorted(sizes) if len(hashes) > size]


def leads_to_bytes(leads: list[Signature]) -> bytes | None:
    return b"".join(s.to_bytes() for s in leads) or None


def check_compatible(a: SignatureParams, b: SignatureParams) -> None:
    if a != b:
        raise SignatureMismatch(f"signatures built with different parameters cannot be compared: {a} vs {b}")


@lru_cache(maxsize=8)
def _affine(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutations (a, b) for these parameters, as uint32 (what the affine32 scheme multiplies)."""
    a, b = _template(num_perm, seed, "affine32").permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def load_permutations(params: SignatureParams) -> None:
    """Make datasketch's permutations for these parameters in this process (importing datasketch, and scipy with
    it: 1.5 s of CPU): worker processes forked afterwards share them instead of each importing datasketch."""
    if params.scheme == "affine32":
        _affine(params.num_perm, params.seed)
    else:
        _template(params.num_perm, params.seed, params.scheme)


def _permuted_minima(hashes, ends, carried, a, b):   # typed by numba (_KERNEL_TYPES)
    """Row ``r`` of the result: for each permutation ``(a[p], b[p])``, the least ``a[p] * fmix32(h) + b[p] mod
    2^32`` over ``hashes[ends[r - 1]:ends[r]]`` (datasketch's affine32 scheme), starting from row ``r - 1``'s
    values when ``carried[r]`` (a lead's shingles are its text's first ones, so a longer lead or the whole text
    carries on from the shorter one). Compiled by numba (``_compiled_kernel``): permutations outside, hashes
    inside, so that the minimum is one vectorised reduction."""
    mixed = np.empty(len(hashes), dtype=np.uint32)
    for i in range(len(hashes)):   # MurmurHash3's finalizer, as datasketch applies it to each value
        h = hashes[i]
        h ^= h >> np.uint32(16)
        h = np.uint32(h * np.uint32(0x85EBCA6B))
        h ^= h >> np.uint32(13)
        h = np.uint32(h * np.uint32(0xC2B2AE35))
        mixed[i] = h ^ (h >> np.uint32(16))
    found = np.empty((len(ends), len(a)), dtype=np.uint32)
    start = 0
    for r in range(len(ends)):
        span = mixed[start:ends[r]]
        for p in range(len(a)):
            ap, bp = a[p], b[p]
            least = found[r - 1, p] if carried[r] else np.uint32(0xFFFFFFFF)
            for h in span:
                least = min(least, np.uint32(np.uint32(ap * h) + bp))
            found[r, p] = least
        start = ends[r]
    return found


_KERNEL_TYPES = "uint32[:, ::1](uint32[::1], int64[::1], boolean[::1], uint32[::1], uint32[::1])"


def load_kernel() -> None:
    """Compile (or load from the cache) the permutation kernel in this process, for the processes forked after."""
    _compiled_kernel()


@lru_cache(maxsize=1)
def _compiled_kernel():
    """``_permuted_minima`` compiled (numba: 15 µs an article where numpy's blocks took 220), from numba's cache
    next to this file when it can be written, else in the user's cache folder, else (a read-only install and
    home) compiled in memory, once a process.

    Loaded by the process that signs (a grouping worker; the parent in passes too small to ship), and before
    the workers fork only for an increment (``pipeline``): in a full pass numba's import and kernel (0.3 + 0.4 s,
    ~100 MB of resident memory, a third of it private) would stay in the parent through every later stage."""
    return compiled(_permuted_minima, _KERNEL_TYPES, nogil=True)


def _kernel_rows(spans: list[np.ndarray], ends: np.ndarray, carried: np.ndarray, params: SignatureParams
                 ) -> np.ndarray:
    """The kernel's rows for these spans of hashes, concatenated (``ends`` are positions into all of them)."""
    a, b = _affine(params.num_perm, params.seed)
    hashes = np.concatenate(spans).astype(np.uint32, copy=False)   # contiguous, as the kernel's types say
    return _compiled_kernel()(hashes, ends.astype(np.int64, copy=False), carried, a, b)


def sign_texts(texts: list[tuple[np.ndarray, np.ndarray]], lead_sizes: tuple[int, ...], params: SignatureParams
               ) -> list[tuple[Signature, list[Signature]]]:
    """``sign_text`` of each (shingles in text order, words' hashes), with one call of the compiled kernel for
    all their affine32 signatures: each text's rows (its leads, smallest first, then the whole text) end where
    their last shingle does, and each carries on from the one before."""
    size, leads = params.shingle_size, np.array(sorted(lead_sizes), dtype=np.int64)
    words = np.array([len(hashes) for _, hashes in texts], dtype=np.int64)
    by_kernel = np.full(len(texts), params.scheme == "affine32")
    if len(leads) and leads[0] < size:   # a lead shorter than a shingle is a shingle of its own
        by_kernel &= words <= leads[0]
    picked = np.flatnonzero(by_kernel)
    signed: list = [None] * len(texts)
    if len(picked):
        spans = [texts[t][0] for t in picked.tolist()]
        counts = np.array([len(s) for s in spans], dtype=np.int64)
        has = np.concatenate((words[picked, None] > leads, np.ones((len(picked), 1), dtype=bool)), axis=1)
        ends = np.concatenate((np.broadcast_to(leads - size + 1, (len(picked), len(leads))), counts[:, None]), axis=1)
        ends += np.concatenate(([0], np.cumsum(counts)[:-1]))[:, None]
        carried = np.cumsum(has, axis=1) > 1
        rows = iter(_kernel_rows(spans, ends[has], carried[has], params))
        for t, n_leads in zip(picked.tolist(), (has.sum(axis=1) - 1).tolist()):
            lead_signatures_of = [Signature(params, next(rows)) for _ in range(n_leads)]
            signed[t] = (Signature(params, next(rows)), lead_signatures_of)
    for t in np.flatnonzero(~by_kernel).tolist():
        shingles, hashes = texts[t]
        signed[t] = (sign(sorted_distinct(shingles), params), lead_signatures(hashes, lead_sizes, size, params))
    return signed


def sign_text(shingles: np.ndarray, hashes: np.ndarray, lead_sizes: tuple[int, ...], params: SignatureParams
              ) -> tuple[Signature, list[Signature]]:
    """The whole-text signature and the lead signatures of a text, from its shingle hashes in text order
    (``shingle_hashes_in_order``, or ``TextPrint.shingles``) and its words' hashes.

    Bit for bit ``sign(np.unique(shingles))`` and ``lead_signatures(hashes, lead_sizes, ...)``, with one
    permutation pass for all of them: a lead's shingles are the text's first ones, and a minimum does not
    change when a shingle repeats, so each signature is the running minimum of the rows up to its end.
    """
    return sign_texts([(shingles, hashes)], lead_sizes, params)[0]


def sign(hashes: np.ndarray, params: SignatureParams) -> Signature:
    """MinHash signature of a shingle-hash array.

    For the affine32 scheme this is datasketch's documented construction (MurmurHash3 finalizer, then
    ``a * h + b mod 2^32``, column minimum) in the compiled kernel, with the permutations of
    datasketch's own MinHash for these parameters; ``tests/test_signature.py`` checks it equals
    ``MinHash.update_batch`` bit for bit. Other schemes go through ``update_batch`` itself.
    """
    if params.scheme == "affine32":
        return Signature(params, _kernel_rows([hashes], np.array([len(hashes)]), np.zeros(1, dtype=bool), params)[0])
    t = _template(params.num_perm, params.seed, params.scheme)
    m = type(t)(num_perm=params.num_perm, seed=params.seed, scheme=params.scheme, permutations=t.permutations,
                hashfunc=_identity)
    if len(hashes):
        m.update_batch(hashes)
    return Signature(params, m.hashvalues.astype(np.uint32))
