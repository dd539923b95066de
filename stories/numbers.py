"""Reported numbers, normalised so that different outlets' renderings of one figure meet.

'$555.3 million' and 'more than $555 million' -> '#5.6e+08'; '44.2%' and '44 percent' -> '%4.4e+01'.
Values are rounded to two significant digits (outlets round, rarely by more). Dates and clock times are
removed first: they locate a report in time, they are not figures it reports; only the year of a date
is kept, as a year. Years are kept exact ('y2013') because two-digit rounding would make every year of a
century equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import fold

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATES_AND_TIMES = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"  # March 4, 2009
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}}\b)?"  # 31 July 2013
    rf"|\b{_MONTH},?\s+\d{{4}}\b"  # January 2026
    r"|\b\d{1,4}\s?[/.-]\s?\d{1,2}\s?[/.-]\s?\d{2,4}\b"  # 04/04/2012, 2013-05-03
    r"|\b\d{1,2}\s?:\s?\d{2}(?:\s?:\s?\d{2})?(?:\s?[ap]\.?m\b\.?)?"  # 13:59, 9:40 p.m.
    r"|\b\d{1,2}\s?[ap]\.?m\b\.?",  # 9 pm
    re.IGNORECASE,
)

_NUMBER = re.compile(
    r"(?P<cur>(?:US|U\.S\.|A|C|NZ|HK|S)?\$|€|£|¥|₹|\b(?:USD|EUR|GBP|JPY|CNY|INR|TRY|RUB|CHF)\s?)?"
    r"(?<![\w.,/-])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion)\b|(?P<short>mn|bn|tn|m|b|k)\b)?"
    r"(?P<pct>\s?%|\s?(?:percent|per\s?cent|pct)\b|\s?percentage points?\b)?"
    r"(?![\w])",
    re.IGNORECASE,
)

_SCALE = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "billion": 1e9,
    "b": 1e9,
    "bn": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}


@dataclass(frozen=True)
class Number:
    key: str  # normalised matching key
    surface: str  # as written, for the evidence record
    start: int  # character offset in the folded text


def round2(value: float) -> str:
    """Two significant digits in a stable textual form."""
    return "0" if value == 0 else f"{value:.1e}"


_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _blank_date(m: re.Match[str]) -> str:
    # Day, month and clock time go; the year of a full date stays as a year ('y2013').
    s = m.group(0)
    year = _YEAR.search(s)
    if year is None:
        return " " * len(s)
    return " " * year.start() + year.group(0) + " " * (len(s) - year.end())


def extract_numbers(text: str) -> list[Number]:
    """Money, percentages, years and plain counts of a text, in order of appearance."""
    if not _DIGIT.search(text):
        return []
    text = _DATES_AND_TIMES.sub(_blank_date, fold(text))
    out: list[Number] = []
    for m in _NUMBER.finditer(text):
        raw = m.group("num")
        value = float(raw.replace(",", ""))
        scale = (m.group("scale") or "").lower()
        short = (m.group("short") or "").lower()
        if short and not m.group("cur"):
            short = ""  # '5m' without a currency is more likely metres or a model name
            if m.end("num") != m.end():
                continue
        if scale or short:
            value *= _SCALE[scale or short]
        if m.group("pct"):
            key = "%" + round2(value)
        elif not (m.group("cur") or scale or short) and "," not in raw and "." not in raw:
            if len(raw) == 4 and 1900 <= value <= 2099:
                key = f"y{int(value)}"
            elif value < 10:
                continue  # 'three people', '2 goals': too common to tell stories apart
            else:
                key = "#" + round2(value)
        else:
            key = "#" + round2(value)
        out.append(Number(key=key, surface=m.group(0).strip(), start=m.start()))
    return out
