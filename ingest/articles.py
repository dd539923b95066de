"""Fetch queued items' pages, extract them, and build the rows of one article batch."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newsmon.extract.article import EXTRACTOR_VERSION, ExtractedArticle, ExtractionError, extract_article
from newsmon.extract.dates import feed_date_wins, resolve_published_at
from newsmon.extract.urls import canonical_url, host_of
from newsmon.ingest.http import FetchResult
from newsmon.model import ArticleError, ArticleRecord, ItemRecord, ItemStatus, QueuedItem, WriteBatch


@dataclass
class PageJob:
    """One page to fetch, and every queued item (from any feed) that links to it."""

    url: str
    items: list[QueuedItem]


@dataclass
class FetchedPage:
    job: PageJob
    result: FetchResult


def group_by_page(queue: Sequence[QueuedItem]) -> list[PageJob]:
    """One fetch per canonical URL, however many feeds list it; oldest news first.

    Batches reach story clustering in this order, and stories close by the latest publication time seen: a
    pass that starts with last week's backlog must not see today's articles before it.
    """
    jobs: dict[str, PageJob] = {}
    for item in queue:
        key = canonical_url(item.link)
        if key in jobs:
            if all(i.item_key != item.item_key or i.feed_url != item.feed_url for i in jobs[key].items):
                jobs[key].items.append(item)
        else:
            jobs[key] = PageJob(url=item.link, items=[item])
    return sorted(jobs.values(), key=news_time)


def news_time(job: PageJob) -> tuple[datetime, str]:
    dates = [i.published_at or i.updated_at or i.first_seen_at for i in job.items]
    return min(dates), job.url


def extract_pages(pages: Sequence[FetchedPage]) -> list[ExtractedArticle | ExtractionError | None]:
    """Extract every fetched page; None where the fetch failed. CPU-bound and pure: pool-friendly."""
    out: list[ExtractedArticle | ExtractionError | None] = []
    for page in pages:
        result = page.result
        if not result.ok or result.body is None:
            out.append(None)
            continue
        url, read_date = result.final_url or result.url, not feed_date_wins(feed_date_of(page.job))
        try:
            out.append(extract_article(result.body, url, result.charset, read_date=read_date))
        except ExtractionError as exc:
            out.append(exc)
    return out


def feed_date_of(job: PageJob) -> datetime | None:
    """The earliest date the feeds listing this page give it."""
    feed_dates = [i.published_at or i.updated_at for i in job.items]
    return min((d for d in feed_dates if d is not None), default=None)


def article_id_for(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def build_article_batch(
    pages: Sequence[FetchedPage],
    extracted: Sequence[ExtractedArticle | ExtractionError | None],
    *,
    run_id: str,
    now: datetime,
) -> tuple[WriteBatch, int]:
    """Rows for one batch: articles (+ raw page), item outcomes and errors. Returns (batch, failed items)."""
    batch = WriteBatch()
    failed = 0
    for page, outcome in zip(pages, extracted, strict=True):
        result = page.result
        if isinstance(outcome, ExtractedArticle):
            record = _article_record(page, outcome)
            batch.articles.append(record)
            for item in page.job.items:
                batch.items.append(_item_row(item, now, ItemStatus.STORED, article_id=record.article_id))
            continue
        if result.error is not None and result.error.code == "retry_after":
            # Not attempted: the host asked us to wait. The items stay queued without spending an attempt.
            for item in page.job.items:
                row = _item_row(item, now, ItemStatus.PENDING, error=(result.error.code, result.error.message))
                row.attempts = item.attempts
                batch.items.append(row)
            continue
        failed += len(page.job.items)
        if outcome is None:
            error = result.error
            stage, kind = "fetch", error.kind if error else "soft"
            code = error.code if error else f"http_{result.status}"
            message = error.message if error else f"HTTP {result.status}"
        else:
            stage, kind, code, message = "extract", "hard", outcome.code, outcome.message
        for item in page.job.items:
            batch.items.append(_item_row(item, now, ItemStatus.FAILED, error=(code, message)))
            batch.article_errors.append(
                ArticleError(
                    run_id=run_id, feed_url=item.feed_url, item_key=item.item_key, url=page.job.url,
                    failed_at=now, stage=stage, error_kind=kind, error_code=code, error=message,
                )
            )
        result.body = None
    return batch, failed


def _article_record(page: FetchedPage, article: ExtractedArticle) -> ArticleRecord:
    result = page.result
    assert result.body is not None
    published_at, published_source = resolve_published_at(feed_date_of(page.job), article.page_date, result.fetched_at)
    first = page.job.items[0]
    record = ArticleRecord(
        article_id=article_id_for(article.canonical_url),
        url=page.job.url,
        canonical_url=article.canonical_url,
        feed_url=first.feed_url,
        source=host_of(article.canonical_url).removeprefix("www."),
        title=article.title or first.title,
        author=article.author,
        published_at=published_at,
        published_source=published_source,
        language=article.language,
        description=article.description,
        text=article.text,
        content_hash=article.content_hash,
        fetched_at=result.fetched_at,
        extractor_version=EXTRACTOR_VERSION,
        final_url=result.final_url,
        content_type=result.headers.get("content-type"),
        charset=result.charset,
        size=len(result.body),
        html_zlib=zlib.compress(result.body, 6),
    )
    result.body = None  # compressed copy kept; free the bytes early
    return record


def _item_row(
    item: QueuedItem, now: datetime, status: ItemStatus, *, article_id: str | None = None,
    error: tuple[str, str] | None = None,
) -> ItemRecord:
    return ItemRecord(
        feed_url=item.feed_url, item_key=item.item_key, guid=item.guid, link=item.link, title=item.title,
        published_at=item.published_at, updated_at=item.updated_at, first_seen_at=item.first_seen_at,
        last_seen_at=now, status=status,
        attempts=item.attempts + 1,
        fetched_marker=(item.updated_at or item.published_at) if status == ItemStatus.STORED else None,
        article_id=article_id,
        error_code=error[0] if error else None, error=error[1] if error else None,
    )
