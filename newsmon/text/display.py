"""Counts and times as people read them: "1 feed", "3 stories", "2026-01-12 09:30Z"."""

from __future__ import annotations

from datetime import UTC, datetime


def plural(count: int, word: str, many: str | None = None) -> str:
    """"1 feed", "2 feeds", "0 stories", "3 batches" (pass `many` for anything irregular)."""
    if count == 1:
        return f"{count} {word}"
    if many is None:
        if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
            many = word[:-1] + "ies"
        elif word.endswith(("s", "x", "ch", "sh")):
            many = word + "es"
        else:
            many = word + "s"
    return f"{count} {many}"


def short_time(value: datetime | None) -> str:
    """A timestamp as an operator reads it: minutes, UTC, no microseconds ("2026-01-12 09:30Z")."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")
