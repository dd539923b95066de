"""Fact extraction in the pipeline: spaCy once per near-duplicate group, then the merge per story."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from newsmon.extract.facts import ArticleFacts, FactExtractor
from newsmon.flows.runners import batches_in_flight, make_task_runner
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


# One loaded model per worker thread or process: loading costs ~0.3 s, extracting ~45 ms an article, and a
# spaCy pipeline is not documented as safe to share between threads.
_LOCAL = threading.local()


def _extractor(model: str, batch_size: int) -> FactExtractor:
    cache: dict[tuple[str, int], FactExtractor] = _LOCAL.__dict__.setdefault("extractors", {})
    key = (model, batch_size)
    if key not in cache:
        cache[key] = FactExtractor(model=model, batch_size=batch_size)
    return cache[key]


@task(name="read-facts", cache_policy=NO_CACHE, persist_result=False)
def read_facts(
    chunk: list[tuple[str, str, datetime | None, str]], model: str, batch_size: int
) -> list[tuple[str, ArticleFacts]]:
    """NLP over one chunk of articles: pure CPU, runs wherever the flow's task runner puts it."""
    results = _extractor(model, batch_size).extract([(text, published, title) for _, text, published, title in chunk])
    return [(article_id, found) for (article_id, *_), found in zip(chunk, results, strict=True)]


def extract_facts(settings: Settings, touched_stories: list[str]) -> FactsOutcome:
    """Extract facts of first copies that have none (or an older extractor's), then re-merge their stories
    and those the pass changed. Chunks are read in parallel on the task runner and written as they finish.
    A failure here is recorded and leaves ingestion's results in place."""
    logger = get_run_logger()
    outcome = FactsOutcome()
    try:
        version = _extractor(settings.spacy_model, settings.nlp_batch_size).version
        with open_reader(settings.db, timeout=settings.lock_timeout) as con:
            todo = articles_needing_facts(con, version)
        stories = set(touched_stories)
        in_flight: deque[PrefectFuture[list[tuple[str, ArticleFacts]]]] = deque()

        def store(results: list[tuple[str, ArticleFacts]]) -> None:
            # NLP ran with no connection open: analysts are blocked only for the write.
            with open_writer(settings.db, timeout=settings.lock_timeout) as con:
                write_article_facts(con, results, version)
                stories.update(stories_of(con, [article_id for article_id, _ in results]))
            outcome.articles += len(results)
            outcome.facts += sum(len(found.facts) for _, found in results)

        for start in range(0, len(todo), settings.batch_size):
            chunk = todo[start : start + settings.batch_size]
            in_flight.append(read_facts.submit(chunk, settings.spacy_model, settings.nlp_batch_size))
            if len(in_flight) >= batches_in_flight(settings):
                store(in_flight.popleft().result())
        while in_flight:
            store(in_flight.popleft().result())
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


@flow(name="reextract-facts", task_runner=make_task_runner(get_settings()))
def reextract_facts(db: str | None = None) -> FactsOutcome:
    """Extract every article's facts again from its stored text (after the extractor improved). No refetch."""
    settings = get_settings(**({"db": Path(db)} if db else {}))
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        reset_facts(con)
    return extract_facts(settings, [])
