"""What a pass needs to know from the store, read in a few set-based queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
import pyarrow as pa

from newsmon.model import FeedState, ItemState, QueuedItem
from newsmon.storage.transactions import registered


def due_feeds(con: duckdb.DuckDBPyConnection, now: datetime, *, all_feeds: bool) -> list[FeedState]:
    where = "" if all_feeds else "WHERE next_poll_at IS NULL OR next_poll_at <= ?"
    params = [] if all_feeds else [now]
    rows = con.execute(
        f"""
        SELECT url, title, etag, last_modified, poll_interval_s, error_count, error_score, disabled_at,
               last_success_at
        FROM feeds {where} ORDER BY url
        """,
        params,
    ).fetchall()
    return [FeedState(*row) for row in rows]


def known_items(con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], ItemState]:
    wanted = list(keys)
    if not wanted:
        return {}
    table = pa.table({"feed_url": [k[0] for k in wanted], "item_key": [k[1] for k in wanted]})
    with registered(con, {"wanted_items": table}):
        rows = con.execute(
            """
            SELECT i.feed_url, i.item_key, i.status, i.attempts, i.first_seen_at, i.fetched_marker, i.article_id
            FROM items i JOIN wanted_items w USING (feed_url, item_key)
            """
        ).fetchall()
    return {(r[0], r[1]): ItemState(*r) for r in rows}


def articles_by_canonical_url(con: duckdb.DuckDBPyConnection, urls: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(urls))
    if not wanted:
        return {}
    with registered(con, {"wanted_urls": pa.table({"canonical_url": wanted})}):
        rows = con.execute(
            "SELECT a.canonical_url, a.article_id FROM articles a JOIN wanted_urls USING (canonical_url)"
        ).fetchall()
    return dict(rows)


def queued_items(con: duckdb.DuckDBPyConnection, *, max_attempts: int) -> list[QueuedItem]:
    """Items never fetched, marked updated by their feed, or failed fewer than max_attempts times."""
    rows = con.execute(
        """
        SELECT feed_url, item_key, guid, link, title, published_at, updated_at, first_seen_at, attempts
        FROM items
        WHERE link IS NOT NULL AND (status = 'pending' OR (status = 'failed' AND attempts < ?))
        ORDER BY first_seen_at, feed_url, item_key
        """,
        [max_attempts],
    ).fetchall()
    return [QueuedItem(*row) for row in rows]

