"""`newsmon demo`: serve the bundled sample sites on loopback, ingest them, show what was stored.

The caller (newsmon.cli) provides the Prefect API and the progress display; this module holds no SQL.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from newsmon.demo.sites import DemoSites


def start_over(db: Path) -> None:
    """Remove a database an earlier demo made; refuse any other (called before a Prefect server starts)."""
    from newsmon.storage.analyst import only_loopback_feeds

    if db.exists():
        if not only_loopback_feeds(str(db)):
            raise click.ClickException(f"{db} exists and is not a demo database: pass another --db")
        db.unlink()
        Path(f"{db}.wal").unlink(missing_ok=True)


def run_demo(db: Path, *, show_progress: bool = True) -> None:
    from newsmon.console import emit, live_progress, print_summary
    from newsmon.extract.opml import parse_opml
    from newsmon.flows.ingest import ingest
    from newsmon.settings import get_settings
    from newsmon.storage.analyst import demo_articles, demo_shared_stories
    from newsmon.storage.db import open_reader, open_writer
    from newsmon.storage.feeds import add_feeds

    start_over(db)
    # The sample sites live on loopback, which newsmon refuses by default (SSRF guard).
    os.environ["NEWSMON_ALLOW_NETWORKS"] = "127.0.0.0/8"
    os.environ.setdefault("NEWSMON_HOST_DELAY", "0.05")

    with DemoSites() as sites:
        click.echo(f"Serving {len(sites.feed_urls)} sample news sites on loopback:")
        for outlet in sites.outlets():
            click.echo(f"  {outlet.name:<22} {outlet.feed_url}")
        settings = get_settings(db=db)
        feeds, _ = parse_opml(sites.opml().encode())
        with open_writer(db) as con:
            add_feeds(con, feeds, now=datetime.now(UTC), interval=settings.default_interval)
        click.echo(f"\nIngesting into {db} (Prefect flow 'ingest') ...\n")
        with live_progress(show_progress):  # one display per pass: each counts against its own totals
            summary = ingest(db=str(db), all_feeds=False)
        click.echo("")
        print_summary(summary)
        click.echo("\nA second pass right after: the feeds answer 304 Not Modified, nothing is fetched again.")
        with live_progress(show_progress):
            again = ingest(db=str(db), all_feeds=True)
        print_summary(again)

    with open_reader(db) as con:
        columns, rows = demo_articles(con)
        shared = demo_shared_stories(con)
    click.echo("\nStored articles:")
    emit(columns, rows, "table", optional=("words", "published"), count_as="article")
    click.echo("\nStories told by several outlets, with facts they agree on:")
    for story_id, title, sources, agreed in shared:
        facts = "; ".join(a for a in agreed if a) or "-"
        click.echo(f"  {story_id}  {title}  [{sources} outlets]\n      {facts}")
    example = shared[0][0] if shared else "ID"
    click.echo(
        f"\nExplore it: newsmon --db {db} stories --since all\n"
        f"            newsmon --db {db} stories show {example}\n"
        f"            newsmon --db {db} query \"SELECT kind, value, unit, subject, source_count FROM story_facts\"\n"
        f"            newsmon --db {db} export {db.stem}-export/\n"
        f"            newsmon --db {db} feeds list"
    )
