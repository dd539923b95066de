"""The `ingest` flow: one pass of the whole pipeline.

poll the due feeds → for each batch of pages: fetch and extract, write, assign stories, read the first copies'
facts → merge facts per story → evaluate and deliver alerts → record the run.

Tasks work on batches (one poll task for all due feeds, then a few tasks per batch of pages), never one task per
article. Batches flow through the stages one after another, so the workers fetch, extract and read the next
batches while this process writes and clusters the last one. Each task is a thin call into `newsmon.ingest`,
`newsmon.stories`, `newsmon.extract`, `newsmon.alerts` and `newsmon.storage`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from newsmon.errors import ModelUnavailable
from newsmon.extract.urls import canonical_url
from newsmon.flows.alerts import deliver_alerts, evaluate_alerts
from newsmon.flows.batches import fetch_articles
from newsmon.flows.facts import FactsOutcome, FactsResult, extract_facts, store_facts, submit_reading
from newsmon.flows.runners import TASK_OPTIONS, batches_in_flight, in_shard, make_task_runner
from newsmon.flows.stories import NEW_STORIES_LISTED, StoryOutcome, assign_waiting, restore_stories, save_stories
from newsmon.ingest.articles import PageJob, group_by_page
from newsmon.ingest.poll import PollPlan, plan_polls, poll_feeds
from newsmon.model import FeedState, QueuedItem, RunRecord, WriteBatch
from newsmon.settings import Settings, get_settings
from newsmon.storage.db import DatabaseLocked, open_reader
from newsmon.storage.lock import RunInProgress, exclusive_run
from newsmon.storage.reads import (
    articles_by_canonical_url,
    due_feeds,
    known_items,
    queued_items,
)
from newsmon.storage.writes import merge_spool, write_batch

# Seconds of work per stage. fetch, extract and nlp run on the task runner's workers, in parallel with each
# other and with the rest, so the stages add up to more than the pass's wall time.
STAGES = ("poll", "fetch", "extract", "write", "stories", "nlp", "facts", "alerts")


@dataclass
class IngestSummary(RunRecord):
    """The pass's `runs` row, and why the pass did nothing when another one held the database."""

    skipped: str | None = None

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add_seconds({stage: time.perf_counter() - started})

    def add_seconds(self, seconds: dict[str, float]) -> None:
        for stage, elapsed in seconds.items():
            self.stage_seconds[stage] = round(self.stage_seconds.get(stage, 0.0) + elapsed, 3)


@task(name="merge-spool", retries=2, retry_delay_seconds=[2, 10], **TASK_OPTIONS)
def prepare_store(settings: Settings) -> int:
    """Create or migrate the database and merge batches spooled while it was locked."""
    return merge_spool(settings.db, lock_timeout=settings.lock_timeout)


@task(name="load-due-feeds", retries=2, retry_delay_seconds=[2, 10], **TASK_OPTIONS)
def load_due_feeds(settings: Settings, all_feeds: bool, shard: int, shards: int) -> list[FeedState]:
    with open_reader(settings.db, timeout=settings.lock_timeout) as con:
        feeds = due_feeds(con, datetime.now(UTC), all_feeds=all_feeds)
    return [f for f in feeds if in_shard(f.url, shard, shards)]


@task(name="poll-feeds", **TASK_OPTIONS)
def poll(feeds: list[FeedState], settings: Settings, run_id: str) -> PollPlan:
    logger = get_run_logger()
    polls = asyncio.run(poll_feeds(feeds, settings))
    item_keys = [(p.feed.url, i.key) for p in polls if p.parsed for i in p.parsed.items]
    links = [i.link for p in polls if p.parsed for i in p.parsed.items if i.link]
    with open_reader(settings.db, timeout=settings.lock_timeout) as con:
        known = known_items(con, item_keys)
        known_articles = articles_by_canonical_url(con, (canonical_url(u) for u in links))
    plan = plan_polls(polls, known, known_articles, now=datetime.now(UTC), run_id=run_id, settings=settings)
    logger.info(
        "Polled %d feeds: %d changed, %d not modified, %d failed; %d items to fetch",
        plan.feeds_polled, plan.feeds_polled - plan.feeds_not_modified - plan.feeds_failed,
        plan.feeds_not_modified, plan.feeds_failed, len(plan.queue),
    )
    for p in polls:
        if p.error is not None:
            logger.warning("Feed %s failed: %s", p.feed.url, p.error)
    return plan


