"""Look-ahead over the task runner: keep the workers busy while this process consumes results as they come.

`LookAhead(in_flight=2)` holds submitted work (Prefect futures, or any object with `.result()` and
`.add_done_callback()`) each with the step that consumes its result. Adding work beyond `in_flight` first consumes
one, so at most `in_flight` results wait at once (memory stays bounded by the batch size). What is consumed is the
oldest finished work, or, when none has finished, whichever finishes first: waiting for the oldest held up
everything behind it (a chunk of texts read for 15 s kept the next batch of pages, finished in 4 s, from being
stored, and its worker idle). A consumer may add more work: reading a batch's facts is queued with the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Pending(Protocol[T_co]):
    def result(self) -> T_co: ...

    def add_done_callback(self, fn: Callable[[Any], None]) -> None: ...


@dataclass
class _Step(Generic[T]):
    pending: Pending[T]
    consume: Callable[[T], None]
    done: bool = False

    def run(self) -> None:
        self.consume(self.pending.result())


class LookAhead:
    """`on_done` is called (from whichever thread finished the work) whenever some work is done: a caller
    waiting for something else (the fetcher) can wake up and consume it."""

    def __init__(self, in_flight: int, on_done: Callable[[], None] | None = None) -> None:
        if in_flight < 1:
            raise ValueError(f"in_flight must be at least 1, not {in_flight}")
        self.in_flight = in_flight
        self.on_done = on_done
        self._queue: list[_Step[Any]] = []  # in the order the work was added
        self._changed = threading.Condition()

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, pending: Pending[T], consume: Callable[[T], None]) -> None:
        """Queue `pending`; `consume(result)` runs in this thread once more than `in_flight` wait, or on
        `consume_next()` / `drain()`."""
        step = _Step(pending, consume)
        self._queue.append(step)
        pending.add_done_callback(lambda _: self._finished(step))
        while len(self._queue) > self.in_flight:
            self.consume_next()

    def _finished(self, step: _Step[Any]) -> None:
        with self._changed:
            step.done = True
            self._changed.notify_all()
        on_done = self.on_done
        if on_done is not None:
            on_done()

    def any_done(self) -> bool:
        """Some work is done: consuming now does not wait."""
        with self._changed:
            return any(step.done for step in self._queue)

    def consume_next(self) -> None:
        """Consume the oldest finished work; when none has finished, wait for whichever finishes first."""
        with self._changed:
            while (step := next((s for s in self._queue if s.done), None)) is None:
                self._changed.wait()
            self._queue.remove(step)
        step.run()

    def drain(self) -> None:
        """Consume everything queued, including what consumers queue meanwhile."""
        while self._queue:
            self.consume_next()
