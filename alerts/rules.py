"""Alert rules: what to watch for, where to say it. Validation and the TOML file format.

A rule has one or more conditions, all of which must hold for a story (keywords, entity, fact, sql), and
one or more channels (URLs). In TOML, one table per rule under `rules`:

    [rules.defence-exports]
    keywords = '(defense OR defence) AND exports'
    notify = ["https://hooks.example.org/newsmon?token=${HOOK_TOKEN}", "mailtos://alerts:${SMTP_PASSWORD}@..."]
    follow_up_sources = 2      # optional (default 2); 0: no follow-ups for new sources
    enabled = true             # optional
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from newsmon.alerts import keywords as kw
from newsmon.alerts.facts import FactCondition, FactError, parse_fact
from newsmon.alerts.secrets import literal_secrets, placeholder_names, redact, with_dummy_secrets
from newsmon.errors import InputError
from newsmon.model import DEFAULT_FOLLOW_UP_SOURCES, RULE_CONDITIONS, Rule
from newsmon.text import words

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TOML_KEYS = {*RULE_CONDITIONS, "notify", "follow_up_sources", "enabled"}


class RuleError(InputError):
    """A rule that cannot be used; the message lists every problem."""


# A rule's conditions parsed once (rules are frozen and hashable; a pass asks for each many times).
@lru_cache(maxsize=1024)
def keyword_node(rule: Rule) -> kw.Node | None:
    return kw.parse(rule.keywords) if rule.keywords else None


@lru_cache(maxsize=1024)
def entity_term(rule: Rule) -> kw.Term | None:
    return kw.Term(tuple(words(rule.entity)), False, rule.entity) if rule.entity else None


@lru_cache(maxsize=1024)
def fact_condition(rule: Rule) -> FactCondition | None:
    return parse_fact(rule.fact) if rule.fact else None


@dataclass
class Problems:
    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)


def channel_kind(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    return "webhook" if scheme in ("http", "https") else "apprise"


def check_channel(url: str) -> list[str]:
    """Problems with one channel URL: unsupported scheme, a shape apprise refuses, a literal secret."""
    problems = []
    secrets = literal_secrets(url)
    if secrets:
        problems.append(
            f"the channel URL holds {' and '.join(secrets)}: secrets are never stored; put them in an environment "
            "variable and write ${VAR} in the URL (or {{ prefect.blocks.secret.NAME }} for a Prefect Secret block)"
        )
        return problems
    dummy = with_dummy_secrets(url)
    parts = urlsplit(dummy)
    if not parts.scheme:
        problems.append(f"{url!r} is not a URL (http(s)://... for a webhook, or an apprise URL such as mailtos://)")
    elif channel_kind(url) == "webhook":
        if not parts.hostname:
            problems.append(f"the webhook URL {url!r} has no host")
    else:
        import logging

        import apprise
        from apprise.manager_plugins import NotificationManager

        # apprise explains a refusal only in its log: capture it for the message (and keep it off stderr).
        with apprise.LogCapture(level=logging.WARNING) as captured:
            accepted = apprise.Apprise.instantiate(dummy) is not None
        known = parts.scheme.lower() in NotificationManager().schemas()
        # A placeholder may stand for several parts (slack://${SLACK_TOKENS}): then only the scheme is checked.
        if not accepted and not (known and placeholder_names(url)):
            why = redact(" ".join(captured.getvalue().split()))
            problems.append(
                f"apprise does not accept the channel URL {url!r} (scheme {parts.scheme!r}"
                + (f": {why}" if why and known else "")
                + "; see https://appriseit.com/services/ for the URL of each service)"
            )
    return problems


def validate(rule: Rule) -> Rule:
    """The rule, checked: raise RuleError listing every problem. SQL is checked against the database later."""
    p = Problems()
    if not NAME.match(rule.name):
        p.add(f"the rule name {rule.name!r} must be 1-64 letters, digits, '.', '_' or '-', starting alphanumeric")
    if not rule.conditions():
        p.add("give at least one condition: --keywords, --entity, --fact or --sql")
    if rule.keywords is not None:
        try:
            kw.parse(rule.keywords)
        except kw.ExpressionError as exc:
            p.add(f"keywords {rule.keywords!r}: {exc}")
    if rule.entity is not None and not words(rule.entity):
        p.add(f"the entity {rule.entity!r} has no letters or digits")
    if rule.fact is not None:
        try:
            parse_fact(rule.fact)
        except FactError as exc:
            p.add(str(exc))
    if rule.sql is not None and not rule.sql.strip():
        p.add("the SQL predicate is empty")
    if not rule.channels:
        p.add("give at least one channel: --notify URL")
    for url in rule.channels:
        for problem in check_channel(url):
            p.add(problem)
    if rule.follow_up_sources < 0:
        p.add("follow_up_sources must be 0 (no follow-ups for new sources) or more")
    if p.items:
        raise RuleError(f"rule {rule.name!r}: " + "; ".join(p.items))
    return rule


def make_rule(
    name: str,
    *,
    channels: list[str] | tuple[str, ...],
    keywords: str | None = None,
    entity: str | None = None,
    fact: str | None = None,
    sql: str | None = None,
    follow_up_sources: int = DEFAULT_FOLLOW_UP_SOURCES,
    enabled: bool = True,
    origin: str = "cli",
) -> Rule:
    # Duplicate channels would deliver twice; keep the first of each, in order.
    unique = tuple(dict.fromkeys(c.strip() for c in channels if c.strip()))
    return validate(
        Rule(name, unique, keywords, entity, fact, sql, follow_up_sources, enabled, origin)
    )


def load_toml(text: str, *, origin: str) -> list[Rule]:
    """Rules from a TOML document; RuleError lists the problems of every rule (all or nothing)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"not valid TOML: {exc}") from exc
    extra = set(data) - {"rules"}
    table = data.get("rules")
    if extra or not isinstance(table, dict):
        raise RuleError("expected [rules.NAME] tables only" + (f" (found {', '.join(sorted(extra))})" if extra else ""))
    rules: list[Rule] = []
    problems: list[str] = []
    for name, spec in table.items():
        try:
            rules.append(_rule_from_table(name, spec, origin))
        except RuleError as exc:
            problems.append(str(exc))
    if problems:
        raise RuleError("\n".join(problems))
    return rules


