"""Poll scheduling: adaptive intervals, publisher hints, weighted failures, backoff and disabling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsmon.extract.feed import FeedItem, ParsedFeed
from newsmon.ingest.http import FetchResult
from newsmon.ingest.poll import FeedPoll, plan_polls
from newsmon.ingest.schedule import cache_max_age, publishing_interval, success_interval
from newsmon.model import FeedState, FetchError, ItemState
from newsmon.settings import Settings

NOW = datetime(2026, 2, 3, 12, 0, tzinfo=UTC)
S = Settings()


def feed(error_count: int = 0, score: float = 0.0, interval: int = 900) -> FeedState:
    return FeedState("http://x.org/feed", None, '"e1"', None, interval, error_count, score, None, None)


def item(key: str, hours_ago: float | None = None, updated: datetime | None = None) -> FeedItem:
    published = NOW - timedelta(hours=hours_ago) if hours_ago is not None else None
    return FeedItem(key, key, f"http://x.org/{key}", key, None, None, published, updated)


def test_interval_follows_publishing_rate_within_bounds() -> None:
    hourly = [NOW - timedelta(hours=h) for h in range(10)]
    assert publishing_interval(hourly, S) == 1800
    busy = [NOW - timedelta(minutes=m) for m in range(10)]
    assert publishing_interval(busy, S) == S.min_interval
    quiet = [NOW - timedelta(days=30 * d) for d in range(3)]
    assert publishing_interval(quiet, S) == S.max_interval
    assert publishing_interval([], S) == S.default_interval


def test_publisher_hints_lengthen_the_interval() -> None:
    hourly = [NOW - timedelta(hours=h) for h in range(10)]
    assert success_interval(hourly, S, ttl=7200) == 7200
    assert success_interval(hourly, S, update_period=86400 // 2) == 43200
    assert success_interval(hourly, S, max_age=3600 * 3) == 10800
    assert success_interval(hourly, S, ttl=10 * 86400) == S.max_interval
    assert cache_max_age("public, max-age=600") == 600 and cache_max_age("no-cache") is None


def failed_poll(state: FeedState, kind: str, status: int | None = None, retry_after: float | None = None) -> FeedPoll:
    error = FetchError(kind, "x", "failure", retry_after=retry_after)  # type: ignore[arg-type]
    return FeedPoll(state, FetchResult(url=state.url, status=status, error=error), error=error)


def plan_one(poll: FeedPoll, known: dict[tuple[str, str], ItemState] | None = None):  # type: ignore[no-untyped-def]
    return plan_polls([poll], known or {}, {}, now=NOW, run_id="r", settings=S)


def test_backoff_grows_exponentially_and_weights_failures() -> None:
    first = plan_one(failed_poll(feed(), "transient")).batch.feeds[0]
    assert first.error_count == 1 and first.error_score == 0.25
    assert first.next_poll_at == NOW + timedelta(seconds=1800)
    third = plan_one(failed_poll(feed(error_count=2, score=0.5), "soft")).batch.feeds[0]
    assert third.next_poll_at == NOW + timedelta(seconds=900 * 8) and third.error_score == 1.0
    assert third.disabled_at is None


def test_repeated_hard_failures_disable_the_feed_but_it_is_reprobed() -> None:
    update = plan_one(failed_poll(feed(error_count=4, score=4.0), "hard", status=410)).batch.feeds[0]
    assert update.disabled_at == NOW
    assert update.next_poll_at == NOW + timedelta(seconds=S.reprobe_interval)
    assert update.etag == '"e1"'  # validators kept for the re-probe


def test_retry_after_pushes_the_next_poll() -> None:
    poll = failed_poll(feed(), "transient", status=429, retry_after=3000)
    assert plan_one(poll).batch.feeds[0].next_poll_at == NOW + timedelta(seconds=3000)


def test_success_resets_failures_and_queues_only_new_or_updated_items() -> None:
    state = feed(error_count=3, score=2.0)
    parsed = ParsedFeed("X", None, [item("a", 1), item("b", 2), item("c", 3, updated=NOW), item("a", 1)])
    poll = FeedPoll(state, FetchResult(url=state.url, status=200, headers={"etag": '"e2"'}), parsed=parsed)
    known = {
        (state.url, "b"): ItemState(state.url, "b", "stored", 1, NOW, NOW - timedelta(hours=2), "id-b"),
        (state.url, "c"): ItemState(state.url, "c", "stored", 1, NOW, NOW - timedelta(hours=3), "id-c"),
    }
    plan = plan_one(poll, known)
    update = plan.batch.feeds[0]
    assert (update.error_count, update.error_score, update.etag) == (0, 0.0, '"e2"')
    assert sorted(q.item_key for q in plan.queue) == ["a", "c"]  # new, and marked updated
    assert len(plan.batch.items) == 3  # the duplicate listing of "a" is ignored
    assert plan.batch.polls[0].items_new == 1
