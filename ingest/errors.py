"""How bad a failure is, so backoff and disabling can weigh it.

- hard: will not fix itself (410 Gone, refused address, not a feed, bad scheme)
- soft: may come back (404, 403, malformed XML, a redirect loop)
- transient: surely comes back (timeouts, connection errors, DNS, 429, 5xx)
"""

from __future__ import annotations

from newsmon.model import ErrorKind

WEIGHTS: dict[ErrorKind, float] = {"hard": 1.0, "soft": 0.5, "transient": 0.25}


def classify_status(status: int) -> ErrorKind:
    if status in (410, 451):
        return "hard"
    if status in (408, 425, 429) or status >= 500:
        return "transient"
    return "soft"
