"""Reads and writes of alerting: rules, the alert_candidates view, the outbox (alerts + alert_deliveries).

The outbox is written in the transaction that decides to alert; delivery then claims rows ('sending', an
attempt counted, a lease) in a short transaction of its own, sends with no connection open, and records
the outcome in another, so a slow receiver never holds the database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from newsmon.model import FactView, OutboxAlert, PreviousAlert, Rule, StoryView
from newsmon.storage.arrow import TS
from newsmon.storage.schema import columns_and_rows, scalar
from newsmon.storage.transactions import registered, transaction

_RULE_COLUMNS = "name, keywords, entity, fact, sql, channels, follow_up_sources, enabled, origin"


@dataclass(frozen=True)
class StoredRule:
    rule: Rule
    created_at: datetime
    evaluated_until: datetime | None
    facts_evaluated_until: datetime | None = None


# --- rules ---------------------------------------------------------------------------------------


def _rule(row: Sequence[Any]) -> Rule:
    name, keywords, entity, fact, sql, channels, follow, enabled, origin = row
    return Rule(name, tuple(channels), keywords, entity, fact, sql, follow, enabled, origin)


def load_rules(con: duckdb.DuckDBPyConnection, *, enabled_only: bool = False) -> list[StoredRule]:
    where = "WHERE enabled" if enabled_only else ""
    rows = con.execute(
        f"SELECT {_RULE_COLUMNS}, created_at, evaluated_until, facts_evaluated_until FROM alert_rules {where} "
        "ORDER BY name"
    ).fetchall()
    return [StoredRule(_rule(r[:9]), r[9], r[10], r[11]) for r in rows]


def alert_states(con: duckdb.DuckDBPyConnection, rule: str) -> dict[str, tuple[int, str]]:
    """story_id -> (latest revision alerted, its status) for one rule."""
    rows = con.execute(
        "SELECT story_id, max(revision), arg_max(status, revision) FROM alerts WHERE rule = ? GROUP BY 1", [rule]
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def get_rule(con: duckdb.DuckDBPyConnection, name: str) -> StoredRule | None:
    return next((r for r in load_rules(con) if r.rule.name == name), None)


def assignment_high_water(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The latest story assignment: evaluation has seen every story touched up to here."""
    return scalar(con, "SELECT max(assigned_at) FROM story_assignments")  # type: ignore[return-value]


