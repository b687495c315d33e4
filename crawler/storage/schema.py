"""The database schema: tables, indexes, full-text search, Datasette views, and the migrations that
bring a file of an older schema version up to this one (``Store`` runs them when it opens a file)."""

from __future__ import annotations

import functools

import sqlite_utils

SCHEMA_VERSION = 16

# views that make the database readable as-is in Datasette (and any SQLite client)
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
               s.first_published, s.last_published,
               (select count(*) from members m join audits au on au.url = m.url
                where m.story_id = s.id and au.verdict = 'uncredited') as uncredited,
               (select count(*) from members m join audits au on au.url = m.url
                where m.story_id = s.id and au.verdict = 'misattributed') as misattributed
        from stories s left join articles o on o.url = s.origin_url""",
}
FAILED = "(status >= 400 or status = 0)"   # what counts as a failed fetch in fetches and status_history
GONE = (404, 410)                           # statuses that say a page is no longer there


def create_views(db: sqlite_utils.Database) -> None:
    """(Re)create the Datasette views."""
    for name, sql in VIEWS.items():
        db.create_view(name, sql, replace=True)



def _schema_v1(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["runs"].create(
        {"id": int, "kind": str, "started": str, "ended": str, "status": str, "pages_fetched": int,
         "new": int, "changed": int, "unchanged": int, "errors": int, "stories_new": int, "options": str},
        pk="id", if_not_exists=True,
    )
    db["fetches"].create(
        {"url": str, "requested_url": str, "final_url": str, "status": int, "headers": str, "fetched_at": str,
         "body": bytes, "content_hash": str, "content_type": str, "etag": str, "last_modified": str,
         "source": str, "run_id": int, "error": str},
        pk="url", foreign_keys=[("run_id", "runs", "id")], if_not_exists=True,
    )
    db["aliases"].create({"source_url": str, "target_url": str, "status": int}, pk="source_url", if_not_exists=True)
    db["outlets"].create({"host": str, "name": str}, pk="host", if_not_exists=True)
    db["sites"].create({"url": str, "feed": str, "max_pages": int, "delay": float, "added": str},
                       pk="url", if_not_exists=True)
    db["articles"].create(
        {"url": str, "site": str, "page_type": str, "title": str, "author": str, "published": str, "modified": str,
         "site_name": str, "canonical": str, "language": str, "text": str, "paragraphs": str, "words": int,
         "attribution": str, "evidence": str, "content_hash": str, "extracted_at": str},
        pk="url", foreign_keys=[("url", "fetches", "url")], if_not_exists=True,
    )
    db["signatures"].create(
        {"url": str, "num_perm": int, "seed": int, "scheme": str, "shingle_size": int, "n_shingles": int,
         "hashvalues": bytes, "lead_hashvalues": bytes, "content_hash": str},
        pk="url", foreign_keys=[("url", "articles", "url")], if_not_exists=True,
    )
    db["edges"].create(
        {"a": str, "b": str, "containment": float, "jaccard": float},
        pk=("a", "b"), if_not_exists=True,
    )
    db["stories"].create(
        {"id": str, "origin_url": str, "size": int, "sites": int, "first_published": str, "last_published": str,
         "title": str, "uncredited": int, "first_run": int, "updated_at": str},
        pk="id", if_not_exists=True,
    )
    db["members"].create(
        {"url": str, "story_id": str, "is_origin": int, "parent_url": str, "similarity": float,
         "containment": float, "first_run": int},
        pk="url", foreign_keys=[("url", "articles", "url"), ("story_id", "stories", "id")], if_not_exists=True,
    )
    db["lineage"].create(
        {"url": str, "story_id": str, "parent_url": str, "origin_url": str, "signal": str, "evidence": str},
        pk="url", foreign_keys=[("url", "articles", "url")], if_not_exists=True,
    )
    db["audits"].create(
        {"url": str, "story_id": str, "credits_origin": int, "credits_parent": int, "links_to_origin": int,
         "author_kept": int, "license": str, "copyright": str, "verdict": str, "reasons": str,
         "conflicts": str, "added": str, "removed": str},
        pk="url", foreign_keys=[("url", "articles", "url")], if_not_exists=True,
    )
    for table, cols in [("fetches", ["content_hash"]), ("members", ["story_id"]), ("articles", ["site"]),
                        ("articles", ["published"]), ("audits", ["verdict"]), ("lineage", ["story_id"]),
                        ("aliases", ["target_url"]), ("edges", ["b"])]:
        db[table].create_index(cols, if_not_exists=True)
    if not db["articles_fts"].exists():
        db["articles"].enable_fts(["title", "text"], create_triggers=True, tokenize="porter")
    create_views(db)


def _schema_v2(db: sqlite_utils.Database) -> None:
    """Several leads per signature: record their sizes, so signatures made with other sizes are redone."""
    if "lead_words" not in db["signatures"].columns_dict:
        db["signatures"].add_column("lead_words", str)


def _schema_v3(db: sqlite_utils.Database) -> None:
    """Signatures keep their article's paragraph identities, so grouping does not normalise unchanged texts again."""
    columns = db["signatures"].columns_dict
    if "paragraphs_hash" not in columns:
        db["signatures"].add_column("paragraphs_hash", str)
    if "paragraph_keys" not in columns:
        db["signatures"].add_column("paragraph_keys", bytes)


