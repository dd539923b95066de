"""Publication dates (extract/dates.py): htmldate on the page without its chrome, then on the whole page; our
rules; the stored source; real pages never below htmldate; `newsmon reextract` reads the date again."""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import lxml.html
import pytest

from newsmon.extract.article import decode_html
from newsmon.extract.dates import PageDate, find_page_date, resolve_published_at
from newsmon.flows.reextract import reextract_all
from newsmon.model import WriteBatch
from newsmon.settings import Settings
from newsmon.storage.db import open_reader
from newsmon.storage.schema import MIGRATIONS, migrate
from newsmon.storage.writes import write_batch
from tests.cli import newsmon, query
from tests.site import Route, Site, rss, rss_item
from tests.test_storage import article as stored_article

URL = "http://127.0.0.1:8000/article/7"  # no date in it, as pages served on loopback
DAY = datetime(2024, 3, 5, tzinfo=UTC)
TEXT = "<p>The council voted on Tuesday to approve the budget after a long debate about schools and roads.</p>"

# Dates that are NOT the publication date, each in a place pages put them: the masthead's "today", a
# "most read" box, readers' comments, an archive menu and the copyright line.
CHROME = """
<header><div class="masthead-date">Friday, November 20, 2026</div></header>
<aside class="sidebar"><h3>Most read</h3><span class="date">Jan 15, 2024</span><span class="date">Feb 2, 2025</span>
<ul class="archive"><li>October 2025</li><li>September 2025</li></ul></aside>
<section class="comments"><span class="date">03/09/2024</span></section>
<footer><p>© 2025 Example News</p></footer>
"""


# What a page with no publication date may still carry: a copyright year and an archive menu of months.
UNDATED_CHROME = """
<aside class="sidebar"><ul class="archive"><li>October 2025</li><li>September 2025</li></ul></aside>
<footer><p>© 2025 Example News</p></footer>
"""
REAL = Path(__file__).resolve().parents[1] / "bench" / "data" / "dates"


def page(head: str = "", body: str = "", lang: str = "en", chrome: str = CHROME) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(
        f'<html lang="{lang}"><head><title>T</title>{head}</head><body>{chrome}<main>{body}</main></body></html>'
    )


def jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def day_and_source(found: PageDate | None) -> tuple[str, str] | None:
    return (found.value.date().isoformat(), found.source) if found is not None else None


def article(byline: str) -> str:
    return f"<article><h1>Council approves budget</h1><p class='byline'>{byline}</p>{TEXT}</article>"


# ---------------------------------------------------------------------------------------------
# structured evidence, named after the markup that states the day


def test_jsonld_date_is_the_day_the_page_states_named_json_ld() -> None:
    # 22:30 in New York is the 6th in UTC; the outlet's (and the reader's) day is the 5th
    head = jsonld({"@type": "NewsArticle", "datePublished": "2024-03-05T22:30:00-05:00",
                   "dateModified": "2024-03-07T08:00:00-05:00"})
    found = find_page_date(page(head, article("By Ann Lee")), URL)
    assert found == PageDate(datetime(2024, 3, 5, tzinfo=UTC), "json-ld")


def test_meta_published_time_named_meta() -> None:
    head = ('<meta property="article:published_time" content="2024-03-05T10:00:00+01:00">'
            '<meta property="article:modified_time" content="2024-03-08T10:00:00+01:00">')
    found = find_page_date(page(head, article("By Ann Lee · Updated March 8, 2024")), URL)
    assert found == PageDate(DAY, "meta")


def test_time_element_beats_masthead_and_sidebar_dates() -> None:
    # htmldate alone takes the masthead's or the sidebar's class="date" before the article's <time>.
    body = article('By Ann Lee · <time datetime="2024-03-05T10:00:00Z">March 5, 2024</time>')
    assert day_and_source(find_page_date(page(body=body), URL)) == ("2024-03-05", "time")


def test_update_labelled_time_is_passed_over() -> None:
    body = article('Updated <time datetime="2024-03-08T10:00:00Z">March 8</time> · '
                   'Published <time datetime="2024-03-05T10:00:00Z">March 5</time>')
    assert day_and_source(find_page_date(page(body=body), URL)) == ("2024-03-05", "time")


def test_byline_inside_the_article_footer_is_kept() -> None:
    # WordPress themes put "Posted on" in the article's own <footer>; only the site's footer is chrome.
    body = f"<article><h1>Budget</h1>{TEXT}<footer class='entry-meta'>Posted on March 5, 2024</footer></article>"
    found = find_page_date(page(body=body), URL)
    assert found is not None and found.value.date() == DAY.date() and found.source == "htmldate"


def test_a_header_holding_the_headline_is_not_chrome() -> None:
    body = f"<header class='article-header'><h1>Budget</h1><p class='byline'>By Ann Lee, March 5, 2024</p></header>{TEXT}"
    found = find_page_date(page(body=body), URL)
    assert found is not None and found.value.date() == DAY.date()


