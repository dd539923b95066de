"""Poll feeds (conditional GET, parse) and plan what the poll changes: feed state, poll log, items."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newsmon.extract.feed import FeedError, FeedItem, ParsedFeed, parse_feed
from newsmon.extract.urls import canonical_url
from newsmon.ingest.http import Fetcher, FetchResult
from newsmon.ingest.schedule import cache_max_age, failure_score, next_after_failure, success_interval
from newsmon.model import (
    ArticleError,
    FeedState,
    FeedUpdate,
    FetchError,
    ItemRecord,
    ItemState,
    ItemStatus,
    PollOutcome,
    PollRecord,
    QueuedItem,
    WriteBatch,
)
from newsmon.settings import Settings


@dataclass
class FeedPoll:
    feed: FeedState
    result: FetchResult
    parsed: ParsedFeed | None = None
    error: FetchError | None = None

    @property
    def outcome(self) -> PollOutcome:
        if self.error is not None:
            return PollOutcome.FAILED
        return PollOutcome.NOT_MODIFIED if self.result.not_modified else PollOutcome.OK


async def poll_feeds(feeds: Sequence[FeedState], settings: Settings) -> list[FeedPoll]:
    """Fetch every feed concurrently (politely per host) and parse what changed."""
    async with Fetcher(settings) as fetcher:
        results = await asyncio.gather(
            *(fetcher.get(f.url, "feed", etag=f.etag, last_modified=f.last_modified) for f in feeds)
        )
    return [_parse(feed, result) for feed, result in zip(feeds, results, strict=True)]


def _parse(feed: FeedState, result: FetchResult) -> FeedPoll:
    if result.error is not None:
        return FeedPoll(feed, result, error=result.error)
    if result.not_modified:
        return FeedPoll(feed, result)  # a 304 costs no parse
    assert result.body is not None
    try:
        parsed = parse_feed(result.body, result.final_url or result.url, result.headers.get("content-type"))
    except FeedError as exc:
        return FeedPoll(feed, result, error=FetchError(exc.kind, exc.code, exc.message))
    finally:
        result.body = None  # parsed; the bytes are not needed any more
    return FeedPoll(feed, result, parsed=parsed)


@dataclass
class PollPlan:
    batch: WriteBatch = field(default_factory=WriteBatch)
    queue: list[QueuedItem] = field(default_factory=list)
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    items_refused: int = 0


def plan_polls(
    polls: Sequence[FeedPoll],
    known: dict[tuple[str, str], ItemState],
    known_articles: dict[str, str],
    *,
    now: datetime,
    run_id: str,
    settings: Settings,
) -> PollPlan:
    """Turn poll outcomes into rows to write and the items to fetch.

    `known` holds the stored state of the polled feeds' items; `known_articles` maps canonical URLs of
    their links to stored articles, so an article seen through another feed is linked, not fetched again.
    """
    plan = PollPlan()
    for poll in polls:
        plan.feeds_polled += 1
        record = PollRecord(
            poll_id=uuid.uuid4().hex, run_id=run_id, feed_url=poll.feed.url, polled_at=now,
            outcome=poll.outcome, status=poll.result.status, bytes=poll.result.bytes_read,
            duration_ms=poll.result.duration_ms,
        )
        if poll.error is not None:
            plan.feeds_failed += 1
            record.error_kind, record.error_code, record.error = poll.error.kind, poll.error.code, poll.error.message
            plan.batch.feeds.append(_failed_feed(poll, now, settings))
        elif poll.parsed is None:
            plan.feeds_not_modified += 1
            plan.batch.feeds.append(_healthy_feed(poll, now, poll.feed.poll_interval_s))
        else:
            new = _plan_items(poll.feed.url, poll.parsed.items, known, known_articles, now, run_id, plan)
            record.items_total, record.items_new = len(poll.parsed.items), new
            if poll.parsed.warnings:
                record.error_code, record.error = "lenient_parse", "; ".join(poll.parsed.warnings)[:2000]
            interval = success_interval(
                [d for i in poll.parsed.items if (d := i.published_at or i.updated_at)],
                settings,
                ttl=poll.parsed.ttl_seconds,
                update_period=poll.parsed.update_period_seconds,
                max_age=cache_max_age(poll.result.headers.get("cache-control")),
            )
            update = _healthy_feed(poll, now, interval)
            update.title, update.site_url = poll.parsed.title, poll.parsed.site_url
            update.etag = poll.result.headers.get("etag")
            update.last_modified = poll.result.headers.get("last-modified")
            plan.batch.feeds.append(update)
        plan.batch.polls.append(record)
    return plan


def _healthy_feed(poll: FeedPoll, now: datetime, interval: int) -> FeedUpdate:
    max_age = cache_max_age(poll.result.headers.get("cache-control"))
    wait = max(interval, max_age or 0)
    return FeedUpdate(
        url=poll.feed.url, polled_at=now, next_poll_at=now + timedelta(seconds=wait),
        poll_interval_s=interval, last_status=poll.result.status, error_count=0, error_score=0.0,
        last_success_at=now, etag=poll.feed.etag, last_modified=poll.feed.last_modified,
    )


def _failed_feed(poll: FeedPoll, now: datetime, settings: Settings) -> FeedUpdate:
    assert poll.error is not None
    failures = poll.feed.error_count + 1
    score = failure_score(poll.feed.error_score, poll.error.kind)
    next_at, disabled = next_after_failure(
        now, failures, score, poll.feed.poll_interval_s, settings,
        retry_after=poll.error.retry_after,
    )
    return FeedUpdate(
        url=poll.feed.url, polled_at=now, next_poll_at=next_at, poll_interval_s=poll.feed.poll_interval_s,
        last_status=poll.result.status, error_count=failures, error_score=score,
        last_error=str(poll.error), last_error_kind=poll.error.kind,
        disabled_at=(poll.feed.disabled_at or now) if disabled else None,
        etag=poll.feed.etag, last_modified=poll.feed.last_modified,
    )


def _plan_items(
    feed_url: str,
    items: Sequence[FeedItem],
    known: dict[tuple[str, str], ItemState],
    known_articles: dict[str, str],
    now: datetime,
    run_id: str,
    plan: PollPlan,
) -> int:
    new = 0
    seen: set[str] = set()
    for item in items:
        if item.key in seen:  # a feed listing one item twice: the first wins
            continue
        seen.add(item.key)
        state = known.get((feed_url, item.key))
        row = ItemRecord(
            feed_url=feed_url, item_key=item.key, guid=item.guid, link=item.link, title=item.title,
            published_at=item.published_at, updated_at=item.updated_at,
            first_seen_at=state.first_seen_at if state else now, last_seen_at=now, status=ItemStatus.PENDING,
        )
        marker = item.version_marker
        if state is not None:
            row.status, row.attempts = state.status, state.attempts
            row.fetched_marker, row.article_id = state.fetched_marker, state.article_id
            if state.status == ItemStatus.REFUSED:
                row.error_code, row.error = "bad_link", item.error
            elif (state.status == ItemStatus.STORED and marker and state.fetched_marker
                  and marker > state.fetched_marker):
                # The publisher marks it updated: fetch the new version.
                row.status, row.attempts = ItemStatus.PENDING, 0
        else:
            new += 1
            if item.link is None:
                row.status, row.error_code, row.error = ItemStatus.REFUSED, "bad_link", item.error
                plan.items_refused += 1
                plan.batch.article_errors.append(
                    ArticleError(
                        run_id=run_id, feed_url=feed_url, item_key=item.key, url=None, failed_at=now,
                        stage="link", error_kind="hard", error_code="bad_link", error=item.error or "bad link",
                    )
                )
            elif (article_id := known_articles.get(canonical_url(item.link))) is not None:
                row.status, row.article_id, row.fetched_marker = ItemStatus.STORED, article_id, marker
        plan.batch.items.append(row)
        if row.status == ItemStatus.PENDING and row.link:
            plan.queue.append(
                QueuedItem(
                    feed_url=feed_url, item_key=item.key, guid=item.guid, link=row.link, title=item.title,
                    published_at=item.published_at, updated_at=item.updated_at,
                    first_seen_at=row.first_seen_at, attempts=row.attempts,
                )
            )
    return new
