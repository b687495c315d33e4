"""WARC in and out: archives become captures like crawled pages; a story's captures become evidence.

Reading uses warcio, one record at a time: memory holds a record and the pages in flight in the extraction
pool, never a whole file. A file that cannot be read at all writes nothing (the ingest run is recorded only
once a first record has been read); a truncated file keeps its whole records, says where it was cut, and
never stores the cut record as if it were whole.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import BUFF_SIZE
from warcio.warcwriter import WARCWriter

from crawler.capture import ExtractionPool, needs_extraction, store_capture, store_extracted
from crawler.errors import Stopped, UserInputError
from crawler.options import LIMITS
from crawler.page.urls import is_fetchable, url_key, without_userinfo
from crawler.storage.records import FetchRecord
from crawler.storage.store import Store

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
BATCH = 200   # records written in one transaction
MAX_HEADER_LINE = 64 * 1024   # real WARC and HTTP header lines (cookies, policies) stay well under this


class _BoundedLines(DecompressingBufferedReader):
    """warcio reads WARC and HTTP headers a line at a time with no bound: a 300 MB line (300 KB gzipped) took
    a GB. Here a line stops at ``MAX_HEADER_LINE`` bytes, and a header line that long is an error. The reader
    also notes a file that ends inside a gzip member, where warcio just stops (``cut``)."""

    cut = False
    _fed = None   # the decompressor (one per gzip member) that was last given data

    def _process_read(self, data):
        if data:
            self._fed = self.decompressor
        elif self.decompressor is not None and self._fed is self.decompressor and \
                not getattr(self.decompressor, "eof", True):
            self.cut = True
        super()._process_read(data)

    def readline(self, length=None):
        line = super().readline(MAX_HEADER_LINE if not length or length > MAX_HEADER_LINE else length)
        if len(line) >= MAX_HEADER_LINE and not line.endswith(b"\n"):
            raise ValueError(f"a header line longer than {MAX_HEADER_LINE // 1024} KB")
        return line


class _Archive(ArchiveIterator):
    """warcio's record iterator over a reader of bounded lines."""

    def __init__(self, fileobj):
        super().__init__(fileobj)
        self.reader = self.bounded = _BoundedLines(self.fh, block_size=BUFF_SIZE)


@dataclass
class IngestReport:
    files: int = 0
    records: int = 0
    stored: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    run_id: int | None = None


def warc_records(path: str, problems: list[str], max_bytes: int = LIMITS.max_warc_record_bytes,
                 on_read: Callable[[int, int], None] | None = None) -> Iterator[FetchRecord]:
    """The HTTP response records of one WARC or WARC.gz file, one at a time, as they are read.

    Problems met are appended to ``problems``; ``on_read(bytes read, file size)`` follows the reading.

    Raises:
        UserInputError: there is no such file.
    """
    noise = io.StringIO()   # warcio writes its own warnings, raw bytes included, straight to stderr
    count = 0
    reported = len(problems)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            records = _Archive(fh)
            while True:
                with contextlib.redirect_stderr(noise):   # only around warcio: the caller may write meanwhile
                    rec = next(records, None)
                    fetch = _response(path, rec, max_bytes, problems) if rec is not None else None
                if rec is None:
                    break
                if on_read:
                    on_read(fh.tell(), size)
                if fetch is not None:
                    count += 1
                    yield fetch
            if records.bounded.cut and not any("truncated" in p for p in problems[reported:]):
                problems.append(f"{path}: truncated: the file ends inside a record, after {count} records; "
                                "that record was not stored")
    except FileNotFoundError:
        raise UserInputError(f"no such file: {path}") from None
    except (Stopped, GeneratorExit):
        raise
    except Exception as exc:  # noqa: BLE001 (warcio raises many kinds: zlib, EOF, value and its own errors)
        reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        reason = "".join(c if c.isprintable() and ord(c) < 128 else "?" for c in reason)[:120]
        problems.append(f"{path}: truncated or corrupt after {count} records ({reason})" if count else
                        f"{path}: not a readable WARC file ({reason})")
    if "not followed by newline" in noise.getvalue() and count:
        problems.append(f"{path}: some records were not followed by a blank line (a Content-Length may be wrong)")


