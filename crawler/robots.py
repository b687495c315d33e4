"""robots.txt facts the spider uses beyond allow/deny: sitemaps and Crawl-delay.

Scrapy's RobotsTxtMiddleware fetches each host's robots.txt once, before any other request to it, and
parses it with Protego; these functions read the same parsed file (or a text, in tests).
"""

from __future__ import annotations

from protego import Protego


def _parsed(robots: Protego | str | None) -> Protego:
    return robots if isinstance(robots, Protego) else Protego.parse(robots or "")


def robots_sitemaps(robots: Protego | str | None) -> list[str]:
    """Sitemap URLs a robots.txt names."""
    try:
        return list(_parsed(robots).sitemaps)
    except Exception:  # noqa: BLE001 (a robots.txt Protego cannot read says nothing)
        return []


def robots_crawl_delay(robots: Protego | str | None, user_agent: str) -> float | None:
    """The Crawl-delay that applies to this user agent, if any."""
    try:
        delay = _parsed(robots).crawl_delay(user_agent)
    except Exception:  # noqa: BLE001 (a robots.txt Protego cannot read says nothing)
        return None
    return float(delay) if delay else None
