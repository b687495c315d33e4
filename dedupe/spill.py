"""Data a grouping pass holds between its stages, kept off the Python heap.

A full pass over a million articles held every print from signing to verification (about 3 kB an article),
then every relation as an object: more than the rest of the pass together. :class:`PrintFile` writes each
print to a temporary file as it is made, and the workers that align a batch of its pairs read it back from
there (the page cache, not the process, holds it; only where each print lies crosses processes), :class:`BandKeyFile` the LSH band keys while candidates are matched; :class:`Relations` holds the stored relations as numpy columns while
they are grouped, and :class:`Similarity` the two numbers of each that lineage reads.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Self

import numpy as np

from crawler.storage.records import StoredEdge
from dedupe.align import TextPrint
from dedupe.pool import open_path

_FIELDS = 5   # per print: shingles, paragraph starts, bytes of quoted bits, words, shingle size
PrintSpan = tuple[int, int, int, int, int, int]   # a print's offset in its file, then its _FIELDS


class PrintFile:
    """Prints by URL in a temporary file (deleted when closed or collected), and each article's site as a
    number (equal numbers: the same site)."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="syndtrace-prints-")  # noqa: SIM115 (held across stages)
        self.slots: dict[str, int] = {}
        self.offsets = array("q", [0])
        self.shapes = array("q")
        self.site_codes: dict[str, int] = {}
        self.sites = array("i")
        self.unflushed = False

    def __len__(self) -> int:
        return len(self.slots)

    def __contains__(self, url: str) -> bool:
        return url in self.slots

    def add_block(self, urls: list[str], sites: list[str], block: PrintBlock) -> None:
        """The prints of a block, the i-th that of ``urls[i]`` on ``sites[i]``, written at once."""
        self.file.write(block.data)
        self.unflushed = True
        first = len(self.sites)
        self.slots.update(zip(urls, range(first, first + len(urls))))
        ends = self.offsets[-1] + np.cumsum(block.sizes())
        self.offsets.extend(ends.tolist())
        self.shapes.extend(block.shapes.ravel().tolist())
        self.sites.extend(self.site_codes.setdefault(site, len(self.site_codes)) for site in sites)

    def __getitem__(self, url: str) -> TextPrint:
        self.flush()
        return read_print(self.file.fileno(), self.span(url))

    def span(self, url: str) -> PrintSpan:
        """Where a print lies in the file and its shape: what :func:`read_print` reads it back from."""
        slot = self.slots[url]
        return (self.offsets[slot], *self.shapes[_FIELDS * slot:_FIELDS * slot + _FIELDS])

    def flush(self) -> None:
        if self.unflushed:
            self.file.flush()
            self.unflushed = False

    def shared_path(self) -> str:
        """A path by which another process opens the file while this one holds it (``open_path``)."""
        self.flush()
        return open_path(self.file)

    def site(self, url: str) -> int:
        return self.sites[self.slots[url]]

    def close(self) -> None:
        self.file.close()


@dataclass(frozen=True, slots=True)
class PrintBlock:
    """Prints of a batch as one buffer, each print's shingles, paragraph starts and quoted bits in turn, and
    their shapes (``_FIELDS`` a print): what a worker hands back, one object to pickle rather than three arrays
    a print (unpickling a batch of 500 so took the parent 11.3 ms, as one block 0.3 ms)."""

    data: bytes
    shapes: np.ndarray   # int64, (prints, _FIELDS)

    @classmethod
    def of(cls, prints: list[TextPrint]) -> PrintBlock:
        parts: list[bytes] = []
        shapes = np.empty((len(prints), _FIELDS), dtype=np.int64)
        for k, printed in enumerate(prints):
            parts += (printed.shingles.astype(np.uint32, copy=False).tobytes(),
                      printed.paragraphs.astype(np.int32, copy=False).tobytes(),
                      printed.quoted.astype(np.uint8, copy=False).tobytes())
            shapes[k] = (len(printed.shingles), len(printed.paragraphs), len(printed.quoted), printed.n_words,
                         printed.size)
        return cls(b"".join(parts), shapes)

    def __len__(self) -> int:
        return len(self.shapes)

    def sizes(self) -> np.ndarray:
        """Bytes of each print in ``data``."""
        return 4 * (self.shapes[:, 0] + self.shapes[:, 1]) + self.shapes[:, 2]


