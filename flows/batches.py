"""The CPU-bound tasks that run on the task runner's workers, one batch each: fetch and extract pages, read
texts with spaCy. Each returns its results and the seconds it spent per stage.

A module of its own so that a worker process imports only what these tasks need (no alerting, no writes).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

from prefect import get_run_logger, task

from newsmon.extract.facts import ArticleFacts, FactExtractor
from newsmon.flows.runners import TASK_OPTIONS
from newsmon.ingest.articles import PageJob, build_article_batch, extract_pages, fetch_pages
from newsmon.model import WriteBatch
from newsmon.settings import Settings

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


@task(name="fetch-articles", **TASK_OPTIONS)
def fetch_articles(jobs: list[PageJob], settings: Settings, run_id: str) -> tuple[WriteBatch, dict[str, float]]:
    started = time.perf_counter()
    pages = asyncio.run(fetch_pages(jobs, settings))
    fetched = time.perf_counter()
    extracted = extract_pages(pages)
    batch, failed = build_article_batch(pages, extracted, run_id=run_id, now=datetime.now(UTC))
    get_run_logger().info(
        "Fetched %d pages: %d extracted, %d items failed", len(jobs), len(batch.articles), failed
    )
    return batch, {"fetch": fetched - started, "extract": time.perf_counter() - fetched}


@task(name="read-facts", **TASK_OPTIONS)
def read_facts(
    chunk: FactsChunk, model: str, batch_size: int
) -> tuple[list[tuple[str, ArticleFacts]], dict[str, float]]:
    """NLP over one chunk of articles: pure CPU, runs wherever the flow's task runner puts it."""
    started = time.perf_counter()
    texts = [(text, published, title) for _, text, published, title in chunk]
    results = fact_extractor(model, batch_size).extract(texts)
    found = [(article_id, facts) for (article_id, *_), facts in zip(chunk, results, strict=True)]
    return found, {"nlp": time.perf_counter() - started}
