"""Alert delivery knobs, from `NEWSMON_ALERT_*` environment variables (or `.env`).

Kept apart from `newsmon.settings.Settings` (the ingest knobs) so alerting can be tuned, and tests can
shorten its backoff, without touching the pass's own settings.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSMON_ALERT_", env_file=".env", extra="ignore")

    retry_base: float = Field(60.0, description="Seconds before the first retry of a failed delivery; doubles.")
    retry_max: float = Field(6 * 3600.0, description="Longest wait between two attempts of one delivery.")
    max_attempts: int = Field(10, description="Attempts before a delivery is marked failed for good.")
    lease: float = Field(
        600.0,
        description="Seconds a delivery stays claimed ('sending') by a pass; past that, a crashed pass's "
        "claim is taken over and the message resent with the same idempotency key.",
    )
    claim_batch: int = Field(50, description="Deliveries claimed (and sent) at a time.")
    concurrency: int = Field(8, description="Messages in flight at once.")
    follow_up_days: float = Field(
        7.0, description="Stories alerted this recently are re-checked for new facts every pass."
    )
    guard_webhooks: bool = Field(
        False,
        description="Apply the SSRF guard (private/loopback refusal, NEWSMON_ALLOW_NETWORKS) to webhook targets.",
    )
    max_urls: int = Field(25, description="Article URLs listed in one message.")

