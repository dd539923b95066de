"""One ingest pass at a time per database: a lock file beside it, held for the whole pass.

DuckDB's own lock only covers a connection; a pass opens and closes many, so two passes could interleave
their writes. A scheduled run and a manual `newsmon run` therefore take this lock first: the second one
waits up to `wait` seconds, then gives up with `RunInProgress` naming the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from newsmon.errors import RunInProgress


def lock_path(db_path: Path | str, scope: str = "") -> Path:
    # Shards of one database lock separately: they may run side by side, their writes take turns.
    return Path(f"{db_path}.run.lock" if scope in ("", "0of1") else f"{db_path}.run-{scope}.lock")


@contextmanager
def exclusive_run(
    db_path: Path | str, *, wait: float = 0.0, purpose: str = "ingest", scope: str = ""
) -> Iterator[None]:
    path = lock_path(db_path, scope)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        handle = _try_lock(path)
        if handle is not None:
            break
        if time.monotonic() >= deadline:
            raise RunInProgress(f"another {_describe(path)} is using {db_path}; try again later")
        time.sleep(0.2)
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "since": datetime.now(UTC).isoformat(), "purpose": purpose}))
        handle.flush()
        yield
    finally:
        # Removed while still held, so no lock file outlives the pass; `_try_lock` checks the inode, so a
        # process that opened the old file meanwhile never holds a lock nobody else can see.
        path.unlink(missing_ok=True)
        handle.close()  # closing releases the lock


def _try_lock(path: Path) -> IO[str] | None:
    """The lock file, opened and locked; None when another process holds it. A file left by a process that
    died (its pid gone) is not locked: it is simply reclaimed."""
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    try:
        same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        same = False
    if not same:  # the holder removed it between our open and our lock: try again on the new file
        handle.close()
        return _try_lock(path)
    return handle


def run_holder(db_path: Path | str, scope: str = "") -> str | None:
    """Who holds the pass lock ("newsmon ingest (pid 12, since ...)"), or None when it is free; checks without
    waiting and without taking it, so a command can say "nothing done" before starting anything."""
    path = lock_path(db_path, scope)
    if not path.exists():
        return None
    try:
        with path.open("r") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _describe(path)
    except FileNotFoundError:
        return None
    return None


def _describe(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "newsmon run"
    since = str(holder.get("since") or "?")[:19].replace("T", " ")  # seconds are precise enough to tell
    return f"newsmon {holder.get('purpose', 'run')} (pid {holder.get('pid')}, since {since} UTC)"
