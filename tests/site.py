"""A real threaded HTTP server on loopback whose every route is scripted by the test (newsmon.demo.server)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from newsmon.demo.server import LoopbackServer, Request, Response

# A scripted answer: status, body (bytes or a chunk generator), content_type, headers, etag (If-None-Match → 304),
# chunk_delay (seconds between streamed chunks), send_length.
Route = Response
NOT_FOUND = Response(404, b"<html><body>not found</body></html>", "text/html")


class Site:
    """`with Site() as site: site.add("/feed.xml", Route(...)); site.url("/feed.xml")`.

    `requests` lists (path, headers) of every request, appended before its answer is sent; `received` (path,
    time.time() its first bytes reached the host) in the same order."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.received: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        self._server = LoopbackServer(host, self._answer, on_request=self._record)

    def _answer(self, request: Request) -> Response:
        return self.routes.get(request.path) or self.routes.get(request.route) or NOT_FOUND

    def _record(self, request: Request, status: int) -> None:
        with self._lock:
            self.requests.append((request.path, dict(request.headers)))
            self.received.append((request.path, request.received_at))

    @property
    def base(self) -> str:
        return self._server.origin

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.requests if p == path or p.split("?")[0] == path)

    def __enter__(self) -> Site:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


def endless(chunk: bytes = b"x" * 65536) -> Callable[[], Iterator[bytes]]:
    def gen() -> Iterator[bytes]:
        while True:
            yield chunk

    return gen


def rss(items: Iterable[str], *, title: str = "Test feed", extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.org/</link>{extra}{''.join(items)}</channel></rss>"
    ).encode()


def rss_item(title: str, link: str, *, guid: str | None = None, date: str | None = None) -> str:
    parts = [f"<title>{title}</title>", f"<link>{link}</link>"]
    if guid:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    return "<item>" + "".join(parts) + "</item>"


def article_page(title: str, paragraphs: Iterable[str], *, canonical: str | None = None, lang: str = "en") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{link}</head>'
        '<body><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a></nav>'
        f"<article><h1>{title}</h1>{body}</article>"
        '<aside><h3>Most read</h3><ul><li><a href="/x">Heavy snow buries Aomori under record drifts</a></li>'
        '<li><a href="/y">Kazakh oil shipments to Germany rise</a></li></ul></aside>'
        "<footer><p>© 2026 Test Times · About · Contact</p></footer></body></html>"
    ).encode()


PARAGRAPHS = [
    "The city council approved a budget of $2.5 billion on Tuesday after a debate that lasted well into the night,"
    " officials said, ending weeks of negotiations between the mayor and opposition members.",
    "The plan raises spending on schools by 12 percent and sets aside money for repairs to bridges and roads"
    " that engineers have warned are in poor condition after years of neglect.",
    '"This budget reflects what residents told us they need," the mayor said in a statement, adding that the'
    " council would review progress every quarter.",
]


# How much shorter than the configured spacing a gap between two kernel receive stamps may come out: the client
# counts from when a request's headers were written, and on a busy machine the kernel may process the loopback
# segment a few milliseconds later (a CI run saw 0.4975 s for 0.5 s). The failures guarded against were 0-0.3 s.
STAMP_SLACK = 0.01


def serve_stamps(conn: Any) -> None:
    """In a process of its own: a server answering each request with `received_at handled_at` (time.time())
    until told to stop. Sends its origin first."""

    def answer(request: Request) -> Response:
        return Response(200, f"{request.received_at} {time.time()}".encode(), "text/plain")

    with LoopbackServer("127.0.0.1", answer) as server:
        conn.send(server.origin)
        conn.recv()
