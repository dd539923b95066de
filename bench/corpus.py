"""A realistic crawl made from the 982 ECB+ news documents, served on loopback.

    python bench/corpus.py [--data PATH] [--outlets 50] [--hosts 10] [--wire-share 0.5]   # prints stats

`build_corpus` (seeded, deterministic) publishes every ECB+ document once on one of `outlets` outlets, and a
`wire_share` of them again on another outlet (wire copies: dateline, "Reporting by" line, sometimes another
headline or a dropped paragraph). Each outlet has its own HTML template (class names, nav, cookie banner,
inline scripts and styles, JSON-LD, og: tags, byline, related box, "Most read" of its own headlines, comment
stub; pages of ~60-120 KB) and two feeds, /oN/world.xml and /oN/business.xml (RSS 2.0, or Atom for every
fifth outlet). Outlets share `hosts` loopback addresses 127.0.0.10, 127.0.0.11, ... under path prefixes /oN/.
`updated` returns a copy where a share of pages gained or changed a paragraph (newer feed dates, dateModified).

Absolute URLs (feed links, canonical, og:url, JSON-LD) are written with the placeholder BASE
("http://base.invalid"); `serve` replaces it at request time with its own http://host:port, so the corpus
knows nothing of ports and the live routes dict can be mutated between passes (e.g. `live.update(new)`).
Offline, `trafilatura.extract(body, url=BASE_URL + path)` works as is. `corpus.gold` maps page path -> story.
"""

from __future__ import annotations

import argparse
import email.utils
import html
import json
import random
import re
import statistics
import threading
import time
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

from newsmon.demo.server import LoopbackServer, Request, Response
from newsmon.text import slug as text_slug

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecbplus_docs.jsonl"
BASE_URL = "http://base.invalid"
BASE = BASE_URL.encode()
HTML, RSS, ATOM = "text/html; charset=utf-8", "application/rss+xml", "application/atom+xml"
SECTIONS = ("world", "business")
START = datetime(2013, 5, 1, 6, tzinfo=UTC)
MENU = (
    "World", "US", "Politics", "Business", "Markets", "Tech", "Science", "Health", "Sports", "Football", "Tennis",
    "Culture", "Books", "Film", "Music", "Travel", "Food", "Style", "Opinion", "Editorials", "Letters",
    "Obituaries", "Weather", "Video", "Podcasts", "Photos", "Local", "Education", "Environment", "Climate",
    "Energy", "Economy", "Money", "Property", "Autos", "Jobs", "Crossword", "Games", "Newsletters", "Events",
    "Subscribe", "Archive", "Corrections", "Contact", "About", "Careers", "Advertise", "Privacy", "Terms",
    "Accessibility", "Sitemap", "Help", "Asia", "Europe", "Africa", "Americas", "Australia", "Media", "Law",
    "Religion", "Royals", "Lifestyle", "Fashion", "Gardening", "Cars", "Space",
)
PLACES = (
    "Riverton", "Eastbrook", "Harbor", "Lakeside", "Northgate", "Westfield", "Summit", "Valley", "Capital", "Metro",
    "Bay", "Pine", "Coast",
)
PAPERS = (
    "Herald", "Courier", "Tribune", "Gazette", "Post", "Chronicle", "Journal", "Times", "Observer", "Sentinel",
    "Ledger", "Dispatch",
)
PEOPLE = (
    "Anna Smith", "James Okafor", "Maria Lopez", "David Chen", "Sarah Kim", "Tom Walsh", "Priya Nair",
    "Luca Bianchi",
)
AGENCIES = (("AP", "Associated Press"), ("Reuters", "Reuters"), ("AFP", "Agence France-Presse"))
CITIES = (
    "WASHINGTON", "NEW YORK", "LONDON", "LOS ANGELES", "PARIS", "BRUSSELS", "TOKYO", "CHICAGO", "MUMBAI", "SYDNEY",
)
ROLES = (
    "page", "header", "nav", "article", "headline", "byline", "body", "related", "sidebar", "footer", "comments",
    "cookie", "meta", "share", "teaser",
)
_DATE_LINE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s.{0,12}\b(19|20)\d\d\b")


@dataclass(frozen=True)
class Outlet:
    index: int
    host: int
    prefix: str  # "/o12"
    name: str
    atom: bool
    cls: dict[str, str]  # role -> class name in this outlet's template
    head: str  # <style> and <script> blobs, the same on every page
    nav: str
    footer: str


