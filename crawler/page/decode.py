"""Bytes to text: the charset a browser would use for an HTML capture, found by w3lib (Scrapy's own encoding
helpers, which map labels as browsers do: ``iso-8859-1`` → windows-1252, ``gb2312`` → gb18030): a byte-order
mark, then the HTTP charset, then the page's ``<meta>`` or XML declaration. A declared charset the bytes do not
decode in is skipped for the next one (pages that say gb2312 and are UTF-8); an undeclared page is UTF-8 when
it decodes as UTF-8, else windows-1252."""

from __future__ import annotations

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding


def decode_html(body: bytes, headers: dict | None = None) -> str:
    """Text of an HTML body (a str is returned as it is)."""
    if isinstance(body, str):
        return body
    bom, bom_bytes = read_bom(body)
    if bom:
        return body[len(bom_bytes):].decode(bom, "replace")
    content_type = (headers or {}).get("content-type") or (headers or {}).get("Content-Type") or ""
    declared = [http_content_type_encoding(content_type), html_body_declared_encoding(body)]
    for label in declared:
        codec = resolve_encoding(label) if label else None
        if codec:
            try:
                return body.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")
