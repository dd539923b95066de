"""Alert rules as pure logic: keyword expressions, fact conditions, secrets in URLs, TOML, message escaping."""

from __future__ import annotations

import pytest

from newsmon.alerts import keywords as kw
from newsmon.alerts import messages
from newsmon.alerts.engine import MatchContext, decide, match
from newsmon.alerts.facts import FactError, parse_fact
from newsmon.alerts.keywords import searchable
from newsmon.alerts.rules import RuleError, load_toml, make_rule
from newsmon.alerts.secrets import SecretError, literal_secrets, redact, resolve
from newsmon.model import FactView, PreviousAlert, StoryView
from newsmon.text import fold_lower as fold

TITLE = "Türkiye's defense, aerospace exports soar 44% to record $555.3M in January"
BODY = "Haluk Görgün, head of the Defence Industry Agency, said exports to 180 countries rose.\nA second paragraph."


def matches(expr: str, text: str = TITLE + "\n" + BODY) -> bool:
    return kw.parse(expr).matches(searchable(text))


# --- folding and keywords ------------------------------------------------------------------------------


def test_fold_removes_case_and_accents() -> None:
    assert fold("Görgün İSTANBUL Straße Øresund Łódź ığüşöç") == "gorgun istanbul strasse oresund lodz igusoc"
    assert searchable("Defence-exports, (2026)!") == " defence exports 2026 "


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("(defense OR defence) AND exports", True),
        ("(defence OR defense) exports", True),  # implicit AND
        ("defence exports", True),  # both words, anywhere
        ("defence AND coffee", False),
        ("coffee OR exports", True),
        ("exports NOT coffee", True),
        ("exports AND NOT aerospace", False),
        ("NOT (coffee OR tea) exports", True),
        ("exports NOT (coffee OR aerospace)", False),
        ('"aerospace exports"', True),  # phrase, across the comma
        ('"exports aerospace"', False),  # words in the other order
        ('"defense aerospace exports"', True),
        ('"defence industry agency"', True),
        ('"rose a second"', False),  # a phrase never spans a paragraph
        ("export", False),  # word boundaries: 'exports' is another word
        ("export*", True),  # prefix
        ('"aerospace export"*', True),
        ("görgün", True),
        ("GORGUN", True),  # case and accents either way
        ("haluk AND gorgün", True),
        ("turkiye", True),  # Türkiye's
        ("turkiye's", True),
        ("def", False),
        ("coffee or exports and not tea", True),  # operators in any case
        ("coffee or tea and not exports", False),
        ('"or"', False),  # an operator word, quoted, is a term
    ],
)
def test_keyword_expressions(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


def test_precedence_not_over_and_over_or() -> None:
    node = kw.parse("a OR b AND NOT c")
    assert isinstance(node, kw.Or) and isinstance(node.items[1], kw.And)
    assert isinstance(node.items[1].items[1], kw.Not)
    assert kw.parse("a OR b AND NOT c").matches(searchable("a c"))
    assert not kw.parse("(a OR b) AND NOT c").matches(searchable("a c"))


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("(defence OR defense", "never closed"),
        ("defence)", "unexpected ')'"),
        ("defence AND", "ends where a term"),
        ("OR defence", "unexpected 'OR'"),
        ('"defence exports', "unterminated quote"),
        ('""', "no letters or digits"),
        ("$$$", "no letters or digits"),
        ("ex*ports", "only allowed at the end"),
        ("NOT coffee", "add at least one term"),
        ("NOT (a AND b)", "add at least one term"),
    ],
)
def test_bad_expressions_are_refused_with_a_reason(expr: str, message: str) -> None:
    with pytest.raises(kw.ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kw.parse(expr)


def test_matched_terms_name_what_was_found() -> None:
    node = kw.parse("(defense OR defence) AND exports NOT coffee")
    assert kw.matched_terms(node, searchable(TITLE)) == ["defense", "exports"]


# --- facts -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "op", "value", "unit"),
    [
        ("money > 500000000 USD", "money", ">", 5e8, "USD"),
        ("money >= 500 million USD", "money", ">=", 5e8, "USD"),
        ("money >= 500 million usd", "money", ">=", 5e8, "USD"),
        ("money > $1.5bn", "money", ">", 1.5e9, "USD"),
        ("money > 1,500,000 EUR", "money", ">", 1.5e6, "EUR"),
        ("money < €3 billion", "money", "<", 3e9, "EUR"),
        ("percent > 40", "percent", ">", 40, None),
        ("percent >= 40%", "percent", ">=", 40, "%"),
        ("percent <= 35.5 percent", "percent", "<=", 35.5, "%"),
        ("quantity > 13 bcm", "quantity", ">", 13, "BCM"),
        ("Money == 7", "money", "=", 7, None),
    ],
)
def test_fact_grammar(text: str, kind: str, op: str, value: float, unit: str | None) -> None:
    cond = parse_fact(text)
    assert (cond.kind, cond.op, cond.value, cond.unit) == (kind, op, pytest.approx(value), unit)


