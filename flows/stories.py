"""Story clustering in the pipeline: assign new articles to stories, or rebuild every story (`recluster`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newsmon.settings import Settings, get_settings
from newsmon.storage.db import DatabaseLocked, open_writer
from newsmon.storage.stories import (
    clear_stories,
    open_window,
    stories_by_id,
    unassigned_articles,
    window_start,
    write_assignments,
)
from newsmon.stories import STORY_ALGORITHM_VERSION, ClusterSettings, StoryClusterer


@dataclass
class StoryOutcome:
    articles: int = 0
    new_stories: int = 0
    duplicates: int = 0
    skipped: bool = False  # the database was busy: the articles wait for the next pass
    new: list[dict[str, object]] = field(default_factory=list)  # the stories opened: id, title, outlets
    touched: list[str] = field(default_factory=list)  # every story that gained an article


@task(name="assign-stories", cache_policy=NO_CACHE, persist_result=False, retries=1, retry_delay_seconds=5)
def assign_stories(settings: Settings, *, rebuild: bool = False) -> StoryOutcome:
    """Give every article without a story one, continuing from the open stories' window."""
    cluster_settings = ClusterSettings()
    outcome = StoryOutcome()
    now = datetime.now(UTC)
    try:
        with open_writer(settings.db, timeout=settings.lock_timeout) as con:
            if rebuild:
                clear_stories(con)
            docs = unassigned_articles(con)
            if not docs:
                return outcome
            clusterer = StoryClusterer(cluster_settings)
            clusterer.restore(open_window(con, window_start(docs, now, cluster_settings.window_days)))
            assignments = clusterer.assign(docs)
            write_assignments(con, assignments, now=now, algorithm_version=STORY_ALGORITHM_VERSION)
            outcome.new = stories_by_id(con, [a.story_id for a in assignments if a.story_id == f"s-{a.article_id}"])
    except DatabaseLocked:
        get_run_logger().warning("Database busy: stories are assigned on the next pass")
        return StoryOutcome(skipped=True)
    outcome.articles = len(assignments)
    outcome.touched = sorted({a.story_id for a in assignments})
    outcome.new_stories = sum(1 for a in assignments if a.story_id == f"s-{a.article_id}")
    outcome.duplicates = sum(1 for a in assignments if a.duplicate_of)
    get_run_logger().info(
        "Stories: %d articles assigned, %d new stories, %d near-duplicates",
        outcome.articles, outcome.new_stories, outcome.duplicates,
    )
    return outcome


@flow(name="recluster")
def recluster(db: str | None = None) -> StoryOutcome:
    """Rebuild every story from the stored articles (after the clustering algorithm changed). No refetch."""
    settings = get_settings(**({"db": Path(db)} if db else {}))
    return assign_stories(settings, rebuild=True)
