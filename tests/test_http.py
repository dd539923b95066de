"""The fetcher against a real loopback server: limits, politeness, SSRF guard, bad responses."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import time
from datetime import UTC, datetime

import pytest

from newsmon.ingest.http import Fetcher, FetchResult
from newsmon.net import is_allowed, is_public, parse_retry_after
from newsmon.settings import Settings
from tests.site import PARAGRAPHS, Route, Site, article_page, endless


def fetch(settings: Settings, url: str, purpose: str = "page", **kw: str) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(settings) as fetcher:
            return await fetcher.get(url, purpose, **kw)  # type: ignore[arg-type]

    return asyncio.run(go())


@pytest.fixture
def settings() -> Settings:
    return Settings(allow_networks="127.0.0.0/8", host_delay=0, total_timeout=3, read_timeout=2)


@pytest.fixture
def site():
    with Site() as s:
        yield s


def test_good_page_and_user_agent(site: Site, settings: Settings) -> None:
    url = site.add("/a.html", Route(body=article_page("A", PARAGRAPHS)))
    result = fetch(settings, url)
    assert result.ok and result.body and b"<article>" in result.body
    assert result.charset == "utf-8"
    assert site.requests[0][1]["User-Agent"].startswith("newsmon/")


def test_conditional_get_returns_not_modified(site: Site, settings: Settings) -> None:
    url = site.add("/feed.xml", Route(body=b"<rss/>", content_type="application/rss+xml", etag='"v1"'))
    first = fetch(settings, url, "feed")
    assert first.headers["etag"] == '"v1"'
    second = fetch(settings, url, "feed", etag='"v1"')
    assert second.not_modified and second.body is None and second.error is None


@pytest.mark.parametrize(
    ("status", "kind"), [(404, "soft"), (403, "soft"), (410, "hard"), (500, "transient"), (503, "transient")]
)
def test_http_errors_are_classified(site: Site, settings: Settings, status: int, kind: str) -> None:
    url = site.add("/x", Route(status=status, body=b"nope"))
    result = fetch(settings, url)
    assert result.error is not None
    assert (result.error.kind, result.error.code) == (kind, f"http_{status}")


def test_loopback_is_refused_unless_allowed(site: Site) -> None:
    url = site.add("/a.html", Route(body=article_page("A", PARAGRAPHS)))
    result = fetch(Settings(allow_networks="", host_delay=0), url)
    assert result.error is not None and result.error.code == "refused_address"
    assert result.error.kind == "hard"
    assert site.requests == []  # refused before any byte was sent


def test_redirect_to_metadata_address_is_refused(site: Site, settings: Settings) -> None:
    url = site.add("/r", Route(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    result = fetch(settings, url)
    assert result.error is not None and result.error.code == "refused_address"
    assert "169.254.169.254" in result.error.message


def test_redirect_to_other_scheme_is_refused(site: Site, settings: Settings) -> None:
    url = site.add("/r", Route(status=301, headers={"Location": "file:///etc/passwd"}))
    result = fetch(settings, url)
    assert result.error is not None and result.error.code == "bad_scheme"


def test_redirect_loop_and_too_many_redirects(site: Site, settings: Settings) -> None:
    site.add("/loop1", Route(status=302, headers={"Location": "/loop2"}))
    site.add("/loop2", Route(status=302, headers={"Location": "/loop1"}))
    assert fetch(settings, site.url("/loop1")).error.code == "redirect_loop"  # type: ignore[union-attr]
    for i in range(10):
        site.add(f"/hop{i}", Route(status=302, headers={"Location": f"/hop{i + 1}"}))
    result = fetch(settings, site.url("/hop0"))
    assert result.error is not None and result.error.code == "too_many_redirects"


def test_redirect_followed_and_final_url_recorded(site: Site, settings: Settings) -> None:
    site.add("/old", Route(status=301, headers={"Location": "/new"}))
    site.add("/new", Route(body=article_page("New", PARAGRAPHS)))
    result = fetch(settings, site.url("/old"))
    assert result.ok and result.final_url == site.url("/new")


def test_body_limit_by_content_length(site: Site) -> None:
    settings = Settings(allow_networks="127.0.0.0/8", host_delay=0, max_page_bytes=1000)
    url = site.add("/big", Route(body=b"<html>" + b"x" * 5000))
    result = fetch(settings, url)
    assert result.error is not None and result.error.code == "too_large"


def test_body_limit_while_streaming_endless_body(site: Site) -> None:
    settings = Settings(allow_networks="127.0.0.0/8", host_delay=0, max_page_bytes=1_000_000, total_timeout=10)
    url = site.add("/endless", Route(body=endless()))
    result = fetch(settings, url)
    assert result.error is not None and result.error.code == "too_large"


def test_gzip_bomb_is_stopped_after_decompression(site: Site) -> None:
    settings = Settings(allow_networks="127.0.0.0/8", host_delay=0, max_page_bytes=1_000_000)
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 kB on the wire
    url = site.add("/bomb", Route(body=bomb, headers={"Content-Encoding": "gzip"}))
    result = fetch(settings, url)
    assert len(bomb) < 100_000
    assert result.error is not None and result.error.code == "too_large"


def test_trickling_body_hits_total_timeout(site: Site) -> None:
    settings = Settings(allow_networks="127.0.0.0/8", host_delay=0, total_timeout=1.0, read_timeout=5)
    url = site.add("/slow", Route(body=endless(b"<p>x</p>"), chunk_delay=0.2))
    started = time.monotonic()
    result = fetch(settings, url)
    assert result.error is not None and result.error.code == "timeout" and result.error.kind == "transient"
    assert time.monotonic() - started < 5


def test_non_html_page_is_refused(site: Site, settings: Settings) -> None:
    url = site.add("/img", Route(body=b"\x89PNG....", content_type="image/png"))
    result = fetch(settings, url)
    assert result.error is not None and result.error.code == "not_html"


def test_empty_body_is_an_error(site: Site, settings: Settings) -> None:
    url = site.add("/empty", Route(body=b"   "))
    assert fetch(settings, url).error.code == "empty_body"  # type: ignore[union-attr]


def test_connection_refused_is_transient(settings: Settings) -> None:
    result = fetch(settings, "http://127.0.0.1:9/")
    assert result.error is not None and result.error.kind == "transient"


def test_retry_after_blocks_the_whole_host(site: Site) -> None:
    settings = Settings(allow_networks="127.0.0.0/8", host_delay=0, max_wait_in_pass=5)
    site.add("/busy", Route(status=429, headers={"Retry-After": "120"}))
    site.add("/other", Route(body=article_page("Other", PARAGRAPHS)))

    async def go() -> tuple[FetchResult, FetchResult]:
        async with Fetcher(settings) as fetcher:
            first = await fetcher.get(site.url("/busy"), "page")
            second = await fetcher.get(site.url("/other"), "page")
            return first, second

    first, second = asyncio.run(go())
    assert first.error is not None and first.error.code == "http_429"
    assert second.error is not None and second.error.code == "retry_after"
    assert site.hits("/other") == 0


def test_host_delay_spaces_requests(site: Site) -> None:
    settings = Settings(allow_networks="127.0.0.0/8", host_delay=0.3, host_concurrency=4)
    for i in range(3):
        site.add(f"/p{i}", Route(body=article_page(f"P{i}", PARAGRAPHS)))

    async def go() -> list[FetchResult]:
        async with Fetcher(settings) as fetcher:
            return await asyncio.gather(*(fetcher.get(site.url(f"/p{i}"), "page") for i in range(3)))

    started, asked_at = time.monotonic(), datetime.now(UTC)
    results = asyncio.run(go())
    assert all(r.ok for r in results)
    assert time.monotonic() - started >= 0.55  # three starts on one host: two gaps of 0.3 s
    # Each page's fetched_at is when its host answered, not when it was asked for (all at once).
    waited = sorted((r.fetched_at - asked_at).total_seconds() for r in results)
    assert waited[-1] >= 0.55


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=1792567620.0) == pytest.approx(60, abs=1)
    assert parse_retry_after("soon") is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "224.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "240.0.0.1",
    ],
)
def test_private_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_public_and_allowed_addresses() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:2800:220:1::1"))
    allowed = [ipaddress.ip_network("127.0.0.0/8")]
    assert is_allowed(ipaddress.ip_address("127.0.0.5"), allowed)
    assert not is_allowed(ipaddress.ip_address("10.0.0.1"), allowed)
