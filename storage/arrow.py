"""Arrow schemas of the domain records, derived from their fields: the bulk-write path into DuckDB."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import pyarrow as pa

from newsmon.model import ArticleError, ArticleRecord, FeedUpdate, ItemRecord, PollRecord, RunRecord, WriteBatch

TS = pa.timestamp("us", tz="UTC")

_TYPES: dict[str, pa.DataType] = {
    "datetime": TS,
    "datetime | None": TS,
    "str": pa.string(),
    "str | None": pa.string(),
    "ItemStatus": pa.string(),
    "RunStatus": pa.string(),
    "int": pa.int64(),
    "int | None": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "bytes | None": pa.binary(),
    "dict[str, float]": pa.map_(pa.string(), pa.float64()),
}


def arrow_schema(record_type: type) -> pa.Schema:
    return pa.schema([pa.field(f.name, _TYPES[str(f.type)]) for f in fields(record_type)])


def record_fields(record_type: type) -> list[str]:
    return [f.name for f in fields(record_type)]


TABLE_RECORDS: dict[str, type] = {
    "feeds": FeedUpdate,
    "polls": PollRecord,
    "items": ItemRecord,
    "articles": ArticleRecord,
    "article_errors": ArticleError,
    "runs": RunRecord,
}
SCHEMAS = {name: arrow_schema(record) for name, record in TABLE_RECORDS.items()}


def batch_tables(batch: WriteBatch) -> dict[str, pa.Table]:
    """The batch's non-empty record lists as Arrow tables, by table name."""
    tables: dict[str, pa.Table] = {}
    for name in TABLE_RECORDS:
        rows: list[Any] = getattr(batch, name)
        if rows:
            tables[name] = pa.Table.from_pylist([asdict(r) for r in rows], schema=SCHEMAS[name])
    return tables
