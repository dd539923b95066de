"""What an operator needs to know at a glance: recent runs, failing feeds, backlog, size, problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from newsmon.storage.schema import dict_rows
from newsmon.storage.writes import pending_spool
from newsmon.text.display import plural, short_time


@dataclass
class StatusReport:
    database: str
    size_bytes: int
    articles: int
    stories: int
    feeds: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    failing_feeds: list[dict[str, Any]] = field(default_factory=list)
    alert_backlog: dict[str, int] | None = None
    spooled_batches: int = 0
    nlp_skipped: dict[str, int] = field(default_factory=dict)  # articles not read by NLP, per reason
    problems: list[str] = field(default_factory=list)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0]
    )


def status_report(
    con: duckdb.DuckDBPyConnection, db_path: Path, *, runs: int = 5, stale_after: timedelta
) -> StatusReport:
    size = sum(p.stat().st_size for p in (db_path, Path(f"{db_path}.wal")) if p.exists())
    counts = con.execute(
        "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM stories), (SELECT count(*) FROM feeds)"
    ).fetchall()[0]
    report = StatusReport(str(db_path), size, counts[0], counts[1], counts[2])
    report.runs = dict_rows(
        con,
        """
        SELECT date_trunc('second', started_at) AS started_at,
               round(epoch(finished_at) - epoch(started_at), 1) AS seconds, status,
               feeds_polled, feeds_not_modified, feeds_failed, articles_new, articles_updated, articles_failed,
               spooled_batches, error
        FROM runs ORDER BY started_at DESC LIMIT ?
        """,
        [runs],
    )
    report.failing_feeds = dict_rows(
        con,
        """
        SELECT url, error_count, last_error_kind, last_error, last_success_at, next_poll_at,
               disabled_at IS NOT NULL AS disabled
        FROM feeds WHERE error_count > 0 ORDER BY error_score DESC, url LIMIT 20
        """,
    )
    if _has_table(con, "alerts"):
        backlog = con.execute("SELECT status, count(*) FROM alerts WHERE status <> 'sent' GROUP BY 1").fetchall()
        report.alert_backlog = {str(status): int(n) for status, n in backlog}
    report.spooled_batches = len(pending_spool(db_path))
    skipped = con.execute(
        "SELECT nlp_skipped, count(*) FROM articles WHERE nlp_skipped IS NOT NULL GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    report.nlp_skipped = {str(reason): int(n) for reason, n in skipped}
    report.problems = _problems(report, stale_after)
    return report


def _problems(report: StatusReport, stale_after: timedelta) -> list[str]:
    problems = []
    if not report.runs:
        problems.append("no ingest run recorded yet")
    else:
        last = report.runs[0]
        if last["status"] == "failed":
            problems.append(f"the last run failed: {last['error']}")
        started = last["started_at"]
        if started is not None and datetime.now(UTC) - started > stale_after:
            problems.append(f"no run since {short_time(started)}: is the schedule running?")
    disabled = [f for f in report.failing_feeds if f["disabled"]]
    if disabled:
        problems.append(f"{plural(len(disabled), 'feed')} disabled after repeated failures")
    failing = len(report.failing_feeds) - len(disabled)
    if failing:
        problems.append(f"{plural(failing, 'feed')} failing")
    if report.spooled_batches:
        problems.append(
            f"{plural(report.spooled_batches, 'write batch', 'write batches')} spooled while the database was busy "
            "(merged on the next run)"
        )
    if report.alert_backlog and report.alert_backlog.get("failed"):
        failed = plural(report.alert_backlog["failed"], "alert")
        problems.append(f"{failed} failed to deliver: newsmon alerts deliver")
    return problems
