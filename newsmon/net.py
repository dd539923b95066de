"""The network building blocks every outbound request uses: fetching feeds and pages, delivering alerts.

SSRF guard: refuse connections to private, loopback, link-local, multicast and reserved addresses. The check
runs inside the connection itself (an httpcore network backend), after DNS resolution and for every connection
a redirect opens, and the socket connects to the very address that was checked, so a DNS answer that changes
between check and connect (rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

import httpcore
import httpx

from newsmon.errors import PageError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not covered by ipaddress' is_private & co. on every Python version.
_EXTRA_DENIED: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT
    ipaddress.ip_network("192.0.0.0/24"),
    ipaddress.ip_network("198.18.0.0/15"),
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64 can reach IPv4 private space
)


class AddressRefused(PageError):
    """The host resolves only to addresses newsmon refuses to connect to."""


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or any(address in net for net in _EXTRA_DENIED)
    )


def is_allowed(address: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    return is_public(address) or any(address in net for net in allowed if net.version == address.version)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself and connects only to an allowed address."""

    def __init__(self, allowed: Sequence[IPNetwork]) -> None:
        self._allowed = tuple(allowed)
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        permitted = [a for a in addresses if is_allowed(a, self._allowed)]
        if not permitted:
            raise AddressRefused(_refusal(host, addresses))
        last_error: Exception | None = None
        for address in permitted:
            try:
                return await self._backend.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _refusal(host: str, addresses: Sequence[IPAddress]) -> str:
    shown = ", ".join(sorted({str(a) for a in addresses}))
    return (
        f"refused to connect to {host} ({shown}): private, loopback, link-local, multicast or "
        "reserved address (allow it with NEWSMON_ALLOW_NETWORKS)"
    )


def check_host(url: str, allowed: Sequence[IPNetwork], timeout: float = 5.0) -> None:
    """Refuse a URL whose host resolves only to refused addresses, before it is stored (`feeds add`), with the
    fetcher's own rule and message. A host that does not resolve now passes: fetching checks it again."""
    parts = httpx.URL(url)
    try:
        addresses = [ipaddress.ip_address(parts.host.strip("[]"))]
    except ValueError:
        # Synchronous: `feeds add` may be called where an event loop already runs.
        try:
            addresses = _addresses(socket.getaddrinfo(parts.host, parts.port or 443, type=socket.SOCK_STREAM))
        except OSError:
            return
    if not any(is_allowed(a, allowed) for a in addresses):
        raise AddressRefused(_refusal(parts.host, addresses))


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=timeout
        )
    except (socket.gaierror, TimeoutError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return _addresses(infos)


def _addresses(infos: Iterable[Any]) -> list[IPAddress]:
    seen: dict[str, IPAddress] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        # Drop an IPv6 scope id ("fe80::1%eth0") before parsing.
        text = str(sockaddr[0]).split("%", 1)[0]
        seen.setdefault(text, ipaddress.ip_address(text))
    return list(seen.values())


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool built on the guarded backend."""

    def __init__(
        self, allowed: Sequence[IPNetwork], limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        # One context for both: building one loads the CA bundle (~18 ms of CPU).
        ssl_context = ssl_context or httpx.create_ssl_context(trust_env=False)
        super().__init__(limits=limits, trust_env=False, verify=ssl_context)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed),
        )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
