"""A real threaded HTTP server on loopback whose every route is scripted by the test."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field


@dataclass
class Route:
    status: int = 200
    body: bytes | Callable[[], Iterable[bytes]] = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # enables If-None-Match → 304
    chunk_delay: float = 0.0  # seconds between streamed chunks (trickling bodies)
    send_length: bool = True


class Site:
    """`with Site() as site: site.add("/feed.xml", Route(...)); site.url("/feed.xml")`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with site._lock:
                    site.requests.append((self.path, dict(self.headers)))
                route = site.routes.get(self.path) or site.routes.get(self.path.split("?")[0])
                if route is None:
                    self._send(404, b"<html><body>not found</body></html>", {"Content-Type": "text/html"})
                    return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self._send(304, b"", {"ETag": route.etag})
                    return
                headers = dict(route.headers)
                if route.content_type:
                    headers["Content-Type"] = route.content_type
                if route.etag:
                    headers["ETag"] = route.etag
                self._send(route.status, route.body, headers, route.chunk_delay, route.send_length)

            def _send(
                self,
                status: int,
                body: bytes | Callable[[], Iterable[bytes]],
                headers: dict[str, str],
                chunk_delay: float = 0.0,
                send_length: bool = True,
            ) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if isinstance(body, bytes):
                    if send_length:
                        self.send_header("Content-Length", str(len(body)))
                    else:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for chunk in body():
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if chunk_delay:
                            time.sleep(chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self._server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.requests if p == path or p.split("?")[0] == path)

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


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