@pytest.mark.parametrize("text", ["money", "money > ", "> 5", "money >> 5", "money > five", "money > $5 EUR", "5 < money"])
def test_bad_fact_conditions_are_refused(text: str) -> None:
    with pytest.raises(FactError):
        parse_fact(text)


def test_fact_condition_compares_kind_value_and_unit() -> None:
    cond = parse_fact("money >= 500 million USD")
    assert cond.matches(FactView("money", 555.3e6, "USD"))
    assert not cond.matches(FactView("money", 555.3e6, "EUR"))
    assert not cond.matches(FactView("money", 420e6, "USD"))
    assert not cond.matches(FactView("percent", 555.3e6, "USD"))
    assert parse_fact("percent > 40").matches(FactView("percent", 44.0, "%"))


# --- secrets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "mailtos://alerts:hunter2@smtp.example.org?to=ops@example.org",
        "https://hooks.example.org/newsmon?token=abc123",
        "https://hooks.example.org/newsmon?api_key=abc",
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general",
        "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100123",
        "https://hooks.example.org/services/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ],
)
def test_literal_secrets_are_spotted(url: str) -> None:
    assert literal_secrets(url)
    with pytest.raises(RuleError, match=r"\$\{VAR\}"):
        make_rule("r", keywords="x", channels=[url])


@pytest.mark.parametrize(
    "url",
    [
        "mailtos://alerts:${SMTP_PASSWORD}@smtp.example.org?to=ops@example.org",
        "https://hooks.example.org/newsmon?token=${HOOK_TOKEN}",
        "https://hooks.example.org/newsmon?token={{ prefect.blocks.secret.hook-token }}",
        "slack://${SLACK_TOKENS}/#general",
        "https://alerts.internal.example/newsmon/v2/incoming",
        "json://127.0.0.1:8080/newsmon",
        "mailto://127.0.0.1?from=alerts@example.org&to=ops@example.org",
    ],
)
def test_placeholders_and_plain_urls_are_accepted(url: str) -> None:
    assert literal_secrets(url) == []
    make_rule("r", keywords="x", channels=[url])


def test_placeholders_resolve_with_encoding_where_it_matters() -> None:
    env = {"PASS": "p@ss/w:rd", "TOKEN": "a b&c", "TEAM": "T1/B2/C3"}
    got = resolve("mailtos://me:${PASS}@smtp.example.org/?token=${TOKEN}&x=1", env=env)
    assert got.url == "mailtos://me:p%40ss%2Fw%3Ard@smtp.example.org/?token=a%20b%26c&x=1"
    assert got.secrets == ["p@ss/w:rd", "a b&c"]
    assert resolve("slack://${TEAM}/#news", env=env).url == "slack://T1/B2/C3/#news"  # path: as is
    blocks = resolve("https://h.example/x?k={{ prefect.blocks.secret.hook }}", env={}, load_block=lambda n: n + "!")
    assert blocks.url == "https://h.example/x?k=hook%21"
    with pytest.raises(SecretError, match="MISSING is not set") as info:
        resolve("https://h.example/?token=${MISSING}", env={})
    assert "${" not in str(info.value)


