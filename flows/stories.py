"""Story clustering in the pipeline: assign new articles to stories, or rebuild every story (`recluster`).

One clusterer lives for the whole pass: restored once from the open window (or its snapshot), it assigns
each written batch as soon as it is stored, and its state is saved for the next pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task

from newsmon import progress
from newsmon.errors import InputError
from newsmon.flows.runners import TASK_OPTIONS
from newsmon.settings import Settings, get_settings
from newsmon.storage.db import DatabaseLocked, open_reader, open_writer
from newsmon.storage.stories import (
    clear_stories,
    has_unassigned,
    keep_previous_story_ids,
    load_clusterer,
    save_clusterer,
    stories_by_id,
    unassigned_articles,
    unassigned_count,
    write_assignments,
)
from newsmon.stories import STORY_ALGORITHM_VERSION, Assignment, ClusterSettings, StoryClusterer, StoryDoc, as_of
from newsmon.stories.model import model_from_json

NEW_STORIES_LISTED = 500  # in a pass's outcome and its "new stories" artifact


@dataclass
class StoryOutcome:
    articles: int = 0
    new_stories: int = 0
    duplicates: int = 0
    merges: int = 0  # young stories merged into another (stories.ClusterSettings.merge_probability)
    splits: int = 0  # stories whose later reports left them for a story of their own (ClusterSettings.split_ratio)
    skipped: bool = False  # the database was busy: the articles wait for the next pass
    new: list[dict[str, object]] = field(default_factory=list)  # the stories opened: id, title, outlets
    touched: list[str] = field(default_factory=list)  # every story that gained an article
    to_read: list[StoryDoc] = field(default_factory=list)  # first copies (not near-duplicates) just assigned

    def add(self, other: StoryOutcome) -> None:
        """Count another batch's outcome in; its texts are not kept, and only the first stories opened are
        listed, so a pass's outcome stays small however many articles it assigns."""
        self.articles += other.articles
        self.new_stories += other.new_stories
        self.duplicates += other.duplicates
        self.merges += other.merges
        self.splits += other.splits
        self.skipped = self.skipped or other.skipped
        self.new.extend(other.new[: max(0, NEW_STORIES_LISTED - len(self.new))])
        self.touched = sorted({*self.touched, *other.touched})


@task(name="restore-stories", retries=1, retry_delay_seconds=5, **TASK_OPTIONS)
def restore_stories(settings: Settings, *, only_if_unassigned: bool = False) -> StoryClusterer | None:
    """The clusterer as the last pass left it: its snapshot if still current, else rebuilt from the window.
    With `only_if_unassigned`, None when every stored article has a story."""
    with open_reader(settings.db, timeout=settings.lock_timeout) as con:
        if only_if_unassigned and not has_unassigned(con):
            return None
        clusterer, source = load_clusterer(con, settings.db, cluster_settings(settings))
    get_run_logger().info(
        "Stories: %d open stories, %d articles in the window (%s)",
        clusterer.open_stories, clusterer.stored_articles, source,
    )
    return clusterer


def cluster_settings(settings: Settings) -> ClusterSettings:
    """The clusterer's settings in the pipeline: the window cap, and the join model of NEWSMON_STORY_MODEL when
    set (else the shipped one). A snapshot made with another model is outdated (its key holds the settings)."""
    base = ClusterSettings(max_open_articles=settings.story_window_articles)
    if settings.story_model is None:
        return base
    try:
        text = settings.story_model.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"NEWSMON_STORY_MODEL: cannot read {settings.story_model}: {exc.strerror}") from None
    model = model_from_json(text, f"NEWSMON_STORY_MODEL {settings.story_model}")
    return replace(
        base, weights=model.weights, bias=model.bias, threshold=model.join_probability,
        merge_probability=model.merge_probability, split_ratio=model.split_ratio,
    )


