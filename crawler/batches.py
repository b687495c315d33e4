"""Consecutive batches of an iterable: ``itertools.batched`` arrived in Python 3.12, and we support 3.11."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last may be shorter), read lazily from any iterable."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
