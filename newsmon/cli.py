"""The `newsmon` command line: commands ask storage/ and flows/, newsmon.console prints."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from newsmon import __version__
from newsmon.console import (
    EXIT_BUSY,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    clean_error,
    echo_json,
    emit,
    format_option,
    live_progress,
    plural,
    print_summary,
    short_time,
)
from newsmon.database import (
    existing_db,
    parse_since,
    reading,
    settings_of,
    storage_errors,
    writable_db,
    writing,
)
from newsmon.errors import NewsmonError, RunInProgress
from newsmon.prefect_api import opt_out_of_analytics, quiet_prefect_logs
from newsmon.settings import Settings, get_settings

_debug = False  # -v: tracebacks of unexpected errors (NEWSMON_DEBUG=1 does the same)


# --- the root ----------------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsmon")
@click.option(
    "--db", type=click.Path(path_type=Path), envvar="NEWSMON_DB",
    help="DuckDB file (env NEWSMON_DB; default ./newsmon.duckdb).",
)
@click.option("-v", "--verbose", is_flag=True, help="Prefect's logs, and the traceback of an error.")
@click.option("-q", "--quiet", is_flag=True, help="Warnings, errors and results only: no progress display.")
@click.pass_context
def cli(ctx: click.Context, db: Path | None, verbose: bool, quiet: bool) -> None:
    """newsmon: poll news feeds, extract articles, group them into stories, keep it all in DuckDB."""
    global _debug
    limit_malloc_arenas()
    if verbose and quiet:
        raise click.UsageError("-v and -q exclude each other")
    ctx.ensure_object(dict)
    ctx.obj.update(db=db, quiet=quiet)
    _debug = verbose or _debug
    # Prefect's INFO lines ("Finished in state Completed()") would scroll under the live display on a terminal;
    # elsewhere (pipes, deployments) its logs stay as they are unless asked.
    if quiet:
        quiet_prefect_logs("ERROR")
    elif verbose:
        quiet_prefect_logs("INFO")
    elif sys.stderr.isatty() and "PREFECT_LOGGING_LEVEL" not in os.environ:
        quiet_prefect_logs("WARNING")


def _with_prefect(
    ctx: click.Context, settings: Settings, *, progress: bool = True, flows: str | None = None
) -> Any:
    """The block runs flows against one Prefect API (a temporary server when none is configured), with the
    live progress display unless -q (or `progress` is False: the command shows it per pass itself). The module
    `flows` names is imported while a temporary server starts (see `prefect_api`)."""
    from contextlib import ExitStack
    from importlib import import_module

    from newsmon.prefect_api import PrefectServerError, prefect_api

    stack = ExitStack()
    try:
        meanwhile = (lambda: import_module(flows)) if flows else None
        stack.enter_context(
            prefect_api(settings.prefect_startup_timeout, meanwhile=meanwhile, linger=settings.prefect_server_linger)
        )
    except PrefectServerError as exc:
        raise click.ClickException(str(exc)) from exc
    if progress:
        stack.enter_context(live_progress(not ctx.obj.get("quiet")))
    return stack


# --- feeds -------------------------------------------------------------------------------------------------


@cli.group()
def feeds() -> None:
    """Manage the feeds newsmon polls."""


@feeds.command("add")
@click.argument("urls", nargs=-1, required=True)
@click.pass_context
def feeds_add(ctx: click.Context, urls: Sequence[str]) -> None:
    """Add feeds by URL. Already known feeds are left as they are."""
    settings = writable_db(ctx)
    good: list[tuple[str, str | None]] = []
    for url in urls:
        reason = _refusal(url, settings)
        if reason:
            click.echo(f"refused {url}: {reason}", err=True)
        else:
            good.append((url.strip(), None))
    if good:
        _add_feeds(ctx, good)
    if len(good) < len(urls):
        sys.exit(EXIT_ERROR)


def _refusal(url: str, settings: Settings) -> str | None:
    """Why a feed URL is refused at add time: the fetcher's own rules (an http(s) URL, a public address)."""
    from newsmon.extract.urls import BadURL, check_http_url
    from newsmon.net import AddressRefused, check_host

    try:
        check_host(check_http_url(url), settings.allowed_networks)
    except (BadURL, AddressRefused) as exc:
        return str(exc)
    return None


