"""Stories on real dated multi-outlet news, ingested as a user would: BASIL served as pages and feeds on loopback,
read with `newsmon run`, scored from the database.

    python bench/basil_pages.py [--basil PATH] [--keep DIR] [--model FILE] [--fold K] [--outlets N] [--no-seeds]

With `--model FILE` (a model file of `bench/train_stories.py --only ecb --out FILE`, given to newsmon as
NEWSMON_STORY_MODEL) the stories are built by a model that never saw BASIL: the held-out figure. Without it, by
the shipped model, which was trained on BASIL among other sets. With `--fold K` only the BASIL events of fold K
(bench/stories.py --cv's folds) are served: with `--model` of `bench/train_stories.py --fold K --out FILE`, a
model of the shipped design learned on everything else (ECB+ and BASIL's other folds) meets events it never saw.

Each of BASIL's 300 articles (100 real events, each reported by Fox News, The New York Times and HuffPost in
their own framing, 2010-2019; ../shared/data/ATTRIBUTION.md) becomes an HTML page of its outlet, with the
chrome of bench/corpus.py's crawl: nav, cookie banner, scripts, a related box, "Most read" and "More from" the
outlet (the headlines of the outlet's twelve reports nearest in time: the sidebars of the week's other news),
comments stub, footer. Each outlet is one loopback host with two feeds (RSS, or Atom for one outlet) giving
each item its real publication date. The two January 2026 seed reports are served too, by two more outlets.

With `--outlets N` (default 3: each report on its own publisher's site, as above) the 300 reports are spread over N
outlets instead (e.g. 100: about three pages each, as in a stream of many outlets), each event's three reports on
three different outlets (the least used first, ties at random), each outlet its own loopback host with a template
of its own (`Chrome`: class names, nav words, where the sidebars sit, their headings, the cookie and comments
wording), and each page's sidebars hold the headlines of the archive's reports nearest in time, whichever outlet
published them (other events only: the week's other news). An outlet then has too few pages for the clusterer's
per-outlet boilerplate memory to learn its sidebars. Deterministic by `--seed`. `--no-seeds` serves BASIL alone:
the seed reports, dated 2026, had frozen stories-2.3's clock for the whole pass and hidden how it split a backlog
(stories/README.md, "The clock of a backlog").

`newsmon run` (no Prefect server configured: it starts a temporary one) ingests all feeds into a fresh store;
the script then prints the B-cubed P/R/F1 of the stored stories against BASIL's events (one story = the reports
of one event; BASIL's reports of one event are at most a few days apart) and whether the two seed reports are
one story that nothing else joined.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import (
    ATOM,
    BASE_URL,
    HTML,
    PAPERS,
    PLACES,
    RSS,
    SECTIONS,
    Article,
    Outlet,
    _esc,
    _make_outlet,
    _render_feed,
    _render_page,
    _split,
    serve,
)

from newsmon.demo.server import LoopbackServer, stop_all
from newsmon.text import slug as text_slug

SHARED = Path(__file__).resolve().parents[2] / "shared"
BASIL = SHARED / "data" / "basil_docs.jsonl"
SEEDS = SHARED / "seeds"
OUTLET_NAMES = {"fox": "Fox News", "nyt": "The New York Times", "hpo": "HuffPost"}
SIDEBAR = 12  # headlines in "More from"; "Most read" holds 8-10 of them
SEED_NOON = 12  # the seed reports' hour: seed 000 states only its day


def _bench_stories() -> ModuleType:
    # bench/stories.py under its own name ("stories" names the package elsewhere): its B-cubed scorer.
    path = Path(__file__).resolve().parent / "stories.py"
    spec = importlib.util.spec_from_file_location("newsmon_bench_stories", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _host(i: int) -> str:
    return f"127.0.4.{10 + i}"  # one loopback address per outlet, apart from bench/ingest.py's 127.0.0.x


def basil_articles(path: Path, rng: random.Random) -> tuple[list[str], list[Article]]:
    """BASIL as articles of its three outlets (names, articles): noon of the publication day plus a few minutes,
    paragraphs as in the data set, sidebars of the outlet's reports nearest in time."""
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    outlets = sorted({r["outlet"] for r in recs})
    arts = []
    for r in sorted(recs, key=lambda r: (r["date"], r["id"])):
        when = datetime.fromisoformat(r["date"]).replace(hour=12, tzinfo=UTC) + timedelta(minutes=rng.randrange(240))
        paras = tuple(p.strip() for p in r["text"].split("\n") if p.strip())
        arts.append(_article(r["id"], "basil-" + r["story"], outlets.index(r["outlet"]), r["title"], paras, when, rng))
    return [OUTLET_NAMES.get(o, o) for o in outlets], arts