def test_canonical_permalink_day_unless_the_fetched_url_states_one() -> None:
    canonical = '<link rel="canonical" href="https://example.com/2024/03/05/budget/">'
    assert find_page_date(page(canonical, article("By Ann Lee")), URL) == PageDate(DAY, "url")
    # htmldate reads the canonical link only when it is given no URL: the fetched one goes when it has a day
    found = find_page_date(page(canonical, article("By Ann Lee")), "https://example.com/2024/03/04/budget")
    assert day_and_source(found) == ("2024-03-04", "url")


def test_day_in_the_url() -> None:
    found = find_page_date(page(body=article("By Ann Lee")), "https://example.com/2024/03/05/budget")
    assert found == PageDate(DAY, "url")


@pytest.mark.parametrize("placeholder", ["1970-01-01T00:00:00Z", "0000-00-00", "2199-12-31T00:00:00Z", "{{ date }}"])
def test_placeholder_dates_fall_out_and_the_byline_decides(placeholder: str) -> None:
    head = jsonld({"@type": "NewsArticle", "datePublished": placeholder})
    found = find_page_date(page(head, article("By Ann Lee | March 5, 2024 10:32 AM ET")), URL)
    assert found is not None and found.value.date() == DAY.date() and found.source == "htmldate"


# ---------------------------------------------------------------------------------------------
# no publication date: nothing rather than a wrong day


def test_copyright_year_and_archive_menu_only_give_no_date() -> None:
    assert find_page_date(page(body=article("By Ann Lee"), chrome=UNDATED_CHROME), URL) is None


def test_a_year_in_the_text_is_not_a_day() -> None:
    body = article("By Ann Lee").replace(TEXT, "<p>The plan, first drafted in 2019, was approved by the board.</p>")
    assert find_page_date(page(body=body, chrome=UNDATED_CHROME), URL) is None


def test_a_day_only_outside_the_article_is_htmldates_named_page() -> None:
    # What htmldate alone would store, kept (a missing day is as wrong as a wrong one on the real pages), but
    # named `page`, the weakest evidence, so analysts can filter it out.
    found = find_page_date(page(body=article("By Ann Lee")), URL)
    assert found is not None and found.source == "page"


def test_a_post_inside_a_widget_or_sidebar_block_keeps_its_date() -> None:
    # Blogger writes the post in <div class="widget Blog">; some themes in <div class="sidebar_content">
    for wrapper in ("widget Blog", "sidebar_content"):
        body = (f"<div class='{wrapper}'><h3>Council approves budget</h3>{TEXT * 3}"
                "<div class='post-footer'>Posted on March 5, 2024</div></div>")
        found = find_page_date(page(body=body, chrome=UNDATED_CHROME), URL)
        assert day_and_source(found) == ("2024-03-05", "htmldate"), wrapper


def test_an_aside_of_the_article_keeps_its_date() -> None:
    body = f"<article><h1>Budget</h1><aside class='blogData'><dl><dd>05.03.2024</dd></dl></aside>{TEXT}</article>"
    assert day_and_source(find_page_date(page(body=body, chrome=UNDATED_CHROME), URL)) == ("2024-03-05", "htmldate")


def test_a_last_modified_header_copied_into_the_page_is_not_the_publication_day() -> None:
    head = '<meta http-equiv="Last-Modified" content="2024-03-09">'
    body = article("By Ann Lee").replace("By Ann Lee", "Posted March 5, 2024")
    assert day_and_source(find_page_date(page(head, body, chrome=UNDATED_CHROME), URL)) == ("2024-03-05", "htmldate")


def test_a_wire_dateline_is_read() -> None:
    body = article("By Ann Lee").replace("<p>The council", "<p>WASHINGTON, Mar. 5, 2024 — The council")
    assert find_page_date(page(body=body, chrome=UNDATED_CHROME), URL) == PageDate(DAY, "byline")


def test_a_real_first_of_the_month_is_kept() -> None:
    head = '<meta property="article:published_time" content="2024-03-01">'
    assert find_page_date(page(head, article("By Ann Lee")), URL) == PageDate(datetime(2024, 3, 1, tzinfo=UTC), "meta")


# ---------------------------------------------------------------------------------------------
# bylines in other languages (dateparser, in the page's language)


@pytest.mark.parametrize(
    ("lang", "byline", "source"),
    [
        ("es", "Publicado el 5 de marzo de 2024 · Actualizado el 8 de marzo de 2024", "byline"),
        ("it", "Pubblicato il 5 marzo 2024", "byline"),
        ("nl", "Gepubliceerd op 5 maart 2024", "byline"),
        ("pt", "Publicado em 5 de março de 2024", "byline"),
        ("fr", "Publié le 5 mars 2024, mis à jour le 8 mars 2024", "htmldate"),  # htmldate reads French itself
    ],
)
def test_byline_in_the_page_language(lang: str, byline: str, source: str) -> None:
    assert find_page_date(page(body=article(byline), lang=lang), URL) == PageDate(DAY, source)


