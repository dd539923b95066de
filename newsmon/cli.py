"""The `newsmon` command line."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from newsmon import __version__
from newsmon.settings import get_settings


def _settings(ctx: click.Context) -> Any:
    return get_settings(db=ctx.obj["db"]) if ctx.obj.get("db") else get_settings()


@click.group()
@click.version_option(__version__, prog_name="newsmon")
@click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), envvar="NEWSMON_DB",
    help="DuckDB file (env NEWSMON_DB; default ./newsmon.duckdb).",
)
@click.pass_context
def cli(ctx: click.Context, db: Path | None) -> None:
    """newsmon: poll news feeds, extract articles, store them in DuckDB."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


# --- feeds ---------------------------------------------------------------------------------------


@cli.group()
def feeds() -> None:
    """Manage the feeds newsmon polls."""


@feeds.command("add")
@click.argument("urls", nargs=-1, required=True)
@click.pass_context
def feeds_add(ctx: click.Context, urls: Sequence[str]) -> None:
    """Add feeds by URL. Already known feeds are left as they are."""
    from newsmon.extract.urls import BadURL, check_http_url

    good: list[tuple[str, str | None]] = []
    for url in urls:
        try:
            good.append((check_http_url(url), None))
        except BadURL as exc:
            click.echo(f"refused {url}: {exc}", err=True)
    _add_feeds(ctx, good)
    if len(good) < len(urls):
        sys.exit(1)


@feeds.command("import")
@click.argument("source")
@click.pass_context
def feeds_import(ctx: click.Context, source: str) -> None:
    """Import feeds from an OPML file (path or http(s) URL)."""
    from newsmon.extract.opml import OPMLError, parse_opml

    body = _read_source(ctx, source)
    try:
        found, rejected = parse_opml(body)
    except OPMLError as exc:
        raise click.ClickException(str(exc)) from exc
    for reason in rejected:
        click.echo(f"skipped an outline: {reason}", err=True)
    _add_feeds(ctx, found)


def _read_source(ctx: click.Context, source: str) -> bytes:
    if not source.startswith(("http://", "https://")):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise click.ClickException(f"cannot read {source}: {exc}") from exc
    from newsmon.ingest.http import Fetcher

    async def fetch() -> Any:
        async with Fetcher(_settings(ctx)) as fetcher:
            return await fetcher.get(source, "feed")

    result = asyncio.run(fetch())
    if not result.ok or result.body is None:
        raise click.ClickException(f"cannot fetch {source}: {result.error or result.status}")
    return result.body


def _add_feeds(ctx: click.Context, found: Sequence[tuple[str, str | None]]) -> None:
    from newsmon.storage.db import open_writer
    from newsmon.storage.feeds import add_feeds

    settings = _settings(ctx)
    with _storage_errors(), open_writer(settings.db, timeout=settings.lock_timeout) as con:
        added = add_feeds(con, found, now=datetime.now(UTC), interval=settings.default_interval)
    click.echo(f"added {len(added)} feed(s), {len(found) - len(added)} already present")
    for url in added:
        click.echo(f"  + {url}")


@feeds.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def feeds_list(ctx: click.Context, fmt: str) -> None:
    """List feeds with their health."""
    from newsmon.storage.feeds import FEED_LIST_SQL

    _run_query(ctx, FEED_LIST_SQL, fmt)


@feeds.command("remove")
@click.argument("url")
@click.pass_context
def feeds_remove(ctx: click.Context, url: str) -> None:
    """Stop polling a feed (its articles stay)."""
    from newsmon.storage.db import open_writer
    from newsmon.storage.feeds import remove_feed

    settings = _settings(ctx)
    with _storage_errors(), open_writer(settings.db, timeout=settings.lock_timeout) as con:
        removed = remove_feed(con, url)
    if not removed:
        raise click.ClickException(f"no such feed: {url}")
    click.echo(f"removed {url}")


