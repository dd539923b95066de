"""The CPU-bound tasks that run on the task runner's workers, one batch each: extract fetched pages, read texts
with spaCy. Each returns its results and the seconds it spent per stage. They do no I/O: pages are fetched by
the pass's one fetcher in the flow process (newsmon.ingest.stream), so a worker never idles while polite.

A module of its own so that a worker process imports only what these tasks need (no alerting, no writes).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from prefect import get_run_logger, task

from newsmon.extract.facts import ArticleFacts, FactExtractor, ModelUnavailable
from newsmon.flows.runners import TASK_OPTIONS
from newsmon.ingest.articles import FetchedPage, build_article_batch, extract_pages
from newsmon.storage.records import WriteBatch

# One loaded model per worker thread or process: loading costs ~0.3 s, reading ~40 ms an article, and a spaCy
# pipeline is not documented as safe to share between threads.
_LOCAL = threading.local()

FactsChunk = list[tuple[str, str, datetime | None, str]]  # (article_id, text, published_at, title)


def fact_extractor(model: str, batch_size: int) -> FactExtractor:
    cache: dict[tuple[str, int], FactExtractor] = _LOCAL.__dict__.setdefault("extractors", {})
    key = (model, batch_size)
    if key not in cache:
        cache[key] = FactExtractor(model=model, batch_size=batch_size)
    return cache[key]


@dataclass
class ExtractedBatch:
    """One batch of pages as rows to write, with the items that failed and the seconds spent."""

    rows: WriteBatch
    failed_items: int
    seconds: dict[str, float]


@task(name="extract-articles", **TASK_OPTIONS)
def extract_articles(pages: list[FetchedPage], run_id: str) -> ExtractedBatch:
    started = time.perf_counter()
    extracted = extract_pages(pages)
    rows, failed = build_article_batch(pages, extracted, run_id=run_id, now=datetime.now(UTC))
    get_run_logger().info("Extracted %d pages: %d articles, %d items failed", len(pages), len(rows.articles), failed)
    return ExtractedBatch(rows, failed, {"extract": time.perf_counter() - started})


@dataclass
class FactsRead:
    """One chunk read: the facts found per article, and the seconds spent; `error` when the model could not
    be loaded (these articles are read again on the next pass)."""

    found: list[tuple[str, ArticleFacts]]
    seconds: dict[str, float]
    error: str | None = None


@task(name="read-facts", **TASK_OPTIONS)
def read_facts(chunk: FactsChunk, model: str, batch_size: int) -> FactsRead:
    """NLP over one chunk of articles: pure CPU, runs wherever the flow's task runner puts it."""
    started = time.perf_counter()
    texts = [(text, published, title) for _, text, published, title in chunk]
    try:
        results = fact_extractor(model, batch_size).extract(texts)
    except ModelUnavailable as exc:
        return FactsRead([], {"nlp": time.perf_counter() - started}, error=str(exc))
    found = [(article_id, facts) for (article_id, *_), facts in zip(chunk, results, strict=True)]
    return FactsRead(found, {"nlp": time.perf_counter() - started})
