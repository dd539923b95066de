"""The bundled demo news sites (newsmon.demo.sites): content, feeds, HTTP semantics, extraction."""

from __future__ import annotations

import html
import http.client
import multiprocessing
import os
import signal
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest
import trafilatura

from newsmon.demo.sites import DemoSites, SampleArticle
from tests.site import serve_stamps

SEED_000_SENTENCES = [
    "Türkiye's defense and aerospace exports soared 44.2% on an annual basis to a record high of $555.3 million",
    "This result is a tangible reflection of our high-value-added, advanced technology product portfolio",
    "More than 3,500 firms operate in the Turkish defense industry, boasting a workforce of about 100,000.",
]
SEED_001_SENTENCES = [
    "Turkish defence and aerospace exports see unprecedented increase in January",
    "hitting a record monthly high of more than $555 million as overseas demand for Turkish-built military",
    "“This result is a tangible reflection of our high value-added, advanced technology product portfolio",
    "this total included $9.87 billion in equipment sales and a further $184 million in related services.",
    # Page furniture of the same page (teasers, app promo, comments), verbatim too.
    "Aomori city in northern Japan recorded 167 centimetres of snow by Friday",
    "You can download the AnewZ application from Play Store and the App Store.",
    "Leave the first comment",
]


@pytest.fixture(scope="module")
def sites() -> Iterator[DemoSites]:
    """Shared, read-only instance. Tests that change content start their own."""
    with DemoSites() as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, trust_env=False) as c:
        yield c


