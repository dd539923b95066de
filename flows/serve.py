"""Every newsmon schedule, for `prefect.serve` (one long-lived process) — the same ones deploy/prefect.yaml
registers for work pools."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval

from newsmon.flows.ingest import ingest
from newsmon.flows.maintenance import maintenance


def deployments(db: Path, *, ingest_every: timedelta = timedelta(minutes=15)) -> list[RunnerDeployment]:
    params = {"db": str(db)}
    return [
        ingest.to_deployment(
            name="ingest",
            schedule=Interval(ingest_every, timezone="UTC"),
            parameters=params,
            concurrency_limit=1,
            tags=["newsmon", "ingest"],
            description="One ingest pass over the feeds that are due.",
        ),
        maintenance.to_deployment(
            name="maintenance",
            schedule=Cron("30 3 * * *", timezone="UTC"),
            parameters=params,
            concurrency_limit=1,
            tags=["newsmon", "maintenance"],
            description="Raw HTML retention, compaction, Parquet export.",
        ),
    ]
