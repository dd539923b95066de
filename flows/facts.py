"""Fact extraction in the pipeline: spaCy once per near-duplicate group, then the merge per story.

The ingest pass reads each batch's first copies as soon as they have a story (see flows/ingest.py);
`extract_facts` catches up on any article still without facts and re-merges the stories a pass touched.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture

from newsmon.errors import ModelUnavailable
from newsmon.extract.facts import ArticleFacts, merge_quotes, merge_story_facts
from newsmon.flows.batches import FactsChunk, fact_extractor, read_facts
from newsmon.flows.runners import batches_in_flight, make_task_runner
from newsmon.settings import Settings, get_settings
from newsmon.storage.db import DatabaseLocked, open_reader, open_writer
from newsmon.storage.facts import (
    articles_needing_facts,
    replace_story_facts,
    reset_facts,
    stories_of,
    story_sources,
    write_article_facts,
)

FactsResult = tuple[list[tuple[str, ArticleFacts]], dict[str, float]]


@dataclass
class FactsOutcome:
    articles: int = 0
    facts: int = 0
    story_facts: int = 0
    stories: set[str] = field(default_factory=set)  # stories whose articles got new facts
    error: str | None = None  # the step failed; its articles wait for the next pass


def facts_version(settings: Settings) -> str:
    return fact_extractor(settings.spacy_model, settings.nlp_batch_size).version


def facts_todo(settings: Settings) -> FactsChunk:
    """First copies whose facts are missing or outdated."""
    with open_reader(settings.db, timeout=settings.lock_timeout) as con:
        return articles_needing_facts(con, facts_version(settings))


def submit_reading(settings: Settings, todo: FactsChunk, parts: int) -> list[PrefectFuture[FactsResult]]:
    """NLP of `todo` on the task runner, in `parts` chunks (one per idle worker) of at most a batch each."""
    size = max(1, min(settings.batch_size, -(-len(todo) // max(parts, 1))))
    return [
        read_facts.submit(todo[start : start + size], settings.spacy_model, settings.nlp_batch_size)
        for start in range(0, len(todo), size)
    ]


def store_facts(settings: Settings, results: list[tuple[str, ArticleFacts]], outcome: FactsOutcome) -> None:
    """Write one chunk's facts. NLP ran with no connection open: analysts are blocked only for the write."""
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        write_article_facts(con, results, facts_version(settings))
        outcome.stories.update(stories_of(con, [article_id for article_id, _ in results]))
    outcome.articles += len(results)
    outcome.facts += sum(len(found.facts) for _, found in results)


def merge_stories(settings: Settings, story_ids: Sequence[str]) -> int:
    """Merge each story's facts and quotes across its sources (pure, in extract) and store them."""
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        sources = story_sources(con, story_ids)
        facts = {story: merge_story_facts(items) for story, items in sources.items()}
        quotes = {story: merge_quotes(items) for story, items in sources.items()}
        return replace_story_facts(con, story_ids, facts, quotes, now=datetime.now(UTC))


def extract_facts(
    settings: Settings, touched_stories: Sequence[str], outcome: FactsOutcome | None = None
) -> FactsOutcome:
    """Read every first copy still without facts (or with an older extractor's), then re-merge their stories
    and those the pass changed. A failure here is recorded and leaves ingestion's results in place."""
    logger = get_run_logger()
    outcome = outcome or FactsOutcome()
    try:
        in_flight: deque[PrefectFuture[FactsResult]] = deque()
        for future in submit_reading(settings, facts_todo(settings), parts=batches_in_flight(settings)):
            in_flight.append(future)
            if len(in_flight) >= batches_in_flight(settings):
                store_facts(settings, in_flight.popleft().result()[0], outcome)
        while in_flight:
            store_facts(settings, in_flight.popleft().result()[0], outcome)
        stories = sorted(outcome.stories | set(touched_stories))
        if stories:
            outcome.story_facts = merge_stories(settings, stories)
    except DatabaseLocked as exc:
        outcome.error = f"database busy, facts wait for the next pass: {exc}"
        logger.warning(outcome.error)
    except ModelUnavailable as exc:
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
