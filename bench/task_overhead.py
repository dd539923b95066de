"""Prefect's CPU per task run, against a temporary server: flows of 10 and of 10 + N empty tasks, the difference over
N is the cost of one task run (start-ups apart). Two kinds, as an ingest pass has both (the thirteenth session's
cold pass: 39 task runs in the workers, extracting pages and reading texts; 82 in the flow process, writing,
planning polls, assigning stories, evaluating alerts):

- submitted to a process-pool worker (2 workers): the workers' CPU, measured once the pool has ended, and the
  temporary server's;
- called in the flow process: this process's CPU (Prefect's threads too) and the server's.

    python bench/task_overhead.py [--tasks 100] [--ca-bundle]

`--ca-bundle`: Prefect's client loads the whole CA bundle for each client it makes, as it does without newsmon's
one-certificate file for a plain-HTTP loopback API (newsmon/prefect_api.py `_api_settings`).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from collections.abc import Callable
from pathlib import Path

from prefect import flow, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import _cmdline, _cpu_seconds, _descendants  # the ingest bench's /proc readers


@task
def nothing(i: int) -> int:
    return i


def _server_cpu() -> float:
    """CPU seconds of the temporary server (uvicorn) this process started."""
    return sum(_cpu_seconds(pid) for pid in _descendants(os.getpid()) if "uvicorn" in _cmdline(pid))


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's workers, reaped at the flow's end
    return used.ru_utime + used.ru_stime


def _own_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def per_task_run(run: Callable[[int], None], process_cpu: Callable[[], float], n: int) -> tuple[float, float]:
    """(process, server) CPU ms of one task run: a run of 10 + n tasks minus a run of 10."""

    def measure(tasks: int) -> tuple[float, float]:
        process, server = process_cpu(), _server_cpu()
        run(tasks)
        return process_cpu() - process, _server_cpu() - server

    base, more = measure(10), measure(10 + n)
    return 1000 * (more[0] - base[0]) / n, 1000 * (more[1] - base[1]) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--ca-bundle", action="store_true", help="the client loads the whole CA bundle")
    args = parser.parse_args()
    if args.ca_bundle:
        import certifi

        os.environ["PREFECT_API_SSL_CERT_FILE"] = certifi.where()  # set explicitly: newsmon keeps it
    from newsmon.flows.runners import WorkerProcesses
    from newsmon.prefect_api import prefect_api

    @flow(task_runner=WorkerProcesses(2))
    def in_workers(n: int) -> None:
        for future in [nothing.submit(i) for i in range(n)]:
            future.result()

    @flow
    def in_the_flow(n: int) -> None:
        for i in range(n):
            nothing(i)

    with prefect_api(120, linger=0):
        in_the_flow(2)  # the first flow run's imports and connections apart
        workers = per_task_run(in_workers, _children_cpu, args.tasks)
        flow_process = per_task_run(in_the_flow, _own_cpu, args.tasks)
    how = "whole CA bundle" if args.ca_bundle else "as newsmon runs"
    print(f"CPU per task run ({how}, {args.tasks} task runs, the temporary server):")
    print(f"  in a process-pool worker: workers {workers[0]:.1f} ms, server {workers[1]:.1f} ms")
    print(f"  in the flow process:      flow process {flow_process[0]:.1f} ms, server {flow_process[1]:.1f} ms")


if __name__ == "__main__":
    main()
