"""A polite, bounded HTTP GET for feeds and pages.

One `Fetcher` per pass: pooled connections, a User-Agent that says who we are, per-host concurrency and
spacing, Retry-After honoured for the whole host, and every response bounded in time and size. It never
raises for a bad response: the outcome, good or bad, is a `FetchResult`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx

from newsmon.extract.urls import host_of
from newsmon.ingest.errors import classify_status
from newsmon.model import FetchError
from newsmon.net import AddressRefused, GuardedTransport, parse_retry_after
from newsmon.settings import Settings

Purpose = Literal["feed", "page"]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_NEVER_FEED_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")
_KEPT_HEADERS = ("etag", "last-modified", "content-type", "cache-control", "retry-after", "expires")


@dataclass
class FetchResult:
    url: str
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    error: FetchError | None = None
    duration_ms: int = 0
    bytes_read: int = 0
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304

    @property
    def charset(self) -> str | None:
        ctype = self.headers.get("content-type", "")
        for part in ctype.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"' ")
        return None


class _Failure(Exception):
    def __init__(self, error: FetchError) -> None:
        super().__init__(str(error))
        self.error = error


class HostGate:
    """Per-host concurrency, spacing between request starts, and Retry-After."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self._concurrency = concurrency
        self._delay = delay
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._last_start: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}
        self._unsent: dict[str, asyncio.Event] = {}

    def blocked_for(self, host: str) -> float:
        return max(0.0, self._blocked_until.get(host, 0.0) - time.monotonic())

    def block(self, host: str, seconds: float) -> None:
        until = time.monotonic() + seconds
        self._blocked_until[host] = max(until, self._blocked_until.get(host, 0.0))

    def semaphore(self, host: str) -> asyncio.Semaphore:
        return self._semaphores.setdefault(host, asyncio.Semaphore(self._concurrency))

    async def wait_turn(self, host: str) -> asyncio.Event:
        """Wait until this host may get another request; returns the event to set once it has really left."""
        # Reserve a start slot before sleeping so concurrent callers queue up instead of bunching.
        now = time.monotonic()
        start = max(now, self._next_start.get(host, 0.0), self._blocked_until.get(host, 0.0))
        self._next_start[host] = start + self._delay
        if start > now:
            await asyncio.sleep(start - now)
        # The request let through before this one may not have left yet (a busy process wakes the event loop
        # late, a connection is still opening, its caller waits to admit it): spacing counts from when it was
        # really written. Checked again after every wait: another request may have taken the turn meanwhile (two
        # woken at once both went, 0 s apart, once callers' admissions put the reserved starts in the past).
        while True:
            previous = self._unsent.get(host)
            if previous is not None and not previous.is_set():
                await previous.wait()
            elif (late := self._last_start.get(host, -self._delay) + self._delay - time.monotonic()) > 0:
                await asyncio.sleep(late)
            else:
                break
        self._last_start[host] = time.monotonic()
        self._unsent[host] = sent = asyncio.Event()
        return sent

    def sent_tracer(self, host: str, sent: asyncio.Event) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
        """An httpcore trace hook that records when the request's headers have left: written to the socket, so
        the host has them (on loopback) or they are on their way. Counting from when the write began instead lets a
        process preempted in the middle of the write send its next request less than the spacing after this one."""

        async def trace(event: str, info: dict[str, Any]) -> None:
            if event.endswith("send_request_headers.complete") and not sent.is_set():
                self._last_start[host] = time.monotonic()
                sent.set()

        return trace


