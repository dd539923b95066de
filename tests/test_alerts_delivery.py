"""The outbox end to end on a small story store: rules of every kind, exactly-once delivery to a real webhook
receiver and a real SMTP server, retries with backoff, a sender killed mid-delivery, secrets, the CLI."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsmon.alerts.settings import AlertSettings
from newsmon.flows.alerting import FAILURES_LOGGED, BackgroundDelivery, deliver_pass, evaluate_pass
from newsmon.settings import get_settings
from newsmon.storage.db import open_writer
from tests.test_alerts_helpers import (
    Article,
    Mailbox,
    Received,
    Receiver,
    alerts_cli,
    html_part,
    put_story,
    settings_for,
    sql,
)

# The receivers, the SMTP server and the event recorder are fixtures of the helpers module.
pytest_plugins = ["tests.test_alerts_helpers"]
pytestmark = pytest.mark.usefixtures("prefect_harness", "prefect_events")

FAST = AlertSettings(retry_base=0.01, retry_max=0.05, lease=1.0)

DEFENCE = [
    Article("a1", "ankara.example", "Türkiye's defense, aerospace exports soar 44% to record $555.3M in January",
            "Defense and aerospace exports rose 44 percent, Haluk Görgün said.", "Ankara Ledger"),
    Article("a2", "eurasia.example", "Turkish defence and aerospace exports see unprecedented increase",
            "Defence exports hit a record in January.", "Eurasia Dispatch"),
]
COFFEE = [Article("c1", "harbor.example", "Brazil's coffee exports slump 18%", "Coffee shipments fell.", "Harbor Times")]


def add_rule(db: Path, *args: str) -> None:
    result = alerts_cli(db, "add", *args)
    assert result.exit_code == 0, result.output


def alerts(db: Path) -> list[dict[str, object]]:
    rows = sql(db, "SELECT rule, story_id, revision, status, attempts, last_error, changes, payload FROM alerts "
                   "ORDER BY created_at, rule, revision")
    keys = ["rule", "story_id", "revision", "status", "attempts", "last_error", "changes", "payload"]
    return [dict(zip(keys, r, strict=True)) for r in rows]


def deliveries(db: Path, kind: str = "webhook") -> list[dict[str, object]]:
    rows = sql(db, "SELECT delivery_id, channel, status, attempts, last_error, sent_at FROM alert_deliveries "
                   "WHERE kind = ? ORDER BY delivery_id", [kind])
    keys = ["key", "channel", "status", "attempts", "last_error", "sent_at"]
    return [dict(zip(keys, r, strict=True)) for r in rows]


def run_pass(db: Path, alert_settings: AlertSettings = FAST) -> None:
    settings = settings_for(db)
    assert evaluate_pass(settings, alert_settings).error is None
    deliver_pass(settings, alert_settings)


def test_keyword_rule_alerts_once_per_story_then_follows_up(db_path: Path, receiver: Receiver, prefect_events) -> None:
    add_rule(db_path, "defence", "--keywords", "(defense OR defence) AND exports", "--notify", receiver.url)
    put_story(db_path, "s-def", DEFENCE)
    put_story(db_path, "s-cof", COFFEE)
    run_pass(db_path)
    assert len(receiver.requests) == 1  # two matching reports, one story, one message
    got = receiver.requests[0]
    body = got.body
    assert body["rule"] == "defence" and body["story_id"] == "s-def" and body["revision"] == 0
    assert body["title"] in {a.title for a in DEFENCE} and body["changes"] is None and body["facts"] == []
    assert sorted(body["urls"]) == ["https://ankara.example/a1", "https://eurasia.example/a2"]
    assert body["sources"] == ["Ankara Ledger", "Eurasia Dispatch"] and body["first_seen_at"]
    assert body["matched"] == {"keywords": ["defense", "defence", "exports"]}
    assert got.headers["idempotency-key"] == body["idempotency_key"]
    assert got.headers["content-type"] == "application/json" and got.headers["user-agent"].startswith("newsmon/")
    events = prefect_events()
    assert [(e.event, e.resource.id, e.payload["rule"]) for e in events] == [
        ("newsmon.story.matched", "newsmon.story.s-def", "defence")
    ]
    assert events[0].id == uuid.uuid5(uuid.UUID("7d4f3a52-9f1e-4a7a-9a55-6e65776d6f6e"), events[0].payload["idempotency_key"])
    assert [a["status"] for a in alerts(db_path)] == ["sent"]

    run_pass(db_path)  # nothing new: nothing sent
    assert len(receiver.requests) == 1
    put_story(db_path, "s-def", [Article("a3", "balkan.example", "Defence exports again", "Exports.", "Balkan Wire")])
    run_pass(db_path)  # one new source: below the follow-up threshold (2)
    assert len(receiver.requests) == 1
    put_story(db_path, "s-def", [Article("a4", "north.example", "Exports of defence goods", "More.", "Northern Courier")])
    run_pass(db_path)
    assert len(receiver.requests) == 2
    follow = receiver.requests[1].body
    assert follow["revision"] == 1 and follow["changes"]["new_sources"] == ["Balkan Wire", "Northern Courier"]
    assert follow["changes"]["summary"] == "2 new source(s): Balkan Wire, Northern Courier"
    assert follow["idempotency_key"] != body["idempotency_key"]
    assert prefect_events()[-1].event == "newsmon.story.updated"
    assert [(a["revision"], a["status"]) for a in alerts(db_path)] == [(0, "sent"), (1, "sent")]


def test_a_pass_sending_alerts_in_the_background_is_told_when_a_batch_is_out(db_path: Path, receiver: Receiver) -> None:
    """The ingest pass may be waiting for pages when a batch of alerts has gone out: it is woken to record it and
    send the next (else the outbox fell behind and its rest waited for the pass's end)."""
    add_rule(db_path, "defence", "--keywords", "(defense OR defence) AND exports", "--notify", receiver.url)
    put_story(db_path, "s-def", DEFENCE)
    settings = settings_for(db_path)
    assert evaluate_pass(settings, FAST).alerts == 1
    sent = threading.Event()
    with BackgroundDelivery(settings, FAST, pass_started=datetime.now(UTC)) as sending:
        sending.on_sent = sent.set
        sending.alerts_written()
        sending.step()
        assert sent.wait(10)  # from the sending thread, once the receiver has the message
        assert len(receiver.requests) == 1
        sending.step()  # records it (the webhook's delivery and the Prefect event's)
        assert sending.outcome.sent == 2 and sending.outcome.failed == 0
    assert [a["status"] for a in alerts(db_path)] == ["sent"]


def test_a_rule_does_not_alert_on_stories_stored_before_it(db_path: Path, receiver: Receiver) -> None:
    put_story(db_path, "s-def", DEFENCE)
    add_rule(db_path, "defence", "--keywords", "defence", "--notify", receiver.url)
    run_pass(db_path)
    assert receiver.requests == [] and alerts(db_path) == []
    shown = alerts_cli(db_path, "test", "defence")  # ... but `alerts test` shows what it would match
    assert shown.exit_code == 0 and "matches 1 of 1 stored story" in shown.output and "not alerted yet" in shown.output
    put_story(db_path, "s-def", [Article("a9", "balkan.example", "Cheese", "Nothing about it.")])
    run_pass(db_path)  # the story is active again since the rule exists: it alerts now
    assert len(receiver.requests) == 1


def test_failing_receiver_gets_each_story_once_after_retries(db_path: Path) -> None:
    flaky = Receiver(fail_first=3)
    try:
        add_rule(db_path, "defence", "--keywords", "exports", "--notify", flaky.url)
        put_story(db_path, "s-def", DEFENCE)
        put_story(db_path, "s-cof", COFFEE)
        backoff = AlertSettings(retry_base=0.4, retry_max=0.8)  # seconds, not the minutes of production
        run_pass(db_path, backoff)
        assert len(flaky.requests) == 2 and flaky.delivered() == []  # both 503
        state = deliveries(db_path)
        assert [(d["status"], d["attempts"], d["last_error"]) for d in state] == [
            ("pending", 1, "HTTP 503: busy, try later")
        ] * 2
        deliver_pass(settings_for(db_path), backoff)  # within the backoff: nothing is due
        assert len(flaky.requests) == 2
        deadline = time.monotonic() + 10
        while len(flaky.delivered()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            deliver_pass(settings_for(db_path), backoff)
        keys = [r.headers["idempotency-key"] for r in flaky.delivered()]
        assert len(flaky.requests) == 5 and len(keys) == 2 and len(set(keys)) == 2  # each story exactly once
        assert {r.body["story_id"] for r in flaky.delivered()} == {"s-def", "s-cof"}
        assert sorted(d["attempts"] for d in deliveries(db_path)) == [2, 3]
        assert {d["status"] for d in deliveries(db_path)} == {"sent"}
        assert {a["status"] for a in alerts(db_path)} == {"sent"}
        for _ in range(2):
            deliver_pass(settings_for(db_path), backoff)
        assert len(flaky.requests) == 5
    finally:
        flaky.close()


def test_a_receiver_that_is_down_costs_one_attempt_per_alert_and_a_bounded_log(db_path: Path) -> None:
    down = Receiver(fail_first=1000)
    try:
        add_rule(db_path, "defence", "--keywords", "exports", "--notify", down.url)
        stories = FAILURES_LOGGED + 5
        for i in range(stories):
            put_story(db_path, f"s-{i:02d}", [replace(DEFENCE[0], article_id=f"a{i:02d}")])
        settings = settings_for(db_path)
        assert evaluate_pass(settings, FAST).alerts == stories
        logged: list[str] = []
        log = logging.getLogger("test.delivery")
        log.addHandler(ListHandler(logged))
        claims_of_ten = AlertSettings(retry_base=60, claim_batch=10)  # three claims: each batch recorded
        outcome = deliver_pass(settings, claims_of_ten, log=log)
        # Each alert also goes out as a Prefect event (sent): the webhook's deliveries are the ones failing.
        assert (outcome.sent, outcome.retrying, len(outcome.errors)) == (stories, stories, stories)
        assert len(down.requests) == stories  # one attempt each, none repeated in the pass
        assert [(d["status"], d["attempts"]) for d in deliveries(db_path)] == [("pending", 1)] * stories
        failures = [line for line in logged if "failed (attempt 1)" in line]
        assert len(failures) == FAILURES_LOGGED
        assert f"{stories - FAILURES_LOGGED} more deliveries failed" in logged[FAILURES_LOGGED]
    finally:
        down.close()


class ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_out_of_attempts_fails_and_alerts_deliver_retries_failed(db_path: Path) -> None:
    down = Receiver(fail_first=100)
    try:
        add_rule(db_path, "defence", "--keywords", "exports", "--notify", down.url)
        put_story(db_path, "s-def", DEFENCE)
        once = AlertSettings(max_attempts=1, retry_base=0.01)
        run_pass(db_path, once)
        assert [(d["status"], d["attempts"]) for d in deliveries(db_path)] == [("failed", 1)]
        assert alerts(db_path)[0]["status"] == "failed" and "webhook: HTTP 503" in str(alerts(db_path)[0]["last_error"])
        deliver_pass(settings_for(db_path), once)  # failed is final for scheduled passes
        assert len(down.requests) == 1
        down.fail_first = 0  # the operator mends the channel, then runs `alerts deliver`
        result = alerts_cli(db_path, "deliver")
        assert result.exit_code == 0, result.output
        assert "1 sent" in result.output and len(down.delivered()) == 1
        assert [(d["status"], d["attempts"]) for d in deliveries(db_path)] == [("sent", 2)]
    finally:
        down.close()


KILLED_SENDER = """
import sys
from newsmon.flows.alerting import deliver_pass
from newsmon.settings import get_settings
deliver_pass(get_settings(db=sys.argv[1]))
print("recorded")
"""


def test_sender_killed_between_sending_and_recording_resends_with_the_same_key(db_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    target: dict[str, subprocess.Popen[bytes]] = {}

    def kill_sender(_: Received) -> None:
        proc = target.get("proc")
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)  # after the receiver has the message, before the sender records it
            proc.wait()

    hook = Receiver(on_request=kill_sender)
    try:
        add_rule(db_path, "defence", "--keywords", "exports", "--notify", hook.url)
        put_story(db_path, "s-def", DEFENCE)
        assert evaluate_pass(settings_for(db_path)).alerts == 1
        env = {**os.environ, "NEWSMON_ALERT_LEASE": "2", "PREFECT_API_URL": str(PREFECT_API_URL.value())}
        proc = subprocess.Popen([sys.executable, "-c", KILLED_SENDER, str(db_path)], env=env, stdout=subprocess.PIPE)
        target["proc"] = proc
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL and b"recorded" not in out
        assert len(hook.requests) == 1
        assert [(d["status"], d["attempts"]) for d in deliveries(db_path)] == [("sending", 1)]
        assert alerts(db_path)[0]["status"] == "sending"

        target.clear()
        [(lease_until,)] = sql(db_path, "SELECT lease_until FROM alert_deliveries WHERE kind = 'webhook'")
        deliver_pass(settings_for(db_path), FAST)  # while the lease runs, the claim is left alone
        if datetime.now(UTC) < lease_until:
            assert len(hook.requests) == 1
        time.sleep(max(0.0, (lease_until - datetime.now(UTC)).total_seconds()) + 0.05)
        deliver_pass(settings_for(db_path), FAST)  # expired: taken over and resent
        first, again = hook.requests
        assert again.headers["idempotency-key"] == first.headers["idempotency-key"] == first.body["idempotency_key"]
        assert again.body == first.body  # the same message, so the receiver can drop the repeat
        assert [(d["status"], d["attempts"]) for d in deliveries(db_path)] == [("sent", 2)]
        assert [(d["status"], d["attempts"]) for d in deliveries(db_path, "event")] == [("sent", 2)]
    finally:
        hook.close()


def test_email_through_a_real_smtp_server_with_a_secret_from_the_environment(
    db_path: Path, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret-p@ss/word")
    url = (f"mailto://alerts:${{SMTP_PASSWORD}}@localhost:{mailbox.port}"
           "?smtp=127.0.0.1&from=alerts@example.org&to=ops@example.org")
    evil = [Article("e1", "ankara.example", "Exports <script>alert(1)</script> & *more*", "Exports text.", "<b>Ledger</b>")]
    add_rule(db_path, "mail", "--keywords", "exports", "--notify", url)
    assert sql(db_path, "SELECT channels FROM alert_rules") == [([url],)]  # stored with its placeholder
    put_story(db_path, "s-evil", evil)
    run_pass(db_path)
    assert mailbox.logins == [("alerts", "s3cret-p@ss/word")]  # resolved at send time, '@' and '/' intact
    [(sender, to, message)] = mailbox.messages
    assert sender == "alerts@example.org" and to == ["ops@example.org"]
    assert message["Subject"] == "[newsmon] New story (mail): Exports <script>alert(1)</script> & *more*"
    body = html_part(message)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *more*" in body and "<script>" not in body
    assert "&lt;b&gt;Ledger&lt;/b&gt;" in body and 'href="https://ankara.example/e1"' in body
    assert [d["status"] for d in deliveries(db_path, "apprise")] == ["sent"]
    assert "s3cret" not in json.dumps([str(r) for r in sql(db_path, "SELECT * FROM alert_deliveries")])


def test_secrets_are_resolved_never_stored_and_redacted(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    echo = Receiver(status=500, reply=lambda r: f"bad token in {r.path}".encode())
    try:
        refused = alerts_cli(db_path, "add", "leaky", "--keywords", "exports", "--notify", echo.url + "?token=hunter2")
        assert refused.exit_code == 1 and "${VAR}" in refused.output and "hunter2" not in refused.output
        add_rule(db_path, "hook", "--keywords", "exports", "--notify", echo.url + "?token=${HOOK_TOKEN}")
        put_story(db_path, "s-def", DEFENCE)
        run_pass(db_path)
        [state] = deliveries(db_path)
        assert state["last_error"] == "environment variable HOOK_TOKEN is not set" and echo.requests == []
        monkeypatch.setenv("HOOK_TOKEN", "tok-4f9a8b7c6d")
        deliver_pass(settings_for(db_path), ignore_backoff=True)  # what `alerts deliver` runs
        assert echo.requests[0].path == "/hook?token=tok-4f9a8b7c6d"  # resolved when sending
        [state] = deliveries(db_path)
        assert state["last_error"] == "HTTP 500: bad token in /hook?token=***"  # the receiver echoed it
        assert state["channel"].endswith("?token=${HOOK_TOKEN}")
        stored = json.dumps([str(r) for r in sql(db_path, "SELECT * FROM alert_deliveries")])
        stored += json.dumps([str(r) for r in sql(db_path, "SELECT * FROM alerts")])
        assert "tok-4f9a8b7c6d" not in stored
        status = alerts_cli(db_path, "status", "--format", "json")
        assert "tok-4f9a8b7c6d" not in status.output and "token=***" in status.output
    finally:
        echo.close()


def test_prefect_secret_block_placeholder(db_path: Path, receiver: Receiver) -> None:
    from prefect.blocks.system import Secret

    Secret(value="blk-77c1e0d9").save("newsmon-test-hook", overwrite=True)
    add_rule(db_path, "hook", "--keywords", "exports", "--notify",
             receiver.url + "?token={{ prefect.blocks.secret.newsmon-test-hook }}")
    put_story(db_path, "s-def", DEFENCE)
    run_pass(db_path)
    assert [r.path for r in receiver.requests] == ["/hook?token=blk-77c1e0d9"]
    assert "blk-77c1e0d9" not in str(sql(db_path, "SELECT * FROM alert_deliveries"))


def test_ssrf_guard_for_webhooks_is_opt_in(db_path: Path, receiver: Receiver) -> None:
    add_rule(db_path, "hook", "--keywords", "exports", "--notify", receiver.url)
    put_story(db_path, "s-def", DEFENCE)
    settings = get_settings(db=db_path, allow_networks="")
    evaluate_pass(settings)
    deliver_pass(settings, AlertSettings(guard_webhooks=True))
    [state] = deliveries(db_path)
    assert state["status"] == "failed" and "refused to connect to 127.0.0.1" in str(state["last_error"])
    assert receiver.requests == []


def test_entity_rule_uses_the_mentions_tables_when_they_exist(db_path: Path, receiver: Receiver) -> None:
    add_rule(db_path, "gorgun", "--entity", "Haluk Gorgun", "--notify", receiver.url)
    add_rule(db_path, "ghost", "--entity", "Ayşe Yılmaz", "--notify", receiver.url)
    put_story(db_path, "s-def", DEFENCE)
    run_pass(db_path)  # no mentions extracted yet: the folded name as a phrase in the text
    assert [r.body["rule"] for r in receiver.requests] == ["gorgun"]
    assert receiver.requests[0].body["matched"] == {"entity": ["Haluk Gorgun"]}
    sql(db_path, "INSERT INTO entities VALUES ('person:ayse yilmaz', 'Ayşe Yılmaz', 'person'), "
                 "('person:haluk gorgun', 'Haluk Görgün', 'person')")
    sql(db_path, "INSERT INTO mentions VALUES ('a5', 'person:ayse yilmaz', 'Yılmaz', 0, 6, 0)")
    # Her name is nowhere in the text: only the mentions table can make this match.
    put_story(db_path, "s-new", [Article("a5", "balkan.example", "A new defence minister", "She spoke.")])
    run_pass(db_path)
    assert [r.body["rule"] for r in receiver.requests] == ["gorgun", "ghost"]
    assert receiver.requests[1].body["matched"] == {"entity": ["Ayşe Yılmaz"]}


def test_fact_rules_and_fact_follow_ups(db_path: Path, receiver: Receiver) -> None:
    added = alerts_cli(db_path, "add", "big", "--fact", "money >= 500 million USD", "--notify", receiver.url)
    assert added.exit_code == 0, added.output
    put_story(db_path, "s-def", DEFENCE)
    outcome = evaluate_pass(settings_for(db_path))
    assert outcome.alerts == 0  # no facts extracted for the story yet
    trial = alerts_cli(db_path, "test", "big")
    assert "matches 0 of 1" in trial.output

    columns = "(story_id, kind, value, unit, subject, period, source_count, disagreement, article_ids, surfaces, updated_at)"
    sql(db_path, f"INSERT INTO story_facts {columns} VALUES "
                 "('s-def', 'money', 555300000, 'USD', 'defence exports', '2026-01', 2, false, [], [], now()),"
                 " ('s-def', 'percent', 44, '%', 'defence exports', '2026-01', 2, false, [], [], now())")
    put_story(db_path, "s-def", [Article("a6", "ankara.example", "More", "More.")])  # touch the story
    run_pass(db_path)
    [first] = receiver.requests
    assert first.body["revision"] == 0 and first.body["matched"] == {"fact": ["money 555,300,000 USD (defence exports, 2026-01)"]}
    assert {f["kind"] for f in first.body["facts"]} == {"money", "percent"}
    # A new fact reaches the story without a new article: one follow-up saying what changed.
    sql(db_path, f"INSERT INTO story_facts {columns} VALUES "
                 "('s-def', 'money', 1200000000, 'USD', 'annual target', '2026', 1, false, [], [], now())")
    run_pass(db_path)
    run_pass(db_path)
    assert [r.body["revision"] for r in receiver.requests] == [0, 1]
    assert receiver.requests[1].body["changes"]["summary"] == "1 new fact(s): money 1,200,000,000 USD (annual target, 2026)"
    # Nothing changed since: the alerted story is not matched again (every alerted story was, at every evaluation).
    assert evaluate_pass(settings_for(db_path)).stories_checked == 0


def test_sql_rules_run_in_a_sandbox_and_bad_ones_are_refused(db_path: Path, receiver: Receiver) -> None:
    ok = alerts_cli(db_path, "add", "wide", "--sql", "source_count >= 2 AND list_contains(outlets, 'Ankara Ledger')",
                    "--notify", receiver.url)
    assert ok.exit_code == 0, ok.output
    for bad, message in [
        ("no_such_column > 1", "not valid over alert_candidates"),
        ("true; DROP TABLE articles", "does not parse"),
        ("true\n); DROP TABLE articles; SELECT (1", "single expression"),
        ("(SELECT count(*) FROM read_text('/etc/hostname')) > 0", "disabled"),
        ("(SELECT count(*) FROM articles) > 0", "not valid over alert_candidates"),
    ]:
        result = alerts_cli(db_path, "add", "bad", "--sql", bad, "--notify", receiver.url)
        assert result.exit_code == 1 and message in result.output, (bad, result.output)
    put_story(db_path, "s-def", DEFENCE)
    put_story(db_path, "s-cof", COFFEE)
    run_pass(db_path)
    assert [r.body["story_id"] for r in receiver.requests] == ["s-def"]
    assert sql(db_path, "SELECT count(*) FROM articles") == [(3,)]


def test_cli_import_list_status_remove(db_path: Path, receiver: Receiver, tmp_path: Path) -> None:
    rules = tmp_path / "alerts.toml"
    rules.write_text(f"""
[rules.defence]
keywords = '(defense OR defence) AND exports'
notify = ["{receiver.url}"]

[rules.coffee]
keywords = 'coffee'
notify = "{receiver.url}"
follow_up_sources = 5
""")
    result = alerts_cli(db_path, "import", str(rules))
    assert result.exit_code == 0 and "2 added, 0 updated, 0 unchanged" in result.output
    rules.write_text(f"""
[rules.defence]
keywords = '(defense OR defence) AND export*'
notify = ["{receiver.url}"]
""")
    result = alerts_cli(db_path, "import", str(rules), "--prune")
    assert result.exit_code == 0 and "0 added, 1 updated, 0 unchanged, 1 removed" in result.output
    again = alerts_cli(db_path, "import", str(rules))
    assert "0 added, 0 updated, 1 unchanged" in again.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules.x]\nkeywords = '(oops'\nnotify = 'https://h.example/x'\n")
    refused = alerts_cli(db_path, "import", str(bad))
    assert refused.exit_code == 1 and "never closed" in refused.output

    put_story(db_path, "s-def", DEFENCE)
    run_pass(db_path)
    listed = json.loads(alerts_cli(db_path, "list", "--format", "json").output)
    assert [(r["name"], r["alerts"], r["sent"], r["channels"]) for r in listed] == [("defence", 1, 1, [receiver.url])]
    assert "export*" in listed[0]["conditions"]
    table = alerts_cli(db_path, "status")
    assert table.exit_code == 0 and "deliveries: 2 sent" in table.output
    rows = json.loads(alerts_cli(db_path, "status", "--format", "json").output)
    assert sorted((r["kind"], r["status"], r["attempts"]) for r in rows) == [("event", "sent", 1), ("webhook", "sent", 1)]
    duplicate = alerts_cli(db_path, "add", "defence", "--keywords", "x", "--notify", receiver.url)
    assert duplicate.exit_code == 1 and "--replace" in duplicate.output
    assert alerts_cli(db_path, "remove", "defence").exit_code == 0
    assert alerts_cli(db_path, "remove", "defence").exit_code == 1
    assert json.loads(alerts_cli(db_path, "list", "--format", "json").output) == []
    assert len(alerts(db_path)) == 1  # the history stays


def test_removing_a_rule_cancels_what_it_has_not_delivered(db_path: Path) -> None:
    down = Receiver(fail_first=100)
    try:
        add_rule(db_path, "noisy", "--keywords", "exports", "--notify", down.url)
        put_story(db_path, "s-def", DEFENCE)
        run_pass(db_path, AlertSettings(retry_base=3600))
        assert alerts_cli(db_path, "remove", "noisy").exit_code == 0
        assert [d["status"] for d in deliveries(db_path)] == ["cancelled"]
        assert alerts(db_path)[0]["status"] == "cancelled"
        assert deliver_pass(settings_for(db_path), ignore_backoff=True).attempted == 0
        assert len(down.requests) == 1
    finally:
        down.close()


def test_alerts_test_send_delivers_the_newest_match_once(db_path: Path, receiver: Receiver) -> None:
    put_story(db_path, "s-def", DEFENCE)
    add_rule(db_path, "defence", "--keywords", "exports", "--notify", receiver.url)
    quiet = alerts_cli(db_path, "test", "defence", "--format", "json")
    assert [m["story_id"] for m in json.loads(quiet.output)] == ["s-def"] and receiver.requests == []
    sent = alerts_cli(db_path, "test", "defence", "--send")
    assert sent.exit_code == 0, sent.output
    assert "1 sent" in sent.output or "2 sent" in sent.output
    assert len(receiver.requests) == 1
    again = alerts_cli(db_path, "test", "defence", "--send")
    assert "nothing new to send" in again.output and len(receiver.requests) == 1
    assert "alerted: revision 0, sent" in alerts_cli(db_path, "test", "defence").output


def test_a_locked_database_skips_the_pass_without_failing(db_path: Path, receiver: Receiver) -> None:
    add_rule(db_path, "defence", "--keywords", "exports", "--notify", receiver.url)
    put_story(db_path, "s-def", DEFENCE)
    settings = get_settings(db=db_path, lock_timeout=0.2)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db_path)!r}); print('held', flush=True); "
                               "time.sleep(30)"],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        assert evaluate_pass(settings).skipped
        assert deliver_pass(settings).attempted == 0
    finally:
        holder.kill()
        holder.wait()
    assert evaluate_pass(settings).alerts == 1  # the next pass catches up
    deliver_pass(settings)
    assert len(receiver.requests) == 1
    with open_writer(db_path) as con:
        assert con.execute("SELECT count(*) FROM alerts").fetchall() == [(1,)]
