"""Publication-date evidence on hand-written pages (extract/dates.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import lxml.html
import pytest

from newsmon.extract.dates import PageDate, find_page_date, parse_date, resolve_published_at

URL = "https://news.example.com/world/some-story"  # no date in it unless a test says so
DAY = datetime(2026, 2, 3, tzinfo=UTC)


def page(head: str = "", body: str = "") -> lxml.html.HtmlElement:
    return lxml.html.fromstring(f"<html><head><title>T</title>{head}</head><body>{body}</body></html>")


def jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


# Visible text full of dates that are NOT the publication date: a naive text scan would take one.
NOISE = """
<header><time datetime="2026-11-20">Friday, November 20, 2026</time></header>
<aside class="sidebar"><p>Updated 2026-02-05</p><time datetime="2026-01-15">Jan 15</time></aside>
<footer><p>© 2025 Example News</p><p>Copyright 1999-2025</p></footer>
"""


# ---------------------------------------------------------------------------------------------
# parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-03T10:00:00Z", datetime(2026, 2, 3, 10, tzinfo=UTC)),
        ("2026-02-03T10:00:00+03:00", datetime(2026, 2, 3, 7, tzinfo=UTC)),
        ("2026-02-03T10:00:00.123+0300", datetime(2026, 2, 3, 7, 0, 0, 123000, tzinfo=UTC)),
        ("2026-02-03 10:00:00 -05:00", datetime(2026, 2, 3, 15, tzinfo=UTC)),
        ("2026-02-03T10:00:00", datetime(2026, 2, 3, 10, tzinfo=UTC)),  # naive = UTC
        ("2026-02-03", DAY),
        ("20260203", DAY),
        ("2026/02/03", DAY),
        ("Tue, 03 Feb 2026 10:00:00 GMT", datetime(2026, 2, 3, 10, tzinfo=UTC)),
        ("Tue, 03 Feb 2026 10:00:00 +0100", datetime(2026, 2, 3, 9, tzinfo=UTC)),
        ("Tue, 03 Feb 2026 10:00:00 EST", datetime(2026, 2, 3, 15, tzinfo=UTC)),
        ("February 3, 2026", DAY),
        ("3 February 2026", DAY),
        ("Feb 3, 2026 10:30 PM PST", datetime(2026, 2, 4, 6, 30, tzinfo=UTC)),
        ("Published: February 3, 2026 at 10:30 am", datetime(2026, 2, 3, 10, 30, tzinfo=UTC)),
        ("03.02.2026", DAY),  # dotted = day first
        ("3.2.2026", DAY),
        ("1770112800", datetime(2026, 2, 3, 10, tzinfo=UTC)),  # Unix seconds
        ("1770112800000", datetime(2026, 2, 3, 10, tzinfo=UTC)),  # Unix milliseconds
        ("  2026-02-03T10:00:00Z\n ", datetime(2026, 2, 3, 10, tzinfo=UTC)),
        ("3. Februar 2026", DAY),  # other languages through dateparser, the last resort
    ],
)
def test_parse_date_formats(text: str, expected: datetime) -> None:
    result = parse_date(text)
    assert result == expected
    assert result is not None and result.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "null",
        "undefined",
        "Invalid Date",
        "0000-00-00",
        "0000-00-00T00:00:00Z",
        "1970-01-01T00:00:00Z",  # epoch zero: a CMS placeholder
        "1994-12-31",  # before the news web
        "2150-01-01",  # absurd
        "2026-02-30",
        "February 2026",  # no day
        "10:30",
        "{{ post.date }}",
        "not a date",
    ],
)
def test_parse_date_refuses_garbage(text: str) -> None:
    assert parse_date(text) is None


# ---------------------------------------------------------------------------------------------
# JSON-LD


def test_jsonld_beats_visible_dates_and_converts_offset() -> None:
    tree = page(
        jsonld(
            {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": "Story",
                "datePublished": "2026-02-03T10:15:00+03:00",
                "dateModified": "2026-02-05T08:00:00+03:00",
            }
        )
        + '<meta property="article:modified_time" content="2026-02-05T08:00:00Z">',
        NOISE + "<article><h1>Story</h1><p>Text.</p></article>",
    )
    assert find_page_date(tree, URL) == PageDate(datetime(2026, 2, 3, 7, 15, tzinfo=UTC), "jsonld")


def test_jsonld_graph_prefers_the_article_about_this_url() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Organization", "name": "Example", "foundingDate": "1998-01-01"},
            {
                "@type": "ItemList",
                "itemListElement": [
                    {
                        "@type": "NewsArticle",
                        "url": "https://news.example.com/other",
                        "datePublished": "2026-01-20",
                    }
                ],
            },
            {"@type": "WebPage", "@id": URL, "url": URL, "datePublished": "2026-02-03T09:00:00Z"},
            {
                "@type": "Article",
                "@id": URL + "#article",
                "mainEntityOfPage": {"@id": URL},
                "datePublished": "2026-02-03T09:00:00+00:00",
            },
        ],
    }
    found = find_page_date(page(jsonld(graph)), URL)
    assert found == PageDate(datetime(2026, 2, 3, 9, tzinfo=UTC), "jsonld")


def test_jsonld_top_level_list_and_type_list() -> None:
    data = [
        {"@type": "BreadcrumbList", "itemListElement": []},
        {"@type": ["ReportageNewsArticle"], "datePublished": "2026-02-03T12:00:00-05:00"},
    ]
    found = find_page_date(page(jsonld(data)), URL)
    assert found == PageDate(datetime(2026, 2, 3, 17, tzinfo=UTC), "jsonld")


def test_jsonld_outer_article_beats_nested_related_articles() -> None:
    data = {
        "@type": "BlogPosting",
        "datePublished": "2026-02-03",
        "hasPart": [{"@type": "NewsArticle", "datePublished": "2025-06-01"}],
    }
    assert find_page_date(page(jsonld(data)), URL) == PageDate(DAY, "jsonld")


def test_jsonld_date_created_when_no_date_published() -> None:
    data = {"@type": "NewsArticle", "dateCreated": "2026-02-03T08:00:00Z", "dateModified": "2026-02-09"}
    found = find_page_date(page(jsonld(data)), URL)
    assert found == PageDate(datetime(2026, 2, 3, 8, tzinfo=UTC), "jsonld:dateCreated")


def test_jsonld_date_modified_only_as_last_structured_resort() -> None:
    data = {"@type": "NewsArticle", "dateModified": "2026-02-04T08:00:00Z"}
    found = find_page_date(page(jsonld(data)), URL)
    assert found == PageDate(datetime(2026, 2, 4, 8, tzinfo=UTC), "jsonld:dateModified")
    # ...but any publication evidence, even a weak <time>, is preferred to it
    tree = page(jsonld(data), '<article><time datetime="2026-02-03">Feb 3</time></article>')
    assert find_page_date(tree, URL) == PageDate(DAY, "time[datetime]")


def test_jsonld_ignores_images_and_garbage_values() -> None:
    data = {
        "@type": "NewsArticle",
        "datePublished": "0000-00-00T00:00:00Z",
        "image": {"@type": "ImageObject", "datePublished": "2019-05-05"},
    }
    head = jsonld(data) + '<meta property="article:published_time" content="2026-02-03T06:00:00Z">'
    found = find_page_date(page(head), URL)
    assert found == PageDate(datetime(2026, 2, 3, 6, tzinfo=UTC), "meta:article:published_time")


def test_jsonld_broken_json_still_read() -> None:
    broken = (
        '<script type="application/ld+json">\n<!--\n{"@type": "NewsArticle",\n'
        '"headline": "line\nbreak", "datePublished": "2026-02-03T10:00:00Z",}\n-->\n</script>'
    )
    found = find_page_date(page(broken), URL)
    assert found == PageDate(datetime(2026, 2, 3, 10, tzinfo=UTC), "jsonld")


# ---------------------------------------------------------------------------------------------
# meta tags


@pytest.mark.parametrize(
    ("attr", "name", "source"),
    [
        ("property", "article:published_time", "meta:article:published_time"),
        ("property", "og:published_time", "meta:og:published_time"),
        ("name", "pubdate", "meta:pubdate"),
        ("name", "publishdate", "meta:publishdate"),
        ("name", "date", "meta:date"),
        ("name", "DC.date.issued", "meta:DC.date.issued"),
        ("name", "dcterms.created", "meta:dcterms.created"),
        ("name", "sailthru.date", "meta:sailthru.date"),
        ("name", "parsely-pub-date", "meta:parsely-pub-date"),
        ("name", "citation_publication_date", "meta:citation_publication_date"),
        ("itemprop", "datePublished", "meta:datePublished"),
    ],
)
def test_meta_sources(attr: str, name: str, source: str) -> None:
    tree = page(f'<meta {attr}="{name}" content="2026-02-03T10:00:00+01:00">', NOISE)
    assert find_page_date(tree, URL) == PageDate(datetime(2026, 2, 3, 9, tzinfo=UTC), source)


def test_meta_priority_is_by_tag_not_document_order() -> None:
    head = (
        '<meta name="date" content="2026-01-01">'
        '<meta name="pubdate" content="not a date">'
        '<meta property="article:published_time" content="2026-02-03">'
    )
    assert find_page_date(page(head), URL) == PageDate(DAY, "meta:article:published_time")


def test_meta_modified_alone_is_a_last_resort() -> None:
    tree = page('<meta property="article:modified_time" content="2026-02-04T00:00:00Z">')
    found = find_page_date(tree, URL)
    assert found == PageDate(datetime(2026, 2, 4, tzinfo=UTC), "meta:article:modified_time")


def test_itemprop_on_time_element() -> None:
    body = NOISE + '<div><span>By Ann</span><time itemprop="datePublished" datetime="2026-02-03T10:00Z">'
    body += "3 Feb</time></div>"
    found = find_page_date(page(body=body), URL)
    assert found == PageDate(datetime(2026, 2, 3, 10, tzinfo=UTC), "itemprop:datePublished")


# ---------------------------------------------------------------------------------------------
# <time>


def test_time_pubdate() -> None:
    body = NOISE + '<div><time pubdate datetime="2026-02-03T10:00:00+03:00">3 Feb</time></div>'
    found = find_page_date(page(body=body), URL)
    assert found == PageDate(datetime(2026, 2, 3, 7, tzinfo=UTC), "time[pubdate]")


def test_time_published_class() -> None:
    body = (
        NOISE + '<div class="entry-meta"><time class="updated" datetime="2026-02-06">Feb 6</time>'
        '<time class="entry-date published" datetime="2026-02-03T10:00:00Z">Feb 3</time></div>'
    )
    found = find_page_date(page(body=body), URL)
    assert found == PageDate(datetime(2026, 2, 3, 10, tzinfo=UTC), "time.published")


def test_first_time_in_article_skips_update_labels_and_asides() -> None:
    body = (
        NOISE + "<article><aside><time datetime='2026-01-01'>Related</time></aside>"
        "<p class='meta'>Updated: <time datetime='2026-02-05T10:00:00Z'>Feb 5</time></p>"
        "<p>Posted <time datetime='2026-02-03T10:00:00Z'>Feb 3</time></p>"
        "<time datetime='2026-02-07'>later</time></article>"
    )
    found = find_page_date(page(body=body), URL)
    assert found == PageDate(datetime(2026, 2, 3, 10, tzinfo=UTC), "time[datetime]")


def test_time_of_the_headline_article_not_of_menu_teasers() -> None:
    body = (
        "<nav><article><h3>Teaser</h3><time datetime='2026-01-10'>Jan 10</time></article></nav>"
        "<article class='teaser'><h2>Other</h2><time datetime='2026-01-11'>Jan 11</time></article>"
        "<article><h1>Story</h1><time datetime='2026-02-03T10:00:00Z'>Feb 3</time></article>"
    )
    found = find_page_date(page(body=body), URL)
    assert found == PageDate(datetime(2026, 2, 3, 10, tzinfo=UTC), "time[datetime]")


def test_masthead_time_outside_article_is_not_taken_for_the_byline() -> None:
    # Only the header's "today" <time> exists: not trusted; the URL is.
    body = '<header><time datetime="2026-11-20">Today</time></header><main><p>Text</p></main>'
    found = find_page_date(page(body=body), "https://example.com/2026/02/03/story")
    assert found == PageDate(DAY, "url")


# ---------------------------------------------------------------------------------------------
# URL


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/2026/02/03/story-title/",
        "https://example.com/news/2026/2/3/story",
        "https://example.com/20260203/story.html",
        "https://example.com/news/story-20260203.html",
        "https://example.com/news/2026-02-03/story",
        "https://example.com/news/story-title-2026-02-03",
        "https://example.com/a/2026_02_03_story",
    ],
)
def test_url_only_dates(url: str) -> None:
    assert find_page_date(page(body="<p>No dates here at all.</p>"), url) == PageDate(DAY, "url")


def test_url_numbers_that_are_not_dates() -> None:
    tree = page(body="<p>No dates here at all.</p>")
    # article ids, a 9-digit number, an impossible month and a year-month only
    for url in (
        "https://example.com/story/123456789",
        "https://example.com/a/202602031/x",
        "https://example.com/2026/13/03/x",
        "https://example.com/2026/02/story",
        "https://example.com/2026/02/5-things-to-know/",  # year/month permalink, numeric slug
    ):
        assert find_page_date(tree, url) is None


def test_canonical_url_date_when_fetched_url_has_none() -> None:
    head = '<link rel="canonical" href="https://example.com/2026/02/03/story">'
    assert find_page_date(page(head), "https://feeds.example.net/~r/abc/123") == PageDate(DAY, "url")


def test_relative_canonical_url_date() -> None:
    head = '<link rel="canonical" href="/politics/2026/02/03/story/">'
    assert find_page_date(page(head), "https://example.com/amp/abc") == PageDate(DAY, "url")


def test_url_day_overrides_disagreeing_metadata() -> None:
    # A template that stamps every page with the same datePublished, or an update leaking into it.
    tree = page(jsonld({"@type": "NewsArticle", "datePublished": "2026-02-20T10:00:00Z"}))
    assert find_page_date(tree, "https://example.com/2026/02/03/story") == PageDate(DAY, "url")


def test_url_day_within_a_day_keeps_the_precise_metadata() -> None:
    # 23:30 in New York on the 3rd is the 4th in UTC: same publication, keep the time.
    tree = page(jsonld({"@type": "NewsArticle", "datePublished": "2026-02-03T23:30:00-05:00"}))
    found = find_page_date(tree, "https://example.com/2026/02/03/story")
    assert found == PageDate(datetime(2026, 2, 4, 4, 30, tzinfo=UTC), "jsonld")


def test_slug_date_does_not_override_metadata() -> None:
    # A date inside the slug is often the event's, not the publication's.
    tree = page('<meta property="article:published_time" content="2026-02-03T10:00:00Z">')
    found = find_page_date(tree, "https://example.com/news/concert-on-2026-03-15")
    assert found == PageDate(datetime(2026, 2, 3, 10, tzinfo=UTC), "meta:article:published_time")


# ---------------------------------------------------------------------------------------------
# htmldate fallback and nothing found


def test_htmldate_fallback_on_visible_byline() -> None:
    body = (
        "<div class='story'><h1>Council approves budget</h1>"
        "<p class='byline'>By Jane Doe | February 3, 2026</p>"
        "<p>The council voted on Tuesday to approve the budget.</p></div>"
    )
    found = find_page_date(page(body=body), URL)
    assert found is not None
    assert found.source == "htmldate"
    assert found.value.date() == DAY.date()
    assert found.value.tzinfo is UTC


def test_nothing_found() -> None:
    assert find_page_date(page(body="<p>Hello, no date here.</p>"), URL) is None


def test_garbage_everywhere_gives_none() -> None:
    head = (
        jsonld({"@type": "NewsArticle", "datePublished": "null", "dateCreated": "1970-01-01T00:00:00Z"})
        + '<meta property="article:published_time" content="{{date}}">'
        '<meta name="date" content="0000-00-00">'
    )
    body = "<article><time datetime='invalid'>soon</time><p>Text only.</p></article>"
    assert find_page_date(page(head, body), URL) is None


def test_caller_tree_is_left_intact() -> None:
    tree = page(body=NOISE + "<p class='byline'>February 3, 2026</p><script>var x = 1;</script>")
    before = lxml.html.tostring(tree)
    find_page_date(tree, URL)
    assert lxml.html.tostring(tree) == before


# ---------------------------------------------------------------------------------------------
# resolve_published_at

FETCHED = datetime(2026, 2, 10, 12, tzinfo=UTC)


def test_feed_date_wins() -> None:
    feed = datetime(2026, 2, 3, 10, tzinfo=UTC)
    assert resolve_published_at(feed, PageDate(datetime(2026, 2, 1, tzinfo=UTC), "jsonld"), FETCHED) == (
        feed,
        "feed",
    )


def test_page_date_when_feed_has_none() -> None:
    value = datetime(2026, 2, 3, 7, tzinfo=UTC)
    assert resolve_published_at(None, PageDate(value, "jsonld"), FETCHED) == (value, "page:jsonld")


def test_no_date_at_all() -> None:
    assert resolve_published_at(None, None, FETCHED) == (None, "none")


def test_future_dates_are_clamped_to_fetch_time() -> None:
    future = FETCHED + timedelta(days=3)
    assert resolve_published_at(future, None, FETCHED) == (FETCHED, "feed")
    assert resolve_published_at(None, PageDate(future, "url"), FETCHED) == (FETCHED, "page:url")


def test_naive_values_are_utc_and_offsets_converted() -> None:
    naive_feed = datetime(2026, 2, 3, 10)
    value, source = resolve_published_at(naive_feed, None, datetime(2026, 2, 10, 12))
    assert (value, source) == (datetime(2026, 2, 3, 10, tzinfo=UTC), "feed")
    assert value is not None and value.tzinfo is UTC

    plus3 = timezone(timedelta(hours=3))
    value, _ = resolve_published_at(datetime(2026, 2, 3, 10, tzinfo=plus3), None, FETCHED)
    assert value == datetime(2026, 2, 3, 7, tzinfo=UTC)
    assert value is not None and value.utcoffset() == timedelta(0)


def test_placeholder_feed_date_falls_back_to_page() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    page_value = PageDate(DAY, "meta:article:published_time")
    assert resolve_published_at(epoch, page_value, FETCHED) == (DAY, "page:meta:article:published_time")
