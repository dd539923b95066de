"""Score ``newsmon.text.numbers`` against Microsoft Recognizers-Text English spec files.

    python bench/recognizers.py [--data DIR] [--flags python|any|none] [--errors MODEL] [--seeds DIR]

Each spec case has an ``Input`` sentence and expected ``Results`` (Text, TypeName,
Resolution.value/unit). Per model we compare our findings with the expected ones:

* span precision / recall / F1: a finding matches an expected result when the texts are
  equal ignoring case and runs of whitespace (each expected result is matched at most once,
  the nearest by position first);
* value accuracy: among matched spans, the share whose value (relative tolerance 1e-4)
  and unit agree, through the unit mapping below.

Which of our findings take part: Currency -> kind "money"; Percent -> kind "percent";
Dimension -> kind "quantity" with a physical unit (not counted nouns such as "people");
Number -> every numeric expression (``find_numbers``, which also reports the figure
inside "$20" as the spec does).

Skipped: cases whose ``NotSupported`` / ``NotSupportedByDesign`` flags name Python (the
spec's own statement that its Python port does not handle them; ``--flags any`` skips
every flagged case, ``--flags none`` none), and expected results without a value (bare
mentions such as "dollar" or "mcg" with no amount, which a number normaliser does not
report).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsmon.text.numbers import COUNT_UNITS, Quantity, find_numbers, find_quantities

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "recognizers"
REL_TOL = 1e-4

# Recognizers' currency names -> (ISO code, factor to the major unit). Bare "Dollar" and
# "Pound" are what we resolve "$" and "£" to; "Franc" alone is read as the Swiss franc.
CURRENCY_UNITS: dict[str, tuple[str, float]] = {
    "Dollar": ("USD", 1), "United States dollar": ("USD", 1), "Pound": ("GBP", 1),
    "British pound": ("GBP", 1), "Euro": ("EUR", 1), "Franc": ("CHF", 1), "Swiss franc": ("CHF", 1),
    "Finnish markka": ("FIM", 1), "Peseta": ("ESP", 1), "Netherlands guilder": ("NLG", 1),
    "Rupee": ("INR", 1), "Bitcoin": ("BTC", 1), "Cent": ("USD", 0.01), "Pence": ("GBP", 0.01),
    "Penny": ("GBP", 0.01), "Satoshi": ("BTC", 1e-8),
}
DIMENSION_UNITS: dict[str, str] = {
    "Pound": "lb", "Milliliter": "ml", "Inch": "in", "Mile": "mi", "Barrel": "barrel",
    "Foot": "ft", "Ounce": "oz", "Acre": "acre", "Gallon": "gal", "Cubic foot": "ft3",
    "Square meter": "m2", "Ton": "t", "Metric ton": "t", "Bit": "bit", "Mile per hour": "mph",
    "Meter": "m", "Kilometer": "km", "Millimeter": "mm", "Square kilometer": "km2",
    "Decimeter": "dm", "Megabit": "Mb", "Megabyte": "MB", "Picometer": "pm", "Kilogram": "kg",
    "Microgram": "µg", "Kilometer per hour": "km/h", "Gram": "g", "Centimeter": "cm",
    "Liter": "l", "Hectare": "ha", "Square foot": "ft2", "Cubic meter": "m3",
}


@dataclass(frozen=True)
class Item:
    """One expected or found amount, reduced to what is compared."""

    text: str
    start: int
    value: float | None
    unit: str | None


@dataclass
class Score:
    model: str
    cases: int = 0
    skipped_cases: int = 0
    skipped_results: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    value_ok: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def value_accuracy(self) -> float:
        return self.value_ok / self.tp if self.tp else 1.0


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).casefold()


def _float(raw: object) -> float | None:
    if raw is None:
        return None
    try:
        return float(str(raw).rstrip("%"))
    except ValueError:
        return None


# ---------------------------------------------------------------- expected results


def _gold_currency(res: dict) -> tuple[float | None, str | None]:
    value = _float(res.get("value"))
    iso, factor = res.get("isoCurrency"), 1.0
    if not iso:
        iso, factor = CURRENCY_UNITS.get(res.get("unit", ""), (None, 1.0))
    return (None if value is None else value * factor), iso


def _gold_percent(res: dict) -> tuple[float | None, str | None]:
    return _float(res.get("value")), "%"


def _gold_dimension(res: dict) -> tuple[float | None, str | None]:
    return _float(res.get("value")), DIMENSION_UNITS.get(res.get("unit", ""))


def _gold_number(res: dict) -> tuple[float | None, str | None]:
    return _float(res.get("value")), None


# ---------------------------------------------------------------- our findings


def _ours(qs: Iterable[Quantity]) -> list[Item]:
    return [Item(q.surface, q.start, q.value, q.unit) for q in qs]


def _pred_currency(text: str) -> list[Item]:
    return _ours(q for q in find_quantities(text) if q.kind == "money")


def _pred_percent(text: str) -> list[Item]:
    # Percentage points are reported as percent too; the spec only knows "%".
    return _ours(q for q in find_quantities(text) if q.kind == "percent")


def _pred_dimension(text: str) -> list[Item]:
    return _ours(q for q in find_quantities(text) if q.kind == "quantity" and q.unit not in COUNT_UNITS)


def _pred_number(text: str) -> list[Item]:
    return _ours(find_numbers(text))


Gold = Callable[[dict], tuple[float | None, str | None]]
Pred = Callable[[str], list[Item]]
MODELS: dict[str, tuple[str, Gold, Pred]] = {
    "Currency": ("NumberWithUnit_English_CurrencyModel.json", _gold_currency, _pred_currency),
    "Percent": ("Number_English_PercentModel.json", _gold_percent, _pred_percent),
    "Number": ("Number_English_NumberModel.json", _gold_number, _pred_number),
    "Dimension": ("NumberWithUnit_English_DimensionModel.json", _gold_dimension, _pred_dimension),
}


def _flagged(case: dict, policy: str) -> bool:
    if policy == "none":
        return False
    flags = " ".join(str(case.get(k, "")) for k in ("NotSupported", "NotSupportedByDesign")).lower()
    return bool(flags.strip()) if policy == "any" else "python" in flags


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-9)


def score_model(model: str, data_dir: Path = DEFAULT_DATA, flags: str = "python") -> Score:
    """Score one model's spec file; raises FileNotFoundError when the file is absent."""
    filename, gold_of, predict = MODELS[model]
    cases = json.loads((data_dir / filename).read_text(encoding="utf-8-sig"))
    score = Score(model)
    for case in cases:
        if _flagged(case, flags):
            score.skipped_cases += 1
            continue
        score.cases += 1
        text = case["Input"]
        gold: list[Item] = []
        for res in case.get("Results", []):
            value, unit = gold_of(res.get("Resolution") or {})
            if value is None:
                score.skipped_results += 1
                continue
            gold.append(Item(res["Text"], int(res.get("Start", 0)), value, unit))
        found = predict(text)
        unmatched = list(found)
        for g in gold:
            same_text = [p for p in unmatched if _key(p.text) == _key(g.text)]
            if not same_text:
                score.fn += 1
                score.errors.append(f"MISS {g.text!r} ({g.value} {g.unit}) in {text!r}")
                continue
            p = min(same_text, key=lambda p: abs(p.start - g.start))
            unmatched.remove(p)
            score.tp += 1
            if _same(p.value, g.value) and p.unit == g.unit:
                score.value_ok += 1
            else:
                score.errors.append(
                    f"VALUE {g.text!r}: got {p.value} {p.unit}, want {g.value} {g.unit} in {text!r}"
                )
        for p in unmatched:
            score.fp += 1
            score.errors.append(f"EXTRA {p.text!r} ({p.value} {p.unit}) in {text!r}")
    return score


