"""Reads behind the CLI's listings: feeds, stories, one story in full, a user's SQL, the demo's summary."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from newsmon.errors import InputError
from newsmon.storage.schema import columns_and_rows, dict_rows

Rows = tuple[list[str], list[tuple[Any, ...]]]


class QueryError(InputError):
    """A user's SQL that newsmon will not run as given."""


def run_statement(con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
    """One statement of the user's SQL. Several would show only the last result, so they are refused."""
    statements = duckdb.extract_statements(sql)
    if len(statements) != 1:
        raise QueryError(f"{len(statements)} statements given: run one at a time" if statements else "no statement")
    return columns_and_rows(con, sql)


def nothing_to_ingest(con: duckdb.DuckDBPyConnection, db_path: Path) -> bool:
    """No feed to poll, no article stored (to cluster or read for facts), no spooled batch to merge: a pass
    would only start a Prefect server to do nothing."""
    from newsmon.storage.writes import pending_spool

    counts = con.execute("SELECT (SELECT count(*) FROM feeds), (SELECT count(*) FROM articles)").fetchall()[0]
    return counts == (0, 0) and not pending_spool(db_path)


FEED_COLUMNS_BY_IMPORTANCE = ("poll_interval_s", "last_polled_at", "error_count", "title", "next_poll_at")
"""What a narrow terminal drops first from `feeds list`; `url`, `health`, `articles`, `last_error` stay."""


def feed_list(con: duckdb.DuckDBPyConnection) -> Rows:
    return columns_and_rows(
        con,
        """
        SELECT url, title,
               CASE WHEN disabled_at IS NOT NULL THEN 'disabled'
                    WHEN error_count > 0 THEN 'failing'
                    WHEN last_polled_at IS NULL THEN 'new'
                    ELSE 'ok' END AS health,
               (SELECT count(*) FROM items i WHERE i.feed_url = feeds.url AND i.status = 'stored') AS articles,
               last_polled_at, next_poll_at, poll_interval_s, error_count,
               rtrim(rtrim(last_error), ':') AS last_error
        FROM feeds ORDER BY url
        """,
    )


def feeds_for_opml(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None, str | None]]:
    """(url, title, site_url) of every feed, for an OPML export."""
    return con.execute("SELECT url, title, site_url FROM feeds ORDER BY coalesce(title, url), url").fetchall()


def story_list(con: duckdb.DuckDBPyConnection, since: datetime, limit: int) -> Rows:
    return columns_and_rows(
        con,
        """
        SELECT s.story_id, s.last_seen_at, s.title, s.article_count, s.source_count,
               list(DISTINCT o.outlet ORDER BY o.outlet) AS outlets
        FROM stories s JOIN article_outlets o USING (story_id)
        WHERE s.last_seen_at >= ?
        GROUP BY ALL
        ORDER BY s.last_seen_at DESC, s.story_id
        LIMIT ?
        """,
        [since, limit],
    )


def find_story(con: duckdb.DuckDBPyConnection, story_id: str) -> list[str]:
    """Story ids equal to `story_id`, else starting with it (a listing's id may be typed shortened)."""
    exact = con.execute("SELECT story_id FROM stories WHERE story_id = ?", [story_id]).fetchall()
    if exact:
        return [exact[0][0]]
    rows = con.execute(
        "SELECT story_id FROM stories WHERE starts_with(story_id, ?) ORDER BY story_id LIMIT 10", [story_id]
    ).fetchall()
    return [r[0] for r in rows]


def story_detail(con: duckdb.DuckDBPyConnection, story_id: str) -> dict[str, Any]:
    """Everything an analyst asks of one story: its sources, near-duplicates, facts with corroboration and
    disagreements, quotes with speakers, entities, and the evidence that put each article in it."""
    story = dict_rows(
        con,
        "SELECT story_id, title, first_seen_at, last_seen_at, article_count, source_count FROM stories "
        "WHERE story_id = ?",
        [story_id],
    )[0]
    articles = dict_rows(
        con,
        """
        SELECT a.article_id, o.outlet, a.source, a.canonical_url AS url, a.published_at, a.title,
               a.duplicate_of, sa.method, sa.score, sa.evidence
        FROM articles a JOIN article_outlets o USING (article_id)
        LEFT JOIN story_assignments sa ON sa.article_id = a.article_id
        WHERE a.story_id = ?
        ORDER BY coalesce(a.published_at, a.fetched_at), a.article_id
        """,
        [story_id],
    )
    for article in articles:
        article["evidence"] = json.loads(article["evidence"]) if article["evidence"] else None
    story["articles"] = articles
    story["facts"] = dict_rows(
        con,
        """
        SELECT kind, value, unit, qualifier, subject, period, change, source_count, disagreement, surfaces,
               article_ids
        FROM story_facts WHERE story_id = ? ORDER BY source_count DESC, kind, value
        """,
        [story_id],
    )
    story["quotes"] = dict_rows(
        con,
        "SELECT speaker, quote, source_count, article_ids FROM story_quotes WHERE story_id = ? "
        "ORDER BY source_count DESC, speaker NULLS LAST, quote",
        [story_id],
    )
    story["entities"] = dict_rows(
        con,
        "SELECT entity_id, name, kind, mentions, source_count FROM story_entities WHERE story_id = ? "
        "ORDER BY source_count DESC, mentions DESC, name",
        [story_id],
    )
    return story


def demo_articles(con: duckdb.DuckDBPyConnection) -> Rows:
    return columns_and_rows(
        con,
        """
        SELECT o.outlet, strftime(a.published_at, '%Y-%m-%d') AS published, a.title,
               len(string_split(a.text, ' ')) AS words
        FROM articles a JOIN article_outlets o USING (article_id)
        ORDER BY a.published_at DESC, o.outlet
        """,
    )


def demo_shared_stories(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, list[str]]]:
    """(story_id, title, outlets, up to four facts they agree on) of stories told by several outlets."""
    return con.execute(
        """
        SELECT s.story_id, s.title, s.source_count,
               list(f.kind || ' ' || f.surfaces[1] ORDER BY f.source_count DESC, f.kind)[:4] AS agreed
        FROM stories s LEFT JOIN story_facts f ON f.story_id = s.story_id AND f.source_count > 1
        WHERE s.source_count > 1 GROUP BY s.story_id, s.title, s.source_count, s.last_seen_at
        ORDER BY s.last_seen_at DESC
        """
    ).fetchall()


def only_loopback_feeds(path: str) -> bool:
    """True when every feed of the file is a loopback URL: a database an earlier `newsmon demo` made."""
    from urllib.parse import urlsplit

    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error:
        return False
    try:
        urls = [r[0] for r in con.execute("SELECT url FROM feeds").fetchall()]
    except duckdb.Error:
        return False
    finally:
        con.close()
    return all((urlsplit(u).hostname or "").startswith("127.") for u in urls)
