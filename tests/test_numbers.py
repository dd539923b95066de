"""Money, percentages and quantities in news prose (newsmon.text.numbers)."""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from newsmon.text.numbers import Quantity, find_numbers, find_quantities

ROOT = Path(__file__).resolve().parents[1]
RECOGNIZERS = Path(__file__).resolve().parents[2] / "shared" / "data" / "recognizers"

# The two January 2026 seed reports (excerpts).
SEED_SSB = (
    "Türkiye's defense and aerospace exports soared 44.2% on an annual basis to a record high of "
    "$555.3 million in January, a senior official said on Monday.\n\nThe industry picked up from "
    "where it left off in 2025, when shipments rose about 48% year-over-year to surpass $10 billion. "
    "The transformation since the early 2000s has driven the development of a broad range of "
    "homegrown air, land and naval platforms, reducing foreign dependency from around 80% to below "
    "20% today.\n\nMore than 3,500 firms operate in the Turkish defense industry, boasting a "
    "workforce of about 100,000."
)
SEED_ANEWZ = (
    "Türkiye’s defence and aerospace exports surged by 44 percent year on year in January 2026, "
    "hitting a record monthly high of more than $555 million as overseas demand grew, the Turkish "
    "Defence Industries Secretariat said on Monday (2 February).\n"
    "In 2025 alone, Türkiye sold more than $10 billion worth of defence and aerospace hardware to "
    "foreign buyers, a 48 per cent increase on the previous year.\n"
    "According to the Defence Industries Secretariat, this total included $9.87 billion in equipment "
    "sales and a further $184 million in related services.\n"
    "Heavy snow continued to batter northern and western Japan on Saturday (31 January). Aomori city "
    "recorded 167 centimetres of snow by Friday - the highest January total since 1945.\n"
    "Early voting for Thailand’s parliamentary elections began on Sunday (1 February), with more than "
    "two million eligible voters casting ballots ahead of the 8 February general election.\n"
    "Kazakhstan sharply increased oil shipments to Europe in January, exporting 310,000 tonnes to "
    "Germany and sending a further 106,000 tonnes via the Baku–Tbilisi–Ceyhan (BTC) pipeline.\n"
    "It comes a year after a referendum, which suggested more than 71 per cent support for the project."
)


def one(text: str, surface: str) -> Quantity:
    """The single finding whose surface is ``surface``."""
    hits = [q for q in find_quantities(text) if q.surface == surface]
    assert len(hits) == 1, f"{surface!r} not found once in {find_quantities(text)}"
    return hits[0]


def check(q: Quantity, kind: str, value: float, unit: str | None, qualifier: str | None = None) -> None:
    assert q.kind == kind, q
    assert math.isclose(q.value, value, rel_tol=1e-9), q
    assert q.unit == unit, q
    assert q.qualifier == qualifier, q


# ------------------------------------------------------------------ the seed reports


@pytest.mark.parametrize(
    ("surface", "kind", "value", "unit", "qualifier"),
    [
        ("44.2%", "percent", 44.2, "%", None),
        ("$555.3 million", "money", 555_300_000, "USD", "record"),
        ("48%", "percent", 48, "%", "about"),
        ("$10 billion", "money", 10_000_000_000, "USD", "more than"),  # "surpass $10 billion"
        ("80%", "percent", 80, "%", "about"),
        ("20%", "percent", 20, "%", "less than"),
        ("3,500 firms", "quantity", 3500, "firm", "more than"),
        ("100,000", "number", 100_000, None, "about"),
    ],
)
def test_seed_ssb(surface: str, kind: str, value: float, unit: str | None, qualifier: str | None) -> None:
    check(one(SEED_SSB, surface), kind, value, unit, qualifier)