def seed_articles(path: Path, first_outlet: int, rng: random.Random) -> list[Article]:
    """The two January 2026 reports, each on an outlet of its own: seed 000 (no headline: its first words) as
    published on its day, seed 001 (headline, then the body with the unrelated teasers the page had) 3 h later."""
    files = sorted(path.glob("*.txt"))
    first = files[0].read_text(encoding="utf-8")
    m = re.match(r"\s*date (\d{4}-\d{2}-\d{2})\s*", first)
    day = datetime.fromisoformat(m.group(1)) if m else datetime(2026, 1, 31)
    when = day.replace(hour=SEED_NOON, tzinfo=UTC)
    title0, paras0 = _split(first[m.end() if m else 0 :])
    title1, _, body1 = files[1].read_text(encoding="utf-8").partition("\n")
    paras1 = [p.strip() for p in body1.split("\n") if p.strip()]
    return [
        _article("seed-000", "seeds", first_outlet, title0, tuple(paras0), when, rng),
        _article("seed-001", "seeds", first_outlet + 1, title1.strip(), tuple(paras1), when + timedelta(hours=3), rng),
    ]


def _article(
    doc_id: str, story: str, outlet: int, title: str, paras: tuple[str, ...], when: datetime, rng: random.Random
) -> Article:
    slug = text_slug(title, 8) or "story"
    path = f"/o{outlet}/{when:%Y/%m/%d}/{slug}-{doc_id[-6:]}.html"
    author = rng.choice(("Anna Smith", "James Okafor", "Maria Lopez", "David Chen", "Sarah Kim", "Tom Walsh"))
    return Article(doc_id, story, outlet, path, rng.choice(SECTIONS), title, paras, author, when, when, False)


def with_sidebars(arts: list[Article], rng: random.Random) -> list[Article]:
    """Each page's "More from" box: the outlet's SIDEBAR reports nearest in time (before or after: an archive page
    shows what surrounded it); "Most read" 8-10 of them, "Related" 3."""
    by_outlet: dict[int, list[int]] = {}
    for i, a in enumerate(arts):
        by_outlet.setdefault(a.outlet, []).append(i)
    out = list(arts)
    for i, a in enumerate(arts):
        own = sorted((j for j in by_outlet[a.outlet] if j != i),
                     key=lambda j: (abs((arts[j].published - a.published).total_seconds()), j))[:SIDEBAR]
        most_read = rng.sample(own, min(rng.randrange(8, 11), len(own)))
        out[i] = replace(a, related=tuple(own[:3]), most_read=tuple(most_read), latest=tuple(own))
    return out


MOST_READ = ("Most read", "Most popular", "Trending now", "Top stories", "Popular this week",
             "What readers are reading")
MORE_FROM = ("More from {name}", "Latest news", "Editor's picks", "You may also like", "Around {name}",
             "Recommended for you", "In other news")
RELATED = ("Related", "Related coverage", "Read more", "See also", "More on this topic", "Further reading")
COOKIES = (
    "We use cookies to personalise content and ads and to analyse our traffic.",
    "This site uses cookies. By continuing to browse you agree to our use of cookies.",
    "We and our partners store and access information on your device to measure audiences and show ads.",
    "Your privacy matters to us: choose which cookies you accept.",
)
COMMENTS = (
    "Join the conversation. Comments are moderated.",
    "Share your thoughts below; please keep it civil.",
    "Comments are open for 48 hours after publication.",
    "Sign in to leave a comment.",
)
RAILS = ("after", "before", "inside")  # where the sidebar column sits: after <main>, before it, inside the article


@dataclass(frozen=True)
class Chrome:
    """One outlet's page layout around the article, beyond bench/corpus.py's class names, nav and footer."""

    rail: str  # one of RAILS
    related_inside: bool  # the Related box inside <article> after the body, else an <aside> after the article
    most_read: str
    more_from: str
    related: str
    cookie: str
    comments: str
    snippets: bool  # "More from" teasers show the report's first 120 characters