def _schema_v4(db: sqlite_utils.Database) -> None:
    """Each page's fetch status history: every failure, and the recovery after one. A copy that now answers
    404 or 410 is known as gone since a run while its old capture stays as evidence; failed URLs can be
    listed by run. The story view counts uncredited and misattributed copies apart."""
    db["status_history"].create({"url": str, "run_id": int, "status": int, "error": str, "seen_at": str},
                                pk=("url", "run_id"), if_not_exists=True)
    db["status_history"].create_index(["run_id"], if_not_exists=True)
    db.execute(f"insert or ignore into status_history (url, run_id, status, error, seen_at) "
               f"select url, coalesce(run_id, 0), status, error, fetched_at from fetches where {FAILED}")
    create_views(db)


EDGE_COLUMNS = {"kind": str, "basis": str, "cover_a": float, "cover_b": float, "len_a": int, "len_b": int,
                "passages": bytes, "opens": str}


def _add_columns(db: sqlite_utils.Database, table: str, columns: dict) -> None:
    present = db[table].columns_dict
    for name, kind in columns.items():
        if name not in present:
            db[table].add_column(name, kind)


def _schema_v5(db: sqlite_utils.Database) -> None:
    """Passage-aligned relations, aggregates and versions (issue 13).

    Edges become relations with a kind (copy or quote), the rule that made them, and the aligned passages
    and their cover of each text; old edges are dropped and old signatures marked as made by the previous
    fingerprint rules (repeated paragraphs now count once), so the next grouping pass makes both again.
    ``contains`` links a page to a page of another story it holds a piece of (aggregates, quotes); members
    carry the version of the story they show and lineage what each version changed.
    """
    _add_columns(db, "signatures", {"fingerprint": int})
    _add_columns(db, "edges", EDGE_COLUMNS)
    db.execute("delete from edges")
    _add_columns(db, "members", {"role": str, "version": int, "version_url": str})
    _add_columns(db, "lineage", {"changes": str})
    _add_columns(db, "stories", {"versions": int, "contains": int})
    db["contains"].create({"url": str, "contained_url": str, "story_id": str, "contained_story": str},
                          pk=("url", "contained_url"), if_not_exists=True)
    db["contains"].create_index(["story_id"], if_not_exists=True)
    db["contains"].create_index(["contained_story"], if_not_exists=True)
    create_views(db)


def _schema_v6(db: sqlite_utils.Database) -> None:
    """Articles keep every author (a JSON list) beside the one ``author`` string; an older row's author becomes
    a list of one."""
    if "authors" not in db["articles"].columns_dict:
        db["articles"].add_column("authors", str)
        db.execute("update articles set authors = json_array(author) where author is not null and author != ''")


def _schema_v7(db: sqlite_utils.Database) -> None:
    """What the last grouping pass read of the whole database for lineage (furniture, who wrote it, titles,
    sites writing no credits), so that an increment traces again the stories for which it changed."""
    db["grouping_state"].create({"name": str, "value": str}, pk="name", if_not_exists=True)


def _schema_v8(db: sqlite_utils.Database) -> None:
    """Articles whose stored paragraphs were added or changed since the last grouping pass read them, noted by
    triggers (so a write from any client counts), so that an increment reads and hashes only those texts. Every
    article of an older file is noted once: its next pass reads every text, as passes did before."""
    db["text_changes"].create({"seq": int, "url": str}, pk="seq", if_not_exists=True)
    for name, event in (("articles_text_added", "insert on articles"),
                        ("articles_text_changed",
                         "update of paragraphs on articles when old.paragraphs is not new.paragraphs")):
        db.execute(f"create trigger if not exists {name} after {event} "
                   "begin insert into text_changes (url) values (new.url); end")
    db.execute("insert into text_changes (url) select url from articles")


def _schema_v9(db: sqlite_utils.Database) -> None:
    """Each signature's LSH band keys, kept beside it (made when it is signed), so that an increment's candidate
    search reads them instead of banding every stored signature again. An older file has none: the first pass
    that looks for candidates makes the missing ones and keeps them."""
    db["band_keys"].create({"url": str, "banding": str, "band_keys": bytes}, pk="url", if_not_exists=True)