@task(name="write", retries=2, retry_delay_seconds=[2, 10], **TASK_OPTIONS)
def write(batch: WriteBatch, settings: Settings) -> tuple[int, int, int, bool]:
    outcome = write_batch(settings.db, batch, lock_timeout=settings.lock_timeout)
    if outcome.spooled:
        get_run_logger().warning(
            "Database locked for %.0f s by another process: batch spooled, merged on the next pass",
            settings.lock_timeout,
        )
    return outcome.articles_new, outcome.articles_updated, outcome.articles_unchanged, outcome.spooled


@task(name="load-queue", **TASK_OPTIONS)
def load_queue(settings: Settings, planned: list[QueuedItem], shard: int, shards: int) -> list[PageJob]:
    """Items to fetch: those just found plus any left pending or failed (retryable) by earlier passes."""
    with open_reader(settings.db, timeout=settings.lock_timeout) as con:
        stored = queued_items(con, max_attempts=settings.item_max_attempts)
    merged = {(i.feed_url, i.item_key): i for i in stored if in_shard(i.feed_url, shard, shards)}
    for item in planned:
        merged.setdefault((item.feed_url, item.item_key), item)
    return group_by_page(list(merged.values()))


@task(name="record-run", retries=2, retry_delay_seconds=[2, 10], **TASK_OPTIONS)
def record_run(summary: IngestSummary, new_stories: list[dict[str, object]], settings: Settings) -> None:
    write_batch(settings.db, WriteBatch(runs=[summary]), lock_timeout=settings.lock_timeout)
    create_markdown_artifact(
        key="ingest-summary",
        markdown=_summary_markdown(summary),
        description="What this ingest pass did",
    )
    if new_stories:
        create_table_artifact(
            key="ingest-new-stories", table=new_stories,
            description=f"Stories this pass opened (the first {NEW_STORIES_LISTED})",
        )


@flow(name="ingest", log_prints=True, task_runner=make_task_runner(get_settings()))
def ingest(db: str | None = None, all_feeds: bool = False, shard: int = 0, shards: int = 1) -> IngestSummary:
    """One ingest pass over the feeds that are due (or all of them).

    `shard`/`shards` split the feeds between deployments (feed URL hash modulo `shards`), so several workers
    can share the load. Passes of one shard never overlap: a second one (a manual run during a scheduled
    one) waits up to NEWSMON_RUN_LOCK_WAIT seconds, then ends without doing anything and says why.
    """
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be in 0..{shards - 1}, not {shard}")
    settings = get_settings(**({"db": Path(db)} if db else {}))
    summary = IngestSummary(
        run_id=uuid.uuid4().hex, started_at=datetime.now(UTC), status="running", all_feeds=all_feeds,
        flow_run_id=str(flow_run.id) if flow_run.id else None,
    )
    try:
        with exclusive_run(settings.db, wait=settings.run_lock_wait, scope=f"{shard}of{shards}"):
            _ingest_pass(settings, summary, all_feeds, shard, shards)
    except RunInProgress as exc:
        get_run_logger().warning("%s: this pass did nothing", exc)
        summary.status, summary.skipped = "skipped", str(exc)
    return summary


def _ingest_pass(settings: Settings, summary: IngestSummary, all_feeds: bool, shard: int, shards: int) -> None:
    new_stories: list[dict[str, object]] = []
    summary.stage_seconds = dict.fromkeys(STAGES, 0.0)
    try:
        with summary.timed("poll"):
            prepare_store(settings)
            feeds = load_due_feeds(settings, all_feeds, shard, shards)
            summary.feeds_due = len(feeds)
            plan = poll(feeds, settings, summary.run_id)
            summary.feeds_polled, summary.feeds_not_modified = plan.feeds_polled, plan.feeds_not_modified
            summary.feeds_failed, summary.items_refused = plan.feeds_failed, plan.items_refused
            _count(summary, write(plan.batch, settings))
        stories, facts = _process_pages(load_queue(settings, plan.queue, shard, shards), settings, summary)
        summary.stories_new, summary.articles_clustered = stories.new_stories, stories.articles
        summary.near_duplicates, new_stories = stories.duplicates, stories.new
        with summary.timed("facts"):  # articles left over by earlier passes, then the merge per story
            facts = extract_facts(settings, stories.touched, facts)
        summary.facts_articles, summary.facts_error = facts.articles, facts.error
        # Never raise: alerting problems are logged and recorded in the outbox, the pass goes on.
        with summary.timed("alerts"):
            evaluated = evaluate_alerts(settings)
            summary.alerts_new = evaluated.alerts + evaluated.follow_ups
            summary.alerts_sent = deliver_alerts(settings).sent
        summary.status = "completed"
    except Exception as exc:
        summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        summary.finished_at = datetime.now(UTC)
        try:
            record_run(summary, new_stories, settings)
        except Exception as exc:  # the pass's own outcome matters more than its bookkeeping
            get_run_logger().error("Could not record the run: %s", exc)


