"""The one loopback news-site server: the demo's outlets, the tests' scripted sites and the benchmarks' crawl.

A `LoopbackServer` binds one loopback address (each outlet its own 127.x.y.z host, so per-host politeness applies
per outlet as in real life) and asks a callable what to answer to each GET or HEAD: a `Response` with a status,
a body (bytes, or a generator for endless or trickling bodies), headers and validators. The server does the HTTP
around it, the same for every caller:

- HTTP/1.1 keep-alive, headers and body in one segment (no Nagle delay), quiet (no line per request on stderr);
- conditional GET: a 200 answer with an ETag or a Last-Modified becomes 304 for a matching If-None-Match (weak
  comparison, "*") or If-Modified-Since, If-None-Match taking precedence (RFC 9110 13.2.2);
- optional latency before each answer, and bodies trickled in pieces with a delay between them;
- a request hook (`on_request`) called once the status is known and before any byte is sent, so that a client
  holding its answer always finds its request logged;
- each request stamped with when its first bytes reached the host (`Request.received_at`), by the kernel where it
  can say (Linux), so a log of arrivals is right even when a handler thread gets to its request late;
- `stop()` wakes handler threads idle on keep-alive connections; `stop_all` stops many servers at once.

Standard library only: the demo must run with nothing but newsmon installed.
"""

from __future__ import annotations

import contextlib
import io
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LoopbackServer", "Request", "Response", "bind_hosts", "stop_all"]

HTML = "text/html; charset=utf-8"
# serve_forever() polls for shutdown at this interval; stop_all stops servers in parallel, so stopping takes about
# this long in total.
POLL_INTERVAL = 0.05
# Bodies without a length end when the connection closes.
_NO_LENGTH = {"Connection": "close"}
# The kernel's receive time of a TCP segment (SO_TIMESTAMPNS; Python names the constant only on some builds).
_SO_TIMESTAMPNS: int | None = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform == "linux" else None)


@dataclass(frozen=True)
class Request:
    """One request as the answering callable sees it."""

    method: str
    path: str  # as requested: path and query
    origin: str  # "http://127.0.0.11:40231", this server's
    headers: Mapping[str, str]
    # time.time() when the request's first bytes reached this host: the kernel's stamp where there is one (its
    # clock is the wall clock). In a process of many handler threads, or on a busy machine, a thread may get to
    # its request a good part of a second late; logs of arrivals (per-host spacing) must not take that delay for
    # the client's.
    received_at: float = field(default_factory=time.time)

    @property
    def url(self) -> str:
        """The absolute URL: origin, path and query."""
        return self.origin + (self.path if self.path.startswith("/") else urlsplit(self.path).path or "/")

    @property
    def route(self) -> str:
        """The path without its query."""
        return urlsplit(self.path).path or "/"


Body = bytes | Callable[[], Iterable[bytes]]


@dataclass(frozen=True)
class Response:
    """What to answer. A callable body streams its chunks with no Content-Length and closes the connection."""

    status: int = 200
    body: Body = b""
    content_type: str | None = HTML
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None  # this or last_modified: a matching conditional GET of a 200 answer gets 304
    last_modified: datetime | None = None
    chunk_delay: float = 0.0  # seconds after each piece or chunk (trickling bodies)
    pieces: int = 1  # a bytes body leaves in this many writes
    send_length: bool = True  # False: a bytes body ends when the connection closes

    def not_modified(self, headers: Mapping[str, str]) -> bool:
        """True when the client's validators match this 200 answer."""
        if self.status != 200:
            return False
        if_none_match = headers.get("If-None-Match")
        if if_none_match is not None:
            return self.etag is not None and _etag_matches(if_none_match, self.etag)
        if_modified_since = headers.get("If-Modified-Since")
        if not if_modified_since or self.last_modified is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        # HTTP dates have one-second resolution.
        return self.last_modified.replace(microsecond=0) <= since

    def chunks(self) -> Iterator[bytes]:
        if not isinstance(self.body, bytes):
            yield from self.body()
            return
        step = max(1, -(-len(self.body) // max(1, self.pieces)))
        for start in range(0, len(self.body), step):
            yield self.body[start : start + step]


Answer = Callable[[Request], Response]
OnRequest = Callable[[Request, int], None]


def _etag_matches(header: str, etag: str) -> bool:
    # Weak comparison (RFC 9110 13.1.2): "W/" prefixes are ignored.
    wanted = etag.removeprefix("W/")
    return any(c == "*" or c.removeprefix("W/") == wanted for c in (part.strip() for part in header.split(",")))


def _http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC), usegmt=True)


