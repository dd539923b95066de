"""The DuckDB schema, as numbered migrations. docs/schema.md documents every table for analysts.

A migration is applied once, in order, inside a transaction; `schema_migrations` records which ran.
Never edit a released migration: add the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb

from newsmon.storage.transactions import transaction

# An entity is named by the accented spelling when any source writes it so ("Haluk Görgün", not the "Haluk
# Gorgun" an unaccented outlet may have given first): the most frequent accented surface equal to the name
# once accents and case are folded. `among` limits it to some entities (a write's own).
ACCENTED_NAMES_SQL = """
        UPDATE entities SET name = accented.surface
        FROM (
            SELECT m.entity_id, mode(m.surface) AS surface
            FROM mentions m JOIN entities e ON e.entity_id = m.entity_id
            WHERE strip_accents(m.surface) <> m.surface
              AND lower(strip_accents(m.surface)) = lower(strip_accents(e.name)) {among}
            GROUP BY m.entity_id
        ) accented
        WHERE entities.entity_id = accented.entity_id AND strip_accents(entities.name) = entities.name;
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "ingest: feeds, polls, items, articles, versions, raw pages, runs",
        """
        CREATE TABLE feeds (
            url             VARCHAR PRIMARY KEY,
            title           VARCHAR,
            site_url        VARCHAR,
            added_at        TIMESTAMPTZ NOT NULL,
            etag            VARCHAR,
            last_modified   VARCHAR,
            last_polled_at  TIMESTAMPTZ,
            last_success_at TIMESTAMPTZ,
            next_poll_at    TIMESTAMPTZ,
            poll_interval_s INTEGER NOT NULL,
            last_status     INTEGER,
            error_count     INTEGER NOT NULL DEFAULT 0,
            error_score     DOUBLE NOT NULL DEFAULT 0,
            last_error      VARCHAR,
            last_error_kind VARCHAR,
            disabled_at     TIMESTAMPTZ
        );
        CREATE TABLE polls (
            poll_id      VARCHAR PRIMARY KEY,
            run_id       VARCHAR,
            feed_url     VARCHAR NOT NULL,
            polled_at    TIMESTAMPTZ NOT NULL,
            outcome      VARCHAR NOT NULL,
            status       INTEGER,
            error_kind   VARCHAR,
            error_code   VARCHAR,
            error        VARCHAR,
            bytes        BIGINT,
            duration_ms  INTEGER,
            items_total  INTEGER,
            items_new    INTEGER
        );
        CREATE TABLE items (
            feed_url       VARCHAR NOT NULL,
            item_key       VARCHAR NOT NULL,
            guid           VARCHAR,
            link           VARCHAR,
            title          VARCHAR,
            published_at   TIMESTAMPTZ,
            updated_at     TIMESTAMPTZ,
            first_seen_at  TIMESTAMPTZ NOT NULL,
            last_seen_at   TIMESTAMPTZ NOT NULL,
            status         VARCHAR NOT NULL,
            attempts       INTEGER NOT NULL DEFAULT 0,
            fetched_marker TIMESTAMPTZ,
            article_id     VARCHAR,
            error_code     VARCHAR,
            error          VARCHAR,
            PRIMARY KEY (feed_url, item_key)
        );
        CREATE TABLE articles (
            article_id        VARCHAR PRIMARY KEY,
            url               VARCHAR NOT NULL,
            canonical_url     VARCHAR NOT NULL,
            feed_url          VARCHAR,
            source            VARCHAR,
            title             VARCHAR,
            author            VARCHAR,
            published_at      TIMESTAMPTZ,
            published_source  VARCHAR,
            language          VARCHAR,
            description       VARCHAR,
            text              VARCHAR NOT NULL,
            content_hash      VARCHAR NOT NULL,
            version           INTEGER NOT NULL,
            story_id          VARCHAR,
            duplicate_of      VARCHAR,
            fetched_at        TIMESTAMPTZ NOT NULL,
            updated_at        TIMESTAMPTZ NOT NULL,
            extractor_version VARCHAR NOT NULL
        );
        CREATE TABLE article_versions (
            article_id   VARCHAR NOT NULL,
            version      INTEGER NOT NULL,
            fetched_at   TIMESTAMPTZ NOT NULL,
            title        VARCHAR,
            text         VARCHAR NOT NULL,
            content_hash VARCHAR NOT NULL,
            PRIMARY KEY (article_id, version)
        );
        CREATE TABLE pages (
            article_id   VARCHAR NOT NULL,
            version      INTEGER NOT NULL,
            fetched_at   TIMESTAMPTZ NOT NULL,
            url          VARCHAR NOT NULL,
            final_url    VARCHAR,
            content_type VARCHAR,
            charset      VARCHAR,
            size         BIGINT NOT NULL,
            html_zlib    BLOB,
            PRIMARY KEY (article_id, version)
        );
        CREATE TABLE article_errors (
            run_id     VARCHAR,
            feed_url   VARCHAR NOT NULL,
            item_key   VARCHAR NOT NULL,
            url        VARCHAR,
            failed_at  TIMESTAMPTZ NOT NULL,
            stage      VARCHAR NOT NULL,
            error_kind VARCHAR,
            error_code VARCHAR NOT NULL,
            error      VARCHAR NOT NULL
        );
        CREATE TABLE runs (
            run_id             VARCHAR PRIMARY KEY,
            flow_run_id        VARCHAR,
            started_at         TIMESTAMPTZ NOT NULL,
            finished_at        TIMESTAMPTZ,
            status             VARCHAR NOT NULL,
            all_feeds          BOOLEAN NOT NULL,
            feeds_due          INTEGER,
            feeds_polled       INTEGER,
            feeds_not_modified INTEGER,
            feeds_failed       INTEGER,
            items_refused      INTEGER,
            articles_new       INTEGER,
            articles_updated   INTEGER,
            articles_unchanged INTEGER,
            articles_failed    INTEGER,
            spooled_batches    INTEGER,
            articles_clustered INTEGER,
            stories_new        INTEGER,
            near_duplicates    INTEGER,
            facts_articles     INTEGER,
            facts_error        VARCHAR,
            alerts_new         INTEGER,
            alerts_sent        INTEGER,
            stage_seconds      MAP(VARCHAR, DOUBLE),
            error              VARCHAR
        );
        """,
    ),
    (
        2,
        "stories: stories and the evidence of each article's assignment",
        """
        CREATE TABLE stories (
            story_id          VARCHAR PRIMARY KEY,
            title             VARCHAR,
            first_seen_at     TIMESTAMPTZ,
            last_seen_at      TIMESTAMPTZ,
            article_count     INTEGER NOT NULL,
            source_count      INTEGER NOT NULL,
            algorithm_version VARCHAR NOT NULL
        );
        CREATE TABLE story_assignments (
            article_id        VARCHAR PRIMARY KEY,
            story_id          VARCHAR NOT NULL,
            duplicate_of      VARCHAR,
            method            VARCHAR NOT NULL,
            score             DOUBLE NOT NULL,
            evidence          JSON NOT NULL,
            assigned_at       TIMESTAMPTZ NOT NULL,
            algorithm_version VARCHAR NOT NULL,
            seq               BIGINT NOT NULL
        );
        """,
    ),
    (
        3,
        "alerts: rules, the outbox and its deliveries, the alert_candidates view",
        """
        CREATE TABLE alert_rules (
            name              VARCHAR PRIMARY KEY,
            keywords          VARCHAR,
            entity            VARCHAR,
            fact              VARCHAR,
            sql               VARCHAR,
            channels          VARCHAR[] NOT NULL,
            follow_up_sources INTEGER NOT NULL,
            enabled           BOOLEAN NOT NULL,
            origin            VARCHAR NOT NULL,
            created_at        TIMESTAMPTZ NOT NULL,
            updated_at        TIMESTAMPTZ NOT NULL,
            evaluated_until   TIMESTAMPTZ
        );
        CREATE TABLE alerts (
            alert_id        VARCHAR PRIMARY KEY,
            rule            VARCHAR NOT NULL,
            story_id        VARCHAR NOT NULL,
            revision        INTEGER NOT NULL,
            created_at      TIMESTAMPTZ NOT NULL,
            title           VARCHAR,
            source_hosts    VARCHAR[] NOT NULL,
            fact_keys       VARCHAR[] NOT NULL,
            changes         VARCHAR,
            payload         JSON NOT NULL,
            status          VARCHAR NOT NULL,
            attempts        INTEGER NOT NULL,
            last_error      VARCHAR,
            next_attempt_at TIMESTAMPTZ,
            sent_at         TIMESTAMPTZ,
            UNIQUE (rule, story_id, revision)
        );
        CREATE TABLE alert_deliveries (
            delivery_id     VARCHAR PRIMARY KEY,
            alert_id        VARCHAR NOT NULL,
            channel         VARCHAR NOT NULL,
            kind            VARCHAR NOT NULL,
            status          VARCHAR NOT NULL,
            attempts        INTEGER NOT NULL,
            next_attempt_at TIMESTAMPTZ,
            lease_until     TIMESTAMPTZ,
            last_attempt_at TIMESTAMPTZ,
            last_error      VARCHAR,
            sent_at         TIMESTAMPTZ,
            UNIQUE (alert_id, channel)
        );
        CREATE VIEW alert_candidates AS
        SELECT s.story_id, s.title, s.first_seen_at, s.last_seen_at, s.article_count, s.source_count,
               list_sort(list(DISTINCT a.source) FILTER (WHERE a.source IS NOT NULL)) AS sources,
               list_sort(list(DISTINCT coalesce(f.title, a.source))
                         FILTER (WHERE coalesce(f.title, a.source) IS NOT NULL)) AS outlets,
               list(DISTINCT {'source': a.source, 'outlet': coalesce(f.title, a.source)})
                   FILTER (WHERE a.source IS NOT NULL) AS source_outlets,
               list(a.canonical_url ORDER BY coalesce(a.published_at, a.fetched_at), a.article_id) AS urls,
               list(a.title ORDER BY coalesce(a.published_at, a.fetched_at), a.article_id) AS article_titles,
               max(a.fetched_at) AS last_fetched_at,
               max(sa.assigned_at) AS updated_at,
               concat_ws(chr(10), s.title,
                         string_agg(concat_ws(chr(10), a.title, a.text), chr(10)
                                    ORDER BY coalesce(a.published_at, a.fetched_at), a.article_id)) AS text
        FROM stories s
        JOIN articles a ON a.story_id = s.story_id
        LEFT JOIN feeds f ON f.url = a.feed_url
        LEFT JOIN story_assignments sa ON sa.article_id = a.article_id
        GROUP BY s.story_id, s.title, s.first_seen_at, s.last_seen_at, s.article_count, s.source_count;
        """,
    ),
    (
        4,
        "facts: entities, mentions, facts, quotes, and their merge per story",
        """
        ALTER TABLE articles ADD COLUMN facts_version VARCHAR;
        CREATE TABLE entities (
            entity_id VARCHAR PRIMARY KEY,
            name      VARCHAR NOT NULL,
            kind      VARCHAR NOT NULL
        );
        CREATE TABLE mentions (
            article_id     VARCHAR NOT NULL,
            entity_id      VARCHAR NOT NULL,
            surface        VARCHAR NOT NULL,
            start_char     INTEGER NOT NULL,
            end_char       INTEGER NOT NULL,
            sentence_index INTEGER NOT NULL,
            PRIMARY KEY (article_id, start_char)
        );
        CREATE TABLE facts (
            article_id        VARCHAR NOT NULL,
            story_id          VARCHAR,
            kind              VARCHAR NOT NULL,
            value             DOUBLE,
            unit              VARCHAR,
            qualifier         VARCHAR,
            subject           VARCHAR,
            period            VARCHAR,
            change            VARCHAR,
            basis             VARCHAR,
            date_value        VARCHAR,
            surface           VARCHAR NOT NULL,
            start_char        INTEGER NOT NULL,
            end_char          INTEGER NOT NULL,
            sentence          VARCHAR NOT NULL,
            sentence_start    INTEGER NOT NULL,
            extractor_version VARCHAR NOT NULL,
            PRIMARY KEY (article_id, start_char, kind)
        );
        CREATE TABLE quotes (
            article_id        VARCHAR NOT NULL,
            story_id          VARCHAR,
            speaker_id        VARCHAR,
            speaker           VARCHAR,
            quote             VARCHAR NOT NULL,
            start_char        INTEGER NOT NULL,
            end_char          INTEGER NOT NULL,
            sentence          VARCHAR NOT NULL,
            extractor_version VARCHAR NOT NULL,
            PRIMARY KEY (article_id, start_char)
        );
        CREATE TABLE story_facts (
            story_id     VARCHAR NOT NULL,
            kind         VARCHAR NOT NULL,
            value        DOUBLE NOT NULL,
            unit         VARCHAR,
            subject      VARCHAR,
            period       VARCHAR,
            change       VARCHAR,
            source_count INTEGER NOT NULL,
            disagreement BOOLEAN NOT NULL,
            article_ids  VARCHAR[] NOT NULL,
            surfaces     VARCHAR[] NOT NULL,
            updated_at   TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE story_quotes (
            story_id     VARCHAR NOT NULL,
            speaker      VARCHAR,
            quote        VARCHAR NOT NULL,
            source_count INTEGER NOT NULL,
            article_ids  VARCHAR[] NOT NULL,
            updated_at   TIMESTAMPTZ NOT NULL
        );
        """,
    ),
    (
        6,
        "articles.published_source: one word per kind of evidence (json-ld, meta, time, url, htmldate, byline)",
        # Before, a page date was named by its exact tag ("page:meta:article:published_time"); analysts filter
        # by kind, so old rows get the kind their tag belongs to.
        """
        UPDATE articles SET published_source = CASE
            WHEN published_source LIKE 'page:jsonld%' THEN 'json-ld'
            WHEN published_source LIKE 'page:meta:%' OR published_source LIKE 'page:itemprop%' THEN 'meta'
            WHEN published_source LIKE 'page:time%' THEN 'time'
            WHEN published_source = 'page:url' THEN 'url'
            WHEN published_source = 'page:htmldate' THEN 'htmldate'
            ELSE published_source
        END
        WHERE published_source LIKE 'page:%';
        """,
    ),
    (
        7,
        "quotes: the evidence of each attribution (cue, how the speaker was found), speaker ids per story",
        """
        ALTER TABLE quotes ADD COLUMN cue VARCHAR;
        ALTER TABLE quotes ADD COLUMN attribution VARCHAR;
        ALTER TABLE story_quotes ADD COLUMN speaker_id VARCHAR;
        ALTER TABLE story_quotes ADD COLUMN attribution VARCHAR;
        """,
    ),
    (
        8,
        "analysts: outlet names on articles, entities of stories and facts, qualifier on story facts, "
        "accented entity names",
        """
        ALTER TABLE story_facts ADD COLUMN qualifier VARCHAR;
        CREATE VIEW article_outlets AS
        SELECT a.article_id, a.story_id, a.source, a.feed_url,
               coalesce(
                   nullif(regexp_replace(trim(f.title), '(\\s*[:|]|\\s+[-\u2013\u2014])\\s+.*$', ''), ''), a.source
               ) AS outlet
        FROM articles a LEFT JOIN feeds f ON f.url = a.feed_url;
        CREATE VIEW story_entities AS
        SELECT a.story_id, m.entity_id, e.name, e.kind, count(*) AS mentions,
               count(DISTINCT a.article_id) AS article_count, count(DISTINCT a.source) AS source_count
        FROM mentions m JOIN articles a USING (article_id) JOIN entities e USING (entity_id)
        WHERE a.story_id IS NOT NULL
        GROUP BY a.story_id, m.entity_id, e.name, e.kind;
        CREATE VIEW fact_entities AS
        SELECT f.article_id, f.story_id, f.kind, f.start_char, m.entity_id, e.name, e.kind AS entity_kind,
               m.surface, least(abs(m.start_char - f.end_char), abs(f.start_char - m.end_char)) AS distance,
               row_number() OVER (PARTITION BY f.article_id, f.start_char, f.kind
                                  ORDER BY least(abs(m.start_char - f.end_char), abs(f.start_char - m.end_char)),
                                           m.start_char) = 1 AS nearest
        FROM facts f
        JOIN mentions m ON m.article_id = f.article_id AND m.start_char >= f.sentence_start
                       AND m.end_char <= f.sentence_start + length(f.sentence)
        JOIN entities e ON e.entity_id = m.entity_id;
        """
        + ACCENTED_NAMES_SQL.format(among=""),
    ),
    (
        10,
        "how each article was read by NLP: its language, the characters read, or why it was not read",
        """
        ALTER TABLE articles ADD COLUMN nlp_language VARCHAR;
        ALTER TABLE articles ADD COLUMN nlp_chars INTEGER;
        ALTER TABLE articles ADD COLUMN nlp_skipped VARCHAR;
        """,
    ),
    (
        11,
        "story links: a story opened by a follow-up after a quiet spell names the story it continues",
        """
        CREATE VIEW story_links AS
        SELECT story_id, article_id,
               json_extract_string(evidence, '$.continues.story_id') AS continues_story_id,
               CAST(json_extract(evidence, '$.continues.score') AS DOUBLE) AS score,
               CAST(json_extract(evidence, '$.continues.gap_days') AS DOUBLE) AS gap_days
        FROM story_assignments
        WHERE method = 'new' AND json_extract_string(evidence, '$.continues.story_id') IS NOT NULL;
        """,
    ),
    (
        12,
        "facts: the entity each figure is about and how it was found (the parse of its sentence, else nearest)",
        """
        ALTER TABLE facts ADD COLUMN subject_entity_id VARCHAR;
        ALTER TABLE facts ADD COLUMN subject_entity_how VARCHAR;
        """,
    ),
    (
        13,
        "recluster keeps story ids: each article's story id from before a recluster, until it has finished",
        """
        CREATE TABLE story_previous_ids (
            article_id VARCHAR PRIMARY KEY,
            story_id   VARCHAR NOT NULL
        );
        """,
    ),
    (
        14,
        "young-story merges: a story merged into another, the report whose arrival merged them, the reports it held",
        """
        CREATE TABLE story_merges (
            story_id          VARCHAR NOT NULL,
            previous_story_id VARCHAR NOT NULL,
            article_id        VARCHAR NOT NULL,
            score             DOUBLE NOT NULL,
            article_ids       VARCHAR[] NOT NULL,
            merged_at         TIMESTAMPTZ NOT NULL,
            algorithm_version VARCHAR NOT NULL
        );
        """,
    ),
    (
        15,
        "alert rules remember the story facts they have seen: an alerted story is checked again when its facts change",
        """
        ALTER TABLE alert_rules ADD COLUMN facts_evaluated_until TIMESTAMPTZ;
        """,
    ),
    (
        16,
        "story splits: the later reports of a story that told an event of their own, and the story they left; each run "
        "counts the stories it merged and split",
        """
        ALTER TABLE runs ADD COLUMN stories_merged INTEGER;
        ALTER TABLE runs ADD COLUMN stories_split INTEGER;
        CREATE TABLE story_splits (
            story_id          VARCHAR NOT NULL,
            previous_story_id VARCHAR NOT NULL,
            article_id        VARCHAR NOT NULL,
            ratio             DOUBLE NOT NULL,
            article_ids       VARCHAR[] NOT NULL,
            split_at          TIMESTAMPTZ NOT NULL,
            algorithm_version VARCHAR NOT NULL
        );
        """,
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    """The single value of a one-row query.

    fetchall, not fetchone: DuckDB 2.0 keeps a partly fetched result open and refuses the next statement.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def columns_and_rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A query's column names and all its rows (fetched whole, as `scalar` explains)."""
    cursor = con.execute(sql, params if params is not None else [])
    return [d[0] for d in cursor.description or []], cursor.fetchall()


def as_dicts(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def dict_rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """A query's rows as column -> value dicts."""
    return as_dicts(*columns_and_rows(con, sql, params))


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'")
    if not exists:
        return 0
    return int(scalar(con, "SELECT coalesce(max(version), 0) FROM schema_migrations"))  # type: ignore[arg-type]


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations; returns the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    # By version, not by the highest one: numbers are handed out per branch, so a store may hold 7 before 6.
    done = {int(row[0]) for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, description, sql in MIGRATIONS:
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, description])
        applied.append(version)
    return applied
