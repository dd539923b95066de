"""The `ingest` flow: one pass of the whole pipeline.

poll the due feeds → for each batch of pages: fetch, extract, write, assign stories, read the first copies'
facts, merge them per story and alert → catch up on facts left over → deliver alerts → record the run.

All I/O of a pass goes through one fetcher in this process (`PassFetcher`: one set of per-host gates for the
whole pass); the task runner's workers only extract pages and read texts. Nothing waits for the slowest: each
feed's pages are fetched as soon as it answered, each batch is written, clustered, read and alerted on as soon
as it is extracted, while the workers extract the next ones (`LookAhead`). Tasks work on batches (a group of
answered feeds, a batch of pages, a chunk of texts), never one task per article. Each task is a thin call into
`newsmon.ingest`, `newsmon.stories`, `newsmon.extract`, `newsmon.alerts` and `newsmon.storage`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from newsmon import progress
from newsmon.extract.urls import canonical_url
from newsmon.flows.alerting import BackgroundDelivery
from newsmon.flows.alerts import deliver_alerts, evaluate_alerts
from newsmon.flows.batches import ExtractedBatch, FactsRead, extract_articles
from newsmon.flows.facts import (
    FACTS_FAILURES,
    FactsOutcome,
    extract_facts,
    merge_stories,
    store_facts,
    submit_reading,
)
from newsmon.flows.pipeline import LookAhead
from newsmon.flows.runners import (
    TASK_OPTIONS,
    SettingsTaskRunner,
    batches_in_flight,
    in_shard,
    share_api_with_workers,
    start_workers,
)
from newsmon.flows.stories import (
    NEW_STORIES_LISTED,
    StoryOutcome,
    assign_waiting,
    cluster_settings,
    restore_stories,
    save_stories,
)
from newsmon.ingest.articles import FetchedPage, PageJob, group_by_page, news_time
from newsmon.ingest.poll import FeedPoll, PollPlan, plan_polls
from newsmon.ingest.stream import PassFetcher
from newsmon.model import FeedState, QueuedItem, RunRecord, RunStatus, WriteBatch
from newsmon.settings import Settings, get_settings
from newsmon.storage.db import kept_open, open_reader, writer_session
from newsmon.storage.lock import RunInProgress, exclusive_run
from newsmon.storage.reads import (
    articles_by_canonical_url,
    due_feeds,
    known_items,
    queued_items,
)
from newsmon.storage.stories import stories_by_id
from newsmon.storage.writes import WriteOutcome, merge_spool, write_batch
from newsmon.stories import StoryClusterer

# Seconds of work per stage. fetch, extract and nlp run on the task runner's workers, in parallel with each
# other and with the rest, so the stages add up to more than the pass's wall time.
STAGES = ("poll", "fetch", "extract", "write", "stories", "nlp", "facts", "alerts")

# Seconds the first fetched pages (or answered feeds) wait for company before they are handed on while a worker
# is free: the first articles of a pass are stored within seconds, and batches stay large once the pass is busy.
LINGER = 1.0

# Seconds between two evaluations of the alert rules during a pass (and once more at its end). Each evaluation
# reads every story changed since the last one; evaluating after every batch read cost the flow process about as
# much as writing the batches (24 s of a 185 s cold pass), on the cores the workers need. The first batch read
# is evaluated at once: the first alert of a pass does not wait.
ALERT_EVERY = 10.0


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

    def count_written(self, outcome: WriteOutcome) -> None:
        self.articles_new += outcome.articles_new
        self.articles_updated += outcome.articles_updated
        self.articles_unchanged += outcome.articles_unchanged
        self.spooled_batches += int(outcome.spooled)

    def count_polls(self, plan: PollPlan) -> None:
        self.feeds_polled += plan.feeds_polled
        self.feeds_not_modified += plan.feeds_not_modified
        self.feeds_failed += plan.feeds_failed
        self.items_refused += plan.items_refused


@task(name="prepare-store", retries=2, retry_delay_seconds=[2, 10], **TASK_OPTIONS)
def prepare_store(settings: Settings) -> int:
    """Create or migrate the database and merge batches spooled while it was locked."""
    return merge_spool(settings.db, lock_timeout=settings.lock_timeout)


@task(name="load-due-feeds", retries=2, retry_delay_seconds=[2, 10], **TASK_OPTIONS)
def load_due_feeds(settings: Settings, all_feeds: bool, shard: int, shards: int) -> list[FeedState]:
    with open_reader(settings.db, timeout=settings.lock_timeout) as con:
        feeds = due_feeds(con, datetime.now(UTC), all_feeds=all_feeds)
    return [f for f in feeds if in_shard(f.url, shard, shards)]


@task(name="plan-polls", **TASK_OPTIONS)
def plan_answered(polls: list[FeedPoll], settings: Settings, run_id: str) -> PollPlan:
    """What the feeds that answered change: their state, their poll log, and the items to fetch."""
    logger = get_run_logger()
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
def write(batch: WriteBatch, settings: Settings) -> WriteOutcome:
    outcome = write_batch(settings.db, batch, lock_timeout=settings.lock_timeout)
    if outcome.spooled:
        get_run_logger().warning(
            "Database locked for %.0f s by another process: batch spooled, merged on the next pass",
            settings.lock_timeout,
        )
    return outcome


@task(name="load-queue", **TASK_OPTIONS)
def load_queue(settings: Settings, shard: int, shards: int) -> list[QueuedItem]:
    """Items earlier passes left pending or failed (retryable): fetched first, they are the oldest news."""
    with open_reader(settings.db, timeout=settings.lock_timeout) as con:
        stored = queued_items(con, max_attempts=settings.item_max_attempts)
    return [i for i in stored if in_shard(i.feed_url, shard, shards)]


@task(name="record-run", retries=2, retry_delay_seconds=[2, 10], **TASK_OPTIONS)
def record_run(summary: IngestSummary, new_stories: list[dict[str, object]], settings: Settings) -> None:
    with writer_session(settings.db):
        _record_run(summary, new_stories, settings)


def _record_run(summary: IngestSummary, new_stories: list[dict[str, object]], settings: Settings) -> None:
    write_batch(settings.db, WriteBatch(runs=[summary]), lock_timeout=settings.lock_timeout)
    create_markdown_artifact(
        key="ingest-summary",
        markdown=_summary_markdown(summary),
        description="What this ingest pass did",
    )
    if new_stories:
        # As they stand at the end of the pass: a story opened by one batch may have gained outlets in a later one.
        with open_reader(settings.db, timeout=settings.lock_timeout) as con:
            listed = stories_by_id(con, [str(row["story_id"]) for row in new_stories])
        create_table_artifact(
            key="ingest-new-stories", table=listed,
            description=f"Stories this pass opened (the first {NEW_STORIES_LISTED})",
        )


@flow(name="ingest", log_prints=True, task_runner=SettingsTaskRunner())
def ingest(db: str | None = None, all_feeds: bool = False, shard: int = 0, shards: int = 1) -> IngestSummary:
    """One ingest pass over the feeds that are due (or all of them).

    `shard`/`shards` split the feeds between deployments (feed URL hash modulo `shards`), so several workers
    can share the load. Passes of one shard never overlap: a second one (a manual run during a scheduled
    one) waits up to NEWSMON_RUN_LOCK_WAIT seconds, then ends without doing anything and says why.
    The task runner is the one the settings name when the run starts; `ingest.with_options(task_runner=...)`
    picks another for one call.
    """
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be in 0..{shards - 1}, not {shard}")
    settings = get_settings(**({"db": Path(db)} if db else {}))
    cluster_settings(settings)  # a story model file that cannot be used is refused before anything is fetched
    summary = IngestSummary(
        run_id=uuid.uuid4().hex, started_at=datetime.now(UTC), status=RunStatus.RUNNING, all_feeds=all_feeds,
        flow_run_id=str(flow_run.id) if flow_run.id else None,
    )
    try:
        with (
            exclusive_run(settings.db, wait=settings.run_lock_wait, scope=f"{shard}of{shards}"),
            kept_open(settings.db, settings.db_keep_open),  # a batch's writes reuse the last one's open file
        ):
            _ingest_pass(settings, summary, all_feeds, shard, shards)
    except RunInProgress as exc:
        get_run_logger().warning("%s: this pass did nothing", exc)
        summary.status, summary.skipped = RunStatus.SKIPPED, str(exc)
    return summary


def _ingest_pass(settings: Settings, summary: IngestSummary, all_feeds: bool, shard: int, shards: int) -> None:
    summary.stage_seconds = dict.fromkeys(STAGES, 0.0)
    run = PagesPass(settings, summary)
    try:
        with summary.timed("poll"), writer_session(settings.db):
            prepare_store(settings)
            feeds = load_due_feeds(settings, all_feeds, shard, shards)
            leftovers = load_queue(settings, shard, shards)
        summary.feeds_due = len(feeds)
        progress.report("feeds", 0, len(feeds))
        run.process(feeds, leftovers)
        summary.stories_new, summary.articles_clustered = run.stories.new_stories, run.stories.articles
        summary.near_duplicates = run.stories.duplicates
        summary.stories_merged, summary.stories_split = run.stories.merges, run.stories.splits
        with summary.timed("facts"):  # articles left over by earlier passes, then the merge per story
            facts = extract_facts(settings, run.stories.touched, run.facts)
        summary.facts_articles, summary.facts_error = facts.articles, facts.error
        with summary.timed("alerts"):
            run.alert()
        run.deliver()
        summary.status = RunStatus.COMPLETED
    except KeyboardInterrupt:  # Ctrl-C: what was written stays; the items not stored yet wait for the next pass
        summary.status, summary.error = RunStatus.INTERRUPTED, "interrupted (Ctrl-C)"
        raise
    except Exception as exc:
        summary.status, summary.error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        raise
    finally:
        summary.finished_at = datetime.now(UTC)
        try:
            record_run(summary, run.stories.new, settings)
        except Exception as exc:  # the pass's own outcome matters more than its bookkeeping
            get_run_logger().error("Could not record the run: %s", exc)


class PagesPass:
    """The batches of one pass: poll → fetch → extract → write → stories → facts → alerts, batch by batch.

    The fetcher works in its own thread; `LookAhead` keeps the workers extracting and reading the next batches
    while this process writes, clusters and alerts on the ones before them.
    """

    def __init__(self, settings: Settings, summary: IngestSummary) -> None:
        self.settings = settings
        self.summary = summary
        self.stories = StoryOutcome()
        self.facts = FactsOutcome()
        self.workers = batches_in_flight(settings)
        self.steps = LookAhead(in_flight=self.workers)
        self._clusterer: StoryClusterer | None = None
        self._clusterer_restored = False
        self._queued: dict[str, PageJob] = {}  # canonical URL -> page not yet handed to a worker
        self._seen_items: set[tuple[str, str]] = set()
        self._pages_total = 0
        self._fetcher: PassFetcher | None = None  # while the pass fetches
        self._alerted_at = -ALERT_EVERY  # the first batch read alerts at once
        self._sending: BackgroundDelivery | None = None  # while the pages are processed

    def process(self, feeds: Sequence[FeedState], leftovers: Sequence[QueuedItem]) -> None:
        runner = type(FlowRunContext.get().task_runner).__name__  # type: ignore[union-attr]
        get_run_logger().info(
            "%d feeds to poll, %d items left by earlier passes; pages in batches of %d on %s",
            len(feeds), len(leftovers), self.settings.batch_size, runner,
        )
        share_api_with_workers()
        if any(f.last_success_at is None and f.error_count == 0 for f in feeds):
            # A feed never polled brings pages: the workers start and load the spaCy pipeline (~3 CPU s each)
            # while the feeds are polled, not once the first one answered. A pass whose feeds were all read
            # before starts them later, if it has pages at all.
            start_workers(warm=True)
        self._assign_and_read()  # articles an earlier pass stored without a story (database busy) first
        buffered = self.settings.batch_size * (self.workers + 1)
        with (
            BackgroundDelivery(self.settings, pass_started=self.summary.started_at, log=get_run_logger()) as sending,
            PassFetcher(self.settings, buffered_pages=buffered) as fetcher,
        ):
            self._sending, self._fetcher = sending, fetcher
            self.steps.on_done = fetcher.wake  # a worker's result wakes this process from waiting for pages
            sending.on_sent = fetcher.wake  # and so does a batch of alerts sent
            self._fetch(fetcher, self._new_jobs(leftovers))
            fetcher.poll(feeds)
            while not fetcher.finished():
                with self.summary.timed("alerts"):
                    sending.step()  # a sent batch recorded, the next due one sent: the outbox keeps up with the pass
                if len(self.steps) >= self.workers or self.steps.any_done():
                    # Every worker busy, or a result waiting: store what the workers finished first.
                    self.steps.consume_next()
                    continue
                taken = fetcher.take(self.settings.batch_size, linger=LINGER)
                if taken.polls:
                    self._fetch(fetcher, self._plan(taken.polls))
                if taken.pages:
                    self._extract(taken.pages)
            self.steps.on_done = sending.on_sent = None
            self.steps.drain()
            self._sending = self._fetcher = None
        self.summary.alerts_sent += sending.outcome.sent
        self.summary.add_seconds({"fetch": fetcher.busy_seconds})
        if self._clusterer is not None and not self.stories.skipped:
            save_stories(self.settings, self._clusterer)

    def _fetch(self, fetcher: PassFetcher, jobs: list[PageJob]) -> None:
        if jobs:
            start_workers()  # they start while the pages are fetched
        fetcher.fetch(jobs)

    # ------------------------------------------------------------------ poll

    def _plan(self, polls: list[FeedPoll]) -> list[PageJob]:
        """Write what the answered feeds changed, before any of their pages: an item's row says `pending`
        before its article's batch says `stored`."""
        with self.summary.timed("poll"), writer_session(self.settings.db):
            plan = plan_answered(polls, self.settings, self.summary.run_id)
            self.summary.count_polls(plan)
            self.summary.count_written(write(quote(plan.batch), self.settings))
        progress.report("feeds", len(polls))
        return self._new_jobs(plan.queue)

    def _new_jobs(self, items: Sequence[QueuedItem]) -> list[PageJob]:
        """One fetch per canonical URL in the pass: an item of a page still waiting joins its job."""
        fresh = [i for i in items if (i.feed_url, i.item_key) not in self._seen_items]
        self._seen_items.update((i.feed_url, i.item_key) for i in fresh)
        jobs = []
        for job in group_by_page(fresh):
            waiting = self._queued.get(canonical_url(job.url))
            if waiting is not None:
                waiting.items.extend(job.items)
            else:
                self._queued[canonical_url(job.url)] = job
                jobs.append(job)
        self._pages_total += len(jobs)
        progress.report("pages", 0, self._pages_total)
        return jobs

    # ------------------------------------------------------------------ pages

    def _extract(self, pages: list[FetchedPage]) -> None:
        for page in pages:
            self._queued.pop(canonical_url(page.job.url), None)
        progress.report("pages", len(pages))
        pages.sort(key=lambda p: news_time(p.job))  # oldest news first, as the clusterer expects
        # Not quote()d as the direct calls are: Dask's runner hands a submitted task the annotation itself.
        self.steps.add(extract_articles.submit(pages, self.summary.run_id), self._store_pages)

    def _store_pages(self, extracted: ExtractedBatch) -> None:
        self.summary.add_seconds(extracted.seconds)
        self.summary.articles_failed += extracted.failed_items
        progress.report("extracted", len(extracted.rows.articles))
        progress.report("failed", extracted.failed_items)
        # The batch's write and its stories share one connection (writer_session); its reading is submitted
        # after that connection is closed, since submitting may wait for a worker.
        self._assign_and_read(extracted.rows)

    # ------------------------------------------------------------------ stories and facts

    def _assign_and_read(self, written: WriteBatch | None = None) -> None:
        """Write `written`, then give every stored article without a story one and submit their reading."""
        with writer_session(self.settings.db):
            if written is not None:
                with self.summary.timed("write"):
                    self.summary.count_written(write(quote(written), self.settings))
            clusterer = self._restored_clusterer()
            if clusterer is None:
                return
            waiting = assign_waiting(self.settings, clusterer)
            assigned = self._next_assigned(waiting)
        while assigned is not None:
            self.stories.add(assigned)
            progress.report("stories", assigned.articles)
            if self.facts.error is None and assigned.to_read:
                # New articles have no facts yet: read the first copies' texts as they were just clustered.
                todo = [(d.article_id, d.text, d.published_at, d.title) for d in assigned.to_read]
                start_workers()
                # Split over the idle workers only: while the workers are busy with the batches in flight, one
                # chunk per batch keeps them as busy with half the task runs (each costs the Prefect API). Once
                # every page is fetched, the texts of the pages in hand are the pass's last, and each batch's are
                # split over every worker, so that they finish together: split only from the last batch taken,
                # one worker read the batch before it alone for the pass's last 9 s (the ingest bench).
                fetched = self._fetcher is not None and self._fetcher.all_fetched()
                idle = self.workers if fetched else max(1, self.workers - len(self.steps))
                for chunk in submit_reading(self.settings, todo, parts=idle):
                    self.steps.add(chunk, self._store_read_facts)
            with writer_session(self.settings.db):  # closed before submitting, which may wait for a worker
                assigned = self._next_assigned(waiting)

    def _next_assigned(self, waiting: Iterator[StoryOutcome]) -> StoryOutcome | None:
        with self.summary.timed("stories"):
            return next(waiting, None)

    def _restored_clusterer(self) -> StoryClusterer | None:
        """The pass's one clusterer, restored on first need (a pass with nothing new never restores it)."""
        if not self._clusterer_restored:
            with self.summary.timed("stories"):
                self._clusterer = restore_stories(self.settings, only_if_unassigned=True)
            self._clusterer_restored = self._clusterer is not None
        return self._clusterer

    def _store_read_facts(self, read: FactsRead) -> None:
        self.summary.add_seconds(read.seconds)
        with writer_session(self.settings.db):  # the chunk's facts, their merge and the alerts: one open file
            try:
                with self.summary.timed("write"):
                    stories = store_facts(self.settings, read, self.facts)
                progress.report("facts", len(read.found))
                with self.summary.timed("facts"):
                    merge_stories(self.settings, stories)
            except FACTS_FAILURES as exc:  # a busy database: these articles are read again next pass
                self.facts.error = f"{type(exc).__name__}: {exc}"
                return
            with self.summary.timed("alerts"):
                if time.monotonic() - self._alerted_at >= ALERT_EVERY and self.alert() and self._sending:
                    # The stories this batch changed alert now, not when the pass's last page is in.
                    self._sending.alerts_written()
                if self._sending is not None:
                    self._sending.step()  # sent from a thread: a slow receiver holds up no batch

    def alert(self) -> int:
        """Match new and changed stories against the rules (never raises: problems are logged and recorded);
        returns how many alerts it wrote."""
        self._alerted_at = time.monotonic()
        evaluated = evaluate_alerts(self.settings)
        self.summary.alerts_new += evaluated.alerts + evaluated.follow_ups
        return evaluated.alerts + evaluated.follow_ups

    def deliver(self) -> None:
        """Send what is still due once the pages are processed (those written during it were sent while it went
        on); a delivery this pass already attempted waits for the next one."""
        with self.summary.timed("alerts"):
            self.summary.alerts_sent += deliver_alerts(self.settings, pass_started=self.summary.started_at).sent


def _summary_markdown(summary: IngestSummary) -> str:
    counts = {k: v for k, v in asdict(summary).items() if isinstance(v, int) and not isinstance(v, bool)}
    rows = "\n".join(f"| {k.replace('_', ' ')} | {v} |" for k, v in counts.items())
    stages = "\n".join(f"| {stage} | {seconds:.2f} |" for stage, seconds in summary.stage_seconds.items())
    return (
        f"# Ingest pass `{summary.run_id}`\n\n| | |\n|---|---|\n{rows}\n\n"
        "## Time per stage\n\nSeconds of work; fetch, extract and nlp run on the workers, in parallel with the rest."
        f"\n\n| stage | seconds |\n|---|---|\n{stages}\n"
    )
