"""Facts in DuckDB: per-article entities, mentions, facts and quotes, and each story's merged facts and quotes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import duckdb
import pyarrow as pa

from newsmon.extract.entities import Entity, Mention
from newsmon.extract.facts import ArticleFacts, Fact, Quote, Reading, StoryFact, StoryQuote
from newsmon.storage.arrow import TS
from newsmon.storage.schema import ACCENTED_NAMES_SQL
from newsmon.storage.stories import sync_story_ids
from newsmon.storage.transactions import registered, transaction


def articles_needing_facts(
    con: duckdb.DuckDBPyConnection, version: str, article_ids: Sequence[str] | None = None
) -> list[tuple[str, str, datetime | None, str]]:
    """(article_id, text, published_at, title) of first copies (among `article_ids`, or all) whose facts are
    missing or outdated.

    Near-duplicates are skipped: they inherit the facts of the copy they duplicate.
    """
    among = "" if article_ids is None else "AND article_id IN (SELECT unnest(?::VARCHAR[]))"
    params: list[object] = [version] if article_ids is None else [version, list(article_ids)]
    return [
        tuple(row)  # type: ignore[misc]
        for row in con.execute(
            f"""
            SELECT article_id, text, published_at, coalesce(title, '') FROM articles
            WHERE duplicate_of IS NULL AND story_id IS NOT NULL
              AND (facts_version IS NULL OR facts_version <> ?) {among}
            ORDER BY article_id
            """,
            params,
        ).fetchall()
    ]


def write_article_facts(
    con: duckdb.DuckDBPyConnection, results: Sequence[tuple[str, ArticleFacts]], version: str
) -> None:
    """Replace the facts of these articles (one transaction), then mark them extracted at `version`."""
    ids = [article_id for article_id, _ in results]
    if not ids:
        return
    entities: dict[str, Entity] = {}
    mentions, facts, quotes = [], [], []
    for article_id, found in results:
        for m in found.mentions:
            entities.setdefault(m.entity.key, m.entity)
            mentions.append(_mention_row(article_id, m))
        facts.extend(_fact_row(article_id, f, version) for f in found.facts)
        for q in found.quotes:
            if q.speaker is not None:
                entities.setdefault(q.speaker.key, q.speaker)
            quotes.append(_quote_row(article_id, q, version))
    tables = {
        "new_entities": pa.Table.from_pylist(
            [{"entity_id": e.key, "name": e.name, "kind": e.kind} for e in entities.values()],
            schema=pa.schema([("entity_id", pa.string()), ("name", pa.string()), ("kind", pa.string())]),
        ),
        "new_mentions": _table(mentions, _MENTION_SCHEMA),
        "new_facts": _table(facts, _FACT_SCHEMA),
        "new_quotes": _table(quotes, _QUOTE_SCHEMA),
        "done_articles": pa.table({"article_id": ids}),
    }
    with registered(con, tables), transaction(con):
        for table in ("mentions", "facts", "quotes"):
            con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM done_articles)")
        con.execute("INSERT INTO entities BY NAME SELECT * FROM new_entities ON CONFLICT DO NOTHING")
        con.execute("INSERT INTO mentions BY NAME SELECT * FROM new_mentions ON CONFLICT DO NOTHING")
        con.execute(ACCENTED_NAMES_SQL.format(among="AND m.entity_id IN (SELECT entity_id FROM new_entities)"))
        con.execute("INSERT INTO facts BY NAME SELECT * FROM new_facts ON CONFLICT DO NOTHING")
        con.execute("INSERT INTO quotes BY NAME SELECT * FROM new_quotes ON CONFLICT DO NOTHING")
        con.execute(
            "UPDATE articles SET facts_version = ? WHERE article_id IN (SELECT article_id FROM done_articles)",
            [version],
        )
        sync_story_ids(con, "done_articles")


def record_readings(con: duckdb.DuckDBPyConnection, readings: Sequence[tuple[str, Reading]]) -> None:
    """How each article was read: its detected language, the characters read, or why it was not read."""
    if not readings:
        return
    table = pa.table(
        {
            "article_id": [article_id for article_id, _ in readings],
            "language": [r.language for _, r in readings],
            "chars": pa.array([r.chars for _, r in readings], pa.int32()),
            "skipped": [r.skipped for _, r in readings],
        }
    )
    with registered(con, {"readings": table}), transaction(con):
        con.execute(
            """
            UPDATE articles SET nlp_language = r.language, nlp_chars = r.chars, nlp_skipped = r.skipped
            FROM readings r WHERE articles.article_id = r.article_id
            """
        )


def stories_of(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT story_id FROM articles WHERE article_id IN (SELECT unnest(?::VARCHAR[])) "
        "AND story_id IS NOT NULL ORDER BY 1",
        [list(article_ids)],
    ).fetchall()
    return [r[0] for r in rows]


def story_sources(
    con: duckdb.DuckDBPyConnection, story_ids: Sequence[str]
) -> dict[str, list[tuple[str, str, ArticleFacts]]]:
    """Each story's (article_id, source, stored facts) for merging across sources.

    A near-duplicate counts as its own source, reporting the facts of the copy it duplicates; articles whose
    facts are not read yet are left out.
    """
    members = con.execute(
        """
        SELECT story_id, article_id, source, coalesce(duplicate_of, article_id) AS root
        FROM articles WHERE story_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY story_id, article_id
        """,
        [list(story_ids)],
    ).fetchall()
    found = load_article_facts(con, sorted({row[3] for row in members}))
    by_story: dict[str, list[tuple[str, str, ArticleFacts]]] = defaultdict(list)
    for story_id, article_id, source, root in members:
        if root in found:
            by_story[story_id].append((article_id, source, found[root]))
    return by_story


def replace_story_facts(
    con: duckdb.DuckDBPyConnection,
    story_ids: Sequence[str],
    facts: dict[str, list[StoryFact]],
    quotes: dict[str, list[StoryQuote]],
    *,
    now: datetime,
) -> int:
    """Replace the merged facts and quotes of these stories (one transaction); returns fact rows written."""
    fact_rows = [
        {
            "story_id": story_id, "kind": sf.kind, "value": sf.value, "unit": sf.unit, "subject": sf.subject,
            "period": sf.period, "change": sf.change, "qualifier": sf.qualifier, "source_count": sf.source_count,
            "disagreement": sf.disagreement, "article_ids": list(sf.article_ids),
            "surfaces": list(sf.surfaces), "updated_at": now,
        }
        for story_id, merged in facts.items() for sf in merged
    ]
    quote_rows = [
        {
            "story_id": story_id, "speaker": speaker, "quote": quote, "source_count": count,
            "article_ids": list(article_ids), "updated_at": now, "speaker_id": speaker_id,
            "attribution": attribution,
        }
        for story_id, merged in quotes.items()
        for speaker, quote, count, article_ids, speaker_id, attribution in merged
    ]
    tables = {
        "touched": pa.table({"story_id": pa.array(list(story_ids), pa.string())}),
        "new_story_facts": _table(fact_rows, _STORY_FACT_SCHEMA),
        "new_story_quotes": _table(quote_rows, _STORY_QUOTE_SCHEMA),
    }
    with registered(con, tables), transaction(con):
        con.execute("DELETE FROM story_facts WHERE story_id IN (SELECT story_id FROM touched)")
        con.execute("DELETE FROM story_quotes WHERE story_id IN (SELECT story_id FROM touched)")
        con.execute("INSERT INTO story_facts BY NAME SELECT * FROM new_story_facts")
        con.execute("INSERT INTO story_quotes BY NAME SELECT * FROM new_story_quotes")
    return len(fact_rows)


def load_article_facts(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> dict[str, ArticleFacts]:
    """Rebuild ArticleFacts from stored rows (what merging needs: facts, quotes and their speakers)."""
    ids = list(article_ids)
    if not ids:
        return {}
    facts: dict[str, list[Fact]] = defaultdict(list)
    for row in con.execute(
        """
        SELECT article_id, kind, value, unit, qualifier, subject, period, change, surface, start_char, end_char,
               sentence, sentence_start, date_value, basis, extractor_version
        FROM facts WHERE article_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY article_id, start_char
        """,
        [ids],
    ).fetchall():
        facts[row[0]].append(Fact(*row[1:]))
    quotes: dict[str, list[Quote]] = defaultdict(list)
    for row in con.execute(
        """
        SELECT q.article_id, q.speaker_id, e.name, e.kind, q.quote, q.start_char, q.end_char, q.sentence,
               q.extractor_version, q.cue, q.attribution
        FROM quotes q LEFT JOIN entities e ON e.entity_id = q.speaker_id
        WHERE q.article_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY q.article_id, q.start_char
        """,
        [ids],
    ).fetchall():
        speaker = Entity(row[1], row[2], row[3]) if row[1] else None
        quotes[row[0]].append(Quote(speaker, row[4], row[5], row[6], row[7], version=row[8], cue=row[9],
                                    attribution=row[10]))
    done = {
        r[0]
        for r in con.execute(
            "SELECT article_id FROM articles WHERE article_id IN (SELECT unnest(?::VARCHAR[])) "
            "AND facts_version IS NOT NULL",
            [ids],
        ).fetchall()
    }
    return {a: ArticleFacts([], facts.get(a, []), quotes.get(a, []), 0) for a in ids if a in done}


def reset_facts(con: duckdb.DuckDBPyConnection) -> None:
    """Mark every article for fact extraction again (`newsmon reextract --facts`)."""
    con.execute("UPDATE articles SET facts_version = NULL WHERE facts_version IS NOT NULL")


def _mention_row(article_id: str, m: Mention) -> dict[str, object]:
    return {"article_id": article_id, "entity_id": m.entity.key, "surface": m.surface, "start_char": m.start,
            "end_char": m.end, "sentence_index": m.sentence_index}


def _fact_row(article_id: str, f: Fact, version: str) -> dict[str, object]:
    return {"article_id": article_id, "kind": f.kind, "value": f.value, "unit": f.unit, "qualifier": f.qualifier,
            "subject": f.subject, "period": f.period, "change": f.change, "basis": f.basis,
            "date_value": f.date_value, "surface": f.surface, "start_char": f.start, "end_char": f.end,
            "sentence": f.sentence, "sentence_start": f.sentence_start, "extractor_version": version,
            "subject_entity_id": f.subject_entity.key if f.subject_entity else None,
            "subject_entity_how": f.subject_entity_how}


def _quote_row(article_id: str, q: Quote, version: str) -> dict[str, object]:
    return {"article_id": article_id, "speaker_id": q.speaker.key if q.speaker else None,
            "speaker": q.speaker.name if q.speaker else None, "quote": q.text, "start_char": q.start,
            "end_char": q.end, "sentence": q.sentence, "extractor_version": version, "cue": q.cue,
            "attribution": q.attribution}


def _table(rows: list[dict[str, object]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


_S, _I, _F = pa.string(), pa.int32(), pa.float64()
_MENTION_SCHEMA = pa.schema([("article_id", _S), ("entity_id", _S), ("surface", _S), ("start_char", _I),
                             ("end_char", _I), ("sentence_index", _I)])
_FACT_SCHEMA = pa.schema([("article_id", _S), ("kind", _S), ("value", _F), ("unit", _S), ("qualifier", _S),
                          ("subject", _S), ("period", _S), ("change", _S), ("basis", _S), ("date_value", _S),
                          ("surface", _S), ("start_char", _I), ("end_char", _I), ("sentence", _S),
                          ("sentence_start", _I), ("extractor_version", _S), ("subject_entity_id", _S),
                          ("subject_entity_how", _S)])
_QUOTE_SCHEMA = pa.schema([("article_id", _S), ("speaker_id", _S), ("speaker", _S), ("quote", _S),
                           ("start_char", _I), ("end_char", _I), ("sentence", _S), ("extractor_version", _S),
                           ("cue", _S), ("attribution", _S)])
_STORY_FACT_SCHEMA = pa.schema([("story_id", _S), ("kind", _S), ("value", _F), ("unit", _S), ("subject", _S),
                                ("period", _S), ("change", _S), ("qualifier", _S), ("source_count", _I),
                                ("disagreement", pa.bool_()), ("article_ids", pa.list_(_S)),
                                ("surfaces", pa.list_(_S)), ("updated_at", TS)])
_STORY_QUOTE_SCHEMA = pa.schema([("story_id", _S), ("speaker", _S), ("quote", _S), ("source_count", _I),
                                 ("article_ids", pa.list_(_S)), ("updated_at", TS), ("speaker_id", _S),
                                 ("attribution", _S)])
