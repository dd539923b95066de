"""newsmon.text: the one home of folding, words, sentences, names and numbers, and the keys stages share."""

from __future__ import annotations

import pytest

from newsmon.extract.entities import resolve_entities
from newsmon.stories.entities import extract_entities
from newsmon.text import fold, fold1, fold_lower, name_key, sentence_spans, sentences, slug, stem, words


def test_fold_variants() -> None:
    assert fold("Görgün’s “deal” — done") == "Gorgun's \"deal\" - done"
    assert fold_lower("İstanbul Straße") == "istanbul strasse"
    text = "Türkiye’s Görgün"
    assert len(fold1(text)) == len(text) and fold1(text) == "Turkiye's Gorgun"


def test_words_drop_possessives_and_fold() -> None:
    assert words("Görgün's F-16 deal, the Presidents' plan") == ["gorgun", "f", "16", "deal", "the", "presidents", "plan"]
    assert stem("defences") == "defense" and stem("exports") == "export"


def test_sentences_keep_abbreviations_and_lines() -> None:
    text = "Mr. Smith met U.S. officials. They agreed.\n\"A quote.\" Then 3 more."
    assert sentences(text) == ["Mr. Smith met U.S. officials.", "They agreed.", '"A quote."', "Then 3 more."]
    assert all(text[a:b] == s for (a, b), s in zip(sentence_spans(text), sentences(text), strict=True))


@pytest.mark.parametrize(
    ("sentence", "name", "label"),
    [
        ("Former Defence Minister Hulusi Akar spoke on Monday.", "Former Defence Minister Hulusi Akar", "PERSON"),
        ("Yesterday Professor Jane Doe said little.", "Professor Jane Doe", "PERSON"),
        ("Officials met Acting Director Ana Müller in Ankara.", "Acting Director Ana Müller", "PERSON"),
        ("Officials met President Recep Tayyip Erdoğan's aides.", "President Recep Tayyip Erdoğan", "PERSON"),
        ("Officials met Mr O'Brien in Ankara.", "Mr O'Brien", "PERSON"),
        ("Officials met the Defence Industries Agency in Ankara.", "Defence Industries Agency", "ORG"),
        ("Officials met the Labour Party in Ankara.", "Labour Party", "ORG"),
    ],
)
def test_clusterer_and_entities_table_key_a_name_alike(sentence: str, name: str, label: str) -> None:
    """The clusterer's evidence and the `entities` table must key one name the same way (analysts join them)."""
    start = sentence.index(name)
    mentions = resolve_entities(sentence, [(start, start + len(name), label)], [0])
    assert len(mentions) == 1
    facts_key = mentions[0].entity.key.split(":", 1)[1]
    story_keys = {e.key for e in extract_entities(sentence)}
    assert facts_key in story_keys, (facts_key, story_keys)
    assert facts_key == name_key(mentions[0].entity.name)


def test_slug_is_the_first_words_folded_and_hyphenated() -> None:
    assert slug("Görgün's F-16 deal: a record, at $555.3M") == "gorgun-f-16-deal-a-record-at-555-3m"
    assert slug("One two three four", max_words=2) == "one-two"
    assert slug("«—»") == ""
