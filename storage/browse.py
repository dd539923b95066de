"""Read queries of the story browser (`newsmon ui`): stories, a story with its provenance, articles, entities,
feed health and alerts, each as plain JSON-ready rows. Read-only: every function takes a connection the caller
opened read-only (storage.db.open_reader) and closes right after.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from newsmon.extract.facts import normalize_quote
from newsmon.storage.alerts import outbox_list, rule_list
from newsmon.storage.schema import as_dicts, dict_rows

Row = dict[str, Any]

# The outlet's name as the UI and `newsmon stories` show it: the feed's title, else the host.
_OUTLET = "coalesce(f.title, a.source)"
_REPORTED_AT = "coalesce(a.published_at, a.fetched_at)"


# --- stories ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoryFilters:
    """What the stories page filters on; None means no filter."""

    since: datetime | None = None
    until: datetime | None = None
    outlet: str | None = None
    entity: str | None = None  # an entity_id, or part of an entity's name (accents and case ignored)
    keyword: str | None = None  # in an article's title or text (accents and case ignored)
    min_outlets: int = 1


STORIES_SQL = f"""
WITH page AS (
    -- The page of stories first, on the stories table alone; only its reports are read after.
    SELECT s.* FROM stories s
    WHERE ($since IS NULL OR s.last_seen_at >= $since)
      AND ($until IS NULL OR s.first_seen_at < $until)
      AND s.source_count >= $min_outlets
      AND ($outlet IS NULL OR s.story_id IN (
            SELECT a.story_id FROM articles a LEFT JOIN feeds f ON f.url = a.feed_url
            WHERE {_OUTLET} = $outlet OR a.source = $outlet))
      AND ($entity IS NULL OR s.story_id IN (
            SELECT a.story_id FROM mentions m JOIN entities e USING (entity_id) JOIN articles a USING (article_id)
            WHERE e.entity_id = $entity
               OR strip_accents(lower(e.name)) LIKE '%' || strip_accents(lower($entity)) || '%'))
      AND ($keyword IS NULL OR s.story_id IN (
            SELECT a.story_id FROM articles a
            WHERE ($since IS NULL OR {_REPORTED_AT} >= $since)
              AND strip_accents(lower(concat_ws(' ', a.title, a.text)))
                  LIKE '%' || strip_accents(lower($keyword)) || '%'))
    ORDER BY s.last_seen_at DESC, s.story_id
    LIMIT $limit OFFSET $offset
)
SELECT p.story_id, p.title, p.first_seen_at, p.last_seen_at, p.article_count, p.source_count,
       list(DISTINCT {_OUTLET} ORDER BY {_OUTLET}) AS outlets,
       list({_REPORTED_AT} ORDER BY {_REPORTED_AT}) AS report_times
FROM page p JOIN articles a ON a.story_id = p.story_id LEFT JOIN feeds f ON f.url = a.feed_url
GROUP BY ALL
ORDER BY p.last_seen_at DESC, p.story_id
"""


def list_stories(con: duckdb.DuckDBPyConnection, filters: StoryFilters, *, limit: int, offset: int = 0) -> list[Row]:
    """The latest stories first, with their outlets and the time of each report (for a small timeline)."""
    params = {
        "since": filters.since, "until": filters.until, "outlet": filters.outlet, "entity": filters.entity,
        "keyword": filters.keyword, "min_outlets": filters.min_outlets, "limit": limit, "offset": offset,
    }
    return dict_rows(con, STORIES_SQL, params)


def outlets(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every outlet that has an article in a story, by name (for the outlet filter)."""
    sql = f"""SELECT DISTINCT {_OUTLET} AS outlet FROM articles a LEFT JOIN feeds f ON f.url = a.feed_url
              WHERE a.story_id IS NOT NULL ORDER BY 1"""
    return [r["outlet"] for r in dict_rows(con, sql)]


# --- one story -------------------------------------------------------------------------------------


def story(con: duckdb.DuckDBPyConnection, story_id: str) -> Row | None:
    """A story with its reports (near-duplicates folded under their first copy, each with the evidence that
    grouped it), its facts and quotes with the sentences that state them, and its entities."""
    found = dict_rows(con, "SELECT * FROM stories WHERE story_id = ?", [story_id])
    if not found:
        return None
    out = found[0]
    reports = _reports(con, story_id)
    root_of = {r["article_id"]: r["duplicate_of"] or r["article_id"] for r in reports}
    outlet_of = {r["article_id"]: r["outlet"] for r in reports}
    out["outlets"] = sorted({r["outlet"] for r in reports})
    out["reports"] = _fold_duplicates(reports)
    statements = dict_rows(
        con,
        """SELECT f.article_id, f.kind, f.unit, f.qualifier, f.surface, f.start_char, f.end_char, f.sentence,
                   f.sentence_start
            FROM facts f WHERE f.article_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY f.article_id, f.start_char""",
        [sorted(set(root_of.values()))],
    )
    out["facts"] = [
        {**fact, "statements": _fact_statements(fact, statements, root_of, outlet_of)}
        for fact in dict_rows(
            con,
            """SELECT kind, value, unit, subject, period, change, source_count, disagreement, article_ids, surfaces
               FROM story_facts WHERE story_id = ?
               ORDER BY source_count DESC, disagreement DESC, kind, value""",
            [story_id],
        )
    ]
    out["quotes"] = _quotes(con, story_id, root_of, outlet_of)
    out["entities"] = dict_rows(
        con,
        """SELECT e.entity_id, e.name, e.kind, count(DISTINCT m.article_id) AS articles, count(*) AS mentions
           FROM mentions m JOIN entities e USING (entity_id) JOIN articles a USING (article_id)
           WHERE a.story_id = ? GROUP BY ALL ORDER BY articles DESC, mentions DESC, e.name""",
        [story_id],
    )
    return out


