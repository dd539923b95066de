"""The pass's one fetcher on its own: real HTTP servers on loopback, no Prefect."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise

from newsmon.ingest.articles import PageJob
from newsmon.ingest.stream import PassFetcher, Taken
from newsmon.model import FeedState, QueuedItem
from newsmon.settings import Settings
from tests.site import PARAGRAPHS, STAMP_SLACK, Route, Site, article_page, rss


def feed(url: str) -> FeedState:
    return FeedState(url, None, None, None, 900, 0, 0.0, None, None)


def job(url: str) -> PageJob:
    item = QueuedItem("http://feed.invalid/", url, None, url, None, None, None, datetime.now(UTC), 0)
    return PageJob(url, [item])


def settings(host_delay: float = 0.0) -> Settings:
    return Settings(allow_networks="127.0.0.0/8", host_delay=host_delay)  # type: ignore[arg-type]


def take_all(fetcher: PassFetcher, max_pages: int, linger: float = 0.5) -> list[Taken]:
    taken = []
    while not fetcher.finished():
        taken.append(fetcher.take(max_pages, linger=linger))
    return taken


def test_each_feed_is_handed_over_as_it_answers() -> None:
    with Site() as site:
        site.add("/quick.xml", Route(body=rss([]), content_type="application/rss+xml"))

        def slow() -> Iterator[bytes]:
            time.sleep(1.5)
            yield rss([])

        site.add("/slow.xml", Route(body=slow, content_type="application/rss+xml"))
        with PassFetcher(settings(), buffered_pages=10) as fetcher:
            started = time.monotonic()
            fetcher.poll([feed(site.url("/slow.xml")), feed(site.url("/quick.xml"))])
            first = fetcher.take(10, linger=0.1)
            quick_after = time.monotonic() - started
            rest = take_all(fetcher, 10)
    assert [p.feed.url for p in first.polls] == [site.url("/quick.xml")] and quick_after < 1.0
    assert [p.feed.url for t in rest for p in t.polls] == [site.url("/slow.xml")]
    assert all(p.parsed is not None for t in [first, *rest] for p in t.polls)


def test_pages_come_in_batches_and_a_partial_batch_does_not_wait_for_long() -> None:
    with Site() as site:
        for i in range(5):
            site.add(f"/p{i}.html", Route(body=article_page(f"Story {i}", PARAGRAPHS)))
        with PassFetcher(settings(), buffered_pages=4) as fetcher:
            fetcher.fetch([job(site.url(f"/p{i}.html")) for i in range(5)])
            taken = take_all(fetcher, max_pages=2)
    sizes = [len(t.pages) for t in taken if t.pages]
    assert sum(sizes) == 5 and max(sizes) == 2
    assert all(p.result.ok and p.result.body for t in taken for p in t.pages)


def test_retry_after_holds_for_the_rest_of_the_pass() -> None:
    """A host that says come back in an hour gets no other request in this pass, feed or page."""
    with Site("127.0.0.5") as site:
        site.add("/busy.xml", Route(status=429, headers={"Retry-After": "3600"}, body=b"slow down"))
        site.add("/p.html", Route(body=article_page("Later", PARAGRAPHS)))
        with PassFetcher(settings(), buffered_pages=4) as fetcher:
            fetcher.poll([feed(site.url("/busy.xml"))])
            polled = take_all(fetcher, 1)
            fetcher.fetch([job(site.url("/p.html"))])
            fetched = take_all(fetcher, 1)
    assert polled[0].polls[0].error is not None
    page = fetched[0].pages[0]
    assert page.result.error is not None and page.result.error.code == "retry_after"
    assert site.hits("/p.html") == 0


def test_pages_waiting_for_their_host_hold_up_no_other_host() -> None:
    """The bound on fetched pages counts no page still waiting for its host's turn: six pages of a host 0.5 s
    apart come first in the order, and a free host's three pages need not wait for them."""
    with Site("127.0.0.5") as busy, Site("127.0.0.6") as free:
        for site in (busy, free):
            for i in range(6):
                site.add(f"/p{i}.html", Route(body=article_page(f"Story {i}", PARAGRAPHS)))
        jobs = [job(busy.url(f"/p{i}.html")) for i in range(6)] + [job(free.url(f"/p{i}.html")) for i in range(3)]
        with PassFetcher(settings(host_delay=0.5), buffered_pages=2) as fetcher:
            fetcher.fetch(jobs)
            order = [p.job.url for t in take_all(fetcher, max_pages=1, linger=0.0) for p in t.pages]
    assert sorted(order) == sorted(j.url for j in jobs)
    # Each host lets a page go every 0.5 s: the free host's pages come while the busy one's are still going out
    # (with the bound counting pages waiting for their turn, they came last: positions 6-8).
    assert max(i for i, url in enumerate(order) if url.startswith(free.base)) < 6


