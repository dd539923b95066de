"""`newsmon demo`: serve the bundled sample sites on loopback, ingest them, show what was stored."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import click
import duckdb

from newsmon.demo.sites import DemoSites


def _is_previous_demo(db: Path) -> bool:
    """True when every feed in the file is a loopback URL: a database an earlier demo made."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return False
    try:
        urls = [r[0] for r in con.execute("SELECT url FROM feeds").fetchall()]
    except duckdb.Error:
        return False
    finally:
        con.close()
    return all((urlsplit(u).hostname or "").startswith("127.") for u in urls)


def run_demo(db: Path) -> None:
    from newsmon.cli import _emit, _print_summary
    from newsmon.flows.ingest import ingest
    from newsmon.storage.db import open_reader, open_writer
    from newsmon.storage.feeds import add_feeds

    if db.exists():
        if not _is_previous_demo(db):
            raise click.ClickException(f"{db} exists and is not a demo database: pass another --db")
        db.unlink()
        Path(f"{db}.wal").unlink(missing_ok=True)
    # The sample sites live on loopback, which newsmon refuses by default (SSRF guard).
    os.environ["NEWSMON_ALLOW_NETWORKS"] = "127.0.0.0/8"
    os.environ.setdefault("NEWSMON_HOST_DELAY", "0.05")

    from datetime import UTC, datetime

    from newsmon.extract.opml import parse_opml
    from newsmon.settings import get_settings

    with DemoSites() as sites:
        click.echo(f"Serving {len(sites.feed_urls)} sample news sites on loopback:")
        for outlet in sites.outlets():
            click.echo(f"  {outlet.name:<22} {outlet.feed_url}")
        settings = get_settings(db=db)
        feeds, _ = parse_opml(sites.opml().encode())
        with open_writer(db) as con:
            add_feeds(con, feeds, now=datetime.now(UTC), interval=settings.default_interval)
        click.echo(f"\nIngesting into {db} (Prefect flow 'ingest') ...\n")
        summary = ingest(db=str(db), all_feeds=False)
        click.echo("")
        _print_summary(summary)
        click.echo("\nA second pass right after: the feeds answer 304 Not Modified, nothing is fetched again.")
        again = ingest(db=str(db), all_feeds=True)
        _print_summary(again)

    with open_reader(db) as con:
        cursor = con.execute(
            """
            SELECT coalesce(f.title, a.source) AS outlet, strftime(a.published_at, '%Y-%m-%d') AS published,
                   a.title, len(string_split(a.text, ' ')) AS words
            FROM articles a LEFT JOIN feeds f ON f.url = a.feed_url
            ORDER BY a.published_at DESC, outlet
            """
        )
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
        shared = con.execute(
            """
            SELECT s.title, s.source_count,
                   list(f.kind || ' ' || f.surfaces[1] ORDER BY f.source_count DESC, f.kind)[:4] AS agreed
            FROM stories s LEFT JOIN story_facts f ON f.story_id = s.story_id AND f.source_count > 1
            WHERE s.source_count > 1 GROUP BY s.story_id, s.title, s.source_count, s.last_seen_at
            ORDER BY s.last_seen_at DESC
            """
        ).fetchall()
    click.echo("\nStored articles:")
    _emit(columns, rows, "table")
    click.echo("\nStories told by several outlets, with facts they agree on:")
    for title, sources, agreed in shared:
        facts = "; ".join(a for a in agreed if a) or "-"
        click.echo(f"  {title}  [{sources} outlets]\n      {facts}")
    click.echo(
        f"\nExplore it: newsmon --db {db} stories --since all\n"
        f"            newsmon --db {db} query \"SELECT kind, value, unit, subject, source_count FROM story_facts\"\n"
        f"            newsmon --db {db} feeds list"
    )
