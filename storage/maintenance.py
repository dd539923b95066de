"""Nightly upkeep: drop old raw HTML, compact the file, export the analyst tables to Parquet."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

# What analysts read (docs/schema.md), views included; pages (raw HTML) and the alert outbox stay in DuckDB.
EXPORTED_TABLES = (
    "feeds", "polls", "items", "articles", "article_versions", "article_errors", "runs",
    "stories", "story_assignments", "entities", "mentions", "facts", "quotes", "story_facts", "story_quotes",
    "article_outlets", "story_entities", "fact_entities", "story_links",
)
EXPORT_FORMATS = {"parquet": "(FORMAT parquet, COMPRESSION zstd)", "csv": "(FORMAT csv, HEADER)"}


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
    return export_tables(con, directory, "parquet")


def export_tables(con: duckdb.DuckDBPyConnection, directory: Path, fmt: str = "parquet") -> dict[str, int]:
    """Write each analyst table to DIRECTORY/TABLE.FMT (parquet or csv); a file is replaced only once complete.
    Returns the rows written per table."""
    directory.mkdir(parents=True, exist_ok=True)
    existing = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    written = {}
    for table in EXPORTED_TABLES:
        if table not in existing:
            continue
        target = directory / f"{table}.{fmt}"
        partial = directory / f".{table}.{fmt}.partial"
        con.execute(f"COPY {table} TO '{_quote(partial)}' {EXPORT_FORMATS[fmt]}")
        os.replace(partial, target)  # readers never see a half-written file
        written[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return written


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