# --- run -------------------------------------------------------------------------------------------


@cli.command()
@click.option("--all", "all_feeds", is_flag=True, help="Poll every feed now, due or not.")
@click.option("--shard", default="0/1", show_default=True, help="I/N: only the I-th of N shares of the feeds.")
@click.pass_context
def run(ctx: click.Context, all_feeds: bool, shard: str) -> None:
    """One ingest pass (the Prefect flow `ingest`) over the feeds that are due."""
    try:
        index, count = (int(part) for part in shard.split("/"))
        if not 0 <= index < count:
            raise ValueError
    except ValueError:
        raise click.BadParameter(f"{shard!r}: use I/N with 0 <= I < N, e.g. 0/2", param_hint="--shard") from None
    settings = _settings(ctx)
    summary = _run_ingest(settings.db, all_feeds, index, count)
    _print_summary(summary)


def _run_ingest(db: Path, all_feeds: bool, shard: int = 0, shards: int = 1) -> Any:
    from newsmon.flows.ingest import ingest

    try:
        return ingest(db=str(db), all_feeds=all_feeds, shard=shard, shards=shards)
    except Exception as exc:
        raise click.ClickException(f"the ingest pass failed: {type(exc).__name__}: {exc}") from exc


def _print_summary(summary: Any) -> None:
    s = summary
    if s.skipped:
        click.echo(f"nothing done: {s.skipped}")
        return
    click.echo(
        f"feeds: {s.feeds_polled} polled, {s.feeds_not_modified} not modified, {s.feeds_failed} failed"
        f" (of {s.feeds_due} due)"
    )
    click.echo(
        f"articles: {s.articles_new} new, {s.articles_updated} updated, {s.articles_failed} failed"
        + (f", {s.items_refused} links refused" if s.items_refused else "")
    )
    if s.articles_clustered:
        click.echo(
            f"stories: {s.articles_clustered} articles assigned, {s.stories_new} new stories, "
            f"{s.near_duplicates} near-duplicates"
        )
    if s.alerts_new or s.alerts_sent:
        click.echo(f"alerts: {s.alerts_new} new, {s.alerts_sent} deliveries sent")
    if s.facts_articles or s.facts_error:
        failed = f"; failed: {s.facts_error}" if s.facts_error else ""
        click.echo(f"facts: extracted from {s.facts_articles} article(s){failed}")
    if s.stage_seconds:
        click.echo("time: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in s.stage_seconds.items()))
    if s.spooled_batches:
        click.echo(
            f"database busy: {s.spooled_batches} batch(es) spooled beside it, merged on the next pass",
        )


# --- query -----------------------------------------------------------------------------------------


@cli.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def query(ctx: click.Context, sql: str, fmt: str) -> None:
    """Run read-only SQL against the database."""
    _run_query(ctx, sql, fmt)


def _run_query(ctx: click.Context, sql: str, fmt: str) -> None:
    import duckdb

    from newsmon.storage.db import open_reader

    settings = _settings(ctx)
    with _storage_errors(), open_reader(settings.db, timeout=settings.lock_timeout) as con:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            raise click.ClickException(str(exc)) from exc
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    _emit(columns, rows, fmt)


def _emit(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=_json_default,
                              ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns, show_lines=False)
        for row in rows:
            table.add_row(*("" if v is None else _cell(v) for v in row))
        Console(width=max(120, _terminal_width())).print(table)
        click.echo(f"{len(rows)} row(s)")


def _cell(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 160


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    return str(value)


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Turn any error newsmon raises on purpose (a locked or outdated database, a pass in progress) into one line."""
    from newsmon.errors import NewsmonError

    try:
        yield
    except NewsmonError as exc:
        raise click.ClickException(str(exc)) from exc


# --- stories -------------------------------------------------------------------------------------


@cli.command()
@click.option("--since", default="1d", show_default=True, help="How far back: 12h, 1d, 7d, all.")
@click.option("--limit", default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def stories(ctx: click.Context, since: str, limit: int, fmt: str) -> None:
    """The latest stories, with the outlets that reported each."""
    from newsmon.storage.db import open_reader
    from newsmon.storage.stories import STORIES_SQL

    start = _since(since)
    settings = _settings(ctx)
    with _storage_errors(), open_reader(settings.db, timeout=settings.lock_timeout) as con:
        cursor = con.execute(STORIES_SQL, [start, limit])
        columns = [d[0] for d in cursor.description or []]
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    if fmt == "json":
        click.echo(json.dumps(rows, default=_json_default, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"no stories since {start:%Y-%m-%d %H:%M} UTC")
    for row in rows:
        when = row["last_seen_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M") if row["last_seen_at"] else "?"
        click.echo(f"{when}  {row['title'] or '(untitled)'}")
        click.echo(
            f"                  {row['article_count']} article(s) from {row['source_count']} source(s): "
            + ", ".join(row["sources"])
        )


def _since(text: str) -> datetime:
    from datetime import timedelta

    if text == "all":
        return datetime(1970, 1, 1, tzinfo=UTC)
    units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    try:
        return datetime.now(UTC) - timedelta(seconds=float(text[:-1]) * units[text[-1]])
    except (KeyError, ValueError, IndexError):
        raise click.BadParameter(f"{text!r}: use a number and a unit (m, h, d, w), or 'all'") from None


@cli.command()
@click.pass_context
def recluster(ctx: click.Context) -> None:
    """Rebuild every story from the stored articles (the Prefect flow `recluster`). No refetch."""
    from newsmon.flows.stories import recluster as recluster_flow

    settings = _settings(ctx)
    outcome = recluster_flow(db=str(settings.db))
    if outcome.skipped:
        raise click.ClickException("the database is busy: try again when other processes have closed it")
    click.echo(
        f"reclustered {outcome.articles} article(s): {outcome.new_stories} stories, "
        f"{outcome.duplicates} near-duplicates"
    )


# --- operations ----------------------------------------------------------------------------------


@cli.command()
@click.option("--every", default=15, show_default=True, help="Minutes between ingest passes.")
@click.pass_context
def serve(ctx: click.Context, every: int) -> None:
    """Run every deployment from this process (prefect.serve): ingest every 15 minutes, alert delivery retries
    every 5, nightly maintenance, and recluster / reextract-facts to trigger by hand."""
    from datetime import timedelta

    from prefect import serve as prefect_serve

    from newsmon.flows.schedules import runner_deployments

    settings = _settings(ctx)
    prefect_serve(*runner_deployments(settings.db.resolve(), ingest_every=timedelta(minutes=every)))


@cli.command()
@click.option("--export-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: DB.parquet/")
@click.pass_context
def maintain(ctx: click.Context, export_dir: Path | None) -> None:
    """Run the nightly maintenance flow now: raw HTML retention, compaction, Parquet export."""
    from newsmon.flows.maintenance import maintenance

    settings = _settings(ctx)
    outcome = maintenance(db=str(settings.db), export_dir=str(export_dir) if export_dir else None)
    if outcome.skipped:
        raise click.ClickException(outcome.skipped)
    click.echo(f"raw HTML dropped from {outcome.pages_pruned} page(s)")
    click.echo(f"exported {len(outcome.exported)} table(s) to {outcome.export_dir}")


# --- status --------------------------------------------------------------------------------------


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def status(ctx: click.Context, fmt: str) -> None:
    """Health at a glance: recent runs, failing feeds, alert backlog, database size, problems."""
    from dataclasses import asdict
    from datetime import timedelta

    from newsmon.storage.db import open_reader
    from newsmon.storage.status import status_report

    settings = _settings(ctx)
    # A run is overdue after three default intervals without one.
    stale = timedelta(seconds=3 * settings.default_interval)
    with _storage_errors(), open_reader(settings.db, timeout=settings.lock_timeout) as con:
        report = status_report(con, settings.db, stale_after=stale)
    if fmt == "json":
        click.echo(json.dumps(asdict(report), default=_json_default, indent=2))
        return
    click.echo(
        f"{report.database}: {report.size_bytes / 1e6:.1f} MB, {report.feeds} feeds, "
        f"{report.articles} articles, {report.stories} stories"
    )
    click.echo("\nproblems:" if report.problems else "\nno problems")
    for problem in report.problems:
        click.echo(f"  ! {problem}")
    if report.runs:
        click.echo("\nlast runs:")
        _emit(list(report.runs[0]), [tuple(r.values()) for r in report.runs], "table")
    if report.failing_feeds:
        click.echo("\nfailing feeds:")
        for feed in report.failing_feeds:
            next_at = feed["next_poll_at"]
            state = "disabled" if feed["disabled"] else "next poll " + (
                f"{next_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if next_at else "now"
            )
            click.echo(f"  {feed['url']}\n    {feed['error_count']} failure(s), {state}: {feed['last_error']}")
    if report.alert_backlog is not None:
        backlog = ", ".join(f"{n} {s}" for s, n in sorted(report.alert_backlog.items())) or "empty"
        click.echo(f"\nalert backlog: {backlog}")


# --- reextract -------------------------------------------------------------------------------------


@cli.command()
@click.option("--facts", "facts_only", is_flag=True, help="Re-extract the facts from the stored text instead.")
@click.pass_context
def reextract(ctx: click.Context, facts_only: bool) -> None:
    """Extract stored articles again from their kept raw HTML, or their facts from their text (no refetch)."""
    settings = _settings(ctx)
    if facts_only:
        from newsmon.flows.facts import reextract_facts

        facts = reextract_facts(db=str(settings.db))
        if facts.error:
            raise click.ClickException(f"fact extraction failed: {facts.error}")
        click.echo(f"re-extracted facts of {facts.articles} article(s): {facts.facts} facts")
        return
    from newsmon.flows.reextract import reextract_all

    with _storage_errors():
        outcome = reextract_all(settings)
    click.echo(f"re-extracted {outcome.pages} page(s): {outcome.changed} changed, {outcome.failed} failed")


# --- demo ------------------------------------------------------------------------------------------


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Ingest the bundled sample news sites, served on loopback, and show what was stored."""
    from newsmon.demo.run import run_demo

    run_demo(ctx.obj.get("db") or Path("newsmon-demo.duckdb"))


# --- ui --------------------------------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="NEWSMON_UI_HOST",
              help="Address to listen on; anything but loopback must be given here explicitly.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), envvar="NEWSMON_UI_PORT",
              help="0 picks a free port.")
@click.pass_context
def ui(ctx: click.Context, host: str, port: int) -> None:
    """Browse stories, facts, feeds and alerts in a web browser (read-only; never blocks an ingest pass)."""
    from newsmon.ui.serve import serve

    settings = _settings(ctx)
    db = settings.db
    # Right after `newsmon demo`, with no database named, browse the demo's.
    if not ctx.obj.get("db") and not db.exists() and Path("newsmon-demo.duckdb").exists():
        db = Path("newsmon-demo.duckdb")
    explicit = ctx.get_parameter_source("host") == click.core.ParameterSource.COMMANDLINE
    with _storage_errors():  # a ServeError, like every NewsmonError, is one line
        serve(db, host, port, explicit_host=explicit, lock_timeout=min(settings.lock_timeout, 2.0),
              announce=click.echo)


def _register_groups() -> None:
    from newsmon.alerts_cli import alerts_group

    cli.add_command(alerts_group)


_register_groups()


def main() -> None:
    # Prefect's anonymous usage telemetry fails loudly offline; opt in by setting it to true.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    cli(obj={})