def make_chrome(name: str, rng: random.Random) -> Chrome:
    return Chrome(rng.choice(RAILS), rng.random() < 0.5, rng.choice(MOST_READ), rng.choice(MORE_FROM).format(name=name),
                  rng.choice(RELATED), rng.choice(COOKIES), rng.choice(COMMENTS), rng.random() < 0.5)


def outlet_names(n: int, rng: random.Random) -> list[str]:
    """N distinct newspaper names ("The Bay Herald"): no two outlets share a name, so none share chrome lines."""
    pool = [f"The {place} {paper}" for place, paper in product(PLACES, PAPERS)]
    if n > len(pool):
        raise ValueError(f"at most {len(pool)} outlets")
    return rng.sample(pool, n)


def spread_over_outlets(arts: list[Article], n: int, rng: random.Random) -> list[Article]:
    """Each event's reports on distinct outlets of N, the least used first (ties at random): every outlet gets
    about len(arts) / N pages, and no outlet covers an event twice."""
    used = [0] * n
    moved: dict[int, int] = {}
    by_story: dict[str, list[int]] = {}
    for i, a in enumerate(arts):  # in date order: an event's turn comes with its first report
        by_story.setdefault(a.story, []).append(i)
    for members in by_story.values():
        if len(members) > n:
            raise ValueError(f"{len(members)} reports of one event need at least as many outlets")
        chosen = sorted(range(n), key=lambda o: (used[o], rng.random()))[: len(members)]
        for i, o in zip(members, chosen, strict=True):
            moved[i] = o
            used[o] += 1
    return [replace(a, outlet=moved[i], path=f"/o{moved[i]}" + a.path.removeprefix(f"/o{a.outlet}"))
            for i, a in enumerate(arts)]


def with_nearby_sidebars(arts: list[Article], rng: random.Random) -> list[Article]:
    """Each page's sidebars from the whole archive: the SIDEBAR reports of other events nearest in time,
    whichever outlet published them (on a site of three pages, "the week's other news" is mostly other sites'
    headlines); "Most read" 8-10 of them, "Related" 3."""
    out = list(arts)
    for i, a in enumerate(arts):
        near = sorted((j for j, b in enumerate(arts) if b.story != a.story),
                      key=lambda j: (abs((arts[j].published - a.published).total_seconds()), j))[:SIDEBAR]
        most_read = rng.sample(near, min(rng.randrange(8, 11), len(near)))
        out[i] = replace(a, related=tuple(near[:3]), most_read=tuple(most_read), latest=tuple(near))
    return out


