"""Named entities by a fast deterministic heuristic: runs of capitalised tokens.

No tagger (spaCy is too slow for this stage). A run of capitalised words is a name unless it is a
sentence-initial function word ('The', 'However') or a sentence-initial word the same document also
uses in lower case ('Perennial' ... 'perennial'). Names are accent-folded and lower-cased
('Görgün' = 'Gorgun'), possessives and leading titles are stripped ('President Obama's' -> 'obama').
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsmon.text import FUNCTION_WORDS, NAME_CONNECTORS, NOT_NAME, TITLE_WORDS, fold, name_key, sentences, wordset

# A run of capitalised tokens, joined by single spaces and name connectors ("Bank of America"); tokens keep
# inner apostrophes, hyphens, dots and ampersands ("O'Brien", "Al-Assad", "U.S.", "AT&T").
_CAP = r"(?:[A-Z]|[0-9]+[A-Z])(?:[\w'&.-]*\w)?\.?"
_RUN = re.compile(rf"(?<![\w'&.-]){_CAP}(?:[ ](?:(?:{'|'.join(sorted(NAME_CONNECTORS))})[ ])?{_CAP})*(?![\w'&-])")
_ALPHA_WORD = re.compile(r"\b[A-Za-z][\w'-]*")
_LOWER_WORD = re.compile(r"\b[a-z][a-z'-]+\b")
_TIME_WORDS = wordset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december
    """
)


@dataclass(frozen=True)
class Entity:
    key: str  # newsmon.text.name_key of the name, titles stripped: "haluk gorgun"
    tokens: tuple[str, ...]  # name words without connectors: ("haluk", "gorgun")
    sentence: int  # index of the sentence it was found in (for position weighting)


def _clean(tok: str) -> str:
    tok = tok.rstrip(".").lower()
    if tok.endswith("'s"):
        tok = tok[:-2]
    return tok.rstrip("'")


def _mostly_upper(sentence: str) -> bool:
    upper = sum(map(str.isupper, sentence))
    return upper >= 8 and upper > 0.7 * (upper + sum(map(str.islower, sentence)))


def _title_case(sentence: str, lower_vocab: set[str]) -> bool:
    """Headline-style capitalisation ('Saints Place Pierre Thomas On Injured Reserve') hides which words
    are names, so such lines yield no entities of their own. Tell-tale: capitalised words that are
    function words or that the text itself uses in lower case."""
    caps = [t.lower() for t in _ALPHA_WORD.findall(sentence)[1:] if t[0].isupper()]
    caps = [t for t in caps if t not in _TIME_WORDS]
    function_words = sum(1 for t in caps if t in FUNCTION_WORDS)  # 'On', 'After', 'Into' mid-sentence
    common = sum(1 for t in caps if t in NOT_NAME or t in lower_vocab)
    return function_words >= 2 or (common >= 3 and common >= 0.5 * len(caps))


def _not_name(low: str) -> bool:
    head = low.split("'", 1)[0]  # "I've", "We'll"
    return low in NOT_NAME or head in NOT_NAME


def extract_entities(text: str, title: str = "") -> list[Entity]:
    """Entities of title and text; sentence 0 is the title when there is one."""
    folded_text = fold(text)
    return entities_in_sentences(([fold(title)] if title.strip() else []) + sentences(folded_text), folded_text)


def entities_in_sentences(sents: list[str], folded_text: str) -> list[Entity]:
    """Entities of sentences already folded and split (`Entity.sentence` indexes `sents`); `folded_text` is the
    folded text they come from, whose lower-case words tell common words from names. The story features split
    their sentences once and pass them here (splitting twice was ~28% of their cost)."""
    lower_vocab = set(_LOWER_WORD.findall(folded_text))
    out: list[Entity] = []
    for si, sent in enumerate(sents):
        matches = list(_RUN.finditer(sent))
        if not matches or _mostly_upper(sent):
            continue
        if sum(m.group(0).count(" ") + 1 for m in matches) >= 4 and _title_case(sent, lower_vocab):
            continue
        for m in matches:
            # Capitalisation at the start of a sentence (or after a colon, quote or bracket) says nothing
            # about names: such a first word counts only if the text never uses it in lower case.
            initial = _after_a_break(sent, m.start())
            run: list[str] = []
            for ti, tok in enumerate(m.group(0).split()):
                low = _clean(tok)
                if low in NAME_CONNECTORS:
                    if run:
                        run.append(low)
                    continue
                if low in TITLE_WORDS or low in _TIME_WORDS or low.split("-", 1)[0] in TITLE_WORDS:
                    # "Turkish President Recep Tayyip Erdogan" -> "turkish", "recep tayyip erdogan"
                    _flush(run, si, out)
                    continue
                if run and low in FUNCTION_WORDS:  # a capitalised function word ends a name
                    _flush(run, si, out)
                    continue
                if not run and (_not_name(low) or (ti == 0 and initial and (low in lower_vocab or low.endswith("ly")))):
                    continue
                run.append(low)
            _flush(run, si, out)
    return out


def _after_a_break(sent: str, start: int) -> bool:
    """Whether `start` begins the sentence or follows a colon, quote, bracket or dash (spaces between)."""
    while start > 0 and sent[start - 1].isspace():  # not `sent[:start].rstrip()`: a copy per name
        start -= 1
    return start == 0 or sent[start - 1] in ':"(\'-'


def _flush(run: list[str], sentence: int, out: list[Entity]) -> None:
    if not run:  # most calls: a skipped word ended no name
        return
    while run and run[-1] in NAME_CONNECTORS:
        run.pop()
    key = name_key(" ".join(run))  # the facts stage keys the same name the same way
    tokens = tuple(w for w in key.split() if w not in NAME_CONNECTORS and len(w) > 1)
    if tokens:
        out.append(Entity(key=key, tokens=tokens, sentence=sentence))
    run.clear()