@pytest.mark.parametrize(
    ("surface", "kind", "value", "unit", "qualifier"),
    [
        ("44 percent", "percent", 44, "%", None),
        ("$555 million", "money", 555_000_000, "USD", "more than"),
        ("$10 billion", "money", 10_000_000_000, "USD", "more than"),
        ("48 per cent", "percent", 48, "%", None),  # right after a money amount: still a percent
        ("$9.87 billion", "money", 9_870_000_000, "USD", None),
        ("$184 million", "money", 184_000_000, "USD", None),
        ("167 centimetres", "quantity", 167, "cm", None),
        ("two million", "number", 2_000_000, None, "more than"),
        ("310,000 tonnes", "quantity", 310_000, "t", None),
        ("106,000 tonnes", "quantity", 106_000, "t", None),
        ("71 per cent", "percent", 71, "%", "more than"),
    ],
)
def test_seed_anewz(surface: str, kind: str, value: float, unit: str | None, qualifier: str | None) -> None:
    check(one(SEED_ANEWZ, surface), kind, value, unit, qualifier)


@pytest.mark.parametrize("text", [SEED_SSB, SEED_ANEWZ])
def test_seeds_report_no_years_or_dates(text: str) -> None:
    found = {q.surface for q in find_quantities(text)}
    for bad in ("2025", "2026", "2000s", "1945", "2", "31", "1", "8"):
        assert bad not in found
    assert not any("January" in s or "February" in s for s in found)


def test_seed_ssb_is_complete_and_ordered() -> None:
    qs = find_quantities(SEED_SSB)
    assert [q.surface for q in qs] == [
        "44.2%", "$555.3 million", "48%", "$10 billion", "80%", "20%", "3,500 firms", "100,000",
    ]
    for q in qs:
        assert SEED_SSB[q.start:q.end] == q.surface


# ------------------------------------------------------------------ money


@pytest.mark.parametrize(
    ("text", "surface", "value", "unit"),
    [
        ("It raised US$1.2bn in May.", "US$1.2bn", 1.2e9, "USD"),
        ("a €3.5m grant", "€3.5m", 3.5e6, "EUR"),
        ("fined £120,000 on Friday", "£120,000", 120_000, "GBP"),
        ("worth 1.2 billion euros", "1.2 billion euros", 1.2e9, "EUR"),
        ("500 million dollars in aid", "500 million dollars", 5e8, "USD"),
        ("a budget of Rs 40 crore", "Rs 40 crore", 4e8, "INR"),
        ("sold for ₹40 crore", "₹40 crore", 4e8, "INR"),
        ("C$300 million charge", "C$300 million", 3e8, "CAD"),
        ("HK$10.05 billion", "HK$10.05 billion", 10.05e9, "HKD"),
        ("A$5bn deal", "A$5bn", 5e9, "AUD"),
        ("KZT 500 billion budget", "KZT 500 billion", 5e11, "KZT"),
        ("costs 5 billion Turkish liras", "5 billion Turkish liras", 5e9, "TRY"),
        ("earned 450,000 yen", "450,000 yen", 450_000, "JPY"),
        ("shares fell 34 cents", "34 cents", 0.34, "USD"),
        ("closed at 470 pence", "470 pence", 4.70, "GBP"),
        ("a 50p rise", "50p", 0.50, "GBP"),
        ("profit of 361 million pounds", "361 million pounds", 3.61e8, "GBP"),
        ("it cost 3 dollars 50 cents", "3 dollars 50 cents", 3.5, "USD"),
        ("a 12-cent-a-share dividend", "12-cent", 0.12, "USD"),
        ("exports of 300 billion won", "300 billion won", 3e11, "KRW"),
    ],
)
def test_money(text: str, surface: str, value: float, unit: str) -> None:
    check(one(text, surface), "money", value, unit)


def test_money_qualifiers() -> None:
    text = "It made more than $555 million, nearly €2bn, up to £5m and at least $1.5 billion."
    assert [(q.surface, q.qualifier) for q in find_quantities(text)] == [
        ("$555 million", "more than"), ("€2bn", "nearly"), ("£5m", "up to"), ("$1.5 billion", "at least"),
    ]


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [("around $5m", "about"), ("roughly $5m", "about"), ("some $5m", "about"),
     ("over $5m", "more than"), ("above $5m", "more than"), ("below $5m", "less than"),
     ("under $5m", "less than"), ("a record $5m", "record"), ("exceeded $5m", "more than")],
)
def test_qualifier_normalisation(text: str, qualifier: str) -> None:
    (q,) = find_quantities(text)
    assert (q.surface, q.qualifier) == ("$5m", qualifier)


