"""Opening the DuckDB file: one writer process or many readers, never both.

DuckDB locks the file per process. An analyst's open connection therefore blocks our writer and a
read-write one blocks even our readers; `connect` retries for a bounded time and then raises
`DatabaseLocked` with DuckDB's own explanation (it names the process holding the lock).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from newsmon.errors import StorageError
from newsmon.storage.schema import LATEST_VERSION, current_version, migrate


class DatabaseLocked(StorageError):
    """Another process holds the DuckDB file."""


class SchemaOutdated(StorageError):
    """The file predates this newsmon; a write (any command that writes) migrates it."""


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text or "different configuration" in text


def connect(path: Path | str, *, read_only: bool = False, timeout: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open the database, retrying for up to `timeout` seconds while another process holds it."""
    path = Path(path)
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseLocked(
                    f"{path} is in use by another process; close it, or open it read-only "
                    f"(duckdb -readonly, duckdb.connect(..., read_only=True), newsmon query). DuckDB says: {exc}"
                ) from exc
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)


@contextmanager
def open_writer(path: Path | str, *, timeout: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a migrated database, closed on exit to keep the write window short."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = connect(path, timeout=timeout)
    try:
        migrate(con)
        yield con
    finally:
        con.close()


@contextmanager
def open_reader(path: Path | str, *, timeout: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection. A missing file is created (migrated) first, so readers see the schema."""
    path = Path(path)
    if not path.exists():
        with open_writer(path, timeout=timeout):
            pass
    con = connect(path, read_only=True, timeout=timeout)
    try:
        if current_version(con) < LATEST_VERSION:
            raise SchemaOutdated(f"{path} has an older schema: run any writing command (e.g. newsmon run)")
        yield con
    finally:
        con.close()
