"""Fact extraction in the pipeline: spaCy once per near-duplicate group, then the merge per story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newsmon.extract.facts import FactExtractor
from newsmon.settings import Settings, get_settings
from newsmon.storage.db import DatabaseLocked, open_reader, open_writer
from newsmon.storage.facts import (
    articles_needing_facts,
    refresh_story_facts,
    reset_facts,
    stories_of,
    write_article_facts,
)


@dataclass
class FactsOutcome:
    articles: int = 0
    facts: int = 0
    story_facts: int = 0
    error: str | None = None  # the step failed; its articles wait for the next pass


@task(name="extract-facts", cache_policy=NO_CACHE, persist_result=False)
def extract_facts(settings: Settings, touched_stories: list[str]) -> FactsOutcome:
    """Extract facts of first copies that have none (or an older extractor's), then re-merge their stories
    and those the pass changed. A failure here is recorded and leaves ingestion's results in place."""
    logger = get_run_logger()
    outcome = FactsOutcome()
    try:
        extractor = FactExtractor(model=settings.spacy_model, batch_size=settings.nlp_batch_size)
        version = extractor.version
        with open_reader(settings.db, timeout=settings.lock_timeout) as con:
            todo = articles_needing_facts(con, version)
        stories = set(touched_stories)
        for start in range(0, len(todo), settings.batch_size):
            chunk = todo[start : start + settings.batch_size]
            # NLP runs with no connection open: analysts are blocked only for the write.
            results = extractor.extract([(text, published, title) for _, text, published, title in chunk])
            ids = [article_id for article_id, *_ in chunk]
            with open_writer(settings.db, timeout=settings.lock_timeout) as con:
                write_article_facts(con, list(zip(ids, results, strict=True)), version)
                stories.update(stories_of(con, ids))
            outcome.articles += len(chunk)
            outcome.facts += sum(len(r.facts) for r in results)
        if stories:
            with open_writer(settings.db, timeout=settings.lock_timeout) as con:
                outcome.story_facts = refresh_story_facts(con, sorted(stories), now=datetime.now(UTC))
    except DatabaseLocked as exc:
        outcome.error = f"database busy, facts wait for the next pass: {exc}"
        logger.warning(outcome.error)
    except (OSError, ImportError, ValueError) as exc:  # a missing spaCy model lands here
        outcome.error = f"{type(exc).__name__}: {exc}"
        logger.error("Fact extraction failed: %s", outcome.error)
    else:
        logger.info(
            "Facts: %d articles, %d facts, %d story facts", outcome.articles, outcome.facts, outcome.story_facts
        )
    return outcome


@flow(name="reextract-facts")
def reextract_facts(db: str | None = None) -> FactsOutcome:
    """Extract every article's facts again from its stored text (after the extractor improved). No refetch."""
    settings = get_settings(**({"db": Path(db)} if db else {}))
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        reset_facts(con)
    return extract_facts(settings, [])