def read_print(fd: int, span: PrintSpan) -> TextPrint:
    """The print at ``span`` of the print file open as ``fd`` (in this process or another)."""
    start, n_shingles, n_paragraphs, n_quoted, n_words, size = span
    data = bytearray(4 * (n_shingles + n_paragraphs) + n_quoted)
    if data and os.preadv(fd, [data], start) != len(data):
        raise OSError("a print file was cut short")
    shingles = np.frombuffer(data, dtype=np.uint32, count=n_shingles)
    paragraphs = np.frombuffer(data, dtype=np.int32, count=n_paragraphs, offset=4 * n_shingles)
    quoted = np.frombuffer(data, dtype=np.uint8, count=n_quoted, offset=4 * (n_shingles + n_paragraphs))
    return TextPrint(shingles, quoted, paragraphs, n_words, size)


class BandKeyFile:
    """Every signature's key in each LSH band (``index.all_band_keys``), in a temporary file: appended a block of
    signatures at a time, each block band after band, and read back one band at a time (``index.keyed_pairs``
    matches a band at once), so a million articles' keys (0.9 GB) never sit on the heap together. Blocks are
    appended as they come, so the number of signatures need not be known first (counting them read every
    signature's row: 23 s of a million-article increment, cold)."""

    def __init__(self, bands: int):
        self.bands = bands
        self.blocks: list[tuple[int, int]] = []   # (offset in the file, signatures) of each block
        self.rows = 0
        self.file = tempfile.TemporaryFile(prefix="syndtrace-bands-")  # noqa: SIM115 (closed by __exit__)

    def append(self, keys: np.ndarray) -> None:
        """The keys (signatures × bands, uint64) of the next signatures."""
        offset = 8 * self.bands * self.rows   # the blocks before, each of its rows' keys in every band
        os.pwrite(self.file.fileno(), np.ascontiguousarray(keys.T, dtype=np.uint64).tobytes(), offset)
        self.blocks.append((offset, len(keys)))
        self.rows += len(keys)

    def columns(self) -> Iterator[np.ndarray]:
        """Each band's keys of every signature, one band at a time."""
        for band in range(self.bands):
            column = np.empty(self.rows, dtype=np.uint64)
            start = 0
            for offset, n in self.blocks:
                part = memoryview(column[start:start + n]).cast("B")
                if n and os.preadv(self.file.fileno(), [part], offset + 8 * band * n) != 8 * n:
                    raise OSError("a band key file was cut short")
                start += n
            yield column

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


