"""The domain records: what a pass reads from the store and writes to it, shared by every layer.

Plain dataclasses with no behaviour worth the name: ingest and the alert engine build them, storage reads and
writes them (its Arrow schemas are derived from these fields in storage/arrow.py), flows pass them along.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


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
    stories_merged: int = 0  # young stories merged into another
    stories_split: int = 0  # stories whose later reports left them for a story of their own
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


# --- alerting: what storage reads for the alert engine and writes for it --------------------------------------

RULE_CONDITIONS = ("keywords", "entity", "fact", "sql")
DEFAULT_FOLLOW_UP_SOURCES = 2


@dataclass(frozen=True)
class Rule:
    """An alert rule (`alert_rules`): conditions that must all hold for a story, and the channels to tell.
    Validation, parsing of the conditions and the TOML format live in alerts/rules.py."""

    name: str
    channels: tuple[str, ...]
    keywords: str | None = None
    entity: str | None = None
    fact: str | None = None
    sql: str | None = None
    follow_up_sources: int = DEFAULT_FOLLOW_UP_SOURCES
    enabled: bool = True
    origin: str = "cli"

    def conditions(self) -> dict[str, str]:
        return {k: v for k in RULE_CONDITIONS if (v := getattr(self, k))}

    def describe(self) -> str:
        return " AND ".join(f"{k}: {v}" for k, v in self.conditions().items())

    def same_as(self, other: Rule) -> bool:
        keys = ("channels", *RULE_CONDITIONS, "follow_up_sources", "enabled")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


@dataclass(frozen=True)
class StoryView:
    """One row of the alert_candidates view."""

    story_id: str
    title: str | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    article_count: int
    source_count: int
    sources: tuple[str, ...]  # outlet hosts
    outlet_names: dict[str, str]  # host -> feed title (or the host)
    urls: tuple[str, ...]
    text: str
    last_fetched_at: datetime | None = None

    def names(self, hosts: list[str] | tuple[str, ...]) -> list[str]:
        return [self.outlet_names.get(h, h) for h in hosts]


@dataclass(frozen=True)
class FactView:
    """One row of story_facts as rules see it (the merge writes it from extract/facts.py `StoryFact`)."""

    kind: str
    value: float
    unit: str | None = None
    subject: str | None = None
    period: str | None = None
    source_count: int | None = None

    @property
    def key(self) -> str:
        """Identity of a fact, to tell a new fact from one already reported."""
        return "|".join(
            [self.kind.lower(), f"{self.value:.6g}", (self.unit or "").upper(), self.subject or "", self.period or ""]
        )

    def describe(self) -> str:
        value = f"{self.value:,.0f}" if abs(self.value) >= 1000 else f"{self.value:g}"
        unit = f" {self.unit}" if self.unit and self.unit != "%" else (self.unit or "")
        about = f" ({', '.join(p for p in (self.subject, self.period) if p)})" if self.subject or self.period else ""
        return f"{self.kind} {value}{unit}{about}"

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind, "value": self.value, "unit": self.unit, "subject": self.subject,
            "period": self.period, "source_count": self.source_count,
        }


@dataclass(frozen=True)
class PreviousAlert:
    """A rule's latest alert on a story."""

    revision: int
    source_hosts: tuple[str, ...]
    fact_keys: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    """One channel an outbox alert goes to; `delivery_id` is also its idempotency key."""

    delivery_id: str
    channel: str
    kind: str  # "webhook", "email", ..., "event" (the Prefect event)


@dataclass(frozen=True)
class OutboxAlert:
    """An alert the engine decided, as the outbox (`alerts`, `alert_deliveries`) stores it."""

    alert_id: str
    rule: str
    story_id: str
    revision: int
    title: str | None
    source_hosts: tuple[str, ...]
    fact_keys: tuple[str, ...]
    changes: str | None  # what a follow-up adds, in one line
    payload: dict[str, Any]
    deliveries: tuple[Delivery, ...]
