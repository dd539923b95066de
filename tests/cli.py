"""Running the CLI as a user would, in-process (flows run under the session's Prefect test harness)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from newsmon.cli import cli


def newsmon(db: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """`newsmon --db DB ARGS...`"""
    # Output as to a pipe, whatever the test session's environment: a COLUMNS of its own (pytest-xdist's workers
    # have one) would make tables fit it.
    as_piped: dict[str, str | None] = {"COLUMNS": None, "LINES": None, **(env or {})}
    return CliRunner().invoke(cli, ["--db", str(db), *args], obj={}, env=as_piped, catch_exceptions=False)


def query(db: Path, sql: str) -> list[dict[str, object]]:
    """`newsmon query --format json SQL`, parsed."""
    result = newsmon(db, "query", "--format", "json", sql)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)
