"""Operations: status, maintenance (retention, Parquet export), the schedules `newsmon serve` runs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.cli import newsmon
from tests.site import PARAGRAPHS, Route, Site, article_page, rss, rss_item

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def ingested(db_path: Path) -> Site:
    with Site() as site:
        site.add("/a.html", Route(body=article_page("A story", PARAGRAPHS)))
        site.add("/feed.xml", Route(body=rss([rss_item("A story", site.url("/a.html"))]),
                                    content_type="application/rss+xml"))
        assert newsmon(db_path, "feeds", "add", site.url("/feed.xml"), site.url("/missing.xml")).exit_code == 0
        assert newsmon(db_path, "run").exit_code == 0
        yield site


def test_status_tells_what_is_wrong(ingested: Site, db_path: Path) -> None:
    out = newsmon(db_path, "status").output
    assert "2 feeds, 1 article, 1 story" in out
    assert "! 1 feed failing" in out
    assert "missing.xml" in out and "http_404" in out
    report = json.loads(newsmon(db_path, "status", "--format", "json").output)
    assert report["runs"][0]["status"] == "completed" and report["runs"][0]["articles_new"] == 1
    assert [f["url"] for f in report["failing_feeds"]] == [ingested.url("/missing.xml")]


def test_status_flags_an_overdue_schedule(ingested: Site, db_path: Path) -> None:
    out = newsmon(db_path, "status", env={"NEWSMON_DEFAULT_INTERVAL": "0"}).output
    assert "no run since" in out


def test_maintenance_prunes_raw_html_and_exports_parquet(ingested: Site, db_path: Path, tmp_path: Path) -> None:
    kept = newsmon(db_path, "maintain", "--export-dir", str(tmp_path / "export"))
    assert kept.exit_code == 0, kept.output
    assert "raw HTML dropped from 0 pages" in kept.output
    con = duckdb.connect()
    articles = con.execute(f"SELECT title, text FROM '{tmp_path}/export/articles.parquet'").fetchall()
    assert articles[0][0] == "A story" and "$2.5 billion" in articles[0][1]
    assert con.execute(f"SELECT count(*) FROM '{tmp_path}/export/feeds.parquet'").fetchall() == [(2,)]
    assert not list((tmp_path / "export").glob(".*partial"))

    pruned = newsmon(db_path, "maintain", env={"NEWSMON_RAW_HTML_RETENTION_DAYS": "-1"})
    assert "raw HTML dropped from 1 page" in pruned.output
    assert Path(f"{db_path}.parquet/stories.parquet").exists()
    rows = json.loads(newsmon(db_path, "query", "--format", "json",
                              "SELECT html_zlib IS NULL AS gone, size FROM pages").output)
    assert rows[0]["gone"] is True and rows[0]["size"] > 0
    # Pages past their retention can no longer be re-extracted, and say so instead of failing.
    again = newsmon(db_path, "reextract")
    assert again.exit_code == 0 and "re-extracted 0 pages" in again.output


def test_serve_schedules_every_deployment(db_path: Path) -> None:
    from newsmon.flows.schedules import runner_deployments

    served = {d.name: d for d in runner_deployments(db_path, ingest_every=timedelta(minutes=10))}
    assert set(served) == {"ingest", "maintenance", "deliver-alerts", "reextract-facts", "recluster"}
    assert served["ingest"].schedules[0].schedule.interval == timedelta(minutes=10)
    assert served["deliver-alerts"].schedules[0].schedule.interval == timedelta(minutes=5)
    assert served["maintenance"].schedules[0].schedule.cron == "30 3 * * *"
    assert all(s.schedule.timezone == "UTC" for d in served.values() for s in d.schedules)
    assert not served["recluster"].schedules  # by hand
    assert all(d.parameters["db"] == str(db_path) for d in served.values())
    assert served["ingest"].concurrency_limit == 1
