"""Matching rules against stories and deciding which alerts to write (pure: no I/O).

A story matches a rule when every condition of the rule holds. The first time it does, revision 0 is
written; later it is written again (revision 1, 2, ...) only when the story materially changed since the
rule's last alert on it: `follow_up_sources` new outlets, or a fact story_facts did not hold then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsmon.alerts import keywords as kw
from newsmon.alerts.keywords import searchable
from newsmon.alerts.messages import alert_id, build_payload, idempotency_key
from newsmon.alerts.rules import channel_kind, entity_term, fact_condition, keyword_node
from newsmon.model import Delivery, FactView, OutboxAlert, PreviousAlert, Rule, StoryView

MAX_FACTS = 25
# The outbox's pseudo-channel: every alert is also published as a Prefect event.
EVENT_CHANNEL = "prefect-event"


@dataclass
class MatchContext:
    """What a pass knows beyond the stories' text."""

    # story -> its merged facts; None: not loaded, a fact rule never matches
    facts: dict[str, list[FactView]] | None = None
    entities: dict[str, list[str]] | None = None  # story -> entity names; None: not loaded, names match as phrases
    sql_matches: dict[str, set[str]] = field(default_factory=dict)  # rule -> story ids its predicate selects
    _searchable: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def facts_available(self) -> bool:
        return self.facts is not None

    def searchable(self, story: StoryView) -> str:
        """The story's text as keyword rules search it, made once per pass however many rules ask."""
        text = self._searchable.get(story.text)  # str hashes are cached: a cheap key
        if text is None:
            text = self._searchable[story.text] = searchable(story.text)
        return text


def match(rule: Rule, story: StoryView, ctx: MatchContext) -> dict[str, Any] | None:
    """What matched (for the message), or None when some condition does not hold."""
    found: dict[str, Any] = {}
    text = ctx.searchable(story)
    keywords, entity, fact = keyword_node(rule), entity_term(rule), fact_condition(rule)
    if keywords is not None:
        if not keywords.matches(text):
            return None
        found["keywords"] = kw.matched_terms(keywords, text)
    if entity is not None:
        hits = []
        if ctx.entities is not None:
            # The mentions of extracted entities: 'Görgün' matches the entity 'Haluk Görgün'.
            names = ctx.entities.get(story.story_id, [])
            hits = [n for n in names if entity.matches(searchable(n))]
        # The name written out counts too: NER misses some, and facts may not be extracted yet.
        if not hits and entity.matches(text):
            hits = [rule.entity]
        if not hits:
            return None
        found["entity"] = sorted(set(hits))
    if fact is not None:
        if ctx.facts is None:
            return None  # facts were not loaded: never a match
        hits = [f for f in ctx.facts.get(story.story_id, []) if fact.matches(f)]
        if not hits:
            return None
        found["fact"] = [f.describe() for f in hits[:10]]
    if rule.sql is not None:
        if story.story_id not in ctx.sql_matches.get(rule.name, set()):
            return None
        found["sql"] = rule.sql
    return found


@dataclass
class Decision:
    rule: Rule
    story: StoryView
    revision: int
    matched: dict[str, Any]
    changes: dict[str, Any] | None
    facts: list[FactView]

    @property
    def alert_id(self) -> str:
        return alert_id(self.rule.name, self.story.story_id, self.revision)

    def payload(self, created_at: datetime, max_urls: int) -> dict[str, Any]:
        s = self.story
        return build_payload(
            rule=self.rule.name, story_id=s.story_id, revision=self.revision, title=s.title,
            urls=list(s.urls[:max_urls]), sources=s.names(s.sources), first_seen_at=s.first_seen_at,
            last_seen_at=s.last_seen_at, article_count=s.article_count, source_count=s.source_count,
            facts=[{**f.as_dict(), "text": f.describe()} for f in self.facts[:MAX_FACTS]],
            matched=self.matched, changes=self.changes, created_at=created_at,
        )


def _sorted_facts(facts: list[FactView]) -> list[FactView]:
    return sorted(facts, key=lambda f: (-(f.source_count or 0), f.kind, -abs(f.value)))


def decide(
    rule: Rule,
    story: StoryView,
    matched: dict[str, Any],
    previous: PreviousAlert | None,
    ctx: MatchContext,
) -> Decision | None:
    """The alert to write for a matching story, or None (already alerted, nothing material changed)."""
    facts = _sorted_facts(ctx.facts.get(story.story_id, [])) if ctx.facts is not None else []
    if previous is None:
        return Decision(rule, story, 0, matched, None, facts)
    seen_hosts = set(previous.source_hosts)
    new_hosts = [h for h in story.sources if h not in seen_hosts]
    known = set(previous.fact_keys)
    new_facts = [f for f in facts if f.key not in known] if ctx.facts_available else []
    by_sources = rule.follow_up_sources > 0 and len(new_hosts) >= rule.follow_up_sources
    if not by_sources and not new_facts:
        return None
    parts = []
    if new_hosts:
        parts.append(f"{len(new_hosts)} new source(s): {', '.join(story.names(new_hosts))}")
    if new_facts:
        parts.append(f"{len(new_facts)} new fact(s): {'; '.join(f.describe() for f in new_facts[:5])}")
    changes = {
        "since_revision": previous.revision,
        "new_sources": story.names(new_hosts),
        "new_facts": [{**f.as_dict(), "text": f.describe()} for f in new_facts[:MAX_FACTS]],
        "summary": "; ".join(parts),
    }
    return Decision(rule, story, previous.revision + 1, matched, changes, facts)


def outbox_alert(decision: Decision, *, now: datetime, max_urls: int) -> OutboxAlert:
    """The outbox rows of a decision: the alert, one delivery per channel and the Prefect event."""
    story, channels = decision.story, (*decision.rule.channels, EVENT_CHANNEL)
    return OutboxAlert(
        alert_id=decision.alert_id, rule=decision.rule.name, story_id=story.story_id, revision=decision.revision,
        title=story.title, source_hosts=story.sources, fact_keys=tuple(f.key for f in decision.facts),
        changes=decision.changes["summary"] if decision.changes else None,
        payload=decision.payload(now, max_urls),
        deliveries=tuple(
            Delivery(idempotency_key(decision.alert_id, c), c, "event" if c == EVENT_CHANNEL else channel_kind(c))
            for c in channels
        ),
    )
