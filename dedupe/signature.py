"""Stages 2 and 3, shingle and signature: word shingles hashed with xxhash, MinHash by datasketch.

Shingles are hashed in one vectorised pass (a polynomial over per-word 64-bit hashes), and each
signature is built with ``MinHash.update_batch`` on the whole shingle array, never one ``update`` per
shingle. A :class:`Signature` carries its parameters; comparing signatures built differently is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash
from datasketch import MinHash

from dedupe.errors import SignatureMismatch

_MIX = np.uint64(0x9E3779B97F4A7C15)


def shingle_hashes(word_list: list[str], size: int) -> np.ndarray:
    """Distinct 32-bit hashes of the text's ``size``-word shingles (a short text is one shingle)."""
    if not word_list:
        return np.empty(0, dtype=np.uint32)
    h = np.fromiter((xxhash.xxh64_intdigest(w.encode()) for w in word_list), dtype=np.uint64, count=len(word_list))
    if len(h) < size:
        size = len(h)
    n = len(h) - size + 1
    with np.errstate(over="ignore"):
        acc = h[:n].copy()
        for j in range(1, size):
            acc = acc * _MIX + h[j:j + n]
        folded = (acc >> np.uint64(32)) ^ (acc & np.uint64(0xFFFFFFFF))
    return np.unique(folded.astype(np.uint32))


def _identity(value):
    return value


@lru_cache(maxsize=8)
def _template(num_perm: int, seed: int, scheme: str) -> MinHash:
    return MinHash(num_perm=num_perm, seed=seed, scheme=scheme, hashfunc=_identity)


@dataclass(frozen=True)
class SignatureParams:
    """Everything that must match for two signatures to be comparable."""

    num_perm: int
    seed: int
    scheme: str
    shingle_size: int

    @classmethod
    def from_row(cls, row: dict) -> "SignatureParams":
        return cls(row["num_perm"], row["seed"], row["scheme"], row["shingle_size"])


@dataclass(frozen=True)
class Signature:
    params: SignatureParams
    hashvalues: np.ndarray

    def minhash(self) -> MinHash:
        t = _template(self.params.num_perm, self.params.seed, self.params.scheme)
        return MinHash(seed=self.params.seed, hashvalues=self.hashvalues, scheme=self.params.scheme,
                       permutations=t.permutations, hashfunc=_identity)

    def jaccard(self, other: "Signature") -> float:
        """Estimated Jaccard similarity.

        Raises:
            SignatureMismatch: when the two were built with different parameters.
        """
        check_compatible(self.params, other.params)
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / len(self.hashvalues)

    def to_bytes(self) -> bytes:
        return self.hashvalues.astype(np.uint32).tobytes()

    @classmethod
    def from_bytes(cls, params: SignatureParams, blob: bytes) -> "Signature":
        return cls(params, np.frombuffer(blob, dtype=np.uint32))


def check_compatible(a: SignatureParams, b: SignatureParams) -> None:
    if a != b:
        raise SignatureMismatch(f"signatures built with different parameters cannot be compared: {a} vs {b}")


def sign(hashes: np.ndarray, params: SignatureParams) -> Signature:
    """MinHash signature of a shingle-hash array, built with one vectorised ``update_batch``."""
    t = _template(params.num_perm, params.seed, params.scheme)
    m = MinHash(num_perm=params.num_perm, seed=params.seed, scheme=params.scheme, permutations=t.permutations,
                hashfunc=_identity)
    if len(hashes):
        m.update_batch(hashes)
    return Signature(params, m.hashvalues.astype(np.uint32))