class Relations:
    """Stored relations as numpy columns over the pages, numbered in URL order (a relation as a row object
    weighs about a kilobyte: a million of them were a third of a full pass's peak). Read once, in the table's
    order; each row is made again (``row``) only when its component is clustered."""

    def __init__(self, nodes: list[str], rows: Iterable[StoredEdge]):
        names = list(nodes)
        number = {u: i for i, u in enumerate(names)}
        ends, numbers, strings = array("q"), array("d"), array("b")
        self.codes: list[str | None] = []
        coded: dict[str | None, int] = {}
        passages, offsets = bytearray(), array("q", [0])
        for r in rows:
            for url in (r.a, r.b):
                if url not in number:
                    number[url] = len(names)
                    names.append(url)
                ends.append(number[url])
            numbers.extend((r.containment, r.jaccard, _NONE if r.cover_a is None else r.cover_a,
                            _NONE if r.cover_b is None else r.cover_b, -1 if r.len_a is None else r.len_a,
                            -1 if r.len_b is None else r.len_b))
            strings.extend(coded.setdefault(s, len(coded)) for s in (r.kind, r.basis, r.opens))
            passages += r.passages or b""
            offsets.append(len(passages))
        del number
        self.codes = list(coded)
        self.ends = np.frombuffer(ends, dtype=np.int64).reshape(-1, 2)
        self.numbers = np.frombuffer(numbers, dtype=np.float64).reshape(-1, 6)
        self.strings = np.frombuffer(strings, dtype=np.int8).reshape(-1, 3)
        self.passages, self.offsets = bytes(passages), offsets
        order = sorted(range(len(names)), key=names.__getitem__) if len(names) > len(nodes) else None
        if order is not None:   # pages only a relation names: numbered again, in URL order
            rank = np.empty(len(names), dtype=np.int64)
            rank[order] = np.arange(len(names))
            self.ends = rank[self.ends]
            names = [names[i] for i in order]
        self.names = names

    def __len__(self) -> int:
        return len(self.ends)

    def row(self, k: int) -> StoredEdge:
        """The k-th relation as it was read."""
        a, b = self.ends[k].tolist()
        containment, jaccard, cover_a, cover_b, len_a, len_b = self.numbers[k].tolist()
        kind, basis, opens = (self.codes[c] for c in self.strings[k].tolist())
        return StoredEdge(self.names[a], self.names[b], containment, jaccard, kind, basis,
                          None if np.isnan(cover_a) else cover_a, None if np.isnan(cover_b) else cover_b,
                          None if len_a < 0 else int(len_a), None if len_b < 0 else int(len_b),
                          self.passages[self.offsets[k]:self.offsets[k + 1]], opens)

    def components(self) -> Iterator[tuple[list[str], list[int]]]:
        """Each connected component (its pages in URL order; components in the order of their first page)
        with its relations: those of its first page, then its second's, … (a page's as the relation's
        smaller side), each page's in the table's order."""
        n = len(self.names)
        if not n:
            return
        from scipy.sparse import coo_matrix  # heavy: imported when grouping, not when the CLI starts
        from scipy.sparse.csgraph import connected_components

        graph = coo_matrix((np.ones(len(self.ends), dtype=np.int8), (self.ends[:, 0], self.ends[:, 1])), shape=(n, n))
        count, labels = connected_components(graph, directed=False)
        first = np.full(count, n, dtype=np.int64)
        np.minimum.at(first, labels, np.arange(n))
        rank = np.empty(count, dtype=np.int64)
        rank[np.argsort(first)] = np.arange(count)
        component = rank[labels]
        pages = np.argsort(component, kind="stable")
        page_bounds = np.searchsorted(component[pages], np.arange(count + 1))
        edge_component = component[self.ends[:, 0]]
        edges = np.lexsort((np.arange(len(self.ends)), self.ends[:, 0], edge_component))
        edge_bounds = np.searchsorted(edge_component[edges], np.arange(count + 1))
        for c in range(count):
            yield ([self.names[i] for i in pages[page_bounds[c]:page_bounds[c + 1]].tolist()],
                   edges[edge_bounds[c]:edge_bounds[c + 1]].tolist())

    def similarity(self) -> Similarity:
        codes = self.ends[:, 0] * len(self.names) + self.ends[:, 1]
        order = np.argsort(codes, kind="stable")
        return Similarity(self.names, codes[order], self.numbers[order][:, [1, 0]].copy())


_NONE = float("nan")   # a missing cover, in a float column


class Similarity:
    """The Jaccard similarity and containment of every related pair (a, b), a < b, looked up by URL."""

    def __init__(self, names: list[str], codes: np.ndarray, values: np.ndarray):
        self.names, self.codes, self.values = names, codes, values

    def get(self, a: str, b: str) -> tuple[float, float] | None:
        i, j = bisect_left(self.names, a), bisect_left(self.names, b)
        if i == len(self.names) or j == len(self.names) or self.names[i] != a or self.names[j] != b:
            return None
        code = i * len(self.names) + j
        at = int(np.searchsorted(self.codes, code, side="right")) - 1   # the last read, if a pair came twice
        if at < 0 or self.codes[at] != code:
            return None
        jaccard, containment = self.values[at].tolist()
        return jaccard, containment