def test_caller_tree_is_left_intact() -> None:
    tree = page(body=article("By Ann Lee | March 5, 2024"))
    before = lxml.html.tostring(tree)
    find_page_date(tree, URL)
    assert lxml.html.tostring(tree) == before


# ---------------------------------------------------------------------------------------------
# resolve_published_at: what is stored, with its source

FETCHED = datetime(2026, 2, 10, 12, tzinfo=UTC)


def test_feed_date_wins() -> None:
    feed = datetime(2026, 2, 3, 10, tzinfo=UTC)
    assert resolve_published_at(feed, PageDate(datetime(2026, 2, 1, tzinfo=UTC), "json-ld"), FETCHED) == (feed, "feed")


def test_page_date_and_its_evidence_when_the_feed_has_none() -> None:
    value = datetime(2026, 2, 3, 7, tzinfo=UTC)
    assert resolve_published_at(None, PageDate(value, "json-ld"), FETCHED) == (value, "json-ld")


def test_no_date_at_all_is_recorded_as_none() -> None:
    assert resolve_published_at(None, None, FETCHED) == (None, "none")


def test_future_dates_are_clamped_to_fetch_time() -> None:
    future = FETCHED + timedelta(days=3)
    assert resolve_published_at(future, None, FETCHED) == (FETCHED, "feed")
    assert resolve_published_at(None, PageDate(future, "url"), FETCHED) == (FETCHED, "url")


def test_naive_values_are_utc_and_offsets_converted() -> None:
    value, source = resolve_published_at(datetime(2026, 2, 3, 10), None, datetime(2026, 2, 10, 12))
    assert (value, source) == (datetime(2026, 2, 3, 10, tzinfo=UTC), "feed")
    value, _ = resolve_published_at(datetime(2026, 2, 3, 10, tzinfo=timezone(timedelta(hours=3))), None, FETCHED)
    assert value == datetime(2026, 2, 3, 7, tzinfo=UTC) and value.utcoffset() == timedelta(0)


def test_placeholder_feed_date_falls_back_to_the_page() -> None:
    page_value = PageDate(DAY, "meta")
    assert resolve_published_at(datetime(1970, 1, 1, tzinfo=UTC), page_value, FETCHED) == (DAY, "meta")


# ---------------------------------------------------------------------------------------------
# migration 6: old rows get the kind of evidence their exact tag belonged to


def test_migration_6_names_old_sources_by_kind(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "news.duckdb"))
    con.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL)"
    )
    for version, description, sql in MIGRATIONS:  # a store that has every migration but 6 (7 came first)
        if version != 6:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, description])
    old = ["page:jsonld", "page:jsonld:dateModified", "page:meta:article:published_time",
           "page:itemprop:datePublished", "page:time[pubdate]", "page:url", "page:htmldate", "feed", "none"]
    for n, source in enumerate(old):
        con.execute(
            "INSERT INTO articles (article_id, url, canonical_url, published_source, text, content_hash, version,"
            " fetched_at, updated_at, extractor_version) VALUES (?, 'u', 'u', ?, 't', 'h', 1, now(), now(), 'x')",
            [f"a{n}", source],
        )
    assert migrate(con) == [6]
    rows = con.execute("SELECT published_source FROM articles ORDER BY article_id").fetchall()
    assert [r[0] for r in rows] == ["json-ld", "json-ld", "meta", "meta", "time", "url", "htmldate", "feed", "none"]
    con.close()


# ---------------------------------------------------------------------------------------------
# the development set of bench/dates.py


def test_development_set_is_complete() -> None:
    root = Path(__file__).resolve().parents[1] / "bench" / "data" / "dates"
    pages = [json.loads(line) for line in (root / "expected.jsonl").read_text().splitlines()]
    assert len(pages) >= 300
    assert all((root / p["path"]).is_file() for p in pages)
    sources = {"basil", "htmldate-tests", "newspaper4k-tests", "goose-tests", "polnear-heldout"}
    assert {p["source"] for p in pages} >= sources
    assert sum(p["family"] == "real" for p in pages) >= 107
    assert sum(p["expected"] is None for p in pages) >= 20  # pages whose right answer is no date


# ---------------------------------------------------------------------------------------------
# storage: the source follows the date it names


