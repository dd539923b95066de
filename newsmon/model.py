"""The domain records: what a pass reads from the store and writes to it, shared by every layer.

Plain dataclasses with no behaviour worth the name: ingest builds them, storage reads and writes them (its
Arrow schemas are derived from these fields in storage/arrow.py), flows pass them along.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Literal


class ItemStatus(StrEnum):
    """Where a feed item stands (`items.status`)."""

    PENDING = "pending"  # to fetch (again)
    STORED = "stored"  # its article is stored
    FAILED = "failed"  # out of attempts, or a page that is not an article
    REFUSED = "refused"  # a link newsmon will not fetch


class PollOutcome(StrEnum):
    """What one poll of a feed gave (`polls.outcome`)."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


class RunStatus(StrEnum):
    """Where a pass stands (`runs.status`)."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"  # another pass held the database
    INTERRUPTED = "interrupted"  # Ctrl-C: the batches written before it stay


ErrorKind = Literal["hard", "soft", "transient"]
"""How bad a failure is: hard (will not fix itself), soft (may come back), transient (surely comes back)."""


@dataclass(frozen=True)
class FetchError:
    kind: ErrorKind
    code: str  # short machine-readable reason: "http_404", "timeout", "refused_address", "too_large", ...
    message: str
    retry_after: float | None = None  # seconds the server asked us to wait, when it said so

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


@dataclass(frozen=True)
class FeedState:
    url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    poll_interval_s: int
    error_count: int
    error_score: float
    disabled_at: datetime | None
    last_success_at: datetime | None


@dataclass(frozen=True)
class ItemState:
    feed_url: str
    item_key: str
    status: str
    attempts: int
    first_seen_at: datetime
    fetched_marker: datetime | None
    article_id: str | None


@dataclass(frozen=True)
class QueuedItem:
    """An item waiting to be fetched."""

    feed_url: str
    item_key: str
    guid: str | None
    link: str
    title: str | None
    published_at: datetime | None
    updated_at: datetime | None
    first_seen_at: datetime
    attempts: int


@dataclass
class FeedUpdate:
    """A feed's state after a poll."""

    url: str
    polled_at: datetime
    next_poll_at: datetime
    poll_interval_s: int
    last_status: int | None
    error_count: int
    error_score: float
    title: str | None = None
    site_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    disabled_at: datetime | None = None


@dataclass
class PollRecord:
    poll_id: str
    run_id: str
    feed_url: str
    polled_at: datetime
    outcome: str  # ok | not_modified | failed
    status: int | None = None
    error_kind: str | None = None
    error_code: str | None = None
    error: str | None = None
    bytes: int | None = None
    duration_ms: int | None = None
    items_total: int | None = None
    items_new: int | None = None


@dataclass
class ItemRecord:
    feed_url: str
    item_key: str
    guid: str | None
    link: str | None
    title: str | None
    published_at: datetime | None
    updated_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    status: ItemStatus
    attempts: int = 0
    fetched_marker: datetime | None = None
    article_id: str | None = None
    error_code: str | None = None
    error: str | None = None


@dataclass
class ArticleRecord:
    """One fetched and extracted page; the write decides whether it is new, a new version, or unchanged."""

    article_id: str
    url: str
    canonical_url: str
    feed_url: str | None
    source: str
    title: str | None
    author: str | None
    published_at: datetime | None
    published_source: str
    language: str | None
    description: str | None
    text: str
    content_hash: str
    fetched_at: datetime
    extractor_version: str
    final_url: str | None
    content_type: str | None
    charset: str | None
    size: int
    html_zlib: bytes | None


@dataclass
class ArticleError:
    run_id: str
    feed_url: str
    item_key: str
    url: str | None
    failed_at: datetime
    stage: str  # fetch | extract | link
    error_kind: str | None
    error_code: str
    error: str


@dataclass
class RunRecord:
    """One ingest pass: what it did, how long each stage took, how it ended (the `runs` row)."""

    run_id: str
    started_at: datetime
    status: RunStatus
    all_feeds: bool
    flow_run_id: str | None = None
    finished_at: datetime | None = None
    feeds_due: int = 0
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    items_refused: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_failed: int = 0
    spooled_batches: int = 0
    articles_clustered: int = 0
    stories_new: int = 0
    near_duplicates: int = 0
    facts_articles: int = 0
    facts_error: str | None = None
    alerts_new: int = 0  # alerts and follow-ups written to the outbox
    alerts_sent: int = 0  # deliveries (channels and Prefect events) sent
    stage_seconds: dict[str, float] = field(default_factory=dict)  # seconds of work per stage
    error: str | None = None


@dataclass
class WriteBatch:
    """Everything one write commits in a single transaction."""

    feeds: list[FeedUpdate] = field(default_factory=list)
    polls: list[PollRecord] = field(default_factory=list)
    items: list[ItemRecord] = field(default_factory=list)
    articles: list[ArticleRecord] = field(default_factory=list)
    article_errors: list[ArticleError] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))
