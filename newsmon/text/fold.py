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


def fold(text: str) -> str:
    """Accent-fold and unify quotes, dashes and spaces, keeping case: 'Görgün’s' -> "Gorgun's"."""
    text = text.translate(_FOLD_EXTRA)
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def fold1(text: str) -> str:
    """Like :func:`fold`, but one character for one, so offsets into the result are offsets into ``text``."""
    if text.isascii():
        return text
    return "".join((fold(ch) or ch)[0] if not ch.isascii() else ch for ch in text)


def fold_lower(text: str) -> str:
    """Folded and case-folded: 'Görgün' -> 'gorgun', 'İstanbul' -> 'istanbul', 'Straße' -> 'strasse'."""
    return fold(text).casefold()
