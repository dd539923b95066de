"""The database as CLI commands need it: the file `--db` names, opened read-only (never created) or for
writing, every storage or OS error turned into one line that says what to do; and `--since`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from newsmon.settings import Settings, get_settings


def settings_of(ctx: click.Context) -> Settings:
    return get_settings(db=ctx.obj["db"]) if ctx.obj.get("db") else get_settings()


# --- the database, as read-only and writing commands need it ---------------------------------------------


def existing_db(ctx: click.Context) -> Settings:
    """Settings whose database file exists: read-only commands never create one."""
    settings = settings_of(ctx)
    db = settings.db
    if db.is_dir():
        raise click.ClickException(f"{db} is a directory: pass the database file with --db")
    if not db.exists():
        blocker = _file_in_path(db)
        if blocker is not None:
            raise click.ClickException(f"no database at {db}: {blocker} is a file, not a directory")
        raise click.ClickException(
            f"no database at {db}: pass --db (or NEWSMON_DB), or start one with `newsmon feeds add URL`"
        )
    return settings


def writable_db(ctx: click.Context) -> Settings:
    """Settings whose database can be created where it is asked for."""
    settings = settings_of(ctx)
    if settings.db.is_dir():
        raise click.ClickException(f"{settings.db} is a directory: pass the database file with --db")
    blocker = _file_in_path(settings.db)
    if blocker is not None:
        raise click.ClickException(f"cannot create {settings.db}: {blocker} is a file, not a directory")
    return settings


def _file_in_path(db: Path) -> Path | None:
    """The first ancestor of `db` that exists and is not a directory, if any."""
    for parent in db.absolute().parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


@contextmanager
def storage_errors(db: Path | None = None) -> Iterator[None]:
    """A locked, outdated, unreadable or uncreatable database as one line that says what to do."""
    import duckdb

    from newsmon.errors import NewsmonError

    where = f"{db}: " if db else ""
    try:
        yield
    except NewsmonError as exc:  # a locked or outdated database, a pass in progress...: said on purpose
        raise click.ClickException(str(exc)) from exc
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise click.ClickException(f"{where}cannot use the database ({reason}): check the path given to --db") from exc
    except OSError as exc:
        raise click.ClickException(f"{where}{exc.strerror or exc}") from exc


@contextmanager
def reading(ctx: click.Context) -> Iterator[Any]:
    from newsmon.storage.db import open_reader

    settings = existing_db(ctx)
    with storage_errors(settings.db), open_reader(settings.db, timeout=settings.lock_timeout) as con:
        yield con


@contextmanager
def writing(ctx: click.Context) -> Iterator[Any]:
    from newsmon.storage.db import open_writer

    settings = writable_db(ctx)
    with storage_errors(settings.db), open_writer(settings.db, timeout=settings.lock_timeout) as con:
        yield con


_SINCE = re.compile(r"(\d+(?:\.\d+)?)([mhdw])")


def parse_since(text: str) -> datetime:
    """`--since`: "all", a duration back from now (90m, 12h, 1d, 2w), or a date or time (2026-01-30)."""
    if text == "all":
        return datetime(1970, 1, 1, tzinfo=UTC)
    if match := _SINCE.fullmatch(text.strip()):
        seconds = float(match[1]) * {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[match[2]]
        return datetime.now(UTC) - timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: use a duration (90m, 12h, 1d, 2w), a date (2026-01-30) or 'all'", param_hint="--since"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