@dataclass(frozen=True)
class Article:
    doc_id: str
    story: str
    outlet: int
    path: str
    section: str
    title: str
    paragraphs: tuple[str, ...]
    author: str
    published: datetime
    modified: datetime
    wire: bool
    related: tuple[int, ...] = ()  # indices into Corpus.articles, same outlet
    most_read: tuple[int, ...] = ()
    latest: tuple[int, ...] = ()  # "More from" teasers


@dataclass
class Corpus:
    hosts: list[dict[str, tuple[bytes, str]]]  # per loopback host: path -> (body, content type)
    feed_paths: list[tuple[int, str]]  # (host index, path)
    page_paths: list[tuple[int, str]]
    gold: dict[str, str]  # page path -> ECB+ story id
    outlets: list[Outlet] = field(default_factory=list, repr=False)
    articles: list[Article] = field(default_factory=list, repr=False)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _make_outlet(index: int, hosts: int, rng: random.Random) -> Outlet:
    name, scheme, prefix = f"The {rng.choice(PLACES)} {rng.choice(PAPERS)}", rng.randrange(4), f"/o{index}"
    hashed = {role: f"css-{rng.getrandbits(24):06x}" for role in ROLES}
    c = {r: [r, f"st-{r}__inner", hashed[r], f"c-{r}-v{index % 3}"][scheme] for r in ROLES}
    names = list(c.values())
    css = "".join(
        f".{rng.choice(names)} .x{i}{{margin:0 {i % 17}px;padding:{i % 9}px {i % 13}px;"
        f"color:#{rng.getrandbits(24):06x};font:{12 + i % 9}px/1.4 Georgia,serif}}"
        f"@media (max-width:{600 + i % 5 * 120}px){{.x{i}{{display:{rng.choice(['none', 'block', 'flex'])}}}}}"
        for i in range(rng.randrange(60, 160)))
    js = "".join(
        f'function _{rng.getrandbits(20):05x}(e,t){{var n=document.querySelectorAll(".{rng.choice(names)}");'
        f'for(var r=0;r<n.length;r++){{n[r].setAttribute("data-k{i}",t+r)}}return e&&e.p{i}||{rng.getrandbits(16)}}}'
        for i in range(rng.randrange(100, 320)))
    ads = [{"slot": f"/{rng.getrandbits(30)}/{s.lower()}", "sizes": [[300, 250], [728, 90]]} for s in MENU[:12]]
    head = (f"<style>{css}</style><script>window.__CONFIG__={json.dumps({'site': name, 'ads': ads})};</script>"
            f'<script async src="/static/app.{rng.getrandbits(32):08x}.js"></script><script>{js}</script>')

    def link(w: str, where: str) -> str:
        return (f'<li class="{c["nav"]}-item"><div class="{c["nav"]}-cell"><a class="{c["nav"]}-link" '
                f'href="{prefix}/{w.lower()}/" data-track="{where}|{w}">{w}</a></div></li>')

    links = rng.sample(MENU, rng.randrange(30, 61))
    nav = "".join(f'<li class="{c["nav"]}-group"><span>{g[0]}</span><ul>' + "".join(link(w, "nav") for w in g)
                  + "</ul></li>" for g in (links[i:i + 8] for i in range(0, len(links), 8)))
    footer = "".join(link(w, "footer") for w in rng.sample(MENU, 40))
    return Outlet(index, index % hosts, prefix, name, index % 5 == 4, c, head, nav, footer)


