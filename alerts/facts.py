"""Fact conditions: `money > 500000000 USD`, `money >= $500 million`, `percent > 40`.

    condition := KIND OP [CURRENCY-SYMBOL] NUMBER [SCALE] [UNIT]
    KIND      := a word: money, percent, quantity, number, or any kind story_facts holds
    OP        := >  >=  <  <=  =  !=
    NUMBER    := digits, with optional thousands separators (, or _) and decimals: 500000000, 1,500.5
    SCALE     := thousand | k | million | m | mn | billion | b | bn | trillion | t | tn
    UNIT      := a word (USD, EUR, bcm, ...) or %; $ € £ ¥ before the number mean USD EUR GBP JPY

Compared with `story_facts` rows of the same kind whose value satisfies the comparison and, when a unit
is given, whose unit is the same (case-insensitive). Without a unit every unit of that kind counts, so
write `money > 500 million USD` rather than comparing dollars with yen.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from newsmon.errors import InputError
from newsmon.model import FactView


class FactError(InputError):
    """A fact condition that does not follow the grammar."""


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "=": operator.eq, "==": operator.eq, "!=": operator.ne,
}
_SCALES = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "mln": 1e6,
    "billion": 1e9, "b": 1e9, "bn": 1e9, "trillion": 1e12, "t": 1e12, "tn": 1e12,
}
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_UNIT_ALIASES = {"percent": "%", "pct": "%", "per cent": "%"}

_GRAMMAR = re.compile(
    r"""^\s*(?P<kind>[A-Za-z][A-Za-z_]*)\s*
        (?P<op>>=|<=|!=|==|=|>|<)\s*
        (?P<sym>[$€£¥])?\s*
        (?P<num>\d{1,3}(?:[,_]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*
        (?P<scale>(?:thousand|million|billion|trillion|mln|mn|bn|tn|k|m|b|t)(?![A-Za-z]))?\s*
        (?P<unit>%|[A-Za-z][A-Za-z0-9_/.-]*)?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True)
class FactCondition:
    kind: str
    op: str
    value: float
    unit: str | None
    text: str

    def matches(self, fact: FactView) -> bool:
        if fact.kind.lower() != self.kind:
            return False
        if self.unit is not None and (fact.unit or "").upper() != self.unit:
            return False
        return _OPS[self.op](float(fact.value), self.value)

    def describe(self) -> str:
        return f"{self.kind} {self.op} {self.value:g}{' ' + self.unit if self.unit else ''}"


def parse_fact(text: str) -> FactCondition:
    m = _GRAMMAR.match(text)
    if not m:
        raise FactError(
            f"{text!r} is not a fact condition: write KIND OP NUMBER [million|billion] [UNIT], "
            "e.g. 'money > 500 million USD' or 'percent >= 40'"
        )
    value = float(m["num"].replace(",", "").replace("_", ""))
    if m["scale"]:
        value *= _SCALES[m["scale"].lower()]
    unit = m["unit"]
    if m["sym"]:
        if unit and unit.upper() != _SYMBOLS[m["sym"]]:
            raise FactError(f"{text!r} gives two currencies ({m['sym']} and {unit})")
        unit = _SYMBOLS[m["sym"]]
    if unit:
        unit = _UNIT_ALIASES.get(unit.lower(), unit)
        unit = unit if unit == "%" else unit.upper()
    return FactCondition(m["kind"].lower(), "=" if m["op"] == "==" else m["op"], value, unit or None, text.strip())
