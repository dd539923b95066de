"""Feed bytes → items (RSS 0.9x/1.0/2.0, Atom), with the feed's own polling hints.

Refuses what a feed must not be (HTML pages, binary bodies, documents declaring XML entities: the door to
external-entity reads and entity-expansion bombs) with a `FeedError` that says why.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser

from newsmon.errors import PageError
from newsmon.extract.urls import BadURL, canonical_url, check_http_url
from newsmon.model import ErrorKind

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html|<head|<body)", re.IGNORECASE | re.S)
_ALTERNATE = re.compile(
    rb"<link[^>]+type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF = re.compile(rb"href=[\"']([^\"']+)[\"']", re.IGNORECASE)

_PERIOD_SECONDS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}


class FeedError(PageError):
    def __init__(self, kind: ErrorKind, code: str, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FeedItem:
    key: str  # identity within the feed: the GUID, else the canonical link
    guid: str | None
    link: str | None  # absolute http(s) URL; None when the item is refused (see `error`)
    title: str | None
    summary: str | None
    author: str | None
    published_at: datetime | None
    updated_at: datetime | None
    error: str | None = None

    @property
    def version_marker(self) -> datetime | None:
        """The date that changes when the publisher marks the item as updated."""
        return self.updated_at or self.published_at


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    site_url: str | None
    items: list[FeedItem]
    ttl_seconds: int | None = None
    update_period_seconds: int | None = None
    warnings: list[str] = field(default_factory=list)


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    head = body[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FeedError("hard", "not_a_feed", "binary body, not a feed")
    if _ENTITY_DECL.search(body[:65536]):
        raise FeedError(
            "hard", "xml_entities",
            "feed declares XML entities (refused: external-entity and entity-expansion attacks)",
        )
    if _HTML_START.match(head) and b"<rss" not in head and b"<feed" not in head:
        announced = discover_feed_links(body, url)
        hint = f" (the page announces a feed at {announced[0]})" if announced else ""
        raise FeedError("hard", "not_a_feed", "got an HTML page, not a feed" + hint)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    warnings: list[str] = []
    if not parsed.version:
        problem = parsed.get("bozo_exception") or "unknown format"
        raise FeedError("soft", "malformed_feed", f"not a readable RSS or Atom feed: {problem}")
    if parsed.bozo:
        # feedparser's loose parser recovers most broken feeds; keep what it read and say so.
        warnings.append(f"feed is not well-formed, read leniently: {parsed.get('bozo_exception')}")
    meta = parsed.feed
    return ParsedFeed(
        title=_clean(meta.get("title")),
        site_url=meta.get("link"),
        items=[_item(entry) for entry in parsed.entries],
        ttl_seconds=_ttl(meta.get("ttl")),
        update_period_seconds=_update_period(meta.get("sy_updateperiod"), meta.get("sy_updatefrequency")),
        warnings=warnings,
    )


def _item(entry: feedparser.FeedParserDict) -> FeedItem:
    guid = _clean(entry.get("id"))
    raw_link = entry.get("link")
    if not raw_link and entry.get("guidislink") and guid:
        raw_link = guid
    link: str | None
    error: str | None = None
    try:
        link = check_http_url(raw_link)
    except BadURL as exc:
        link, error = None, str(exc)
    title = _clean(entry.get("title"))
    summary = _clean(entry.get("summary"))
    if guid:
        key = guid
    elif link:
        key = canonical_url(link)
    else:
        # Nothing identifies it: hash what it says, so a refused item is recorded once, not every pass.
        key = "sha1:" + hashlib.sha1(f"{raw_link}|{title}|{summary}".encode()).hexdigest()
    return FeedItem(
        key=key,
        guid=guid,
        link=link,
        title=title,
        summary=summary,
        author=_clean(entry.get("author")),
        # dict.get: FeedParserDict.get("updated_parsed") falls back to the published date.
        published_at=_to_datetime(dict.get(entry, "published_parsed")),
        updated_at=_to_datetime(dict.get(entry, "updated_parsed")),
        error=error,
    )


def _to_datetime(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _ttl(value: object) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if minutes > 0 else None


def _update_period(period: object, frequency: object) -> int | None:
    if period is None:
        return None
    seconds = _PERIOD_SECONDS.get(str(period).strip().lower())
    if seconds is None:
        return None
    try:
        times = max(1, int(str(frequency).strip())) if frequency is not None else 1
    except ValueError:
        times = 1
    return seconds // times


def discover_feed_links(body: bytes, base_url: str) -> list[str]:
    """Feed URLs an HTML page announces with <link rel="alternate" type="application/rss+xml">."""
    links = []
    for tag in _ALTERNATE.findall(body[:262144]):
        href = _HREF.search(tag)
        if href:
            links.append(urljoin(base_url, href.group(1).decode("utf-8", "replace")))
    return links
