"""Per-article fact extraction (extract/facts.py and helpers): the two seed reports, news-style prose, pure helpers.

The model is loaded once per module; the seed texts are copies of ../shared/seeds (tests/data/facts_seed_*.txt).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from newsmon.extract.entities import resolve_entities, strip_name
from newsmon.extract.facts import (
    FACTS_VERSION,
    ArticleFacts,
    Fact,
    FactExtractor,
    Quote,
    merge_quotes,
    merge_story_facts,
    normalize_quote,
    subject_head,
    text_pieces,
)
from newsmon.extract.reldates import _MASTER, find_dates, master_matches
from newsmon.extract.story_text import story_text_end
from newsmon.model import ArticleRecord, WriteBatch
from newsmon.storage.db import open_writer
from newsmon.storage.facts import write_article_facts
from newsmon.storage.writes import write_batch
from newsmon.text import fold, name_key

SHARED = Path(__file__).resolve().parents[2] / "shared"

DATA = Path(__file__).parent / "data"
PUBLISHED = datetime(2026, 2, 3, 12, 0, tzinfo=UTC)  # Tuesday
SEED_A = (DATA / "facts_seed_000.txt").read_text(encoding="utf-8")
SEED_B = (DATA / "facts_seed_001.txt").read_text(encoding="utf-8")
TITLE_B = "Turkish defence and aerospace exports see unprecedented increase in January"

# News-style prose of our own: titles, possessives, quotes across sentences, money/percent subjects.
PROSE = """Prime Minister Keir Starmer’s government said on Wednesday that Britain’s public sector net borrowing fell 12% to £17.4 billion in December.
"We are fixing the foundations of the economy after years of drift," Starmer told reporters in London. "But there is more to do."
Chancellor Rachel Reeves said: "Borrowing is coming down, and it will keep coming down."
According to the Office for Budget Responsibility (OBR), debt interest costs rose by 3.1 per cent year on year to £8.3 billion.
Reeves added that the OBR's forecast showed growth of about 1.5% this year. "These numbers are a vote of confidence in our plan," she said.
According to Andrew Bailey, the Bank of England governor, "inflation is on track to return to target this spring."
Tax receipts climbed 6.4% to a record £92.1 billion last month, the Office for National Statistics said, while the government's borrowing for the financial year so far reached £129.9 billion.
"The public finances are moving in the right direction, but the debt burden remains heavy," said Ruth Gregory, deputy chief UK economist at Capital Economics. Gregory said borrowing in 2025 was about £150 billion.
"""
PROSE_PUBLISHED = datetime(2026, 1, 22, 9, 0, tzinfo=UTC)  # Thursday


@pytest.fixture(scope="module")
def extractor() -> FactExtractor:
    return FactExtractor()


@pytest.fixture(scope="module")
def seeds(extractor: FactExtractor) -> tuple[ArticleFacts, ArticleFacts]:
    a, b = extractor.extract([(SEED_A, PUBLISHED), (SEED_B, PUBLISHED)])
    return a, b


@pytest.fixture(scope="module")
def prose(extractor: FactExtractor) -> ArticleFacts:
    return extractor.extract([(PROSE, PROSE_PUBLISHED)])[0]


def _facts(af: ArticleFacts, kind: str, value: float, unit: str | None) -> list[Fact]:
    return [f for f in af.facts if f.kind == kind and f.unit == unit and f.value is not None
            and abs(f.value - value) < 1e-6 * max(1.0, abs(value))]


def _one(af: ArticleFacts, kind: str, value: float, unit: str | None) -> Fact:
    found = _facts(af, kind, value, unit)
    assert found, f"no {kind} {value} {unit}: {[(f.kind, f.value, f.unit) for f in af.facts]}"
    return found[0]


# --------------------------------------------------------------------------- the seeds


def test_seed_money_exact_values(seeds: tuple[ArticleFacts, ArticleFacts]) -> None:
    a, b = seeds
    assert _one(a, "money", 555_300_000, "USD").surface == "$555.3 million"
    assert _one(b, "money", 184_000_000, "USD").surface == "$184 million"
    assert _one(a, "money", 10_000_000_000, "USD").qualifier == "more than"
    assert _one(b, "money", 10_000_000_000, "USD").qualifier == "more than"


def test_seed_percent_subject_period_change(seeds: tuple[ArticleFacts, ArticleFacts]) -> None:
    a, b = seeds
    for fact in (_one(a, "percent", 44.2, "%"), _one(b, "percent", 44, "%")):
        assert fact.subject is not None and "exports" in fact.subject
        assert fact.period == "2026-01"
        assert fact.change == "increase" and fact.basis == "year on year"
    assert _one(a, "percent", 44.2, "%").subject == "defense and aerospace exports"  # possessor dropped
    for fact in (_one(a, "percent", 48, "%"), _one(b, "percent", 48, "%")):
        assert fact.period == "2025" and fact.change == "increase"
    assert _one(a, "percent", 48, "%").qualifier == "about"
    # The money of the first sentences belongs to the same subject and month ("..., hitting ... $555 million").
    assert _one(a, "money", 555_300_000, "USD").period == "2026-01"
    assert "exports" in (_one(b, "money", 555_000_000, "USD").subject or "")
    assert _one(b, "money", 9_870_000_000, "USD").subject == "equipment sales"


def test_48_per_cent_is_a_percentage_not_money(seeds: tuple[ArticleFacts, ArticleFacts]) -> None:
    b = seeds[1]
    fact = next(f for f in b.facts if f.surface == "48 per cent")
    assert (fact.kind, fact.value, fact.unit) == ("percent", 48.0, "%")
    assert not [f for f in b.facts if f.kind == "money" and f.value == 48.0]


def test_nothing_from_appended_headlines(seeds: tuple[ArticleFacts, ArticleFacts]) -> None:
    b = seeds[1]
    assert b.story_end == SEED_B.index("Heavy snow") - 1
    assert story_text_end(SEED_B, TITLE_B) == b.story_end
    assert not _facts(b, "quantity", 310_000, "t")
    assert not _facts(b, "quantity", 167, "cm")
    assert not _facts(b, "percent", 71, "%")
    assert all(f.end <= b.story_end for f in b.facts)
    assert all("Aomori" not in f.sentence and "Kazakhstan" not in f.sentence for f in b.facts)
    names = {m.entity.name for m in b.mentions}
    assert not names & {"Aomori", "Japan", "Kazakhstan", "Masoud Pezeshkian", "Steve Witkoff", "App Store"}
    assert all(q.end <= b.story_end for q in b.quotes)
    # The seed without appended items keeps all its text.
    assert seeds[0].story_end == len(SEED_A)


def test_gorgun_is_one_entity_across_reports(seeds: tuple[ArticleFacts, ArticleFacts]) -> None:
    a, b = seeds
    keys_a = {m.entity.key for m in a.mentions if "rg" in m.surface}
    keys_b = {m.entity.key for m in b.mentions if "rg" in m.surface}
    assert keys_a == keys_b == {"person:haluk gorgun"}
    # "Görgün noted ..." (missed by the model at a sentence start) resolves to the full name.
    short_a = next(m for m in a.mentions if m.surface == "Görgün")
    assert short_a.entity.name == "Haluk Görgün" and short_a.sentence_index > 0
    # "Gorgun" alone (labelled GPE by the model) resolves to "Haluk Gorgun".
    short_b = [m for m in b.mentions if m.surface == "Gorgun"]
    assert short_b and all(m.entity.name == "Haluk Gorgun" and m.entity.kind == "person" for m in short_b)
    # Possessives and mixed labels: "Türkiye’s" (ORG) and "Türkiye" (GPE) are one place.
    assert {m.entity.key for m in b.mentions if m.surface.startswith("Türkiye")} == {"place:turkiye"}
    assert "org:defense industries secretariat" in {m.entity.key for m in b.mentions}


def test_quote_attributed_in_both_reports_and_merged(seeds: tuple[ArticleFacts, ArticleFacts]) -> None:
    a, b = seeds
    qa = next(q for q in a.quotes if q.text.startswith("This result is a tangible reflection"))
    qb = next(q for q in b.quotes if q.text.startswith("This result is a tangible reflection"))
    assert qa.speaker is not None and qb.speaker is not None
    assert qa.speaker.key == qb.speaker.key == "person:haluk gorgun"  # "he noted" / "he wrote"
    assert SEED_A[qa.start : qa.end] == qa.text and SEED_B[qb.start : qb.end] == qb.text
    first = next(q for q in a.quotes if q.text.startswith("Having concluded 2025"))
    assert first.speaker is not None and first.speaker.name == "Haluk Görgün"  # '"...!" Haluk Görgün, ..., said.'
    merged = merge_quotes([("a", "a", a), ("b", "b", b)])
    tangible = [m for m in merged if m[1].startswith("This result is a tangible reflection")]
    assert len(tangible) == 1
    speaker, _, count, ids, speaker_id, attribution = tangible[0]
    assert speaker == "Haluk Görgün" and count == 2 and ids == ("a", "b")
    assert speaker_id == "person:haluk gorgun" and attribution == "pronoun"  # "he noted" / "he wrote" in both


def test_on_monday_resolves_against_publication(seeds: tuple[ArticleFacts, ArticleFacts]) -> None:
    a, b = seeds
    monday = next(f for f in a.facts if f.kind == "date" and f.surface == "Monday")
    assert monday.date_value == "2026-02-02"
    explicit = next(f for f in b.facts if f.kind == "date" and f.surface.startswith("Monday"))
    assert explicit.surface == "Monday (2 February)" and explicit.date_value == "2026-02-02"
    assert next(f for f in b.facts if f.kind == "date" and f.surface == "last month").date_value == "2026-01"


def test_merge_story_facts_over_the_seeds(seeds: tuple[ArticleFacts, ArticleFacts]) -> None:
    merged = merge_story_facts([("a", "a", seeds[0]), ("b", "b", seeds[1])])

    def find(kind: str, unit: str, value: float) -> list:
        return [m for m in merged if m.kind == kind and m.unit == unit and abs(m.value - value) <= 0.01 * value]

    for kind, unit, value in (("money", "USD", 555e6), ("percent", "%", 44.0), ("money", "USD", 10e9),
                              ("percent", "%", 48.0)):
        found = find(kind, unit, value)
        assert len(found) == 1, (kind, value, found)
        assert found[0].source_count == 2 and found[0].article_ids == ("a", "b")
        assert not found[0].disagreement
    money = find("money", "USD", 555e6)[0]
    assert money.value == 555_300_000 and money.period == "2026-01"  # the most precise statement
    assert set(money.surfaces) == {"$555.3 million", "more than $555 million"}
    # "$9.87 billion" is below "more than $10 billion": not the same figure.
    assert find("money", "USD", 9.87e9)[0].source_count == 1


# --------------------------------------------------------------------------- our own prose


def test_prose_titles_possessives_and_aliases(prose: ArticleFacts) -> None:
    by_surface = {m.surface: m.entity for m in prose.mentions}
    assert by_surface["Starmer"].name == "Keir Starmer" and by_surface["Starmer"].kind == "person"
    assert by_surface["Reeves"].key == "person:rachel reeves"
    assert "Chancellor" not in {w for m in prose.mentions for w in m.entity.name.split()}
    assert by_surface["Britain"].key == "place:britain"  # "Britain’s"
    assert all(not m.surface.endswith(("’s", "'s")) for m in prose.mentions)
    assert by_surface["OBR"].key == "org:office for budget responsibility"  # "(OBR)" is an alias


def test_prose_quotes_across_sentences(prose: ArticleFacts) -> None:
    speakers = {q.text[:24]: (q.speaker.name if q.speaker else None) for q in prose.quotes}
    assert speakers == {
        "We are fixing the founda": "Keir Starmer",  # '"...," Starmer told reporters'
        "But there is more to do.": "Keir Starmer",  # continues the previous quotation
        "Borrowing is coming down": "Rachel Reeves",  # 'Chancellor Rachel Reeves said: "..."'
        "These numbers are a vote": "Rachel Reeves",  # '"...," she said' after a sentence naming Reeves
        "inflation is on track to": "Andrew Bailey",  # 'According to Andrew Bailey, ..., "..."'
        "The public finances are ": "Ruth Gregory",  # '"...," said Ruth Gregory, ...'
    }
    for q in prose.quotes:
        assert PROSE[q.start : q.end] == q.text and q.text in q.sentence
        assert PROSE[q.sentence_start : q.sentence_start + len(q.sentence)] == q.sentence


def test_prose_money_and_percent_subjects(prose: ArticleFacts) -> None:
    borrowing = _one(prose, "percent", 12, "%")
    assert (borrowing.subject, borrowing.period, borrowing.change) == ("public sector net borrowing", "2025-12",
                                                                       "decrease")
    level = _one(prose, "money", 17.4e9, "GBP")
    assert level.subject == "public sector net borrowing" and level.change is None  # "fell 12% to £17.4 billion"
    interest = _one(prose, "percent", 3.1, "%")
    assert (interest.subject, interest.change, interest.basis) == ("debt interest costs", "increase", "year on year")
    growth = _one(prose, "percent", 1.5, "%")
    assert (growth.subject, growth.qualifier, growth.period) == ("growth", "about", "2026")
    receipts = _one(prose, "money", 92.1e9, "GBP")
    assert receipts.subject == "Tax receipts" and receipts.period == "2025-12"  # "last month"
    assert _one(prose, "money", 150e9, "GBP").period == "2025"  # "said borrowing in 2025": a period, not reporting
    wednesday = next(f for f in prose.facts if f.kind == "date" and f.surface == "Wednesday")
    assert wednesday.date_value == "2026-01-21"


SUBJECTS = (
    "Turkish Airlines reported revenue of $5 billion for the year.\n"
    "Exports of Germany rose 4% in March, while France and Italy were flat.\n"
    "Analysts said profits might climb by 12% at Siemens next year.\n"
)


def test_subject_entity_from_the_parse_else_the_nearest(extractor: FactExtractor) -> None:
    af = extractor.extract([(SUBJECTS, None)])[0]
    about = {f.surface: (f.subject_entity.name if f.subject_entity else None, f.subject_entity_how)
             for f in af.facts if f.kind != "date"}
    assert about["$5 billion"] == ("Turkish Airlines", "parse")  # the clause's subject
    assert about["4%"] == ("Germany", "parse")  # "Exports of Germany": the owner of the subject noun
    assert about["12%"] == ("Siemens", "nearest")  # the parse's subject ("profits") names no entity


def test_subject_entity_is_stored_with_how_it_was_found(extractor: FactExtractor, db_path: Path) -> None:
    published = datetime(2026, 2, 3, tzinfo=UTC)
    article = ArticleRecord(
        article_id="a", url="http://x.com/a", canonical_url="http://x.com/a", feed_url=None, source="x.com",
        title="Results", author=None, published_at=published, published_source="feed", language="en",
        description=None, text=SUBJECTS, content_hash="a", fetched_at=published, extractor_version="test",
        final_url=None, content_type="text/html", charset="utf-8", size=len(SUBJECTS), html_zlib=None,
    )
    write_batch(db_path, WriteBatch(articles=[article]), lock_timeout=0)
    with open_writer(db_path) as con:
        write_article_facts(con, [("a", extractor.extract([(SUBJECTS, published)])[0])], extractor.version)
        rows = con.execute(
            "SELECT f.surface, e.name, f.subject_entity_how FROM facts f "
            "LEFT JOIN entities e ON e.entity_id = f.subject_entity_id WHERE f.kind <> 'date' ORDER BY f.start_char"
        ).fetchall()
    assert rows == [("$5 billion", "Turkish Airlines", "parse"), ("4%", "Germany", "parse"),
                    ("12%", "Siemens", "nearest")]


def test_provenance_of_every_fact(seeds: tuple[ArticleFacts, ArticleFacts], prose: ArticleFacts) -> None:
    for text, af in ((SEED_A, seeds[0]), (SEED_B, seeds[1]), (PROSE, prose)):
        assert af.version == FACTS_VERSION == "facts-5/en_core_web_sm-3.8.0"
        for f in af.facts:
            assert text[f.start : f.end] == f.surface
            assert text[f.sentence_start : f.sentence_start + len(f.sentence)] == f.sentence
            assert f.sentence_start <= f.start and f.end <= f.sentence_start + len(f.sentence)
            assert f.version == FACTS_VERSION
        for m in af.mentions:
            assert text[m.start : m.end] == m.surface


# --------------------------------------------------------------------------- pure helpers (no model)


def test_story_text_end_keeps_a_coherent_story() -> None:
    assert story_text_end(PROSE, None) == len(PROSE)
    boiler = PROSE + "You can download our application from the App Store.\nLeave the first comment\n"
    assert story_text_end(boiler, None) == len(PROSE.rstrip("\n"))


def test_relative_dates() -> None:
    pub = date(2026, 2, 3)
    text = ("It fell on Saturday (31 January) and again yesterday. Sales were weak last week and in January. "
            "Talks will resume on Friday. Output rose last year. He spoke two days ago. Profit rose in the first "
            "quarter. May I help? The vote is due in May.")
    got = {d.surface: d.value for d in find_dates(text, pub)}
    assert got == {
        "Saturday (31 January)": "2026-01-31", "yesterday": "2026-02-02", "last week": "2026-W05",
        "January": "2026-01", "Friday": "2026-02-06", "last year": "2025", "two days ago": "2026-02-01",
        "the first quarter": "2026-Q1", "May": "2026-05",
    }
    assert [d.reporting for d in find_dates("the ministry said on Monday that exports rose in January", pub)] == [
        True, False]
    assert [d.value for d in find_dates("in January 2026 and on 8 February", None)] == ["2026-01"]


def test_the_anchored_date_scan_finds_what_the_whole_scan_finds() -> None:
    """`find_dates` tries its patterns only near a digit, a month or weekday name or a time word: the same matches as
    trying them at every character, on real news (BASIL, ECB+, PolNeAR), from any start, and on the cases where a
    match starts words before its anchor or inside a word."""
    texts = [
        "outlast January; blast Monday; mid-2020; in mid-\n2019; end of  March; the\tfirst \u00a0quarter of 2024",
        "earlier this week, later next month, in early 2020, since 1999, two\ndays ago, last  night, Q3 2025",
        "Sept. 3, 2024 (Saturday, 31 January) 2026-02-03 last spring 12 weeks ago The First Quarter",
    ]
    for name in ("basil_docs.jsonl", "ecbplus_docs.jsonl", "polnear_attributions.jsonl"):
        path = SHARED / "data" / name
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()[:150]
            texts += [str(json.loads(line).get("text") or "") for line in lines]
    assert len(texts) > 3 or not SHARED.exists()

    def spans(matches: Iterator[re.Match[str]]) -> list[tuple[tuple[int, int], str | None]]:
        return [(m.span(), m.lastgroup) for m in matches]

    for text in texts:
        for start, end in ((0, len(text)), (len(text) // 3, len(text)), (7, len(text) // 2)):
            assert spans(master_matches(text, start, end)) == spans(_MASTER.finditer(text, start, end))


def test_name_normalisation() -> None:
    assert fold("Görgün’s") == "Gorgun's" and name_key("Haluk Görgün") == name_key("Haluk Gorgun")
    assert name_key("Defence Industries Secretariat") == "defense industries secretariat"
    text = "the Türkiye’s and President Masoud Pezeshkian's and Dr. Jane Smith"
    for surface, label, want in (("the Türkiye’s", "GPE", "Türkiye"),
                                 ("President Masoud Pezeshkian's", "PERSON", "Masoud Pezeshkian"),
                                 ("Dr. Jane Smith", "PERSON", "Jane Smith")):
        s = text.index(surface)
        span = strip_name(text, s, s + len(surface), label)
        assert span is not None and text[span[0] : span[1]] == want
    # Pure resolution: a surname labelled GPE, and a surname the model missed, are the person.
    text = "Haluk Görgün spoke. Gorgun said more. Görgün noted it."
    spans = [(0, 12, "PERSON"), (20, 26, "GPE")]
    mentions = resolve_entities(text, spans, [0, 20, 38])
    assert [(m.surface, m.entity.key, m.sentence_index) for m in mentions] == [
        ("Haluk Görgün", "person:haluk gorgun", 0), ("Gorgun", "person:haluk gorgun", 1),
        ("Görgün", "person:haluk gorgun", 2)]


def _fact(value: float, unit: str, surface: str, qualifier: str | None = None, kind: str = "percent",
          subject: str | None = "exports", period: str | None = "2026-01") -> Fact:
    return Fact(kind, value, unit, qualifier, subject, period, None, surface, 0, len(surface), surface, 0)


def _af(*facts: Fact, quotes: tuple[Quote, ...] = ()) -> ArticleFacts:
    return ArticleFacts([], list(facts), list(quotes), 0)


def test_merge_tolerance_and_disagreement() -> None:
    merged = merge_story_facts([
        ("1", "a", _af(_fact(44.2, "%", "44.2%"))),
        ("2", "b", _af(_fact(44.0, "%", "44 percent"))),
        ("3", "c", _af(_fact(40.0, "%", "40%"))),
    ])
    assert [(m.value, m.source_count, m.disagreement) for m in merged] == [(44.2, 2, True), (40.0, 1, True)]
    # Rounding: "$10 billion" agrees with $10.3 billion and $9.9 billion (both round to it); nearest wins ...
    rounded = merge_story_facts([
        ("1", "a", _af(_fact(10.3e9, "USD", "$10.3 billion", kind="money"))),
        ("2", "b", _af(_fact(10e9, "USD", "$10 billion", kind="money"))),
        ("3", "c", _af(_fact(9.9e9, "USD", "$9.9 billion", kind="money"))),
    ])
    assert sorted((m.value, m.source_count) for m in rounded) == [(9.9e9, 2), (10.3e9, 1)]
    # ... but "more than $10 billion" is not $9.87 billion, and "about 48%" is 48 per cent.
    bounded = merge_story_facts([
        ("1", "a", _af(_fact(9.87e9, "USD", "$9.87 billion", kind="money"))),
        ("2", "b", _af(_fact(10e9, "USD", "$10 billion", "more than", kind="money"))),
        ("3", "a", _af(_fact(48.0, "%", "48%", "about"))),
        ("4", "b", _af(_fact(48.0, "%", "48 per cent"))),
    ])
    assert sorted((m.value, m.source_count) for m in bounded) == [(48.0, 2), (9.87e9, 1), (10e9, 1)]
    # Different periods are different figures, not a disagreement.
    periods = merge_story_facts([("1", "a", _af(_fact(5.0, "%", "5%", period="2025"))),
                                 ("2", "b", _af(_fact(5.0, "%", "5%", period="2026-01")))])
    assert [m.source_count for m in periods] == [1, 1] and not any(m.disagreement for m in periods)
    assert subject_head("defence and aerospace exports") == subject_head("defense and aerospace exports") == "export"


def test_quote_normalisation() -> None:
    assert normalize_quote("“our high-value-added, advanced”") == normalize_quote('"Our high value-added advanced"')
    q1 = Quote(None, "This is it. And more follows here,", 0, 10, "")
    q2 = Quote(None, "this is it", 0, 10, "")
    merged = merge_quotes([("1", "a", _af(quotes=(q1,))), ("2", "b", _af(quotes=(q2,)))])
    assert merged == [(None, "This is it. And more follows here,", 2, ("1", "2"), None, None)]


def test_quotes_with_partial_quotation_and_titles(extractor: FactExtractor) -> None:
    text = ('Outside court, defence lawyer John Fowler said his client was "not doing very well at all."\n'
            'Mr Fowler told reporters: "We will appeal the ruling as soon as we possibly can."\n')
    af = extractor.extract([(text, PROSE_PUBLISHED)])[0]
    assert [(q.text, q.speaker.key if q.speaker else None) for q in af.quotes] == [
        ("not doing very well at all.", "person:john fowler"),
        ("We will appeal the ruling as soon as we possibly can.", "person:john fowler"),
    ]


# ---------------------------------------------------------------------------------------------
# a long text is read in pieces (spaCy's memory grows with one text's length)

LONG_PARAGRAPHS = [
    "Airbus said on Monday that it delivered 71 aircraft in May, up 12% from a year earlier.",
    "The chief executive, Guillaume Faury, told reporters in Toulouse that demand stayed strong.",
    'Boeing shares fell 3% in New York. "We are not worried," said Dave Calhoun.',
]


def test_text_pieces_join_back_and_end_after_a_line_break() -> None:
    text = "\n".join(LONG_PARAGRAPHS * 3)
    pieces = text_pieces(text, 200)
    assert "".join(pieces) == text and len(pieces) > 1
    assert all(len(p) <= 200 for p in pieces) and all(p.endswith("\n") for p in pieces[:-1])
    one_line = "word " * 100
    assert "".join(text_pieces(one_line, 64)) == one_line and all(len(p) <= 64 for p in text_pieces(one_line, 64))
    assert text_pieces("short", 200) == ["short"]


def test_a_long_text_read_in_pieces_gives_the_facts_of_the_whole() -> None:
    text = "\n".join(LONG_PARAGRAPHS * 3)
    whole, pieces = (FactExtractor(piece_chars=n).extract([(text, None)])[0] for n in (len(text), 200))
    assert [(m.start, m.end, m.entity.name) for m in pieces.mentions] == [
        (m.start, m.end, m.entity.name) for m in whole.mentions]
    assert [(f.kind, f.start, f.end) for f in pieces.facts] == [(f.kind, f.start, f.end) for f in whole.facts]
    assert [(q.start, q.speaker) for q in pieces.quotes] == [(q.start, q.speaker) for q in whole.quotes]
    assert any(m.start > 400 for m in pieces.mentions)  # entities of the later pieces, at their places in the text