def facts_high_water(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The latest merge of a story's facts: evaluation has seen every story's facts up to here."""
    return scalar(con, "SELECT max(updated_at) FROM story_facts")  # type: ignore[return-value]


def _rule_values(rule: Rule) -> list[Any]:
    return [rule.name, rule.keywords, rule.entity, rule.fact, rule.sql, list(rule.channels),
            rule.follow_up_sources, rule.enabled, rule.origin]


def save_rules(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[Rule],
    *,
    now: datetime,
    prune_origin: str | None = None,
) -> dict[str, list[str]]:
    """Insert new rules and update changed ones by name (one transaction); with `prune_origin`, remove the
    rules that came from that origin (a TOML file) and are no longer in it.

    A new rule starts from now: it alerts on stories that change from here on, not on the stored past
    (`alerts test` shows that). An updated rule keeps its start and its evaluation watermark.
    """
    outcome: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": [], "removed": []}
    with transaction(con):
        existing = {r.rule.name: r for r in load_rules(con)}
        start = assignment_high_water(con) or now
        for rule in rules:
            old = existing.get(rule.name)
            if old is None:
                con.execute(
                    f"INSERT INTO alert_rules ({_RULE_COLUMNS}, created_at, updated_at, evaluated_until) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [*_rule_values(rule), now, now, max(start, now)],
                )
                outcome["added"].append(rule.name)
            elif old.rule.same_as(rule) and old.rule.origin == rule.origin:
                outcome["unchanged"].append(rule.name)
            else:
                con.execute(
                    "UPDATE alert_rules SET keywords = ?, entity = ?, fact = ?, sql = ?, channels = ?, "
                    "follow_up_sources = ?, enabled = ?, origin = ?, updated_at = ? WHERE name = ?",
                    [*_rule_values(rule)[1:], now, rule.name],
                )
                outcome["updated"].append(rule.name)
        if prune_origin is not None:
            keep = {r.name for r in rules}
            for name, old in existing.items():
                if old.rule.origin == prune_origin and name not in keep:
                    _delete_rule(con, name)
                    outcome["removed"].append(name)
    return outcome


def remove_rule(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    with transaction(con):
        if not scalar(con, "SELECT count(*) FROM alert_rules WHERE name = ?", [name]):
            return False
        _delete_rule(con, name)
    return True


def _delete_rule(con: duckdb.DuckDBPyConnection, name: str) -> None:
    # Its alerts stay as history; what it has not delivered yet is cancelled (a rule is often removed
    # because it is too noisy).
    con.execute("DELETE FROM alert_rules WHERE name = ?", [name])
    ids = [r[0] for r in con.execute("SELECT alert_id FROM alerts WHERE rule = ?", [name]).fetchall()]
    con.execute(
        "UPDATE alert_deliveries SET status = 'cancelled', next_attempt_at = NULL "
        "WHERE status IN ('pending', 'failed') AND alert_id IN (SELECT unnest(?::VARCHAR[]))",
        [ids],
    )
    refresh_alert_status(con, ids)


def set_watermark(
    con: duckdb.DuckDBPyConnection, names: Sequence[str], until: datetime, facts_until: datetime | None
) -> None:
    con.execute(
        "UPDATE alert_rules SET evaluated_until = ?, facts_evaluated_until = coalesce(?, facts_evaluated_until) "
        "WHERE name IN (SELECT unnest(?::VARCHAR[]))",
        [until, facts_until, list(names)],
    )


# --- candidates ----------------------------------------------------------------------------------


def touched_stories(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime) -> set[str]:
    """Stories given an article (or re-assigned) after `since`, up to `until`."""
    return _stories_changed(con, "story_assignments", "assigned_at", since, until)


def stories_with_facts_since(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime) -> set[str]:
    """Stories whose merged facts were written after `since` (all with facts if None), up to `until`."""
    return _stories_changed(con, "story_facts", "updated_at", since, until)


def _stories_changed(
    con: duckdb.DuckDBPyConnection, table: str, column: str, since: datetime | None, until: datetime
) -> set[str]:
    """Stories with a row of `table` whose `column` is after `since` (any, if None) and at most `until`."""
    rows = con.execute(
        f"SELECT DISTINCT story_id FROM {table} WHERE {column} <= ? AND (? IS NULL OR {column} > ?)",
        [until, since, since],
    ).fetchall()
    return {r[0] for r in rows}


def recently_alerted(con: duckdb.DuckDBPyConnection, since: datetime) -> dict[str, set[str]]:
    rows = con.execute("SELECT DISTINCT rule, story_id FROM alerts WHERE created_at >= ?", [since]).fetchall()
    out: dict[str, set[str]] = defaultdict(set)
    for rule, story in rows:
        out[rule].add(story)
    return out


def story_ids(con: duckdb.DuckDBPyConnection, since: datetime | None = None) -> list[str]:
    """Every story (or those seen since), newest first."""
    rows = con.execute(
        "SELECT story_id FROM stories WHERE ? IS NULL OR last_seen_at >= ? "
        "ORDER BY last_seen_at DESC NULLS LAST, story_id",
        [since, since],
    ).fetchall()
    return [r[0] for r in rows]


@contextmanager
def _wanted(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> Iterator[str]:
    """Story ids as a registered Arrow table, for set-based joins."""
    with registered(con, {"alert_wanted": pa.table({"story_id": pa.array(sorted(set(ids)), type=pa.string())})}):
        yield "alert_wanted"


def candidates_arrow(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> pa.Table:
    with _wanted(con, ids) as wanted:
        return con.sql(
            f"SELECT * FROM alert_candidates WHERE story_id IN (SELECT story_id FROM {wanted}) ORDER BY story_id"
        ).to_arrow_table()


def story_views(table: pa.Table) -> list[StoryView]:
    views = []
    for row in table.to_pylist():
        names: dict[str, str] = {}
        for pair in row["source_outlets"] or []:
            names.setdefault(pair["source"], pair["outlet"] or pair["source"])
        views.append(
            StoryView(
                story_id=row["story_id"], title=row["title"], first_seen_at=row["first_seen_at"],
                last_seen_at=row["last_seen_at"], article_count=row["article_count"],
                source_count=row["source_count"], sources=tuple(row["sources"] or ()), outlet_names=names,
                urls=tuple(u for u in row["urls"] or () if u), text=row["text"] or "",
                last_fetched_at=row["last_fetched_at"],
            )
        )
    return views


def story_facts(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[str, list[FactView]]:
    """story_facts rows of the stories."""
    with _wanted(con, ids) as wanted:
        rows = con.execute(
            "SELECT story_id, kind, value, unit, subject, period, source_count FROM story_facts "
            f"WHERE story_id IN (SELECT story_id FROM {wanted}) AND value IS NOT NULL"
        ).fetchall()
    out: dict[str, list[FactView]] = defaultdict(list)
    for story, kind, value, unit_, subject, period, sources in rows:
        out[story].append(
            FactView(str(kind), float(value), unit_, subject, None if period is None else str(period), sources)
        )
    return out


def story_entities(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[str, list[str]]:
    with _wanted(con, ids) as wanted:
        rows = con.execute(
            f"""
            SELECT DISTINCT a.story_id, e.name
            FROM mentions m JOIN entities e ON e.entity_id = m.entity_id JOIN articles a ON a.article_id = m.article_id
            WHERE a.story_id IN (SELECT story_id FROM {wanted}) AND e.name IS NOT NULL
            """
        ).fetchall()
    out: dict[str, list[str]] = defaultdict(list)
    for story, name in rows:
        out[story].append(name)
    return out


def candidates_schema(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The alert_candidates view with no rows: what a SQL rule's predicate is checked against."""
    return con.sql("SELECT * FROM alert_candidates LIMIT 0").to_arrow_table()


# --- the outbox -----------------------------------------------------------------------------------


def latest_alerts(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[tuple[str, str], PreviousAlert]:
    with _wanted(con, ids) as wanted:
        rows = con.execute(
            f"""
            SELECT rule, story_id, revision, source_hosts, fact_keys FROM alerts
            WHERE story_id IN (SELECT story_id FROM {wanted})
            QUALIFY row_number() OVER (PARTITION BY rule, story_id ORDER BY revision DESC) = 1
            """
        ).fetchall()
    return {(r[0], r[1]): PreviousAlert(r[2], tuple(r[3]), tuple(r[4])) for r in rows}


def write_alerts(con: duckdb.DuckDBPyConnection, alerts: Sequence[OutboxAlert], *, now: datetime) -> list[str]:
    """Outbox rows (each alert and its deliveries); returns the ids actually inserted. Call inside the
    evaluating transaction."""
    if not alerts:
        return []
    unique = list({a.alert_id: a for a in alerts}.values())  # a batch never holds one alert twice
    table = pa.table(
        {
            "alert_id": [a.alert_id for a in unique],
            "rule": [a.rule for a in unique],
            "story_id": [a.story_id for a in unique],
            "revision": pa.array([a.revision for a in unique], type=pa.int32()),
            "created_at": pa.array([now] * len(unique), type=TS),
            "title": [a.title for a in unique],
            "source_hosts": [list(a.source_hosts) for a in unique],
            "fact_keys": pa.array([list(a.fact_keys) for a in unique], type=pa.list_(pa.string())),
            "changes": [a.changes for a in unique],
            "payload": [json.dumps(a.payload, ensure_ascii=False, sort_keys=True) for a in unique],
            "status": ["pending"] * len(unique),
            "attempts": pa.array([0] * len(unique), type=pa.int32()),
            "next_attempt_at": pa.array([now] * len(unique), type=TS),
        }
    )
    rows = [(a.alert_id, d) for a in unique for d in a.deliveries]
    deliveries = pa.table(
        {
            "delivery_id": [d.delivery_id for _, d in rows],
            "alert_id": [a for a, _ in rows],
            "channel": [d.channel for _, d in rows],
            "kind": [d.kind for _, d in rows],
            "status": ["pending"] * len(rows),
            "attempts": pa.array([0] * len(rows), type=pa.int32()),
            "next_attempt_at": pa.array([now] * len(rows), type=TS),
        }
    )
    with registered(con, {"batch_alerts": table, "batch_alert_deliveries": deliveries}):
        inserted = [
            r[0]
            for r in con.execute(
                "INSERT INTO alerts BY NAME SELECT * FROM batch_alerts ON CONFLICT DO NOTHING RETURNING alert_id"
            ).fetchall()
        ]
        con.execute(
            "INSERT INTO alert_deliveries BY NAME SELECT * FROM batch_alert_deliveries "
            "WHERE alert_id IN (SELECT unnest(?::VARCHAR[])) ON CONFLICT DO NOTHING",
            [inserted],
        )
    return inserted


@dataclass(frozen=True)
class Claim:
    delivery_id: str  # also the idempotency key
    alert_id: str
    channel: str
    kind: str
    attempts: int  # including this one
    payload: dict[str, Any]


def claim_deliveries(
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime,
    lease_until: datetime,
    pass_started: datetime,
    ignore_backoff: bool,
    limit: int,
) -> list[Claim]:
    """Mark up to `limit` due deliveries 'sending' (one more attempt, leased) and return them.

    Due: pending and past its backoff (any pending one with `ignore_backoff`, failed ones too); or
    'sending' with an expired lease, i.e. its pass died between sending and recording. Deliveries this
    pass already tried are left alone.
    """
    with transaction(con):
        rows = con.execute(
            """
            UPDATE alert_deliveries
            SET status = 'sending', attempts = attempts + 1, lease_until = $lease, last_attempt_at = $now
            WHERE delivery_id IN (
                SELECT delivery_id FROM alert_deliveries
                WHERE (last_attempt_at IS NULL OR last_attempt_at < $pass_started)
                  AND ((status = 'pending' AND ($ignore OR next_attempt_at IS NULL OR next_attempt_at <= $now))
                       OR (status = 'sending' AND lease_until < $now)
                       OR ($ignore AND status = 'failed'))
                ORDER BY coalesce(next_attempt_at, last_attempt_at), delivery_id
                LIMIT $limit
            )
            RETURNING delivery_id, alert_id, channel, kind, attempts
            """,
            {"lease": lease_until, "now": now, "pass_started": pass_started, "ignore": ignore_backoff,
             "limit": limit},
        ).fetchall()
        ids = sorted({r[1] for r in rows})
        payloads = dict(
            con.execute(
                "SELECT alert_id, payload FROM alerts WHERE alert_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
            ).fetchall()
        )
        refresh_alert_status(con, ids)
    return [Claim(r[0], r[1], r[2], r[3], r[4], json.loads(payloads[r[1]])) for r in rows]


@dataclass(frozen=True)
class Outcome:
    delivery_id: str
    alert_id: str
    attempts: int
    ok: bool
    failed: bool  # given up: a permanent error, or the last attempt
    error: str | None
    next_attempt_at: datetime | None


def record_outcomes(con: duckdb.DuckDBPyConnection, outcomes: Sequence[Outcome], *, now: datetime) -> None:
    if not outcomes:
        return
    table = pa.table(
        {
            "delivery_id": [o.delivery_id for o in outcomes],
            "attempts": pa.array([o.attempts for o in outcomes], type=pa.int32()),
            "ok": [o.ok for o in outcomes],
            "failed": [o.failed for o in outcomes],
            "error": pa.array([o.error for o in outcomes], type=pa.string()),
            "next_attempt_at": pa.array([o.next_attempt_at for o in outcomes], type=TS),
        }
    )
    with registered(con, {"batch_outcomes": table}), transaction(con):
        # A success always counts; a failure only while the claim is still ours (same attempt), so a
        # pass that outlived its lease cannot overwrite the pass that took over.
        con.execute(
            """
            UPDATE alert_deliveries SET
                status = CASE WHEN b.ok THEN 'sent' WHEN b.failed THEN 'failed' ELSE 'pending' END,
                sent_at = CASE WHEN b.ok THEN coalesce(alert_deliveries.sent_at, $now) END,
                last_error = coalesce(b.error, alert_deliveries.last_error),
                next_attempt_at = CASE WHEN b.ok OR b.failed THEN NULL ELSE b.next_attempt_at END,
                lease_until = NULL
            FROM batch_outcomes b
            WHERE alert_deliveries.delivery_id = b.delivery_id
              AND (b.ok OR (alert_deliveries.status = 'sending' AND alert_deliveries.attempts = b.attempts))
            """,
            {"now": now},
        )
        refresh_alert_status(con, sorted({o.alert_id for o in outcomes}))


def refresh_alert_status(con: duckdb.DuckDBPyConnection, alert_ids: Sequence[str]) -> None:
    """The alerts row summarises its deliveries: sending > pending > failed > sent > cancelled."""
    if not alert_ids:
        return
    con.execute(
        """
        UPDATE alerts SET status = agg.status, attempts = agg.attempts, last_error = agg.last_error,
                          next_attempt_at = agg.next_attempt_at, sent_at = agg.sent_at
        FROM (
            SELECT alert_id,
                   CASE WHEN bool_or(status = 'sending') THEN 'sending'
                        WHEN bool_or(status = 'pending') THEN 'pending'
                        WHEN bool_or(status = 'failed') THEN 'failed'
                        WHEN bool_and(status = 'sent') THEN 'sent'
                        ELSE 'cancelled' END AS status,
                   max(attempts) AS attempts,
                   arg_max(kind || ': ' || last_error, last_attempt_at) FILTER (WHERE last_error IS NOT NULL)
                       AS last_error,
                   min(next_attempt_at) FILTER (WHERE status = 'pending') AS next_attempt_at,
                   CASE WHEN bool_and(status = 'sent') THEN max(sent_at) END AS sent_at
            FROM alert_deliveries
            WHERE alert_id IN (SELECT unnest(?::VARCHAR[]))
            GROUP BY alert_id
        ) agg
        WHERE alerts.alert_id = agg.alert_id
        """,
        [list(alert_ids)],
    )


# --- listings ------------------------------------------------------------------------------------

_RULES_SQL = """
SELECT r.name, r.enabled,
       concat_ws(' AND ', 'keywords: ' || r.keywords, 'entity: ' || r.entity, 'fact: ' || r.fact,
                 'sql: ' || r.sql) AS conditions,
       r.channels, r.follow_up_sources, r.origin,
       count(a.alert_id) AS alerts,
       count(a.alert_id) FILTER (WHERE a.status = 'sent') AS sent,
       count(a.alert_id) FILTER (WHERE a.status IN ('pending', 'sending')) AS pending,
       count(a.alert_id) FILTER (WHERE a.status = 'failed') AS failed,
       max(a.created_at) AS last_alert_at
FROM alert_rules r LEFT JOIN alerts a ON a.rule = r.name
GROUP BY ALL
ORDER BY r.name
"""

_OUTBOX_SQL = """
SELECT a.created_at, a.rule, a.revision, a.title, d.kind, d.channel, d.status, d.attempts, d.last_error,
       d.next_attempt_at, d.sent_at, d.delivery_id AS idempotency_key
FROM alert_deliveries d JOIN alerts a USING (alert_id)
WHERE ($all OR d.status <> 'sent' OR a.created_at >= $recent)
  AND ($rule IS NULL OR a.rule = $rule)
ORDER BY a.created_at DESC, a.rule, a.story_id, a.revision, d.kind, d.channel
LIMIT $limit
"""

_OUTBOX_COUNTS_SQL = "SELECT status, count(*) FROM alert_deliveries GROUP BY status ORDER BY status"


def rule_list(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[list[Any]]]:
    """(columns, rows) of every rule with its alert counts and delivery state (`newsmon alerts list`)."""
    columns, rows = columns_and_rows(con, _RULES_SQL)
    return columns, [list(r) for r in rows]


def outbox_list(
    con: duckdb.DuckDBPyConnection, *, show_all: bool, recent: datetime | None, rule: str | None, limit: int
) -> tuple[list[str], list[list[Any]]]:
    """(columns, rows) of the outbox: each alert's delivery per channel (`newsmon alerts status`)."""
    params = {"all": show_all, "recent": recent, "rule": rule, "limit": limit}
    columns, rows = columns_and_rows(con, _OUTBOX_SQL, params)
    return columns, [list(r) for r in rows]


def outbox_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Deliveries per status."""
    return [(str(s), int(n)) for s, n in con.execute(_OUTBOX_COUNTS_SQL).fetchall()]


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
