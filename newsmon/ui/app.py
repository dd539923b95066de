"""The story browser: a read-only Starlette app over the DuckDB file.

Every request opens the file read-only and closes it before answering, so an ingest pass is never blocked
for longer than one query (docs/schema.md: one writer or many readers). Every HTML page has a JSON twin
(`?format=json`, or the same path under `/api/`) built from the same data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsmon.errors import InputError
from newsmon.storage import browse
from newsmon.storage.db import DatabaseLocked, SchemaOutdated, open_reader

PAGE_SIZE = 50
ENTITY_STORIES = 200  # the latest stories of an entity shown; the stories page filters by entity for all of them

# No script at all, styles from our own stylesheet only: an article title that smuggles markup past the
# escaping still cannot run or restyle anything.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class BadRequest(InputError):
    """A query parameter the page cannot use; shown as a one-line message."""


@dataclass
class Page:
    template: str
    title: str
    data: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


# --- rendering -------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.0f} s"


def _http_url(url: str | None) -> str | None:
    """Only http(s) links leave the page: a stored URL is untrusted input."""
    return url if url and urlsplit(url).scheme in ("http", "https") else None


def _text_fragment(url: str | None, sentence: str | None) -> str | None:
    """A link that scrolls the outlet's own page to the sentence (a URL text fragment)."""
    safe = _http_url(url)
    if not safe or not sentence:
        return safe
    words = sentence.split()
    start = " ".join(words[:6])
    return f"{safe}#:~:text={quote(start, safe='')}"


def timeline(times: Sequence[datetime | None], start: datetime | None, end: datetime | None,
             width: int = 160) -> list[dict[str, Any]]:
    """x positions (0..width) of each report on a shared time axis from start to end."""
    if start is None or end is None:
        return []
    span = (end - start).total_seconds() or 1.0
    return [
        {"x": round(4 + (width - 8) * (t - start).total_seconds() / span, 1), "at": _when(t)}
        for t in times if t is not None
    ]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("newsmon.ui", "templates"),
        autoescape=True,  # titles and texts come from the web: everything is escaped unless marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, duration=_duration, http_url=_http_url, text_fragment=_text_fragment)
    env.filters["path"] = lambda value: quote(str(value), safe="")
    env.globals["timeline"] = timeline
    return env


# --- query parameters ------------------------------------------------------------------------------

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([hdw])$")


def parse_time(text: str | None, name: str) -> datetime | None:
    """`2026-01-29`, `2026-01-29T10:00`, or a span back from now: `12h`, `7d`, `2w`."""
    text = (text or "").strip()
    if not text or text == "all":
        return None
    relative = _RELATIVE.match(text)
    if relative:
        hours = {"h": 1, "d": 24, "w": 168}[relative[2]]
        return datetime.now(UTC) - timedelta(hours=float(relative[1]) * hours)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name}: {text!r} is not a date (2026-01-29) or a span back from now (12h, 7d, 2w)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _positive_int(text: str | None, name: str, default: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name}: {text!r} is not a whole number") from None
    if value < 1:
        raise BadRequest(f"{name}: must be at least 1")
    return value


def _text(request: Request, name: str) -> str | None:
    return (request.query_params.get(name) or "").strip() or None


def story_filters(request: Request) -> browse.StoryFilters:
    until = parse_time(request.query_params.get("until"), "until")
    if until and len(request.query_params.get("until", "").strip()) == 10:
        until += timedelta(days=1)  # a date as `until` includes that whole day
    return browse.StoryFilters(
        since=parse_time(request.query_params.get("since"), "since"),
        until=until,
        outlet=_text(request, "outlet"),
        entity=_text(request, "entity"),
        keyword=_text(request, "q"),
        min_outlets=_positive_int(request.query_params.get("min_outlets"), "min_outlets", 1),
    )


# --- pages -----------------------------------------------------------------------------------------


