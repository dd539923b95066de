"""Prefect's CPU per task run in a process-pool worker, against a temporary server: flows of 10 and of 10 + N
empty tasks on two workers, each pool's CPU measured once it has ended; the difference over N is the cost of one
task run, the workers' start-up apart.

    python bench/task_overhead.py [--tasks 60] [--ca-bundle]

`--ca-bundle`: Prefect's client loads the whole CA bundle for each client it makes, as it does without
newsmon's one-certificate file for a plain-HTTP loopback API (newsmon/prefect_api.py `_api_settings`).
"""

from __future__ import annotations

import argparse
import os
import resource

from prefect import flow, task


@task
def nothing(i: int) -> int:
    return i


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--ca-bundle", action="store_true", help="the client loads the whole CA bundle")
    args = parser.parse_args()
    if args.ca_bundle:
        import certifi

        os.environ["PREFECT_API_SSL_CERT_FILE"] = certifi.where()  # set explicitly: newsmon keeps it
    from newsmon.flows.runners import WorkerProcesses
    from newsmon.prefect_api import prefect_api

    @flow(task_runner=WorkerProcesses(2))
    def empty_tasks(n: int) -> None:
        for future in [nothing.submit(i) for i in range(n)]:
            future.result()

    def workers_cpu(n: int) -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        empty_tasks(n)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's workers are reaped at the flow's end
        return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    with prefect_api(120, linger=0):
        base = workers_cpu(10)
        cpu = workers_cpu(10 + args.tasks) - base
    print(
        f"{args.tasks} task runs on 2 workers ({'whole CA bundle' if args.ca_bundle else 'as newsmon runs'}): "
        f"{1000 * cpu / args.tasks:.1f} ms of the workers' CPU per task run"
    )


if __name__ == "__main__":
    main()
