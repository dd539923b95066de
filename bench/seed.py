"""Fill a newsmon database with `n` stored articles of the past, as months of earlier passes would leave it:
articles with their versions and raw pages, stories and their assignments, entities, mentions and facts, and the
clusterer's snapshot. Written with set-based SQL (seconds for 100k articles), not through the pipeline.

    python bench/seed.py DB N
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

VOCABULARY = [
    "government", "minister", "said", "percent", "million", "company", "market", "officials", "report",
    "growth", "exports", "prices", "week", "city", "council", "plan", "year", "budget", "workers", "strike",
    "court", "police", "election", "vote", "parliament", "bank", "rates", "inflation", "trade", "deal", "talks",
    "agreement", "army", "attack", "rescue", "storm", "flood", "earthquake", "hospital", "school", "students",
    "energy", "oil", "gas",
]
NAMES = [
    "Ankara", "Brussels", "Lagos", "Lima", "Oslo", "Quito", "Manila", "Nairobi", "Hanoi", "Perth", "Porto",
    "Dakar", "Kyiv", "Seoul", "Riga",
]


def seed_store(db: Path, n: int, *, before: datetime, days: int = 60, facts_version: str = "") -> float:
    """Seed `n` articles published over the `days` before `before`; returns the seconds it took."""
    import time

    from newsmon.storage.db import open_writer
    from newsmon.storage.stories import load_clusterer, save_clusterer
    from newsmon.stories import STORY_ALGORITHM_VERSION

    started = time.perf_counter()
    page = os.urandom(16_000)  # a compressed page is ~16 KB and, being compressed, looks random
    start = before - timedelta(days=days)
    with open_writer(db) as con:
        con.execute(
            f"""
            CREATE TEMP TABLE seed AS
            SELECT i, 'seed' || i AS article_id, 's-seed' || (i // 3) AS story_id,
                   'outlet' || (i % 200) || '.example' AS source,
                   'http://outlet' || (i % 200) || '.example/news/' || i AS url,
                   ?::TIMESTAMPTZ + to_seconds(i * ? / ?) AS published_at,
                   list_extract(?::VARCHAR[], 1 + (i // 3) % 15) || ' ' ||
                       array_to_string(list_transform(range(8), lambda w: list_extract(?::VARCHAR[],
                           1 + (hash(i // 3, w) % {len(VOCABULARY)})::INTEGER)), ' ') AS title,
                   array_to_string(list_transform(range(300), lambda w: list_extract(?::VARCHAR[],
                       1 + (hash(i, w) % {len(VOCABULARY)})::INTEGER)), ' ') AS text
            FROM range(?) t(i)
            """,
            [start, days * 86400, n, NAMES, VOCABULARY, VOCABULARY, n],
        )
        con.execute(
            """
            INSERT INTO articles BY NAME
            SELECT article_id, url, url AS canonical_url, source, title, published_at, 'feed' AS published_source,
                   'en' AS language, title || '. ' || text AS text, md5(text) AS content_hash, 1 AS version,
                   story_id, published_at AS fetched_at, published_at AS updated_at, 'seed' AS extractor_version,
                   ? AS facts_version
            FROM seed
            """,
            [facts_version],
        )
        con.execute(
            """
            INSERT INTO article_versions BY NAME
            SELECT article_id, 1 AS version, published_at AS fetched_at, title, text, md5(text) AS content_hash
            FROM seed
            """
        )
        con.execute(
            """
            INSERT INTO pages BY NAME
            SELECT article_id, 1 AS version, published_at AS fetched_at, url, 'text/html' AS content_type,
                   'utf-8' AS charset, 80000 AS size, ?::BLOB || encode(i::VARCHAR) AS html_zlib
            FROM seed
            """,
            [page],
        )
        con.execute(
            """
            INSERT INTO story_assignments BY NAME
            SELECT article_id, story_id, CASE WHEN i % 3 = 0 THEN 'new' ELSE 'story' END AS method,
                   0.5 AS score, '{"method": "seed"}' AS evidence, published_at AS assigned_at,
                   ? AS algorithm_version, i + 1 AS seq
            FROM seed
            """,
            [STORY_ALGORITHM_VERSION],
        )
        con.execute(
            """
            INSERT INTO stories
            SELECT story_id, arg_min(title, i), min(published_at), max(published_at), count(*),
                   count(DISTINCT source), ?
            FROM seed GROUP BY story_id
            """,
            [STORY_ALGORITHM_VERSION],
        )
        con.execute(
            """
            INSERT INTO entities SELECT 'place:' || lower(name), name, 'place' FROM unnest(?::VARCHAR[]) t(name)
            ON CONFLICT DO NOTHING
            """,
            [NAMES],
        )
        con.execute(
            """
            INSERT INTO mentions BY NAME
            SELECT article_id, 'place:' || lower(list_extract(?::VARCHAR[], 1 + (i // 3) % 15)) AS entity_id,
                   list_extract(?::VARCHAR[], 1 + (i // 3) % 15) AS surface, k * 100 AS start_char,
                   k * 100 + 6 AS end_char, k AS sentence_index
            FROM seed, range(6) r(k)
            """,
            [NAMES, NAMES],
        )
        con.execute(
            """
            INSERT INTO facts BY NAME
            SELECT article_id, story_id, 'money' AS kind, (hash(i, k) % 1000)::DOUBLE AS value, 'USD' AS unit,
                   '$' || (hash(i, k) % 1000) || ' million' AS surface, k * 120 AS start_char,
                   k * 120 + 12 AS end_char, 'A seeded sentence.' AS sentence, k * 120 AS sentence_start,
                   ? AS extractor_version
            FROM seed, range(8) r(k)
            """,
            [facts_version],
        )
        con.execute("DROP TABLE seed")
        clusterer, _ = load_clusterer(con, db)  # the window a previous pass would have left, and its snapshot
        save_clusterer(con, db, clusterer)
    return time.perf_counter() - started


if __name__ == "__main__":
    path, count = Path(sys.argv[1]), int(sys.argv[2])
    print(f"seeded {count} articles in {seed_store(path, count, before=datetime.now(UTC)):.1f} s")
