"""Text folding for matching: case-, accent- and punctuation-insensitive, on word boundaries.

A text becomes its words (letters and digits, folded), joined by single spaces with a space at each end
and a newline between lines: a phrase then matches on word boundaries by plain substring search
(" defence exports " in text), fast and exact, and never across a paragraph or an article boundary.
"""

from __future__ import annotations

import re

from newsmon.extract.text import fold as accent_fold

_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" and punctuation separate words


def fold(text: str) -> str:
    """Lower-case, accents removed: 'Görgün' -> 'gorgun', 'İstanbul' -> 'istanbul', 'Straße' -> 'strasse'."""
    return accent_fold(text).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def searchable(text: str) -> str:
    """' word word \\n word ' : words of each line, space-delimited, lines kept apart."""
    return "\n".join(" " + " ".join(words(line)) + " " for line in text.splitlines() or [""])