def render_styled_page(o: Outlet, chrome: Chrome, a: Article, arts: list[Article]) -> bytes:
    """A page like bench/corpus.py's, laid out by the outlet's `chrome`."""
    c, url = o.cls, BASE_URL + a.path
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": a.title, "url": url,
                     "datePublished": a.published.isoformat(), "dateModified": a.modified.isoformat(),
                     "author": {"@type": "Person", "name": a.author}, "mainEntityOfPage": url,
                     "publisher": {"@type": "Organization", "name": o.name}}).replace("</", "<\\/")
    links = "".join(f'<li><a href="{arts[i].path}">{_esc(arts[i].title)}</a></li>' for i in a.related)
    related = f'<div class="{c["related"]}"><h2>{chrome.related}</h2><ul>{links}</ul></div>'
    most = "".join(f'<li><span>{n}</span><a href="{arts[i].path}">{_esc(arts[i].title)}</a></li>'
                   for n, i in enumerate(a.most_read, 1))
    img = f"/img/{zlib.crc32(a.path.encode()):08x}"
    teasers = "".join(
        f'<div class="{c["teaser"]}"><a href="{arts[i].path}"><img src="{img}-{i}.jpg" alt="" loading="lazy" '
        f'width="320" height="180"><h3>{_esc(arts[i].title)}</h3></a>'
        + (f"<p>{_esc(arts[i].paragraphs[0][:120])}</p>" if chrome.snippets else "") + "</div>" for i in a.latest)
    rail = (f'<aside class="{c["sidebar"]}"><h2>{chrome.most_read}</h2><ol>{most}</ol></aside>'
            f'<aside class="{c["teaser"]}-list"><h2>{chrome.more_from}</h2>{teasers}</aside>')
    body = "".join(f"<p>{_esc(p)}</p>" for p in a.paragraphs)
    when = f'<time datetime="{a.published.isoformat()}">{a.published:%B %-d, %Y %H:%M} UTC</time>'
    article = (f'<article class="{c["article"]}"><h1 class="{c["headline"]}">{_esc(a.title)}</h1>'
               f'<div class="{c["meta"]}"><span class="{c["byline"]}">By {a.author}</span> {when}</div>'
               f'<div class="{c["body"]}" itemprop="articleBody">{body}</div>'
               + (related if chrome.related_inside else "") + (rail if chrome.rail == "inside" else "") + "</article>"
               + ("" if chrome.related_inside else f"<aside>{related}</aside>"))
    main = (f'<main>{article}<section class="{c["comments"]}" id="comments"><h2>Comments</h2><p>{chrome.comments}'
            "</p><button>Load comments</button></section></main>")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_esc(a.title)} | {o.name}</title>'
        f'<link rel="canonical" href="{url}"><meta property="og:type" content="article">'
        f'<meta property="og:title" content="{_esc(a.title)}"><meta property="og:url" content="{url}">'
        f'<meta property="og:site_name" content="{o.name}"><meta name="author" content="{a.author}">'
        f'<script type="application/ld+json">{ld}</script>{o.head}</head><body class="{c["page"]}">'
        f'<div class="{c["cookie"]}" role="dialog"><p>{chrome.cookie}</p><button>Accept all</button></div>'
        f'<header class="{c["header"]}"><a href="{o.prefix}/">{o.name}</a><nav class="{c["nav"]}"><ul>{o.nav}</ul>'
        f"</nav></header>{rail if chrome.rail == 'before' else ''}{main}{rail if chrome.rail == 'after' else ''}"
        f'<footer class="{c["footer"]}"><ul>{o.footer}</ul><p>© {a.published:%Y} {o.name}. All rights reserved.</p>'
        "</footer></body></html>"
    ).encode()


def site(
    names: list[str], arts: list[Article], seed: int, listed: list[Article] | None = None, styled: bool = False
) -> tuple[list[Outlet], list[dict[str, tuple[bytes, str]]]]:
    """Outlets (the chrome of bench/corpus.py, one host each) and each host's routes: two feeds and the pages of
    the `listed` articles (default: all), whose sidebars may show any of `arts`. `styled`: each outlet's pages
    laid out by a `Chrome` of its own (render_styled_page)."""
    rng = random.Random(seed)
    outlets = [replace(_make_outlet(i, len(names), rng), name=name) for i, name in enumerate(names)]
    chromes = [make_chrome(name, rng) for name in names] if styled else []
    routes: list[dict[str, tuple[bytes, str]]] = [{} for _ in outlets]
    listed = arts if listed is None else listed
    for o in outlets:
        for s in SECTIONS:
            routes[o.index][f"{o.prefix}/{s}.xml"] = (_render_feed(o, s, listed), ATOM if o.atom else RSS)
    for a in listed:
        o = outlets[a.outlet]
        page = render_styled_page(o, chromes[o.index], a, arts) if styled else _render_page(o, a, arts)
        routes[a.outlet][a.path] = (page, HTML)
    return outlets, routes