def _schema_v10(db: sqlite_utils.Database) -> None:
    """Covering indexes for what every grouping pass reads of every article page but its text: its site and
    title (titles settled per site, lineage's titles), its credits (lineage's credit evidence), its ambiguous
    numeric date (partial: only such pages). A page's row holds its text and paragraphs (about 10 kB) before
    ``attribution`` and ``evidence``, so reading those from the table walks every row's overflow pages; from
    the index it reads a few hundred bytes a page. SQLite keeps them up to date whoever writes."""
    db.execute("create index if not exists articles_credits on articles (page_type, url, site, attribution)")
    db.execute("create index if not exists articles_titles on articles (page_type, site, url, title)")
    db.execute("create index if not exists articles_numeric_dates on articles (url, site, evidence, published) "
               "where evidence like '%numeric_date%'")


def _schema_v11(db: sqlite_utils.Database) -> None:
    """Audits indexed by story, as members and lineage are: an increment deletes the rows of the stories it
    replaces by story or by page, and without this index SQLite read every stored audit to find them (a
    100k+10% increment's delete of the replaced results: 0.60 CPU s, 0.22 with it)."""
    db["audits"].create_index(["story_id"], if_not_exists=True)


def _schema_v12(db: sqlite_utils.Database) -> None:
    """Each signed text's opening keys and, for a short text, its capture keys (``dedupe.openings``), kept beside
    its signature with the settings they were made with (``signatures.openings``), so that an increment matches
    caption-only captures against every stored opening without reading a text; and whether a capture has been
    matched against every text (``looked_up``), so that an increment matches it only with what it signs. An
    older file's signatures lack those settings: its next pass signs every text again and makes them."""
    db["openings"].create({"url": str, "opening": bytes, "capture": bytes, "looked_up": int}, pk="url",
                          not_null={"looked_up"}, defaults={"looked_up": 0}, if_not_exists=True)
    _add_columns(db, "signatures", {"openings": str})


def _schema_v13(db: sqlite_utils.Database) -> None:
    """What grouping reads of each article page beyond its text (``page_facts``: what its credits say of its site,
    its title's identity), kept between grouping passes, so that a pass reads and parses only the pages added or
    changed since: triggers drop a page's facts when it is written again (its attribution, site, kind or title) or
    deleted, and every page's when an outlet changes (a page's credited outlets are read through the outlets
    known). An older file has none: its next pass makes them all."""
    db["page_facts"].create({"url": str, "site": str, "credits": int, "lines": bytes, "relays": int,
                             "title_key": bytes}, pk="url", if_not_exists=True)
    for name, event, which in (
            ("articles_facts_added", "insert on articles", "where url = new.url"),
            ("articles_facts_changed", "update of attribution, site, page_type, title on articles", "where url = old.url"),
            ("articles_facts_deleted", "delete on articles", "where url = old.url"),
            ("outlets_added", "insert on outlets", ""),
            ("outlets_renamed", "update on outlets when old.name is not new.name or old.host is not new.host", ""),
            ("outlets_deleted", "delete on outlets", "")):
        db.execute(f"create trigger if not exists {name} after {event} begin delete from page_facts {which}; end")


def _schema_v14(db: sqlite_utils.Database) -> None:
    """A page whose headline changed, its text unchanged, is noted among the changed texts too (``text_changes``):
    grouping reads headlines (a piece two stories hold alike goes with the one carrying its headline), and
    lineage does, so an increment groups and traces it again, as a rebuild would."""
    db.execute("create trigger if not exists articles_title_changed after update of title on articles "
               "when old.title is not new.title begin insert into text_changes (url) values (new.url); end")


# What a full grouping pass writes a row of for each text it signs or relation it finds, each keyed by a unique
# index instead of a primary key (which cannot be dropped): the pass drops a table's indexes, appends its rows in the
# order it makes them and indexes them again at the end (``Store.appending_signatures``, ``appending_relations``).
# Each table's key, then its other indexes.
APPENDED_KEYS = {"signatures": ("url",), "band_keys": ("url",), "openings": ("url",), "edges": ("a", "b")}
# signature states (what each stored signature was made from, and whether its text is empty) beside the unique key:
# an increment reads every one, and which signatures to match, and from the table's wide rows (1.5 kB of MinHash
# values each) those reads were two thirds of its fixed cost
SIGNATURE_STATES = ("url", "num_perm", "seed", "scheme", "shingle_size", "fingerprint", "lead_words", "openings",
                    "content_hash", "paragraphs_hash", "paragraph_keys", "n_shingles")
