"""Channel senders: webhooks (httpx), chat and e-mail (apprise), Prefect events.

Each sender either returns (delivered) or raises DeliveryError with a message fit to store and log
(secrets redacted) and whether retrying can help.

Webhooks use the ingest settings' time limits and User-Agent, never follow redirects (a webhook that
redirects is misconfigured, and a redirect could point anywhere) and ignore proxy environment variables,
as the fetcher does. The SSRF guard is off for them by default: their URLs come from the operator, not from
the web, and internal alert routers on private addresses are common; NEWSMON_ALERT_GUARD_WEBHOOKS=true
turns it on (NEWSMON_ALLOW_NETWORKS then applies as for feeds).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import threading
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from newsmon.alerts import messages
from newsmon.alerts.secrets import redact
from newsmon.alerts.settings import AlertSettings
from newsmon.errors import NewsmonError
from newsmon.net import AddressRefused, GuardedTransport, parse_retry_after
from newsmon.settings import Settings

_EVENT_NAMESPACE = uuid.UUID("7d4f3a52-9f1e-4a7a-9a55-6e65776d6f6e")
# apprise keeps no per-call error detail, only log records; one capture at a time keeps them apart.
_APPRISE_LOCK = threading.Lock()
_EMAIL_SCHEMES = {"mailto", "mailtos", "email", "emails"}
_TEXT_SCHEMES = {"json", "jsons", "xml", "xmls", "form", "forms"}


class DeliveryError(NewsmonError):
    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One per process: building one loads the CA bundle (~18 ms of CPU), and a pass builds a client per claimed
    batch of deliveries (a client is bound to its event loop; the context is not)."""
    return httpx.create_ssl_context(trust_env=False)


def webhook_client(settings: Settings, alert_settings: AlertSettings) -> httpx.AsyncClient:
    n = alert_settings.concurrency
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    transport = (
        GuardedTransport(settings.allowed_networks, limits, ssl_context=_ssl_context())
        if alert_settings.guard_webhooks
        else httpx.AsyncHTTPTransport(limits=limits, trust_env=False, verify=_ssl_context())
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(
            connect=settings.connect_timeout, read=settings.read_timeout, write=settings.read_timeout,
            pool=settings.total_timeout,
        ),
        headers={"User-Agent": settings.user_agent},
        follow_redirects=False,
        trust_env=False,
    )


async def send_webhook(
    client: httpx.AsyncClient, url: str, payload: dict[str, Any], key: str, *, secrets: list[str], total_timeout: float
) -> None:
    body = messages.webhook_body(payload, key)
    try:
        async with asyncio.timeout(total_timeout):
            response = await client.post(url, json=body, headers={"Idempotency-Key": key})
    except AddressRefused as exc:
        raise DeliveryError(redact(str(exc), secrets), permanent=True) from None
    except (TimeoutError, httpx.TimeoutException):
        raise DeliveryError(f"no answer within the time limit ({total_timeout:g} s)") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(redact(f"{type(exc).__name__}: {exc}", secrets)) from None
    status = response.status_code
    if 200 <= status < 300:
        return
    snippet = messages.clean(response.text, 200) if response.content else ""
    detail = redact(f"HTTP {status}" + (f": {snippet}" if snippet else ""), secrets)
    if status in (408, 425, 429) or status >= 500:
        raise DeliveryError(detail, retry_after=parse_retry_after(response.headers.get("retry-after")))
    if 300 <= status < 400:
        raise DeliveryError(f"{detail} (redirects are not followed: fix the webhook URL)", permanent=True)
    raise DeliveryError(detail, permanent=True)


def body_format(url: str) -> str:
    import apprise

    scheme = urlsplit(url).scheme.lower()
    if scheme in _EMAIL_SCHEMES:
        return apprise.NotifyFormat.HTML
    if scheme in _TEXT_SCHEMES:
        return apprise.NotifyFormat.TEXT
    return apprise.NotifyFormat.MARKDOWN


def render(payload: dict[str, Any], fmt: str) -> str:
    if fmt == "html":
        return messages.render_html(payload)
    if fmt == "markdown":
        return messages.render_markdown(payload)
    return messages.render_text(payload)


class _Redacting(logging.Filter):
    """Keeps resolved secrets out of apprise's own log records, wherever those end up."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = ()
        return True


def send_apprise(url: str, payload: dict[str, Any], *, secrets: list[str]) -> None:
    """Blocking: run it in a thread."""
    import apprise

    fmt = body_format(url)
    logger = logging.getLogger("apprise")
    guard = _Redacting(secrets)
    with _APPRISE_LOCK:
        logger.addFilter(guard)
        try:
            notifier = apprise.Apprise()
            if not notifier.add(url):
                raise DeliveryError(
                    f"apprise does not accept the URL (scheme {urlsplit(url).scheme!r})", permanent=True
                )
            with apprise.LogCapture(level=logging.WARNING) as captured:
                ok = notifier.notify(
                    title=messages.subject(payload), body=render(payload, fmt), body_format=fmt
                )
            if not ok:
                log = " ".join(captured.getvalue().split())
                raise DeliveryError(redact(f"apprise could not deliver: {log or 'no detail'}"[:500], secrets))
        finally:
            logger.removeFilter(guard)


def emit_prefect_event(payload: dict[str, Any], key: str) -> None:
    from prefect.events import emit_event

    event = emit_event(
        event=messages.EVENT_MATCHED if payload["revision"] == 0 else messages.EVENT_UPDATED,
        resource={
            "prefect.resource.id": f"newsmon.story.{payload['story_id']}",
            "prefect.resource.name": messages.clean(payload["title"], 200),
        },
        related=[{"prefect.resource.id": f"newsmon.alert-rule.{payload['rule']}", "prefect.resource.role": "rule"}],
        payload=messages.event_payload(payload, key),
        # The same id on a resend: Prefect's event store keeps one event per id.
        id=uuid.uuid5(_EVENT_NAMESPACE, key),
    )
    if event is None:
        raise DeliveryError("Prefect events are not being emitted (no Prefect API configured)", permanent=True)