def stored_stories(db: Path) -> dict[str, str]:
    """Page path -> story id, from the store (read-only)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT url, story_id FROM articles WHERE story_id IS NOT NULL").fetchall()
    return {urlsplit(url).path: sid for url, sid in rows}


def newsmon(db: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """`newsmon --db DB ARGS` as a user runs it (its own process); exits on failure with its output."""
    exe = Path(sys.executable).with_name("newsmon")
    # The outlets are on loopback, which newsmon refuses unless allowed.
    env = {**os.environ, "NEWSMON_ALLOW_NETWORKS": "127.0.0.0/8", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           **(env or {})}
    proc = subprocess.run([str(exe), "--db", str(db), *args], capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        tail = proc.stdout[-2000:] + proc.stderr[-2000:]
        sys.exit(f"newsmon {' '.join(args[:2])} failed ({proc.returncode}):\n{tail}")
    return proc.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--basil", type=Path, default=BASIL)
    ap.add_argument("--seeds", type=Path, default=SEEDS)
    ap.add_argument("--no-seeds", action="store_true",
                    help="serve BASIL alone: the seed reports' 2026 dates froze stories-2.3's clock for the whole pass")
    ap.add_argument("--keep", type=Path, help="directory to keep the store in (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=12, help="of the pages' chrome and minutes")
    ap.add_argument("--model", type=Path, help="story model file for newsmon (NEWSMON_STORY_MODEL); default: shipped")
    ap.add_argument("--fold", type=int, help="serve only the BASIL events of this fold of --folds")
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--outlets", type=int, default=len(OUTLET_NAMES),
                    help="spread BASIL's reports over this many outlets, each with its own template (default: its 3)")
    args = ap.parse_args(argv)
    if not args.basil.is_file():
        print(f"no data at {args.basil}", file=sys.stderr)
        return 2
    if not len(OUTLET_NAMES) <= args.outlets <= len(PLACES) * len(PAPERS):
        print(f"--outlets: between {len(OUTLET_NAMES)} and {len(PLACES) * len(PAPERS)}", file=sys.stderr)
        return 2
    many = args.outlets != len(OUTLET_NAMES)
    rng = random.Random(args.seed)
    names, arts = basil_articles(args.basil, rng)
    if many:
        names = outlet_names(args.outlets, rng)
        arts = spread_over_outlets(arts, args.outlets, rng)
    if args.seeds.is_dir() and not args.no_seeds:
        names += ["Seed Daily", "Anewz"]
        arts += seed_articles(args.seeds, len(names) - 2, rng)
    arts = with_nearby_sidebars(arts, rng) if many else with_sidebars(arts, rng)
    listed = arts
    if args.fold is not None:  # the sidebars still show the whole archive's headlines
        bench = _bench_stories()
        fold = bench.basil_folds(*bench.load_basil(args.basil), args.folds)
        listed = [a for a in arts if fold.get(a.story, args.fold) == args.fold]
    outlets, routes = site(names, arts, args.seed, listed, styled=many)
    gold = {a.path: a.story for a in listed}
    servers: list[LoopbackServer] = [serve(_host(o.index), routes[o.index]) for o in outlets]
    directory = args.keep or Path(tempfile.mkdtemp(prefix="basil-pages-"))
    try:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            db = directory / "basil.duckdb"
            feeds = [servers[o.index].url(f"{o.prefix}/{s}.xml") for o in outlets for s in SECTIONS]
            newsmon(db, "feeds", "add", *feeds)
            started = time.perf_counter()
            model = {"NEWSMON_STORY_MODEL": str(args.model.resolve())} if args.model else {}
            out = newsmon(db, "run", env=model)
            seconds = time.perf_counter() - started
        finally:
            stop_all(servers)
        return _report(out, db, gold, args, seconds)
    finally:
        if args.keep is None:  # a temporary store (~25 MB a run) goes with the run; --keep DIR keeps one
            shutil.rmtree(directory, ignore_errors=True)


def _report(out: str, db: Path, gold: dict[str, str], args: argparse.Namespace, seconds: float) -> int:
    print("\n".join(line for line in out.splitlines() if line.startswith(("feeds:", "articles:", "stories:"))))
    stored = stored_stories(db)
    basil = {path: sid for path, sid in stored.items() if gold.get(path, "").startswith("basil-")}
    p, r, f1 = _bench_stories().bcubed(basil, gold)
    pages = sum(g.startswith("basil-") for g in gold.values())
    print(f"BASIL as pages through `newsmon run`: {len(basil)}/{pages} pages stored with a story, "
          f"{len(set(basil.values()))} stories for {len({gold[p] for p in basil})} events; "
          f"{args.outlets} outlets; model {args.model or 'shipped'}"
          f"{'' if args.fold is None else f', fold {args.fold} of {args.folds}'}; "
          f"B-cubed P {p:.3f} R {r:.3f} F1 {f1:.3f} (pass {seconds:.0f} s"
          f"{f'; store {db}' if args.keep else ''})")
    seeds = sorted(path for path, story in gold.items() if story == "seeds")
    if seeds:
        ids = {stored.get(path) for path in seeds}
        members = sorted(path for path, sid in stored.items() if sid in ids)
        ok = len(ids) == 1 and None not in ids and members == seeds
        print(f"seeds: {'ok' if ok else 'FAIL'} ({len(ids)} stories, {len(members)} reports in them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