def _split(text: str) -> tuple[str, list[str]]:
    """Title and body paragraphs: the first line if it looks like a headline, else the first ~10 words."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    lines = [ln for ln in lines if not (len(ln.split()) <= 10 and _DATE_LINE.search(ln))] or lines
    first = lines[0]
    if len(first.split()) <= 16 and not first.endswith(".") and len(lines) > 1:
        return first, lines[1:]
    return " ".join(first.split()[:10]).rstrip(",;:."), lines


def _wire_edit(art: Article, rng: random.Random) -> tuple[str, list[str], str]:
    """Light edits of a wire copy; returns title, paragraphs and the agency (the byline)."""
    short, agency = rng.choice(AGENCIES)
    title, paras = art.title, list(art.paragraphs)
    if rng.random() < 0.4:
        title = rng.choice([f"UPDATE 1-{title}", f"{title}: report", " ".join(paras[0].split()[:9]).rstrip(",;:.")])
    lead = next((i for i, p in enumerate(paras) if len(p.split()) >= 8), 0)
    if rng.random() < 0.7:
        paras[lead] = f"{rng.choice(CITIES)} ({short}) — {paras[lead]}"
    if len(paras) > 3 and rng.random() < 0.3:
        del paras[rng.randrange(1, len(paras))]
    if rng.random() < 0.6:
        paras.append(f"Reporting by {rng.choice(PEOPLE)}; Editing by {rng.choice(PEOPLE)}")
    return title, paras, agency


def _render_page(o: Outlet, a: Article, arts: list[Article]) -> bytes:
    c, url, lead = o.cls, BASE_URL + a.path, _esc(a.paragraphs[0][:200])
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": a.title, "url": url,
                     "datePublished": a.published.isoformat(), "dateModified": a.modified.isoformat(),
                     "author": {"@type": "Person", "name": a.author}, "mainEntityOfPage": url,
                     "publisher": {"@type": "Organization", "name": o.name}}).replace("</", "<\\/")
    related = "".join(f'<li><a href="{arts[i].path}">{_esc(arts[i].title)}</a></li>' for i in a.related)
    most = "".join(f'<li><span>{n}</span><a href="{arts[i].path}">{_esc(arts[i].title)}</a></li>'
                   for n, i in enumerate(a.most_read, 1))
    img = f"/img/{zlib.crc32(a.path.encode()):08x}"
    teasers = "".join(
        f'<div class="{c["teaser"]}"><a href="{arts[i].path}"><picture><source type="image/webp" srcset="'
        + ", ".join(f"{img}-{i}-{w}.webp {w}w" for w in (320, 640, 960, 1280))
        + f'"><img src="{img}-{i}.jpg" alt="" loading="lazy" width="320" height="180"></picture>'
        f"<h3>{_esc(arts[i].title)}</h3></a><p>{_esc(arts[i].paragraphs[0][:120])}</p></div>" for i in a.latest)
    body = "".join(f"<p>{_esc(p)}</p>" for p in a.paragraphs)
    when = f'<time datetime="{a.published.isoformat()}">{a.published:%B %-d, %Y %H:%M} UTC</time>'
    if a.modified != a.published:
        when += f' · Updated <time datetime="{a.modified.isoformat()}">{a.modified:%B %-d, %Y %H:%M}</time>'
    icons = "".join(f'<a class="{c["share"]}-{s}" href="#"><svg viewBox="0 0 24 24"><path d="M{len(s)} 2'
                    + " l3.5 2.1 c1.2 .8 2 2.1 2 3.6" * 12 + f'z"/></svg>{s}</a>' for s in ("Facebook", "X", "Email"))
    ad = f'<div class="ad-slot" data-slot="/{zlib.crc32(o.name.encode())}/article" style="min-height:250px"></div>'
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_esc(a.title)} | {o.name}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="canonical" href="{url}">'
        f'<meta property="og:type" content="article"><meta property="og:title" content="{_esc(a.title)}">'
        f'<meta property="og:url" content="{url}"><meta property="og:site_name" content="{o.name}">'
        f'<meta property="og:description" content="{lead}"><meta name="author" content="{a.author}">'
        f'<script type="application/ld+json">{ld}</script>{o.head}'
        f'<script>window.dataLayer=[{{"pageType":"article","section":"{a.section}","id":"{a.doc_id}"}}];</script>'
        f'</head><body class="{c["page"]}"><div class="{c["cookie"]}" role="dialog"><p>We use cookies to '
        "personalise content and ads and to analyse our traffic.</p><button>Accept all</button>"
        f'<button>Manage settings</button></div><header class="{c["header"]}"><a href="{o.prefix}/">{o.name}</a>'
        f'<nav class="{c["nav"]}"><ul>{o.nav}</ul></nav><nav class="drawer" hidden><ul>{o.nav}</ul></nav></header>'
        f'{ad}<main><article class="{c["article"]}"><h1 class="{c["headline"]}">{_esc(a.title)}</h1>'
        f'<div class="{c["meta"]}"><span class="{c["byline"]}">By {a.author}</span> {when}</div>'
        f'<div class="{c["share"]}">{icons}</div><div class="{c["body"]}" itemprop="articleBody">{body}</div>'
        f'</article><aside class="{c["related"]}"><h2>Related</h2><ul>{related}</ul></aside>'
        f'<section class="{c["comments"]}" id="comments"><h2>Comments</h2><p>Join the conversation. '
        f'Comments are moderated.</p><button>Load comments</button></section></main><aside class="{c["sidebar"]}">'
        f"<h2>Most read</h2><ol>{most}</ol>{ad}</aside><aside><h2>More from {o.name}</h2>{teasers}</aside>"
        f'<footer class="{c["footer"]}"><ul>{o.footer}</ul><p>© 2013 {o.name}. All rights reserved.</p>'
        "</footer></body></html>"
    ).encode()


def _render_feed(o: Outlet, section: str, arts: list[Article]) -> bytes:
    items = sorted((a for a in arts if a.outlet == o.index and a.section == section), key=lambda a: a.modified,
                   reverse=True)
    title, home = f"{o.name} - {section.title()}", f"{BASE_URL}{o.prefix}/{section}/"
    built = items[0].modified if items else START
    if o.atom:
        entries = "".join(
            f'<entry><title>{_esc(a.title)}</title><link href="{BASE_URL}{a.path}"/><id>{BASE_URL}{a.path}</id>'
            f"<published>{a.published.isoformat()}</published><updated>{a.modified.isoformat()}</updated>"
            f"<author><name>{a.author}</name></author><summary>{_esc(a.paragraphs[0][:200])}</summary></entry>"
            for a in items)
        return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{title}'
                f'</title><id>{home}</id><link href="{home}"/><updated>{built.isoformat()}</updated>{entries}'
                "</feed>").encode()
    entries = "".join(
        f"<item><title>{_esc(a.title)}</title><link>{BASE_URL}{a.path}</link>"
        f'<guid isPermaLink="false">{o.prefix[1:]}-{a.doc_id.removesuffix(".xml")}</guid>'
        f"<pubDate>{email.utils.format_datetime(a.modified)}</pubDate>"
        f"<description>{_esc(a.paragraphs[0][:200])}</description></item>" for a in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>{home}</link><description>Latest {section} news</description>"
            f"<lastBuildDate>{email.utils.format_datetime(built)}</lastBuildDate>{entries}</channel></rss>").encode()


def _assemble(outlets: list[Outlet], arts: list[Article], hosts: int) -> Corpus:
    routes: list[dict[str, tuple[bytes, str]]] = [{} for _ in range(hosts)]
    feeds = []
    for o in outlets:
        for s in SECTIONS:
            routes[o.host][f"{o.prefix}/{s}.xml"] = (_render_feed(o, s, arts), ATOM if o.atom else RSS)
            feeds.append((o.host, f"{o.prefix}/{s}.xml"))
    for a in arts:
        routes[outlets[a.outlet].host][a.path] = (_render_page(outlets[a.outlet], a, arts), HTML)
    return Corpus(routes, feeds, [(outlets[a.outlet].host, a.path) for a in arts],
                  {a.path: a.story for a in arts}, outlets, arts)


def build_corpus(docs_path: Path = DEFAULT_DATA, *, outlets: int = 50, hosts: int = 10, wire_share: float = 0.5,
                 seed: int = 7, max_docs: int | None = None) -> Corpus:
    """The crawl of every ECB+ document, or (`max_docs`) of the first whole stories holding at most that many."""
    if not docs_path.is_file():
        raise FileNotFoundError(f"ECB+ documents not found at {docs_path}: the corpus is built from them "
                                "(expected ../shared/data/ecbplus_docs.jsonl beside the repository)")
    rng = random.Random(seed)
    docs = [json.loads(line) for line in docs_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if max_docs is not None:
        docs = _whole_stories(docs, max_docs)
    outs = [_make_outlet(i, hosts, rng) for i in range(outlets)]
    story_time = {s: START + timedelta(hours=rng.uniform(0, 144)) for s in sorted({d["story"] for d in docs})}
    arts: list[Article] = []
    used: set[str] = set()

    def add(doc: dict, outlet: int, title: str, paras: list[str], author: str, when: datetime, wire: bool) -> None:
        slug = text_slug(title, 8) or "story"
        path = f"/o{outlet}/{when:%Y/%m/%d}/{slug}.html"
        n = 1
        while path in used:
            n += 1
            path = f"/o{outlet}/{when:%Y/%m/%d}/{slug}-{n}.html"
        used.add(path)
        arts.append(Article(doc["doc_id"], doc["story"], outlet, path, rng.choice(SECTIONS), title, tuple(paras),
                            author, when, when, wire))

    for doc in docs:
        title, paras = _split(doc["text"])
        when = (story_time[doc["story"]] + timedelta(minutes=rng.randrange(18 * 60))).replace(second=0, microsecond=0)
        outlet = rng.randrange(outlets)
        add(doc, outlet, title, paras, rng.choice(PEOPLE), when, False)
        if rng.random() < wire_share and outlets > 1:
            other = (outlet + 1 + rng.randrange(outlets - 1)) % outlets
            wtitle, wparas, agency = _wire_edit(arts[-1], rng)
            add(doc, other, wtitle, wparas, agency, when + timedelta(minutes=rng.randrange(20, 480)), True)
    by_outlet: dict[int, list[int]] = {}
    for i, a in enumerate(arts):
        by_outlet.setdefault(a.outlet, []).append(i)
    for i, a in enumerate(arts):
        own = [j for j in by_outlet[a.outlet] if j != i]
        same = [j for j in own if arts[j].story[:-1] == a.story[:-1]] or own  # same ECB+ topic first
        arts[i] = replace(a, related=tuple(rng.sample(same, min(3, len(same)))),
                          most_read=tuple(rng.sample(own, min(rng.randrange(8, 11), len(own)))),
                          latest=tuple(rng.sample(own, min(12, len(own)))))
    return _assemble(outs, arts, hosts)


def _whole_stories(docs: list[dict], limit: int) -> list[dict]:
    """The documents of the first stories (in file order) that fit in `limit`: a story is never cut, so the
    stories' gold stays whole."""
    sizes: dict[str, int] = {}
    for doc in docs:
        sizes[doc["story"]] = sizes.get(doc["story"], 0) + 1
    kept, total = set(), 0
    for story, n in sizes.items():
        if total + n <= limit:
            kept.add(story)
            total += n
    return [doc for doc in docs if doc["story"] in kept]


