"""When to poll a feed next: adapt to how often it publishes, honour its hints, back off on failure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from newsmon.ingest.errors import WEIGHTS, ErrorKind
from newsmon.settings import Settings

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*(\d+)", re.IGNORECASE)


def cache_max_age(cache_control: str | None) -> int | None:
    if not cache_control:
        return None
    match = _MAX_AGE.search(cache_control)
    return int(match.group(1)) if match else None


def publishing_interval(item_dates: Sequence[datetime], settings: Settings) -> int:
    """Poll about twice per typical gap between the feed's recent items, within bounds."""
    dates = sorted({d for d in item_dates if d is not None}, reverse=True)[:20]
    if len(dates) < 2:
        return settings.default_interval
    mean_gap = (dates[0] - dates[-1]).total_seconds() / (len(dates) - 1)
    return int(min(max(mean_gap / 2, settings.min_interval), settings.max_interval))


def success_interval(
    item_dates: Sequence[datetime],
    settings: Settings,
    *,
    ttl: int | None = None,
    update_period: int | None = None,
    max_age: int | None = None,
) -> int:
    """Interval after a good poll: the adaptive one, never shorter than what the publisher asks."""
    interval = publishing_interval(item_dates, settings)
    for hint in (ttl, update_period, max_age):
        if hint:
            interval = max(interval, hint)
    return min(interval, settings.max_interval)


def failure_delay(consecutive_failures: int, interval: int, settings: Settings) -> int:
    """Exponential backoff from the feed's interval: 2×, 4×, 8× ... up to max_backoff."""
    exponent = min(max(consecutive_failures, 1), 16)
    return int(min(interval * 2**exponent, settings.max_backoff))


def failure_score(previous: float, kind: ErrorKind) -> float:
    return previous + WEIGHTS[kind]


def next_after_failure(
    now: datetime, consecutive_failures: int, score: float, interval: int, settings: Settings,
    retry_after: float | None = None,
) -> tuple[datetime, bool]:
    """(next poll time, disabled?). A disabled feed is still probed, every reprobe_interval."""
    disabled = score >= settings.disable_after
    delay = settings.reprobe_interval if disabled else failure_delay(consecutive_failures, interval, settings)
    if retry_after:
        delay = max(delay, int(min(retry_after, settings.max_retry_after)))
    return now + timedelta(seconds=delay), disabled