def test_redaction_removes_known_secrets_and_credential_shapes() -> None:
    text = (
        "POST https://u:pw1234@h.example/x?token=abcdef&page=2 failed: Bearer eyJhbGciOi.xyz; "
        "echo p@ss/w:rd and p%40ss%2Fw%3Ard"
    )
    out = redact(text, ["p@ss/w:rd"])
    assert "pw1234" not in out and "abcdef" not in out and "eyJhbGciOi" not in out and "p@ss" not in out
    assert "p%40ss" not in out and "page=2" in out and "https://u:***@h.example" in out


# --- rules and TOML ---------------------------------------------------------------------------------


def test_rules_are_validated_with_every_problem_listed() -> None:
    with pytest.raises(RuleError) as info:
        make_rule("bad name!", channels=["ftp://x"], keywords="(a OR", fact="money >>> 5", follow_up_sources=-1)
    text = str(info.value)
    for part in ("rule name", "keywords", "fact condition", "apprise does not accept", "follow_up_sources"):
        assert part in text
    with pytest.raises(RuleError, match="at least one condition"):
        make_rule("r", channels=["https://h.example/x"])
    with pytest.raises(RuleError, match="at least one channel"):
        make_rule("r", keywords="x", channels=[])
    rule = make_rule("r", keywords="x", channels=["https://h.example/x", "https://h.example/x "])
    assert rule.channels == ("https://h.example/x",)  # a channel listed twice would deliver twice


TOML = """
[rules.defence-exports]
keywords = '(defense OR defence) AND exports'
notify = ["https://hooks.example.org/newsmon?token=${HOOK_TOKEN}", "mailtos://alerts:${SMTP_PASSWORD}@smtp.example.org?to=ops@example.org"]
follow_up_sources = 3

[rules.gorgun]
entity = "Haluk Görgün"
notify = "json://hooks.example.org/gorgun"
enabled = false

[rules.big-money]
fact = "money >= 500 million USD"
sql = "source_count >= 2"
notify = ["https://hooks.example.org/money"]
"""


def test_toml_rules() -> None:
    rules = {r.name: r for r in load_toml(TOML, origin="toml:test")}
    assert set(rules) == {"defence-exports", "gorgun", "big-money"}
    assert rules["defence-exports"].follow_up_sources == 3 and len(rules["defence-exports"].channels) == 2
    assert rules["gorgun"].channels == ("json://hooks.example.org/gorgun",) and not rules["gorgun"].enabled
    assert rules["big-money"].conditions() == {"fact": "money >= 500 million USD", "sql": "source_count >= 2"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rules.a]\nkeywords = 'x'\nnotify = 'https://h.example/x'\ncolour = 'red'", "unknown key"),
        ("[rules.a]\nkeywords = 'x'\nnotify = 'https://h.example/x?token=literal'", "secrets are never stored"),
        ("[rules.a]\nkeywords = '(x'\nnotify = 'https://h.example/x'\n[rules.b]\nfact = 'cash'\nnotify = 'https://h.example/x'",
         "rule 'b'"),
        ("rules = 3", "expected [rules.NAME]"),
        ("[rules.a\n", "not valid TOML"),
        ("[rules.a]\nkeywords = 'x'\nnotify = 'https://h.example/x'\nfollow_up_sources = 'two'", "integer"),
    ],
)
def test_toml_problems(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message.replace("[", r"\[")):
        load_toml(text, origin="toml:test")


# --- matching decisions and messages -------------------------------------------------------------------


def story(**overrides: object) -> StoryView:
    values: dict[str, object] = {
        "story_id": "s-1", "title": TITLE, "first_seen_at": None, "last_seen_at": None, "article_count": 2,
        "source_count": 2, "sources": ("a.example", "b.example"),
        "outlet_names": {"a.example": "Ankara Ledger", "b.example": "Eurasia Dispatch"},
        "urls": ("https://a.example/1", "https://b.example/2"), "text": TITLE + "\n" + BODY,
    }
    values.update(overrides)
    return StoryView(**values)  # type: ignore[arg-type]


