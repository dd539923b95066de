"""`newsmon ui` through a real browser: Debian's Chromium driven by Playwright, against the real command
serving a database built by `newsmon demo` (plus one hostile article and one broken feed ingested the normal way).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import httpx
import pytest

from tests.cli import newsmon
from tests.site import PARAGRAPHS, Route, Site, article_page, rss, rss_item

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Titles and feed names are untrusted HTML: this one must reach the page as text.
HOSTILE_TITLE = "Council passes <script>alert('xss')</script> budget"
JANUARY = "Turkish defence and aerospace exports see unprecedented increase in January"

playwright_api = pytest.importorskip("playwright.sync_api")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run does)")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    """`newsmon demo`'s database, then one pass over a loopback site with a hostile title and a broken feed."""
    db = tmp_path_factory.mktemp("ui") / "newsmon-demo.duckdb"
    assert newsmon(db, "demo").exit_code == 0
    escaped = HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;")
    with Site("127.0.0.21") as site:
        page = site.add("/council.html", Route(body=article_page(escaped, PARAGRAPHS)))
        feed = site.add(
            "/rss.xml",
            Route(body=rss([rss_item(escaped, page, date="Mon, 02 Feb 2026 09:00:00 GMT")], title=escaped),
                  content_type="application/rss+xml"),
        )
        broken = site.add("/broken.xml", Route(status=404, body=b"<html><body>gone</body></html>"))
        assert newsmon(db, "feeds", "add", feed, broken).exit_code == 0
        # A rule whose webhook refuses the POST (this server answers GET only): the outbox shows the failure.
        rule = newsmon(db, "alerts", "add", "council", "--keywords", "budget", "--notify", site.url("/hook"))
        assert rule.exit_code == 0, rule.output
        result = newsmon(db, "run")
        assert result.exit_code == 0, result.output
    return db


