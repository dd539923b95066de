"""The CPU-bound tasks that run on the task runner's workers, one batch each: extract fetched pages, read texts
with spaCy. Each returns its results and the seconds it spent per stage. They do no I/O: pages are fetched by
the pass's one fetcher in the flow process (newsmon.ingest.stream), so a worker never idles while polite.

A module of its own so that a worker process imports only what these tasks need (no alerting, no writes).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from prefect import get_run_logger, task

from newsmon.errors import ModelUnavailable
from newsmon.extract.facts import ArticleFacts, FactExtractor, Reading, plan_reading
from newsmon.flows.runners import TASK_OPTIONS
from newsmon.ingest.articles import FetchedPage, build_article_batch, extract_pages
from newsmon.model import WriteBatch
from newsmon.settings import get_settings

# One loaded model per worker thread or process: loading costs ~0.3 s, reading ~40 ms an article, and a spaCy
# pipeline is not documented as safe to share between threads.
_LOCAL = threading.local()

NOT_READ = ArticleFacts(mentions=[], facts=[], quotes=[], story_end=0)  # what an article not read has

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
    del extracted
    release_freed_memory()
    get_run_logger().info("Extracted %d pages: %d articles, %d items failed", len(pages), len(rows.articles), failed)
    return ExtractedBatch(rows, failed, {"extract": time.perf_counter() - started})


@dataclass
class FactsRead:
    """One chunk read: the facts found per article (none for an article not read), how each was read, and the
    seconds spent; `error` when a model could not be loaded (these articles are read again on the next pass)."""

    found: list[tuple[str, ArticleFacts]]
    readings: list[tuple[str, Reading]]
    seconds: dict[str, float]
    error: str | None = None


@task(name="read-facts", **TASK_OPTIONS)
def read_facts(chunk: FactsChunk, readings: list[Reading], batch_size: int) -> FactsRead:
    """NLP over one chunk of articles, each by the model its reading names (chosen in the flow process, see
    `plan_readings`): pure CPU, runs wherever the flow's task runner puts it."""
    started = time.perf_counter()
    by_model: dict[str, list[int]] = defaultdict(list)
    for i, reading in enumerate(readings):
        if reading.model is not None:
            by_model[reading.model].append(i)
    facts: dict[int, ArticleFacts] = {}
    try:
        for model, rows in by_model.items():
            texts = [(chunk[i][1][: readings[i].chars], chunk[i][2], chunk[i][3]) for i in rows]
            facts.update(zip(rows, fact_extractor(model, batch_size).extract(texts), strict=True))
            settle(f"model {model}")  # loaded by its first chunk
    except ModelUnavailable as exc:
        return FactsRead([], [], {"nlp": time.perf_counter() - started}, error=str(exc))
    finally:
        release_freed_memory()
    found = [(article_id, facts.get(i, NOT_READ)) for i, (article_id, *_) in enumerate(chunk)]
    ids = [article_id for article_id, *_ in chunk]
    return FactsRead(found, list(zip(ids, readings, strict=True)), {"nlp": time.perf_counter() - started})


def warm_up() -> None:
    """A worker's start-up ahead of its first batch: this module's imports (trafilatura, spaCy) are done by now;
    load the English pipeline and settle it. Run while a pass polls its feeds, it takes cores that would idle."""
    settings = get_settings()
    with contextlib.suppress(ModelUnavailable):  # read_facts reports it, with the articles it could not read
        _ = fact_extractor(settings.spacy_model, settings.nlp_batch_size).nlp  # the property loads the pipeline
        settle(f"model {settings.spacy_model}")


def plan_readings(chunk: FactsChunk, models: dict[str, str], max_chars: int) -> list[Reading]:
    """How each article is read (its language, its model, the characters read). Called in the flow process:
    the language identifier's model (~75 MiB) is then loaded once per pass, not once per worker."""
    return [plan_reading(text, models, max_chars) for _, text, *_ in chunk]


# glibc's free heap above which a batch's end hands it back (malloc_trim): below it, trimming returns too little to
# matter, and a trim walks the whole heap.
TRIM_ABOVE_BYTES = 16 * 2**20

# What this process has frozen out of the cyclic collector's sight (see `settle`).
_SETTLED: set[str] = set()


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
    )]


def settle(what: str) -> None:
    """Once per process and `what` (its imports, a loaded model): collect, then freeze what survived, so the
    collections after each batch walk only that batch's objects. A full collection with a spaCy model loaded cost
    ~100 ms of CPU a batch (most of `release_freed_memory`'s 7% of a worker's CPU); after the freeze, ~1 ms
    (`python bench/trim.py`). What is frozen is still freed when no longer referenced, unless it is in a cycle."""
    if what in _SETTLED:
        return
    _SETTLED.add(what)
    gc.collect()
    gc.freeze()


def release_freed_memory() -> None:
    """A worker's batch end: collect the batch's cycles, then hand the freed heap back (`trim_free_heap`):
    parsing 100 KB pages and reading their texts leaves ~35 MiB per worker that no later batch reuses in full
    (measured: a worker's RSS after 800 pages in batches of 200, 355 -> 321 MiB)."""
    settle("imports")
    gc.collect()
    trim_free_heap()


def trim_free_heap() -> None:
    """Hand glibc's free heap back to the system when it holds more than TRIM_ABOVE_BYTES (glibc keeps it
    otherwise). Workers only: the flow process's heap held 60-120 MiB free between batches (mallinfo2, sampled
    over a cold pass), but trimming it before each batch left its RSS where it was (most free chunks there are
    smaller than a page), and a trim holds each arena's lock, which the fetcher thread may wait for."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        libc = ctypes.CDLL("libc.so.6")
        if _free_heap(libc) >= TRIM_ABOVE_BYTES:
            libc.malloc_trim(0)


def _free_heap(libc: ctypes.CDLL) -> int:
    """Bytes glibc holds free in its heap (mallinfo2, glibc 2.33+; older: trim every time)."""
    try:
        mallinfo2 = libc.mallinfo2
    except AttributeError:
        return TRIM_ABOVE_BYTES
    mallinfo2.restype = _MallInfo2
    return int(mallinfo2().fordblks)
