"""`newsmon alerts ...`: manage alert rules, try them, deliver and inspect the outbox.

Registered in newsmon/cli.py with `cli.add_command(alerts_group)`; the database comes from the root
group's `--db` / NEWSMON_DB like every other command, opened through newsmon.database as every command does.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from newsmon.alerts.rules import RuleError, load_toml, make_rule
from newsmon.alerts.secrets import redact
from newsmon.console import emit, format_option, plural, short_time
from newsmon.database import existing_db, parse_since, reading, settings_of, storage_errors, writing
from newsmon.model import DEFAULT_FOLLOW_UP_SOURCES, Rule


def _fail(message: str) -> click.ClickException:
    return click.ClickException(redact(message))


@click.group("alerts")
def alerts_group() -> None:
    """Alert rules, and the outbox of alerts they produced."""


@alerts_group.command("add")
@click.argument("name")
@click.option("--keywords", help="Keyword expression: AND, OR, NOT, (...), \"phrases\", prefix*.")
@click.option("--entity", help="A name, e.g. \"Haluk Görgün\" (accents and case ignored).")
@click.option("--fact", help="A fact condition, e.g. \"money >= 500 million USD\", \"percent > 40\".")
@click.option("--sql", "sql_predicate", help="A SQL predicate over the alert_candidates view.")
@click.option("--notify", "channels", multiple=True, required=True, metavar="URL",
              help="Webhook http(s) URL or apprise URL (repeatable). Secrets as ${VAR}.")
@click.option("--follow-up-sources", type=click.IntRange(min=0), default=DEFAULT_FOLLOW_UP_SOURCES,
              show_default=True, help="New outlets that trigger a follow-up (0: none).")
@click.option("--disabled", is_flag=True, help="Store the rule without evaluating it.")
@click.option("--replace", is_flag=True, help="Replace a rule of the same name.")
@click.pass_context
def add(
    ctx: click.Context,
    name: str,
    keywords: str | None,
    entity: str | None,
    fact: str | None,
    sql_predicate: str | None,
    channels: tuple[str, ...],
    follow_up_sources: int,
    disabled: bool,
    replace: bool,
) -> None:
    """Add a rule NAME: conditions (all must hold) and where to send its alerts."""
    try:
        rule = make_rule(
            name, channels=channels, keywords=keywords, entity=entity, fact=fact, sql=sql_predicate,
            follow_up_sources=follow_up_sources, enabled=not disabled,
        )
    except RuleError as exc:
        raise _fail(str(exc)) from None
    outcome = _save(ctx, [rule], replace=replace)
    verb = "replaced" if outcome["updated"] else "added"
    click.echo(f"{verb} rule {rule.name}: {rule.describe()}")
    for channel in rule.channels:
        click.echo(f"  -> {redact(channel)}")


def _save(
    ctx: click.Context, rules: list[Rule], *, replace: bool = True, prune_origin: str | None = None
) -> dict[str, list[str]]:
    from newsmon.alerts.sql import SQLRuleError, check_sql
    from newsmon.storage import alerts as store

    with writing(ctx) as con:
        for rule in rules:
            if rule.sql:
                try:
                    check_sql(store.candidates_schema(con), rule.sql)
                except SQLRuleError as exc:
                    raise _fail(f"rule {rule.name!r}: {exc}") from None
        if not replace:
            for rule in rules:
                if store.get_rule(con, rule.name) is not None:
                    raise _fail(f"rule {rule.name!r} exists: remove it first, or pass --replace")
        return store.save_rules(con, rules, now=datetime.now(UTC), prune_origin=prune_origin)


@alerts_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Remove rules imported from this file earlier that it no longer has.")
@click.pass_context
def import_rules(ctx: click.Context, path: Path, prune: bool) -> None:
    """Add or update rules, by name, from a TOML file ([rules.NAME] tables)."""
    origin = f"toml:{path.resolve()}"
    try:
        rules = load_toml(path.read_text(encoding="utf-8"), origin=origin)
    except (RuleError, UnicodeDecodeError) as exc:
        raise _fail(f"{path}: {exc}") from None
    outcome = _save(ctx, rules, prune_origin=origin if prune else None)
    click.echo(
        f"{path}: {len(outcome['added'])} added, {len(outcome['updated'])} updated, "
        f"{len(outcome['unchanged'])} unchanged" + (f", {len(outcome['removed'])} removed" if prune else "")
    )
    for key, mark in (("added", "+"), ("updated", "~"), ("removed", "-")):
        for name in outcome[key]:
            click.echo(f"  {mark} {name}")


@alerts_group.command("list")
@format_option
@click.pass_context
def list_rules(ctx: click.Context, fmt: str) -> None:
    """The rules, with how many alerts each produced and their delivery state."""
    from newsmon.storage import alerts as store

    with reading(ctx) as con:
        columns, rows = store.rule_list(con)
        counts = store.outbox_counts(con)
    at = columns.index("channels")
    for row in rows:
        row[at] = [redact(c) for c in row[at]] if fmt == "json" else "\n".join(redact(c) for c in row[at])
    emit(columns, [tuple(r) for r in rows], fmt, count_as="rule")
    if fmt == "table":
        click.echo("outbox deliveries: " + (", ".join(f"{n} {s}" for s, n in counts) or "none"))


@alerts_group.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove a rule. Its alerts stay as history; its undelivered ones are cancelled."""
    from newsmon.storage import alerts as store

    existing_db(ctx)
    with writing(ctx) as con:
        if not store.remove_rule(con, name):
            raise _fail(f"no such rule: {name}")
    click.echo(f"removed rule {name}")


