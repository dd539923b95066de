"""The two ways storage code talks to DuckDB in bulk: Arrow tables made visible to SQL, and transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb
import pyarrow as pa


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table]) -> Iterator[None]:
    """Arrow tables readable by SQL under these names for the block (DuckDB scans them in place: no copy)."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield
    except BaseException:
        # A failed statement aborts the transaction and DuckDB then refuses to unregister: raise the statement's
        # own error, not that refusal.
        for name in tables:
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)
        raise
    for name in tables:
        con.unregister(name)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