def _rule_from_table(name: str, spec: Any, origin: str) -> Rule:
    if not isinstance(spec, dict):
        raise RuleError(f"rule {name!r}: expected a table")
    unknown = set(spec) - TOML_KEYS
    if unknown:
        known = ", ".join(sorted(TOML_KEYS))
        raise RuleError(f"rule {name!r}: unknown key(s) {', '.join(sorted(unknown))} (known: {known})")
    notify = spec.get("notify", [])
    if isinstance(notify, str):
        notify = [notify]
    if not isinstance(notify, list) or not all(isinstance(u, str) for u in notify):
        raise RuleError(f"rule {name!r}: notify must be a URL or a list of URLs")
    for key in RULE_CONDITIONS:
        if key in spec and not isinstance(spec[key], str):
            raise RuleError(f"rule {name!r}: {key} must be a string")
    follow = spec.get("follow_up_sources", DEFAULT_FOLLOW_UP_SOURCES)
    enabled = spec.get("enabled", True)
    if not isinstance(follow, int) or isinstance(follow, bool) or not isinstance(enabled, bool):
        raise RuleError(f"rule {name!r}: follow_up_sources must be an integer and enabled true or false")
    return make_rule(
        name, channels=notify, keywords=spec.get("keywords"), entity=spec.get("entity"), fact=spec.get("fact"),
        sql=spec.get("sql"), follow_up_sources=follow, enabled=enabled, origin=origin,
    )

