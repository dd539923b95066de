"""Progress of a running pass, for a live display: the flow reports counts, the CLI renders them.

The flow process calls `report()` as batches finish; whoever wants to show progress (the CLI's live display on a
terminal) subscribes a listener for the duration of a command. With no listener, `report()` costs a list check.
Counters are named by what they count: "feeds" (polled), "pages" (fetched), "extracted", "failed", "stories"
(articles assigned), "facts" (articles read). `total` is given when known (e.g. pages queued), else None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, int, int | None], None]
"""(counter, advance, total): `advance` is added to the counter; `total` replaces its total when not None."""

_listeners: list[Listener] = []


def report(counter: str, advance: int = 0, total: int | None = None) -> None:
    """Tell every listener that `counter` advanced (and, if known, what its total now is)."""
    for listener in list(_listeners):
        listener(counter, advance, total)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Subscribe `listener` for the duration of the block."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
