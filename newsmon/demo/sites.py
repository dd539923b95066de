"""Bundled demo news sites, served over HTTP on loopback.

`DemoSites` starts one small HTTP server per fictional outlet (Ankara Ledger, Balkan Wire, ...), each on
its own loopback address so that every outlet is a distinct host, as in real life (per-host politeness
limits apply per outlet). The sites serve a home page, an RSS 2.0 or Atom 1.0 feed, article pages, a
robots.txt and a 404 page, with ETag / Last-Modified validators and 304 answers to conditional requests.

Content lives in package data (``sample/outlets/*.toml`` for the articles and the outlet settings,
``sample/templates/*.html`` for each outlet's look), so nothing is read from outside the package and no
network beyond loopback is used. Each article carries a ``story`` label (which articles report the same
story) that tests use for clustering checks; it is never part of a page.

    with DemoSites() as sites:
        for url in sites.feed_urls:
            ...

The HTTP side (keep-alive, conditional GET, the request log) is `newsmon.demo.server`, shared with the tests
and the benchmarks. Everything uses the standard library only.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import string
import threading
import tomllib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import format_datetime
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from newsmon.demo.server import LoopbackServer, Request, Response, bind_hosts, stop_all
from newsmon.text import slug

__all__ = ["DemoSites", "Outlet", "SampleArticle"]

FeedFormat = Literal["rss", "atom"]

_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Date of robots.txt and other fixed resources (their Last-Modified).
_SITE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# How many headlines the "Most read"/"Latest" sidebars and the related blocks show.
_SIDEBAR_SIZE = 5
_RELATED_SIZE = 3


@dataclass(frozen=True)
class Outlet:
    """One demo outlet as a client sees it."""

    name: str
    slug: str
    base_url: str  # "http://127.0.0.11:PORT/"
    feed_url: str
    feed_format: FeedFormat


@dataclass(frozen=True)
class SampleArticle:
    """Metadata of one served article, for tests and the demo's summary.

    ``url`` is the clean canonical URL (the page's ``<link rel="canonical">``); ``feed_link`` is the link
    the feed gives for it, which on some outlets carries ``utm_*`` tracking parameters. ``story`` is the
    test-only label shared by articles that report the same story. ``has_feed_date`` is False when the
    outlet's feed gives no item date, so the date must be taken from the page.
    """

    outlet: str
    url: str
    feed_link: str
    title: str
    story: str
    published: datetime
    updated: datetime | None
    has_feed_date: bool
    author: str


# --------------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------------


@dataclass
class _Article:
    id: int
    slug: str
    section: str
    title: str
    author: str
    published: datetime
    story: str
    summary: str
    body: list[str]
    standfirst: str = ""
    teasers: list[str] = field(default_factory=list)
    updated: datetime | None = None
    path: str = ""


@dataclass
class _Config:
    """The ``[outlet]`` table of an outlet's TOML file."""

    name: str
    slug: str
    address: str
    tagline: str
    template: str
    title_format: str
    feed_format: FeedFormat
    feed_path: str
    feed_title: str
    feed_description: str
    guid: Literal["permalink", "opaque", "tag", "url"]
    item_dates: bool
    date_markup: Literal["jsonld", "meta", "visible"]
    path: str
    visible_date: str
    nav: list[str]
    ttl: int | None = None
    update_period: str | None = None
    update_frequency: int | None = None
    tracking: str = ""
    cache_control: str | None = None
    robots: str = "User-agent: *\nDisallow: /search\nDisallow: /admin/\n"
    app_promo: str = ""
    comments_prompt: str = ""
    comments_empty: str = ""


def _paragraphs(text: str) -> list[str]:
    # Paragraphs are separated by blank lines in the data files.
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _parse_templates(text: str) -> dict[str, string.Template]:
    # A template file is a series of "<!--@name-->" sections (page, article, nav_item, ...).
    parts = re.split(r"<!--@(\w+)-->\n?", text)
    return {name: string.Template(body.rstrip("\n")) for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def _load_sample() -> list[tuple[_Config, list[_Article], dict[str, string.Template]]]:
    root = resources.files(__package__ or "newsmon.demo") / "sample"
    loaded = []
    for entry in (root / "outlets").iterdir():
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        config = _Config(**data["outlet"])
        articles = []
        for raw in data["article"]:
            raw = dict(raw)
            raw["body"] = _paragraphs(raw["body"])
            articles.append(_Article(**raw))
        templates = _parse_templates((root / "templates" / f"{config.template}.html").read_text(encoding="utf-8"))
        loaded.append((config, articles, templates))
    # Outlets in address order, so .11 is always the first one whatever the directory order.
    loaded.sort(key=lambda item: tuple(int(x) for x in item[0].address.split(".")))
    return loaded


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _slugify(text: str, max_words: int = 12) -> str:
    return slug(text, max_words) or "article"


def _text(value: str) -> str:
    # Text nodes: escape only &, < and > so that quotes and apostrophes stay verbatim in the HTML source.
    return html.escape(value, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _date_fields(dt: datetime) -> dict[str, str]:
    return {
        "day": str(dt.day),
        "day2": f"{dt.day:02d}",
        "mm": f"{dt.month:02d}",
        "dd": f"{dt.day:02d}",
        "yyyy": str(dt.year),
        "hh": f"{dt.hour:02d}",
        "mi": f"{dt.minute:02d}",
        "month_name": _MONTHS[dt.month - 1],
        "month_abbr": _MONTHS[dt.month - 1][:3] + ".",
        "mon": _MONTHS[dt.month - 1][:3].lower(),
        "weekday": _WEEKDAYS[dt.weekday()],
    }


def _whole_seconds(dt: datetime) -> datetime:
    # HTTP dates have one-second resolution; keep Last-Modified comparable with If-Modified-Since.
    return dt.replace(microsecond=0)


# --------------------------------------------------------------------------------------------------
# One outlet: its articles, rendered resources and server
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rendered:
    body: str
    content_type: str
    natural_date: datetime  # the content's own date, the Last-Modified it starts with
    cache_control: str | None = None


class _Site:
    """State of one outlet. Mutated only under the owning DemoSites' lock."""

    def __init__(self, config: _Config, articles: list[_Article], templates: dict[str, string.Template]) -> None:
        self.config = config
        self.templates = templates
        self.articles = sorted(articles, key=lambda a: a.published, reverse=True)  # newest first
        self.base_url = ""
        self.tz: tzinfo = (self.articles[0].published.tzinfo or UTC) if self.articles else UTC
        # Replaced wholesale on every change (copy-on-write), so request threads can read it without a lock.
        self.resources: dict[str, Response] = {}  # path -> its 200 answer
        self.not_found = Response(404)
        for article in self.articles:
            article.path = self.article_path(article)

    # URLs -------------------------------------------------------------------------------------------

    def article_path(self, article: _Article) -> str:
        values = _date_fields(article.published)
        return self.config.path.format(id=article.id, slug=article.slug, section=_slugify(article.section), **values)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    @property
    def feed_url(self) -> str:
        return self.url(self.config.feed_path)

    def feed_link(self, article: _Article) -> str:
        link = self.url(article.path)
        return f"{link}?{self.config.tracking}" if self.config.tracking else link

    def guid(self, article: _Article) -> str:
        # Opaque and tag GUIDs do not contain the (ephemeral) port, so they are stable from run to run.
        kind = self.config.guid
        if kind in ("permalink", "url"):
            return self.url(article.path)
        if kind == "tag":
            return f"tag:{self.config.slug}.example,{article.published:%Y-%m-%d}:/article/{article.id}"
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.config.slug}/{article.id}')}"

    # Rendering --------------------------------------------------------------------------------------

    def _fill(self, name: str, **values: str) -> str:
        template = self.templates.get(name)
        return template.substitute(values) if template is not None else ""

    def _visible_date(self, dt: datetime) -> str:
        return self.config.visible_date.format(**_date_fields(dt))

    def _nav(self) -> str:
        return "".join(
            self._fill("nav_item", href=_attr(f"/{_slugify(label)}"), label=_text(label)) for label in self.config.nav
        )

    def _headline_list(self, item: str, articles: Iterable[_Article]) -> str:
        return "".join(self._fill(item, href=_attr(a.path), title=_text(a.title)) for a in articles)

    def _head(self, *, title: str, description: str, canonical: str, article: _Article | None) -> str:
        feed_type = "application/rss+xml" if self.config.feed_format == "rss" else "application/atom+xml"
        lines = [
            f'<meta name="description" content="{_attr(description)}">',
            f'<link rel="canonical" href="{_attr(canonical)}">',
            f'<meta property="og:site_name" content="{_attr(self.config.name)}">',
            f'<meta property="og:type" content="{"article" if article else "website"}">',
            f'<meta property="og:title" content="{_attr(title)}">',
            f'<meta property="og:description" content="{_attr(description)}">',
            f'<meta property="og:url" content="{_attr(canonical)}">',
            '<meta property="og:locale" content="en_US">',
            '<meta name="twitter:card" content="summary_large_image">',
            f'<link rel="alternate" type="{feed_type}" title="{_attr(self.config.feed_title)}" '
            f'href="{_attr(self.feed_url)}">',
        ]
        if article is None:
            return "\n".join(lines)
        lines.insert(1, f'<meta name="author" content="{_attr(article.author)}">')
        lines.append(f'<meta property="article:section" content="{_attr(article.section)}">')
        if self.config.date_markup == "meta":
            lines.append(f'<meta property="article:published_time" content="{article.published.isoformat()}">')
            if article.updated:
                lines.append(f'<meta property="article:modified_time" content="{article.updated.isoformat()}">')
        elif self.config.date_markup == "jsonld":
            data: dict[str, Any] = {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": article.title,
                "description": description,
                "datePublished": article.published.isoformat(),
                "dateModified": (article.updated or article.published).isoformat(),
                "author": [{"@type": "Person", "name": article.author}],
                "publisher": {"@type": "Organization", "name": self.config.name, "url": self.url("/")},
                "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
                "articleSection": article.section,
                "inLanguage": "en",
            }
            # "</" must not appear inside a <script> element.
            payload = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
            lines.append(f'<script type="application/ld+json">\n{payload}\n</script>')
        # date_markup == "visible": the date is only in the page text, on purpose.
        return "\n".join(lines)

    def _page(self, *, title: str, head: str, main: str, sidebar: Iterable[_Article], body_class: str) -> str:
        return self._fill(
            "page",
            page_title=_text(title),
            head=head,
            body_class=body_class,
            tagline=_text(self.config.tagline),
            nav=self._nav(),
            main=main,
            sidebar=self._headline_list("sidebar_item", sidebar),
            feed_url=_attr(self.feed_url),
        )

    def _extras(self, article: _Article) -> str:
        """Furniture under the article body: teasers, app promo and comments box (Eurasia Dispatch)."""
        parts = []
        if "teasers" in self.templates:
            if article.teasers:
                # The seed page's own teasers, linked to pages that are not in the sample (404).
                items = [
                    (f"/news/{article.id - 10 - i}/{_slugify(text, 8)}", text) for i, text in enumerate(article.teasers)
                ]
            else:
                items = [(a.path, a.summary) for a in self.articles if a is not article][:_SIDEBAR_SIZE]
            teasers = "".join(self._fill("teaser_item", href=_attr(href), text=_text(text)) for href, text in items)
            parts.append(self._fill("teasers", items=teasers))
        if self.config.app_promo:
            parts.append(self._fill("app_promo", text=_text(self.config.app_promo)))
        if self.config.comments_prompt:
            parts.append(
                self._fill(
                    "comments", prompt=_text(self.config.comments_prompt), empty=_text(self.config.comments_empty)
                )
            )
        return "\n".join(parts)

    def _related(self, article: _Article) -> str:
        if "related" not in self.templates:
            return ""
        others = [a for a in self.articles if a is not article]
        # Same section first, then by date: what a CMS "related" widget would pick.
        others.sort(key=lambda a: (a.section != article.section, -a.published.timestamp()))
        return self._fill("related", items=self._headline_list("related_item", others[:_RELATED_SIZE]))

    def render_article(self, article: _Article) -> _Rendered:
        canonical = self.url(article.path)
        description = article.summary
        updated = self._fill("updated", date=_text(self._visible_date(article.updated))) if article.updated else ""
        standfirst = self._fill("standfirst", text=_text(article.standfirst)) if article.standfirst else ""
        main = self._fill(
            "article",
            headline=_text(article.title),
            section=_text(article.section),
            section_slug=_slugify(article.section),
            author=_text(article.author),
            author_slug=_slugify(article.author),
            date=_text(self._visible_date(article.published)),
            updated=updated,
            standfirst=standfirst,
            body="\n".join(f"<p>{_text(p)}</p>" for p in article.body),
            related=self._related(article),
            extras=self._extras(article),
        )
        page = self._page(
            title=self.config.title_format.format(title=article.title, section=article.section),
            head=self._head(title=article.title, description=description, canonical=canonical, article=article),
            main=main,
            sidebar=[a for a in self.articles if a is not article][:_SIDEBAR_SIZE],
            body_class=f"article-page section-{_slugify(article.section)}",
        )
        return _Rendered(page, "text/html; charset=utf-8", article.updated or article.published)

    def last_change(self) -> datetime:
        return max((a.updated or a.published for a in self.articles), default=_SITE_EPOCH)

    def render_home(self) -> _Rendered:
        items = "".join(
            self._fill(
                "home_item",
                href=_attr(a.path),
                title=_text(a.title),
                summary=_text(a.summary),
                date=_text(self._visible_date(a.published)),
            )
            for a in self.articles
        )
        page = self._page(
            title=f"{self.config.name} - {self.config.tagline}",
            head=self._head(
                title=self.config.name, description=self.config.feed_description, canonical=self.url("/"), article=None
            ),
            main=self._fill("home", items=items),
            sidebar=self.articles[:_SIDEBAR_SIZE],
            body_class="home-page",
        )
        return _Rendered(page, "text/html; charset=utf-8", self.last_change())

    def render_not_found(self) -> str:
        return self._page(
            title=f"Page not found - {self.config.name}",
            head='<meta name="robots" content="noindex">',
            main=self._fill("not_found"),
            sidebar=self.articles[:_SIDEBAR_SIZE],
            body_class="error404",
        )

    def render_feed(self) -> _Rendered:
        if self.config.feed_format == "rss":
            return _Rendered(
                self._rss(), "application/rss+xml; charset=utf-8", self.last_change(), self.config.cache_control
            )
        return _Rendered(
            self._atom(), "application/atom+xml; charset=utf-8", self.last_change(), self.config.cache_control
        )

    def _rss(self) -> str:
        cfg = self.config
        x = xml_escape
        out = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">',
            "<channel>",
            f"<title>{x(cfg.feed_title)}</title>",
            f"<link>{x(self.url('/'))}</link>",
            f"<description>{x(cfg.feed_description)}</description>",
            "<language>en</language>",
            f"<copyright>© 2026 {x(cfg.name)}</copyright>",
            # Channel-level date even on the outlet whose items carry none: it changes on every edit.
            f"<lastBuildDate>{format_datetime(self.last_change())}</lastBuildDate>",
            f'<atom:link href={quoteattr(self.feed_url)} rel="self" type="application/rss+xml"/>',
        ]
        if cfg.ttl is not None:
            out.append(f"<ttl>{cfg.ttl}</ttl>")
        if cfg.update_period:
            out.append(f"<sy:updatePeriod>{x(cfg.update_period)}</sy:updatePeriod>")
            out.append(f"<sy:updateFrequency>{cfg.update_frequency or 1}</sy:updateFrequency>")
        for a in self.articles:
            permalink = "true" if cfg.guid == "permalink" else "false"
            item = [
                "<item>",
                f"<title>{x(a.title)}</title>",
                f"<link>{x(self.feed_link(a))}</link>",
                f'<guid isPermaLink="{permalink}">{x(self.guid(a))}</guid>',
            ]
            if cfg.item_dates:
                item.append(f"<pubDate>{format_datetime(a.published)}</pubDate>")
                if a.updated:
                    item.append(f"<atom:updated>{a.updated.isoformat()}</atom:updated>")
            item += [
                f"<dc:creator>{x(a.author)}</dc:creator>",
                f"<category>{x(a.section)}</category>",
                f"<description>{x(a.summary)}</description>",
                "</item>",
            ]
            out.append("\n".join(item))
        out += ["</channel>", "</rss>", ""]
        return "\n".join(out)

    def _atom(self) -> str:
        cfg = self.config
        x = xml_escape
        out = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
            f"<title>{x(cfg.feed_title)}</title>",
            f"<subtitle>{x(cfg.feed_description)}</subtitle>",
            f'<link rel="alternate" type="text/html" href={quoteattr(self.url("/"))}/>',
            f'<link rel="self" type="application/atom+xml" href={quoteattr(self.feed_url)}/>',
            f"<id>tag:{cfg.slug}.example,2026:feed</id>",
            f"<updated>{self.last_change().isoformat()}</updated>",
            f"<rights>© 2026 {x(cfg.name)}</rights>",
            f'<generator uri="https://example.invalid/cms">{x(cfg.name)} CMS</generator>',
        ]
        for a in self.articles:
            out.append(
                "\n".join(
                    [
                        "<entry>",
                        f'<title type="text">{x(a.title)}</title>',
                        f'<link rel="alternate" type="text/html" href={quoteattr(self.feed_link(a))}/>',
                        f"<id>{x(self.guid(a))}</id>",
                        f"<published>{a.published.isoformat()}</published>",
                        f"<updated>{(a.updated or a.published).isoformat()}</updated>",
                        f"<author><name>{x(a.author)}</name></author>",
                        f"<category term={quoteattr(a.section)}/>",
                        f'<summary type="text">{x(a.summary)}</summary>',
                        "</entry>",
                    ]
                )
            )
        out += ["</feed>", ""]
        return "\n".join(out)

    def render_all(self) -> dict[str, _Rendered]:
        rendered = {
            "/": self.render_home(),
            self.config.feed_path: self.render_feed(),
            "/robots.txt": _Rendered(self.config.robots.lstrip("\n"), "text/plain; charset=utf-8", _SITE_EPOCH),
        }
        for article in self.articles:
            rendered[article.path] = self.render_article(article)
        return rendered

    def rebuild(self) -> None:
        """Re-render every resource; keep the validators of those whose bytes did not change."""
        old = self.resources
        new: dict[str, Response] = {}
        now = _whole_seconds(datetime.now(UTC))
        for path, item in self.render_all().items():
            body = item.body.encode("utf-8")
            previous = old.get(path)
            if previous is not None and previous.body == body:
                new[path] = previous
                continue
            last_modified = _whole_seconds(item.natural_date)
            if previous is not None:
                # A changed resource was regenerated now, and must never look as old as its previous version
                # (whatever the clock says).
                last_modified = max(last_modified, now, (previous.last_modified or now) + timedelta(seconds=1))
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            headers = {"Cache-Control": item.cache_control} if item.cache_control else {}
            new[path] = Response(200, body, item.content_type, headers, etag, last_modified)
        self.resources = new
        self.not_found = Response(404, self.render_not_found().encode("utf-8"), headers={"Cache-Control": "no-cache"})

    def answer(self, request: Request) -> Response:
        return self.resources.get(request.route, self.not_found)

    def next_timestamp(self) -> datetime:
        """A time for an edit or a new article: now, but always after everything already on the site."""
        latest = max([self.last_change(), *(r.last_modified or _SITE_EPOCH for r in self.resources.values())])
        now = _whole_seconds(datetime.now(UTC))
        return max(now, latest + timedelta(minutes=1)).astimezone(self.tz)


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


