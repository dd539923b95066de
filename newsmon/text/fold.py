"""Accent and typography folding: every stage (entities, story features, alert matching) must agree on it."""

from __future__ import annotations

import unicodedata

# Letters NFKD leaves alone, then quotes, dashes and odd spaces (each key one character).
_FOLD_EXTRA = str.maketrans(
    dict(zip("ıİøØłŁđĐðÐ", "iIoOlLdDdD", strict=True))
    | {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th"}
    | dict.fromkeys("‘’‚‛ʼ`´", "'")
    | dict.fromkeys("“”„‟«»", '"')
    | dict.fromkeys("‐‑–—‒―−", "-")
    | dict.fromkeys("\u00a0\u2009\u202f", " ")
    | {"\u200b": ""}
)


class _CombiningMarks(dict[int, int | None]):
    """A `str.translate` table deleting combining marks, filled in as characters are first seen: after that each
    character is one lookup in C, where a test per character in Python cost the story features ~5% of their time
    on real pages (German, French)."""

    def __missing__(self, code: int) -> int | None:
        self[code] = None if unicodedata.combining(chr(code)) else code
        return self[code]


_STRIP_COMBINING = _CombiningMarks()


def fold(text: str) -> str:
    """Accent-fold and unify quotes, dashes and spaces, keeping case: 'Görgün’s' -> "Gorgun's"."""
    if text.isascii() and "`" not in text:  # the backtick is the one ASCII character folded (to "'")
        return text
    text = text.translate(_FOLD_EXTRA)
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).translate(_STRIP_COMBINING)


class _FirstFolded(dict[int, int]):
    """A `str.translate` table: each non-ASCII character to the first character of its fold (itself when it folds
    to nothing), ASCII characters to themselves; filled in as characters are first seen."""

    def __missing__(self, code: int) -> int:
        self[code] = code if code < 128 else ord((fold(chr(code)) or chr(code))[0])  # "`" folds, but not here
        return self[code]


_FOLD_FIRST = _FirstFolded()


def fold1(text: str) -> str:
    """Like :func:`fold`, but one character for one, so offsets into the result are offsets into ``text``."""
    if text.isascii():
        return text
    # translate() looks up every character, ASCII too: the table maps those to themselves once seen. A loop per
    # character in Python cost the entity scan ~20% of its time on pages with a single curly quote.
    return text.translate(_FOLD_FIRST)


def fold_lower(text: str) -> str:
    """Folded and case-folded: 'Görgün' -> 'gorgun', 'İstanbul' -> 'istanbul', 'Straße' -> 'strasse'."""
    return fold(text).casefold()