def updated(corpus: Corpus, share: float = 0.05, seed: int = 8) -> Corpus:
    """A copy where `share` of the pages got a paragraph added or changed, later dateModified and feed dates."""
    rng = random.Random(seed)
    arts, hosts = list(corpus.articles), [dict(routes) for routes in corpus.hosts]
    changed = sorted(rng.sample(range(len(arts)), round(share * len(arts))))
    for i in changed:
        a, paras = arts[i], list(arts[i].paragraphs)
        later = a.modified + timedelta(minutes=rng.randrange(30, 600))
        note = f"Update {later:%H:%M} UTC: officials gave new details on {later:%A}, {rng.choice(PEOPLE)} reports."
        if rng.random() < 0.5 or len(paras) < 2:
            paras.append(note)
        else:
            paras[-1] = paras[-1] + " " + note
        arts[i] = replace(a, paragraphs=tuple(paras), modified=later)
    for i in changed:
        o = corpus.outlets[arts[i].outlet]
        hosts[o.host][arts[i].path] = (_render_page(o, arts[i], arts), HTML)
    for o in (corpus.outlets[n] for n in sorted({arts[i].outlet for i in changed})):
        for s in SECTIONS:
            hosts[o.host][f"{o.prefix}/{s}.xml"] = (_render_feed(o, s, arts), ATOM if o.atom else RSS)
    return replace(corpus, hosts=hosts, articles=arts)


