"""Where the ingest flow's article batches run, and how feeds are split between shards."""

from __future__ import annotations

import hashlib
import os

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from newsmon.settings import Settings


def make_task_runner(settings: Settings) -> TaskRunner:  # type: ignore[type-arg]
    """threads (default: fetching is I/O), processes (extraction on every core), or dask (a cluster)."""
    workers = settings.workers or os.cpu_count() or 2
    if settings.task_runner == "processes":
        return ProcessPoolTaskRunner(max_workers=workers)
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner  # optional dependency: pip install 'newsmon[dask]'

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})
    return ThreadPoolTaskRunner(max_workers=workers)


def batches_in_flight(settings: Settings) -> int:
    if settings.parallel_batches:
        return settings.parallel_batches
    if settings.task_runner == "threads":
        return 1
    return settings.workers or os.cpu_count() or 2


def in_shard(feed_url: str, shard: int, shards: int) -> bool:
    """Stable across processes and machines (unlike hash()), so a feed always lands on the same shard.

    A cryptographic digest, not CRC: CRC is linear, and URLs differing in one character share its low bits.
    """
    if shards <= 1:
        return True
    digest = hashlib.blake2b(feed_url.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards == shard