def test_pounds_without_scale_are_weight_and_won_is_a_verb() -> None:
    check(one("the baby weighs 25 pounds", "25 pounds"), "quantity", 25, "lb")
    assert all(q.kind != "money" for q in find_quantities("Liverpool 3 won the cup"))


def test_bare_iso_lookalikes_are_not_money() -> None:
    assert [q.kind for q in find_quantities("ALL 5 solutions are wrong; try 5 times.")] == ["number", "number"]


# ------------------------------------------------------------------ percentages


@pytest.mark.parametrize(
    ("text", "surface", "value", "unit"),
    [
        ("rose 44.2% in January", "44.2%", 44.2, "%"),
        ("rose 44 percent", "44 percent", 44, "%"),
        ("a 48 per cent increase", "48 per cent", 48, "%"),
        ("inflation of 3.1pc", "3.1pc", 3.1, "%"),
        ("twenty percent of them", "twenty percent", 20, "%"),
        ("raised by 0.25 percentage points", "0.25 percentage points", 0.25, "pp"),
        ("cut by 25 basis points", "25 basis points", 0.25, "pp"),
        ("the index fell 3%", "3%", 3, "%"),  # direction is another stage's concern
        ("down 3% on the day", "3%", 3, "%"),
        ("a change of -3%", "-3%", -3, "%"),
        ("just need minus five percent", "minus five percent", -5, "%"),
    ],
)
def test_percent(text: str, surface: str, value: float, unit: str) -> None:
    check(one(text, surface), "percent", value, unit)


def test_percent_right_after_money_is_not_money() -> None:
    qs = find_quantities("It sold more than $10 billion worth, 48 per cent more, and 50 cents a share.")
    assert [(q.surface, q.kind) for q in qs] == [
        ("$10 billion", "money"), ("48 per cent", "percent"), ("50 cents", "money"),
    ]


# ------------------------------------------------------------------ ranges


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("between $1m and $2m", [("$1m", 1e6, "USD"), ("$2m", 2e6, "USD")]),
        ("a $1-2 billion deal", [("$1", 1e9, "USD"), ("2 billion", 2e9, "USD")]),
        ("growth of 5-7% a year", [("5", 5, "%"), ("7%", 7, "%")]),
        ("between 5 and 7 percent", [("5", 5, "%"), ("7 percent", 7, "%")]),
        ("cut 2 to 3 million jobs", [("2", 2e6, "job"), ("3 million jobs", 3e6, "job")]),
        ("10-15 km away", [("10", 10, "km"), ("15 km", 15, "km")]),
        ("1-2m euros", [("1", 1e6, "EUR"), ("2m euros", 2e6, "EUR")]),
        ("a forecast of 1.2-1.5%", [("1.2", 1.2, "%"), ("1.5%", 1.5, "%")]),
    ],
)
def test_ranges_give_two_values(text: str, expected: list[tuple[str, float, str]]) -> None:
    qs = find_quantities(text)
    assert [(q.surface, q.unit) for q in qs] == [(s, u) for s, _, u in expected]
    assert [q.value for q in qs] == pytest.approx([v for _, v, _ in expected])


def test_range_lower_end_keeps_its_own_scale_when_larger() -> None:
    qs = find_quantities("from 500 to 2 million people")
    assert [q.value for q in qs] == [500, 2_000_000]


def test_range_does_not_start_at_a_year() -> None:
    assert [q.surface for q in find_quantities("rose 3% in 2024 to 5% this year")] == ["3%", "5%"]


# ------------------------------------------------------------------ quantities and numbers


@pytest.mark.parametrize(
    ("text", "surface", "value", "unit", "qualifier"),
    [
        ("some 325 kilometres away", "325 kilometres", 325, "km", "about"),
        ("oil output of 500,000 barrels per day", "500,000 barrels per day", 500_000, "barrel/d", None),
        ("a 300 MW plant", "300 MW", 300, "MW", None),
        ("a 3-inch screen", "3-inch", 3, "in", None),
        ("about 1m people", "1m people", 1_000_000, "people", "about"),
        ("a 1.8m wall", "1.8m", 1.8, "m", None),
        ("25 lakh tonnes", "25 lakh tonnes", 2_500_000, "t", None),
        ("killing at least fourteen people", "fourteen people", 14, "people", "at least"),
        ("half a million people", "half a million people", 500_000, "people", None),
        ("temperatures of 40C", "40C", 40, "°C", None),
        ("the 1500 metres final", "1500 metres", 1500, "m", None),
    ],
)
def test_quantities(text: str, surface: str, value: float, unit: str, qualifier: str | None) -> None:
    check(one(text, surface), "quantity", value, unit, qualifier)


