"""Article extraction: text without page furniture, metadata, charsets, canonical URLs."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsmon.extract.article import ExtractionError, content_hash, decode_html, extract_article, page_metadata
from newsmon.extract.urls import BadURL, canonical_url, check_http_url
from tests.site import PARAGRAPHS, article_page

URL = "https://news.example.org/2026/02/03/budget.html?utm_source=rss"


def test_main_text_without_navigation_sidebar_or_footer() -> None:
    article = extract_article(article_page("Council passes budget", PARAGRAPHS), URL)
    assert article.title == "Council passes budget"
    assert "$2.5 billion" in article.text and "12 percent" in article.text
    for furniture in ("Aomori", "Kazakh", "Most read", "Contact", "Business"):
        assert furniture not in article.text
    assert not article.text.startswith("Council passes budget")  # the title has its own column
    assert article.language == "en"
    assert article.canonical_url == "https://news.example.org/2026/02/03/budget.html"
    assert article.page_date is not None and article.page_date.value.date() == datetime(2026, 2, 3).date()


def test_same_site_canonical_is_used_and_tracking_stripped() -> None:
    page = article_page("A", PARAGRAPHS, canonical="/budget-story?utm_medium=feed&id=7#top")
    article = extract_article(page, URL)
    assert article.canonical_url == "https://news.example.org/budget-story?id=7"


def test_canonical_on_another_site_is_ignored() -> None:
    page = article_page("A", PARAGRAPHS, canonical="https://wire.example.com/original")
    assert extract_article(page, URL).canonical_url == "https://news.example.org/2026/02/03/budget.html"


def test_page_labelled_latin1_but_utf8() -> None:
    page = article_page("Görgün speaks", [p + " Görgün said." for p in PARAGRAPHS])
    article = extract_article(page, URL, declared_charset="iso-8859-1")
    assert "Görgün" in article.text


def test_page_in_latin1_labelled_utf8() -> None:
    page = article_page("Café society", [p + " Le café était plein." for p in PARAGRAPHS])
    latin = page.decode("utf-8").replace('<meta charset="utf-8">', "").encode("latin-1")
    article = extract_article(latin, URL, declared_charset="utf-8")
    assert "café était" in article.text


def test_meta_charset_used_when_no_header() -> None:
    html = article_page("Ελλάδα", [p + " Η Ελλάδα." for p in PARAGRAPHS]).decode()
    html = html.replace('<meta charset="utf-8">', '<meta charset="iso-8859-7">')
    article = extract_article(html.encode("iso-8859-7"), URL)
    assert "Η Ελλάδα" in article.text


def test_binary_and_empty_pages_are_errors() -> None:
    with pytest.raises(ExtractionError) as err:
        extract_article(b"\x00\x01\x02\x03" * 100, URL)
    assert err.value.code == "binary_body"
    with pytest.raises(ExtractionError) as err:
        extract_article(b"<html><body><nav>Home</nav></body></html>", URL)
    assert err.value.code == "no_text"


def test_decode_prefers_valid_utf8() -> None:
    assert decode_html("naïve".encode(), "windows-1252") == "naïve"


def test_content_hash_ignores_spacing_and_case() -> None:
    assert content_hash("Hello   World\n") == content_hash("hello world")
    assert content_hash("Hello world") != content_hash("Hello there world")


def test_canonical_url_keeps_meaningful_query() -> None:
    assert canonical_url("HTTP://Example.COM:80/a?story=1&utm_source=x#frag") == "http://example.com/a?story=1"
    assert canonical_url("http://example.com/a?story=1") != canonical_url("http://example.com/a?story=2")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://x.org/a",
        "file:///etc/passwd",
        "mailto:a@b.c",
        "not a url",
        "",
        None,
        "http:///nohost",
        "data:text/html,hi",
    ],
)
def test_bad_links(url: str | None) -> None:
    with pytest.raises(BadURL):
        check_http_url(url)


def test_future_page_date_is_clamped_by_resolution() -> None:
    from newsmon.extract.dates import PageDate, resolve_published_at

    now = datetime(2026, 2, 3, 12, tzinfo=UTC)
    value, source = resolve_published_at(None, PageDate(datetime(2027, 1, 1, tzinfo=UTC), "json-ld"), now)
    assert (value, source) == (now, "json-ld")


@pytest.mark.parametrize(
    ("feed_date", "page_day_read"),
    [(datetime(2026, 2, 3, 9, tzinfo=UTC), False), (None, True), (datetime(1970, 1, 1, tzinfo=UTC), True)],
)
def test_page_day_is_read_only_when_the_feed_date_does_not_win(feed_date: datetime | None, page_day_read: bool) -> None:
    from newsmon.ingest.articles import FetchedPage, PageJob, build_article_batch, extract_pages
    from newsmon.ingest.http import FetchResult
    from newsmon.model import QueuedItem

    item = QueuedItem("https://news.example.org/feed.xml", "k", None, URL, "t", feed_date, None, datetime.now(UTC), 0)
    result = FetchResult(URL, status=200, body=article_page("Council passes budget", PARAGRAPHS))
    pages = [FetchedPage(PageJob(URL, [item]), result)]
    [article] = extracted = extract_pages(pages)
    assert article is not None and not isinstance(article, ExtractionError)
    assert (article.page_date is not None) == page_day_read
    [record] = build_article_batch(pages, extracted, run_id="r", now=datetime.now(UTC))[0].articles
    assert record.published_source == ("url" if page_day_read else "feed")


REAL_PAGES = sorted((Path(__file__).resolve().parents[1] / "bench" / "data" / "dates" / "real").glob("*.html.gz"))


def test_title_author_description_and_site_are_trafilaturas_on_real_pages() -> None:
    """`page_metadata` runs only the steps of trafilatura's `extract_metadata` that give the fields newsmon stores:
    on real pages of many sites and languages, each field is the one trafilatura's whole search gives."""
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    assert len(REAL_PAGES) > 100
    differing, with_author = [], 0
    for path in REAL_PAGES:
        url = f"https://{path.name.removesuffix('.html.gz')}.example.org/page.html"
        tree = load_html(decode_html(gzip.decompress(path.read_bytes())))
        ours, theirs = page_metadata(tree, url), extract_metadata(tree, url, {"extensive_search": False})
        fields = ("title", "author", "description", "sitename")
        if [getattr(ours, f) for f in fields] != [getattr(theirs, f) for f in fields]:
            differing.append(path.name)
        with_author += bool(ours.author)
    assert differing == []
    assert with_author > 20  # the pages exercise each step, the author's fallbacks too
