"""One fetcher for a whole pass: all the pass's I/O, apart from the CPU work.

`PassFetcher` runs an asyncio loop in a thread of the flow process with one `Fetcher` (one connection pool,
one `HostGate`) for every request of the pass: feeds and pages. So the per-host concurrency, the spacing
between request starts and a host's Retry-After hold across the whole pass, however many workers extract
the pages. The flow hands it feeds to poll and pages to fetch, and takes what came back with `take()`:
polls as each feed answers (a slow feed holds up nobody), pages in batches for the CPU workers.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from newsmon.extract.urls import host_of
from newsmon.ingest.articles import FetchedPage, PageJob
from newsmon.ingest.http import Fetcher
from newsmon.ingest.poll import FeedPoll, poll_feed
from newsmon.model import FeedState
from newsmon.settings import Settings


@dataclass
class Taken:
    """What the fetcher handed over in one `take()`: feeds that answered, and fetched pages."""

    polls: list[FeedPoll] = field(default_factory=list)
    pages: list[FetchedPage] = field(default_factory=list)


# Rooms kept for one host with a longer queue than the page asking: rooms come free in bulk (the CPU side takes a
# batch at a time, every several seconds), and between two takes such a host asks for one every spacing (0.5 s).
KEPT_PER_HOST = 20


class Rooms:
    """The bound on fetched pages not yet taken, handed out so that the hosts with the longest queues go as fast
    as their spacing lets them: a host lets a page go once per spacing (0.5 s), so they set when the pass's
    fetching ends. First come, first served, such a host got a room no more often than a host with one page, and
    the pass ended with the workers idle while its last pages came in one by one.

    - A waiting page whose host has more pages left goes first.
    - Rooms freed together (a batch taken) do not all go to the hosts asking at that moment: up to KEPT_PER_HOST
      are kept free for each host with a longer queue that is between two of its requests, up to three quarters
      of the rooms.

    Pages are counted with `expect` (any thread) and `done`; `take` and `give_back` run on the fetcher's loop.
    """

    def __init__(self, count: int) -> None:
        self._count = count
        self._free = count
        self._left: Counter[str] = Counter()  # per host: pages asked for and not yet fetched
        self._asking: Counter[str] = Counter()  # hosts with a page waiting for a room
        self._waiting: list[tuple[int, int, str, asyncio.Future[None]]] = []  # (-pages left, arrival, host, waiter)
        self._arrivals = itertools.count()
        self._lock = threading.Lock()  # `expect` comes from the flow's thread

    def expect(self, hosts: Iterable[str]) -> None:
        with self._lock:
            self._left.update(hosts)

    def done(self, host: str) -> None:
        with self._lock:
            self._left[host] -= 1
            if self._left[host] <= 0:
                del self._left[host]
        self._grant()

    async def take(self, host: str) -> None:
        with self._lock:
            left = self._left[host]
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-left, next(self._arrivals), host, waiter))
        self._asking[host] += 1
        self._grant()
        await waiter

    def give_back(self) -> None:
        self._free += 1
        self._grant()

    def _grant(self) -> None:
        while self._waiting and self._free > 0:
            _, _, host, waiter = self._waiting[0]
            if not waiter.done() and self._free <= self._kept_for_longer_queues(host):
                return
            heapq.heappop(self._waiting)
            self._asking[host] -= 1
            if not waiter.done():  # not cancelled (the pass's end)
                self._free -= 1
                waiter.set_result(None)

    def _kept_for_longer_queues(self, host: str) -> int:
        with self._lock:
            left = self._left[host]
            longer = sum(min(other_left, KEPT_PER_HOST) for other, other_left in self._left.items()
                         if other_left > left and not self._asking[other])
        return min(longer, self._count * 3 // 4)


class PassFetcher:
    """`with PassFetcher(settings) as io: io.poll(feeds); io.fetch(jobs); taken = io.take(200, linger=2)`.

    `buffered_pages` bounds the fetched pages waiting to be taken: the fetcher pauses while the CPU side is
    behind, so memory stays bounded by the batch size, not by the pass.
    """

    def __init__(self, settings: Settings, *, buffered_pages: int) -> None:
        self.settings = settings
        self._buffered_pages = max(1, buffered_pages)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="newsmon-fetcher", daemon=True)
        self._ready = threading.Condition()
        self._polls: list[FeedPoll] = []
        self._pages: list[FetchedPage] = []
        self._first_page_at: float | None = None
        self._woken = False
        self._outstanding = 0  # polls and fetches scheduled and not yet finished
        self._busy_since: float | None = None
        self.busy_seconds = 0.0  # wall time with requests in flight or waiting for their turn on a host
        self._fetcher: Fetcher | None = None
        self._rooms: Rooms | None = None

    def __enter__(self) -> PassFetcher:
        self._thread.start()
        self._call(self._open()).result()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._call(self._close()).result(timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop.close()

    async def _open(self) -> None:
        # Created on the loop that uses them: asyncio primitives and httpx's pool belong to one loop.
        self._fetcher = Fetcher(self.settings)
        self._rooms = Rooms(self._buffered_pages)

    async def _close(self) -> None:
        current = asyncio.current_task()
        for other in asyncio.all_tasks(self._loop):
            if other is not current:
                other.cancel()
        assert self._fetcher is not None
        await self._fetcher.__aexit__(None, None, None)

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    # ------------------------------------------------------------------ work in

    def poll(self, feeds: Sequence[FeedState]) -> None:
        """Poll every feed; each one's outcome is taken as soon as it answered."""
        self._schedule(len(feeds))
        for feed in feeds:
            self._call(self._poll_one(feed))

    def fetch(self, jobs: Sequence[PageJob]) -> None:
        """Fetch the pages, in the given order per host (the gates queue first come, first served)."""
        self._schedule(len(jobs))
        assert self._rooms is not None
        self._rooms.expect(host_of(job.url) for job in jobs)  # every page counted before any asks for a room
        for job in jobs:
            self._call(self._fetch_one(job))

    def _schedule(self, count: int) -> None:
        with self._ready:
            if self._outstanding == 0 and count:
                self._busy_since = time.monotonic()
            self._outstanding += count

    async def _poll_one(self, feed: FeedState) -> None:
        assert self._fetcher is not None
        try:
            polled = await poll_feed(self._fetcher, feed)
        except BaseException:
            self._finished()
            raise
        self._finished(poll=polled)

    async def _fetch_one(self, job: PageJob) -> None:
        assert self._fetcher is not None and self._rooms is not None
        rooms, host = self._rooms, host_of(job.url)
        admitted = False

        async def admit() -> None:
            nonlocal admitted
            await rooms.take(host)
            admitted = True

        try:
            # A room is taken once the page's host lets it go (given back when the page is taken): taken before,
            # the rooms filled up with pages queued on the few hosts with many pages (0.5 s apart each), and
            # the other hosts' pages, and the workers, waited for them.
            result = await self._fetcher.get(job.url, "page", admit=admit)
            if not admitted:  # failed before its turn (a host's Retry-After): it too is given back when taken
                await rooms.take(host)
        except BaseException:
            self._finished()
            raise
        finally:
            rooms.done(host)
        self._finished(page=FetchedPage(job, result))

    def _finished(self, *, poll: FeedPoll | None = None, page: FetchedPage | None = None) -> None:
        with self._ready:
            self._outstanding -= 1
            if self._outstanding == 0 and self._busy_since is not None:
                self.busy_seconds += time.monotonic() - self._busy_since
                self._busy_since = None
            if poll is not None:
                self._polls.append(poll)
            if page is not None:
                self._pages.append(page)
                self._first_page_at = self._first_page_at or time.monotonic()
            self._ready.notify_all()

    # ------------------------------------------------------------------ work out

    def take(self, max_pages: int, linger: float) -> Taken:
        """Block until there is something worth handing over: any feed's poll; `max_pages` pages; fewer pages
        once the first of them waited `linger` seconds (the first articles of a pass are not held back for a
        full batch) or nothing more is coming; or nothing at all when the fetcher is idle or `wake()` was
        called (the caller has something else to do)."""
        with self._ready:
            while True:
                full = len(self._pages) >= max_pages
                idle = self._outstanding == 0
                lingered = self._first_page_at is not None and time.monotonic() - self._first_page_at >= linger
                if self._polls or full or (self._pages and (idle or lingered)) or (idle and not self._pages):
                    break
                if self._woken:
                    self._woken = False
                    return Taken()
                timeout = None
                if self._first_page_at is not None:
                    timeout = max(0.01, linger - (time.monotonic() - self._first_page_at))
                self._ready.wait(timeout)
            taken = Taken(polls=self._polls, pages=self._pages[:max_pages])
            self._polls = []
            self._pages = self._pages[max_pages:]
            self._first_page_at = time.monotonic() if self._pages else None
        for _ in taken.pages:
            self._loop.call_soon_threadsafe(self._release_room)
        return taken

    def wake(self) -> None:
        """Make a waiting (or the next) `take()` return at once. Safe from any thread."""
        with self._ready:
            self._woken = True
            self._ready.notify_all()

    def all_fetched(self) -> bool:
        """Nothing being polled or fetched: the pages still to take are the pass's last (until more is asked)."""
        with self._ready:
            return self._outstanding == 0 and not self._polls

    def finished(self) -> bool:
        """Nothing being polled or fetched, nothing left to take: the pass's I/O is over (until more is asked)."""
        with self._ready:
            return self._outstanding == 0 and not self._polls and not self._pages

    def _release_room(self) -> None:
        assert self._rooms is not None
        self._rooms.give_back()