@pytest.mark.parametrize(
    ("text", "surface", "value"),
    [
        ("a workforce of about 100,000.", "100,000", 100_000),
        ("two million eligible voters", "two million", 2_000_000),
        ("a dozen times", "a dozen", 12),
        ("one and a half million", "one and a half million", 1_500_000),
        ("two-thirds of voters", "two-thirds", 2 / 3),
        ("a third of Britons", "a third", 1 / 3),
        ("twenty-one trillion three hundred", "twenty-one trillion three hundred", 21_000_000_000_300),
        ("I can give you 10M.", "10M", 10_000_000),
        ("1 234 567 users", "1 234 567", 1_234_567),
    ],
)
def test_numbers(text: str, surface: str, value: float) -> None:
    q = one(text, surface) if "users" not in text else find_quantities(text)[0]
    assert math.isclose(q.value, value, rel_tol=1e-9)
    assert text[q.start:q.end].startswith(surface)


@pytest.mark.parametrize(
    "text",
    [
        "in 2025 and 2026",
        "on 31 January and 8 February",
        "on January 31, 2026",
        "in the 1990s and the 2025-26 season",
        "at 10:30 and 6pm, or 11 a.m.",
        "the 3rd and 21st editions",
        "call +1 202-555-0147 or (020) 7946 0958",
        "IP 192.168.1.2 on 5/17/2018",
        "F-16 jets, COVID-19, Bayraktar TB2 and the G20",
        "Article 5, Section 230, No. 10 and exit 436",
        "the S&P 500 and FTSE 100",
        "see https://example.com/?q=30%25",
        "one of the firms",
    ],
)
def test_not_numbers(text: str) -> None:
    assert find_quantities(text) == []


def test_find_numbers_reports_figures_inside_amounts() -> None:
    nums = find_numbers("It earned $10000 in 3 years, or 5%, in 2025.")
    assert [(n.surface, n.value, n.kind) for n in nums] == [("10000", 10000, "number"), ("3", 3, "number"),
                                                           ("5", 5, "number")]


def test_spans_are_exact() -> None:
    text = SEED_SSB + " " + SEED_ANEWZ + " Between $1m and $2m, 5–7%, £3.5bn-plus and 2 to 3 million people."
    for q in find_quantities(text):
        assert text[q.start:q.end] == q.surface


def test_speed_on_seeds() -> None:
    texts = [SEED_SSB, SEED_ANEWZ] * 25
    t0 = time.perf_counter()
    for t in texts:
        find_quantities(t)
    assert time.perf_counter() - t0 < 2.0  # ~1 ms each; a regression to backtracking would blow this


# ------------------------------------------------------------------ Recognizers-Text benchmark

# Measured with bench/recognizers.py (default --flags python); the floor is 0.02 below.
FLOORS = {
    "Currency": {"f1": 0.960 - 0.02, "value": 1.000 - 0.02},
    "Percent": {"f1": 1.000 - 0.02, "value": 1.000 - 0.02},
}


def _bench() -> ModuleType:
    path = ROOT / "bench" / "recognizers.py"
    spec = importlib.util.spec_from_file_location("newsmon_bench_recognizers", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("model", sorted(FLOORS))
def test_recognizers_spec_floor(model: str) -> None:
    bench = _bench()
    filename = bench.MODELS[model][0]
    if not (RECOGNIZERS / filename).is_file():
        pytest.skip(f"Recognizers-Text spec {filename} not found in {RECOGNIZERS}")
    score = bench.score_model(model, RECOGNIZERS)
    assert score.f1 >= FLOORS[model]["f1"], "\n".join(score.errors)
    assert score.value_accuracy >= FLOORS[model]["value"], "\n".join(score.errors)
