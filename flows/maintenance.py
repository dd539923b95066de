"""The nightly `maintenance` flow: raw HTML retention, compaction, Parquet export for analysts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from newsmon.flows.runners import TASK_OPTIONS
from newsmon.settings import Settings, get_settings
from newsmon.storage.db import open_writer
from newsmon.storage.lock import RunInProgress, exclusive_run
from newsmon.storage.maintenance import compact, export_parquet, prune_raw_html, retention_cutoff


@dataclass
class MaintenanceOutcome:
    pages_pruned: int = 0
    exported: dict[str, int] = field(default_factory=dict)
    export_dir: str | None = None
    skipped: str | None = None


@task(name="maintain-store", retries=2, retry_delay_seconds=60, **TASK_OPTIONS)
def maintain_store(settings: Settings, export_dir: Path | None) -> MaintenanceOutcome:
    outcome = MaintenanceOutcome()
    cutoff = retention_cutoff(datetime.now(UTC), settings.raw_html_retention_days)
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        outcome.pages_pruned = prune_raw_html(con, older_than=cutoff)
        compact(con)
        if export_dir is not None:
            outcome.exported = export_parquet(con, export_dir)
            outcome.export_dir = str(export_dir)
    return outcome


@flow(name="maintenance")
def maintenance(db: str | None = None, export_dir: str | None = None) -> MaintenanceOutcome:
    """Drop raw HTML past its retention, checkpoint the file, and export the analyst tables to Parquet
    (EXPORT_DIR, default NEWSMON_EXPORT_DIR or DB.parquet/ beside the database)."""
    settings = get_settings(**({"db": Path(db)} if db else {}))
    target = Path(export_dir) if export_dir else settings.export_dir or Path(f"{settings.db}.parquet")
    try:
        with exclusive_run(settings.db, wait=settings.maintenance_lock_wait, purpose="maintenance"):
            outcome = maintain_store(settings, target)
    except RunInProgress as exc:
        get_run_logger().warning("%s: maintenance skipped", exc)
        return MaintenanceOutcome(skipped=str(exc))
    lines = "\n".join(f"| {t} | {n} |" for t, n in outcome.exported.items())
    create_markdown_artifact(
        key="maintenance",
        markdown=f"# Maintenance\n\nRaw HTML dropped from {outcome.pages_pruned} page(s).\n\n"
        f"Exported to `{outcome.export_dir}`:\n\n| table | rows |\n|---|---|\n{lines}\n",
    )
    return outcome