class Fetcher:
    """Use as `async with Fetcher(settings) as fetcher: await fetcher.get(url, "page")`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gate = HostGate(settings.host_concurrency, settings.host_delay)
        limits = httpx.Limits(
            max_connections=settings.total_concurrency,
            max_keepalive_connections=settings.total_concurrency,
        )
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(settings.allowed_networks, limits),
            timeout=httpx.Timeout(
                connect=settings.connect_timeout, read=settings.read_timeout,
                write=settings.read_timeout, pool=settings.total_timeout,
            ),
            headers={"User-Agent": settings.user_agent},
            follow_redirects=False,  # followed by hand: every hop is checked and counted
            trust_env=False,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        purpose: Purpose,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        admit: Callable[[], Awaitable[object]] | None = None,
    ) -> FetchResult:
        """`admit`, when given, is awaited once, when the host's turn has come and before the request leaves: a
        caller's bound on what it has fetched and not yet used then counts no request still waiting for its
        host (a bound taken before the host's turn fills up with requests to the slowest hosts)."""
        result = FetchResult(url=url)
        started = time.monotonic()
        try:
            await self._get(result, purpose, etag, last_modified, admit)
        except _Failure as failure:
            result.error = failure.error
        except TimeoutError:
            result.error = FetchError(
                "transient", "timeout", f"no complete response within {self.settings.total_timeout:g} s"
            )
        except AddressRefused as exc:
            result.error = FetchError("hard", "refused_address", str(exc))
        except httpx.TimeoutException as exc:
            result.error = FetchError("transient", "timeout", _describe(exc, "timed out"))
        except httpx.HTTPError as exc:
            result.error = FetchError("transient", "connection", _describe(exc, "connection failed"))
        result.duration_ms = int((time.monotonic() - started) * 1000)
        if result.error is not None:
            result.body = None
        return result

    async def _get(
        self, result: FetchResult, purpose: Purpose, etag: str | None, last_modified: str | None,
        admit: Callable[[], Awaitable[object]] | None,
    ) -> None:
        headers: dict[str, str] = {
            "Accept": (
                "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
                if purpose == "feed"
                else "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
            )
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        url = result.url
        visited: set[str] = set()
        for _hop in range(self.settings.max_redirects + 1):
            _check_scheme(url)
            visited.add(url)
            host = host_of(url)  # the gates' key; the pass's rooms count pages by it too
            response = await self._request(url, host, headers, purpose, result, admit)
            admit = None  # once per fetch: a redirect's next hop is the same fetch
            if response is None:  # a redirect: follow it
                location = result.headers.pop("location", "")
                next_url = urljoin(url, location)
                if next_url in visited:
                    raise _Failure(FetchError("soft", "redirect_loop", f"redirect loop at {next_url}"))
                url = next_url
                continue
            return
        raise _Failure(
            FetchError("soft", "too_many_redirects", f"more than {self.settings.max_redirects} redirects")
        )

    async def _request(
        self, url: str, host: str, headers: Mapping[str, str], purpose: Purpose, result: FetchResult,
        admit: Callable[[], Awaitable[object]] | None,
    ) -> bool | None:
        """One hop. Returns None for a redirect (with `location` in result.headers), True when done."""
        self._check_blocked(host)
        async with self.gate.semaphore(host):
            self._check_blocked(host)  # the host may have said Retry-After while we queued
            sent = await self.gate.wait_turn(host)
            try:
                if admit is not None:
                    await admit()  # the host's next request waits meanwhile: spacing counts from the real send
                # The time limit covers the exchange itself, not the wait for our turn on the host.
                async with asyncio.timeout(self.settings.total_timeout):
                    request = self._client.build_request(
                        "GET", url, headers=headers, extensions={"trace": self.gate.sent_tracer(host, sent)}
                    )
                    response = await self._client.send(request, stream=True)
                    try:
                        return await self._read(response, url, host, purpose, result)
                    finally:
                        await response.aclose()
            finally:
                sent.set()  # never sent (a connection error, a timeout): the host's next request need not wait

    def _check_blocked(self, host: str) -> None:
        wait = self.gate.blocked_for(host)
        if wait > self.settings.max_wait_in_pass:
            message = f"{host} asked us to wait {wait:.0f} s (Retry-After); not requested this pass"
            raise _Failure(FetchError("transient", "retry_after", message, retry_after=wait))

    async def _read(
        self, response: httpx.Response, url: str, host: str, purpose: Purpose, result: FetchResult
    ) -> bool | None:
        result.fetched_at = datetime.now(UTC)  # when the host answered, not when the page joined its host's queue
        result.status = response.status_code
        result.final_url = str(response.url)
        result.headers = {k: response.headers[k] for k in _KEPT_HEADERS if k in response.headers}
        status = response.status_code
        if status in (301, 302, 303, 307, 308):
            location = response.headers.get("location")
            if not location:
                raise _Failure(FetchError("soft", "bad_redirect", f"HTTP {status} without a Location header"))
            result.headers["location"] = location
            return None
        if status == 304:
            return True
        retry_after = parse_retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
        if retry_after is not None:
            self.gate.block(host, min(retry_after, self.settings.max_retry_after))
        if status != 200:
            message = f"HTTP {status} from {url}"
            raise _Failure(FetchError(classify_status(status), f"http_{status}", message, retry_after=retry_after))
        _check_content_type(response.headers.get("content-type", ""), purpose)
        limit = self.settings.max_feed_bytes if purpose == "feed" else self.settings.max_page_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _Failure(
                FetchError("hard", "too_large", f"Content-Length {declared} exceeds the {limit}-byte limit")
            )
        chunks: list[bytes] = []
        size = 0
        # aiter_bytes yields decompressed data: the limit also stops gzip bombs.
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise _Failure(FetchError("hard", "too_large", f"body exceeds the {limit}-byte limit"))
            chunks.append(chunk)
        body = b"".join(chunks)
        if not body.strip():
            raise _Failure(FetchError("soft", "empty_body", "empty response body"))
        result.body = body
        result.bytes_read = size
        return True


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise _Failure(FetchError("hard", "bad_scheme", f"only http and https URLs are fetched, not {url!r}"))


def _check_content_type(content_type: str, purpose: Purpose) -> None:
    ctype = content_type.split(";")[0].strip().lower()
    if purpose == "page":
        # A missing type is common on small sites; the extractor judges the body then.
        if ctype and ctype not in _HTML_TYPES:
            raise _Failure(FetchError("hard", "not_html", f"content type {ctype!r} is not HTML"))
    elif ctype.startswith(_NEVER_FEED_TYPES):
        raise _Failure(FetchError("hard", "not_a_feed", f"content type {ctype!r} cannot be a feed"))


def _describe(exc: Exception, default: str) -> str:
    """"ReadTimeout: timed out" where httpx gives an exception without a message (never "ReadTimeout: ")."""
    return f"{type(exc).__name__}: {str(exc).strip() or default}"
