"""Text folding for matching: case-, accent- and punctuation-insensitive, on word boundaries.

A text becomes its words (letters and digits, folded), joined by single spaces with a space at each end
and a newline between lines: a phrase then matches on word boundaries by plain substring search
(" defence exports " in text), fast and exact, and never across a paragraph or an article boundary.
"""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD does not decompose into a base letter plus accents.
_SPECIAL = str.maketrans(
    {"ı": "i", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "ħ": "h", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"}
)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" and punctuation separate words


def fold(text: str) -> str:
    """Lower-case, accents removed: 'Görgün' -> 'gorgun', 'İstanbul' -> 'istanbul', 'Straße' -> 'strasse'."""
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()).translate(_SPECIAL))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def searchable(text: str) -> str:
    """' word word \\n word ' : words of each line, space-delimited, lines kept apart."""
    return "\n".join(" " + " ".join(words(line)) + " " for line in text.splitlines() or [""])
