"""The look-ahead helper that schedules the pass's batches, on its own: real futures of a real thread pool."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from newsmon.flows.pipeline import LookAhead


def test_results_are_consumed_as_they_finish_with_at_most_in_flight_waiting() -> None:
    finish = [threading.Event() for _ in range(4)]
    consumed: list[int] = []
    waiting: list[int] = []
    steps = LookAhead(in_flight=2)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = []

        def add(i: int) -> None:
            futures.append(pool.submit(lambda: finish[i].wait(5) and i))
            steps.add(futures[-1], consumed.append)
            waiting.append(len(steps))

        add(0)
        add(1)
        finish[1].set()
        add(2)  # a third waiting: one is consumed, the finished one, not the older one still running
        assert consumed == [1]
        finish[3].set()
        add(3)
        assert consumed == [1, 3]
        finish[2].set()
        finish[0].set()
        for future in futures:
            future.result()
        steps.drain()  # both finished by now: the older first
    assert consumed == [1, 3, 0, 2]
    assert max(waiting) == 2


def test_a_slow_oldest_holds_up_nothing_behind_it() -> None:
    """A chunk of texts read for long must not keep the next batch of pages, already extracted, from being
    stored (and its worker from being given more)."""
    release = threading.Event()
    consumed: list[str] = []
    steps = LookAhead(in_flight=1)
    with ThreadPoolExecutor(max_workers=2) as pool:
        steps.add(pool.submit(lambda: release.wait(5) and "slow"), consumed.append)
        steps.add(pool.submit(lambda: "quick"), consumed.append)
        assert consumed == ["quick"]  # consumed while the older work still runs
        release.set()
        steps.drain()
    assert consumed == ["quick", "slow"]


def test_of_the_finished_work_the_oldest_is_consumed_first() -> None:
    consumed: list[int] = []
    steps = LookAhead(in_flight=3)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(lambda i=i: i) for i in range(3)]
        for future in futures:
            future.result()
        for future in reversed(futures):  # added newest first: all done already
            steps.add(future, consumed.append)
        steps.drain()
    assert consumed == [2, 1, 0]  # the order they were added in


def test_work_added_by_a_consumer_is_queued_with_the_rest() -> None:
    order: list[str] = []
    steps = LookAhead(in_flight=1)
    with ThreadPoolExecutor(max_workers=2) as pool:

        def pages_done(name: str) -> None:
            order.append(name)
            steps.add(pool.submit(lambda: f"facts of {name}"), order.append)

        steps.add(pool.submit(lambda: "batch 1"), pages_done)
        steps.add(pool.submit(lambda: "batch 2"), pages_done)
        steps.drain()
    assert sorted(order) == ["batch 1", "batch 2", "facts of batch 1", "facts of batch 2"]
    assert all(order.index(f"facts of {name}") > order.index(name) for name in ("batch 1", "batch 2"))


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
