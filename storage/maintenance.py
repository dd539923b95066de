"""Nightly upkeep: drop old raw HTML, compact the file, export the analyst tables to Parquet."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

# What analysts read; pages (raw HTML) and the bookkeeping tables stay in DuckDB only.
EXPORTED_TABLES = (
    "feeds", "polls", "items", "articles", "article_versions", "article_errors", "runs",
    "stories", "story_assignments",
)


def prune_raw_html(con: duckdb.DuckDBPyConnection, *, older_than: datetime) -> int:
    """Forget raw HTML fetched before `older_than` (the row, with its size and URL, stays)."""
    rows = con.execute(
        "UPDATE pages SET html_zlib = NULL WHERE fetched_at < ? AND html_zlib IS NOT NULL RETURNING article_id",
        [older_than],
    ).fetchall()
    return len(rows)


def compact(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("FORCE CHECKPOINT")


def export_parquet(con: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, int]:
    """Write each analyst table to DIRECTORY/TABLE.parquet; a file is replaced only once complete."""
    directory.mkdir(parents=True, exist_ok=True)
    existing = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    written = {}
    for table in EXPORTED_TABLES:
        if table not in existing:
            continue
        target = directory / f"{table}.parquet"
        partial = directory / f".{table}.parquet.partial"
        con.execute(f"COPY {table} TO '{_quote(partial)}' (FORMAT parquet, COMPRESSION zstd)")
        os.replace(partial, target)  # readers never see a half-written file
        written[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return written


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