class DemoSites:
    """The bundled demo outlets, each served by its own HTTP server on loopback.

    Use as a context manager: servers start (daemon threads) on ``__enter__`` and stop, with their sockets
    closed, on ``__exit__``. With ``host_addresses`` (the default) every outlet gets its own loopback
    address (127.0.0.11, 127.0.0.12, ...) on an ephemeral port, so each outlet is a distinct host; where
    such an address cannot be bound (macOS without aliases) or with ``host_addresses=False``, all outlets
    share 127.0.0.1 on distinct ports. ``port`` fixes the port instead of an ephemeral one (with distinct
    addresses every outlet uses that port; on 127.0.0.1 outlet *i* uses ``port + i``), which keeps URLs
    stable from one run to the next.

    ``request_log`` records ``(method, url, status)`` for every request served, where ``url`` is the
    absolute URL with host, port, path and query (e.g. ``("GET", "http://127.0.0.11:40231/rss.xml", 304)``).
    Appends are thread-safe; tests may read it or ``clear()`` it.
    """

    request_log: list[tuple[str, str, int]]

    def __init__(self, *, host_addresses: bool = True, port: int = 0) -> None:
        self._host_addresses = host_addresses
        self._port = port
        self._lock = threading.RLock()
        self._sites: list[_Site] = []
        self._servers: list[LoopbackServer] = []
        self.request_log = []

    # Lifecycle ------------------------------------------------------------------------------------------

    def __enter__(self) -> DemoSites:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Load the sample, bind one server per outlet and start serving. Idempotent."""
        with self._lock:
            if self._servers:
                return
            sites = [_Site(config, articles, templates) for config, articles, templates in _load_sample()]
            hosts = [site.config.address if self._host_addresses else "127.0.0.1" for site in sites]
            servers = bind_hosts(
                hosts, [site.answer for site in sites], port=self._port, on_request=self._log_request,
                names=[site.config.slug for site in sites],
            )
            for site, server in zip(sites, servers, strict=True):
                site.base_url = server.origin + "/"
                site.rebuild()
            self._sites, self._servers = sites, [server.start() for server in servers]

    def stop(self) -> None:
        """Stop every server and close its sockets. Idempotent."""
        with self._lock:
            servers, self._servers = self._servers, []
        stop_all(servers)

    def _require_started(self) -> list[_Site]:
        if not self._sites or not self._servers:
            raise RuntimeError("DemoSites is not running: use it as a context manager (with DemoSites() as sites)")
        return self._sites

    def _log_request(self, request: Request, status: int) -> None:
        with self._lock:
            self.request_log.append((request.method, request.url, status))

    # Queries --------------------------------------------------------------------------------------------

    @property
    def feed_urls(self) -> list[str]:
        """One feed URL per outlet, in outlet order."""
        return [site.feed_url for site in self._require_started()]

    @property
    def allowed_networks(self) -> list[str]:
        """The loopback addresses the sites are bound to, as /32 networks (for an SSRF allow-list)."""
        hosts = {urlsplit(site.base_url).hostname for site in self._require_started()}
        return sorted(f"{host}/32" for host in hosts if host)

    def outlets(self) -> list[Outlet]:
        return [
            Outlet(site.config.name, site.config.slug, site.base_url, site.feed_url, site.config.feed_format)
            for site in self._require_started()
        ]

    def articles(self) -> list[SampleArticle]:
        """Every served article, outlet by outlet, each outlet's newest first (feed order)."""
        with self._lock:
            return [
                SampleArticle(
                    outlet=site.config.name,
                    url=site.url(a.path),
                    feed_link=site.feed_link(a),
                    title=a.title,
                    story=a.story,
                    published=a.published,
                    updated=a.updated,
                    has_feed_date=site.config.item_dates,
                    author=a.author,
                )
                for site in self._require_started()
                for a in site.articles
            ]

    def opml(self) -> str:
        """An OPML 2.0 subscription list with every outlet's feed."""
        outlines = "\n".join(
            f'    <outline type="rss" text={quoteattr(o.name)} title={quoteattr(o.name)} '
            f"xmlUrl={quoteattr(o.feed_url)} htmlUrl={quoteattr(o.base_url)}/>"
            for o in self.outlets()
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<opml version="2.0">\n'
            "  <head>\n    <title>newsmon demo sites</title>\n  </head>\n"
            f"  <body>\n{outlines}\n  </body>\n"
            "</opml>\n"
        )

    # Changes --------------------------------------------------------------------------------------------

    def _find(self, url: str) -> tuple[_Site, _Article]:
        parts = urlsplit(url)
        for site in self._require_started():
            site_parts = urlsplit(site.base_url)
            if parts.netloc and parts.netloc != site_parts.netloc:
                continue
            for article in site.articles:
                if article.path == parts.path:
                    return site, article
        raise KeyError(f"no demo article at {url}")

    def update_article(
        self, url: str, new_body_paragraphs: list[str] | None = None, new_title: str | None = None
    ) -> None:
        """Edit a served article (URL with or without tracking parameters).

        The page shows the new title/body and an "updated" date; the feed item gets an ``<updated>``
        (Atom) or ``<atom:updated>`` (RSS, on outlets whose items carry dates); every changed resource,
        the feed and home page included, gets a new ETag and a later Last-Modified.
        """
        with self._lock:
            site, article = self._find(url)
            if new_body_paragraphs is not None:
                article.body = list(new_body_paragraphs)
            if new_title is not None:
                article.title = new_title
            article.updated = site.next_timestamp()
            site.rebuild()

    def publish(
        self,
        outlet_name: str,
        title: str,
        body_paragraphs: list[str],
        *,
        story: str | None = None,
        summary: str | None = None,
        author: str | None = None,
        section: str | None = None,
        published: datetime | None = None,
    ) -> str:
        """Add a new article at the top of an outlet's feed and return its canonical URL.

        ``outlet_name`` is the outlet's name or slug. ``published`` defaults to now, or just after the
        outlet's latest change if the clock is behind the sample's dates; ``story`` defaults to a label of
        its own (``"published-<slug>"``).
        """
        with self._lock:
            sites = self._require_started()
            site = next((s for s in sites if outlet_name in (s.config.name, s.config.slug)), None)
            if site is None:
                raise KeyError(f"no demo outlet named {outlet_name!r}")
            when = published if published is not None else site.next_timestamp()
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            slug = _slugify(title)
            article = _Article(
                id=max((a.id for a in site.articles), default=1000) + 1,
                slug=slug,
                section=section or (site.articles[0].section if site.articles else "News"),
                title=title,
                author=author or f"{site.config.name} staff",
                published=when,
                story=story or f"published-{slug}",
                summary=summary or (body_paragraphs[0][:200] if body_paragraphs else title),
                body=list(body_paragraphs),
            )
            article.path = site.article_path(article)
            taken = {a.path for a in site.articles}
            while article.path in taken:  # same title twice: "-2" style suffix
                article.slug += "-2"
                article.path = site.article_path(article)
            site.articles.insert(0, article)
            site.articles.sort(key=lambda a: a.published, reverse=True)
            site.rebuild()
            return site.url(article.path)
