"""Alerting in the pipeline: evaluate rules after story assignment, deliver the outbox.

`evaluate_alerts` and `deliver_alerts` are called by the ingest flow; `deliver-alerts` is a flow of its
own (a deployment every few minutes retries what failed). Neither task ever fails: alerting problems are
recorded in the outbox and logged, and ingestion goes on.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task

from newsmon.alerts.secrets import redact
from newsmon.alerts.settings import AlertSettings
from newsmon.flows.alerting import DeliveryOutcome, EvaluationOutcome, deliver_pass, evaluate_pass
from newsmon.flows.runners import TASK_OPTIONS
from newsmon.settings import Settings, get_settings


@task(name="evaluate-alerts", **TASK_OPTIONS)
def evaluate_alerts(settings: Settings) -> EvaluationOutcome:
    """Match new and changed stories against the rules; write the alerts to the outbox."""
    logger = get_run_logger()
    try:
        return evaluate_pass(settings, AlertSettings(), log=logger)
    except Exception as exc:  # never let alerting fail the ingest pass
        message = redact(f"{type(exc).__name__}: {exc}")
        logger.error("Alert evaluation failed, ingestion goes on: %s", message)
        return EvaluationOutcome(error=message)


@task(name="send-alerts", **TASK_OPTIONS)
def deliver_alerts(
    settings: Settings, ignore_backoff: bool = False, pass_started: datetime | None = None
) -> DeliveryOutcome:
    """Send the outbox's due deliveries (all pending and failed ones with `ignore_backoff`), except those
    attempted since `pass_started`."""
    logger = get_run_logger()
    try:
        return deliver_pass(
            settings, AlertSettings(), ignore_backoff=ignore_backoff, log=logger, pass_started=pass_started
        )
    except Exception as exc:
        message = redact(f"{type(exc).__name__}: {exc}")
        logger.error("Alert delivery failed, it is retried on the next pass: %s", message)
        return DeliveryOutcome(error=message)


@flow(name="deliver-alerts")
def deliver_alerts_flow(db: str | None = None, ignore_backoff: bool = False) -> DeliveryOutcome:
    """Deliver pending alerts: retries on schedule, or everything now (`newsmon alerts deliver`)."""
    settings = get_settings(**({"db": Path(db)} if db else {}))
    return deliver_alerts(settings, ignore_backoff=ignore_backoff)
