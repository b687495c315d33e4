"""Which hosts a crawl may reach. A page must not make the crawler fetch a private, loopback or link-local
address (a cloud metadata service, a router on the local network, a service on the loopback interface),
however the address is spelt (``0x7f000001``, ``2130706433``, ``127.1``, ``[::ffff:127.0.0.1]``) and
whether a page's link or a redirect names it, or a host name resolves to it.

The hosts of the seeds are always allowed (whoever names ``http://127.0.0.1:8080/`` means it), and so is
the proxy; ``CrawlOptions.private_targets`` allows every address, for local testing.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from crawler.options import CrawlOptions


def address_kind(host: str) -> str | None:
    """'loopback', 'link-local', 'private' or 'reserved' when ``host`` is such an address in any spelling an
    address resolver accepts (or a ``localhost`` name); None for public addresses and for names."""
    host = (host or "").strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    ip = _as_address(host)
    if ip is None:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "reserved"


def _as_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    if not host or not all(c in "0123456789abcdefx." for c in host):
        return None
    try:   # the forms inet_aton (and so getaddrinfo) reads: 127.1, 0x7f000001, 2130706433, 0177.0.0.1
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


class TargetGuard:
    """Refuses hosts that are, or resolve to, non-public addresses, but for the seeds' and the proxy's."""

    def __init__(self, options: CrawlOptions, proxy: str | None = None):
        self.allow_all = options.private_targets
        urls = [*options.seeds, options.proxy or "", proxy or ""]
        self.allowed = {(urlsplit(u).hostname or "").lower() for u in urls if u}

    def refusal(self, host: str | None, address: str | None = None) -> str | None:
        """Why ``host`` (or the ``address`` it resolved to) must not be fetched, or None."""
        host = (host or "").lower()
        if self.allow_all or host in self.allowed:
            return None
        kind = address_kind(address if address is not None else host)
        if kind is None:
            return None
        spelt = f"{host} resolves to {address}" if address is not None and address != host else host
        return f"{spelt}: a {kind} address (only seeds may be private; see --private-targets)"
