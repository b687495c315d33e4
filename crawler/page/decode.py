"""Bytes to text: the charset a browser would use for an HTML capture."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w\-:.]+)""", re.I)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
        name = "cp1252"   # what browsers do: ISO-8859-1 labels decode as windows-1252
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, headers: dict | None = None) -> str:
    """Text of an HTML body: the HTTP charset, else the <meta> one, else UTF-8, else windows-1252."""
    if isinstance(body, str):
        return body
    ctype = (headers or {}).get("content-type", "") or ""
    m = re.search(r"charset=([\w\-:.]+)", ctype, re.I)
    declared = [_codec(m.group(1)) if m else None]
    m2 = _META_CHARSET.search(body[:4096])
    declared.append(_codec(m2.group(1).decode("ascii", "ignore")) if m2 else None)
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace")
    for codec in [c for c in declared if c]:
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")
