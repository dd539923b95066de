"""URL checks and canonical form."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import courlan

from newsmon.errors import InputError


class BadURL(InputError):
    """A link newsmon will not fetch (not http(s), not absolute, not a URL)."""


def check_http_url(url: str | None) -> str:
    """Return the URL stripped, or raise BadURL saying why it is refused."""
    if url is None or not url.strip():
        raise BadURL("missing link")
    url = url.strip()
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise BadURL(f"not a URL: {url[:200]!r} (contains spaces or control characters)")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise BadURL(f"not a URL: {url!r} ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "no scheme"
        raise BadURL(f"link {url[:200]!r} has {shown}; only http and https are fetched")
    if not parts.hostname:
        raise BadURL(f"link {url[:200]!r} has no host")
    return url


def canonical_url(url: str) -> str:
    """Normalised URL: lower-case host, default port dropped, tracking parameters and fragment removed.

    Non-strict on purpose: courlan's strict mode keeps only a short list of query parameters and would
    merge different articles such as `?story=1` and `?story=2`.
    """
    try:
        normalised = courlan.normalize_url(url, strict=False)
    except ValueError:
        normalised = url
    parts = urlsplit(normalised)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
