"""Opening the DuckDB file: one writer process or many readers, never both.

DuckDB locks the file per process. An analyst's open connection therefore blocks our writer and a
read-write one blocks even our readers; `connect` retries for a bounded time and then raises
`DatabaseLocked` with DuckDB's own explanation (it names the process holding the lock).
"""

from __future__ import annotations

import contextlib
import threading
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


class _Session:
    """The read-write connection a `writer_session` keeps open (None until its first write opened one)."""

    def __init__(self) -> None:
        self.con: duckdb.DuckDBPyConnection | None = None
        self.depth = 0
        self.opening = threading.Lock()  # one connection per session, whichever thread opens it
        self.release: threading.Timer | None = None  # set once ended inside `kept_open`: closes the file when it fires

    def open(self, path: Path | str, timeout: float) -> None:
        with self.opening:
            if self.con is None:
                self.con = _open_migrated(path, timeout)


# Sessions by resolved path, process-wide: Prefect may run a task in another thread than the flow's, and
# DuckDB refuses a read-only connection in a process that holds the file read-write.
_SESSIONS: dict[Path, _Session] = {}
_SESSIONS_LOCK = threading.Lock()


# Seconds an ended session keeps the file open, by resolved path, while a `kept_open` block runs.
_KEPT_OPEN: dict[Path, float] = {}


@contextmanager
def writer_session(path: Path | str) -> Iterator[None]:
    """Within the block, `open_writer` and `open_reader` on `path` share one open of the file (read-write).

    Opening the file costs ~20 ms of CPU (catalog load, and a checkpoint on close); a pass's batch wrote through
    four to six connections. The connection is opened by the block's first `open_writer` (with its lock timeout
    and its `DatabaseLocked`, so spooling works as before), or by an `open_reader` when the file is free at once,
    and closed when the block ends (inside `kept_open`, once no block has used it for a moment): callers keep
    blocks to one batch's writes, so the file is free whenever a pass is not writing."""
    key = Path(path).resolve()
    with _SESSIONS_LOCK:
        session = _SESSIONS.setdefault(key, _Session())
        session.depth += 1
        if session.release is not None:  # still open after the last block: this one takes it over
            session.release.cancel()
            session.release = None
    try:
        yield
    finally:
        _end_block(key, session)


def _end_block(key: Path, session: _Session) -> None:
    with _SESSIONS_LOCK:
        session.depth -= 1
        if session.depth > 0:
            return
        hold = _KEPT_OPEN.get(key, 0.0)
        if hold > 0 and session.con is not None:
            # The timer names itself: a block may have taken the session over (and a later end set another).
            release = threading.Timer(hold, lambda: _close_unused(key, session, release))
            release.daemon = True
            session.release = release
            release.start()
            return
        del _SESSIONS[key]
    _close(session)


def _close_unused(key: Path, session: _Session, release: threading.Timer) -> None:
    """Close a kept-open session's file, unless a block took it over since `release` was set."""
    with _SESSIONS_LOCK:
        if session.depth > 0 or session.release is not release or _SESSIONS.get(key) is not session:
            return
        session.release = None
        del _SESSIONS[key]
    _close(session)


def _close(session: _Session) -> None:
    """Close a session no longer in `_SESSIONS` (outside the lock: closing checkpoints the file)."""
    if session.con is not None:
        session.con.close()


@contextmanager
def kept_open(path: Path | str, seconds: float) -> Iterator[None]:
    """Within the block, a `writer_session` that ends keeps the file open for `seconds` more, and the next one
    within that time reuses it: a busy ingest pass writes a batch every moment, and each open and close costs
    ~20-45 ms of CPU (catalog load, a checkpoint of a few rows) where one connection kept open costs ~10 ms of
    work per batch. Another process gets the file once the pass has written nothing for `seconds`; the block's end
    closes it at once."""
    key = Path(path).resolve()
    with _SESSIONS_LOCK:
        _KEPT_OPEN[key] = seconds
    try:
        yield
    finally:
        with _SESSIONS_LOCK:
            _KEPT_OPEN.pop(key, None)
            session = _SESSIONS.get(key)
            release = session.release if session is not None else None
        if session is not None and release is not None:
            release.cancel()
            _close_unused(key, session, release)


def _session(path: Path | str) -> _Session | None:
    if not _SESSIONS:
        return None
    with _SESSIONS_LOCK:
        return _SESSIONS.get(Path(path).resolve())


def _open_migrated(path: Path | str, timeout: float) -> duckdb.DuckDBPyConnection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = connect(path, timeout=timeout)
    try:
        migrate(con)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def open_writer(path: Path | str, *, timeout: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a migrated database, closed on exit to keep the write window short (inside a
    `writer_session`, the file stays open until the session ends)."""
    session = _session(path)
    if session is None:
        with contextlib.closing(_open_migrated(path, timeout)) as con:
            yield con
        return
    session.open(path, timeout)
    # While the session's connection is open, DuckDB hands this one the same open database (~0.5 ms, no file
    # opened), and it stays valid whichever of the two is closed first.
    with contextlib.closing(connect(path, timeout=timeout)) as con:
        yield con


@contextmanager
def open_reader(path: Path | str, *, timeout: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection. A missing file is created (migrated) first, so readers see the schema. Inside a
    `writer_session`, a connection on the session's open database (DuckDB refuses a read-only one in a process
    that holds the file read-write)."""
    path = Path(path)
    session = _session(path)
    if session is not None and session.con is None:
        with contextlib.suppress(DatabaseLocked):  # held elsewhere: read as any reader does, beside the holder
            session.open(path, 0.0 if path.exists() else timeout)
    if session is not None and session.con is not None:
        with contextlib.closing(connect(path, timeout=timeout)) as con:
            yield con
        return
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