# No retries: the clusterer has seen the articles once an attempt got past reading them.
@task(name="assign-stories", **TASK_OPTIONS)
def assign_stories(settings: Settings, clusterer: StoryClusterer) -> StoryOutcome:
    """Give the oldest stored articles without a story (up to `assign_limit`) one, continuing the
    clusterer's stream."""
    now = datetime.now(UTC)
    try:
        with open_writer(settings.db, timeout=settings.lock_timeout) as con:
            docs = unassigned_articles(con, assign_limit(settings))
            if not docs:
                return StoryOutcome()
            closed_early = clusterer.closed_early
            # Seen no later than this pass's time (a day's slack): a misdated report cannot move the clock.
            assignments = clusterer.assign([as_of(doc, now) for doc in docs])
            closed_early = clusterer.closed_early - closed_early
            merged = write_assignments(con, assignments, now=now, algorithm_version=STORY_ALGORITHM_VERSION)
            new_ids = [a.story_id for a in assignments if opens_story(a) and a.story_id not in merged]
            new = stories_by_id(con, new_ids)
    except DatabaseLocked:  # raised on opening, before the clusterer saw anything
        get_run_logger().warning("Database busy: stories are assigned on the next pass")
        return StoryOutcome(skipped=True)
    # Stories that lost reports to a split are touched too: their facts are merged again without those reports'.
    left = [a.evidence["split"]["story_id"] for a in assignments if "split" in a.evidence]
    outcome = StoryOutcome(
        articles=len(assignments), new_stories=len(new_ids), duplicates=sum(1 for a in assignments if a.duplicate_of),
        new=new, touched=sorted({merged.get(s, s) for s in [*(a.story_id for a in assignments), *left]}),
        merges=len(merged), splits=len(left),
        to_read=[doc for doc, a in zip(docs, assignments, strict=True) if a.duplicate_of is None],
    )
    get_run_logger().info(
        "Stories: %d articles assigned, %d new stories, %d near-duplicates, %d young stories merged, %d split",
        outcome.articles, outcome.new_stories, outcome.duplicates, outcome.merges, outcome.splits,
    )
    if closed_early:
        get_run_logger().warning(
            "Stories: %d stories closed before their window ended: more than %d articles in the window "
            "(NEWSMON_STORY_WINDOW_ARTICLES; raise it if memory allows, about 8 KB per article)",
            closed_early, clusterer.settings.max_open_articles,
        )
    return outcome


def opens_story(assignment: Assignment) -> bool:
    """The clusterer recorded that this article opened a story (rather than joining or duplicating one), or took
    the story's later reports into a story of their own (a split)."""
    return assignment.evidence.get("method") == "new" or "split" in assignment.evidence


def assign_limit(settings: Settings) -> int:
    # A written batch, and room for what an earlier pass left over, in one call: memory stays bounded by
    # the batch size, and a pass's own batches need one call each.
    return 2 * settings.batch_size


def assign_waiting(settings: Settings, clusterer: StoryClusterer) -> Iterator[StoryOutcome]:
    """Assign every stored article without a story, a limited batch at a time; yields each batch's outcome."""
    while True:
        outcome = assign_stories(settings, clusterer)
        yield outcome
        if outcome.skipped or outcome.articles < assign_limit(settings):
            return


@task(name="save-stories", **TASK_OPTIONS)
def save_stories(settings: Settings, clusterer: StoryClusterer) -> None:
    """Snapshot the clusterer so the next pass need not rebuild it from the window (best effort)."""
    try:
        with open_reader(settings.db, timeout=settings.lock_timeout) as con:
            save_clusterer(con, settings.db, clusterer)
    except (OSError, DatabaseLocked) as exc:
        get_run_logger().warning("Could not save the stories' snapshot (the next pass rebuilds it): %s", exc)


@flow(name="recluster")
def recluster(db: str | None = None) -> StoryOutcome:
    """Rebuild every story from the stored articles (after the clustering algorithm changed). No refetch."""
    settings = get_settings(**({"db": Path(db)} if db else {}))
    cluster_settings(settings)  # a model file that cannot be used is refused before any story is cleared
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        clear_stories(con, settings.db)
        total = unassigned_count(con)
    clusterer = restore_stories(settings)
    if clusterer is None:  # only when asked to skip a store with nothing to assign
        return StoryOutcome()
    outcome = StoryOutcome()
    for assigned in assign_waiting(settings, clusterer):
        outcome.add(assigned)
        progress.report("stories", assigned.articles, total=total)
    if not outcome.skipped:
        clusterer.rename_stories(keep_story_ids(settings))
        save_stories(settings, clusterer)
    return outcome


@task(name="keep-story-ids", **TASK_OPTIONS)
def keep_story_ids(settings: Settings) -> dict[str, str]:
    """Each rebuilt story takes the id most of its articles had before the recluster: alerts, keyed by story
    id, then follow the same stories and do not fire again."""
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        renames = keep_previous_story_ids(con)
    get_run_logger().info("Stories: %d rebuilt stories renamed to their articles' previous id", len(renames))
    return renames
