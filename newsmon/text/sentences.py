"""Sentences: one splitter for every stage that needs sentences without a model.

A line break always ends a sentence (extractors emit one paragraph a line). Inside a line a sentence ends at
. ! ? (and closing quotes or brackets) before white space and a capital, a digit or an opening quote, but not
after an initial ("U.S.") or a common abbreviation ("Mr.", "Gen."). spaCy's own segmentation is used where a
model has read the text anyway (facts).
"""

from __future__ import annotations

import re

# Abbreviations a full stop ends without ending the sentence: titles before a name ("Navy Capt. Jeff Davis",
# "Rev. Al Sharpton") and AP-style months before a day ("Jan. 5"). spaCy's sentencizer splits after most of
# these; extract/parse.py joins its sentences back where this list says a sentence goes on.
ABBREVIATIONS: tuple[str, ...] = (
    "Mr", "Mrs", "Ms", "Dr", "St", "Gen", "Sen", "Sens", "Rep", "Reps", "Gov", "Lt", "Col", "Capt", "Sgt", "Maj",
    "Adm", "Cmdr", "Cpl", "Pvt", "Brig", "Rev", "Msgr", "Fr", "Hon", "Atty", "Supt", "Det", "Prof", "Jr", "Sr",
    "Inc", "Co", "No", "Ft", "Mt", "Jan", "Feb", "Aug", "Sept", "Oct", "Nov", "Dec",
)
# The mark first, the abbreviation checks after it: lookbehinds at the pattern's start ran at every character of a
# text (35x slower on 2,206 news texts, the same sentences).
_NOT_AN_ABBREVIATION = r"(?<!\b[A-Z][.!?])" + "".join(rf"(?<!\b{a}[.!?])" for a in ABBREVIATIONS)
_SENT_END = re.compile(r"[.!?]" + _NOT_AN_ABBREVIATION + r"[\"'”’)\]]*(?=\s+[\"“'‘(\[]?[A-Z0-9])")
_ABBREVIATION_END = re.compile(rf"(?:\b[A-Z]|\b(?:{'|'.join(ABBREVIATIONS)}))\.$")


def ends_in_abbreviation(text: str) -> bool:
    """Whether ``text`` ends with an initial or an abbreviation ("Capt.", "Jan."): no sentence ends there."""
    return _ABBREVIATION_END.search(text.rstrip()) is not None


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, white space trimmed, in order."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start = pos
        for m in _SENT_END.finditer(line):
            _append_trimmed(out, text, start, pos + m.end())
            start = pos + m.end()
        _append_trimmed(out, text, start, pos + len(line))
        pos += len(line) + 1
    return out


def _append_trimmed(out: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        lead = len(chunk) - len(chunk.lstrip())
        out.append((start + lead, start + lead + len(stripped)))


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings."""
    return [text[a:b] for a, b in sentence_spans(text)]


# Offsets for extractors that work around a position (a quotation) rather than over a whole text.


def sentence_end(text: str, pos: int, limit: int | None = None) -> int:
    """End of the sentence running at ``pos`` (after its closing punctuation and quotes), else the end of its
    line or ``limit``. What follows ``limit`` may still show that a sentence ended right before it."""
    limit = len(text) if limit is None else limit
    line_end = text.find("\n", pos, limit)
    stop = limit if line_end < 0 else line_end
    m = _SENT_END.search(text, pos)
    return m.end() if m and m.end() <= stop else stop


def sentence_start(text: str, pos: int, floor: int = 0) -> int:
    """Start of the sentence holding ``pos`` (right after the previous one's end, its line's start or
    ``floor``), white space before it included."""
    last = max(floor, text.rfind("\n", 0, pos) + 1)
    for m in _SENT_END.finditer(text, last):
        if m.end() > pos:
            break
        last = m.end()
    return last
