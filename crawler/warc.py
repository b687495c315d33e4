"""WARC in and out: archives become captures like crawled pages; a story's captures become evidence.

Reading uses warcio. Each file is read whole before anything is written, so a file that cannot be read
leaves the database as it was (when no file can be read, not even a run is recorded); a truncated file
keeps the records before the damage and says so.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.capture import process_capture
from crawler.errors import UserInputError
from crawler.options import LIMITS
from crawler.page.urls import is_fetchable, url_key
from crawler.storage.records import FetchRecord
from crawler.storage.store import Store

logger = logging.getLogger(__name__)


@dataclass
class IngestReport:
    files: int = 0
    records: int = 0
    stored: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    run_id: int | None = None


def read_warc(path: str, max_bytes: int = LIMITS.max_warc_record_bytes) -> tuple[list[FetchRecord], list[str]]:
    """HTTP response records of one WARC or WARC.gz file, and the problems met."""
    records: list[FetchRecord] = []
    problems: list[str] = []
    noise = io.StringIO()   # warcio writes its own warnings, raw bytes included, straight to stderr
    try:
        with open(path, "rb") as fh, contextlib.redirect_stderr(noise):
            for rec in ArchiveIterator(fh):
                if rec.rec_type != "response" or rec.http_headers is None:
                    continue
                uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
                if not is_fetchable(uri):
                    problems.append(f"{path}: skipped record for {uri[:80]!r}: not an http(s) URL")
                    continue
                body = rec.content_stream().read(max_bytes + 1)
                if len(body) > max_bytes:
                    problems.append(f"{path}: skipped {uri}: larger than {max_bytes} bytes")
                    continue
                when = rec.rec_headers.get_header("WARC-Date") or datetime.now(UTC).isoformat()
                headers = {k.lower(): v for k, v in rec.http_headers.headers}
                status = int(rec.http_headers.get_statuscode() or 0)
                records.append(FetchRecord(url=url_key(uri), requested_url=url_key(uri), final_url=uri,
                                           status=status, headers=headers, body=body, fetched_at=when,
                                           content_type=headers.get("content-type", ""), source="warc"))
    except FileNotFoundError:
        raise UserInputError(f"no such file: {path}") from None
    except (ArchiveLoadFailed, OSError, EOFError, ValueError, Exception) as exc:  # noqa: BLE001 (warcio raises many kinds)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = "".join(c if c.isprintable() and ord(c) < 128 else "?" for c in reason)[:120]
        if records:
            problems.append(f"{path}: truncated or corrupt after {len(records)} records ({reason})")
        else:
            problems.append(f"{path}: not a readable WARC file ({reason})")
    if "not followed by newline" in noise.getvalue() and records:
        problems.append(f"{path}: some records were not followed by a blank line (a Content-Length may be wrong)")
    return records, problems


def ingest_files(store: Store, paths: list[str], progress=None) -> IngestReport:
    """Import the response records of WARC files, processed like crawled pages.

    The ingest run is recorded when the first readable file is found, so rejected input writes nothing.
    """
    report = IngestReport()
    for path in paths:
        if not os.path.exists(path):
            report.problems.append(f"{path}: no such file")
            logger.warning("%s: no such file", path)
            continue
        records, problems = read_warc(path)
        for p in problems:
            logger.warning(p)
        report.problems.extend(problems)
        if records:
            report.files += 1
            if report.run_id is None:
                report.run_id = store.start_run("ingest", {"files": paths})
        for i, rec in enumerate(records):
            report.records += 1
            state = process_capture(store, rec, report.run_id)
            if state in ("failed", "error"):
                report.skipped += 1
            else:
                report.stored += 1
            if progress:
                progress(path, i + 1, len(records))
    if report.files == 0:
        first = report.problems[0] if report.problems else "no input"
        raise UserInputError(f"nothing could be read: {first}")
    return report


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
                rec["final_url"] or rec["url"], "response", payload=io.BytesIO(rec["body"]), http_headers=http,
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