class _ArrivalStampingReader(io.RawIOBase):
    """The connection's bytes, noting when the kernel received the first ones read since `first_arrival` was
    reset (the handler resets it before each request)."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self.first_arrival: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size, ancillary, _flags, _address = self._connection.recvmsg_into([buffer], socket.CMSG_SPACE(16))
        if self.first_arrival is None:
            self.first_arrival = _arrival(ancillary)
        return size


def _arrival(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The kernel's receive stamp (a timespec on the wall clock); now when there is none."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = int.from_bytes(data[:8], sys.byteorder), int.from_bytes(data[8:16], sys.byteorder)
            return seconds + nanoseconds / 1e9
    return time.time()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real sites do
    server_version = "nginx"
    sys_version = ""
    timeout = 15  # idle keep-alive connections are dropped after this many seconds
    # Headers and body leave in one segment, without Nagle's delay: otherwise every keep-alive request waits
    # ~40 ms for the client's delayed ACK. handle_one_request() flushes after each response.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    server: LoopbackServer
    _stamps: _ArrivalStampingReader | None = None

    def setup(self) -> None:
        super().setup()
        if _SO_TIMESTAMPNS is None:
            return
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        except OSError:
            return
        self._stamps = _ArrivalStampingReader(self.connection)
        self.rfile.close()  # the plain reader, unused yet: the socket stays open
        self.rfile = io.BufferedReader(self._stamps)

    def handle_one_request(self) -> None:
        if self._stamps is not None:
            self._stamps.first_arrival = None  # a pipelined request already in the buffer is stamped when handled
        super().handle_one_request()

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        server = self.server
        arrived = self._stamps.first_arrival if self._stamps is not None else None
        if server.latency:
            time.sleep(server.latency)
        request = Request(self.command, self.path, server.origin, self.headers, arrived or time.time())
        response = server.answer(request)
        status = 304 if response.not_modified(self.headers) else response.status
        if server.on_request is not None:
            server.on_request(request, status)
        self.send_response(status)
        for name, value in self._headers(response, status).items():
            self.send_header(name, value)
        self.end_headers()
        if status == 304 or not send_body:
            return
        streaming = not isinstance(response.body, bytes) or response.pieces > 1 or bool(response.chunk_delay)
        try:
            for chunk in response.chunks():
                self.wfile.write(chunk)
                if streaming:
                    self.wfile.flush()
                if response.chunk_delay:
                    time.sleep(response.chunk_delay)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _headers(self, response: Response, status: int) -> dict[str, str]:
        headers = dict(response.headers)
        if status != 304:
            if response.content_type:
                headers["Content-Type"] = response.content_type
            if isinstance(response.body, bytes) and response.send_length:
                headers["Content-Length"] = str(len(response.body))
            else:
                headers.update(_NO_LENGTH)
                self.close_connection = True
        if response.etag:
            headers["ETag"] = response.etag
        if response.last_modified:
            headers["Last-Modified"] = _http_date(response.last_modified)
        return headers

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: the demo and the tests must not print a line per request on stderr.
        return


class LoopbackServer(ThreadingHTTPServer):
    """One host's HTTP server on a loopback address, answering every request through `answer`.

    `with LoopbackServer("127.0.0.11", answer) as server: server.url("/rss.xml")`, or `start()` / `stop()`.
    """

    daemon_threads = True
    block_on_close = False  # do not wait for idle keep-alive connections on close
    request_queue_size = 256  # many concurrent clients on loopback: no SYN drops

    def __init__(
        self,
        host: str,
        answer: Answer,
        *,
        port: int = 0,
        latency: float = 0.0,
        on_request: OnRequest | None = None,
        name: str = "site",
    ) -> None:
        self.answer = answer
        self.latency = latency
        self.on_request = on_request
        self.name = name
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a reverse DNS lookup that can stall without network.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def host(self) -> str:
        return str(self.server_address[0])

    @property
    def origin(self) -> str:
        """"http://host:port", no trailing slash."""
        return f"http://{self.host}:{self.server_port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def start(self) -> LoopbackServer:
        """Serve on a daemon thread. Idempotent."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, name=f"site-{self.name}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        stop_all([self])

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def _close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections, so that the sockets get closed."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response (or the shutdown above) are normal here; stay quiet.
        return


def stop_all(servers: Sequence[LoopbackServer]) -> None:
    """Stop every server and close its sockets; all at once, since each waits for its next poll."""
    running = [s for s in servers if s._thread is not None]
    stoppers = [threading.Thread(target=s.shutdown, daemon=True) for s in running]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()
    for server in servers:
        server._close_connections()
        server.server_close()
        server._join()


def bind_hosts(
    hosts: Sequence[str], answers: Sequence[Answer], *, port: int = 0, on_request: OnRequest | None = None,
    names: Sequence[str] = (),
) -> list[LoopbackServer]:
    """One server per host (not started yet). Where an address cannot be bound (macOS has only 127.0.0.1 unless
    aliases are configured), that host shares 127.0.0.1 on a port of its own (`port + i` with a fixed port)."""
    servers: list[LoopbackServer] = []
    try:
        for index, (host, answer) in enumerate(zip(hosts, answers, strict=True)):
            name = names[index] if index < len(names) else host
            try:
                server = LoopbackServer(host, answer, port=port, on_request=on_request, name=name)
            except OSError:
                fallback = port + index if port else 0
                server = LoopbackServer("127.0.0.1", answer, port=fallback, on_request=on_request, name=name)
            servers.append(server)
    except BaseException:
        for server in servers:
            server.server_close()
        raise
    return servers