def throughput(seed_dir: Path, repeat: int = 20) -> tuple[int, float, float]:
    """(texts, texts/s, chars/s) of ``find_quantities`` over the *.txt files of a folder."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(seed_dir.glob("*.txt"))]
    if not texts:
        return 0, 0.0, 0.0
    t0 = time.perf_counter()
    for _ in range(repeat):
        for t in texts:
            find_quantities(t)
    dt = time.perf_counter() - t0
    return len(texts), repeat * len(texts) / dt, repeat * sum(map(len, texts)) / dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of Recognizers JSON specs")
    ap.add_argument("--flags", choices=("python", "any", "none"), default="python",
                    help="skip cases flagged NotSupported for Python (default), for anything, or none")
    ap.add_argument("--errors", metavar="MODEL", action="append", default=[],
                    help="print the misses / extras / wrong values of a model (repeatable, or 'all')")
    ap.add_argument("--seeds", type=Path, help="also report throughput on the *.txt files here")
    args = ap.parse_args(argv)

    header = f"{'model':<10} {'cases':>5} {'skip':>4} {'gold':>5} {'found':>5} " \
             f"{'P':>6} {'R':>6} {'F1':>6} {'value':>6}"
    print(header)
    print("-" * len(header))
    scores = []
    for model in MODELS:
        try:
            s = score_model(model, args.data, args.flags)
        except FileNotFoundError:
            print(f"{model:<10} (spec file missing in {args.data})")
            continue
        scores.append(s)
        print(f"{model:<10} {s.cases:>5} {s.skipped_cases:>4} {s.tp + s.fn:>5} {s.tp + s.fp:>5} "
              f"{s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f} {s.value_accuracy:>6.3f}")
    for s in scores:
        if s.model in args.errors or "all" in args.errors:
            print(f"\n== {s.model}: {len(s.errors)} issues")
            for e in s.errors:
                print(" ", e)
    if args.seeds:
        n, tps, cps = throughput(args.seeds)
        print(f"\nthroughput on {n} texts in {args.seeds}: {tps:,.0f} texts/s, {cps:,.0f} chars/s")
    return 0 if scores else 1


if __name__ == "__main__":
    sys.exit(main())