APPENDED_INDEXES = {"edges": {"idx_edges_b": ("b",)}, "signatures": {"signatures_states": SIGNATURE_STATES}}
SIGNED_TABLES = ("signatures", "band_keys", "openings")
OPENINGS_STAGED = "openings_staged"   # noted by schema 12-14 while a pass's openings waited in a temporary table


def appended_indexes(table: str) -> dict[str, str]:
    """The indexes of one of the ``APPENDED_KEYS`` tables, each name with the statement that makes it, its unique
    key first."""
    indexes = {f"{table}_key": f"create unique index if not exists [{table}_key] on [{table}] "
                               f"({', '.join(APPENDED_KEYS[table])})"}
    for name, columns in APPENDED_INDEXES.get(table, {}).items():
        indexes[name] = f"create index if not exists [{name}] on [{table}] ({', '.join(columns)})"
    return indexes


def _schema_v15(db: sqlite_utils.Database) -> None:
    """The ``APPENDED_KEYS`` tables keyed by a unique index instead of a primary key: a full pass signs its texts
    and relates its pairs in the order of the file, and inserting a million rows at random places in three URL
    keys took 42 s of a one-million-article rebuild where appending them and indexing at the end takes 17 (and
    relations 45 s against 16; bench/RESULTS.md, fourteenth session). Rows are copied as they are, rowid and
    order kept. Signatures whose openings a stopped pass left staged (``OPENINGS_STAGED``) are dropped instead, so
    the next pass signs those texts again."""
    if db.execute("select 1 from grouping_state where name = ?", [OPENINGS_STAGED]).fetchone():
        for table in SIGNED_TABLES:
            db.execute(f"delete from [{table}]")
        db.execute("delete from grouping_state where name = ?", [OPENINGS_STAGED])
    for table, key in APPENDED_KEYS.items():
        if db[table].pks == ["rowid"]:
            continue
        columns = db[table].columns_dict
        new = f"{table}_keyed"
        db[new].create(columns, not_null=set(key) | ({"looked_up"} if table == "openings" else set()),
                       defaults={"looked_up": 0} if table == "openings" else None,
                       foreign_keys=[("url", "articles", "url")] if table == "signatures" else None)
        names = ", ".join(f"[{c}]" for c in columns)
        db.execute(f"insert into [{new}] (rowid, {names}) select rowid, {names} from [{table}] order by rowid")
        db.execute(f"drop table [{table}]")
        db.execute(f"alter table [{new}] rename to [{table}]")
        for statement in appended_indexes(table).values():
            db.execute(statement)


def _schema_v16(db: sqlite_utils.Database) -> None:
    """What is read of every stored row indexed apart from the rows: the signature states (``SIGNATURE_STATES``),
    which an increment reads all of (1.1 s from the index where the rows took 3.0, 100,000 articles, cold), and
    each capture's time, status and validators, which every grouping pass and every crawl read (the rows hold
    the compressed page: 0.02 s from the index against 0.14-0.21 s, 13,445 crawled pages, cold)."""
    for statement in appended_indexes("signatures").values():
        db.execute(statement)
    db.execute("create index if not exists fetches_heads on fetches (url, fetched_at, status, etag, last_modified)")


MIGRATIONS = {1: _schema_v1, 2: _schema_v2, 3: _schema_v3, 4: _schema_v4, 5: _schema_v5, 6: _schema_v6,
              7: _schema_v7, 8: _schema_v8, 9: _schema_v9, 10: _schema_v10, 11: _schema_v11,
              12: _schema_v12, 13: _schema_v13, 14: _schema_v14,
              15: _schema_v15, 16: _schema_v16}


@functools.cache
def own_tables() -> dict[str, set[str]]:
    """Every table and view of this schema, and its columns (made once, in memory): what a file must look like
    before syndtrace writes to it."""
    db = sqlite_utils.Database(memory=True)
    for version in sorted(MIGRATIONS):
        MIGRATIONS[version](db)
    names = [r[0] for r in db.execute("select name from sqlite_master where type in ('table', 'view')")]
    return {name: {c[1] for c in db.execute(f"pragma table_info([{name}])")} for name in names}


def foreign_tables(found: dict[str, set[str]]) -> str | None:
    """Why tables found in a file without a schema version are not a syndtrace schema being created (a table
    syndtrace has no such name for, or one of its names with other columns), or None if they could be."""
    own = own_tables()
    for name, columns in sorted(found.items()):
        if name not in own:
            return f"it holds a table syndtrace does not know ({name!r})"
        if not columns <= own[name]:
            return f"its table {name!r} has columns syndtrace's has not ({', '.join(sorted(columns - own[name]))})"
    return None
