"""Stories on real dated multi-outlet news, ingested as a user would: BASIL served as pages and feeds on loopback,
read with `newsmon run`, scored from the database.

    python bench/basil_pages.py [--basil PATH] [--keep DIR] [--model FILE]

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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import ATOM, HTML, RSS, SECTIONS, Article, Outlet, _make_outlet, _render_feed, _render_page, _split, serve

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


def site(
    names: list[str], arts: list[Article], seed: int, listed: list[Article] | None = None
) -> tuple[list[Outlet], list[dict[str, tuple[bytes, str]]]]:
    """Outlets (the chrome of bench/corpus.py, one host each) and each host's routes: two feeds and the pages of
    the `listed` articles (default: all), whose sidebars may show any of `arts`."""
    rng = random.Random(seed)
    outlets = [replace(_make_outlet(i, len(names), rng), name=name) for i, name in enumerate(names)]
    routes: list[dict[str, tuple[bytes, str]]] = [{} for _ in outlets]
    listed = arts if listed is None else listed
    for o in outlets:
        for s in SECTIONS:
            routes[o.index][f"{o.prefix}/{s}.xml"] = (_render_feed(o, s, listed), ATOM if o.atom else RSS)
    for a in listed:
        routes[a.outlet][a.path] = (_render_page(outlets[a.outlet], a, arts), HTML)
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
    ap.add_argument("--keep", type=Path, help="directory to keep the store in (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=12, help="of the pages' chrome and minutes")
    ap.add_argument("--model", type=Path, help="story model file for newsmon (NEWSMON_STORY_MODEL); default: shipped")
    ap.add_argument("--fold", type=int, help="serve only the BASIL events of this fold of --folds")
    ap.add_argument("--folds", type=int, default=2)
    args = ap.parse_args(argv)
    if not args.basil.is_file():
        print(f"no data at {args.basil}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    names, arts = basil_articles(args.basil, rng)
    if args.seeds.is_dir():
        names += ["Seed Daily", "Anewz"]
        arts += seed_articles(args.seeds, len(names) - 2, rng)
    arts = with_sidebars(arts, rng)
    listed = arts
    if args.fold is not None:  # the sidebars still show the whole archive's headlines
        bench = _bench_stories()
        fold = bench.basil_folds(*bench.load_basil(args.basil), args.folds)
        listed = [a for a in arts if fold.get(a.story, args.fold) == args.fold]
    outlets, routes = site(names, arts, args.seed, listed)
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
          f"model {args.model or 'shipped'}{'' if args.fold is None else f', fold {args.fold} of {args.folds}'}; "
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
