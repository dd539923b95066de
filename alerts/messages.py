"""What an alert says: the JSON payload (frozen in the outbox), and its renderings per channel.

Titles, outlet names and URLs come from the web, so every rendering escapes them for where they go:
HTML-escaped in e-mail (only http(s) links become links), markdown and control characters escaped in chat,
control characters removed from subjects and plain text (no header or line injection).
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

EVENT_MATCHED = "newsmon.story.matched"
EVENT_UPDATED = "newsmon.story.updated"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~>])")


def alert_id(rule: str, story_id: str, revision: int) -> str:
    return hashlib.sha256(f"{rule}\0{story_id}\0{revision}".encode()).hexdigest()[:24]


def idempotency_key(alert: str, channel: str) -> str:
    """Stable per (alert, channel): a resend after a crash carries the same key, so receivers can drop it."""
    return "newsmon-" + hashlib.sha256(f"{alert}\0{channel}".encode()).hexdigest()[:32]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_payload(
    *,
    rule: str,
    story_id: str,
    revision: int,
    title: str | None,
    urls: list[str],
    sources: list[str],
    first_seen_at: datetime | None,
    last_seen_at: datetime | None,
    article_count: int,
    source_count: int,
    facts: list[dict[str, Any]],
    matched: dict[str, Any],
    changes: dict[str, Any] | None,
    created_at: datetime,
) -> dict[str, Any]:
    return {
        "rule": rule,
        "story_id": story_id,
        "alert_id": alert_id(rule, story_id, revision),
        "revision": revision,
        "event": EVENT_MATCHED if revision == 0 else EVENT_UPDATED,
        "title": title or "(untitled story)",
        "urls": urls,
        "sources": sources,
        "first_seen_at": _iso(first_seen_at),
        "last_seen_at": _iso(last_seen_at),
        "article_count": article_count,
        "source_count": source_count,
        "facts": facts,
        "matched": matched,
        "changes": changes,
        "created_at": _iso(created_at),
    }


def clean(text: object, limit: int = 500) -> str:
    """One line, no control or bidi-override characters, bounded."""
    flat = _CONTROL.sub(" ", str(text)).replace("\n", " ").replace("\r", " ")
    flat = re.sub(r"\s+", " ", flat).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def safe_url(url: str) -> str | None:
    """An http(s) URL fit to show or link (spaces and quotes percent-encoded), else None."""
    url = clean(url, 2000)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def subject(payload: dict[str, Any]) -> str:
    prefix = "Update" if payload["revision"] else "New story"
    return clean(f"[newsmon] {prefix} ({payload['rule']}): {payload['title']}", 250)


def _lines(payload: dict[str, Any]) -> dict[str, Any]:
    """The parts every rendering shows, still raw."""
    matched = payload.get("matched") or {}
    what = [f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in matched.items() if v]
    changes = (payload.get("changes") or {}).get("summary")
    urls = [u for u in (safe_url(u) for u in payload.get("urls") or []) if u]
    facts = [f.get("text") or f"{f.get('kind')} {f.get('value')} {f.get('unit') or ''}" for f in payload["facts"]]
    return {
        "title": payload["title"],
        "changes": changes,
        "sources": ", ".join(payload.get("sources") or []),
        "counts": f"{payload['article_count']} article(s) from {payload['source_count']} source(s)",
        "first_seen": payload.get("first_seen_at") or "?",
        "matched": "; ".join(what),
        "facts": facts[:10],
        "urls": urls,
    }


def render_text(payload: dict[str, Any], *, markdown: bool = False) -> str:
    """The message as plain text, or as Markdown for chat services (escaped, title in bold)."""
    esc = escape_markdown if markdown else clean
    p = _lines(payload)
    out = [f"**{esc(p['title'])}**" if markdown else esc(p["title"])]
    if p["changes"]:
        out.append("What changed: " + esc(p["changes"]))
    out.append(f"{esc(p['counts'])}: {esc(p['sources'])}")
    out.append(f"First seen: {esc(p['first_seen'])}")
    if p["matched"]:
        out.append("Matched " + esc(p["matched"]))
    out += ["Fact: " + esc(f) for f in p["facts"]]
    # Bare URLs: chat services link them; inside markdown link syntax a ')' in a URL could break out.
    out += [""] + [f"<{u}>" if markdown else u for u in p["urls"]]
    return "\n".join(out)


def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", clean(text))


def render_markdown(payload: dict[str, Any]) -> str:
    return render_text(payload, markdown=True)


def render_html(payload: dict[str, Any]) -> str:
    p = _lines(payload)
    e = html.escape
    parts = [f"<h2>{e(clean(p['title']))}</h2>"]
    if p["changes"]:
        parts.append(f"<p><b>What changed:</b> {e(clean(p['changes']))}</p>")
    parts.append(f"<p>{e(p['counts'])}: {e(clean(p['sources']))}<br>First seen: {e(p['first_seen'])}</p>")
    if p["matched"]:
        parts.append(f"<p>Matched {e(clean(p['matched']))}</p>")
    if p["facts"]:
        parts.append("<ul>" + "".join(f"<li>{e(clean(f))}</li>" for f in p["facts"]) + "</ul>")
    if p["urls"]:
        parts.append(
            "<ul>" + "".join(f'<li><a href="{e(u, quote=True)}">{e(u)}</a></li>' for u in p["urls"]) + "</ul>"
        )
    return "\n".join(parts)


def webhook_body(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {**payload, "idempotency_key": key}


def event_payload(payload: dict[str, Any], key: str, max_urls: int = 10) -> dict[str, Any]:
    """What the Prefect event carries: enough to route and to read, small enough for the event size limit."""
    return {
        "rule": payload["rule"],
        "title": clean(payload["title"], 300),
        "story_id": payload["story_id"],
        "revision": payload["revision"],
        "sources": payload.get("sources", [])[:20],
        "urls": payload.get("urls", [])[:max_urls],
        "changes": payload.get("changes"),
        "idempotency_key": key,
    }