def _reports(con: duckdb.DuckDBPyConnection, story_id: str) -> list[Row]:
    rows = dict_rows(
        con,
        f"""SELECT a.article_id, a.title, {_OUTLET} AS outlet, a.source, a.canonical_url AS url,
                   {_REPORTED_AT} AS reported_at, a.duplicate_of, sa.method, sa.score, sa.evidence
            FROM articles a LEFT JOIN feeds f ON f.url = a.feed_url
            LEFT JOIN story_assignments sa USING (article_id)
            WHERE a.story_id = ? ORDER BY reported_at, a.article_id""",
        [story_id],
    )
    for row in rows:
        row["evidence"] = json.loads(row["evidence"]) if row["evidence"] else {}
    return rows


def _fold_duplicates(reports: list[Row]) -> list[Row]:
    """First copies in time order, each with its near-identical copies (wire copies, re-posts) under it."""
    copies: dict[str, list[Row]] = defaultdict(list)
    for r in reports:
        if r["duplicate_of"]:
            copies[r["duplicate_of"]].append(r)
    roots = [r for r in reports if not r["duplicate_of"]]
    known = {r["article_id"] for r in roots}
    # A copy whose first copy is in another story (moved by a recluster) is shown as a report of its own.
    roots += [c for root, cs in copies.items() if root not in known for c in cs]
    roots.sort(key=lambda r: (r["reported_at"] is None, r["reported_at"], r["article_id"]))
    return [{**r, "copies": copies.get(r["article_id"], [])} for r in roots]


def _fact_statements(fact: Row, statements: list[Row], root_of: dict[str, str], outlet_of: dict[str, str]) -> list[Row]:
    """Where each source states a merged fact: its sentence in the article the facts were read from (a copy
    states the facts of its first copy). story_facts keeps article ids and surfaces, not spans, so the span
    is found again by kind, unit and how it was written."""
    surfaces = set(fact["surfaces"])
    out = []
    for article_id in fact["article_ids"]:
        root = root_of.get(article_id, article_id)
        match = next(
            (
                s for s in statements
                if s["article_id"] == root and s["kind"] == fact["kind"] and s["unit"] == fact["unit"]
                and (s["surface"] in surfaces or f"{s['qualifier']} {s['surface']}" in surfaces)
            ),
            None,
        )
        if match:
            out.append({**match, "outlet": outlet_of.get(article_id), "reported_by": article_id})
    return out


def _quotes(
    con: duckdb.DuckDBPyConnection, story_id: str, root_of: dict[str, str], outlet_of: dict[str, str]
) -> list[Row]:
    merged = dict_rows(
        con,
        """SELECT speaker, quote, source_count, article_ids, attribution FROM story_quotes WHERE story_id = ?
           ORDER BY source_count DESC, speaker NULLS LAST, quote""",
        [story_id],
    )
    spans = dict_rows(
        con,
        """SELECT q.article_id, coalesce(e.name, q.speaker) AS speaker, q.quote, q.start_char, q.end_char, q.cue,
                  q.attribution
           FROM quotes q LEFT JOIN entities e ON e.entity_id = q.speaker_id
           WHERE q.article_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY q.article_id, q.start_char""",
        [sorted(set(root_of.values()))],
    )
    for span in spans:
        span["norm"] = f" {normalize_quote(span.pop('quote'))} "
    for quote in merged:
        wanted = f" {normalize_quote(quote['quote'])} "
        statements = []
        for article_id in quote["article_ids"]:
            root = root_of.get(article_id, article_id)
            # Merged quotations are the longest wording; each source's span is one it contains or extends,
            # compared as merge_quotes compares them (quote marks, hyphens, case and accents erased).
            match = next(
                (
                    s for s in spans
                    if s["article_id"] == root and (s["norm"] in wanted or wanted in s["norm"])
                ),
                None,
            )
            found = {k: v for k, v in match.items() if k != "norm"} if match else {"article_id": root}
            statements.append({**found, "outlet": outlet_of.get(article_id)})
        quote["statements"] = statements
    return merged


# --- an article ------------------------------------------------------------------------------------