def test_an_updated_article_that_gains_its_first_date_gains_its_source(tmp_path: Path) -> None:
    db = tmp_path / "news.duckdb"
    undated = replace(stored_article("First text."), published_at=None, published_source="none")
    write_batch(db, WriteBatch(articles=[undated]), lock_timeout=5)
    dated = replace(stored_article("Second text, corrected."), published_at=DAY, published_source="json-ld",
                    fetched_at=undated.fetched_at + timedelta(hours=1))
    write_batch(db, WriteBatch(articles=[dated]), lock_timeout=5)
    later = replace(stored_article("Third text."), published_at=DAY + timedelta(days=1), published_source="htmldate",
                    fetched_at=undated.fetched_at + timedelta(hours=2))
    write_batch(db, WriteBatch(articles=[later]), lock_timeout=5)
    with open_reader(db) as con:
        row = con.execute("SELECT published_at, published_source, version FROM articles").fetchall()[0]
    assert row == (DAY, "json-ld", 3)  # the first date found is kept, with its own source


# ---------------------------------------------------------------------------------------------
# real pages (bench/data/dates/real): never below htmldate alone


def test_real_pages_never_below_htmldate_alone() -> None:
    from htmldate import find_date

    rows = [json.loads(line) for line in (REAL / "expected.jsonl").read_text().splitlines()]
    real = [r for r in rows if r["family"] == "real"]
    ours = theirs = 0
    for n, row in enumerate(real):
        html = decode_html(gzip.decompress((REAL / row["path"]).read_bytes()))
        found = find_page_date(lxml.html.fromstring(html), f"http://127.0.0.1:8000/article/{n}")
        ours += (found.value.date().isoformat() if found else None) == row["expected"]
        theirs += find_date(html, extensive_search=True, original_date=True) == row["expected"]
    assert len(real) >= 107 and ours >= theirs


def test_real_pages_through_newsmon_run_store_the_day_they_state(db_path: Path) -> None:
    """As the issue measured: a feed without dates, URLs without a day, `newsmon run`; the stored day and its
    evidence. The pages: a byline only (Business Insider), a French "Publié le" beside an update (Le Figaro),
    a Korean 기사입력 line (Donga) and a page whose only year is its copyright line (MSN)."""
    rows = {json.loads(line)["path"]: json.loads(line) for line in (REAL / "expected.jsonl").read_text().splitlines()}
    names = ["goose-businessinsider2", "goose-lefigaro", "goose-donga_korean", "goose-msn1"]
    with Site() as site:
        for n, name in enumerate(names):
            body = gzip.decompress((REAL / "real" / f"{name}.html.gz").read_bytes())
            site.add(f"/article/{n}", Route(200, body, "text/html"))
        items = [rss_item(f"Page {n}", site.url(f"/article/{n}")) for n in range(len(names))]
        site.add("/feed.xml", Route(200, rss(items), "application/rss+xml"))
        assert newsmon(db_path, "feeds", "add", site.url("/feed.xml")).exit_code == 0
        result = newsmon(db_path, "run")
        assert result.exit_code == 0, result.output
        stored = query(db_path, "SELECT i.link, CAST(a.published_at AS VARCHAR) AS day, a.published_source AS source"
                                " FROM items i JOIN articles a USING (article_id)")
    by_page = {names[int(r["link"].rsplit("/", 1)[1])]: (r["day"], r["source"]) for r in stored}
    expected = {name: rows[f"real/{name}.html.gz"]["expected"] for name in names}
    assert {name: day[:10] if day else None for name, (day, _) in by_page.items()} == expected
    assert by_page["goose-msn1"] == (None, "none")  # a copyright year is not a publication day
    assert all(day is None or day[11:] == "00:00:00+00" for day, _ in by_page.values())  # the day, at 00:00 UTC


# ---------------------------------------------------------------------------------------------
# newsmon reextract reads the page's date again (a feed's date stays)


def test_reextract_reads_the_page_date_again_and_keeps_a_feeds(tmp_path: Path) -> None:
    db = tmp_path / "news.duckdb"
    html = lxml.html.tostring(page(jsonld({"@type": "NewsArticle", "datePublished": "2024-03-05T10:00:00Z"}),
                                   article("By Ann Lee")))
    stale = DAY + timedelta(days=300)  # what an older extractor read on the same page
    from_page = replace(stored_article(TEXT, article_id="p1"), published_at=stale, published_source="htmldate",
                        html_zlib=zlib.compress(html), fetched_at=DAY + timedelta(days=400))
    from_feed = replace(from_page, article_id="f1", url="http://x.org/f1", canonical_url="http://x.org/f1",
                        published_at=stale, published_source="feed")
    write_batch(db, WriteBatch(articles=[from_page, from_feed]), lock_timeout=5)
    assert reextract_all(Settings(db=db)).pages == 2
    with open_reader(db) as con:
        rows = con.execute("SELECT article_id, published_at, published_source FROM articles ORDER BY 1").fetchall()
    assert rows == [("f1", stale, "feed"), ("p1", DAY, "json-ld")]
