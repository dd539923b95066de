"""Alerting passes over the store: evaluate rules into the outbox, deliver the outbox.

Plain functions (no Prefect run context needed) so the CLI, the flows and a bare process share them;
`newsmon.flows.alerts` wraps them as tasks. Neither pass raises for a bad rule, channel or receiver: each
problem is recorded (outbox) or reported (outcome, log), and the ingest pass that calls them goes on.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import duckdb

from newsmon.alerts import channels
from newsmon.alerts.engine import Decision, MatchContext, decide, match, outbox_alert
from newsmon.alerts.secrets import Resolved, SecretError, redact, resolve
from newsmon.alerts.settings import AlertSettings
from newsmon.alerts.sql import sql_matches
from newsmon.model import PreviousAlert, StoryView
from newsmon.settings import Settings
from newsmon.storage import alerts as store
from newsmon.storage.db import DatabaseLocked, open_writer, writer_session
from newsmon.storage.transactions import transaction

_log = logging.getLogger("newsmon.alerts")
T = TypeVar("T")
CHUNK = 500  # stories matched per round trip
# Failed deliveries a pass logs one by one; the rest are counted in one line. A receiver that is down fails every
# alert of the pass, and each log line is a record sent to the Prefect API; the outbox keeps every error.
FAILURES_LOGGED = 20


@dataclass
class EvaluationOutcome:
    rules: int = 0
    stories_checked: int = 0
    alerts: int = 0  # revision 0
    follow_ups: int = 0
    skipped: str | None = None  # why nothing was evaluated (the database was busy)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class SentBatch:
    """One claimed batch as sent: each claim with its error (None: sent) and the secrets to redact, and when the
    sending ended (the outcomes' time, however late they are recorded)."""

    results: list[tuple[store.Claim, channels.DeliveryError | None, list[str]]]
    done: datetime


@dataclass
class DeliveryOutcome:
    attempted: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0  # given up (permanent error, or out of attempts)
    skipped: str | None = None
    errors: list[str] = field(default_factory=list)
    error: str | None = None


# --- evaluation ----------------------------------------------------------------------------------


@dataclass
class _Chunk:
    views: dict[str, StoryView]
    ctx: MatchContext
    previous: dict[tuple[str, str], PreviousAlert]


def _load_chunk(
    con: duckdb.DuckDBPyConnection,
    ids: Sequence[str],
    rules: Sequence[store.StoredRule],
    *,
    warnings: list[str],
) -> _Chunk:
    table = store.candidates_arrow(con, ids)
    ctx = MatchContext(
        facts=store.story_facts(con, ids),
        entities=store.story_entities(con, ids) if any(r.rule.entity for r in rules) else None,
    )
    for stored in rules:
        if stored.rule.sql:
            try:
                ctx.sql_matches[stored.rule.name] = sql_matches(table, stored.rule.sql)
            except duckdb.Error as exc:
                warnings.append(f"rule {stored.rule.name!r}: its SQL predicate failed: {exc}")
                ctx.sql_matches[stored.rule.name] = set()
    return _Chunk({v.story_id: v for v in store.story_views(table)}, ctx, store.latest_alerts(con, ids))


def evaluate_pass(
    settings: Settings,
    alert_settings: AlertSettings | None = None,
    *,
    log: logging.Logger | logging.LoggerAdapter[Any] = _log,
    now: datetime | None = None,
) -> EvaluationOutcome:
    """Match the stories touched since each rule's last evaluation and write the alerts it decides."""
    alert_settings = alert_settings or AlertSettings()
    now = now or datetime.now(UTC)
    outcome = EvaluationOutcome()
    try:
        with open_writer(settings.db, timeout=settings.lock_timeout) as con, transaction(con):
            _evaluate(con, alert_settings, now, outcome)
    except DatabaseLocked as exc:
        outcome.skipped = f"database busy, alerts are evaluated on the next pass ({exc})"
        log.warning("%s", outcome.skipped)
    for warning in outcome.warnings:
        log.warning("%s", redact(warning))
    if outcome.alerts or outcome.follow_ups:
        log.info(
            "Alerts: %d new, %d follow-ups (%d rules, %d stories checked)",
            outcome.alerts, outcome.follow_ups, outcome.rules, outcome.stories_checked,
        )
    return outcome


def _evaluate(
    con: duckdb.DuckDBPyConnection, alert_settings: AlertSettings, now: datetime, outcome: EvaluationOutcome
) -> None:
    rules = store.load_rules(con, enabled_only=True)
    outcome.rules = len(rules)
    high = store.assignment_high_water(con) if rules else None
    if high is None:
        return
    # New facts can reach a story without a new article: the recently alerted stories whose merged facts changed
    # since the rule's previous evaluation are checked again (all of them every time made each evaluation of a
    # pass slower than the one before).
    alerted = store.recently_alerted(con, now - timedelta(days=alert_settings.follow_up_days))
    facts_high = store.facts_high_water(con)
    touched: dict[datetime | None, set[str]] = {}
    refreshed: dict[datetime | None, set[str]] = {}
    wanted: dict[str, set[str]] = {}
    for stored in rules:
        since, facts_since = stored.evaluated_until, stored.facts_evaluated_until
        if since not in touched:
            touched[since] = store.touched_stories(con, since, high)
        if facts_since not in refreshed:
            changed = store.stories_with_facts_since(con, facts_since, facts_high) if facts_high else set()
            refreshed[facts_since] = changed
        wanted[stored.rule.name] = touched[since] | (alerted.get(stored.rule.name, set()) & refreshed[facts_since])
    every = sorted(set().union(*wanted.values()))
    outcome.stories_checked = len(every)
    decisions: list[Decision] = []
    broken: set[str] = set()
    for ids in store.chunks(every, CHUNK):
        chunk = _load_chunk(con, ids, rules, warnings=outcome.warnings)
        for stored in rules:
            rule = stored.rule
            for story_id in sorted(wanted[rule.name].intersection(ids)):
                story = chunk.views.get(story_id)
                if story is None or rule.name in broken:
                    continue
                try:
                    found = match(rule, story, chunk.ctx)
                except Exception as exc:  # one broken rule must not stop the others
                    broken.add(rule.name)
                    outcome.warnings.append(f"rule {rule.name!r} failed: {type(exc).__name__}: {exc}")
                    continue
                if found is None:
                    continue
                previous = chunk.previous.get((rule.name, story_id))
                # A rule alerts on stories active since it exists, not on everything stored before it.
                if previous is None and (story.last_fetched_at is None or story.last_fetched_at < stored.created_at):
                    continue
                decision = decide(rule, story, found, previous, chunk.ctx)
                if decision is not None:
                    decisions.append(decision)
    outbox = [outbox_alert(d, now=now, max_urls=alert_settings.max_urls) for d in decisions]
    inserted = set(store.write_alerts(con, outbox, now=now))
    outcome.alerts = sum(1 for d in decisions if d.alert_id in inserted and d.revision == 0)
    outcome.follow_ups = sum(1 for d in decisions if d.alert_id in inserted and d.revision > 0)
    store.set_watermark(con, [r.rule.name for r in rules if r.rule.name not in broken], high, facts_high)


# --- alerts test ---------------------------------------------------------------------------------


@dataclass
class RuleMatch:
    story: StoryView
    matched: dict[str, Any]
    previous: PreviousAlert | None


@dataclass
class RuleTrial:
    matches: list[RuleMatch] = field(default_factory=list)
    stories: int = 0
    notes: list[str] = field(default_factory=list)


def try_rule(
    con: duckdb.DuckDBPyConnection, stored: store.StoredRule, *, since: datetime | None = None, first: int | None = None
) -> RuleTrial:
    """What the rule matches among the stored stories, newest first (all of them, or the first `first`)."""
    result = RuleTrial()
    ids = store.story_ids(con, since)
    result.stories = len(ids)
    for chunk_ids in store.chunks(ids, CHUNK):
        chunk = _load_chunk(con, chunk_ids, [stored], warnings=result.notes)
        for story_id in chunk_ids:
            story = chunk.views.get(story_id)
            found = match(stored.rule, story, chunk.ctx) if story else None
            if story is not None and found is not None:
                result.matches.append(RuleMatch(story, found, chunk.previous.get((stored.rule.name, story_id))))
                if first is not None and len(result.matches) >= first:
                    return result
    return result


def send_test(
    settings: Settings, name: str, alert_settings: AlertSettings | None = None
) -> tuple[RuleMatch | None, list[str]]:
    """Write the alert the rule owes its newest matching story (what `alerts test --send` delivers).

    Returns the match (None: no story matches) and the alert ids written (none: that story was already
    alerted and has not changed materially since).
    """
    alert_settings = alert_settings or AlertSettings()
    now = datetime.now(UTC)
    with open_writer(settings.db, timeout=settings.lock_timeout) as con, transaction(con):
        stored = store.get_rule(con, name)
        if stored is None:
            raise KeyError(name)
        found = try_rule(con, stored, first=1)
        if not found.matches:
            return None, []
        hit = found.matches[0]
        facts = store.story_facts(con, [hit.story.story_id])
        decision = decide(stored.rule, hit.story, hit.matched, hit.previous, MatchContext(facts=facts))
        outbox = [outbox_alert(decision, now=now, max_urls=alert_settings.max_urls)] if decision else []
        written = store.write_alerts(con, outbox, now=now)
        return hit, written


# --- delivery ------------------------------------------------------------------------------------


def _backoff(alert_settings: AlertSettings, attempts: int, retry_after: float | None) -> timedelta:
    wait = min(alert_settings.retry_max, alert_settings.retry_base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=max(wait, retry_after or 0.0))


def _resolve_channels(claims: Sequence[store.Claim]) -> dict[str, Resolved | channels.DeliveryError]:
    resolved: dict[str, Resolved | channels.DeliveryError] = {}
    for claim in claims:
        if claim.kind == "event" or claim.channel in resolved:
            continue
        try:
            resolved[claim.channel] = resolve(claim.channel)
        except SecretError as exc:  # the operator may set it: retried with backoff like any failure
            resolved[claim.channel] = channels.DeliveryError(str(exc))
    return resolved


async def _send_all(
    claims: Sequence[store.Claim],
    resolved: dict[str, Resolved | channels.DeliveryError],
    settings: Settings,
    alert_settings: AlertSettings,
) -> list[tuple[store.Claim, channels.DeliveryError | None, list[str]]]:
    gate = asyncio.Semaphore(alert_settings.concurrency)

    async def one(client: Any, claim: store.Claim) -> tuple[store.Claim, channels.DeliveryError | None, list[str]]:
        target = resolved.get(claim.channel)
        secrets = target.secrets if isinstance(target, Resolved) else []
        try:
            async with gate:
                if claim.kind == "event":
                    channels.emit_prefect_event(claim.payload, claim.delivery_id)
                elif isinstance(target, channels.DeliveryError):
                    raise target
                elif claim.kind == "webhook":
                    assert isinstance(target, Resolved)
                    await channels.send_webhook(
                        client, target.url, claim.payload, claim.delivery_id, secrets=secrets,
                        total_timeout=settings.total_timeout,
                    )
                else:
                    assert isinstance(target, Resolved)
                    await asyncio.to_thread(channels.send_apprise, target.url, claim.payload, secrets=secrets)
        except channels.DeliveryError as exc:
            return claim, exc, secrets
        except Exception as exc:  # a sender bug or library error: recorded like any failure, never raised
            return claim, channels.DeliveryError(redact(f"{type(exc).__name__}: {exc}", secrets)), secrets
        return claim, None, secrets

    async with channels.webhook_client(settings, alert_settings) as client:
        return await asyncio.gather(*(one(client, c) for c in claims))


def _send_batch(claims: Sequence[store.Claim], settings: Settings, alert_settings: AlertSettings) -> SentBatch:
    results = asyncio.run(_send_all(claims, _resolve_channels(claims), settings, alert_settings))
    return SentBatch(results, datetime.now(UTC))


def deliver_pass(
    settings: Settings,
    alert_settings: AlertSettings | None = None,
    *,
    ignore_backoff: bool = False,
    log: logging.Logger | logging.LoggerAdapter[Any] = _log,
    pass_started: datetime | None = None,
) -> DeliveryOutcome:
    """Send what is due, `claim_batch` deliveries at a time; record each outcome. A delivery attempted since
    `pass_started` (default: now) is not attempted again, so an ingest pass that delivers after each evaluation
    still tries each delivery at most once."""
    alert_settings = alert_settings or AlertSettings()
    outcome = DeliveryOutcome()
    started = pass_started or datetime.now(UTC)
    claims = _claim(settings, alert_settings, started, ignore_backoff, outcome, log)
    while claims:
        sent = _send_batch(claims, settings, alert_settings)
        # This batch's outcomes and the next claims share one open of the file; none is held while sending.
        with writer_session(settings.db):
            if not _settle(settings, alert_settings, sent, outcome, log) or len(claims) < alert_settings.claim_batch:
                break
            claims = _claim(settings, alert_settings, started, ignore_backoff, outcome, log)
    _summarise(outcome, log)
    return outcome


class BackgroundDelivery:
    """The outbox's due deliveries sent from a thread of their own while an ingest pass goes on, one claimed batch
    at a time: a receiver that answers slowly no longer holds up the pass's writing, clustering and reading (the
    workers waited for it). The pass's thread claims and records, as the database's one writer; the thread only
    sends. Leaving the ``with`` block waits for the batch in flight and records it; what is still due then is
    for the pass's closing `deliver_pass`, which skips what was attempted since the pass started."""

    def __init__(self, settings: Settings, alert_settings: AlertSettings | None = None, *, pass_started: datetime,
                 log: logging.Logger | logging.LoggerAdapter[Any] = _log) -> None:
        self.settings, self.alert_settings = settings, alert_settings or AlertSettings()
        self.pass_started, self.log = pass_started, log
        self.outcome = DeliveryOutcome()
        self._due = False  # alerts were written, or the last claim filled a batch: there may be more to send
        self._sending: Future[SentBatch] | None = None
        # Called from the sending thread once a batch is sent: the pass's thread, perhaps waiting for pages, can
        # then record it and start the next (else the outbox fell behind and its rest waited for the pass's end).
        self.on_sent: Callable[[], None] | None = None

    def __enter__(self) -> BackgroundDelivery:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        # After Ctrl-C or a failed pass nothing waits (the sending thread is a daemon): the claims' lease lets a
        # later pass resend, with the same idempotency key.
        if exc_type is None:
            self.step(wait=True, claim=False)
            _summarise(self.outcome, self.log)

    def alerts_written(self) -> None:
        self._due = True

    def step(self, *, wait: bool = False, claim: bool = True) -> None:
        """Record the batch in flight once it is sent (waiting for it with `wait`), then start the next due one."""
        try:
            sent = None
            if self._sending is not None and (wait or self._sending.done()):
                sent, self._sending = self._sending.result(), None
            claiming = claim and self._due and self._sending is None
            if sent is None and not claiming:
                return
            claims: list[store.Claim] = []
            with writer_session(self.settings.db):  # the outcomes and the next claims: one open of the file
                if sent is not None:
                    _settle(self.settings, self.alert_settings, sent, self.outcome, self.log)
                if claiming:
                    claims = _claim(
                        self.settings, self.alert_settings, self.pass_started, False, self.outcome, self.log
                    )
                    self._due = len(claims) == self.alert_settings.claim_batch
            if claims:
                self._sending = _in_thread(_send_batch, claims, self.settings, self.alert_settings)
                on_sent = self.on_sent
                if on_sent is not None:
                    self._sending.add_done_callback(lambda _: on_sent())
        except Exception as exc:  # never let alerting fail the ingest pass: the claims' lease lets a later pass resend
            self._sending = None
            self.outcome.error = redact(f"{type(exc).__name__}: {exc}")
            self.log.error("Alert delivery failed, it is retried on a later pass: %s", self.outcome.error)


def _in_thread(fn: Callable[..., T], *args: Any) -> Future[T]:
    """``fn(*args)`` in a daemon thread of its own, with this thread's context (the Prefect events then name the
    flow run that sent them); a daemon, so that a process told to stop does not wait for a slow receiver."""
    future: Future[T] = Future()
    context = contextvars.copy_context()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(context.run(fn, *args))
            except BaseException as exc:  # handed to the caller, who records it
                future.set_exception(exc)

    threading.Thread(target=run, name="newsmon-alert-delivery", daemon=True).start()
    return future


def _settle(
    settings: Settings,
    alert_settings: AlertSettings,
    sent: SentBatch,
    outcome: DeliveryOutcome,
    log: logging.Logger | logging.LoggerAdapter[Any],
) -> bool:
    """Report and record the outcomes of one sent batch; False when the database stayed busy."""
    outcomes = [_outcome(claim, error, alert_settings, sent.done) for claim, error, _ in sent.results]
    _report(sent.results, outcomes, outcome, log)
    return _record(settings, outcomes, sent.done, outcome, log)


def _summarise(outcome: DeliveryOutcome, log: logging.Logger | logging.LoggerAdapter[Any]) -> None:
    if len(outcome.errors) > FAILURES_LOGGED:
        log.warning(
            "%d more deliveries failed, not logged one by one (newsmon alerts status lists them)",
            len(outcome.errors) - FAILURES_LOGGED,
        )
    if outcome.attempted:
        log.info(
            "Alert deliveries: %d sent, %d to retry, %d failed", outcome.sent, outcome.retrying, outcome.failed
        )


def _claim(
    settings: Settings,
    alert_settings: AlertSettings,
    started: datetime,
    ignore_backoff: bool,
    outcome: DeliveryOutcome,
    log: logging.Logger | logging.LoggerAdapter[Any],
) -> list[store.Claim]:
    now = datetime.now(UTC)
    try:
        with open_writer(settings.db, timeout=settings.lock_timeout) as con:
            return store.claim_deliveries(
                con, now=now, lease_until=now + timedelta(seconds=alert_settings.lease), pass_started=started,
                ignore_backoff=ignore_backoff, limit=alert_settings.claim_batch,
            )
    except DatabaseLocked as exc:
        outcome.skipped = f"database busy, alerts are delivered on the next pass ({exc})"
        log.warning("%s", outcome.skipped)
        return []


def _report(
    results: list[tuple[store.Claim, channels.DeliveryError | None, list[str]]],
    outcomes: list[store.Outcome],
    outcome: DeliveryOutcome,
    log: logging.Logger | logging.LoggerAdapter[Any],
) -> None:
    for (claim, error, secrets), result in zip(results, outcomes, strict=True):
        outcome.attempted += 1
        if error is None:
            outcome.sent += 1
            continue
        message = (
            f"alert {claim.payload.get('rule')!r} / {claim.payload.get('title')!r} to "
            f"{redact(claim.channel, secrets)} failed (attempt {claim.attempts}"
            f"{', giving up' if result.failed else ''}): {result.error}"
        )
        outcome.errors.append(message)
        outcome.failed += int(result.failed)
        outcome.retrying += int(not result.failed)
        if len(outcome.errors) <= FAILURES_LOGGED:
            log.warning("%s", message)


def _record(
    settings: Settings,
    outcomes: list[store.Outcome],
    done: datetime,
    outcome: DeliveryOutcome,
    log: logging.Logger | logging.LoggerAdapter[Any],
) -> bool:
    """Store the outcomes; False when the database stayed busy (the pass stops delivering)."""
    try:
        with open_writer(settings.db, timeout=settings.lock_timeout) as con:
            store.record_outcomes(con, outcomes, now=done)
    except DatabaseLocked:
        outcome.skipped = (
            "database busy: outcomes not recorded; those deliveries are resent with the same idempotency "
            "key when their lease expires"
        )
        log.error("%s", outcome.skipped)
        return False
    return True


def _outcome(
    claim: store.Claim, error: channels.DeliveryError | None, alert_settings: AlertSettings, now: datetime
) -> store.Outcome:
    if error is None:
        return store.Outcome(claim.delivery_id, claim.alert_id, claim.attempts, True, False, None, None)
    failed = error.permanent or claim.attempts >= alert_settings.max_attempts
    return store.Outcome(
        claim.delivery_id, claim.alert_id, claim.attempts, False, failed, str(error)[:1000],
        None if failed else now + _backoff(alert_settings, claim.attempts, error.retry_after),
    )
