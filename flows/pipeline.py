"""Look-ahead over the task runner: keep the workers busy while this process consumes results in order.

`LookAhead(in_flight=2)` holds submitted work (Prefect futures, or any object with `.result()`) each with the
step that consumes its result. Adding work beyond `in_flight` first consumes the oldest, so at most `in_flight`
results wait at once (memory stays bounded by the batch size) and results are consumed in the order their
work was submitted (first in, first out, as the runner works). A consumer may add more work: reading a batch's
facts is queued behind the pages submitted before it.
"""

from __future__ import annotations

from collections import deque
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
        self._queue: deque[_Step[Any]] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, pending: Pending[T], consume: Callable[[T], None]) -> None:
        """Queue `pending`; `consume(result)` runs in this thread, oldest first, once more than `in_flight`
        wait or on `drain()`."""
        step = _Step(pending, consume)
        self._queue.append(step)
        pending.add_done_callback(lambda _: self._finished(step))
        while len(self._queue) > self.in_flight:
            self.consume_oldest()

    def _finished(self, step: _Step[Any]) -> None:
        step.done = True
        on_done = self.on_done
        if on_done is not None:
            on_done()

    def oldest_done(self) -> bool:
        """The oldest work is done: consuming it now does not wait."""
        return bool(self._queue) and self._queue[0].done

    def consume_oldest(self) -> None:
        self._queue.popleft().run()

    def drain(self) -> None:
        """Consume everything queued, including what consumers queue meanwhile."""
        while self._queue:
            self.consume_oldest()
