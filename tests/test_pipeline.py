"""The look-ahead helper that schedules the pass's batches, on its own: real futures of a real thread pool."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from newsmon.flows.pipeline import LookAhead


def test_results_are_consumed_oldest_first_with_at_most_in_flight_waiting() -> None:
    consumed: list[int] = []
    waiting: list[int] = []
    steps = LookAhead(in_flight=2)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for i in range(6):
            # Later work finishes first: the order of consumption must still be the order of submission.
            steps.add(pool.submit(lambda i=i: time.sleep(0.05 * (6 - i)) or i), consumed.append)
            waiting.append(len(steps))
        assert consumed == [0, 1, 2, 3]  # each add beyond two consumed the oldest
        steps.drain()
    assert consumed == list(range(6))
    assert max(waiting) == 2


def test_work_added_by_a_consumer_is_queued_behind_what_came_before() -> None:
    order: list[str] = []
    steps = LookAhead(in_flight=1)
    with ThreadPoolExecutor(max_workers=2) as pool:

        def pages_done(name: str) -> None:
            order.append(name)
            steps.add(pool.submit(lambda: f"facts of {name}"), order.append)

        steps.add(pool.submit(lambda: "batch 1"), pages_done)
        steps.add(pool.submit(lambda: "batch 2"), pages_done)
        steps.drain()
    assert order == ["batch 1", "batch 2", "facts of batch 1", "facts of batch 2"]


def test_the_next_result_is_consumed_while_later_work_still_runs() -> None:
    release = threading.Event()
    consumed: list[str] = []
    steps = LookAhead(in_flight=1)
    with ThreadPoolExecutor(max_workers=2) as pool:
        steps.add(pool.submit(lambda: "quick"), consumed.append)
        steps.add(pool.submit(lambda: release.wait(5) and "slow"), consumed.append)
        assert consumed == ["quick"]  # not held back by the slow one
        release.set()
        steps.drain()
    assert consumed == ["quick", "slow"]


def test_an_error_of_the_work_reaches_the_caller() -> None:
    steps = LookAhead(in_flight=1)
    with ThreadPoolExecutor(max_workers=1) as pool:
        steps.add(pool.submit(lambda: 1 / 0), print)
        with pytest.raises(ZeroDivisionError):
            steps.drain()
    with pytest.raises(ValueError):
        LookAhead(in_flight=0)
