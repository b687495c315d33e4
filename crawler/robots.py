"""robots.txt facts the spider uses beyond allow/deny: sitemaps and Crawl-delay (Protego parses)."""

from __future__ import annotations

from protego import Protego


def robots_sitemaps(text: str) -> list[str]:
    """Sitemap URLs a robots.txt names."""
    try:
        return list(Protego.parse(text or "").sitemaps)
    except Exception:
        return []


def robots_crawl_delay(text: str, user_agent: str) -> float | None:
    """The Crawl-delay that applies to this user agent, if any."""
    try:
        delay = Protego.parse(text or "").crawl_delay(user_agent)
    except Exception:
        return None
    return float(delay) if delay else None
