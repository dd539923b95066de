"""Secrets in channel URLs: placeholders resolved at send time, literal secrets refused, redaction.

A channel URL is stored as written, with placeholders, and resolved only when a message is sent:

    ${VAR}                              the environment variable VAR
    {{ prefect.blocks.secret.NAME }}    the Prefect Secret block NAME (Secret.load(NAME).get())

A value that lands in the URL's user-info (user:password@) or query string is percent-encoded, so a
password holding '@' or '/' cannot change where the URL points; elsewhere (host, path: a Slack or
Telegram token) it is inserted as is. A URL that holds a literal password or token is refused when a rule
is added, so the database never stores one, and every error message and log line newsmon writes about a
channel goes through `redact`.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote

from newsmon.errors import InputError

PLACEHOLDER = re.compile(
    r"\$\{(?P<env>[A-Za-z_][A-Za-z0-9_]*)\}|\{\{\s*prefect\.blocks\.secret\.(?P<block>[A-Za-z0-9_-]+)\s*\}\}"
)
# Query parameters that carry credentials, by name (apprise's and common webhook services').
SECRET_PARAMS = re.compile(
    r"^(?:token|access_token|auth|authorization|key|apikey|api_key|secret|client_secret|password|pass|pwd"
    r"|passwd|sig|signature|webhook_token|bot_token|botkey|apptoken|app_token|user_token)$",
    re.IGNORECASE,
)
_REDACTIONS: list[tuple[re.Pattern[str], str]] = [
    # user:password@ in any URL
    (re.compile(r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@", re.IGNORECASE), r"\g<pre>***@"),
    # ?token=... &password=...
    (
        re.compile(
            r"(?P<pre>[?&;](?:token|access_token|auth|authorization|key|apikey|api_key|secret|client_secret"
            r"|password|pass|pwd|passwd|sig|signature|webhook_token|bot_token|botkey|apptoken|app_token"
            r"|user_token)=)[^&\s#\"']+",
            re.IGNORECASE,
        ),
        r"\g<pre>***",
    ),
    # Authorization: Bearer xyz
    (re.compile(r"(?P<pre>\b(?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{6,}"), r"\g<pre>***"),
]


class SecretError(InputError):
    """A placeholder that cannot be resolved (the message never holds a secret)."""


@dataclass
class Resolved:
    url: str
    secrets: list[str] = field(default_factory=list)  # the values substituted, for redaction


def _userinfo_and_query_spans(url: str) -> tuple[tuple[int, int], int]:
    """(start, end) of the user-info part, and where the query starts (len(url) if none)."""
    scheme_end = url.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    ends = [i for i in (url.find(c, start) for c in "/?#") if i >= 0]
    netloc_end = min(ends) if ends else len(url)
    at = url.rfind("@", start, netloc_end)
    userinfo = (start, at) if at >= 0 else (start, start)
    q = url.find("?", start)
    return userinfo, q if q >= 0 else len(url)


def _load_block_secret(name: str) -> str:
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(name).get()
    except Exception as exc:  # ValueError (no such block), connection errors: say which block, not why in detail
        raise SecretError(f"Prefect Secret block {name!r} could not be loaded ({type(exc).__name__})") from None
    return value if isinstance(value, str) else str(value)


def resolve(
    url: str,
    *,
    env: dict[str, str] | None = None,
    load_block: Callable[[str], str] = _load_block_secret,
) -> Resolved:
    """Substitute every placeholder; raise SecretError naming (never showing) what is missing."""
    environ = os.environ if env is None else env
    (ui_start, ui_end), query_start = _userinfo_and_query_spans(url)
    out: list[str] = []
    secrets: list[str] = []
    last = 0
    for m in PLACEHOLDER.finditer(url):
        if m["env"]:
            value = environ.get(m["env"])
            if value is None:
                raise SecretError(f"environment variable {m['env']} is not set")
        else:
            value = load_block(m["block"])
        secrets.append(value)
        encode = ui_start <= m.start() < ui_end or m.start() > query_start
        out.append(url[last : m.start()])
        out.append(quote(value, safe="") if encode else value)
        last = m.end()
    out.append(url[last:])
    return Resolved("".join(out), secrets)


def placeholder_names(url: str) -> list[str]:
    return [m["env"] or f"prefect.blocks.secret.{m['block']}" for m in PLACEHOLDER.finditer(url)]


def with_dummy_secrets(url: str) -> str:
    """The URL with every placeholder replaced by a harmless value, for validating its shape."""
    return PLACEHOLDER.sub("placeholder", url)


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def looks_like_token(segment: str) -> bool:
    """A long random-looking string: an API token, a webhook secret, a bot key."""
    if len(segment) < 20 or not re.fullmatch(r"[A-Za-z0-9_\-.~+=]+", segment):
        return False
    classes = sum(bool(re.search(p, segment)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    hexlike = re.fullmatch(r"[0-9a-fA-F-]{32,}", segment) is not None
    return hexlike or (classes >= 2 and _entropy(segment) >= 3.5)


def literal_secrets(url: str) -> list[str]:
    """Why the URL looks like it holds a literal secret (empty: it does not). Never quotes the secret."""
    masked = PLACEHOLDER.sub("", url)
    problems: list[str] = []
    scheme_end = masked.find("://")
    rest = masked[scheme_end + 3 :] if scheme_end >= 0 else masked
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in netloc:
        userinfo = netloc.rsplit("@", 1)[0]
        if ":" in userinfo and userinfo.split(":", 1)[1]:
            problems.append("a password in the URL")
    query = masked.split("?", 1)[1].split("#", 1)[0] if "?" in masked else ""
    for name, value in parse_qsl(query, keep_blank_values=True):
        if value and SECRET_PARAMS.match(name):
            problems.append(f"a literal value for the query parameter {name!r}")
        elif looks_like_token(value):
            problems.append(f"what looks like a token in the query parameter {name!r}")
    path = re.split(r"[?#]", rest, maxsplit=1)[0]
    host = netloc.rsplit("@", 1)[-1]
    segments = re.split(r"[/:@]", path)
    if "." in host and not any(looks_like_token(p) for p in host.split(".")):
        segments = re.split(r"[/:@]", path[len(netloc) :])  # a DNS name is not a secret
    if any(looks_like_token(s) for s in segments if s):
        problems.append("what looks like a token in the URL")
    return problems


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secret values, URL passwords, credential query parameters, bearer tokens."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, "***")
        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, "***")
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text
