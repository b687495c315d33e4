"""A folder of sites served on 127.0.0.1 as virtual hosts and as an HTTP proxy.

Used by ``syndtrace demo`` and by the tests: ``root/<host>/<path>`` is the page ``http://<host>/<path>``.
A path ending in ``/`` (or naming a folder) serves its ``index.html``; a path without a suffix also
tries ``<path>.html``. Requests name the site by the Host header or by the absolute URL of a proxy
request. Unknown hosts answer 502, like a proxy whose DNS lookup failed. ETag and Last-Modified are
sent, and conditional requests answer 304. A ``.charset`` file in a site's folder names the charset its
pages are declared in. ``latency`` delays every answer, as a network would, and ``pause()`` holds all
answers until ``resume()``: tests use both to see several crawl processes share the work.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import urlsplit


class _Handler(BaseHTTPRequestHandler):
    server_version = "syndtrace-localweb"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: tests read the access list instead
        pass

    def _target(self) -> tuple[str, str]:
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            return (parts.hostname or "").lower(), parts.path or "/"
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        return host, urlsplit(self.path).path or "/"

    def _file_for(self, host: str, path: str) -> str | None:
        root = os.path.join(self.server.root, host)
        rel = os.path.normpath(path.lstrip("/")) if path.strip("/") else ""
        if rel.startswith(".."):
            return None
        full = os.path.join(root, rel)
        for candidate in (full, os.path.join(full, "index.html"), full + ".html"):
            if os.path.isfile(candidate):
                return candidate
        return None

    def do_GET(self):
        self._respond(head=False)

    def do_HEAD(self):
        self._respond(head=True)

    def _send(self, status: int, headers: dict, body: bytes, head: bool) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)

    def _respond(self, head: bool) -> None:
        host, path = self._target()
        self.server.requests.append((host, path, self.headers.get("User-Agent", "")))
        self.server.answering.wait()
        time.sleep(self.server.latency)
        if not os.path.isdir(os.path.join(self.server.root, host)):
            return self._send(502, {"Content-Type": "text/plain"}, b"unknown host\n", head)
        redirect = self.server.redirects.get((host, path))
        if redirect:
            return self._send(301, {"Location": redirect}, b"", head)
        file = self._file_for(host, path)
        if file is None:
            return self._send(404, {"Content-Type": "text/html; charset=utf-8"}, b"<h1>Not found</h1>", head)
        with open(file, "rb") as fh:
            body = fh.read()
        mtime = os.path.getmtime(file)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        ctype = mimetypes.guess_type(file)[0] or "text/html"
        if file.endswith("robots.txt"):
            ctype = "text/plain"
        if ctype.startswith("text/") or ctype.endswith("xml"):
            charset_file = os.path.join(self.server.root, host, ".charset")
            charset = "utf-8"
            if os.path.isfile(charset_file):
                with open(charset_file) as fh:
                    charset = fh.read().strip()
            ctype += f"; charset={charset}"
        headers = {"Content-Type": ctype, "ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True)}
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, headers, b"", head)
        since = self.headers.get("If-Modified-Since")
        if since and not self.headers.get("If-None-Match"):
            try:
                if int(mtime) <= parsedate_to_datetime(since).timestamp():
                    return self._send(304, headers, b"", head)
            except (TypeError, ValueError):
                pass
        self._send(200, headers, body, head)


class LocalWeb:
    """Serve ``root`` on 127.0.0.1 in a background thread.

    Example:
        >>> with LocalWeb("sites") as web:
        ...     web.proxy   # 'http://127.0.0.1:PORT', give it to the crawler as its proxy
    """

    def __init__(self, root: str, port: int = 0, redirects: dict | None = None, latency: float = 0.0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.root = os.path.abspath(root)
        self.httpd.requests = []
        self.httpd.redirects = redirects or {}
        self.httpd.latency = latency
        self.httpd.answering = threading.Event()
        self.httpd.answering.set()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        return self.httpd.requests

    def pause(self) -> None:
        self.httpd.answering.clear()

    def resume(self) -> None:
        self.httpd.answering.set()

    def hosts(self) -> list[str]:
        return sorted(d for d in os.listdir(self.httpd.root) if os.path.isdir(os.path.join(self.httpd.root, d)))

    def start(self) -> LocalWeb:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.resume()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