def article(con: duckdb.DuckDBPyConnection, article_id: str) -> Row | None:
    """An article's text and metadata, with the facts and quotes read from it (their spans index `text`)."""
    found = dict_rows(
        con,
        f"""SELECT a.article_id, a.title, {_OUTLET} AS outlet, a.canonical_url AS url, a.author,
                   {_REPORTED_AT} AS reported_at, a.story_id, a.duplicate_of, a.text
            FROM articles a LEFT JOIN feeds f ON f.url = a.feed_url WHERE a.article_id = ?""",
        [article_id],
    )
    if not found:
        return None
    out = found[0]
    out["facts"] = dict_rows(
        con,
        """SELECT kind, value, unit, qualifier, subject, period, surface, start_char, end_char, sentence_start,
                  length(sentence) AS sentence_length
           FROM facts WHERE article_id = ? ORDER BY start_char""",
        [out["duplicate_of"] or article_id],
    )
    out["quotes"] = dict_rows(
        con,
        """SELECT coalesce(e.name, q.speaker) AS speaker, q.quote, q.start_char, q.end_char, q.cue, q.attribution
           FROM quotes q LEFT JOIN entities e ON e.entity_id = q.speaker_id WHERE q.article_id = ?
           ORDER BY q.start_char""",
        [out["duplicate_of"] or article_id],
    )
    return out


# --- an entity -------------------------------------------------------------------------------------


ENTITY_STORIES_SQL = f"""
WITH hits AS (
    SELECT a.story_id, count(*) AS mentions FROM mentions m JOIN articles a USING (article_id)
    WHERE m.entity_id = $entity AND a.story_id IS NOT NULL GROUP BY a.story_id
), page AS (
    SELECT s.*, h.mentions FROM stories s JOIN hits h USING (story_id)
    ORDER BY s.last_seen_at DESC, s.story_id LIMIT $limit
)
SELECT p.story_id, p.title, p.first_seen_at, p.last_seen_at, p.article_count, p.source_count, p.mentions,
       (SELECT count(*) FROM hits) AS total,
       list(DISTINCT {_OUTLET} ORDER BY {_OUTLET}) AS outlets,
       list({_REPORTED_AT} ORDER BY {_REPORTED_AT}) AS report_times
FROM page p JOIN articles a ON a.story_id = p.story_id LEFT JOIN feeds f ON f.url = a.feed_url
GROUP BY ALL
ORDER BY p.last_seen_at DESC, p.story_id
"""


def entity(con: duckdb.DuckDBPyConnection, entity_id: str, *, limit: int) -> Row | None:
    """An entity and its latest `limit` stories (with how many stories mention it in all)."""
    found = dict_rows(con, "SELECT entity_id, name, kind FROM entities WHERE entity_id = ?", [entity_id])
    if not found:
        return None
    out = found[0]
    stories = dict_rows(con, ENTITY_STORIES_SQL, {"entity": entity_id, "limit": limit})
    out["story_count"] = stories[0].pop("total") if stories else 0
    for row in stories[1:]:
        row.pop("total")
    out["stories"] = stories
    return out


# --- feeds and alerts ------------------------------------------------------------------------------

FEED_HEALTH_SQL = """
SELECT url, title, site_url,
       CASE WHEN disabled_at IS NOT NULL THEN 'disabled'
            WHEN error_count > 0 THEN 'failing'
            WHEN last_polled_at IS NULL THEN 'new'
            ELSE 'ok' END AS health,
       last_polled_at, last_success_at, last_status, last_error, last_error_kind, error_count, error_score,
       poll_interval_s, next_poll_at,
       -- the wait after a failure beyond the usual interval (exponential backoff or the server's Retry-After)
       CASE WHEN error_count > 0 AND next_poll_at IS NOT NULL AND last_polled_at IS NOT NULL
            THEN greatest(0, epoch(next_poll_at) - epoch(last_polled_at) - poll_interval_s)::BIGINT
       END AS backoff_s,
       disabled_at,
       (SELECT count(*) FROM items i WHERE i.feed_url = feeds.url AND i.status = 'stored') AS articles
FROM feeds
ORDER BY disabled_at IS NULL, error_count = 0, error_score DESC, url
"""


def feed_health(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """Every feed's health, the failing first (disabled, then by weighted failures)."""
    return dict_rows(con, FEED_HEALTH_SQL)


def alerts_overview(con: duckdb.DuckDBPyConnection, *, limit: int = 200) -> Row:
    """Rules (with their counts), the stories each matched, and the outbox with each delivery's status."""
    matches = dict_rows(
        con,
        """SELECT a.rule, a.story_id, coalesce(s.title, a.title) AS title, a.revision, a.status, a.created_at,
                  a.changes, a.source_hosts
           FROM alerts a LEFT JOIN stories s USING (story_id)
           ORDER BY a.created_at DESC, a.rule, a.story_id, a.revision LIMIT ?""",
        [limit],
    )
    outbox = outbox_list(con, show_all=True, recent=None, rule=None, limit=limit)
    return {"rules": as_dicts(*rule_list(con)), "matches": matches, "outbox": as_dicts(*outbox)}

