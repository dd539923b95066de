"""Facts end to end through `newsmon run` on the demo sites: the January story's facts, quotes, entities."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmon.demo.sites import DemoSites
from tests.cli import newsmon, query

pytestmark = pytest.mark.usefixtures("prefect_harness")

QUOTE = "This result is a tangible reflection"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("facts") / "news.duckdb"
    with DemoSites() as sites:
        opml = path.with_suffix(".opml")
        opml.write_text(sites.opml())
        assert newsmon(path, "feeds", "import", str(opml)).exit_code == 0
        result = newsmon(path, "run")
        assert result.exit_code == 0, result.output
        assert "facts: extracted from 21 articles" in result.output  # 22 reports, one a wire copy
        yield path


def january(db: Path) -> str:
    rows = query(db, "SELECT story_id FROM stories WHERE title ILIKE '%defen%export%'")
    assert len(rows) == 1
    return str(rows[0]["story_id"])


def test_story_facts_agree_across_both_sources(db: Path) -> None:
    facts = query(db, f"""
        SELECT kind, value, unit, source_count, disagreement FROM story_facts
        WHERE story_id = '{january(db)}' ORDER BY kind, value""")
    def find(kind: str, low: float, high: float) -> dict[str, object]:
        hits = [f for f in facts if f["kind"] == kind and low <= float(f["value"]) <= high]  # type: ignore[arg-type]
        assert len(hits) == 1, (kind, low, facts)
        return hits[0]

    for kind, low, high in [("money", 555e6, 556e6), ("percent", 44, 44.5), ("money", 9.9e9, 10.1e9)]:
        fact = find(kind, low, high)
        assert fact["source_count"] == 2 and fact["disagreement"] is False
    assert find("money", 555e6, 556e6)["unit"] == "USD"


def test_article_facts_keep_exact_values_and_provenance(db: Path) -> None:
    rows = query(db, f"""
        SELECT f.value, f.surface, f.sentence, f.start_char, f.end_char, f.story_id, f.extractor_version, a.text
        FROM facts f JOIN articles a USING (article_id)
        WHERE f.story_id = '{january(db)}' AND f.kind = 'money' AND f.surface IN ('$555.3 million', '$184 million')""")
    values = {r["surface"]: r["value"] for r in rows}
    assert values == {"$555.3 million": 555300000.0, "$184 million": 184000000.0}
    for row in rows:
        text = str(row["text"])
        assert text[int(row["start_char"]) : int(row["end_char"])] == row["surface"]  # type: ignore[call-overload]
        assert str(row["surface"]) in str(row["sentence"]) and row["extractor_version"]


def test_no_fact_comes_from_the_appended_headlines(db: Path) -> None:
    leaks = query(db, f"""
        SELECT surface, sentence FROM facts WHERE story_id = '{january(db)}'
        AND (sentence ILIKE '%Aomori%' OR sentence ILIKE '%Kazakh%' OR sentence ILIKE '%snow%'
             OR value IN (310000, 106000, 167, 71))""")
    assert leaks == []
    names = query(db, f"""
        SELECT DISTINCT e.name FROM mentions m JOIN entities e USING (entity_id) JOIN articles a USING (article_id)
        WHERE a.story_id = '{january(db)}' AND (e.name ILIKE '%Aomori%' OR e.name ILIKE '%Kazakh%')""")
    assert names == []


def test_both_reports_attribute_the_quote_to_one_gorgun(db: Path) -> None:
    quotes = query(db, f"""
        SELECT q.article_id, q.speaker_id, q.speaker FROM quotes q
        WHERE q.story_id = '{january(db)}' AND q.quote LIKE '{QUOTE}%'""")
    assert len({q["article_id"] for q in quotes}) == 2
    assert {q["speaker_id"] for q in quotes} == {"person:haluk gorgun"}
    merged = query(db, f"SELECT speaker, source_count FROM story_quotes WHERE story_id = '{january(db)}' "
                       f"AND quote LIKE '{QUOTE}%'")
    assert len(merged) == 1 and merged[0]["source_count"] == 2
    assert str(merged[0]["speaker"]).startswith("Haluk G")


def test_gorgun_and_gorgun_are_one_entity(db: Path) -> None:
    mentions = query(db, f"""
        SELECT e.entity_id, list(DISTINCT m.surface ORDER BY m.surface) AS surfaces, count(DISTINCT a.source) AS sources
        FROM mentions m JOIN entities e USING (entity_id) JOIN articles a USING (article_id)
        WHERE a.story_id = '{january(db)}' AND e.kind = 'person' AND e.entity_id LIKE '%gorgun%'
        GROUP BY 1""")
    assert len(mentions) == 1 and mentions[0]["entity_id"] == "person:haluk gorgun"
    assert mentions[0]["sources"] == 2
    surfaces = set(mentions[0]["surfaces"])  # type: ignore[arg-type]
    assert {"Görgün", "Gorgun"} <= surfaces | {s.split()[-1] for s in surfaces}


def test_a_wire_copy_inherits_facts_without_running_nlp(db: Path) -> None:
    rows = query(db, """
        SELECT a.article_id, a.facts_version, (SELECT count(*) FROM facts f WHERE f.article_id = a.article_id) AS n
        FROM articles a WHERE a.duplicate_of IS NOT NULL""")
    assert len(rows) == 1 and rows[0]["facts_version"] is None and rows[0]["n"] == 0
    counted = query(db, f"""
        SELECT max(source_count) AS sources FROM story_facts
        WHERE story_id = (SELECT story_id FROM articles WHERE article_id = '{rows[0]['article_id']}')""")
    assert counted == [{"sources": 2}]  # the copy's outlet counts as a second source of the same facts


def test_reextract_facts_rebuilds_them_without_fetching(db: Path) -> None:
    before = query(db, "SELECT count(*) AS n FROM facts")
    result = newsmon(db, "reextract", "--facts")
    assert result.exit_code == 0, result.output
    assert "re-extracted facts of 21 articles" in result.output
    assert query(db, "SELECT count(*) AS n FROM facts") == before


def test_quotes_keep_the_evidence_of_their_attribution(db: Path) -> None:
    quotes = query(db, f"""
        SELECT q.cue, q.attribution, q.speaker_id FROM quotes q
        WHERE q.story_id = '{january(db)}' AND q.quote LIKE '{QUOTE}%'""")
    assert {(q["cue"], q["attribution"]) for q in quotes} <= {("noted", "pronoun"), ("wrote", "pronoun")}
    assert len(quotes) == 2
    merged = query(db, f"SELECT speaker_id, attribution FROM story_quotes WHERE story_id = '{january(db)}' "
                       f"AND quote LIKE '{QUOTE}%'")
    assert merged == [{"speaker_id": "person:haluk gorgun", "attribution": "pronoun"}]
    unattributed = query(db, "SELECT count(*) AS n FROM quotes WHERE speaker_id IS NULL AND attribution IS NOT NULL")
    assert unattributed == [{"n": 0}]
