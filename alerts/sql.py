"""SQL rules: a predicate over the alert_candidates view, run in a sandbox that sees nothing else.

The predicate runs in an in-memory DuckDB holding only the candidates (an Arrow table storage read), with
external access off and its configuration locked: never against the newsmon file, which it could otherwise
read or change.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from newsmon.errors import InputError


class SQLRuleError(InputError):
    """A SQL predicate that does not parse or bind against alert_candidates."""


def _sandbox(candidates: pa.Table) -> duckdb.DuckDBPyConnection:
    # The predicate sees the candidates and nothing else: an in-memory database with no file or network
    # access and its configuration locked, never the newsmon file it could otherwise read or change.
    box = duckdb.connect(":memory:", config={"enable_external_access": False})
    box.execute("SET lock_configuration = true")
    box.register("alert_candidates", candidates)
    return box


def _predicate_sql(predicate: str) -> str:
    # Newlines around the predicate: a trailing '--' comment cannot swallow the closing parenthesis.
    return f"SELECT story_id FROM alert_candidates WHERE (\n{predicate}\n)"


def check_sql(candidates: pa.Table, predicate: str) -> None:
    """Raise SQLRuleError unless the predicate is one boolean expression over `candidates` (rows not needed)."""
    sql = _predicate_sql(predicate)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise SQLRuleError(f"the SQL predicate does not parse: {exc}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise SQLRuleError("the SQL predicate must be a single expression (no ';', no other statement)")
    box = _sandbox(candidates)
    try:
        box.execute(sql).fetchall()
    except duckdb.Error as exc:
        raise SQLRuleError(f"the SQL predicate is not valid over alert_candidates: {exc}") from None
    finally:
        box.close()


def sql_matches(candidates: pa.Table, predicate: str) -> set[str]:
    """The story ids of `candidates` (rows of alert_candidates) the predicate selects."""
    box = _sandbox(candidates)
    try:
        return {r[0] for r in box.execute(_predicate_sql(predicate)).fetchall()}
    finally:
        box.close()
