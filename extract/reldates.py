"""Dates in news prose, resolved against the publication date to ISO strings.

"on Monday" in a report published Tuesday 3 February 2026 -> "2026-02-02"; "on Saturday (31 January)" ->
"2026-01-31" (an explicit date wins over the weekday); "in January" -> "2026-01"; "last week" -> "2026-W05";
"last year" -> "2025"; "in 2025" -> "2025"; "the first quarter" -> "2026-Q1"; "two days ago" -> "2026-02-01".

Why regular expressions and not the model's DATE spans: the model labels "annual", "monthly", "the strongest
year" and "recent years" as dates and cannot resolve any of them; what matters here is resolution, which
needs the words themselves. Month and weekday names must be capitalised (so "may" and "march" the verbs stay
out); "May" needs a preposition.

Unanchored references (a weekday, a month, a day without a year) are read as the most recent one unless the
clause speaks of the future ("will", "planned", "ahead of", "next" ...); a day and month without a year take
the year that puts them closest to publication. Without a publication date only absolute dates resolve.

Each reference also says whether it is *reporting* time ("said on Monday", "posted on X on Tuesday"): when
something was said, not the period a figure describes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["DateRef", "find_dates"]


@dataclass(frozen=True)
class DateRef:
    surface: str  # text[start:end], without a leading "on"/"in"
    start: int
    end: int
    value: str  # ISO: "2026-02-02", "2026-W05", "2026-01", "2026-Q1", "2025"
    granularity: str  # day | week | month | quarter | year
    reporting: bool  # attached to a speech verb: when it was said
    since: bool = False  # "since 2018": the start of the period, not the period


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_MONTH_NUM = {m.lower(): i + 1 for i, m in enumerate(_MONTHS)} | {
    m[:3].lower(): i + 1 for i, m in enumerate(_MONTHS)
} | {"sept": 9}
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_WD_NUM = {d.lower(): i for i, d in enumerate(_WEEKDAYS)}
_SMALL = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "several": 0, "few": 0}
_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}

_MONTH = "(?:" + "|".join(_MONTHS) + ")"
_MON_ABBR = r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
_ANY_MONTH = f"(?:{_MONTH}|{_MON_ABBR})"
_WD = "(?:" + "|".join(_WEEKDAYS) + ")"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_CI = "(?i:{})"  # case-insensitive group around lower-case words; names stay case-sensitive

_PATTERNS: list[tuple[str, str]] = [
    ("iso", rf"\b(?P<iso_y>{_YEAR})-(?P<iso_m>0[1-9]|1[0-2])-(?P<iso_d>[0-2]\d|3[01])\b"),
    # Weekday, optionally followed by its date: "Saturday (31 January)", "Monday, Feb. 2, 2026".
    ("wd", rf"(?:(?P<wd_mod>{_CI.format('last|next|this|coming|early|late')})\s+)?(?P<wd>{_WD})\b"
           rf"(?:\s*,?\s*\(?\s*(?:(?P<wd_d1>{_DAY})\s+(?P<wd_m1>{_ANY_MONTH})|(?P<wd_m2>{_ANY_MONTH})\s+(?P<wd_d2>{_DAY}))"
           rf"(?:,?\s+(?P<wd_y>{_YEAR}))?\s*\)?)?"),
    ("dmy", rf"\b(?P<dmy_d>{_DAY})\s+(?:of\s+)?(?P<dmy_m>{_ANY_MONTH})(?:,?\s+(?P<dmy_y>{_YEAR}))?(?![\w])"),
    ("mdy", rf"\b(?P<mdy_m>{_ANY_MONTH})\s+(?P<mdy_d>{_DAY})\b(?!:)(?:,?\s+(?P<mdy_y>{_YEAR})\b)?"),
    ("my", rf"\b(?P<my_m>{_MONTH})\s+(?:of\s+)?(?P<my_y>{_YEAR})\b"),
    ("mon", rf"(?:(?P<mon_mod>{_CI.format('last|next|this|coming|early|late|mid-?|end of|since')})\s*)?"
            rf"\b(?P<mon>{_MONTH})\b(?!\s+\d)"),
    ("rel", _CI.format(r"\b(?P<rel>yesterday|today|tomorrow|last\s+night|tonight)\b")),
    ("unit", _CI.format(r"\b(?:(?P<u_pre>earlier|later)\s+)?(?P<u_mod>last|this|next|coming)\s+"
                        r"(?P<u>week|month|year|quarter)\b")),
    ("ago", _CI.format(r"\b(?P<ago_n>\d{1,2}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
                       r"\s+(?P<ago_u>day|week|month|year)s?\s+ago\b")),
    ("qtr", r"\b(?i:(?:the\s+)?(?P<q_ord>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)"
            rf"(?:\s+(?:of\s+)?(?P<q_y>{_YEAR}))?\b|\bQ(?P<q_n>[1-4])(?:\s+(?P<q_y2>{_YEAR}))?\b"),
    ("season", _CI.format(r"\b(?P<s_mod>last|this|next)\s+(?P<s>spring|summer|autumn|fall)\b")),
    ("year", rf"(?:\b(?P<y_pre>{_CI.format('in|since|by|during|until|till|through|from|for|before|after|of')})"
             rf"\s+(?:(?i:early|late|mid-?)\s*)?)(?P<y>{_YEAR})\b(?!s|-\d|\s*[-–]\s*\d)"),
]
_MASTER = re.compile("|".join(f"(?P<k_{name}>{pat})" for name, pat in _PATTERNS))

_FUTURE = re.compile(
    r"\b(?:will|shall|'ll|is\s+to|are\s+to|scheduled|planned|plans?|due|expected|ahead\s+of|upcoming|"
    r"set\s+to|going\s+to|next|forthcoming|intends?)\b",
    re.IGNORECASE,
)
_REPORTING = re.compile(
    r"\b(?:said|says|told|announced|stated|added|noted|wrote|posted|reported|confirmed|revealed|tweeted|"
    r"declared|disclosed|published|released|explained|commented)\b"
    # a short object ("reporters", "on X", "in a statement"), never a clause with figures or "that ..."
    r"(?:(?!\bthat\b)[^.,;:!?\n\d\"“”]){0,30}?(?:\s+(?:on|in|late|early))?\s*$",
    re.IGNORECASE,
)
_MAY_PREP = re.compile(r"\b(?:in|of|since|by|during|until|from|through|before|after)\s+$", re.IGNORECASE)

# Every match of _MASTER holds one of these (a digit, the start of a month or weekday name, a unit or time word),
# at most two whitespace-separated words after the match's start ("earlier this week", "the first quarter", "end
# of March", "in early 2020"). The scan tries _MASTER only from three words before each anchor: the same matches
# as `_MASTER.finditer` (tests/test_facts.py compares them on real news), in 2.2 instead of 7.8 ms a text
# (2,581 ECB+, BASIL, PolNeAR and real pages): sre tries every alternative at every character.
_ANCHOR = re.compile(
    r"\d+|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun"
    r"|(?i:day|night|tomorrow|week|month|year|quarter|spring|summer|autumn|fall)"
)
_WORDS_BEFORE_ANCHOR = 3  # one more than any pattern needs
_CLAUSE_BREAK = re.compile(r"[.;!?\n]")


def _iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    n = y * 12 + (m - 1) + k
    return n // 12, n % 12 + 1


def _month_num(s: str) -> int:
    return _MONTH_NUM[s.rstrip(".").lower()[:4 if s.lower().startswith("sept") else 3]]


def _nearest(d: int, m: int, pub: date) -> date | None:
    best: date | None = None
    for y in (pub.year - 1, pub.year, pub.year + 1):
        try:
            cand = date(y, m, d)
        except ValueError:
            continue
        if best is None or abs((cand - pub).days) < abs((best - pub).days):
            best = cand
    return best


def _day(y: str | None, m: str, d: str, pub: date | None) -> date | None:
    dd, mm = int(re.sub(r"\D", "", d)), _month_num(m)
    if y:
        try:
            return date(int(y), mm, dd)
        except ValueError:
            return None
    return _nearest(dd, mm, pub) if pub else None


def _resolve(m: re.Match[str], pub: date | None, future: bool) -> tuple[str, str] | None:
    """(value, granularity) of one match, or None when it cannot be resolved."""
    g = (m.lastgroup or "").removeprefix("k_")
    if g == "iso":
        try:
            return date(int(m["iso_y"]), int(m["iso_m"]), int(m["iso_d"])).isoformat(), "day"
        except ValueError:
            return None
    if g == "wd":
        if m["wd_d1"] or m["wd_d2"]:
            d = _day(m["wd_y"], m["wd_m1"] or m["wd_m2"], m["wd_d1"] or m["wd_d2"], pub)
            return (d.isoformat(), "day") if d else None
        if pub is None:
            return None
        wd, mod = _WD_NUM[m["wd"].lower()], (m["wd_mod"] or "").lower()
        if mod in ("next", "coming") or (future and mod != "last"):
            delta = (wd - pub.weekday()) % 7 or (7 if mod == "next" else 0)
        else:
            delta = -((pub.weekday() - wd) % 7 or (7 if mod == "last" else 0))
        return (pub + timedelta(days=delta)).isoformat(), "day"
    if g == "dmy" or g == "mdy":
        d = _day(m[f"{g}_y"], m[f"{g}_m"], m[f"{g}_d"], pub)
        return (d.isoformat(), "day") if d else None
    if g == "my":
        return f"{int(m['my_y']):04d}-{_month_num(m['my_m']):02d}", "month"
    if g == "mon":
        if pub is None:
            return None
        mm, mod = _month_num(m["mon"]), (m["mon_mod"] or "").lower()
        if mod in ("next", "coming") or (future and mod not in ("last", "since")):
            y = pub.year if mm >= pub.month else pub.year + 1
        elif mod == "this":
            y = pub.year
        else:
            y = pub.year if mm < pub.month or (mm == pub.month and mod != "last") else pub.year - 1
        return f"{y:04d}-{mm:02d}", "month"
    if pub is None and g != "year" and not (g == "qtr" and (m["q_y"] or m["q_y2"])):
        return None
    if g == "rel":
        rel = re.sub(r"\s+", " ", m["rel"].lower())
        delta = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1, "last night": -1}[rel]
        return (pub + timedelta(days=delta)).isoformat(), "day"  # type: ignore[operator]
    if g == "unit":
        assert pub is not None
        k = {"last": -1, "this": 0, "next": 1, "coming": 1}[m["u_mod"].lower()]
        unit = m["u"].lower()
        if unit == "week":
            return _iso_week(pub + timedelta(weeks=k)), "week"
        if unit == "month":
            y, mm = _add_months(pub.year, pub.month, k)
            return f"{y:04d}-{mm:02d}", "month"
        if unit == "quarter":
            y, mm = _add_months(pub.year, pub.month, 3 * k)
            return f"{y:04d}-Q{(mm - 1) // 3 + 1}", "quarter"
        return f"{pub.year + k:04d}", "year"
    if g == "ago":
        assert pub is not None
        n = int(m["ago_n"]) if m["ago_n"].isdigit() else _SMALL[m["ago_n"].lower()]
        unit = m["ago_u"].lower()
        if unit == "day":
            return (pub - timedelta(days=n)).isoformat(), "day"
        if unit == "week":
            return _iso_week(pub - timedelta(weeks=n)), "week"
        if unit == "month":
            y, mm = _add_months(pub.year, pub.month, -n)
            return f"{y:04d}-{mm:02d}", "month"
        return f"{pub.year - n:04d}", "year"
    if g == "qtr":
        q = _ORD[m["q_ord"].lower()] if m["q_ord"] else int(m["q_n"])
        y_s = m["q_y"] or m["q_y2"]
        if y_s:
            return f"{y_s}-Q{q}", "quarter"
        assert pub is not None
        cur = (pub.month - 1) // 3 + 1
        y = pub.year if (q <= cur if not future else q >= cur) else (pub.year + 1 if future else pub.year - 1)
        return f"{y:04d}-Q{q}", "quarter"
    if g == "season":
        assert pub is not None
        k = {"last": -1, "this": 0, "next": 1}[m["s_mod"].lower()]
        # "last summer" in February is the summer of the previous year, in October it is this year's.
        start_month = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9}[m["s"].lower()]
        y = pub.year + k if k else pub.year
        if k == -1 and pub.month >= start_month + 3:
            y = pub.year
        return f"{y:04d}", "year"
    if g == "year":
        return m["y"], "year"
    return None


def master_matches(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """`_MASTER.finditer(text, start, end)`, trying only the positions near an anchor (see `_ANCHOR`)."""
    pos = start
    for anchor in _ANCHOR.finditer(text, start, end):
        if anchor.end() <= pos:
            continue
        p = max(pos, _words_back(text, anchor.start(), start))
        while p < anchor.end():
            m = _MASTER.match(text, p, end)  # as finditer's attempt at p: the same `end`, the text before p seen
            if m is None:
                p += 1
                continue
            yield m
            p = m.end()  # never empty: every alternative takes a character
        pos = p


def _words_back(text: str, pos: int, floor: int) -> int:
    """The start of the word `_WORDS_BEFORE_ANCHOR` words before the one holding `pos` (words: runs of non-space,
    as regular expressions' \\s splits them), not before `floor`."""
    i = pos
    for words in range(_WORDS_BEFORE_ANCHOR + 1):
        while i > floor and not text[i - 1].isspace():
            i -= 1
        if words == _WORDS_BEFORE_ANCHOR:
            break
        while i > floor and text[i - 1].isspace():
            i -= 1
    return i


def find_dates(text: str, published: date | None, start: int = 0, end: int | None = None) -> list[DateRef]:
    """Every resolvable date reference in ``text[start:end]``, in order, with offsets into ``text``."""
    end = len(text) if end is None else end
    out: list[DateRef] = []
    for m in master_matches(text, start, end):
        g = (m.lastgroup or "").removeprefix("k_")
        s, e = m.span()
        if g == "mon" and m["mon"] == "May" and not m["mon_mod"] and not _MAY_PREP.search(text, max(0, s - 20), s):
            continue  # "may" the verb, capitalised at a sentence start
        # The clause around the reference decides past or future for unanchored weekdays and months.
        left = max((x.end() for x in _CLAUSE_BREAK.finditer(text, max(0, s - 200), s)), default=max(0, s - 200))
        right_m = _CLAUSE_BREAK.search(text, e, min(len(text), e + 120))
        right = right_m.start() if right_m else min(len(text), e + 120)
        future = bool(_FUTURE.search(text, left, right))
        resolved = _resolve(m, published, future)
        if resolved is None:
            continue
        value, gran = resolved
        since = False
        if g == "year":  # the preposition is context, not part of the date
            since = m["y_pre"].lower() == "since"
            s = m.start("y")
        elif g == "mon":
            since = (m["mon_mod"] or "").lower() == "since"
            if since:
                s = m.start("mon")
        # Reporting time is a day or a week ("said on Monday"); "said borrowing in 2025" names a period.
        reporting = gran in ("day", "week") and bool(_REPORTING.search(text, max(left, s - 80), s))
        out.append(DateRef(text[s:e].rstrip(" ,"), s, s + len(text[s:e].rstrip(" ,")), value, gran,
                           reporting, since))
    return out