class RequestLog:
    """When each host received each request of `agent` (a User-Agent prefix: newsmon's, not the floor's, which
    fetches without spacing), by the kernel's receive stamp (`Request.received_at`): the spacing newsmon kept per
    host. Stamped when the handler thread got to it, as before, gaps came out short (0.08-0.3 s) whenever one of the
    bench's ~350 server threads was late, under load."""

    def __init__(self, agent: str = "") -> None:
        self.agent = agent
        self._arrivals: dict[tuple[int, str], list[tuple[float, str]]] = {}  # (pass, host) -> (arrival, path)
        self._pass = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> None:
        if not request.headers.get("User-Agent", "").startswith(self.agent):
            return
        host = urlsplit(request.origin).hostname or ""
        with self._lock:
            self._arrivals.setdefault((self._pass, host), []).append((request.received_at, request.path))

    def next_pass(self) -> None:
        """Requests from here on belong to the next pass: the spacing holds within a pass (its one fetcher), and the
        bench starts a pass right after the one before, whose last requests may still be in flight."""
        with self._lock:
            self._pass += 1

    def ends(self) -> tuple[float, list[tuple[float, int, str]]] | None:
        """The current pass's last request (s since the epoch), and for its hosts with the most requests their last
        request, request count and host, last first: whether politeness on a few busy hosts sets the pass's end."""
        with self._lock:
            current = {host: arrivals for (n, host), arrivals in self._arrivals.items() if n == self._pass}
        if not current:
            return None
        busiest = sorted(current.items(), key=lambda item: -len(item[1]))[:5]
        last = max(at for arrivals in current.values() for at, _ in arrivals)
        return last, sorted(((max(at for at, _ in arrivals), len(arrivals), host) for host, arrivals in busiest),
                            reverse=True)

    def _pairs(self) -> list[tuple[float, str, str, str]]:
        """(gap in s, host, earlier path, later path) of consecutive requests to one host within one pass."""
        with self._lock:
            ordered = {key: sorted(arrivals) for key, arrivals in self._arrivals.items()}
        return [(b - a, host, pa, pb) for (_, host), arrivals in ordered.items()
                for (a, pa), (b, pb) in pairwise(arrivals)]

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests to the same host within one pass, all hosts together."""
        return [gap for gap, *_ in self._pairs()]

    def summary(self, spacing: float) -> str:
        pairs = self._pairs()
        if not pairs:
            return "no host received two requests"
        gaps = [gap for gap, *_ in pairs]
        short = sum(g < spacing for g in gaps)
        hosts = {host for _, host in self._arrivals}
        shortest, host, earlier, later = min(pairs)
        return (f"{len(gaps) + len(self._arrivals)} requests to {len(hosts)} hosts; shortest gap between "
                f"two requests to one host {shortest:.3f} s ({host}: {earlier} then {later}); {short} of "
                f"{len(gaps)} gaps under {spacing:g} s ({sum(g < 0.8 * spacing for g in gaps)} under "
                f"{0.8 * spacing:g} s)")


def serve(host: str, routes: dict[str, tuple[bytes, str]], latency: float = 0.0,
          log: RequestLog | None = None) -> LoopbackServer:
    """A started loopback server on host:0 answering from `routes` as it is at request time, after `latency` s,
    each request noted in `log` when given.

    ETag (CRC-32 of the body) and Last-Modified (when this server first served that body) give 304s."""
    seen: dict[str, tuple[str, float]] = {}
    lock = threading.Lock()

    def answer(request: Request) -> Response:
        if log is not None:  # first: the body's work below (a 2 MB page's CRC) would delay its time, not the next's
            log(request)
        path = request.route
        body, ctype = routes.get(path, (b"", ""))
        if not body:
            return Response(404, content_type=None)
        body = body.replace(BASE, request.origin.encode())
        etag = f'"{zlib.crc32(body):08x}"'
        with lock:
            old = seen.get(path)
            if old is None or old[0] != etag:
                seen[path] = (etag, max(float(int(time.time())), old[1] + 1 if old else 0.0))
            stamp = seen[path][1]
        return Response(200, body, ctype, etag=etag, last_modified=datetime.fromtimestamp(stamp, UTC))

    return LoopbackServer(host, answer, latency=latency).start()


def serve_trickling_feed(host: str, seconds: float) -> LoopbackServer:
    """A feed that takes `seconds` to answer, trickling its bytes, listing one article of its own host; polled
    again with its ETag, it answers 304 at once (an idle pass is one where every feed answers 304)."""
    page = (b"<!DOCTYPE html><html lang='en'><head><title>Late news</title></head><body><article><h1>Late news</h1>"
            + b"<p>The slow outlet finally published its report on the storm that hit the coast on Monday.</p>" * 8
            + b"</article></body></html>")

    def answer(request: Request) -> Response:
        if request.path.startswith("/late.html"):
            return Response(200, page, HTML)
        feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Slow outlet</title>'
                f"<item><title>Late news</title><link>{request.origin}/late.html</link><guid>late</guid></item>"
                "</channel></rss>").encode()
        return Response(200, feed, RSS, etag='"late"', pieces=20, chunk_delay=seconds / 20)

    return LoopbackServer(host, answer).start()


REAL_PAGES = Path(__file__).resolve().parent / "data" / "dates" / "real"


def real_page_site(path: str) -> str:
    """The site a real page came from, by its file name: `goose-businessWeek2` -> businessWeek,
    `htmldate-beltz.de.12wege` -> beltz.de, `newspaper4k-cnn_001` -> cnn."""
    name = path.rsplit("/", 1)[-1].removesuffix(".html").split("-", 1)[-1]
    if name.count(".") >= 2:
        return ".".join(name.split(".")[:2])
    return re.sub(r"[_\d]+$", "", name) or name


def serve_real_pages(
    host: str, *, dated: bool = True, host_per_site: bool = False
) -> tuple[list[LoopbackServer], str, list[str]]:
    """The real pages of bench/data/dates/real (German, English, French, ... news and blog pages of many kinds;
    see ATTRIBUTION.md there) on one host, at URLs without a day, listed by one RSS feed (without dates when not
    `dated`: the page's own day is then stored, as bench/dates.py measures). With `host_per_site` each site's pages
    are served from a loopback address of their own (127.0.8.N; `real_page_site`), as each outlet is a host of its
    own on the web: on one host, the default spacing of 0.5 s alone makes their fetch take ~53 s. Returns the
    servers (the feed's first), the feed's URL and the pages' URLs (`/real/<file name without .html.gz>.html`)."""
    import gzip

    routes = {f"/real/{f.name.removesuffix('.html.gz')}.html": (gzip.decompress(f.read_bytes()), HTML)
              for f in sorted(REAL_PAGES.glob("*.html.gz"))}
    if host_per_site:
        sites = sorted({real_page_site(path) for path in routes})
        servers = {site: serve(f"127.0.8.{i + 1}", {p: r for p, r in routes.items() if real_page_site(p) == site})
                   for i, site in enumerate(sites)}
        page_urls = [servers[real_page_site(p)].url(p) for p in routes]
        feed = serve(host, {"/real/feed.xml": (_real_feed(page_urls, dated), RSS)})
        return [feed, *servers.values()], feed.url("/real/feed.xml"), page_urls
    # Dated within the crawl's days: a page dated by its own (2010s) day, or undated and taken as fetched today,
    # would move the story clusterer's clock years past the ECB+ articles and close all their stories.
    routes["/real/feed.xml"] = (_real_feed([BASE_URL + path for path in routes], dated), RSS)
    server = serve(host, routes)
    return [server], server.url("/real/feed.xml"), [server.url(p) for p in routes if p.endswith(".html")]


def _real_feed(links: list[str], dated: bool) -> bytes:
    published = f"<pubDate>{email.utils.format_datetime(START + timedelta(days=3))}</pubDate>" if dated else ""
    items = "".join(f"<item><title>{_esc(urlsplit(link).path)}</title><link>{_esc(link)}</link>"
                    f"<guid>{_esc(urlsplit(link).path)}</guid>{published}</item>" for link in links)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Real pages</title>'
            f"<link>{BASE_URL}/real/</link>{items}</channel></rss>").encode()


def urls(paths: list[tuple[int, str]], servers: list[LoopbackServer]) -> list[str]:
    """Absolute URLs of (host index, path) pairs on the running servers."""
    return [servers[h].url(p) for h, p in paths]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--outlets", type=int, default=50)
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--wire-share", type=float, default=0.5)
    args = ap.parse_args()
    started = time.perf_counter()
    corpus = build_corpus(args.data, outlets=args.outlets, hosts=args.hosts, wire_share=args.wire_share)
    built = time.perf_counter() - started
    sizes = [len(corpus.hosts[h][p][0]) / 1024 for h, p in corpus.page_paths]
    wires = sum(a.wire for a in corpus.articles)
    total = sum(len(b) for routes in corpus.hosts for b, _ in routes.values()) / 2**20
    print(f"pages {len(sizes)} ({len(sizes) - wires} originals, {wires} wire copies), feeds {len(corpus.feed_paths)}"
          f", outlets {len(corpus.outlets)} on {len(corpus.hosts)} hosts, stories {len(set(corpus.gold.values()))}")
    print(f"page size: mean {statistics.mean(sizes):.0f} KB, median {statistics.median(sizes):.0f} KB, "
          f"min {min(sizes):.0f} KB, max {max(sizes):.0f} KB; total {total:.1f} MB; built in {built:.2f} s")


if __name__ == "__main__":
    main()
