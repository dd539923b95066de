"""Where the ingest flow's article batches run, and how feeds are split between shards."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from newsmon.settings import Settings, get_settings

# Options of every newsmon task: inputs are large (pages, texts, batches) and runs are never replayed from a
# cache, so Prefect neither hashes inputs nor persists results.
TASK_OPTIONS: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}


def runner_kind(settings: Settings) -> str:
    """The task runner `auto` stands for: extraction and NLP are CPU-bound, so a process per core when there
    are several (threads would share one core through the GIL)."""
    if settings.task_runner == "auto":
        return "processes" if (os.cpu_count() or 1) >= 2 else "threads"
    return settings.task_runner


def make_task_runner(settings: Settings) -> TaskRunner:  # type: ignore[type-arg]
    """processes (extraction and NLP on every core), threads (one process, least memory), or dask (a cluster)."""
    workers = settings.workers or os.cpu_count() or 2
    kind = runner_kind(settings)
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        from prefect_dask import DaskTaskRunner  # optional dependency: pip install 'newsmon[dask]'

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})
    return ThreadPoolTaskRunner(max_workers=workers)


class SettingsTaskRunner(ThreadPoolTaskRunner):  # type: ignore[type-arg]
    """The flows' default runner: the runner the settings name, chosen when a run starts, not when the module
    is imported. Prefect copies a flow's runner (`duplicate()`) at the start of every run; this copy is where
    the settings are read. `flow.with_options(task_runner=...)` replaces it for one call."""

    def duplicate(self) -> TaskRunner:  # type: ignore[type-arg,override]
        return make_task_runner(get_settings())


def share_api_with_workers() -> None:
    """Point worker processes at the Prefect API this process uses, so none starts a temporary server of its
    own (each costs 5-15 s and ~150 MiB). With PREFECT_API_URL set, workers inherit it already; without it,
    the API is the temporary server this process started, whose address workers get the same way: Prefect's
    process pool hands its workers this process's environment when the first task is submitted."""
    if os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value():
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer._instances.get(None)
    if server is not None and server.running:
        os.environ["PREFECT_API_URL"] = server.api_url


def batches_in_flight(settings: Settings) -> int:
    if settings.parallel_batches:
        return settings.parallel_batches
    if runner_kind(settings) == "threads":
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
