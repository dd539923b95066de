"""Serving the story browser: bind (loopback unless told otherwise), print the address, run uvicorn."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from newsmon.errors import NewsmonError
from newsmon.ui.app import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ServeError(NewsmonError):
    """The browser cannot start: a one-line reason for the user."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int, *, explicit_host: bool) -> socket.socket:
    """A listening socket; a non-loopback address only when the user typed `--host` (the data may be private)."""
    if not is_loopback(host) and not explicit_host:
        raise ServeError(f"refusing to serve on {host}, which is not a loopback address: pass --host {host} explicitly")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot resolve {host}: {exc.strerror}") from exc
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    return sock


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(db: Path, host: str, port: int, *, explicit_host: bool, lock_timeout: float,
          announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted; `announce` gets the address once the socket listens."""
    if not db.exists():
        raise ServeError(f"no database at {db}: run `newsmon demo` or `newsmon run` first, or pass --db")
    sock = bind(host, port, explicit_host=explicit_host)
    app = create_app(db.resolve(), lock_timeout=lock_timeout)
    announce(f"newsmon ui: browsing {db} read-only at {address(sock)} (Ctrl-C to stop)")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
