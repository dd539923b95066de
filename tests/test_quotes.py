"""Who said it: quote attribution as news writes it, through the real extractor (spaCy NER + the rules)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from newsmon.extract.facts import (
    ArticleFacts,
    FactExtractor,
    Quote,
    load_pipeline,
    merge_quotes,
    model_reading,
    sentence_model,
)
from newsmon.model import ArticleRecord, WriteBatch
from newsmon.storage.db import open_writer
from newsmon.storage.facts import replace_story_facts, story_sources, write_article_facts
from newsmon.storage.writes import write_batch
from newsmon.text import sentences

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="module")
def extractor() -> FactExtractor:
    return FactExtractor()


def _quotes(extractor: FactExtractor, text: str) -> dict[str, Quote]:
    af = extractor.extract([(text, None)])[0]
    return {q.text.split()[0] + " " + q.text.split()[1]: q for q in af.quotes}


def _who(q: Quote) -> tuple[str | None, str | None, str | None]:
    return (q.speaker.key if q.speaker else None), q.attribution, q.cue


def test_roundup_colon_and_quote_after_the_naming_sentence(extractor: FactExtractor) -> None:
    text = (
        "Reactions poured in on Tuesday.\n"
        'Maria Delgado, Univision: "We have never seen turnout like this in the valley."\n'
        "The bill would cap prices, said Jonathan Pierce, policy advocate for the Consumer Federation.\n"
        '"Families cannot keep paying twice for the same medicine."\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["We have"]) == ("person:maria delgado", "named", ":")
    assert _who(q["Families cannot"]) == ("person:jonathan pierce", "named", "said")


def test_partial_quotes_inside_the_speakers_sentence(extractor: FactExtractor) -> None:
    text = (
        "Senator Elizabeth Warren spoke first. Later, Governor Greg Abbott issued a tweet saying the ruling was "
        '"a victory for every family in Texas today." Warren also called Abbott\'s remarks the '
        '"most cynical thing I have heard this year." As Warren acknowledges: "We do not have the votes yet."\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["a victory"])[:2] == ("person:greg abbott", "named")
    assert _who(q["most cynical"]) == ("person:elizabeth warren", "named", "called")
    assert _who(q["We do"]) == ("person:elizabeth warren", "named", "acknowledges")


def test_pronouns_agree_in_gender_and_skip_names_in_the_lead_in(extractor: FactExtractor) -> None:
    text = (
        "Robert Mueller spent the morning in Ohio with Hillary Clinton and her staff.\n"
        '"We are going to win this state and we are going to win it big," she said.\n'
        "James Comey wrote to Congress on Friday. In a letter addressed to Paul Ryan, the director was blunt.\n"
        '"The investigation will continue for as long as it takes," he wrote.\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["We are"]) == ("person:hillary clinton", "pronoun", "said")  # "she": not Robert Mueller
    assert _who(q["The investigation"])[1:] == ("pronoun", "wrote")


def test_roles_and_organisations_as_speakers(extractor: FactExtractor) -> None:
    text = (
        "Sen. Ted Cruz of Texas addressed the rally in Houston on Monday evening.\n"
        '"Washington is broken and everybody here knows it," the senator said.\n'
        "The Clinton Campaign released its schedule for the week.\n"
        '"We look forward to debating the issues that matter," the campaign said in a statement.\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["Washington is"]) == ("person:ted cruz", "role", "said")
    assert _who(q["We look"])[1:] == ("organisation", "said")
    assert q["We look"].speaker is not None and q["We look"].speaker.kind == "org"


def test_no_speaker_rather_than_a_guess(extractor: FactExtractor) -> None:
    text = (
        "The hearing lasted for most of the afternoon.\n"
        '"Nobody in this room believes that number," he said.\n'
        '"This is the end of an era for the whole town," the official said.\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["Nobody in"]) == (None, None, "said")  # no person named before: no antecedent
    assert _who(q["This is"]) == (None, None, "said")  # a role never applied to a name


def test_split_quote_and_speaker_named_after_the_cue(extractor: FactExtractor) -> None:
    text = (
        '"We will not back down," said Bernie Sanders, the senator from Vermont, "not now and not ever, '
        'whatever they say."\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["We will"])[:2] == ("person:bernie sanders", "named")
    assert _who(q["not now"])[:2] == ("person:bernie sanders", "named")


def test_the_parse_finds_the_speaker_the_cue_rules_miss(extractor: FactExtractor) -> None:
    text = (
        "Paul Ryan spoke to reporters in Janesville on Friday.\n"
        'In the depths of the recession, Paul Ryan worried that the safety net was becoming "a hammock that '
        'lulls able-bodied people to lives of dependency."\n'
        "Brett O’Donnell ran the bus tour of Michele Bachmann four years ago.\n"
        "“Was that the best use of our time? In retrospect, I don’t think it was,” O’Donnell said.\n"
    )
    q = _quotes(extractor, text)
    assert _who(q["a hammock"]) == ("person:paul ryan", "named", "worried")  # the quote's clause is not the cue's
    assert q["Was that"].speaker is not None and q["Was that"].speaker.name == "Brett O’Donnell"
    assert q["Was that"].cue == "said"


def test_a_signature_line_and_a_name_in_the_content_clause(extractor: FactExtractor) -> None:
    text = (
        "Economists were split on the plan.\n"
        '"We may see a return of the old consensus on balanced budgets in the next recession.\n'
        'Dean Baker, Center for Economic and Policy Research."\n'
        'Ted Cruz said there is "only one strong conservative in a position to win this race," adding that this '
        'is why Donald Trump "relentlessly attacks us and ignores the other candidates."\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["We may"])[:2] == ("person:dean baker", "named")  # the line that closes the quotation
    assert _who(q["only one"])[:2] == ("person:ted cruz", "named")  # not 'adding that Donald Trump'
    assert _who(q["relentlessly attacks"])[:2] == ("person:ted cruz", "named")


def test_a_statement_introduced_by_a_colon_without_a_speech_verb(extractor: FactExtractor) -> None:
    text = (
        "The attack in Munich left nine people dead on Friday.\n"
        "In response, Republican nominee Donald Trump shared the following statement:\n"
        '"Our prayers are with all those affected by the horrible attacks in Munich."\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["Our prayers"]) == ("person:donald trump", "named", ":")


def test_relatives_sharing_a_surname_are_kept_apart(extractor: FactExtractor) -> None:
    text = (
        "Donald Trump was campaigning in Ohio on Monday. His daughter Ivanka Trump launched a clothing line.\n"
        "Trump, however, presents herself as a working mother first and a businesswoman second.\n"
        '"We are working really hard at being moms and sisters and professionals," Trump told Vogue.\n'
    )
    q = _quotes(extractor, text)
    # "herself" after the bare surname: Ivanka, not the first-mentioned Donald Trump.
    assert _who(q["We are"]) == ("person:ivanka trump", "named", "told")


def test_content_clauses_and_opening_clauses_are_not_the_speaker(extractor: FactExtractor) -> None:
    text = (
        "Ted Cruz spoke in Columbia on Saturday night.\n"
        'Cruz says he is "effectively tied for second place" with Florida Sen. Marco Rubio, in a finish that he '
        "said defied expectations.\n"
        'Cruz said he is certain Rubio will continue to be "a champion for limitless opportunity in America."\n'
        '"He can assert it, but it seems extremely unlikely" that Sanders can catch Clinton, said Steve Elmendorf, '
        "a Democratic strategist.\n"
        "Sean Spicer, the party's spokesman, spoke on Thursday.\n"
        'Ryan and Trump will meet next week, Spicer said, adding, "They need to sit down and have a good talk."\n'
        "After Jerry Brown criticized Bill Clinton during a debate, Hillary Clinton shot back, "
        '"I suppose I could have stayed home and baked cookies and had teas."\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["effectively tied"])[0] == "person:ted cruz"  # "he said", not the Rubio before it
    assert _who(q["a champion"])[0] == "person:ted cruz"  # "will continue to be" is no cue
    assert _who(q["He can"])[0] == "person:steve elmendorf"  # "that Sanders can ..." goes on with the content
    assert _who(q["They need"])[:2] == ("person:sean spicer", "named")  # "Spicer said, adding"
    assert _who(q["I suppose"])[0] == "person:hillary clinton"  # "After Jerry Brown criticized ...,"


def test_a_title_is_not_a_name(extractor: FactExtractor) -> None:
    text = (
        "Former AG Michael Mukasey spoke at the convention on Tuesday.\n"
        '"She is asking the people of this country to trust her again," AG Mukasey said.\n'
        '"We think he would be a good president," said Rev. Kyev Tatum, a pastor in Texas.\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["She is"])[0] == "person:michael mukasey"  # "AG" stripped like "Gen."
    assert q["We think"].speaker is not None and q["We think"].speaker.name != "Rev"


def test_the_asker_and_objects_are_not_the_speaker(extractor: FactExtractor) -> None:
    text = (
        "Bernie Sanders appeared on the late show on Friday.\n"
        'Sanders was asked by host Bill Maher, who backs him, "Has the story about the emails moved on at all?"\n'
        "Marcel Lazar spent the year in a prison in Bucharest.\n"
        "In an interview with journalist Matei Rosca last year, Lazar said he welcomed extradition and added, "
        '"I will plead guilty, no problem at all."\n'
        "House Republican Thomas Massie used to support fellow Kentuckian Rand Paul, but now said Trump had "
        '"the opportunity and the obligation to bring us together."\n'
    )
    q = _quotes(extractor, text)
    assert _who(q["Has the"])[0] == "person:bill maher"  # the agent of "was asked by", not the subject
    assert str(_who(q["I will"])[0]).endswith("lazar")  # "with journalist Matei Rosca" is an object
    assert _who(q["the opportunity"])[0] == "person:thomas massie"  # "but now said": the main clause's subject


def test_an_abbreviated_title_does_not_end_the_sentence(extractor: FactExtractor) -> None:
    text = (
        "The Pentagon answered questions on Monday.\n"
        '"We are already at war with ISIL and working to accelerate that campaign," said Pentagon spokesman '
        "Navy Capt. Jeff Davis, who was asked about the strategy.\n"
    )
    q = _quotes(extractor, text)
    assert _who(q["We are"])[:2] == ("person:jeff davis", "named")  # not "Pentagon": "Capt." ends no sentence
    assert sentences("said Navy Capt. Jeff Davis on Jan. 5. Then he left.") == [
        "said Navy Capt. Jeff Davis on Jan. 5.", "Then he left."]


def test_a_headline_run_of_capitals_is_not_the_speakers_name(extractor: FactExtractor) -> None:
    text = (
        "Glenn Beck Blasts Drudge Over Coverage Of The Primary\n"
        "Glenn Beck spent most of his Monday show on the website.\n"
        '"He has become a mouthpiece for one campaign and nothing else," Beck said.\n'
    )
    q = _quotes(extractor, text)
    assert q["He has"].speaker is not None and q["He has"].speaker.name == "Glenn Beck"


def test_names_the_model_misses_and_nouns_that_look_like_cues(extractor: FactExtractor) -> None:
    signed = _quotes(extractor, (
        "Hillary Clinton accepted the nomination in Philadelphia on Thursday night.\n"
        '"Great speech. She is tested. She is ready. She never quits. That is why Hillary should be next."\n'
        "-President Obama, tweeting after the speech of Hillary Clinton in Philadelphia.\n"))
    assert signed["Great speech."].speaker is not None and signed["Great speech."].speaker.name.endswith("Obama")
    q = _quotes(extractor, (
        "Bernie Sanders met Al Sharpton in Harlem on Wednesday.\n"
        "Sanders spokesman Michael Briggs said Sanders came from far behind Clinton at the beginning of the "
        'campaign to a "landslide of historic proportions in the state."\n'
        'Couple global exposure with a "candidate who is a lightning rod" and Sanders supporters get nervous, '
        "said Christine Link, executive director of the local chapter.\n"
        "Hillary Clinton's response to Sanders was: \"Is Dalton Brody off Conn or Wisconsin?\"\n"))
    assert _who(q["landslide of"])[0] == "person:michael briggs"  # "the beginning" is no cue
    assert q["candidate who"].speaker is not None and q["candidate who"].speaker.name == "Christine Link"
    assert _who(q["Is Dalton"])[:2] == ("person:hillary clinton", "named")


def test_cues_beyond_said(extractor: FactExtractor) -> None:
    text = (
        "Sean Hannity interviewed Donald Trump on Fox News on Tuesday night.\n"
        '"Would it be negotiable about the eleven million people?" Hannity pressed.\n'
        '"They are all here because he is promising free stuff," Jim Bennett shot back with a laugh.\n'
    )
    q = _quotes(extractor, text)
    assert q["Would it"].speaker is not None and q["Would it"].speaker.name == "Sean Hannity"  # the model may say org
    assert q["Would it"].cue == "pressed"
    assert _who(q["They are"])[0] == "person:jim bennett"


def test_only_the_sentences_of_quotes_and_figures_are_parsed(extractor: FactExtractor) -> None:
    text = (
        "The committee met on Tuesday in a small room.\n"
        "Jane Porter spoke after the vote.\n"
        '"We will publish the report next week," she said.\n'
        "Exports rose 5% in March.\n"
    )
    doc = next(iter(extractor.nlp.pipe([text])))
    parse = model_reading(text, len(text), doc, sentence_model(extractor.nlp)).parse
    parsed = {text[a:b] for a, b in zip(parse.starts, parse.ends, strict=True)}
    assert {"Porter", "spoke", "publish", "she", "Exports", "rose"} <= parsed  # intro, quote, figure
    assert "committee" not in parsed  # a sentence that neither holds nor introduces either


def test_chosen_sentences_are_tagged_and_parsed_as_in_the_whole_article(extractor: FactExtractor) -> None:
    """The article's pipe runs the NER alone; the tok2vec and the tagger run on the chosen sentences with their
    context, and give them the tags and parse a pass over the whole article gives."""
    from spacy.attrs import TAG

    texts = [p.read_text() for p in sorted((SHARED / "seeds").glob("*.txt"))]
    with (SHARED / "data" / "basil_docs.jsonl").open() as fh:
        texts += [json.loads(line)["text"] for line, _ in zip(fh, range(12), strict=False)]
    whole = load_pipeline()
    for name in ("tok2vec", "tagger"):
        whole.enable_pipe(name)
    assert extractor.nlp.pipe_names[-1] == "ner" and "tagger" not in extractor.nlp.pipe_names
    parsed_tokens = 0
    for text in texts:
        chosen_doc, whole_doc = extractor.nlp(text), whole(text)
        chosen = model_reading(text, len(text), chosen_doc, sentence_model(extractor.nlp)).parse
        reference = model_reading(text, len(text), whole_doc, sentence_model(whole)).parse
        assert chosen == reference
        tagged = chosen_doc.to_array(TAG) != 0
        assert (chosen_doc.to_array(TAG)[tagged] == whole_doc.to_array(TAG)[tagged]).all()
        assert tagged.sum() == len(chosen.starts) < len(chosen_doc)  # the chosen sentences, and only they
        parsed_tokens += len(chosen.starts)
    assert parsed_tokens > 1000


def test_story_quote_keeps_the_strongest_evidence(extractor: FactExtractor) -> None:
    a = extractor.extract([('Bernie Sanders spoke in Iowa. "The system is rigged against working people," he '
                            'said.\n', None)])[0]
    b = extractor.extract([('"The system is rigged against working people," Bernie Sanders said.\n', None)])[0]
    merged = merge_quotes([("a", "x.com", a), ("b", "y.com", b)])
    assert merged == [("Bernie Sanders", "The system is rigged against working people", 2, ("a", "b"),
                       "person:bernie sanders", "named")]
    assert isinstance(a, ArticleFacts) and a.quotes[0].attribution == "pronoun"


NOW = datetime(2026, 2, 3, 12, 0, tzinfo=UTC)
REPORT_A = 'Bernie Sanders spoke in Iowa on Monday. "The system is rigged against working people," he said.\n'
REPORT_B = '"The system is rigged against working people," Bernie Sanders said in Des Moines on Monday.\n'


def _article(article_id: str, source: str, text: str) -> ArticleRecord:
    return ArticleRecord(
        article_id=article_id, url=f"http://{source}/{article_id}", canonical_url=f"http://{source}/{article_id}",
        feed_url=None, source=source, title="Sanders in Iowa", author=None, published_at=NOW,
        published_source="feed", language="en", description=None, text=text, content_hash=article_id,
        fetched_at=NOW, extractor_version="test", final_url=None, content_type="text/html", charset="utf-8",
        size=len(text), html_zlib=None,
    )


def test_evidence_is_stored_per_article_and_per_story(extractor: FactExtractor, db_path: Path) -> None:
    batch = WriteBatch(articles=[_article("a", "x.com", REPORT_A), _article("b", "y.com", REPORT_B)])
    write_batch(db_path, batch, lock_timeout=0)
    found = extractor.extract([(REPORT_A, NOW), (REPORT_B, NOW)])
    with open_writer(db_path) as con:
        con.execute("UPDATE articles SET story_id = 's1'")  # as clustering would
        write_article_facts(con, [("a", found[0]), ("b", found[1])], extractor.version)
        merged = {story: merge_quotes(items) for story, items in story_sources(con, ["s1"]).items()}
        replace_story_facts(con, ["s1"], {}, merged, now=NOW)
        quotes = con.execute("SELECT article_id, speaker_id, cue, attribution FROM quotes ORDER BY 1").fetchall()
        story = con.execute("SELECT speaker, speaker_id, attribution, source_count FROM story_quotes").fetchall()
    assert quotes == [("a", "person:bernie sanders", "said", "pronoun"), ("b", "person:bernie sanders", "said", "named")]
    assert story == [("Bernie Sanders", "person:bernie sanders", "named", 2)]


def test_the_browser_shows_how_each_speaker_was_found(extractor: FactExtractor, db_path: Path) -> None:
    write_batch(db_path, WriteBatch(articles=[_article("a", "x.com", REPORT_A)]), lock_timeout=0)
    with open_writer(db_path) as con:
        write_article_facts(con, [("a", extractor.extract([(REPORT_A, NOW)])[0])], extractor.version)
    # The real `newsmon ui` on a free loopback port, as an analyst opens it.
    command = [str(Path(sys.executable).with_name("newsmon")), "--db", str(db_path), "ui", "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        page = httpx.get(f"{found[0]}/articles/a", timeout=30).text
        data = httpx.get(f"{found[0]}/articles/a?format=json", timeout=30).json()
    finally:
        server.terminate()
        server.wait(timeout=10)
    quotes = data["article"]["quotes"]
    assert [(q["speaker"], q["attribution"], q["cue"]) for q in quotes] == [("Bernie Sanders", "pronoun", "said")]
    assert '<span class="evidence">pronoun, &ldquo;said&rdquo;</span>' in page
