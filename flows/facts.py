"""Fact extraction in the pipeline: spaCy once per near-duplicate group, then the merge per story.

The ingest pass reads each batch's first copies as soon as they have a story (see flows/ingest.py);
`extract_facts` catches up on any article still without facts and re-merges the stories a pass touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture

from newsmon.errors import ModelUnavailable
from newsmon.extract.facts import ArticleFacts, merge_quotes, merge_story_facts, model_version
from newsmon.flows.batches import FactsChunk, FactsRead, fact_extractor, plan_readings, read_facts
from newsmon.flows.pipeline import LookAhead
from newsmon.flows.runners import SettingsTaskRunner, batches_in_flight
from newsmon.settings import Settings, get_settings
from newsmon.storage.db import DatabaseLocked, open_reader, open_writer
from newsmon.storage.facts import (
    articles_needing_facts,
    record_readings,
    replace_story_facts,
    reset_facts,
    stories_of,
    story_sources,
    write_article_facts,
)

# What stops fact extraction for the pass and leaves its articles for the next one: the database busy, the
# model missing (from a worker it comes back as a chunk's error). Anything else is a bug: the pass fails loudly.
FACTS_FAILURES = (DatabaseLocked, ModelUnavailable)


@dataclass
class FactsOutcome:
    articles: int = 0
    facts: int = 0
    story_facts: int = 0
    stories: set[str] = field(default_factory=set)  # stories whose articles got new facts
    error: str | None = None  # the step failed; its articles wait for the next pass


def facts_version(settings: Settings) -> str:
    """The extractor as configured: the rules and every language's model (a new model means reading again)."""
    models = settings.models_by_language()
    english = fact_extractor(models.pop("en"), settings.nlp_batch_size).version
    others = [f"{language}:{model_version(model)}" for language, model in sorted(models.items())]
    return "+".join([english, *others])


def facts_todo(settings: Settings) -> FactsChunk:
    """First copies whose facts are missing or outdated."""
    with open_reader(settings.db, timeout=settings.lock_timeout) as con:
        return articles_needing_facts(con, facts_version(settings))


def submit_reading(settings: Settings, todo: FactsChunk, parts: int) -> list[PrefectFuture[FactsRead]]:
    """NLP of `todo` on the task runner, in `parts` chunks (one per idle worker) of at most a batch each."""
    size = max(1, min(settings.batch_size, -(-len(todo) // max(parts, 1))))
    readings = plan_readings(todo, settings.models_by_language(), settings.nlp_max_chars)
    return [
        read_facts.submit(todo[start : start + size], readings[start : start + size], settings.nlp_batch_size)
        for start in range(0, len(todo), size)
    ]


def store_facts(settings: Settings, read: FactsRead, outcome: FactsOutcome) -> list[str]:
    """Write one chunk's facts; returns the stories of its articles. NLP ran with no connection open: analysts
    are blocked only for the write."""
    if read.error is not None:
        outcome.error = read.error
        get_run_logger().error("Fact extraction failed: %s", read.error)
        return []
    results: list[tuple[str, ArticleFacts]] = read.found
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        write_article_facts(con, results, facts_version(settings))
        record_readings(con, read.readings)
        stories = stories_of(con, [article_id for article_id, _ in results])
    outcome.stories.update(stories)
    outcome.articles += len(results)
    outcome.facts += sum(len(found.facts) for _, found in results)
    return stories


def merge_stories(settings: Settings, story_ids: Sequence[str]) -> int:
    """Merge each story's facts and quotes across its sources (pure, in extract) and store them."""
    if not story_ids:
        return 0
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
        steps = LookAhead(in_flight=batches_in_flight(settings))
        todo = facts_todo(settings) if outcome.error is None else []  # no second try at a model that failed
        for future in submit_reading(settings, todo, parts=batches_in_flight(settings)):
            steps.add(future, lambda read: store_facts(settings, read, outcome))
        steps.drain()
        outcome.story_facts = merge_stories(settings, sorted(outcome.stories | set(touched_stories)))
    except FACTS_FAILURES as exc:
        outcome.error = f"{type(exc).__name__}: {exc}; these facts wait for the next pass"
        logger.warning(outcome.error)
    else:
        logger.info(
            "Facts: %d articles, %d facts, %d story facts", outcome.articles, outcome.facts, outcome.story_facts
        )
    return outcome


@flow(name="reextract-facts", task_runner=SettingsTaskRunner())
def reextract_facts(db: str | None = None) -> FactsOutcome:
    """Extract every article's facts again from its stored text (after the extractor improved). No refetch."""
    settings = get_settings(**({"db": Path(db)} if db else {}))
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        reset_facts(con)
    return extract_facts(settings, [])
