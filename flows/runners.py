"""Where the ingest flow's article batches run, and how feeds are split between shards."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from importlib import import_module
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
        return WorkerProcesses(max_workers=workers)
    if kind == "dask":
        from prefect_dask import DaskTaskRunner  # optional dependency: pip install 'newsmon[dask]'

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})
    return ThreadPoolTaskRunner(max_workers=workers)


def leave_interrupts_to_the_flow() -> None:
    """A worker's initializer: Ctrl-C reaches the terminal's whole process group, workers included; the flow
    process alone decides what it means (it records the pass and ends the workers), and no worker prints a
    KeyboardInterrupt traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class WorkerProcesses(ProcessPoolTaskRunner):  # type: ignore[type-arg]
    """Prefect's process pool, stopped at once on Ctrl-C: its workers are terminated instead of being waited
    for (a worker reading a batch would hold the command for seconds; what it computed is read again next
    pass, nothing stored is lost). `duplicate()` keeps the initializer."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, initializer=leave_interrupts_to_the_flow)

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.terminate_workers()
        super().__exit__(exc_type, exc_value, traceback)

    def start_workers(self, *, warm: bool = False) -> None:
        """Spawn every worker now, from this (the main) thread with Ctrl-C ignored, which the spawned interpreter
        inherits until its initializer takes over: a Ctrl-C during a worker's seconds of start-up would
        otherwise print that worker's traceback. Called when a pass first has pages to fetch, so the workers
        start while the pages are fetched; a pass with nothing to fetch starts none. `warm`: each worker also
        loads what its batches need (the English spaCy pipeline), for workers started before any page is in."""
        if self._executor is None or threading.current_thread() is not threading.main_thread():
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            # Each submission finding no idle worker spawns one, up to max_workers (concurrent.futures).
            for _ in range(self._max_workers):
                self._executor.submit(_warm_up if warm else leave_interrupts_to_the_flow)
        finally:
            signal.signal(signal.SIGINT, previous)

    def terminate_workers(self) -> None:
        # concurrent.futures offers no public way to stop running work; `_processes` is its map of workers.
        processes = getattr(self._executor, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()


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


def _warm_up() -> None:
    # By name: newsmon.flows.batches imports this module.
    import_module("newsmon.flows.batches").warm_up()


def start_workers(*, warm: bool = False) -> None:
    """Start the current flow run's worker processes now (a process pool's; other runners start their own);
    `warm`: see `WorkerProcesses.start_workers`."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    if isinstance(runner, WorkerProcesses):
        runner.start_workers(warm=warm)


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
