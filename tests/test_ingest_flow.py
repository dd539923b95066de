"""End to end through `newsmon run` (the Prefect flow `ingest`): good feeds, misbehaving feeds, bad items,
conditional re-polls, updated articles, retries, and an analyst holding the database open."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli import newsmon, query
from tests.site import PARAGRAPHS, Route, Site, article_page, endless, rss, rss_item
from tests.test_storage import hold_read_only

pytestmark = pytest.mark.usefixtures("prefect_harness")

DATE = "Tue, 03 Feb 2026 10:00:00 GMT"
GOOD = [f"/news/story-{i}.html" for i in range(6)]


def good_page(i: int) -> bytes:
    return article_page(f"Story number {i}", [f"Story {i} opens with its own news.", *PARAGRAPHS])


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        for i, path in enumerate(GOOD):
            s.add(path, Route(body=good_page(i), etag=f'"p{i}"'))
        # Two feeds of one outlet; story-0 is listed in both (fetched and stored once).
        s.add(
            "/world.xml",
            Route(
                body=rss(
                    [
                        rss_item(f"Story {i}", s.url(GOOD[i]) + "?utm_source=rss", guid=f"w{i}", date=DATE)
                        for i in range(4)
                    ]
                ),
                content_type="application/rss+xml",
                etag='"w1"',
            ),
        )
        s.add(
            "/business.xml",
            Route(
                body=rss(
                    [
                        rss_item("Story 0 again", s.url(GOOD[0])),
                        rss_item("Story 4", s.url(GOOD[4])),
                        rss_item("Story 5", s.url(GOOD[5])),
                    ]
                ),
                content_type="application/rss+xml",
                etag='"b1"',
            ),
        )
        # A feed whose items are bad in every way an item can be.
        s.add(
            "/bad-items.xml",
            Route(
                content_type="application/rss+xml",
                body=rss(
                    [
                        rss_item("script", "javascript:alert(1)"),
                        rss_item("ftp", "ftp://127.0.0.1/x"),
                        "<item><title>no link</title></item>",
                        rss_item("not a url", "http//no such thing"),
                        rss_item("metadata", "http://169.254.169.254/latest/meta-data/iam"),
                        rss_item("local file", "file:///etc/passwd"),
                        rss_item("missing page", s.url("/gone.html")),
                        rss_item("image", s.url("/photo.png")),
                        rss_item("no text", s.url("/empty.html")),
                        rss_item("page bomb", s.url("/bomb.html")),
                        rss_item("flaky", s.url("/flaky.html")),
                    ]
                ),
            ),
        )
        s.add("/photo.png", Route(body=b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, content_type="image/png"))
        s.add("/empty.html", Route(body=b"<html><body><nav>Home</nav></body></html>"))
        s.add("/bomb.html", Route(body=gzip.compress(b" " * 30_000_000), headers={"Content-Encoding": "gzip"}))
        s.add("/flaky.html", Route(status=503, body=b"busy"))
        # Misbehaving feeds.
        s.add("/404.xml", Route(status=404, body=b"no"))
        s.add("/410.xml", Route(status=410, body=b"gone"))
        s.add("/500.xml", Route(status=500, body=b"oops"))
        s.add("/html.xml", Route(body=b"<!DOCTYPE html><html><body><p>a page</p></body></html>"))
        s.add("/garbage.xml", Route(body=b"{ not xml", content_type="application/xml"))
        s.add("/binary.xml", Route(body=b"\x00\x01\x02\x03" * 50, content_type="application/octet-stream"))
        s.add("/empty.xml", Route(body=b"", content_type="application/rss+xml"))
        s.add(
            "/xxe.xml",
            Route(
                content_type="application/rss+xml",
                body=(
                    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                    b'<rss version="2.0"><channel><title>&x;</title></channel></rss>'
                ),
            ),
        )
        s.add(
            "/lol.xml",
            Route(
                content_type="application/rss+xml",
                body=(
                    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><rss version="2.0"><channel><title>&c;</title></channel></rss>'
                ),
            ),
        )
        s.add(
            "/feedbomb.xml",
            Route(
                body=gzip.compress(b" " * 40_000_000),
                headers={"Content-Encoding": "gzip"},
                content_type="application/rss+xml",
            ),
        )
        s.add("/endless.xml", Route(body=endless(), content_type="application/rss+xml"))
        s.add("/loop.xml", Route(status=302, headers={"Location": "/loop.xml"}))
        s.add("/meta.xml", Route(status=302, headers={"Location": "http://169.254.169.254/latest/"}))
        yield s


@pytest.fixture
def busy_host() -> Iterator[Site]:
    """Another host (Retry-After applies to a whole host) that asks us to come back in an hour."""
    with Site("127.0.0.2") as s:
        s.add("/busy.xml", Route(status=429, headers={"Retry-After": "3600"}, body=b"slow down"))
        s.add("/later.xml", Route(body=rss([]), content_type="application/rss+xml"))
        yield s


GOOD_FEEDS = ["/world.xml", "/business.xml", "/bad-items.xml"]
BAD_FEEDS = [
    "/404.xml",
    "/410.xml",
    "/500.xml",
    "/html.xml",
    "/garbage.xml",
    "/binary.xml",
    "/empty.xml",
    "/xxe.xml",
    "/lol.xml",
    "/feedbomb.xml",
    "/endless.xml",
    "/loop.xml",
    "/meta.xml",
]


@pytest.fixture
def monitored(site: Site, busy_host: Site, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setenv("NEWSMON_MAX_FEED_BYTES", "2000000")
    monkeypatch.setenv("NEWSMON_MAX_PAGE_BYTES", "2000000")
    # One request at a time per host, so the busy host's Retry-After is seen before its second feed.
    monkeypatch.setenv("NEWSMON_HOST_CONCURRENCY", "1")
    urls = [site.url(p) for p in GOOD_FEEDS + BAD_FEEDS]
    urls += [busy_host.url("/busy.xml"), busy_host.url("/later.xml")]
    urls += ["http://127.0.0.1:9/closed.xml"]
    added = newsmon(db_path, "feeds", "add", *urls)
    assert added.exit_code == 0, added.output
    # `feeds add` refuses a private address at once; allowed when added, it is refused again at fetch time.
    private = newsmon(db_path, "feeds", "add", "http://10.0.0.1/rss", env={"NEWSMON_ALLOW_NETWORKS": "10.0.0.1/32"})
    assert private.exit_code == 0, private.output
    return site


def test_first_pass_stores_good_pages_and_records_every_failure(
    monitored: Site, busy_host: Site, db_path: Path
) -> None:
    site = monitored
    result = newsmon(db_path, "run")
    assert result.exit_code == 0, result.output
    assert "feeds: 20 polled, 0 not modified, 17 failed" in result.output
    assert "articles: 6 new, 0 updated, 6 failed, 5 links refused" in result.output
    assert re.search(r"^time: poll [\d.]+ s, fetch [\d.]+ s, extract [\d.]+ s, write [\d.]+ s, stories [\d.]+ s, nlp", result.output, re.MULTILINE)

    articles = query(
        db_path,
        "SELECT canonical_url, title, text, published_at, published_source, language FROM articles ORDER BY 1",
    )
    assert [a["canonical_url"] for a in articles] == sorted(site.url(p) for p in GOOD)
    # Stories 4 and 5 are only in the feed without dates, and their page's only date is its copyright year.
    in_dated_feed = {site.url(p) for p in GOOD[:4]}
    for a in articles:
        assert "$2.5 billion" in str(a["text"]) and "Aomori" not in str(a["text"])
        assert a["language"] == "en"
        dated = a["canonical_url"] in in_dated_feed
        assert (bool(a["published_at"]), a["published_source"]) == ((True, "feed") if dated else (False, "none"))
    # story-0 is in two feeds: one fetch, one article, both items linked to it.
    assert site.hits(GOOD[0]) == 1
    linked = query(
        db_path, f"SELECT count(DISTINCT feed_url) AS n FROM items WHERE link LIKE '%{GOOD[0]}%' AND status='stored'"
    )
    assert linked == [{"n": 2}]

    feeds = {f["url"]: f for f in query(db_path, "SELECT url, last_error, error_count, last_error_kind FROM feeds")}
    expected = {
        "/404.xml": "http_404",
        "/410.xml": "http_410",
        "/500.xml": "http_500",
        "/html.xml": "not_a_feed",
        "/garbage.xml": "malformed_feed",
        "/binary.xml": "not_a_feed",
        "/empty.xml": "empty_body",
        "/xxe.xml": "xml_entities",
        "/lol.xml": "xml_entities",
        "/feedbomb.xml": "too_large",
        "/endless.xml": "too_large",
        "/loop.xml": "redirect_loop",
        "/meta.xml": "refused_address",
    }
    for path, code in expected.items():
        feed = feeds[site.url(path)]
        assert str(feed["last_error"]).startswith(code), (path, feed)
        assert feed["error_count"] == 1
    assert str(feeds[busy_host.url("/busy.xml")]["last_error"]).startswith("http_429")
    # The host asked for an hour: its other feed is not polled this pass.
    assert str(feeds[busy_host.url("/later.xml")]["last_error"]).startswith("retry_after")
    assert busy_host.hits("/later.xml") == 0
    assert str(feeds["http://10.0.0.1/rss"]["last_error"]).startswith("refused_address")
    assert feeds["http://127.0.0.1:9/closed.xml"]["last_error_kind"] == "transient"
    assert feeds[site.url("/410.xml")]["last_error_kind"] == "hard"
    assert feeds[site.url("/404.xml")]["last_error_kind"] == "soft"

    polls = query(db_path, "SELECT outcome, count(*) AS n FROM polls GROUP BY 1 ORDER BY 1")
    assert polls == [{"outcome": "failed", "n": 17}, {"outcome": "ok", "n": 3}]

    items = {i["title"]: i for i in query(db_path, "SELECT title, status, error_code, error FROM items")}
    for title in ("script", "ftp", "no link", "not a url", "local file"):
        assert items[title]["status"] == "refused", title
    assert items["metadata"]["error_code"] == "refused_address"
    assert items["missing page"]["error_code"] == "http_404"
    assert items["image"]["error_code"] == "not_html"
    assert items["no text"]["error_code"] == "no_text"
    assert items["page bomb"]["error_code"] == "too_large"
    assert items["flaky"]["error_code"] == "http_503"
    errors = query(db_path, "SELECT stage, count(*) AS n FROM article_errors GROUP BY 1 ORDER BY 1")
    assert errors == [{"stage": "extract", "n": 1}, {"stage": "fetch", "n": 5}, {"stage": "link", "n": 5}]

    # Nothing from a local file or a metadata address reached the store.
    leaks = query(
        db_path,
        """
        SELECT count(*) AS n FROM articles
        WHERE text LIKE '%root:%' OR text LIKE '%meta-data%' OR url LIKE '%169.254%' OR url LIKE 'file:%'""",
    )
    assert leaks == [{"n": 0}]
    runs = query(db_path, "SELECT status, feeds_polled, feeds_failed, articles_new, articles_failed FROM runs")
    assert runs == [
        {"status": "completed", "feeds_polled": 20, "feeds_failed": 17, "articles_new": 6, "articles_failed": 6}
    ]


def test_second_pass_is_conditional_and_fetches_nothing_twice(monitored: Site, db_path: Path) -> None:
    site = monitored
    assert newsmon(db_path, "run").exit_code == 0
    hits_before = {p: site.hits(p) for p in GOOD}
    site.routes["/flaky.html"] = Route(body=good_page(99))  # the 503 page recovers

    again = newsmon(db_path, "run", "--all")
    assert again.exit_code == 0, again.output
    assert "2 not modified" in again.output
    assert "articles: 1 new, 0 updated" in again.output  # only the recovered page
    assert {p: site.hits(p) for p in GOOD} == hits_before
    polls = query(db_path, "SELECT feed_url, status FROM polls WHERE outcome = 'not_modified'")
    assert sorted(p["feed_url"] for p in polls) == sorted(site.url(p) for p in ["/world.xml", "/business.xml"])
    assert query(db_path, "SELECT count(*) AS n FROM articles") == [{"n": 7}]


def test_due_only_pass_skips_feeds_in_backoff(monitored: Site, db_path: Path) -> None:
    assert newsmon(db_path, "run").exit_code == 0
    again = newsmon(db_path, "run")
    assert again.exit_code == 0
    assert "(of 0 due)" in again.output


def test_updated_item_stores_a_new_version(monitored: Site, db_path: Path) -> None:
    site = monitored
    assert newsmon(db_path, "run").exit_code == 0
    site.routes[GOOD[1]] = Route(
        body=article_page("Story number 1", ["Correction: the vote was on Wednesday.", *PARAGRAPHS]), etag='"p1b"'
    )
    items = [rss_item(f"Story {i}", site.url(GOOD[i]) + "?utm_source=rss", guid=f"w{i}", date=DATE) for i in range(4)]
    items[1] = items[1].replace(
        "</item>", "<atom:updated xmlns:atom='http://www.w3.org/2005/Atom'>2026-02-04T08:00:00Z</atom:updated></item>"
    )
    site.routes["/world.xml"] = Route(body=rss(items), content_type="application/rss+xml", etag='"w2"')

    result = newsmon(db_path, "run", "--all")
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated" in result.output
    versions = query(
        db_path,
        f"""
        SELECT v.version, v.text LIKE 'Correction%' AS corrected FROM article_versions v
        JOIN articles a USING (article_id) WHERE a.canonical_url = '{site.url(GOOD[1])}' ORDER BY 1""",
    )
    assert versions == [{"version": 1, "corrected": False}, {"version": 2, "corrected": True}]
    assert query(db_path, "SELECT count(*) AS n FROM articles") == [{"n": 6}]


def test_analyst_holding_the_file_does_not_fail_the_run(monitored: Site, db_path: Path) -> None:
    assert newsmon(db_path, "run").exit_code == 0
    analyst = hold_read_only(db_path, 120)
    site = monitored
    site.routes["/flaky.html"] = Route(body=good_page(99))
    try:
        busy = newsmon(db_path, "run", "--all")
    finally:
        analyst.kill()
        analyst.wait()
    assert busy.exit_code == 0, busy.output
    assert "spooled" in busy.output
    assert query(db_path, "SELECT count(*) AS n FROM articles") == [{"n": 6}]  # not merged yet

    after = newsmon(db_path, "run")
    assert after.exit_code == 0, after.output
    assert query(db_path, "SELECT count(*) AS n FROM articles") == [{"n": 7}]  # merged, nothing lost
    assert query(db_path, "SELECT count(*) AS n FROM runs") == [{"n": 3}]
    # The merged article got its story and facts, though this pass fetched nothing new.
    assert "stories: 1 article assigned" in after.output
    # (near-duplicates have no facts of their own: they inherit their first copy's)
    unread = "story_id IS NULL OR (facts_version IS NULL AND duplicate_of IS NULL)"
    assert query(db_path, f"SELECT count(*) AS n FROM articles WHERE {unread}") == [{"n": 0}]


def test_reextract_uses_stored_html(monitored: Site, db_path: Path) -> None:
    site = monitored
    assert newsmon(db_path, "run").exit_code == 0
    hits = len(site.requests)
    result = newsmon(db_path, "reextract")
    assert result.exit_code == 0, result.output
    assert "re-extracted 6 pages" in result.output
    assert len(site.requests) == hits  # no refetch


def test_reextract_forgets_facts_that_pointed_into_the_old_text(monitored: Site, db_path: Path) -> None:
    import duckdb

    assert newsmon(db_path, "run").exit_code == 0
    article_id = query(db_path, "SELECT article_id FROM articles WHERE duplicate_of IS NULL ORDER BY 1 LIMIT 1")[0]
    con = duckdb.connect(str(db_path))  # as an older extractor would have left it
    con.execute("UPDATE articles SET text = 'An older reading.', content_hash = 'old' WHERE article_id = ?",
                [article_id["article_id"]])
    con.close()
    assert newsmon(db_path, "reextract").exit_code == 0
    rows = query(db_path, "SELECT text, facts_version FROM articles WHERE article_id = "
                          f"'{article_id['article_id']}'")
    assert rows[0]["text"] != "An older reading." and rows[0]["facts_version"] is None
    assert newsmon(db_path, "run").exit_code == 0  # the next pass reads the new text's facts
    spans = query(db_path, "SELECT f.surface, substr(a.text, f.start_char + 1, f.end_char - f.start_char) AS at "
                           "FROM facts f JOIN articles a USING (article_id)")
    assert spans and all(r["surface"] == r["at"] for r in spans)


def test_reextract_waits_for_a_running_pass(monitored: Site, db_path: Path) -> None:
    assert newsmon(db_path, "run").exit_code == 0
    with run_lock_held(db_path):
        result = newsmon(db_path, "reextract")
    assert result.exit_code != 0 and "another pass is running: newsmon ingest" in result.output


LOCK_HOLDER = """
import sys, time
from newsmon.storage.lock import exclusive_run
with exclusive_run(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


@contextmanager
def run_lock_held(db_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process (yielded) holds the run lock, as a running pass does, while the block runs."""
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(db_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_second_pass_does_not_overlap_a_running_one(monitored: Site, db_path: Path) -> None:
    with run_lock_held(db_path) as holder:
        result = newsmon(db_path, "run")
    assert result.exit_code == 3, result.output  # nothing done: README, exit codes
    assert f"nothing done: another pass is running: newsmon ingest (pid {holder.pid}" in result.output
    assert monitored.requests == []  # not one feed polled
    assert newsmon(db_path, "run").exit_code == 0  # free again once the other pass ended
    assert monitored.requests
