"""Reported numbers as story evidence: keys on which different outlets' renderings of one figure meet.

'$555.3 million' and 'more than $555 million' -> '#5.6e+08'; '44.2%' and '44 percent' -> '%4.4e+01'. The
figures come from the one number parser (:mod:`newsmon.text.numbers`, which also leaves dates, times and
identifiers out); here they are only keyed. Values are rounded to two significant digits (outlets round,
rarely by more). Years are kept exact ('y2013'), since two-digit rounding would make every year of a century
equal, and a year locates the event a report tells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsmon.text import fold
from newsmon.text.numbers import find_quantities

_DIGIT = re.compile(r"\d")
# A year on its own or in a date ("May 2, 2013", "04/04/2012"); not part of a longer number or an amount.
_YEAR = re.compile(r"(?<![\w.,$€£])(?:19|20)\d\d(?![\w%$€£]|[.,]\d)")
_MIN_PLAIN = 10  # 'three people', '2 goals': too common to tell stories apart


@dataclass(frozen=True)
class Number:
    key: str  # normalised matching key
    surface: str  # as written, for the evidence record
    start: int  # character offset in the folded text


def round2(value: float) -> str:
    """Two significant digits in a stable textual form."""
    return "0" if value == 0 else f"{value:.1e}"


def extract_numbers(text: str) -> list[Number]:
    """Money, percentages, years and counts of a text, in order of appearance."""
    if not _DIGIT.search(text):
        return []
    text = fold(text)
    out: list[Number] = []
    taken: list[tuple[int, int]] = []
    for q in find_quantities(text):
        taken.append((q.start, q.end))
        if q.kind == "percent":
            key = "%" + round2(q.value)
        elif q.kind == "money" or q.value >= _MIN_PLAIN or q.value != int(q.value):
            key = "#" + round2(q.value)
        else:
            continue
        out.append(Number(key=key, surface=q.surface, start=q.start))
    for m in _YEAR.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            out.append(Number(key=f"y{m.group(0)}", surface=m.group(0), start=m.start()))
    out.sort(key=lambda n: n.start)
    return out
