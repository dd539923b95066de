"""Managing the feed list (the CLI's `feeds` verbs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb
import pyarrow as pa

from newsmon.storage.arrow import TS
from newsmon.storage.transactions import registered


def add_feeds(
    con: duckdb.DuckDBPyConnection,
    feeds: Sequence[tuple[str, str | None]],
    *,
    now: datetime,
    interval: int,
) -> list[str]:
    """Add (url, title) pairs; returns the URLs that were not there yet. Due at once."""
    unique: dict[str, str | None] = {}
    for url, title in feeds:
        unique.setdefault(url, title)  # DuckDB keeps an arbitrary duplicate within one insert
    if not unique:
        return []
    table = pa.table(
        {
            "url": list(unique),
            "title": list(unique.values()),
            "added_at": pa.array([now] * len(unique), type=TS),
            "poll_interval_s": [interval] * len(unique),
        }
    )
    with registered(con, {"new_feeds": table}):
        rows = con.execute(
            "INSERT INTO feeds BY NAME SELECT * FROM new_feeds ON CONFLICT DO NOTHING RETURNING url"
        ).fetchall()
    added = {row[0] for row in rows}
    return [url for url in unique if url in added]


def remove_feed(con: duckdb.DuckDBPyConnection, url: str) -> bool:
    """Stop polling a feed. Its articles, items and poll history stay."""
    rows = con.execute("DELETE FROM feeds WHERE url = ? RETURNING url", [url]).fetchall()
    return bool(rows)

