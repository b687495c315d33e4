"""The words' hashes as numpy computed them before the compiled word pass (``dedupe.signature.span_hashes`` at
530970e): a reference the compiled pass (``dedupe.normalise.hashed_batch_words``) must equal, hash for hash."""

import numpy as np
import xxhash

_P1, _P2, _P3, _P4, _P5 = (np.uint64(p) for p in (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                                                  0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5))
_SHORT = 32   # bytes below which xxh64 reads no 32-byte stripe: what span_hashes computes in numpy


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _xxh64_short(rows: np.ndarray, length: int) -> np.ndarray:
    """xxh64 (seed 0) of each row's first ``length`` bytes (< 32), rows of 32 bytes: the reference algorithm's
    short-input path (8-byte lanes, a 4-byte lane, single bytes, the avalanche) on whole columns."""
    lanes8, lanes4 = rows.view("<u8"), rows.view("<u4")
    h = np.full(len(rows), _P5 + np.uint64(length), dtype=np.uint64)
    at = 0
    with np.errstate(over="ignore"):
        for lane in range(length // 8):
            h ^= _rotl(lanes8[:, lane] * _P2, 31) * _P1
            h = _rotl(h, 27) * _P1 + _P4
            at += 8
        if length - at >= 4:
            h ^= lanes4[:, at // 4].astype(np.uint64) * _P1
            h = _rotl(h, 23) * _P2 + _P3
            at += 4
        for byte in range(at, length):
            h ^= rows[:, byte].astype(np.uint64) * _P5
            h = _rotl(h, 11) * _P1
        h ^= h >> np.uint64(33)
        h *= _P2
        h ^= h >> np.uint64(29)
        h *= _P3
        h ^= h >> np.uint64(32)
    return h


def span_hashes(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``xxh64_intdigest(bytes(buffer[s:e]))`` of every span, as :func:`word_hashes` hashes a word's UTF-8 bytes,
    computed a length at a time over all spans of that length (spans of 32 bytes or more, rare words, one by
    one through xxhash itself)."""
    lengths = ends - starts
    found = np.empty(len(starts), dtype=np.uint64)
    padded = np.concatenate((buffer, np.zeros(_SHORT, dtype=np.uint8)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, _SHORT)
    classes = np.minimum(lengths, _SHORT).astype(np.uint8)   # a radix sort: lengths of 32 and more together
    order = np.argsort(classes, kind="stable")
    bounds = np.searchsorted(classes[order], np.arange(_SHORT + 1))
    for length in range(1, _SHORT):
        picked = order[bounds[length]:bounds[length + 1]]
        if len(picked):
            found[picked] = _xxh64_short(windows[starts[picked]], length)
    for i in order[bounds[0]:bounds[1]].tolist() + order[bounds[_SHORT]:].tolist():
        found[i] = xxhash.xxh64_intdigest(buffer[starts[i]:ends[i]].tobytes())
    return found