def stories_page(con: Any, request: Request) -> Page:
    filters = story_filters(request)
    page = _positive_int(request.query_params.get("page"), "page", 1)
    rows = browse.list_stories(con, filters, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    times = [t for r in rows for t in r["report_times"] if t is not None]
    axis = {"start": min(times), "end": max(times)} if times else {"start": None, "end": None}
    form = {k: request.query_params.get(k, "") for k in ("since", "until", "outlet", "entity", "q", "min_outlets")}
    data = {"stories": rows, "page": page, "more": more, "filters": form, "outlets": browse.outlets(con),
            "axis": axis}
    return Page("stories.html", "Stories", data)


def story_page(con: Any, request: Request) -> Page:
    found = browse.story(con, request.path_params["story_id"])
    if found is None:
        return _not_found(f"no story {request.path_params['story_id']}")
    times = [r["reported_at"] for r in found["reports"]] + [
        c["reported_at"] for r in found["reports"] for c in r["copies"]
    ]
    found["axis"] = {"start": found["first_seen_at"], "end": found["last_seen_at"], "times": times}
    return Page("story.html", found["title"] or found["story_id"], {"story": found})


def article_page(con: Any, request: Request) -> Page:
    found = browse.article(con, request.path_params["article_id"])
    if found is None:
        return _not_found(f"no article {request.path_params['article_id']}")
    start = _span_bound(request, "start", len(found["text"] or ""))
    end = _span_bound(request, "end", len(found["text"] or ""))
    text = found["text"] or ""
    if start is not None and end is not None and start < end:
        found["parts"] = {"before": text[:start], "marked": text[start:end], "after": text[end:]}
    else:
        found["parts"] = {"before": text, "marked": "", "after": ""}
    return Page("article.html", found["title"] or found["article_id"], {"article": found})


def _span_bound(request: Request, name: str, length: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}: {raw!r} is not a character offset") from None
    return max(0, min(value, length))


def entity_page(con: Any, request: Request) -> Page:
    found = browse.entity(con, request.path_params["entity_id"], limit=ENTITY_STORIES)
    if found is None:
        return _not_found(f"no entity {request.path_params['entity_id']}")
    times = [t for s in found["stories"] for t in s["report_times"] if t is not None]
    found["axis"] = {"start": min(times), "end": max(times)} if times else {"start": None, "end": None}
    return Page("entity.html", found["name"], {"entity": found})


def feeds_page(con: Any, request: Request) -> Page:
    rows = browse.feed_health(con)
    failing = sum(1 for r in rows if r["health"] in ("failing", "disabled"))
    return Page("feeds.html", "Feeds", {"feeds": rows, "failing": failing})


def alerts_page(con: Any, request: Request) -> Page:
    return Page("alerts.html", "Alerts", browse.alerts_overview(con))


def _not_found(message: str) -> Page:
    return Page("error.html", "Not found", {"error": message}, status=404)


# --- the app ---------------------------------------------------------------------------------------


class SecurityHeaders:
    """Adds the Content-Security-Policy and friends to every response, static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db: Path, *, lock_timeout: float = 1.0) -> ASGIApp:
    """The browser over `db`; `lock_timeout` is how long a request waits for a writer to let go."""
    env = _environment()

    def endpoint(build: Callable[[Any, Request], Page]) -> Callable[[Request], Response]:
        # A plain function: Starlette runs it in its thread pool, so DuckDB's blocking calls never stall the loop.
        def handle(request: Request) -> Response:
            wants_json = request.url.path.startswith("/api/") or request.query_params.get("format") == "json"
            page = _read(db, lock_timeout, build, request)
            if wants_json:
                body = page.data if page.status < 400 else {"error": page.data["error"]}
                return JSONResponse(
                    json.loads(json.dumps(body, default=_json_default, ensure_ascii=False)),
                    status_code=page.status, headers=page.headers,
                )
            html = env.get_template(page.template).render(
                page_title=page.title, request=request, json_url=_json_url(request), **page.data
            )
            return HTMLResponse(html, status_code=page.status, headers=page.headers)

        return handle

    pages: list[tuple[str, Callable[[Any, Request], Page]]] = [
        ("/stories", stories_page),
        ("/stories/{story_id}", story_page),
        ("/articles/{article_id}", article_page),
        ("/entities/{entity_id:path}", entity_page),
        ("/feeds", feeds_page),
        ("/alerts", alerts_page),
    ]
    routes: list[Route | Mount] = [Route("/", lambda request: RedirectResponse("/stories", status_code=302))]
    for path, build in pages:
        routes.append(Route(path, endpoint(build)))
        routes.append(Route("/api" + path, endpoint(build)))
    routes.append(Mount("/static", StaticFiles(packages=[("newsmon.ui", "static")]), name="static"))
    routes.append(Route("/favicon.ico", lambda request: Response(status_code=204)))
    return SecurityHeaders(Starlette(routes=routes))


def _json_url(request: Request) -> str:
    query = request.url.query
    return f"/api{request.url.path}" + (f"?{query}" if query else "")


def _read(db: Path, lock_timeout: float, build: Callable[[Any, Request], Page], request: Request) -> Page:
    """Open read-only, build the page, close: a busy or missing file is a page that says so, not a traceback."""
    if not db.exists():  # open_reader would create it, and this app never writes
        return Page("error.html", "No database", {"error": f"no database at {db}"}, status=503)
    try:
        with open_reader(db, timeout=lock_timeout) as con:
            return build(con, request)
    except DatabaseLocked:
        return Page(
            "error.html", "Database busy",
            {"error": "the database is busy (another process has it open for writing): retry in a few seconds"},
            status=503, headers={"Retry-After": "5"},
        )
    except SchemaOutdated as exc:
        return Page("error.html", "Database outdated", {"error": str(exc)}, status=503)
    except BadRequest as exc:
        return Page("error.html", "Bad request", {"error": str(exc)}, status=400)
