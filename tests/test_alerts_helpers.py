"""Shared by the alert tests: a loopback webhook receiver, a real SMTP server, a small story store, a wrapper
CLI group, and a recorder of Prefect events. (A test_ module so it stays within the alert test files; it
holds no tests of its own.)"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from newsmon.alerts_cli import alerts_group
from newsmon.settings import Settings, get_settings
from newsmon.storage.db import open_writer

T0 = datetime(2026, 2, 3, 8, 0, tzinfo=UTC)


# --- a webhook receiver ----------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1 recording every POST; it answers 503 to its first `fail_first`
    calls, and `on_request` runs after a request is recorded, before the answer (a test can kill the sender
    there)."""

    fail_first: int = 0
    status: int = 200
    on_request: Callable[[Received], None] | None = None
    reply: Callable[[Received], bytes] | None = None
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    failing = len(receiver.requests) < receiver.fail_first
                    status = 503 if failing else receiver.status
                    got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw), status)
                    receiver.requests.append(got)
                if receiver.on_request is not None:
                    receiver.on_request(got)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                body = receiver.reply(got) if receiver.reply else b"busy, try later" if failing else b"ok"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # a sender killed mid-request is part of the tests

        self.lock = threading.Lock()
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def delivered(self) -> list[Received]:
        """Requests that were answered 2xx."""
        return [r for r in self.requests if 200 <= r.status < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# --- an SMTP server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    port: int
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd handler hook
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=auth_data.password == b"s3cret-p@ss/word")
        return AuthResult(success=False)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox(free_port())
    # Plain SMTP on loopback, AUTH allowed without TLS: apprise's mailto:// (no TLS) logs in when the URL
    # has a password.
    controller = Controller(
        box, hostname="127.0.0.1", port=box.port, authenticator=box.authenticate, auth_require_tls=False
    )
    controller.start()
    yield box
    controller.stop()


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


# --- a small story store -----------------------------------------------------------------------------


@dataclass
class Article:
    article_id: str
    source: str
    title: str
    text: str
    outlet: str | None = None  # feed title


def settings_for(db: Path) -> Settings:
    return get_settings(db=db)


def put_story(db: Path, story_id: str, articles: list[Article], *, assigned_at: datetime | None = None) -> None:
    """Store articles as one story, as story assignment would (articles, story_assignments, stories)."""
    now = assigned_at or datetime.now(UTC)
    with open_writer(db) as con:
        seq = con.execute("SELECT coalesce(max(seq), 0) FROM story_assignments").fetchall()[0][0]
        for i, a in enumerate(articles):
            feed = f"http://{a.source}/rss"
            if a.outlet:
                con.execute(
                    "INSERT INTO feeds (url, title, added_at, poll_interval_s) VALUES (?, ?, ?, 900) ON CONFLICT DO NOTHING",
                    [feed, a.outlet, now],
                )
            published = T0 + timedelta(minutes=int(hashlib.md5(a.article_id.encode()).hexdigest()[:2], 16))
            con.execute(
                """
                INSERT INTO articles (article_id, url, canonical_url, feed_url, source, title, published_at, text,
                                      content_hash, version, story_id, fetched_at, updated_at, extractor_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, 'test')
                ON CONFLICT DO NOTHING
                """,
                [a.article_id, f"https://{a.source}/{a.article_id}", f"https://{a.source}/{a.article_id}", feed,
                 a.source, a.title, published, a.text, a.article_id, story_id, now, now],
            )
            con.execute(
                "INSERT INTO story_assignments VALUES (?, ?, NULL, 'test', 1.0, '{}', ?, 'test', ?) "
                "ON CONFLICT DO NOTHING",
                [a.article_id, story_id, now, seq + i + 1],
            )
        con.execute(
            """
            INSERT OR REPLACE INTO stories
            SELECT story_id, arg_min(title, published_at), min(published_at), max(published_at), count(*),
                   count(DISTINCT source), 'test'
            FROM articles WHERE story_id = ? GROUP BY story_id
            """,
            [story_id],
        )


def sql(db: Path, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with open_writer(db) as con:
        return con.execute(query, params or []).fetchall()


# --- the CLI, through a wrapper group ------------------------------------------------------------------


@click.group()
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def wrapper(ctx: click.Context, db: Path | None) -> None:
    """Stands in for newsmon's root group until `alerts` is registered there."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


wrapper.add_command(alerts_group)


def alerts_cli(db: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(wrapper, ["--db", str(db), "alerts", *args], obj={}, env=env)


# --- Prefect events ----------------------------------------------------------------------------------


@pytest.fixture
def prefect_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], list[Any]]]:
    """Record the events emitted (Prefect's own tests do it this way: an AssertingEventsClient worker)."""
    from prefect.events.clients import AssertingEventsClient
    from prefect.events.worker import EventsWorker

    worker = EventsWorker.instance(AssertingEventsClient)
    monkeypatch.setattr(EventsWorker, "instance", lambda *_a, **_k: worker)

    def events() -> list[Any]:
        worker.wait_until_empty()
        client = worker._client
        assert isinstance(client, AssertingEventsClient)
        return list(client.events)

    yield events
    worker.drain()