@feeds.command("import")
@click.argument("source")
@click.pass_context
def feeds_import(ctx: click.Context, source: str) -> None:
    """Import feeds from an OPML file (path or http(s) URL)."""
    from newsmon.extract.opml import OPMLError, parse_opml

    settings = writable_db(ctx)
    body = _read_source(ctx, source)
    try:
        found, rejected = parse_opml(body)
    except OPMLError as exc:
        raise click.ClickException(f"{source}: {exc}") from exc
    for reason in rejected:
        click.echo(f"skipped an outline: {reason}", err=True)
    allowed = []
    for url, title in found:
        reason = _refusal(url, settings)
        if reason:
            click.echo(f"skipped {url}: {reason}", err=True)
        else:
            allowed.append((url, title))
    _add_feeds(ctx, allowed)


def _read_source(ctx: click.Context, source: str) -> bytes:
    if not source.startswith(("http://", "https://")):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise click.ClickException(f"cannot read {source}: {exc.strerror or exc}") from exc
    from newsmon.ingest.http import Fetcher

    async def fetch() -> Any:
        async with Fetcher(settings_of(ctx)) as fetcher:
            return await fetcher.get(source, "feed")

    result = asyncio.run(fetch())
    if not result.ok or result.body is None:
        raise click.ClickException(f"cannot fetch {source}: {result.error or result.status}")
    return result.body


def _add_feeds(ctx: click.Context, found: Sequence[tuple[str, str | None]]) -> None:
    from newsmon.storage.feeds import add_feeds

    settings = settings_of(ctx)
    with writing(ctx) as con:
        added = add_feeds(con, found, now=datetime.now(UTC), interval=settings.default_interval)
    click.echo(f"added {plural(len(added), 'feed')}, {len(found) - len(added)} already present")
    for url in added:
        click.echo(f"  + {url}")


@feeds.command("list")
@format_option
@click.pass_context
def feeds_list(ctx: click.Context, fmt: str) -> None:
    """List feeds with their health."""
    from newsmon.storage.analyst import FEED_COLUMNS_BY_IMPORTANCE, feed_list

    with reading(ctx) as con:
        columns, rows = feed_list(con)
    emit(columns, rows, fmt, optional=FEED_COLUMNS_BY_IMPORTANCE, count_as="feed")


@feeds.command("remove")
@click.argument("url")
@click.pass_context
def feeds_remove(ctx: click.Context, url: str) -> None:
    """Stop polling a feed (its articles stay)."""
    from newsmon.storage.feeds import remove_feed

    existing_db(ctx)
    with writing(ctx) as con:
        removed = remove_feed(con, url)
    if not removed:
        raise click.ClickException(f"no such feed: {url} (`newsmon feeds list` shows them)")
    click.echo(f"removed {url}")


@feeds.command("export")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def feeds_export(ctx: click.Context, path: Path | None) -> None:
    """Write the feed list as OPML, to PATH or to standard output."""
    from newsmon.extract.opml import write_opml
    from newsmon.storage.analyst import feeds_for_opml

    with reading(ctx) as con:
        feeds_found = feeds_for_opml(con)
    body = write_opml(feeds_found, title=f"newsmon feeds ({settings_of(ctx).db.name})")
    if path is None:
        click.echo(body, nl=False)
        return
    try:
        path.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {plural(len(feeds_found), 'feed')} to {path}", err=True)


# --- run -----------------------------------------------------------------------------------------------------


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
    settings = existing_db(ctx)
    _refuse_if_busy(settings.db, f"{index}of{count}")
    _refuse_if_no_feeds(ctx)
    with _with_prefect(ctx, settings, flows="newsmon.flows.ingest"):
        summary = _run_ingest(settings.db, all_feeds, index, count)
    print_summary(summary)
    if summary.skipped:
        sys.exit(EXIT_BUSY)


