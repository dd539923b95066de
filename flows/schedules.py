"""Every newsmon deployment and its schedule, in one table.

`newsmon serve` (one long-lived process, `prefect.serve`) builds its deployments from this table, and
`deploy/prefect.yaml` (work pools and workers) holds the same ones: tests/test_deploy_files.py compares the two,
so the single-box and the work-pool setups never drift apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval

TIMEZONE = "UTC"


@dataclass(frozen=True)
class Deployment:
    name: str
    entrypoint: str  # relative to the repository root, as prefect.yaml writes it: "flows/ingest.py:ingest"
    description: str
    tags: tuple[str, ...]
    parameters: dict[str, Any] = field(default_factory=dict)  # None: the flow falls back to NEWSMON_* settings
    interval_s: int | None = None
    cron: str | None = None
    concurrency_limit: int | None = None
    collision_strategy: str | None = None  # what Prefect does with a run that would exceed the limit

    def flow(self) -> Any:
        path, name = self.entrypoint.split(":")
        return getattr(importlib.import_module("newsmon." + path.removesuffix(".py").replace("/", ".")), name)


DEPLOYMENTS: tuple[Deployment, ...] = (
    Deployment(
        "ingest", "flows/ingest.py:ingest",
        "One ingest pass: poll the feeds that are due, fetch and extract new articles, assign stories, read facts, "
        "alert. Parameters: db (DuckDB file; default NEWSMON_DB), all_feeds (poll every feed, due or not).",
        ("newsmon", "ingest"), {"db": None, "all_feeds": False},
        interval_s=900, concurrency_limit=1, collision_strategy="ENQUEUE",
    ),
    Deployment(
        "maintenance", "flows/maintenance.py:maintenance",
        "Nightly: drop raw HTML older than NEWSMON_RAW_HTML_RETENTION_DAYS, checkpoint the DuckDB file, export the "
        "analyst tables to Parquet. Parameters: db, export_dir (default NEWSMON_EXPORT_DIR or DB.parquet/).",
        ("newsmon", "maintenance"), {"db": None, "export_dir": None},
        cron="30 3 * * *", concurrency_limit=1, collision_strategy="CANCEL_NEW",
    ),
    Deployment(
        "deliver-alerts", "flows/alerts.py:deliver_alerts_flow",
        "Retry the alert outbox every 5 minutes (ingest delivers new alerts itself). Parameters: db, "
        "ignore_backoff (send failed deliveries now, as `newsmon alerts deliver` does).",
        ("newsmon", "alerts"), {"db": None, "ignore_backoff": False},
        interval_s=300, concurrency_limit=1, collision_strategy="CANCEL_NEW",
    ),
    Deployment(
        "reextract-facts", "flows/facts.py:reextract_facts",
        "Extract every article's facts again from stored text (run by hand after an extractor change).",
        ("newsmon", "facts"), {"db": None},
    ),
    Deployment(
        "recluster", "flows/stories.py:recluster",
        "Rebuild every story from the stored articles (run by hand after a clustering change).",
        ("newsmon", "stories"), {"db": None},
    ),
)


def runner_deployments(db: Path, *, ingest_every: timedelta | None = None) -> list[RunnerDeployment]:
    """The table as `prefect.serve` deployments of this process, every flow bound to `db`."""
    out = []
    for d in DEPLOYMENTS:
        interval = ingest_every.total_seconds() if ingest_every and d.name == "ingest" else d.interval_s
        schedule = (
            Interval(timedelta(seconds=interval), timezone=TIMEZONE) if interval
            else Cron(d.cron, timezone=TIMEZONE) if d.cron else None
        )
        out.append(d.flow().to_deployment(
            name=d.name, schedule=schedule, parameters={**d.parameters, "db": str(db)},
            concurrency_limit=d.concurrency_limit, tags=list(d.tags), description=d.description,
        ))
    return out
