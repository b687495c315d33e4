"""Extraction CPU per page: syndtrace's ``extract_capture`` against plain trafilatura, one process, same run.

    source <(/work/tools/tree-env TREE); cd /tmp
    python TREE/bench/extract_cpu.py --warc WEB.warc.gz [--limit N] [--rows rows.jsonl]

Reads every HTML response record of the WARC into memory, then times, in CPU seconds of this process (which
the load of other jobs distorts far less than wall time), ``trafilatura.bare_extraction(body, url=url,
with_metadata=True)`` on every page and syndtrace's ``extract_capture`` on every page. ``--rows`` writes
syndtrace's rows as sorted-key JSON lines, so that two trees' rows can be compared byte for byte (``cmp``).
"""

from __future__ import annotations

import argparse
import json
import time

import trafilatura

from crawler.capture import extract_capture, is_html
from crawler.warc import warc_records


def html_pages(warc: str, limit: int | None) -> list[tuple[bytes, str, dict]]:
    problems: list[str] = []
    pages = [(r.body, r.url, r.headers) for r in warc_records(warc, problems)
             if 200 <= r.status < 300 and is_html(r.content_type or r.headers.get("content-type", ""), r.body)]
    return pages[:limit]


def cpu_seconds(work) -> tuple[float, list]:
    started = time.process_time()
    out = work()
    return time.process_time() - started, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warc", required=True)
    ap.add_argument("--limit", type=int, default=None, help="only the first N HTML pages")
    ap.add_argument("--rows", default=None, help="write syndtrace's rows here (JSON lines, sorted keys)")
    args = ap.parse_args()
    pages = html_pages(args.warc, args.limit)
    plain, _ = cpu_seconds(lambda: [trafilatura.bare_extraction(body, url=url, with_metadata=True)
                                    for body, url, _headers in pages])
    ours, rows = cpu_seconds(lambda: [extract_capture(*page) for page in pages])
    if args.rows:
        with open(args.rows, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    n = max(1, len(pages))
    print(f"{len(pages)} HTML pages; CPU ms a page: trafilatura {1000 * plain / n:.2f}, "
          f"syndtrace extract_capture {1000 * ours / n:.2f} ({ours / plain:.2f}x trafilatura)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