def _process_pages(
    jobs: list[PageJob], settings: Settings, summary: IngestSummary
) -> tuple[StoryOutcome, FactsOutcome]:
    """Each batch of pages: fetch and extract (worker) → write → assign stories → read facts (worker) → write.

    Work is queued on the task runner a little ahead of what this process consumes, so the workers extract and
    read while it writes and clusters; memory stays bounded by the batch size.
    """
    stories, facts = StoryOutcome(), FactsOutcome()
    with summary.timed("stories"):
        # Without new pages, only articles an earlier pass left without a story (database busy, spooled batches
        # merged at the start of this one) need the clusterer.
        clusterer = restore_stories(settings, only_if_unassigned=not jobs)
    if clusterer is None:
        return stories, facts
    runner = type(FlowRunContext.get().task_runner).__name__  # type: ignore[union-attr]
    get_run_logger().info("%d pages to fetch in batches of %d on %s", len(jobs), settings.batch_size, runner)
    workers = batches_in_flight(settings)
    # Futures in the order they were queued: the runner works first in, first out, so the oldest is done first.
    queued: deque[tuple[str, PrefectFuture[Any]]] = deque()

    def assign_and_read() -> None:
        waiting = assign_waiting(settings, clusterer)
        while True:
            with summary.timed("stories"):
                assigned = next(waiting, None)
            if assigned is None:
                return
            stories.add(assigned)
            if facts.error is None and assigned.to_read:
                # New articles have no facts yet: read the first copies' texts as they were just clustered.
                todo = [(d.article_id, d.text, d.published_at, d.title) for d in assigned.to_read]
                queued.extend(("facts", f) for f in submit_reading(settings, todo, parts=workers))

    def store_pages(future: PrefectFuture[tuple[WriteBatch, dict[str, float]]]) -> None:
        batch, seconds = future.result()
        summary.add_seconds(seconds)
        summary.articles_failed += sum(1 for i in batch.items if i.status == "failed")
        with summary.timed("write"):
            # quote(): Prefect would otherwise visit every field of every record looking for futures.
            _count(summary, write(quote(batch), settings))
        assign_and_read()

    def store_read_facts(future: PrefectFuture[FactsResult]) -> None:
        try:
            results, seconds = future.result()
            summary.add_seconds(seconds)
            with summary.timed("write"):
                store_facts(settings, results, facts)
        except (ModelUnavailable, DatabaseLocked) as exc:  # a missing model, a busy database
            facts.error = f"{type(exc).__name__}: {exc}"  # these articles are read again next pass

    def finish_oldest() -> None:
        kind, future = queued.popleft()
        store_pages(future) if kind == "pages" else store_read_facts(future)

    assign_and_read()  # articles left over by earlier passes first: they are older
    for start in range(0, len(jobs), settings.batch_size):
        batch = jobs[start : start + settings.batch_size]
        queued.append(("pages", fetch_articles.submit(batch, settings, summary.run_id)))
        while len(queued) > workers:
            finish_oldest()
    while queued:
        finish_oldest()
    if not stories.skipped:
        save_stories(settings, clusterer)
    return stories, facts


def _count(summary: IngestSummary, outcome: tuple[int, int, int, bool]) -> None:
    new, updated, unchanged, spooled = outcome
    summary.articles_new += new
    summary.articles_updated += updated
    summary.articles_unchanged += unchanged
    summary.spooled_batches += int(spooled)


def _summary_markdown(summary: IngestSummary) -> str:
    counts = {k: v for k, v in asdict(summary).items() if isinstance(v, int) and not isinstance(v, bool)}
    rows = "\n".join(f"| {k.replace('_', ' ')} | {v} |" for k, v in counts.items())
    stages = "\n".join(f"| {stage} | {seconds:.2f} |" for stage, seconds in summary.stage_seconds.items())
    return (
        f"# Ingest pass `{summary.run_id}`\n\n| | |\n|---|---|\n{rows}\n\n"
        "## Time per stage\n\nSeconds of work; fetch, extract and nlp run on the workers, in parallel with the rest."
        f"\n\n| stage | seconds |\n|---|---|\n{stages}\n"
    )
