"""The dependency parse of the few sentences that need one, as plain data the rules read.

spaCy's parser runs only on the sentences holding or introducing a quotation or holding a figure (a fraction
of an article), on the tok2vec output the tagger already computed (``Span.as_doc`` keeps the tensor the
parser listens to): the parse costs its own layers on those sentences, not a second pass over the article.
:class:`Parse` keeps what attribution and fact subjects read -- character spans, dependency labels, heads and
tags -- so those rules stay pure functions testable without a model.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from newsmon.text import ends_in_abbreviation

if TYPE_CHECKING:
    from spacy.pipeline import DependencyParser
    from spacy.tokens import Doc, Span

__all__ = ["Parse", "parse_sentences"]


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


def _copies(doc: Doc, sents: list[Span]) -> Iterator[Doc]:
    """Each sentence as a Doc of its own with the tokens' annotations and the tensor the parser listens to, as
    ``Span.as_doc`` makes it but from one array of the doc and without entities (the parser reads none):
    ``as_doc`` converted the whole doc and rebuilt its entities for every sentence, which cost more than the parse
    (16.2 -> 8.3 ms an article on real pages, the same parse)."""
    from spacy.attrs import ENT_IOB, ENT_KB_ID, ENT_TYPE
    from spacy.tokens import Doc

    if doc.has_annotation("DEP"):  # heads would need as_doc's re-indexing (never so here: the parser is off)
        yield from (sent.as_doc() for sent in sents)
        return
    head = [attr for attr in doc._get_array_attrs() if attr not in (ENT_IOB, ENT_TYPE, ENT_KB_ID)]
    array = doc.to_array(head)
    for sent in sents:
        copy = Doc(doc.vocab, words=[t.text for t in sent], spaces=[bool(t.whitespace_) for t in sent])
        copy.from_array(head, array[sent.start : sent.end])
        copy.tensor = doc.tensor[sent.start : sent.end]
        yield copy


def parse_sentences(parser: DependencyParser, doc: Doc, spans: Iterable[tuple[int, int]],
                    batch_size: int = 64) -> Parse:
    """Parse the sentences of ``doc`` overlapping the character ``spans`` (each sentence once)."""
    sents = _overlapping(_sentences(doc), spans)
    out = Parse()
    if not sents:
        return out
    for sent, parsed in zip(sents, parser.pipe(_copies(doc, sents), batch_size=batch_size), strict=True):
        base, offset = len(out.starts), sent.start_char
        for tok in parsed:
            out.starts.append(offset + tok.idx)
            out.ends.append(offset + tok.idx + len(tok.text))
            out.deps.append(tok.dep_)
            out.heads.append(base + tok.head.i)
            out.tags.append(tok.tag_)
    return out