def _refuse_if_busy(db: Path, scope: str = "") -> None:
    """Before anything starts (a Prefect server takes seconds): stop at once when another pass holds the db."""
    from newsmon.storage.lock import run_holder

    holder = run_holder(db, scope)
    if holder:
        click.echo(f"nothing done: another pass is running: {holder}", err=True)
        sys.exit(EXIT_BUSY)


def _refuse_if_no_feeds(ctx: click.Context) -> None:
    from newsmon.storage.analyst import nothing_to_ingest
    from newsmon.storage.db import DatabaseLocked, SchemaOutdated

    db = settings_of(ctx).db
    try:
        with reading(ctx) as con:
            idle = nothing_to_ingest(con, db)
    except click.ClickException as exc:
        if isinstance(exc.__cause__, DatabaseLocked | SchemaOutdated):
            return  # the pass waits for the file, or migrates it, itself
        raise
    if idle:
        raise click.ClickException(
            f"no feeds in {db}: add one with `newsmon feeds add URL` (or `newsmon feeds import FILE`)"
        )


def _run_ingest(db: Path, all_feeds: bool, shard: int = 0, shards: int = 1) -> Any:
    from newsmon.flows.ingest import ingest

    try:
        return ingest(db=str(db), all_feeds=all_feeds, shard=shard, shards=shards)
    except KeyboardInterrupt:
        raise
    except NewsmonError as exc:  # said on purpose (a bad setting, a locked database): its own line
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:
        raise click.ClickException(f"the ingest pass failed: {type(exc).__name__}: {exc}") from exc


# --- query, stories, export --------------------------------------------------------------------------------


@cli.command()
@click.argument("sql")
@format_option
@click.pass_context
def query(ctx: click.Context, sql: str, fmt: str) -> None:
    """Run one read-only SQL statement against the database."""
    import duckdb

    from newsmon.storage.analyst import QueryError, run_statement

    with reading(ctx) as con:
        try:
            columns, rows = run_statement(con, sql)
        except (duckdb.Error, QueryError) as exc:
            raise click.ClickException(str(exc).strip()) from exc
    emit(columns, rows, fmt)


