"""The tags and dependency parse of the few sentences that need them, as plain data the rules read.

Only the sentences holding or introducing a quotation or holding a figure (about half of a news article's
tokens) are tagged and parsed. When the model's NER has a tok2vec of its own (the spaCy ``sm`` packages), the
article's pipe runs the NER alone and the shared tok2vec, the tagger and the parser run here, on those sentences
with enough tokens of context on each side (the tok2vec's receptive field) to give exactly the values a pass over
the whole article gives them; otherwise the article's pipe tagged everything and only the parser runs here, on the
tensor the tagger's tok2vec left. :class:`Parse` keeps what attribution and fact subjects read -- character
spans, dependency labels, heads and tags -- so those rules stay pure functions testable without a model.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from newsmon.text import ends_in_abbreviation

if TYPE_CHECKING:
    import numpy
    from spacy.pipeline import DependencyParser, Pipe
    from spacy.tokens import Doc, Span

__all__ = ["Parse", "SentenceModel", "read_sentences"]


@dataclass(frozen=True)
class Parse:
    """Tokens of the parsed sentences of one article, in text order; ``heads`` index into the same lists."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def token_at(self, pos: int) -> int | None:
        """The parsed token covering character ``pos``, if its sentence was parsed."""
        i = bisect_right(self.starts, pos) - 1
        return i if i >= 0 and pos < self.ends[i] else None

    def children(self, i: int) -> list[int]:
        # Sentences are short: a scan of the sentence's tokens is cheaper than keeping child lists.
        lo, hi = max(0, i - 80), min(len(self.heads), i + 80)
        return [j for j in range(lo, hi) if self.heads[j] == i and j != i]

    def subtree_span(self, i: int) -> tuple[int, int]:
        """Characters covered by token ``i`` and everything it governs."""
        lo = hi = i
        todo = [i]
        while todo:
            j = todo.pop()
            lo, hi = min(lo, j), max(hi, j)
            todo.extend(self.children(j))
        return self.starts[lo], self.ends[hi]


def _sentences(doc: Doc) -> list[Span]:
    """spaCy's sentences, joined again where one ends in an abbreviation the sentencizer took for a full stop
    ("said Navy Capt. | Jeff Davis": the cue would be parsed apart from its speaker)."""
    out: list[Span] = []
    for sent in doc.sents:
        prev = out[-1] if out else None
        goes_on = prev is not None and ends_in_abbreviation(prev.text) and "\n" not in prev.text.strip(" ")[-2:]
        if prev is not None and goes_on:
            out[-1] = doc[prev.start : sent.end]
        else:
            out.append(sent)
    return out


def _overlapping(sents: list[Span], spans: Iterable[tuple[int, int]]) -> list[Span]:
    """The sentences overlapping any of the character spans (sentences are in text order and do not overlap)."""
    bounds = [(sent.start_char, sent.end_char) for sent in sents]
    starts = [a for a, _ in bounds]
    hit: set[int] = set()
    for a, b in spans:
        i = max(0, bisect_right(starts, a) - 1)  # the sentence holding `a`, or the first after it
        while i < len(bounds) and bounds[i][0] < b:
            if a < bounds[i][1]:
                hit.add(i)
            i += 1
    return [sents[i] for i in sorted(hit)]


@dataclass(frozen=True)
class SentenceModel:
    """The components that run on the chosen sentences only. ``tok2vec`` and ``tagger`` are set when the
    article's pipe leaves them out (nothing else it runs listens to that tok2vec); ``context`` is then the
    tok2vec's receptive field in tokens on each side. ``parser`` is None without a parse (a model without one, or
    the rules alone in benchmarks)."""

    parser: DependencyParser | None = None
    tok2vec: Pipe | None = None
    tagger: Pipe | None = None
    context: int = 0


def _annotation_attrs(doc: Doc) -> list[int]:
    """The token attributes a copy takes: what ``Span.as_doc`` copies but the entities (nothing here reads them,
    and rebuilding them for every copy cost more than the parse)."""
    from spacy.attrs import ENT_IOB, ENT_KB_ID, ENT_TYPE

    return [attr for attr in doc._get_array_attrs() if attr not in (ENT_IOB, ENT_TYPE, ENT_KB_ID)]