@pytest.fixture(scope="module")
def ui_url(demo_db: Path) -> Iterator[str]:
    """The real `newsmon ui` command on a free loopback port; yields the address it prints.

    Run as a new user would after `newsmon demo`: in the same directory, no database named."""
    command = [str(Path(sys.executable).with_name("newsmon")), "ui", "--port", "0"]
    server = subprocess.Popen(
        command, cwd=demo_db.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k != "NEWSMON_DB"},
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "browsing newsmon-demo.duckdb read-only" in line, line
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, f"no address in {line!r}; stderr: {server.stderr.read() if server.poll() is not None else ''}"
        yield found[0].rstrip("/")
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(ui_url: str) -> Iterator[Browser]:
    # After the database is built: Playwright's sync API runs an event loop in this thread, and the demo's
    # flows need to start their own.
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield opened
    context.close()
    assert not dialogs, f"a script ran: {dialogs}"


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots land here (and in NEWSMON_UI_SCREENSHOTS, e.g. docs/img, when set)."""
    return tmp_path_factory.mktemp("ui-screenshots")


def _screenshot(page: Page, artifacts: Path, name: str) -> None:
    path = artifacts / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("NEWSMON_UI_SCREENSHOTS"):
        shutil.copy(path, Path(os.environ["NEWSMON_UI_SCREENSHOTS"]) / name)


# --- through the browser ---------------------------------------------------------------------------


@needs_chromium
def test_january_story_in_one_click_shows_two_outlets_facts_and_quotes(
    page: Page, ui_url: str, artifacts: Path
) -> None:
    page.goto(ui_url + "/")
    assert page.url.endswith("/stories")
    _screenshot(page, artifacts, "ui-stories.png")
    page.get_by_role("link", name=JANUARY).click()
    assert re.search(r"/stories/s-[0-9a-f]{16}$", page.url)
    outlets = page.locator("#outlets li").all_inner_texts()
    assert len(outlets) == 2 and outlets[0].startswith("Ankara Ledger") and outlets[1] == "Eurasia Dispatch", outlets
    corroborated = page.locator("#facts tr.corroborated")
    assert corroborated.count() >= 2
    agreed = " ".join(corroborated.all_inner_texts())
    assert "$555.3 million" in agreed and "more than $555 million" in agreed
    assert "44.2%" in agreed
    quotes = page.locator("#quotes li").all_inner_texts()
    assert any("Haluk Görgün" in q and "tangible reflection" in q and "2" in q for q in quotes), quotes
    _screenshot(page, artifacts, "ui-story.png")


@needs_chromium
def test_a_fact_links_to_its_sentence_in_its_article(page: Page, ui_url: str) -> None:
    page.goto(ui_url + "/stories?q=aerospace+exports")
    page.get_by_role("link", name=JANUARY).click()
    fact = page.locator("#facts tr.corroborated").filter(has_text="$555.3 million")
    sentence = fact.locator("q").first.inner_text()
    fact.locator("a.sentence").first.click()
    assert re.search(r"/articles/[0-9a-f]{16}\?start=\d+&end=\d+#at$", page.url)
    marked = page.locator("article.text mark#at")
    assert marked.inner_text() == sentence
    assert "555" in sentence


@needs_chromium
def test_a_failed_feed_shows_first_with_its_error(page: Page, ui_url: str) -> None:
    page.goto(ui_url + "/stories")
    page.get_by_role("link", name="Feeds").click()
    first = page.locator("table.feeds tbody tr").first
    text = first.inner_text()
    assert "failing" in text and "/broken.xml" in text and "http_404" in text
    assert page.locator("table.feeds tbody tr").count() == 8


@needs_chromium
def test_a_title_with_a_script_tag_is_shown_as_text(page: Page, ui_url: str) -> None:
    page.goto(ui_url + "/stories")
    link = page.get_by_role("link", name=HOSTILE_TITLE)
    assert link.inner_text() == HOSTILE_TITLE
    link.click()
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    assert page.locator("main script").count() == 0
    # The page fixture fails the test if an alert() ever opened.


@needs_chromium
def test_filters_narrow_the_list(page: Page, ui_url: str) -> None:
    page.goto(ui_url + "/stories")
    everything = page.locator("table.stories tbody tr").count()
    assert everything == 16  # the demo's 15 stories and the council's
    page.fill("input[name=min_outlets]", "2")
    page.get_by_role("button", name="Filter").click()
    several = page.locator("table.stories tbody tr")
    assert 1 <= several.count() < everything
    assert JANUARY in " ".join(several.all_inner_texts())
    page.goto(ui_url + "/stories?entity=görgün")  # accents and case folded: Gorgun
    assert JANUARY in page.locator("table.stories").inner_text()
    page.select_option("select[name=outlet]", "Eurasia Dispatch")
    page.get_by_role("button", name="Filter").click()
    listed = page.locator("table.stories tbody tr")
    assert listed.count() >= 1 and all("Eurasia Dispatch" in row for row in listed.all_inner_texts())
    page.goto(ui_url + "/stories?since=2099-01-01")
    assert page.locator("table.stories").count() == 0
    assert "No story matches" in page.inner_text("main")


@needs_chromium
def test_entity_page_lists_its_stories(page: Page, ui_url: str) -> None:
    page.goto(ui_url + "/stories?q=aerospace+exports")
    page.get_by_role("link", name=JANUARY).click()
    page.locator("#entities a", has_text="Haluk Görgün").first.click()
    assert "/entities/person" in page.url
    assert JANUARY in page.locator("table.stories").inner_text()


@needs_chromium
def test_alerts_show_rules_what_they_matched_and_the_outbox(page: Page, ui_url: str) -> None:
    page.goto(ui_url + "/stories")
    page.get_by_role("link", name="Alerts").click()
    assert "council" in page.locator("#rules").inner_text()
    assert HOSTILE_TITLE in page.locator("#matches").inner_text()
    outbox = page.locator("#outbox tbody tr").all_inner_texts()
    assert any("/hook" in row and "501" in row for row in outbox), outbox


# --- over plain HTTP: JSON twins, headers, errors ----------------------------------------------------


def test_every_page_has_a_json_twin_with_the_same_data(ui_url: str) -> None:
    with httpx.Client(base_url=ui_url, trust_env=False, timeout=30) as client:
        stories = client.get("/api/stories").json()["stories"]
        assert client.get("/stories", params={"format": "json"}).json()["stories"] == stories
        january = next(s for s in stories if s["title"] == JANUARY)
        story = client.get(f"/api/stories/{january['story_id']}").json()["story"]
        assert story["source_count"] == 2 and len(story["outlets"]) == 2
        assert any(f["source_count"] == 2 and f["statements"] for f in story["facts"])
        assert {"speaker", "quote", "source_count", "statements"} <= set(story["quotes"][0])
        assert all(r["method"] in ("new", "story", "duplicate") for r in story["reports"])
        volcano = next(s for s in stories if "Volcano" in s["title"])
        reports = client.get(f"/stories/{volcano['story_id']}", params={"format": "json"}).json()["story"]["reports"]
        assert len(reports) == 1 and len(reports[0]["copies"]) == 1  # the wire copy folded under its first copy
        assert client.get("/api/feeds").json()["feeds"][0]["health"] == "failing"
        assert set(client.get("/api/alerts").json()) == {"rules", "matches", "outbox"}
        missing = client.get("/api/stories/s-0000000000000000")
        assert missing.status_code == 404 and "no story" in missing.json()["error"]


def test_strict_headers_and_escaped_html(ui_url: str) -> None:
    with httpx.Client(base_url=ui_url, trust_env=False, timeout=30) as client:
        response = client.get("/stories")
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text and "&lt;script&gt;" in response.text
        assert 'src="http' not in response.text  # nothing from a CDN
        assert client.get("/static/style.css").headers["content-security-policy"] == csp


def test_bad_input_is_a_one_line_error(ui_url: str) -> None:
    with httpx.Client(base_url=ui_url, trust_env=False, timeout=30) as client:
        response = client.get("/stories", params={"since": "last tuesday"})
        assert response.status_code == 400 and "since: &#39;last tuesday&#39; is not a date" in response.text
        assert "Traceback" not in response.text
        assert client.get("/api/stories", params={"min_outlets": "0"}).json() == {
            "error": "min_outlets: must be at least 1"
        }


def test_a_writer_holding_the_file_gets_a_busy_page_not_a_traceback(demo_db: Path, ui_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()",
         str(demo_db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = httpx.get(ui_url + "/stories", trust_env=False, timeout=30)
    finally:
        holder.communicate("")
    assert busy.status_code == 503 and "busy" in busy.text and busy.headers["retry-after"] == "5"
    assert httpx.get(ui_url + "/stories", trust_env=False, timeout=30).status_code == 200


def test_the_ui_never_blocks_a_writer(demo_db: Path, ui_url: str) -> None:
    assert httpx.get(ui_url + "/stories", trust_env=False, timeout=30).status_code == 200
    # Between requests the UI holds nothing: a read-write connection opens at once.
    duckdb.connect(str(demo_db)).close()


# --- the command ---------------------------------------------------------------------------------


def test_refuses_a_non_loopback_address_unless_given_explicitly(db_path: Path) -> None:
    assert newsmon(db_path, "feeds", "add", "http://a.example/rss").exit_code == 0
    result = newsmon(db_path, "ui", env={"NEWSMON_UI_HOST": "0.0.0.0"})
    assert result.exit_code == 1
    assert "refusing to serve on 0.0.0.0" in result.output and "--host 0.0.0.0" in result.output


def test_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = newsmon(tmp_path / "none.duckdb", "ui")
    assert result.exit_code == 1 and "no database at" in result.output
    assert not (tmp_path / "none.duckdb").exists()  # the browser never creates or writes a file


def test_a_port_in_use_is_a_clear_error(db_path: Path) -> None:
    assert newsmon(db_path, "feeds", "add", "http://a.example/rss").exit_code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = newsmon(db_path, "ui", "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 1 and "cannot listen on 127.0.0.1:" in result.output
