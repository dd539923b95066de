"""Bulk, idempotent writes: one transaction per batch, Arrow in, upserts keyed on each table's identity.

When another process holds the file past the lock timeout, the batch goes to a spool of Parquet files
beside the database and is merged, in order, by the next write that gets the lock. Applying a batch twice
changes nothing, so a crash between merge and spool clean-up loses and duplicates nothing.
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from newsmon.model import RunRecord, WriteBatch
from newsmon.storage.arrow import SCHEMAS, TABLE_RECORDS, batch_tables, record_fields
from newsmon.storage.db import DatabaseLocked, open_writer
from newsmon.storage.pages import FORGET_WHAT_POINTS_INTO_TEXT
from newsmon.storage.transactions import registered, transaction


@dataclass
class WriteOutcome:
    spooled: bool = False
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    spool_batches_merged: int = 0


def spool_dir(db_path: Path | str) -> Path:
    return Path(f"{db_path}.spool")


def write_batch(db_path: Path | str, batch: WriteBatch, *, lock_timeout: float) -> WriteOutcome:
    """Commit the batch (after any spooled ones), or spool it if the database stays locked."""
    if batch.is_empty():
        return WriteOutcome()
    tables = batch_tables(batch)
    try:
        with open_writer(db_path, timeout=lock_timeout) as con:
            merged = _merge_spool(con, db_path)
            outcome = apply_tables(con, tables)
            outcome.spool_batches_merged = merged
            return outcome
    except DatabaseLocked:
        _spool(db_path, tables)
        return WriteOutcome(spooled=True)


def merge_spool(db_path: Path | str, *, lock_timeout: float) -> int:
    """Merge spooled batches now; returns how many (0 when the database is still locked)."""
    if not pending_spool(db_path):
        return 0
    try:
        with open_writer(db_path, timeout=lock_timeout) as con:
            return _merge_spool(con, db_path)
    except DatabaseLocked:
        return 0


def pending_spool(db_path: Path | str) -> list[Path]:
    root = spool_dir(db_path)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "COMPLETE").exists())


def _spool(db_path: Path | str, tables: dict[str, pa.Table]) -> Path:
    root = spool_dir(db_path)
    # Names sort in write order; COMPLETE marks a batch whose files are all on disk.
    target = root / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    target.mkdir(parents=True)
    for name, table in tables.items():
        pq.write_table(table, target / f"{name}.parquet")
    (target / "COMPLETE").touch()
    return target


def _merge_spool(con: duckdb.DuckDBPyConnection, db_path: Path | str) -> int:
    merged = 0
    for batch_dir in pending_spool(db_path):
        tables = {
            name: pq.read_table(batch_dir / f"{name}.parquet", schema=SCHEMAS[name])
            for name in TABLE_RECORDS
            if (batch_dir / f"{name}.parquet").exists()
        }
        apply_tables(con, tables)
        shutil.rmtree(batch_dir)
        merged += 1
    return merged


def apply_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> WriteOutcome:
    outcome = WriteOutcome()
    with registered(con, {f"batch_{name}": table for name, table in tables.items()}), transaction(con):
        if "feeds" in tables:
            _apply_feeds(con)
        if "polls" in tables:
            con.execute("INSERT INTO polls BY NAME SELECT * FROM batch_polls ON CONFLICT DO NOTHING")
        if "articles" in tables:
            _apply_articles(con, outcome)
        if "items" in tables:
            _apply_items(con)
        if "article_errors" in tables:
            con.execute("INSERT INTO article_errors BY NAME SELECT * FROM batch_article_errors")
        if "runs" in tables:
            _apply_runs(con)
    return outcome


def _apply_feeds(con: duckdb.DuckDBPyConnection) -> None:
    # A feed removed while its poll was in flight stays removed: UPDATE, never INSERT.
    con.execute(
        """
        UPDATE feeds SET
            title           = coalesce(b.title, feeds.title),
            site_url        = coalesce(b.site_url, feeds.site_url),
            etag            = CASE WHEN b.last_status = 200 THEN b.etag ELSE feeds.etag END,
            last_modified   = CASE WHEN b.last_status = 200 THEN b.last_modified ELSE feeds.last_modified END,
            last_polled_at  = b.polled_at,
            last_success_at = coalesce(b.last_success_at, feeds.last_success_at),
            next_poll_at    = b.next_poll_at,
            poll_interval_s = b.poll_interval_s,
            last_status     = b.last_status,
            error_count     = b.error_count,
            error_score     = b.error_score,
            last_error      = b.last_error,
            last_error_kind = b.last_error_kind,
            disabled_at     = b.disabled_at
        FROM batch_feeds b
        WHERE feeds.url = b.url
        """
    )


def _apply_items(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        INSERT INTO items BY NAME SELECT * FROM batch_items
        ON CONFLICT (feed_url, item_key) DO UPDATE SET
            guid           = excluded.guid,
            link           = excluded.link,
            title          = excluded.title,
            published_at   = excluded.published_at,
            updated_at     = excluded.updated_at,
            last_seen_at   = greatest(items.last_seen_at, excluded.last_seen_at),
            status         = excluded.status,
            attempts       = excluded.attempts,
            fetched_marker = excluded.fetched_marker,
            article_id     = coalesce(excluded.article_id, items.article_id),
            error_code     = excluded.error_code,
            error          = excluded.error
        """
    )


