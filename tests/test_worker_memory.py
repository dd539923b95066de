"""A worker's end-of-batch release: freed heap handed back, and the collector no longer walking what outlives a
batch (imports, a loaded model). Each check in a fresh process: freezing is process-wide."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _release_after_freeing(mib: int) -> tuple[int, int, float, float]:
    import gc

    from newsmon.flows.batches import release_freed_memory

    def rss() -> float:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096 / 2**20

    release_freed_memory()  # settles the imports
    frozen = gc.get_freeze_count()
    chunks = [bytes(1000) + bytes([i % 256]) for i in range(mib * 1000)]  # small blocks: the heap, not mmap
    keep = chunks[::1000]  # a few survivors scattered over the heap
    del chunks
    before = rss()
    release_freed_memory()
    after = rss()
    assert keep
    return frozen, gc.get_freeze_count(), before, after


def in_fresh_process(fn: Callable[..., T], *args: object) -> T:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def test_a_batch_end_freezes_what_outlives_it_once_and_hands_back_the_freed_heap() -> None:
    frozen, frozen_later, before, after = in_fresh_process(_release_after_freeing, 200)
    assert frozen > 10_000  # the imports, out of the collector's sight
    assert frozen_later == frozen  # once per process: a batch's objects are never frozen by a later release
    assert before - after > 100  # MiB handed back to the system


def test_a_small_free_heap_is_not_trimmed() -> None:
    _, _, before, after = in_fresh_process(_release_after_freeing, 4)
    assert before - after < 2
