"""Stage 4, candidates: MinHash LSH over full-text and lead signatures.

Each article is indexed with its whole text and its leads (first 50 and 150 words by default). An
excerpt that keeps only the opening paragraphs of a long article has a low Jaccard similarity with the
whole, but a high one with the lead of about its own length, so querying all of them finds excerpts and
trimmed reprints without a containment index that would have to be rebuilt whenever an article arrives.

Candidates are datasketch MinHashLSH's, computed another way: :func:`banded_pairs` uses the bands and
rows MinHashLSH picks for the threshold and finds the colliding signatures by sorting each band of a
numpy matrix of all stored signatures. The pairs are exactly those MinHashLSH returns (a test checks
it), but 100,000 articles (300,000 signatures) fit in a few hundred MB, where a MinHashLSH of them
holds a Python object per band per signature (measured: 3.5 GB for 300,000 signatures).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from dedupe.signature import sorted_distinct


@lru_cache(maxsize=16)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) that datasketch's MinHashLSH chooses for this threshold."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
        return x ^ (x >> np.uint64(31))


def band_keys(cols: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of a band: equal band values give equal keys (unequal ones, with chance 2^-64)."""
    key = np.zeros(len(cols), dtype=np.uint64)
    for j in range(cols.shape[1]):
        key = _mix64(key ^ cols[:, j].astype(np.uint64) ^ np.uint64(j << 32))
    return key


def band_columns(band: int, rows: int) -> slice:
    """The signature values of one band (datasketch's banding: band ``i`` is values ``i*rows … (i+1)*rows - 1``)."""
    return slice(band * rows, (band + 1) * rows)


def bucket_pairs(owners: list[int]) -> list[tuple[int, int]]:
    """The candidate pairs of one band bucket (signatures with the same band key): every two distinct articles
    among its ``owners``, smaller first."""
    distinct = sorted(set(owners))
    return [(a, b) for i, a in enumerate(distinct) for b in distinct[i + 1:]]


def banded_pairs(owners: np.ndarray, matrix: np.ndarray, query: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The pairs MinHashLSH would return, for every query at once, by sorting each band.

    ``matrix`` holds one signature per row (full texts and leads alike) and ``owners`` the article
    number of each row. Two articles are a candidate pair when any of their signatures agree on every
    value of one band (datasketch's banding: band ``i`` is values ``i*rows … (i+1)*rows - 1``) and at
    least one of them is a query (``query[article]``). See :func:`keyed_pairs`.

    Returns:
        int64 array of shape (n, 2), each row (smaller article number, larger), no duplicates.
    """
    return keyed_pairs(owners, all_band_keys(matrix, bands, rows).T, query)


def all_band_keys(matrix: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64 (signatures, bands): each signature's key in each band (:func:`band_keys`). Computed a block of
    signatures at a time, it replaces the signatures themselves: 8 bytes a band where the values take 4 a row."""
    return np.stack([band_keys(matrix[:, band_columns(band, rows)]) for band in range(bands)], axis=1
                    ) if len(matrix) else np.empty((0, bands), dtype=np.uint64)


def rows_with_keys(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The rows of ``keys`` whose key is among ``wanted`` (sorted, distinct), in row order. A table of bits
    indexed by a key's low bits, about 16 slots a wanted key, first lets through the few rows that may hold
    one (keys are mixed: their low bits are uniform), so only those are searched for among ``wanted``: an
    increment looks every stored signature up in every band, and a binary search of each costs ten times as much."""
    bits = max(int(len(wanted) * 16 - 1).bit_length(), 10)
    mask = np.uint64((1 << bits) - 1)
    table = np.zeros(1 << bits, dtype=bool)
    table[(wanted & mask).astype(np.intp)] = True
    maybe = np.nonzero(table[(keys & mask).astype(np.intp)])[0]
    found = keys[maybe]
    at = np.minimum(np.searchsorted(wanted, found), len(wanted) - 1)
    return maybe[wanted[at] == found]


def keyed_pairs(owners: np.ndarray, keys_by_band: Iterable[np.ndarray], query: np.ndarray) -> np.ndarray:
    """The candidate pairs of :func:`banded_pairs` from each signature's band keys (``all_band_keys``), given a
    band at a time (every signature's key in that band: the keys of all bands need not be held at once): a
    pair shares a key in some band and holds a query. Memory is a band's keys plus a few arrays of their
    length, where a MinHashLSH holds a Python set per band per signature; when few articles are queries (an
    incremental update), each band looks every row up among the queries' keys (``rows_with_keys``). A rare 64-bit
    key collision can add a pair, never lose one; verification is exact anyway.

    Returns:
        int64 array of shape (n, 2), each row (smaller article number, larger), no duplicates.
    """
    n = np.int64(len(query))
    found = [np.empty(0, dtype=np.int64)]  # pair (a, b), a < b, as a * n + b
    held, limit = 0, 1_000_000
    asked = query[owners]
    everyone = bool(asked.all())
    for band_key in keys_by_band:
        if everyone:
            rows_in = np.arange(len(band_key))
        else:  # only rows whose key some query row has
            wanted = sorted_distinct(band_key[asked])
            if not len(wanted):
                continue
            rows_in = rows_with_keys(band_key, wanted)
        order = rows_in[np.argsort(band_key[rows_in], kind="stable")]
        sorted_keys = band_key[order]
        same = sorted_keys[1:] == sorted_keys[:-1]           # row k+1 has row k's key
        if not same.any():
            continue
        shared = np.zeros(len(order), dtype=bool)           # rows that share their key with another
        shared[1:] |= same
        shared[:-1] |= same
        run = np.cumsum(np.concatenate(([True], ~same)))[shared]
        who = owners[order][shared].astype(np.int64)
        step = 1
        while step < len(run):
            hit = np.nonzero(run[step:] == run[:-step])[0]
            if not len(hit):
                break
            a, b = who[hit], who[hit + step]
            keep = (a != b) & (query[a] | query[b])
            a, b = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
            found.append(a * n + b)
            held += len(a)
            step += 1
        if held > limit:  # a pair is found again in most bands: fold duplicates as we go
            found = [sorted_distinct(np.concatenate(found))]
            held = len(found[0])
            limit = max(limit, 2 * held)
    codes = sorted_distinct(np.concatenate(found))
    return np.stack([codes // n, codes % n], axis=1)
