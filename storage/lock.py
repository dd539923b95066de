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
    handle = path.open("a+")
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunInProgress(f"another {_describe(path)} is using {db_path}; try again later") from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "since": datetime.now(UTC).isoformat(), "purpose": purpose}))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


def _describe(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "newsmon run"
    return f"newsmon {holder.get('purpose', 'run')} (pid {holder.get('pid')}, since {holder.get('since')})"
