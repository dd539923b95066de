"""Keyword expressions: `(defense OR defence) AND exports`, `"central bank" NOT crypto`, `export*`.

Grammar (operators in any case; NOT binds tighter than AND, AND tighter than OR):

    expr   := and ( OR and )*
    and    := unary ( [AND] unary )*          -- two terms side by side mean AND
    unary  := NOT unary | atom
    atom   := "(" expr ")" | '"' phrase '"' | word

A word or a phrase matches on word boundaries, ignoring case, accents and punctuation: `exports` does not
match "export", `"defence exports"` matches "Defence-exports", `gorgun` matches "Görgün". A trailing `*`
makes the last word a prefix: `export*` matches "export", "exports", "exporters". To search for the word
"and", "or" or "not", quote it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from newsmon.errors import InputError
from newsmon.text import words


def searchable(text: str) -> str:
    """' word word \\n word ' : words of each line, space-delimited, lines kept apart.

    A phrase then matches on word boundaries by plain substring search (" defence exports " in text), fast
    and exact, and never across a paragraph or an article boundary.
    """
    return "\n".join(" " + " ".join(words(line)) + " " for line in text.splitlines() or [""])


class ExpressionError(InputError):
    """A keyword expression that cannot be parsed; the message says where and why."""


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool
    text: str  # as written, for messages

    def matches(self, text: str) -> bool:
        needle = " " + " ".join(self.words) + ("" if self.prefix else " ")
        return needle in text


@dataclass(frozen=True)
class Not:
    item: Node

    def matches(self, text: str) -> bool:
        return not self.item.matches(text)


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]

    def matches(self, text: str) -> bool:
        return all(i.matches(text) for i in self.items)


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]

    def matches(self, text: str) -> bool:
        return any(i.matches(text) for i in self.items)


Node = Term | Not | And | Or

_OPERATORS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR", "NOT", "TERM"
    text: str
    pos: int
    quoted: bool = False


def _tokens(expr: str) -> Iterator[_Token]:
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            yield _Token(ch, ch, i)
            i += 1
        elif ch == '"':
            end = expr.find('"', i + 1)
            if end < 0:
                raise ExpressionError(f"unterminated quote at position {i + 1}")
            # A '*' right after the closing quote also makes the phrase's last word a prefix.
            star = end + 1 < n and expr[end + 1] == "*"
            yield _Token("TERM", expr[i + 1 : end] + ("*" if star else ""), i, quoted=True)
            i = end + 1 + int(star)
        else:
            j = i
            while j < n and not expr[j].isspace() and expr[j] not in '()"':
                j += 1
            word = expr[i:j]
            kind = word.upper() if word.upper() in _OPERATORS else "TERM"
            yield _Token(kind, word, i)
            i = j


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = list(_tokens(expr))
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("the expression is empty")
        node = self.parse_or()
        extra = self.peek()
        if extra is not None:
            raise ExpressionError(f"unexpected {extra.text!r} at position {extra.pos + 1}")
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while (t := self.peek()) is not None and t.kind == "OR":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while (t := self.peek()) is not None and t.kind in ("AND", "NOT", "TERM", "("):
            if t.kind == "AND":
                self.take()
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Node:
        t = self.peek()
        if t is not None and t.kind == "NOT":
            self.take()
            return Not(self.parse_unary())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        t = self.peek()
        if t is None:
            raise ExpressionError("the expression ends where a term or '(' was expected")
        if t.kind == "(":
            self.take()
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != ")":
                raise ExpressionError(f"'(' at position {t.pos + 1} is never closed")
            self.take()
            return node
        if t.kind != "TERM":
            raise ExpressionError(f"unexpected {t.text!r} at position {t.pos + 1}: a term or '(' was expected")
        self.take()
        return _term(t)


def _term(t: _Token) -> Term:
    text = t.text
    prefix = text.endswith("*")
    body = text.rstrip("*") if prefix else text
    found = tuple(words(body))
    if not found:
        what = "the phrase" if t.quoted else "the term"
        raise ExpressionError(f"{what} {text!r} at position {t.pos + 1} has no letters or digits")
    if "*" in body:
        raise ExpressionError(f"'*' is only allowed at the end of a term ({text!r} at position {t.pos + 1})")
    return Term(found, prefix, text)


def parse(expr: str) -> Node:
    """Parse a keyword expression, or raise ExpressionError.

    An expression that matches a story without any text (`NOT sport`) is refused: it would alert on
    nearly everything.
    """
    node = _Parser(expr).parse()
    if node.matches(searchable("")):
        raise ExpressionError(
            "the expression matches stories that mention none of its terms (it only excludes): "
            "add at least one term that must appear"
        )
    return node


def positive_terms(node: Node, negated: bool = False) -> Iterator[Term]:
    """Terms whose presence counts towards a match (not under NOT), for saying what matched."""
    if isinstance(node, Term):
        if not negated:
            yield node
    elif isinstance(node, Not):
        yield from positive_terms(node.item, not negated)
    else:
        for item in node.items:
            yield from positive_terms(item, negated)


def matched_terms(node: Node, text: str) -> list[str]:
    """The positive terms found in a searchable text, as written, each once."""
    seen: dict[str, None] = {}
    for term in positive_terms(node):
        if term.matches(text):
            seen.setdefault(term.text, None)
    return list(seen)