@cli.group(invoke_without_command=True)
@click.option("--since", default="1d", show_default=True, help="How far back: 12h, 1d, 7d, a date (2026-01-30), all.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@format_option
@click.pass_context
def stories(ctx: click.Context, since: str, limit: int, fmt: str) -> None:
    """The latest stories (ids, outlets); `newsmon stories show ID` for one story in full."""
    if ctx.invoked_subcommand is not None:
        return
    from newsmon.storage.analyst import story_list

    start = parse_since(since)
    with reading(ctx) as con:
        columns, rows = story_list(con, start, limit)
    if not rows and fmt == "table":
        click.echo(f"no stories since {short_time(start)}")
        return
    emit(columns, rows, fmt, optional=("source_count", "article_count", "last_seen_at"), count_as="story")


@stories.command("show")
@click.argument("story_id")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def stories_show(ctx: click.Context, story_id: str, fmt: str) -> None:
    """One story in full: sources, near-duplicates, facts, quotes, entities, and why each article is in it."""
    from newsmon.console import print_story
    from newsmon.storage.analyst import find_story, story_detail

    with reading(ctx) as con:
        found = find_story(con, story_id)
        if len(found) != 1:
            hint = f" (matches {', '.join(found)})" if found else " (`newsmon stories --since all` lists them)"
            raise click.ClickException(f"{'ambiguous' if found else 'no such'} story id: {story_id}{hint}")
        story = story_detail(con, found[0])
    if fmt == "json":
        echo_json(story)
    else:
        print_story(story)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.pass_context
def export(ctx: click.Context, directory: Path, fmt: str) -> None:
    """Write every analyst table (facts, quotes, entities... included) to DIRECTORY, one file each. Nothing is
    pruned or changed."""
    from newsmon.storage.maintenance import export_tables

    with reading(ctx) as con, storage_errors(directory):
        written = export_tables(con, directory, fmt)
    for table, rows in written.items():
        click.echo(f"  {table}.{fmt}: {plural(rows, 'row')}")
    click.echo(f"exported {plural(len(written), 'table')} to {directory}")


@cli.command()
@click.pass_context
def recluster(ctx: click.Context) -> None:
    """Rebuild every story from the stored articles (the Prefect flow `recluster`). No refetch."""
    from newsmon.flows.stories import recluster as recluster_flow

    settings = existing_db(ctx)
    with _with_prefect(ctx, settings), storage_errors(settings.db):
        outcome = recluster_flow(db=str(settings.db))
    if outcome.skipped:
        raise click.ClickException("the database is busy: try again when other processes have closed it")
    click.echo(
        f"reclustered {plural(outcome.articles, 'article')}: {plural(outcome.new_stories, 'story', 'stories')}, "
        f"{plural(outcome.duplicates, 'near-duplicate')}"
    )


# --- operations --------------------------------------------------------------------------------------------


@cli.command()
@click.option("--every", type=click.IntRange(min=1), default=15, show_default=True, help="Minutes between passes.")
@click.pass_context
def serve(ctx: click.Context, every: int) -> None:
    """Run every deployment from this process (prefect.serve): ingest every 15 minutes, alert delivery retries
    every 5, nightly maintenance, and recluster / reextract-facts to trigger by hand."""
    from prefect import serve as prefect_serve

    from newsmon.flows.schedules import runner_deployments
    from newsmon.prefect_api import prefect_api

    settings = writable_db(ctx)
    with prefect_api(settings.prefect_startup_timeout, linger=settings.prefect_server_linger):
        prefect_serve(*runner_deployments(settings.db.resolve(), ingest_every=timedelta(minutes=every)))


@cli.command()
@click.option("--export-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: DB.parquet/")
@click.pass_context
def maintain(ctx: click.Context, export_dir: Path | None) -> None:
    """Run the nightly maintenance flow now: raw HTML retention, compaction, Parquet export."""
    from newsmon.flows.maintenance import maintenance

    settings = existing_db(ctx)
    with _with_prefect(ctx, settings), storage_errors(settings.db):
        outcome = maintenance(db=str(settings.db), export_dir=str(export_dir) if export_dir else None)
    if outcome.skipped:
        raise click.ClickException(outcome.skipped)
    click.echo(f"raw HTML dropped from {plural(outcome.pages_pruned, 'page')}")
    click.echo(f"exported {plural(len(outcome.exported), 'table')} to {outcome.export_dir}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def status(ctx: click.Context, fmt: str) -> None:
    """Health at a glance: recent runs, failing feeds, alert backlog, database size, problems."""
    from dataclasses import asdict

    from newsmon.storage.status import status_report

    settings = existing_db(ctx)
    # A run is overdue after three default intervals without one.
    stale = timedelta(seconds=3 * settings.default_interval)
    with reading(ctx) as con:
        report = status_report(con, settings.db, stale_after=stale)
    if fmt == "json":
        echo_json(asdict(report))
        return
    click.echo(
        f"{report.database}: {report.size_bytes / 1e6:.1f} MB, {plural(report.feeds, 'feed')}, "
        f"{plural(report.articles, 'article')}, {plural(report.stories, 'story', 'stories')}"
    )
    click.echo("\nproblems:" if report.problems else "\nno problems")
    for problem in report.problems:
        click.echo(f"  ! {problem}")
    if report.runs:
        click.echo("\nlast runs:")
        emit(list(report.runs[0]), [tuple(r.values()) for r in report.runs], "table", count_as="run",
             optional=("spooled_batches", "articles_updated", "feeds_not_modified", "articles_failed",
                       "feeds_polled", "error"))
    if report.failing_feeds:
        click.echo("\nfailing feeds:")
        for feed in report.failing_feeds:
            next_at = feed["next_poll_at"]
            state = "disabled" if feed["disabled"] else "next poll " + (short_time(next_at) if next_at else "now")
            click.echo(
                f"  {feed['url']}\n    {plural(feed['error_count'], 'failure')}, {state}: "
                f"{clean_error(feed['last_error'])}"
            )
    if report.alert_backlog is not None:
        backlog = ", ".join(f"{n} {s}" for s, n in sorted(report.alert_backlog.items())) or "empty"
        click.echo(f"\nalert backlog: {backlog}")


@cli.command()
@click.option("--facts", "facts_only", is_flag=True, help="Re-extract the facts from the stored text instead.")
@click.pass_context
def reextract(ctx: click.Context, facts_only: bool) -> None:
    """Extract stored articles again from their kept raw HTML, or their facts from their text (no refetch)."""
    settings = existing_db(ctx)
    if facts_only:
        from newsmon.flows.facts import reextract_facts

        with _with_prefect(ctx, settings), storage_errors(settings.db):
            facts = reextract_facts(db=str(settings.db))
        if facts.error:
            raise click.ClickException(f"fact extraction failed: {facts.error}")
        click.echo(f"re-extracted facts of {plural(facts.articles, 'article')}: {plural(facts.facts, 'fact')}")
        return
    from newsmon.flows.reextract import reextract_all

    _refuse_if_busy(settings.db)  # it runs under the pass's lock
    with live_progress(not ctx.obj.get("quiet")), storage_errors(settings.db):
        outcome = reextract_all(settings)
    click.echo(
        f"re-extracted {plural(outcome.pages, 'page')}: {outcome.changed} changed, {outcome.failed} failed"
    )


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Ingest the bundled sample news sites, served on loopback, and show what was stored."""
    from newsmon.demo.run import run_demo, start_over

    db = ctx.obj.get("db") or Path("newsmon-demo.duckdb")
    settings = get_settings(db=db)
    start_over(db)
    with _with_prefect(ctx, settings, progress=False, flows="newsmon.flows.ingest"), storage_errors(db):
        run_demo(db, show_progress=not ctx.obj.get("quiet"))


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

    settings = settings_of(ctx)
    db = settings.db
    # Right after `newsmon demo`, with no database named, browse the demo's.
    if not ctx.obj.get("db") and not db.exists() and Path("newsmon-demo.duckdb").exists():
        db = Path("newsmon-demo.duckdb")
    explicit = ctx.get_parameter_source("host") == click.core.ParameterSource.COMMANDLINE
    with storage_errors():  # a ServeError, like every NewsmonError, is one line
        serve(db, host, port, explicit_host=explicit, lock_timeout=min(settings.lock_timeout, 2.0),
              announce=click.echo)


def _register_groups() -> None:
    from newsmon.alerts_cli import alerts_group

    cli.add_command(alerts_group)


_register_groups()


def limit_malloc_arenas(arenas: int = 2) -> None:
    """At most `arenas` glibc heaps in this process (unless MALLOC_ARENA_MAX says otherwise). glibc gives threads
    heaps of their own, up to 8 per core; a pass's process runs the fetcher's, Prefect's and DuckDB's threads, and
    their heaps held ~38 MiB more at its peak (bench/ingest.py --as-user, two runs each: the flow process 485-488
    against 445-449 MiB with 2, its CPU within run-to-run noise). Set before the command starts its threads."""
    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(-8, arenas)  # M_ARENA_MAX (glibc's malloc.h)


def main() -> None:
    """The console script: every error one line and a non-zero exit (a traceback with -v or NEWSMON_DEBUG=1)."""
    opt_out_of_analytics()  # before anything imports Prefect
    global _debug
    _debug = os.environ.get("NEWSMON_DEBUG", "") not in ("", "0")
    try:
        cli.main(prog_name="newsmon", obj={}, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except NewsmonError as exc:  # said on purpose, in one line
        if _debug:
            traceback.print_exc()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_BUSY if isinstance(exc, RunInProgress) else EXIT_ERROR)
    except click.ClickException as exc:
        if _debug and exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__)
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted: nothing more was done (a pass resumes where it stopped on the next run)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if _debug:
            traceback.print_exc()
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        hint = "" if _debug else " (run with -v or NEWSMON_DEBUG=1 to see the traceback)"
        click.echo(f"Error: {type(exc).__name__}{': ' + reason if reason else ''}{hint}", err=True)
        sys.exit(EXIT_ERROR)