def _response(path: str, rec, max_bytes: int, problems: list[str]) -> FetchRecord | None:
    """The capture of one WARC record: None for records that are not HTTP responses, and for those that are
    too large or cut short (each with its problem)."""
    if rec.rec_type != "response" or rec.http_headers is None:
        return None
    uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
    if not is_fetchable(uri):
        problems.append(f"{path}: skipped record for {without_userinfo(uri)[:80]!r}: not an http(s) URL")
        return None
    body = rec.content_stream().read(max_bytes + 1)
    if len(body) > max_bytes:
        problems.append(f"{path}: skipped {without_userinfo(uri)}: larger than {max_bytes} bytes")
        return None
    while rec.raw_stream.read(CHUNK):   # the rest of the record (a chunked body's trailer): is it all there?
        pass
    missing = getattr(rec.raw_stream, "limit", 0)
    if missing:
        problems.append(f"{path}: truncated: the record of {without_userinfo(uri)} ends {missing} bytes short of "
                        "its Content-Length; it was not stored")
        return None
    when = rec.rec_headers.get_header("WARC-Date") or datetime.now(UTC).isoformat()
    headers = {k.lower(): v for k, v in rec.http_headers.headers}
    status = int(rec.http_headers.get_statuscode() or 0)
    key = url_key(uri)
    return FetchRecord(url=key, requested_url=key, final_url=without_userinfo(uri), status=status,
                       headers=headers, body=body, fetched_at=when, content_type=headers.get("content-type", ""),
                       source="warc")


def read_warc(path: str, max_bytes: int = LIMITS.max_warc_record_bytes) -> tuple[list[FetchRecord], list[str]]:
    """Every response record of one small WARC file, and the problems met (tests, evidence checks)."""
    problems: list[str] = []
    return list(warc_records(path, problems, max_bytes)), problems


def ingest_files(store: Store, paths: list[str], progress=None, workers: int = 0) -> IngestReport:
    """Import the response records of WARC files, processed like crawled pages, extraction on every core.

    The ingest run is recorded when a first record has been read, so input that cannot be read writes
    nothing; a stop signal records the run as stopped.

    Raises:
        UserInputError: no file could be read at all.
        Stopped: a stop signal; what was stored is kept.
    """
    report = IngestReport()
    try:
        with ExtractionPool(workers) as pool:
            for path in paths:
                _ingest_file(store, pool, path, report, progress, names=[os.path.basename(p) for p in paths])
    except Stopped:
        if report.run_id is not None:
            store.finish_run(report.run_id, "stopped", pages_fetched=report.stored, new=report.stored)
        raise
    if report.files == 0:
        first = report.problems[0] if report.problems else "no input"
        raise UserInputError(f"nothing could be read: {first}")
    return report


def _ingest_file(store: Store, pool: ExtractionPool, path: str, report: IngestReport, progress,
                 names: list[str]) -> None:
    problems: list[str] = []
    if not os.path.exists(path):
        problems.append(f"{path}: no such file")
    name = os.path.basename(path)
    on_read = (lambda done, size: progress(f"{name} (KB)", done // 1024, max(1, size // 1024))) if progress else None
    records = warc_records(path, problems, on_read=on_read) if not problems else iter(())
    first = next(records, None)
    if first is not None:
        report.files += 1
        if report.run_id is None:   # file names, not paths: a run's options are shown to anyone reading the database
            report.run_id = store.start_run("ingest", {"files": names})
        _store_records(store, pool, itertools.chain([first], records), report)
    for problem in problems:
        logger.warning(problem)
    report.problems.extend(problems)


def _store_records(store: Store, pool: ExtractionPool, records: Iterator[FetchRecord], report: IngestReport) -> None:
    """Store each capture in order, extract the new and changed pages in the pool, and write their rows in
    the order read; ``BATCH`` records to a transaction."""

    def captures():
        for rec in records:
            state = store_capture(store, rec, report.run_id)
            extract = state not in ("failed", "duplicate") and needs_extraction(store, rec, state)
            yield (state, extract), ((rec.body, rec.url, rec.headers) if extract else None)

    results = pool.ordered(captures())
    while True:
        with store.batch():
            chunk = list(itertools.islice(results, BATCH))   # storing the captures in this batch too
            for (state, extracted), row in chunk:
                report.records += 1
                if row is not None:
                    store_extracted(store, row)
                if state == "failed" or (extracted and row is None):
                    report.skipped += 1
                else:
                    report.stored += 1
        if len(chunk) < BATCH:
            return


def write_story_warc(store: Store, urls: list[str], out_path: str) -> int:
    """Write the stored captures of these pages as a WARC.gz file; returns the records written."""
    written = 0
    with open(out_path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for rec in store.iter_fetches(urls):
            headers = [(k, v) for k, v in rec["headers"].items() if k not in ("content-length", "transfer-encoding",
                                                                              "content-encoding")]
            http = StatusAndHeaders(f"{rec['status']} OK", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                without_userinfo(rec["final_url"] or rec["url"]), "response", payload=io.BytesIO(rec["body"]),
                http_headers=http,
                warc_headers_dict={"WARC-Date": _warc_date(rec["fetched_at"])})
            writer.write_record(record)
            written += 1
    return written


def _warc_date(iso: str) -> str:
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))  # noqa: FURB162 (as stored values were read)
    except (ValueError, AttributeError):
        when = datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

