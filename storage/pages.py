"""The kept raw HTML of articles, and replacing an article's text after re-extraction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from newsmon.storage.transactions import registered, transaction


@dataclass(frozen=True)
class StoredPage:
    article_id: str
    version: int
    content_hash: str
    html_zlib: bytes
    url: str
    charset: str | None
    fetched_at: datetime
    feed_date: datetime | None  # the stored date when it came from the feed (a page's is read again)


@dataclass(frozen=True)
class NewText:
    article_id: str
    version: int
    title: str | None
    text: str
    content_hash: str


def article_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT article_id FROM articles ORDER BY article_id").fetchall()]


def current_pages(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> list[StoredPage]:
    """The raw HTML of each article's current version; pages past their retention (HTML dropped) are left out."""
    rows = con.execute(
        """
        SELECT a.article_id, a.version, a.content_hash, p.html_zlib, coalesce(p.final_url, p.url), p.charset,
               p.fetched_at, CASE WHEN a.published_source = 'feed' THEN a.published_at END
        FROM articles a JOIN pages p ON p.article_id = a.article_id AND p.version = a.version
        WHERE a.article_id IN (SELECT unnest(?::VARCHAR[])) AND p.html_zlib IS NOT NULL
        ORDER BY a.article_id
        """,
        [list(ids)],
    ).fetchall()
    return [StoredPage(*row) for row in rows]


# Facts point into an article's text by character offset: whatever changes a stored text must also forget them,
# so the next pass reads the new text again. Both paths that change `articles.text` use this assignment.
FORGET_WHAT_POINTS_INTO_TEXT = "facts_version = NULL"


def set_article_texts(
    con: duckdb.DuckDBPyConnection, changed: Sequence[NewText], reread: Sequence[str], extractor_version: str
) -> None:
    """The same version, better read: replace its text in articles and article_versions (no new version),
    forget the facts read from the old text, and record the extractor on every article that was read again."""
    table = pa.Table.from_pylist(
        [vars(n) for n in changed],
        schema=pa.schema([("article_id", pa.string()), ("version", pa.int64()), ("title", pa.string()),
                          ("text", pa.string()), ("content_hash", pa.string())]),
    )
    reread_table = pa.table({"article_id": pa.array(list(reread), pa.string())})
    with registered(con, {"reextracted": table, "reread": reread_table}), transaction(con):
        con.execute(
            f"""
            UPDATE articles SET text = r.text, title = coalesce(r.title, articles.title),
                   content_hash = r.content_hash, {FORGET_WHAT_POINTS_INTO_TEXT}
            FROM reextracted r WHERE articles.article_id = r.article_id
            """
        )
        con.execute(
            """
            UPDATE article_versions SET text = r.text, title = coalesce(r.title, article_versions.title),
                   content_hash = r.content_hash
            FROM reextracted r
            WHERE article_versions.article_id = r.article_id AND article_versions.version = r.version
            """
        )
        con.execute(
            "UPDATE articles SET extractor_version = ? WHERE article_id IN (SELECT article_id FROM reread)",
            [extractor_version],
        )


@dataclass(frozen=True)
class PageDay:
    article_id: str
    published_at: datetime | None
    published_source: str


def set_page_dates(con: duckdb.DuckDBPyConnection, days: Sequence[PageDay]) -> None:
    """Store each article's publication time and its evidence as read again (`resolve_published_at`)."""
    table = pa.Table.from_pylist(
        [vars(d) for d in days],
        schema=pa.schema([("article_id", pa.string()), ("published_at", pa.timestamp("us", tz="UTC")),
                          ("published_source", pa.string())]),
    )
    with registered(con, {"redated": table}), transaction(con):
        con.execute(
            """
            UPDATE articles SET published_at = d.published_at, published_source = d.published_source
            FROM redated d WHERE articles.article_id = d.article_id
            """
        )