def test_pages_let_go_in_bulk_keep_their_hosts_spacing() -> None:
    """The CPU side takes four pages at a time, every 2 s: the rooms free up at once, while requests to the host
    have had their turn and wait to be admitted. Each host still gets its requests 0.5 s apart (two of them were
    let go together, 0 s apart, when a waiting request did not look again who had taken the turn meanwhile)."""
    with Site("127.0.0.5") as first, Site("127.0.0.6") as second:
        for site in (first, second):
            for i in range(12):
                site.add(f"/p{i}.html", Route(body=article_page(f"Story {i}", PARAGRAPHS)))
        jobs = [job(site.url(f"/p{i}.html")) for site in (first, second) for i in range(12)]
        with PassFetcher(settings(host_delay=0.5), buffered_pages=4) as fetcher:
            fetcher.fetch(jobs)
            pages = 0
            while not fetcher.finished():
                pages += len(fetcher.take(4, linger=0.0).pages)
                time.sleep(2)
        assert pages == 24
        for site in (first, second):
            arrivals = sorted(at for _, at in site.received)  # the kernel's stamps (Request.received_at)
            assert min(b - a for a, b in pairwise(arrivals)) >= 0.5 - STAMP_SLACK


def test_a_free_room_goes_to_the_host_with_the_most_pages_left() -> None:
    """Room for one fetched page at a time: the host with six pages gets it before the host with two, whose pages
    were asked for first (first come, first served, the two hosts took turns and the long queue came last)."""
    with Site("127.0.0.5") as short, Site("127.0.0.6") as long:
        for site in (short, long):
            for i in range(6):
                site.add(f"/p{i}.html", Route(body=article_page(f"Story {i}", PARAGRAPHS)))
        jobs = [job(short.url(f"/p{i}.html")) for i in range(2)] + [job(long.url(f"/p{i}.html")) for i in range(6)]
        with PassFetcher(settings(), buffered_pages=1) as fetcher:
            fetcher.fetch(jobs)
            order = []
            while not fetcher.finished():
                order += [p.job.url for p in fetcher.take(1, linger=0.0).pages]
                time.sleep(0.05)  # every waiting page has asked for the room by then
    assert sorted(order) == sorted(j.url for j in jobs)
    # The short host's first page takes the free room; its second waits behind the long host's pages until
    # both hosts have as few left.
    assert order.index(short.url("/p1.html")) >= 5


def test_rooms_freed_together_do_not_all_go_to_the_hosts_asking_then() -> None:
    """The CPU side takes four pages at a time: those rooms went to the hosts asking at that moment, mostly the
    short queues, while the long queue was between two of its requests (0.2 s apart): it got one room per take and
    its pages came last, one by one. Rooms are now kept for it: it goes first, at its spacing's pace."""
    long_pages = 24
    with contextlib.ExitStack() as stack:
        long = stack.enter_context(Site("127.0.0.5"))
        shorts = [stack.enter_context(Site(f"127.0.0.{20 + i}")) for i in range(8)]
        for site, count in [(long, long_pages)] + [(short, 3) for short in shorts]:
            for i in range(count):
                site.add(f"/p{i}.html", Route(body=article_page(f"Story {i}", PARAGRAPHS)))
        jobs = [job(long.url(f"/p{i}.html")) for i in range(long_pages)]
        jobs += [job(short.url(f"/p{i}.html")) for i in range(3) for short in shorts]
        with PassFetcher(settings(host_delay=0.2), buffered_pages=8) as fetcher:
            fetcher.fetch(jobs)
            order: list[str] = []
            while not fetcher.finished():
                order += [p.job.url for p in fetcher.take(4, linger=0.0).pages]
                time.sleep(0.6)
    assert sorted(order) == sorted(j.url for j in jobs)
    # 20 of the first 32 measured (7 when the rooms went to whoever asked).
    assert sum(url.startswith(long.base) for url in order[:32]) >= 16