def _clean(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _by_story(articles: list[SampleArticle]) -> dict[str, list[SampleArticle]]:
    groups: dict[str, list[SampleArticle]] = defaultdict(list)
    for article in articles:
        groups[article.story].append(article)
    return groups


def _seed_article(sites: DemoSites, outlet: str) -> SampleArticle:
    return next(a for a in sites.articles() if a.story == "turkiye-defense-exports" and a.outlet == outlet)


# Lifecycle and hosts --------------------------------------------------------------------------------------


def test_starts_and_stops_quickly() -> None:
    started = time.perf_counter()
    running = DemoSites()
    running.__enter__()
    start_time = time.perf_counter() - started
    feed_url = running.feed_urls[0]
    try:
        assert httpx.get(feed_url, trust_env=False).status_code == 200
    finally:
        stopping = time.perf_counter()
        running.__exit__(None, None, None)
        stop_time = time.perf_counter() - stopping
    # Budget is 0.2 s each; leave head-room for slow CI machines.
    assert start_time < 0.5
    assert stop_time < 0.5
    with pytest.raises(httpx.ConnectError):
        httpx.get(feed_url, trust_env=False)


def test_not_started_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = DemoSites().feed_urls


def test_every_outlet_is_its_own_host(sites: DemoSites) -> None:
    outlets = sites.outlets()
    assert len(outlets) == 6
    assert len({urlsplit(o.base_url).netloc for o in outlets}) == 6
    if sys.platform.startswith("linux"):  # the whole of 127/8 is bindable there
        assert [urlsplit(o.base_url).hostname for o in outlets] == [f"127.0.0.{n}" for n in range(11, 17)]
    assert sites.allowed_networks


def test_shared_address_fallback(client: httpx.Client) -> None:
    with DemoSites(host_addresses=False) as shared:
        hosts = {urlsplit(o.base_url).hostname for o in shared.outlets()}
        assert hosts == {"127.0.0.1"}
        assert len({urlsplit(o.base_url).port for o in shared.outlets()}) == 6
        assert client.get(shared.feed_urls[-1]).status_code == 200


# Feeds -------------------------------------------------------------------------------------------------


def test_feeds_parse_and_list_articles_newest_first(sites: DemoSites, client: httpx.Client) -> None:
    articles = sites.articles()
    formats = []
    for outlet in sites.outlets():
        response = client.get(outlet.feed_url)
        assert response.status_code == 200
        expected_type = "application/rss+xml" if outlet.feed_format == "rss" else "application/atom+xml"
        assert response.headers["content-type"] == f"{expected_type}; charset=utf-8"
        assert int(response.headers["content-length"]) == len(response.content)
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, (outlet.name, parsed.get("bozo_exception"))
        formats.append(parsed.version)
        own = [a for a in articles if a.outlet == outlet.name]
        assert [_clean(e.link) for e in parsed.entries] == [a.url for a in own]
        assert [a.published for a in own] == sorted((a.published for a in own), reverse=True)
        for entry, article in zip(parsed.entries, own, strict=True):
            assert entry.title == article.title
            assert entry.get("summary")
            assert bool(entry.get("published_parsed")) == article.has_feed_date
            assert entry.link == article.feed_link
    assert formats.count("rss20") >= 2
    assert formats.count("atom10") >= 2


def test_feed_variety(sites: DemoSites, client: httpx.Client) -> None:
    bodies = {o.name: client.get(o.feed_url).text for o in sites.outlets()}
    assert any("<ttl>" in b for b in bodies.values())
    assert any("<sy:updatePeriod>" in b for b in bodies.values())
    assert any('isPermaLink="false"' in b for b in bodies.values())
    assert any('isPermaLink="true"' in b for b in bodies.values())
    articles = sites.articles()
    assert any("utm_source=rss" in a.feed_link for a in articles)
    assert all("utm_" not in a.url for a in articles)
    assert not all(a.has_feed_date for a in articles)
    undated = {a.outlet for a in articles if not a.has_feed_date}
    for name in undated:
        assert "<pubDate>" not in bodies[name]
    cached = [client.get(o.feed_url).headers.get("cache-control") for o in sites.outlets()]
    assert "max-age=600" in cached


def test_opml_lists_every_feed(sites: DemoSites) -> None:
    root = ET.fromstring(sites.opml())
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    outlines = root.findall("./body/outline")
    assert [o.get("xmlUrl") for o in outlines] == sites.feed_urls
    assert [o.get("htmlUrl") for o in outlines] == [o.base_url for o in sites.outlets()]
    assert all(o.get("title") and o.get("text") for o in outlines)


# Pages -------------------------------------------------------------------------------------------------


def test_every_article_page_is_served(sites: DemoSites, client: httpx.Client) -> None:
    articles = sites.articles()
    for article in articles:
        for url in (article.url, article.feed_link):
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.headers["content-type"] == "text/html; charset=utf-8"
            assert int(response.headers["content-length"]) == len(response.content)
            assert response.headers["etag"]
            assert response.headers["last-modified"]
        page = response.text
        assert html.escape(article.title, quote=False) in page
        assert '<html lang="en">' in page
        assert f'<link rel="canonical" href="{article.url}">' in page
        assert '<meta property="og:title"' in page
        assert f'<meta name="author" content="{html.escape(article.author)}">' in page
        # The test-only label is never content (some slugs happen to contain it, hence the URLs are dropped).
        for other in articles:
            page = page.replace(urlsplit(other.url).path, "")
        assert article.story not in page


def test_home_robots_and_404(sites: DemoSites, client: httpx.Client) -> None:
    for outlet in sites.outlets():
        home = client.get(outlet.base_url)
        assert home.status_code == 200
        for article in (a for a in sites.articles() if a.outlet == outlet.name):
            assert urlsplit(article.url).path in home.text
        robots = client.get(outlet.base_url + "robots.txt")
        assert robots.status_code == 200
        assert robots.headers["content-type"].startswith("text/plain")
        assert "User-agent: *" in robots.text
        missing = client.get(outlet.base_url + "no/such/page.html")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "text/html; charset=utf-8"
        assert "<html" in missing.text


def test_date_sources_vary(sites: DemoSites, client: httpx.Client) -> None:
    pages = {a.outlet: client.get(a.url).text for a in sites.articles()}
    assert any('"datePublished"' in p for p in pages.values())
    assert any("article:published_time" in p for p in pages.values())
    visible_only = [p for p in pages.values() if "datePublished" not in p and "published_time" not in p]
    assert visible_only


def test_dates_in_range_and_found_on_pages(sites: DemoSites, client: httpx.Client) -> None:
    for article in sites.articles():
        assert date(2026, 1, 20) <= article.published.date() <= date(2026, 2, 10)
        page = client.get(article.url).text
        found = trafilatura.extract_metadata(page, default_url=article.url).date
        assert found == article.published.date().isoformat(), article.url


# HTTP validators ------------------------------------------------------------------------------------------


def test_conditional_get(sites: DemoSites, client: httpx.Client) -> None:
    article = sites.articles()[0]
    for url in (sites.feed_urls[0], article.url):
        first = client.get(url)
        etag, last_modified = first.headers["etag"], first.headers["last-modified"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert client.get(url, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
        assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
        older = "Thu, 01 Jan 2026 00:00:00 GMT"
        assert client.get(url, headers={"If-Modified-Since": older}).status_code == 200
        # If-None-Match wins over If-Modified-Since.
        both = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
        assert client.get(url, headers=both).status_code == 200
        head = client.head(url)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == first.headers["content-length"]


def test_request_log(client: httpx.Client) -> None:
    with DemoSites() as running:
        feed = running.feed_urls[1]
        etag = client.get(feed).headers["etag"]
        client.get(feed, headers={"If-None-Match": etag})
        client.get(running.outlets()[1].base_url + "missing?x=1")
        assert running.request_log == [
            ("GET", feed, 200),
            ("GET", feed, 304),
            ("GET", running.outlets()[1].base_url + "missing?x=1", 404),
        ]


def _wait_until_stopped(pid: int, seconds: float = 10.0) -> bool:
    """Whether every thread of `pid` is stopped (state T in /proc) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        states = [(t / "stat").read_text().rsplit(")", 1)[1].split()[0] for t in Path(f"/proc/{pid}/task").iterdir()]
        if all(state in "Tt" for state in states):
            return True
        time.sleep(0.01)
    return False


@pytest.mark.skipif(sys.platform != "linux", reason="the kernel's receive stamps (SO_TIMESTAMPNS) are Linux's")
def test_a_request_is_stamped_when_it_reached_the_host_not_when_a_thread_got_to_it() -> None:
    """A log of arrivals (the per-host spacing the benchmarks and tests check) must not take a server thread's
    lateness for the client's timing: the server process is stopped while a request reaches it."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve_stamps, args=(child,), daemon=True)
    server.start()
    try:
        assert parent.poll(60), "the server process did not start"
        host, port = urlsplit(parent.recv()).netloc.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/first")  # a keep-alive connection whose handler is ready
        connection.getresponse().read()
        assert server.pid is not None
        os.kill(server.pid, signal.SIGSTOP)
        try:
            # kill() returns before the process is stopped: a thread still running handled the request at once once.
            assert _wait_until_stopped(server.pid), "the server process did not stop"
            sent = time.time()
            connection.request("GET", "/second")
            time.sleep(0.5)
        finally:
            os.kill(server.pid, signal.SIGCONT)
        received_at, handled_at = map(float, connection.getresponse().read().split())
        assert handled_at - sent >= 0.5  # the thread got to it late...
        assert abs(received_at - sent) < 0.1  # ...and the request is stamped when it arrived
        connection.close()
        parent.send("stop")
    finally:
        server.kill()
        server.join()


def test_update_article_changes_page_feed_and_validators(client: httpx.Client) -> None:
    with DemoSites() as running:
        for outlet in running.outlets():
            article = next(a for a in running.articles() if a.outlet == outlet.name)
            page_before = client.get(article.url)
            feed_before = client.get(outlet.feed_url)
            running.update_article(
                article.feed_link, new_body_paragraphs=["A corrected first paragraph.", "A new second one."]
            )
            page_after = client.get(article.url, headers={"If-None-Match": page_before.headers["etag"]})
            assert page_after.status_code == 200
            assert page_after.headers["etag"] != page_before.headers["etag"]
            assert "A corrected first paragraph." in page_after.text
            assert "A corrected first paragraph." not in page_before.text
            feed_after = client.get(outlet.feed_url, headers={"If-None-Match": feed_before.headers["etag"]})
            assert feed_after.status_code == 200
            assert feed_after.headers["etag"] != feed_before.headers["etag"]
            assert feed_after.headers["last-modified"] != feed_before.headers["last-modified"]
            since = {"If-Modified-Since": feed_before.headers["last-modified"]}
            assert client.get(outlet.feed_url, headers=since).status_code == 200
            updated = next(a for a in running.articles() if a.url == article.url)
            assert updated.updated is not None
            assert updated.updated > article.published
            if article.has_feed_date:
                entry = next(e for e in feedparser.parse(feed_after.content).entries if _clean(e.link) == article.url)
                assert entry.updated_parsed is not None
                assert entry.updated != entry.published

        first = running.articles()[0]
        etag = client.get(first.url).headers["etag"]
        running.update_article(first.url, new_title="A brand new headline")
        retitled = client.get(first.url)
        assert retitled.headers["etag"] != etag
        assert "A brand new headline" in retitled.text
        entries = feedparser.parse(client.get(running.feed_urls[0]).content).entries
        assert entries[0].title == "A brand new headline"
        with pytest.raises(KeyError):
            running.update_article(first.url + "-nope", new_title="x")


def test_publish_adds_article_at_top_of_feed(client: httpx.Client) -> None:
    with DemoSites() as running:
        outlet = running.outlets()[2]
        before = client.get(outlet.feed_url)
        url = running.publish(outlet.name, "Harbour cranes halted by wind", ["Gusts of 110 km/h stopped work."] * 3)
        page = client.get(url)
        assert page.status_code == 200
        assert "Harbour cranes halted by wind" in page.text
        after = client.get(outlet.feed_url, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert _clean(feedparser.parse(after.content).entries[0].link) == url
        published = next(a for a in running.articles() if a.url == url)
        assert published.outlet == outlet.name
        assert published.published >= max(a.published for a in running.articles() if a.url != url)
        # By slug as well as by name; a second, dated story goes below the newer one.
        older = running.publish(
            outlet.slug, "Quay repairs", ["Work begins."], story="quay", published=datetime.fromisoformat("2026-02-01")
        )
        links = [_clean(e.link) for e in feedparser.parse(client.get(outlet.feed_url).content).entries]
        assert links[0] == url
        assert older in links[1:]
        with pytest.raises(KeyError):
            running.publish("No Such Outlet", "x", ["y"])


# Seeds and story design ----------------------------------------------------------------------------------


def test_seed_texts_verbatim(sites: DemoSites, client: httpx.Client) -> None:
    page_000 = client.get(_seed_article(sites, "Ankara Ledger").url).text
    for sentence in SEED_000_SENTENCES:
        assert sentence in page_000
    assert "date 2026-02-03" not in page_000  # metadata line of the seed, not text
    page_001 = client.get(_seed_article(sites, "Eurasia Dispatch").url).text
    for sentence in SEED_001_SENTENCES:
        assert sentence in page_001
    for outlet in ("Ankara Ledger", "Eurasia Dispatch"):
        assert _seed_article(sites, outlet).published.date() == date(2026, 2, 3)


def test_extraction_drops_teasers_of_seed_001(sites: DemoSites, client: httpx.Client) -> None:
    page = client.get(_seed_article(sites, "Eurasia Dispatch").url).text
    text = trafilatura.extract(page) or ""
    assert "Gorgun" in text
    assert "$9.87 billion" in text
    for furniture in ("Aomori", "Pezeshkian", "Kazakhstan sharply increased", "AnewZ", "cookies", "Most read"):
        assert furniture not in text
    page_000 = client.get(_seed_article(sites, "Ankara Ledger").url).text
    text_000 = trafilatura.extract(page_000) or ""
    assert "Görgün" in text_000
    assert "$555.3 million" in text_000


def test_extraction_drops_sidebars_and_related_blocks(sites: DemoSites, client: httpx.Client) -> None:
    articles = sites.articles()
    for article in articles:
        page = client.get(article.url).text
        text = trafilatura.extract(page, include_comments=False) or ""
        assert len(text.split()) > 200, article.url
        others = [a.title for a in articles if a.outlet == article.outlet and a.url != article.url]
        assert all(html.escape(t, quote=False) in page for t in others)  # they are on the page...
        assert not [t for t in others if t in text], article.url  # ...but not in the article text
        assert "cookie" not in text.lower()


def test_story_design_for_clustering(sites: DemoSites) -> None:
    stories = _by_story(sites.articles())
    assert len(stories) == 15  # the seed story and 14 written for the sample
    multi = {label: group for label, group in stories.items() if len(group) >= 2}
    # The seed story, three multi-outlet stories and one wire copy.
    assert set(multi) == {
        "turkiye-defense-exports",
        "adriatic-offshore-wind",
        "georgia-anaklia-port",
        "chile-lithium-strike",
        "iceland-reykjanes-eruption",
    }
    for group in multi.values():
        assert len({a.outlet for a in group}) == len(group)  # one article per outlet
    # Hard negatives: same country / same kind of event, different stories.
    for label in (
        "turkiye-rate-decision",
        "turkiye-earthquake-drill",
        "japan-h3-rocket-launch",
        "north-korea-missile-test",
    ):
        assert len(stories[label]) == 1
    assert (
        stories["japan-h3-rocket-launch"][0].published.date() != stories["north-korea-missile-test"][0].published.date()
    )


def test_server_is_quiet(capfd: pytest.CaptureFixture[str], client: httpx.Client) -> None:
    with DemoSites() as running:
        base = running.outlets()[0].base_url
        client.get(base + "missing")
        client.get(base)
        client.request("BREW", base)
    captured = capfd.readouterr()
    assert captured.err == ""