@alerts_group.command("test")
@click.argument("name")
@click.option("--since", default="all", show_default=True, help="Stories seen since: 12h, 7d, all.")
@click.option("--limit", default=20, show_default=True, help="Matches shown.")
@click.option("--send", is_flag=True, help="Deliver the alert for the newest matching story (recorded as sent).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def test(ctx: click.Context, name: str, since: str, limit: int, send: bool, fmt: str) -> None:
    """Show which stored stories rule NAME matches. Sends nothing unless --send."""
    from newsmon.flows.alerting import try_rule
    from newsmon.storage import alerts as store

    start = None if since == "all" else parse_since(since)
    with reading(ctx) as con:
        stored = store.get_rule(con, name)
        if stored is None:
            raise _fail(f"no such rule: {name}")
        trial = try_rule(con, stored, since=start)
        states = store.alert_states(con, name)
    for note in trial.notes:
        click.echo(f"note: {redact(note)}", err=True)
    if fmt == "json":
        click.echo(json.dumps([_match_json(m, states) for m in trial.matches[:limit]], ensure_ascii=False, indent=2))
    else:
        click.echo(f"rule {name}: {stored.rule.describe()}")
        click.echo(f"matches {len(trial.matches)} of {plural(trial.stories, 'stored story', 'stored stories')}")
        for m in trial.matches[:limit]:
            _print_match(m, states)
    if send:
        _send(ctx, name)


def _match_json(m: Any, states: dict[str, tuple[int, str]]) -> dict[str, Any]:
    s = m.story
    state = states.get(s.story_id)
    return {
        "story_id": s.story_id, "title": s.title,
        "last_seen_at": s.last_seen_at.isoformat() if s.last_seen_at else None,
        "article_count": s.article_count, "sources": s.names(s.sources), "matched": m.matched,
        "alerted": {"revision": state[0], "status": state[1]} if state else None,
    }


def _print_match(m: Any, states: dict[str, tuple[int, str]]) -> None:
    from newsmon.alerts.messages import clean

    s = m.story
    when = short_time(s.last_seen_at) or "?"
    click.echo(f"{when}  {clean(s.title or '(untitled)')}")
    click.echo(
        f"    {plural(s.article_count, 'article')} from {plural(s.source_count, 'source')}: "
        f"{', '.join(s.names(s.sources))}"
    )
    what = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in m.matched.items())
    click.echo(f"    matched {clean(what)}")
    state = states.get(s.story_id)
    click.echo(f"    alerted: revision {state[0]}, {state[1]}" if state else "    not alerted yet")


def _send(ctx: click.Context, name: str) -> None:
    from newsmon.flows.alerting import send_test

    settings = settings_of(ctx)
    with storage_errors():
        hit, written = send_test(settings, name)
    if hit is None:
        raise _fail(f"rule {name} matches no stored story: nothing to send")
    if not written:
        click.echo(f"already alerted for {hit.story.title!r} and nothing material changed since: nothing new to send")
        return
    click.echo(f"alert written for {hit.story.title!r}; delivering ...")
    _deliver(settings.db, ignore_backoff=False)


def _deliver(db: Path, *, ignore_backoff: bool) -> None:
    from newsmon.flows.alerts import deliver_alerts_flow

    outcome = deliver_alerts_flow(db=str(db), ignore_backoff=ignore_backoff)
    if outcome.error:
        raise _fail(f"delivery failed: {outcome.error}")
    if outcome.skipped:
        raise _fail(outcome.skipped)
    click.echo(
        f"deliveries: {outcome.attempted} attempted, {outcome.sent} sent, {outcome.retrying} to retry, "
        f"{outcome.failed} failed"
    )
    for error in outcome.errors:
        click.echo(f"  {redact(error)}", err=True)
    if outcome.retrying or outcome.failed:
        sys.exit(1)


@alerts_group.command("deliver")
@click.pass_context
def deliver(ctx: click.Context) -> None:
    """Send every pending or failed delivery now, backoff ignored (after mending a channel)."""
    _deliver(settings_of(ctx).db, ignore_backoff=True)


@alerts_group.command("status")
@click.option("--rule", help="Only this rule's alerts.")
@click.option("--all", "show_all", is_flag=True, help="Every delivery, not only unsent and recent ones.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@format_option
@click.pass_context
def status(ctx: click.Context, rule: str | None, show_all: bool, limit: int, fmt: str) -> None:
    """The outbox: each alert's delivery per channel (status, attempts, last error, sent at)."""
    from datetime import timedelta

    from newsmon.storage import alerts as store

    recent = datetime.now(UTC) - timedelta(days=1)
    with reading(ctx) as con:
        columns, rows = store.outbox_list(con, show_all=show_all, recent=recent, rule=rule, limit=limit)
        counts = store.outbox_counts(con)
    at, err = columns.index("channel"), columns.index("last_error")
    for row in rows:
        row[at] = redact(row[at])
        row[err] = redact(row[err]) if row[err] else row[err]
    if fmt == "table":
        click.echo("deliveries: " + (", ".join(f"{n} {s}" for s, n in counts) or "none"))
    emit(columns, [tuple(r) for r in rows], fmt, count_as="delivery")