def _apply_articles(con: duckdb.DuckDBPyConnection, outcome: WriteOutcome) -> None:
    # One row per article in the batch (the first wins), then decide against what is stored:
    # new → version 1; different content → next version; same content → nothing to write.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE decided AS
        WITH staged AS (
            SELECT * FROM batch_articles
            QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY fetched_at) = 1
        )
        SELECT s.*,
               a.article_id IS NULL                          AS is_new,
               coalesce(a.version, 0) + 1                    AS new_version,
               a.article_id IS NOT NULL AND a.content_hash <> s.content_hash AS is_changed
        FROM staged s LEFT JOIN articles a USING (article_id)
        """
    )
    counts = con.execute(
        "SELECT count(*) FILTER (is_new), count(*) FILTER (is_changed), "
        "count(*) FILTER (NOT is_new AND NOT is_changed) FROM decided"
    ).fetchall()[0]
    outcome.articles_new += counts[0]
    outcome.articles_updated += counts[1]
    outcome.articles_unchanged += counts[2]
    con.execute(
        """
        INSERT INTO articles BY NAME
        SELECT article_id, url, canonical_url, feed_url, source, title, author, published_at,
               published_source, language, description, text, content_hash, 1 AS version,
               NULL AS story_id, NULL AS duplicate_of, fetched_at, fetched_at AS updated_at,
               extractor_version
        FROM decided WHERE is_new
        """
    )
    con.execute(
        f"""
        UPDATE articles SET
            title = d.title, author = coalesce(d.author, articles.author), text = d.text,
            description = d.description, content_hash = d.content_hash, version = d.new_version,
            updated_at = d.fetched_at, extractor_version = d.extractor_version, {FORGET_WHAT_POINTS_INTO_TEXT},
            published_at = coalesce(articles.published_at, d.published_at),
            published_source = CASE WHEN articles.published_at IS NULL THEN d.published_source
                                    ELSE articles.published_source END,
            language = coalesce(d.language, articles.language)
        FROM decided d
        WHERE articles.article_id = d.article_id AND d.is_changed
        """
    )
    con.execute(
        """
        INSERT INTO article_versions BY NAME
        SELECT article_id, new_version AS version, fetched_at, title, text, content_hash
        FROM decided WHERE is_new OR is_changed
        ON CONFLICT DO NOTHING
        """
    )
    con.execute(
        """
        INSERT INTO pages BY NAME
        SELECT article_id, new_version AS version, fetched_at, url, final_url, content_type, charset,
               size, html_zlib
        FROM decided WHERE is_new OR is_changed
        ON CONFLICT DO NOTHING
        """
    )
    con.execute("DROP TABLE decided")


def _apply_runs(con: duckdb.DuckDBPyConnection) -> None:
    # A run is written when it starts and again when it ends: everything but its identity may change.
    fixed = {"run_id", "started_at", "all_feeds"}
    updates = ", ".join(f"{name} = excluded.{name}" for name in record_fields(RunRecord) if name not in fixed)
    con.execute(f"INSERT INTO runs BY NAME SELECT * FROM batch_runs ON CONFLICT (run_id) DO UPDATE SET {updates}")
