"""Reads and writes of story clustering: the articles to assign, the open window, the assignments, and the
clusterer's snapshot between passes."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from newsmon.storage.arrow import TS
from newsmon.storage.schema import dict_rows, scalar
from newsmon.storage.transactions import registered, transaction
from newsmon.stories import (
    FUTURE_SLACK,
    STORY_ALGORITHM_VERSION,
    Assignment,
    ClusterSettings,
    StoryClusterer,
    StoryDoc,
    kept_ids,
    merge_renames,
    replayed_clock,
    settings_dict,
    split_moves,
)

_DOC_COLUMNS = "a.article_id, a.source, coalesce(a.title, ''), a.text, a.published_at"
# A stored report's date as the clusterer saw it when it was assigned (stories.as_of: no later than the pass's time
# plus FUTURE_SLACK), so a rebuild from the store replays what the pass did.
_SEEN_AT = f"least(a.published_at, s.assigned_at + INTERVAL {int(FUTURE_SLACK.total_seconds())} SECOND)"


def unassigned_articles(con: duckdb.DuckDBPyConnection, limit: int) -> list[StoryDoc]:
    """The `limit` oldest articles without a story (ties by id: the same store gives the same order)."""
    rows = con.execute(
        f"""
        SELECT {_DOC_COLUMNS} FROM articles a
        WHERE a.story_id IS NULL
        ORDER BY coalesce(a.published_at, a.fetched_at), a.article_id
        LIMIT ?
        """,
        [limit],
    ).fetchall()
    return [StoryDoc(*row) for row in rows]


def has_unassigned(con: duckdb.DuckDBPyConnection) -> bool:
    return unassigned_count(con) > 0


def unassigned_count(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT count(*) FROM articles WHERE story_id IS NULL").fetchall()[0][0])


def open_window(
    con: duckdb.DuckDBPyConnection, since: datetime, chunk: int = 1000
) -> Iterator[tuple[StoryDoc, Assignment]]:
    """Assigned articles of stories still open at `since`, in the order they were assigned (read in chunks:
    the window's texts are never all in memory; their evidence is not read, `restore` needs none)."""
    result = con.execute(
        f"""
        SELECT a.article_id, a.source, coalesce(a.title, ''), a.text, {_SEEN_AT}, s.story_id, s.duplicate_of, s.score
        FROM story_assignments s JOIN articles a USING (article_id)
        WHERE s.story_id IN (SELECT story_id FROM stories WHERE last_seen_at >= ? OR last_seen_at IS NULL)
        ORDER BY s.seq
        """,
        [since],
    )
    while rows := result.fetchmany(chunk):
        for row in rows:
            yield StoryDoc(*row[:5]), Assignment(row[0], row[5], row[6], row[7], {})


def window_start(con: duckdb.DuckDBPyConnection, settings: ClusterSettings) -> datetime:
    """Stories last seen before this have left the clusterer's index, as in an uninterrupted run: the clock the
    last `clock_live_arrivals` dated assignments give (replayed as the clusterer saw them) minus its `link_days`."""
    recent = con.execute(
        f"""
        SELECT a.source, {_SEEN_AT} FROM story_assignments s JOIN articles a USING (article_id)
        WHERE a.published_at IS NOT NULL ORDER BY s.seq DESC LIMIT ?
        """,
        [settings.clock_live_arrivals],
    ).fetchall()
    clock = replayed_clock(settings, reversed(recent))
    if clock is None:  # nothing dated yet: every story is open
        return datetime.min.replace(tzinfo=UTC)
    return clock - timedelta(days=settings.link_days)


def snapshot_path(db_path: Path | str) -> Path:
    return Path(f"{db_path}.stories")


def load_clusterer(
    con: duckdb.DuckDBPyConnection, db_path: Path | str, settings: ClusterSettings | None = None
) -> tuple[StoryClusterer, str]:
    """The clusterer that continues the stored assignments, and where it came from.

    Its snapshot when it was saved after the last stored assignment by the same algorithm and settings
    (the stream is deterministic, so that is exactly the state a rebuild would give); otherwise rebuilt by
    replaying the open window, which costs about 1 ms per article in it.
    """
    settings = settings or ClusterSettings()
    path = snapshot_path(db_path)
    key = _snapshot_key(con, settings)
    try:
        with path.open("rb") as fh:
            saved_key, clusterer = pickle.load(fh)  # our own file, written by save_clusterer
        if saved_key == key and isinstance(clusterer, StoryClusterer):
            return clusterer, "snapshot"
        reason = "snapshot outdated, rebuilt from the window"
    except FileNotFoundError:
        reason = "rebuilt from the window"
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        reason = "snapshot unreadable, rebuilt from the window"
    clusterer = StoryClusterer(settings)
    clusterer.restore(open_window(con, window_start(con, settings)))
    return clusterer, reason


def save_clusterer(con: duckdb.DuckDBPyConnection, db_path: Path | str, clusterer: StoryClusterer) -> None:
    """Snapshot the clusterer with the key of the store it continues (atomically: never a torn file)."""
    path = snapshot_path(db_path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        pickle.dump((_snapshot_key(con, clusterer.settings), clusterer), fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def _snapshot_key(con: duckdb.DuckDBPyConnection, settings: ClusterSettings) -> tuple[Any, ...]:
    # The number of assignments and the last one: a snapshot taken after that assignment continues this store.
    last = con.execute(
        "SELECT count(*), max(seq), arg_max(article_id, seq), arg_max(story_id, seq) FROM story_assignments"
    ).fetchall()[0]
    settings_json = json.dumps(settings_dict(settings), sort_keys=True)
    return STORY_ALGORITHM_VERSION, StoryClusterer.STATE_FORMAT, settings_json, tuple(last)


def write_assignments(
    con: duckdb.DuckDBPyConnection, assignments: Sequence[Assignment], *, now: datetime, algorithm_version: str
) -> dict[str, str]:
    """Record assignments, set articles.story_id / duplicate_of, carry out the splits they record (`split_stories`),
    refresh the touched stories, and carry out the young-story merges they record (`merge_stories`). Returns those
    merges' renames (merged id -> survivor's)."""
    if not assignments:
        return {}
    unique = {a.article_id: a for a in assignments}
    next_seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM story_assignments").fetchall()[0][0]
    table = pa.table(
        {
            "article_id": [a.article_id for a in unique.values()],
            "story_id": [a.story_id for a in unique.values()],
            "duplicate_of": [a.duplicate_of for a in unique.values()],
            "method": [str(a.evidence.get("method", "story")) for a in unique.values()],
            "score": [float(a.score) for a in unique.values()],
            "evidence": [json.dumps(a.evidence, ensure_ascii=False, sort_keys=True) for a in unique.values()],
            "assigned_at": pa.array([now] * len(unique), type=TS),
            "algorithm_version": [algorithm_version] * len(unique),
            "seq": list(range(next_seq, next_seq + len(unique))),
        }
    )
    with registered(con, {"batch_assignments": table}), transaction(con):
        con.execute(
            """
            INSERT INTO story_assignments BY NAME SELECT * FROM batch_assignments
            ON CONFLICT (article_id) DO UPDATE SET
                story_id = excluded.story_id, duplicate_of = excluded.duplicate_of, method = excluded.method,
                score = excluded.score, evidence = excluded.evidence, assigned_at = excluded.assigned_at,
                algorithm_version = excluded.algorithm_version, seq = excluded.seq
            """
        )
        con.execute(
            """
            UPDATE articles SET story_id = b.story_id, duplicate_of = b.duplicate_of
            FROM batch_assignments b WHERE articles.article_id = b.article_id
            """
        )
        split_stories(con, assignments, now=now, algorithm_version=algorithm_version)
        _refresh_stories(con, algorithm_version)
        sync_story_ids(con, "batch_assignments")
        return merge_stories(con, assignments, now=now, algorithm_version=algorithm_version)


def split_stories(
    con: duckdb.DuckDBPyConnection, assignments: Sequence[Assignment], *, now: datetime, algorithm_version: str
) -> None:
    """The splits the clusterer recorded (evidence "split"): the reports that left their story with the article move
    to the article's story (`story_assignments`, `articles`, their facts and quotes), the stories they left are
    refreshed, and each split is kept in `story_splits`. The alerts of the story they left stay its own. Call inside
    the writing transaction, after the batch's assignments and before its merges' renames."""
    splits = [(a, a.evidence["split"]) for a in assignments if "split" in a.evidence]
    if not splits:
        return
    moves = split_moves(assignments)
    table = pa.table({"article_id": list(moves), "story_id": list(moves.values())})
    record = pa.table(
        {
            "story_id": [a.story_id for a, _ in splits],
            "previous_story_id": [split["story_id"] for _, split in splits],
            "article_id": [a.article_id for a, _ in splits],
            "ratio": [float(split["ratio"]) for _, split in splits],
            "article_ids": [list(split["moved"]) for _, split in splits],
            "split_at": pa.array([now] * len(splits), type=TS),
            "algorithm_version": [algorithm_version] * len(splits),
        }
    )
    left = pa.table({"story_id": sorted({split["story_id"] for _, split in splits})})
    with registered(con, {"split_moves": table, "split_record": record, "split_left": left}):
        for name in ("story_assignments", "articles"):
            con.execute(
                f"UPDATE {name} SET story_id = m.story_id FROM split_moves m WHERE {name}.article_id = m.article_id"
            )
        sync_story_ids(con, "split_moves")
        con.execute("INSERT INTO story_splits BY NAME SELECT * FROM split_record")
        _refresh_stories(con, algorithm_version, "split_left")


def merge_stories(
    con: duckdb.DuckDBPyConnection, assignments: Sequence[Assignment], *, now: datetime, algorithm_version: str
) -> dict[str, str]:
    """The young-story merges the clusterer recorded (evidence "merged"): each merged story is renamed to the one it
    joined everywhere it is named (`rename_stories`, as `recluster` keeps ids), its alerts included, so an alert
    already sent for either story is the surviving story's and is not sent again; each merge is kept in
    `story_merges` with the reports it moved. Call inside the writing transaction."""
    renames = merge_renames(assignments)
    if not renames:
        return {}
    moved = dict(
        con.execute(
            "SELECT story_id, list(article_id ORDER BY article_id) FROM articles "
            "WHERE story_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY story_id",
            [sorted(renames)],
        ).fetchall()
    )
    merges = [
        (renames.get(a.story_id, a.story_id), m["story_id"], a.article_id, float(m["score"]))
        for a in assignments
        for m in a.evidence.get("merged", ())
    ]
    table = pa.table(
        {
            "story_id": [m[0] for m in merges],
            "previous_story_id": [m[1] for m in merges],
            "article_id": [m[2] for m in merges],
            "score": [m[3] for m in merges],
            "article_ids": [list(moved.get(m[1], [])) for m in merges],
            "merged_at": pa.array([now] * len(merges), type=TS),
            "algorithm_version": [algorithm_version] * len(merges),
        }
    )
    with registered(con, {"batch_merges": table}):
        con.execute("INSERT INTO story_merges BY NAME SELECT * FROM batch_merges")
    rename_stories(con, renames)
    _move_alerts(con, renames)
    return renames


def _move_alerts(con: duckdb.DuckDBPyConnection, renames: dict[str, str]) -> None:
    """A merged story's alerts become the surviving story's, rule by rule, where the survivor has none of that rule
    (of several merged stories, the one alerted first): the survivor's next alert of the rule is then a follow-up,
    never a second first alert. Where the survivor has alerts of the rule too (both stories were alerted before
    they merged), the merged story's keep its id (`story_merges` maps it to the survivor): an alert's story and
    revision are unique per rule, and both were sent."""
    rows = con.execute(
        "SELECT alert_id, rule, story_id, created_at FROM alerts WHERE story_id IN (SELECT unnest(?::VARCHAR[]))",
        [sorted({*renames, *renames.values()})],
    ).fetchall()
    taken = {(rule, story) for _, rule, story, _ in rows if story not in renames}
    first: dict[tuple[str, str], tuple[object, str]] = {}  # (rule, survivor) -> the merged story alerted first
    for _, rule, story, created in rows:
        if story in renames and (rule, renames[story]) not in taken:
            key = (rule, renames[story])
            first[key] = min(first.get(key, (created, story)), (created, story))
    moves = [(renames[story], alert_id) for alert_id, rule, story, _ in rows
             if story in renames and first.get((rule, renames[story]), (None, None))[1] == story]
    if moves:
        table = pa.table({"new": [m[0] for m in moves], "alert_id": [m[1] for m in moves]})
        with registered(con, {"moved_alerts": table}):
            con.execute("UPDATE alerts SET story_id = m.new FROM moved_alerts m WHERE alerts.alert_id = m.alert_id")


def _refresh_stories(
    con: duckdb.DuckDBPyConnection, algorithm_version: str, touched: str = "batch_assignments"
) -> None:
    """Recompute the `stories` rows of the story ids listed in relation `touched` (column `story_id`)."""
    # Recomputed from the articles, so the aggregates can never drift from what they summarise.
    con.execute(
        f"""
        INSERT OR REPLACE INTO stories
        SELECT a.story_id,
               arg_min(a.title, (coalesce(a.published_at, a.fetched_at), a.article_id)) AS title,
               min(coalesce(a.published_at, a.fetched_at)) AS first_seen_at,
               max(coalesce(a.published_at, a.fetched_at)) AS last_seen_at,
               count(*) AS article_count,
               count(DISTINCT a.source) AS source_count,
               ? AS algorithm_version
        FROM articles a
        WHERE a.story_id IN (SELECT DISTINCT story_id FROM {touched})
        GROUP BY a.story_id
        """,
        [algorithm_version],
    )


def stories_by_id(con: duckdb.DuckDBPyConnection, story_ids: Sequence[str]) -> list[dict[str, object]]:
    if not story_ids:
        return []
    return dict_rows(
        con,
        """
        SELECT story_id, title, article_count, source_count,
               strftime(first_seen_at, '%Y-%m-%dT%H:%M:%SZ') AS first_seen_at
        FROM stories
        WHERE story_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY 5, story_id
        """,
        [list(story_ids)],
    )


def sync_story_ids(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    """Copy articles.story_id onto the facts and quotes of the articles listed in `relation`."""
    for table in ("facts", "quotes"):
        con.execute(
            f"""
            UPDATE {table} SET story_id = a.story_id FROM articles a
            WHERE {table}.article_id = a.article_id AND a.article_id IN (SELECT article_id FROM {relation})
            """
        )


def clear_stories(con: duckdb.DuckDBPyConnection, db_path: Path | str) -> None:
    """Forget every assignment (before `recluster` rebuilds them)."""
    snapshot_path(db_path).unlink(missing_ok=True)
    with transaction(con):
        # The ids from before the first of possibly several attempts: an interrupted recluster leaves them.
        if not scalar(con, "SELECT count(*) FROM story_previous_ids"):
            con.execute(
                "INSERT INTO story_previous_ids SELECT article_id, story_id FROM articles WHERE story_id IS NOT NULL"
            )
        con.execute("DELETE FROM story_assignments")
        con.execute("DELETE FROM stories")
        con.execute("UPDATE articles SET story_id = NULL, duplicate_of = NULL WHERE story_id IS NOT NULL")
        for table in ("facts", "quotes"):
            con.execute(f"UPDATE {table} SET story_id = NULL")
        con.execute("DELETE FROM story_facts")
        con.execute("DELETE FROM story_quotes")
        con.execute("DELETE FROM story_merges")  # the rebuild replays the merges and the splits
        con.execute("DELETE FROM story_splits")



def keep_previous_story_ids(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """After a recluster: give each rebuilt story the id most of its articles had before it (stories.kept_ids),
    so alerts follow the same story ids; then forget the previous ids. Returns the renames (rebuilt -> kept)."""
    overlaps = con.execute(
        """
        SELECT a.story_id, p.story_id, count(*) FROM articles a JOIN story_previous_ids p USING (article_id)
        WHERE a.story_id IS NOT NULL GROUP BY ALL
        """
    ).fetchall()

    def members(story_ids: list[str]) -> dict[str, list[str]]:
        rows = con.execute(
            "SELECT story_id, list(article_id ORDER BY article_id) FROM articles "
            "WHERE story_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY story_id",
            [story_ids],
        ).fetchall()
        return {story_id: list(articles) for story_id, articles in rows}

    renames = kept_ids(overlaps, members)
    with transaction(con):
        if renames:
            rename_stories(con, renames)
        con.execute("DELETE FROM story_previous_ids")
    return renames


def rename_stories(con: duckdb.DuckDBPyConnection, renames: dict[str, str]) -> None:
    """Rename stories everywhere they are named (call inside a transaction): assignments and their evidence
    (`best_story`, `continues.story_id`, `split.story_id`), articles, facts, quotes, merges and splits, and the
    `stories` rows."""
    table = pa.table({"old": list(renames), "new": list(renames.values())})
    with registered(con, {"story_renames": table}):
        for name in ("story_assignments", "articles", "facts", "quotes", "story_facts", "story_quotes", "story_merges",
                     "story_splits"):
            con.execute(f"UPDATE {name} SET story_id = r.new FROM story_renames r WHERE {name}.story_id = r.old")
        con.execute(
            "UPDATE story_splits SET previous_story_id = r.new FROM story_renames r "
            "WHERE story_splits.previous_story_id = r.old"
        )
        # Evidence is written by json.dumps(sort_keys=True): each key appears once, as '"key": "value"'.
        for key, path in (("story_id", "$.continues.story_id"), ("story_id", "$.split.story_id"),
                          ("best_story", "$.best_story")):
            con.execute(
                f"""
                UPDATE story_assignments
                SET evidence = replace(evidence::VARCHAR, '"{key}": ' || to_json(r.old), '"{key}": ' || to_json(r.new))
                FROM story_renames r WHERE json_extract_string(evidence, '{path}') = r.old
                """
            )
        con.execute("DELETE FROM stories WHERE story_id IN (SELECT old FROM story_renames)")
        _refresh_stories(con, STORY_ALGORITHM_VERSION, "(SELECT new AS story_id FROM story_renames)")