def test_entity_rule_matches_mentions_or_the_name_in_the_text() -> None:
    rule = make_rule("g", entity="Görgün", channels=["https://h.example/x"])
    assert match(rule, story(), MatchContext()) == {"entity": ["Görgün"]}  # a phrase in the text
    ctx = MatchContext(entities={"s-1": ["Haluk Görgün", "Ankara"]})
    assert match(rule, story(), ctx) == {"entity": ["Haluk Görgün"]}
    # NER missed the name, but the text says it.
    assert match(rule, story(), MatchContext(entities={"s-1": ["Ankara"]})) == {"entity": ["Görgün"]}
    silent = story(text=TITLE + "\nThe secretariat published the figures.", title="Exports rise")
    assert match(rule, silent, MatchContext(entities={"s-1": ["Ankara"]})) is None
    assert match(rule, silent, MatchContext(entities={"s-1": ["Haluk Gorgun"]})) == {"entity": ["Haluk Gorgun"]}


def test_fact_rules_match_nothing_without_facts() -> None:
    rule = make_rule("m", fact="money >= 500 million USD", channels=["https://h.example/x"])
    assert match(rule, story(), MatchContext(facts=None)) is None
    ctx = MatchContext(facts={"s-1": [FactView("money", 555.3e6, "USD", "exports", "2026-01", 2)]})
    assert match(rule, story(), ctx) == {"fact": ["money 555,300,000 USD (exports, 2026-01)"]}


def test_follow_ups_need_enough_new_sources_or_a_new_fact() -> None:
    rule = make_rule("r", keywords="exports", channels=["https://h.example/x"], follow_up_sources=2)
    first = decide(rule, story(), {}, None, MatchContext())
    assert first is not None and first.revision == 0 and first.changes is None
    seen = PreviousAlert(0, ("a.example", "b.example"), ())
    assert decide(rule, story(), {}, seen, MatchContext()) is None
    one_more = story(sources=("a.example", "b.example", "c.example"))
    assert decide(rule, one_more, {}, seen, MatchContext()) is None
    two_more = story(sources=("a.example", "b.example", "c.example", "d.example"))
    follow = decide(rule, two_more, {}, seen, MatchContext())
    assert follow is not None and follow.revision == 1
    assert follow.changes is not None and follow.changes["new_sources"] == ["c.example", "d.example"]
    fact = FactView("money", 555.3e6, "USD")
    with_fact = decide(rule, story(), {}, seen, MatchContext(facts={"s-1": [fact]}))
    assert with_fact is not None and with_fact.revision == 1 and "1 new fact(s)" in with_fact.changes["summary"]
    known = PreviousAlert(3, ("a.example", "b.example"), (fact.key,))
    assert decide(rule, story(), {}, known, MatchContext(facts={"s-1": [fact]})) is None
    never = make_rule("n", keywords="exports", channels=["https://h.example/x"], follow_up_sources=0)
    assert decide(never, two_more, {}, seen, MatchContext()) is None


def test_messages_escape_what_came_from_the_web() -> None:
    evil = story(
        title='<script>alert(1)</script> *bold* [x](javascript:y)\r\nBcc: victim@example.org',
        urls=("https://a.example/1?q=<b>", "javascript:alert(1)"),
        outlet_names={"a.example": "<b>Ankara</b>", "b.example": "_Eurasia_"},
    )
    rule = make_rule("r", keywords="exports", channels=["https://h.example/x"])
    d = decide(rule, evil, {"keywords": ["exports"]}, None, MatchContext())
    assert d is not None
    payload = d.payload(messages_now(), 25)
    html = messages.render_html(payload)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>Ankara" not in html
    assert 'href="javascript:' not in html and 'href="https://a.example/1?q=%3Cb%3E"' in html
    md = messages.render_markdown(payload)
    assert r"\*bold\*" in md and r"\[x\]\(javascript:y\)" in md and r"\_Eurasia\_" in md
    assert "\r" not in messages.subject(payload) and "\n" not in messages.subject(payload)
    assert payload["urls"] == ["https://a.example/1?q=<b>", "javascript:alert(1)"]  # raw in JSON, escaped on render


def messages_now() -> object:
    from datetime import UTC, datetime

    return datetime(2026, 2, 3, tzinfo=UTC)
