"""SQL views that make the database readable as-is in Datasette (and any SQLite client)."""

from __future__ import annotations

import sqlite_utils

VIEWS = {
    "lineage_view": """
        select m.story_id, m.url, a.site, a.title, a.published, m.is_origin, m.parent_url, p.site as parent_site,
               l.signal, au.verdict, m.similarity
        from members m join articles a on a.url = m.url
        left join articles p on p.url = m.parent_url
        left join lineage l on l.url = m.url
        left join audits au on au.url = m.url""",
    "audit_view": """
        select m.story_id, s.origin_url, o.site as origin_site, m.url, a.site, au.verdict, au.credits_origin,
               au.links_to_origin, au.author_kept, au.license, au.copyright, au.reasons, au.conflicts
        from members m join audits au on au.url = m.url join articles a on a.url = m.url
        join stories s on s.id = m.story_id left join articles o on o.url = s.origin_url
        where m.is_origin = 0""",
    "story_view": """
        select s.id, s.title, s.origin_url, o.site as origin_site, s.size - 1 as copies, s.sites,
               s.first_published, s.last_published, s.uncredited
        from stories s left join articles o on o.url = s.origin_url""",
}


def create_views(db: sqlite_utils.Database) -> None:
    for name, sql in VIEWS.items():
        db.create_view(name, sql, replace=True)