def _copy(doc: Doc, attrs: list[int], array: numpy.ndarray, start: int, end: int) -> Doc:
    """Tokens ``start:end`` of ``doc`` as a Doc of their own, with their annotations (``array`` is ``doc``'s, of
    ``attrs``: one conversion of the doc for all its copies) and the tensor rows when the doc has a tensor. Words
    and spaces come from the array too, without a Token object per word."""
    from spacy.attrs import ORTH, SPACY
    from spacy.tokens import Doc

    rows, strings = array[start:end], doc.vocab.strings
    words = [strings[orth] for orth in rows[:, attrs.index(ORTH)].tolist()]
    copy = Doc(doc.vocab, words=words, spaces=rows[:, attrs.index(SPACY)].astype(bool).tolist())
    copy.from_array(attrs, rows)
    if len(doc.tensor):
        copy.tensor = doc.tensor[start:end]
    return copy


def _windows(sents: list[Span], context: int, length: int) -> list[tuple[int, int]]:
    """Token ranges of the sentences with ``context`` tokens on each side, ranges that meet joined."""
    out: list[tuple[int, int]] = []
    for sent in sents:
        a, b = max(0, sent.start - context), min(length, sent.end + context)
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _tagged_copies(model: SentenceModel, doc: Doc, sents: list[Span], batch_size: int) -> list[Doc]:
    """Run the tok2vec and the tagger over the sentences with their context, write the sentences' tags into
    ``doc`` (the fact rules read them there) and return each sentence as a Doc with its tags and tensor.

    The tok2vec's value for a token depends on ``context`` tokens on each side only, so with that much context a
    sentence gets the values a pass over the whole article gives it, for about half the tokens' cost."""
    from spacy.attrs import TAG

    assert model.tok2vec is not None and model.tagger is not None
    attrs = _annotation_attrs(doc)
    array = doc.to_array(attrs)
    windows = _windows(sents, model.context, len(doc))
    tagged = list(model.tagger.pipe(model.tok2vec.pipe((_copy(doc, attrs, array, a, b) for a, b in windows),
                                                        batch_size=batch_size), batch_size=batch_size))
    arrays = [window.to_array(attrs) for window in tagged]
    tags, tag_column = doc.to_array(TAG), attrs.index(TAG)
    copies: list[Doc] = []
    w = 0
    for sent in sents:
        while windows[w][1] < sent.end:
            w += 1
        start, end = sent.start - windows[w][0], sent.end - windows[w][0]
        tags[sent.start : sent.end] = arrays[w][start:end, tag_column]
        copies.append(_copy(tagged[w], attrs, arrays[w], start, end))
    doc.from_array([TAG], tags)
    return copies


def _copies(doc: Doc, sents: list[Span]) -> list[Doc]:
    """Each sentence as a Doc of its own with the tokens' annotations and the tensor the parser listens to, as
    ``Span.as_doc`` makes it but from one array of the doc and without entities: ``as_doc`` converted the whole
    doc and rebuilt its entities for every sentence, which cost more than the parse (16.2 -> 8.3 ms an article on
    real pages, the same parse)."""
    if doc.has_annotation("DEP"):  # heads would need as_doc's re-indexing (never so here: the parser is off)
        return [sent.as_doc() for sent in sents]
    attrs = _annotation_attrs(doc)
    array = doc.to_array(attrs)
    return [_copy(doc, attrs, array, sent.start, sent.end) for sent in sents]


def read_sentences(model: SentenceModel, doc: Doc, spans: Iterable[tuple[int, int]], batch_size: int = 64) -> Parse:
    """Tag (when the article's pipe did not) and parse the sentences of ``doc`` overlapping the character
    ``spans``, each sentence once."""
    sents = _overlapping(_sentences(doc), spans)
    out = Parse()
    if not sents:
        return out
    copies = _tagged_copies(model, doc, sents, batch_size) if model.tagger is not None else None
    if model.parser is None:
        return out
    if copies is None:
        copies = _copies(doc, sents)
    from spacy.attrs import DEP, HEAD, IDX, LENGTH, TAG

    strings = doc.vocab.strings
    for sent, parsed in zip(sents, model.parser.pipe(copies, batch_size=batch_size), strict=True):
        # Read from one array, without a Token object per word.
        base, offset = len(out.starts), sent.start_char
        array = parsed.to_array([IDX, LENGTH, DEP, HEAD, TAG])  # uint64: HEAD's negative offsets wrap around
        idx, length, deps, _, tags = array.T.tolist()
        heads = array[:, 3].astype("int64").tolist()
        out.starts.extend(offset + i for i in idx)
        out.ends.extend(offset + i + n for i, n in zip(idx, length, strict=True))
        out.deps.extend(strings[d] for d in deps)
        out.heads.extend(base + i + h for i, h in enumerate(heads))  # HEAD is relative to the token
        out.tags.extend(strings[t] for t in tags)
    return out
