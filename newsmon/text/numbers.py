"""Money, percentages and quantities in news prose, normalised to numbers.

``find_quantities("exports rose 44.2% to more than $555.3 million")`` returns one
:class:`Quantity` per amount: kind, normalised value, unit (ISO 4217 code for money,
"%" / "pp" for percentages, a canonical unit for quantities), the qualifier in front
("more than", "about", ...) and the character span.

Design, and why:

* One compiled regular expression (``_MASTER``) scans the text once, left to right.
  At each word start it tries, in order: an amount with a currency prefix ("$", "US$",
  "€", "Rs", "KZT" ...), the phrase-initial "per cent of N", *skip* patterns (links,
  dates, times, years, ordinals, phone numbers, identifiers such as "Article 5" or
  "S&P 500") that consume digits which must never be reported, and finally a number
  that is parsed once and then classified by what follows it: a range ("5-7%"), a
  currency word ("euros"), percentage points, a percent sign or word, a unit or counted
  noun, or nothing (a plain number). Because skipped text is consumed, the digits of
  "31 January" cannot resurface as a number later.
* The regex only decides extents; values are computed from its named groups with
  :class:`decimal.Decimal`, so "$555.3 million" is exactly 555300000.0.
* Speed comes from refusing early: a match may only start at a word start or a
  digit/symbol, long word lists are compiled as prefix tries, and costly branches
  (number words, skip patterns) sit behind cheap look-ahead gates.
* Everything is pure: no I/O, no state besides the compiled tables.

Spans (``surface``/``start``/``end``) cover the amount itself, not the qualifier:
"more than $555 million" has surface "$555 million" and qualifier "more than". A range
("$1-2 billion", "5-7%", "between 5 and 7 percent") yields two quantities, each with
its own sub-span, and the lower end inherits the currency, unit and scale of the upper.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

__all__ = ["COUNT_UNITS", "Kind", "Quantity", "find_numbers", "find_quantities"]

Kind = Literal["money", "percent", "quantity", "number"]


@dataclass(frozen=True)
class Quantity:
    kind: Kind
    value: float  # normalised: "$555.3 million" -> 555300000.0, "44.2%" -> 44.2
    unit: str | None  # ISO code (money), "%" or "pp" (percent), canonical unit (quantity), None (number)
    qualifier: str | None  # "about", "more than", "less than", "up to", "at least", "nearly", "record", ...
    surface: str  # exact text of the amount (qualifier excluded)
    start: int
    end: int


# --------------------------------------------------------------------------- tables

_ONE = Decimal(1)

# Scale words after a number. Letters are case-sensitive ("10M" is ten million, "10m" is
# ten metres unless a currency makes it money), so they are looked up before lower-casing.
_SCALE_CS: dict[str, Decimal] = {
    "k": Decimal(10**3), "K": Decimal(10**3), "M": Decimal(10**6), "MM": Decimal(10**6),
    "b": Decimal(10**9), "B": Decimal(10**9), "m": Decimal(10**6),
}
_SCALE_WORDS: dict[str, Decimal] = {
    "hundred": Decimal(100), "thousand": Decimal(10**3), "million": Decimal(10**6),
    "billion": Decimal(10**9), "trillion": Decimal(10**12),
    "lakh": Decimal(10**5), "lakhs": Decimal(10**5), "crore": Decimal(10**7), "crores": Decimal(10**7),
    "bn": Decimal(10**9), "bln": Decimal(10**9), "mn": Decimal(10**6), "mln": Decimal(10**6),
    "mil": Decimal(10**6), "tn": Decimal(10**12), "trn": Decimal(10**12), "tln": Decimal(10**12),
    "dozen": Decimal(12), "dozens": Decimal(12), "dz": Decimal(12), "dzs": Decimal(12),
    "doz": Decimal(12), "dozs": Decimal(12),
}
_WORD_VALUES: dict[str, int] = {
    "zero": 0, "nought": 0, "naught": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1,
}
_VULGAR: dict[str, Decimal] = {
    "½": Decimal("0.5"), "¼": Decimal("0.25"), "¾": Decimal("0.75"), "⅓": Decimal(1) / 3,
    "⅔": Decimal(2) / 3, "⅛": Decimal("0.125"), "⅜": Decimal("0.375"), "⅝": Decimal("0.625"),
    "⅞": Decimal("0.875"),
}
# Denominators that make "a/b" a fraction rather than a date ("3/4 mile" vs "12/25").
_FRACTION_DENOMINATORS = frozenset({2, 3, 4, 5, 6, 8, 10, 12, 16, 32, 64, 100})

# Currency prefixes are normalised (upper-cased, spaces and dots removed) before lookup:
# "u.s $" -> "US$", "c $" -> "C$", "hk $" -> "HK$". A bare "$" is read as USD, the
# dominant meaning in English-language news.
_ISO_CODES = [
    "USD", "EUR", "GBP", "JPY", "CNY", "CHF", "CAD", "AUD", "NZD", "HKD", "SGD", "INR", "TRY", "RUB",
    "KRW", "BRL", "MXN", "ZAR", "SEK", "NOK", "DKK", "PLN", "HUF", "CZK", "KZT", "AZN", "UAH", "ILS",
    "SAR", "AED", "EGP", "NGN", "KES", "PKR", "BDT", "IDR", "MYR", "THB", "VND", "PHP", "TWD", "ARS",
    "CLP", "COP", "IRR", "QAR", "KWD", "BTC", "GEL", "UZS", "KGS", "RON", "BGN"
]
_CUR_PREFIX: dict[str, str] = {code: code for code in _ISO_CODES} | {
    "$": "USD", "US$": "USD", "USD$": "USD", "C$": "CAD", "CA$": "CAD", "CAD$": "CAD",
    "CDN$": "CAD", "CAN$": "CAD", "A$": "AUD", "AU$": "AUD", "AUD$": "AUD", "NZ$": "NZD",
    "NZD$": "NZD", "HK$": "HKD", "HKD$": "HKD", "S$": "SGD", "SG$": "SGD", "NT$": "TWD",
    "R$": "BRL", "MEX$": "MXN", "MX$": "MXN", "MXN$": "MXN", "€": "EUR", "£": "GBP",
    "¥": "JPY", "CN¥": "CNY", "RMB": "CNY", "₹": "INR", "RS": "INR", "₺": "TRY", "₽": "RUB",
    "₩": "KRW", "₦": "NGN", "₱": "PHP", "₪": "ILS", "₴": "UAH", "₫": "VND", "₸": "KZT",
    "₼": "AZN", "₾": "GEL", "₡": "CRC", "₭": "LAK", "฿": "THB", "₿": "BTC", "RP": "IDR",
    "RM": "MYR", "KSH": "KES", "SH": "KES", "DH": "AED", "DHS": "AED", "SR": "SAR", "QR": "QAR",
    "GH¢": "GHS", "TL": "TRY",
}
_CUR_SYMBOLS = "€£¥₹₺₽₩₦₱₪₴₫₸₼₾₡₭฿₿"


def _plural(forms: str) -> list[str]:
    """'dollar|s' -> ['dollar', 'dollars']; 'yen' -> ['yen']."""
    if "|" not in forms:
        return [forms]
    stem, *endings = forms.split("|")
    return [stem] + [stem + e for e in endings]


def _expand(spec: dict[str, tuple[str, str]]) -> dict[str, tuple[str, Decimal]]:
    out: dict[str, tuple[str, Decimal]] = {}
    for forms, (code, factor) in spec.items():
        for f in forms.split(","):
            for word in _plural(f.strip()):
                out[word] = (code, Decimal(factor))
    return out


# Currency words after the number ("1.2 billion euros", "450,000 yen", "50 cents").
# Minor units carry their factor so "50 cents" is 0.50 USD. Ambiguous bare names are
# read as the currency that dominates current news ("francs" -> CHF, "pesos" -> MXN).
_CUR_WORDS = _expand({
    "dollar|s,us dollar|s,u.s. dollar|s,american dollar|s,usd": ("USD", "1"),
    "canadian dollar|s": ("CAD", "1"), "australian dollar|s": ("AUD", "1"),
    "new zealand dollar|s": ("NZD", "1"), "hong kong dollar|s": ("HKD", "1"),
    "singapore dollar|s": ("SGD", "1"), "taiwan dollar|s,new taiwan dollar|s": ("TWD", "1"),
    "euro|s,eur": ("EUR", "1"),
    "pound|s sterling,sterling,british pound|s,gbp": ("GBP", "1"),
    "egyptian pound|s": ("EGP", "1"), "lebanese pound|s": ("LBP", "1"),
    "syrian pound|s": ("SYP", "1"), "sudanese pound|s": ("SDG", "1"),
    "yen,japanese yen,jpy": ("JPY", "1"),
    "yuan,chinese yuan,renminbi,rmb,元,cny": ("CNY", "1"),
    "rupee|s,indian rupee|s,inr": ("INR", "1"), "pakistani rupee|s": ("PKR", "1"),
    "sri lankan rupee|s,ரூ": ("LKR", "1"), "nepalese rupee|s": ("NPR", "1"),
    "rupiah,indonesian rupiah": ("IDR", "1"), "ringgit,malaysian ringgit": ("MYR", "1"),
    "baht,thai baht": ("THB", "1"), "south korean won,korean won": ("KRW", "1"),
    "dong,vietnamese dong": ("VND", "1"),
    "lira|s,turkish lira|s,₺": ("TRY", "1"), "italian lire": ("ITL", "1"),
    "ruble|s,rouble|s,russian ruble|s,russian rouble|s,rub,₽": ("RUB", "1"),
    "hryvnia|s,hryvna|s,ukrainian hryvnia|s,uah,₴": ("UAH", "1"),
    "zloty|s,zlotys,polish zloty|s,pln,zł": ("PLN", "1"), "forint|s,hungarian forint|s,huf": ("HUF", "1"),
    "koruna|s,czech koruna|s,czech crowns,czk": ("CZK", "1"),
    "krona,kronor,swedish krona,swedish kronor,sek": ("SEK", "1"),
    "krone,kroner,norwegian krone,norwegian kroner,nok": ("NOK", "1"),
    "danish krone,danish kroner,dkk": ("DKK", "1"),
    "franc|s,swiss franc|s,chf": ("CHF", "1"), "french franc|s": ("FRF", "1"),
    "belgian franc|s": ("BEF", "1"), "cfa franc|s": ("XOF", "1"), "rwandan franc|s": ("RWF", "1"),
    "deutsche mark|s,deutschmark|s,german mark|s,d-mark|s": ("DEM", "1"),
    "peseta|s": ("ESP", "1"), "guilder|s,dutch guilder|s": ("NLG", "1"),
    "markka|s,finnish markka|s": ("FIM", "1"), "escudo|s": ("PTE", "1"),
    "drachma|s,drachmae": ("GRD", "1"), "austrian schilling|s": ("ATS", "1"), "irish punt|s": ("IEP", "1"),
    "shekel|s,new shekel|s,israeli shekel|s,ils,₪": ("ILS", "1"),
    "riyal|s,saudi riyal|s,sar": ("SAR", "1"), "qatari riyal|s": ("QAR", "1"),
    "rial|s,iranian rial|s": ("IRR", "1"), "omani rial|s": ("OMR", "1"),
    "dirham|s,uae dirham|s,emirati dirham|s,aed": ("AED", "1"), "moroccan dirham|s": ("MAD", "1"),
    "iraqi dinar|s": ("IQD", "1"), "kuwaiti dinar|s": ("KWD", "1"), "jordanian dinar|s": ("JOD", "1"),
    "bahraini dinar|s": ("BHD", "1"), "libyan dinar|s": ("LYD", "1"), "algerian dinar|s": ("DZD", "1"),
    "tunisian dinar|s": ("TND", "1"), "serbian dinar|s": ("RSD", "1"),
    "peso|s,mexican peso|s,mxn": ("MXN", "1"), "philippine peso|s": ("PHP", "1"),
    "argentine peso|s": ("ARS", "1"), "chilean peso|s": ("CLP", "1"), "colombian peso|s": ("COP", "1"),
    "reais,brazilian real,brazilian reais,brl": ("BRL", "1"),
    "rand,south african rand,zar": ("ZAR", "1"), "naira,nigerian naira": ("NGN", "1"),
    "cedi|s,ghanaian cedi|s": ("GHS", "1"), "kenyan shilling|s": ("KES", "1"),
    "ugandan shilling|s": ("UGX", "1"), "tanzanian shilling|s": ("TZS", "1"),
    "tenge,kazakh tenge,kzt,₸": ("KZT", "1"), "manat,azerbaijani manat,azn,₼": ("AZN", "1"),
    "lari,georgian lari,₾": ("GEL", "1"), "taka,bangladeshi taka": ("BDT", "1"),
    "kyat|s": ("MMK", "1"), "afghani|s": ("AFN", "1"), "birr": ("ETB", "1"),
    "romanian lei,lei": ("RON", "1"), "leva,bulgarian lev": ("BGN", "1"),
    "€": ("EUR", "1"), "₹": ("INR", "1"), "₩": ("KRW", "1"), "₦": ("NGN", "1"), "₱": ("PHP", "1"),
    "₫": ("VND", "1"), "₡": ("CRC", "1"), "₭": ("LAK", "1"), "฿": ("THB", "1"),
    "bitcoin|s,btc,₿": ("BTC", "1"), "satoshi|s": ("BTC", "0.00000001"),
    "cent|s,¢": ("USD", "0.01"), "euro cent|s": ("EUR", "0.01"),
    "penny,pennies,pence": ("GBP", "0.01"), "kopeck|s,kopek|s": ("RUB", "0.01"),
})
# Upper-case ISO codes after a number ("50 million USD"); lower-case ones only where the
# code is not also an English word (so "5 try" or "ALL 5" are never money).
_CUR_WORDS_CS = {code: (code, _ONE) for code in _ISO_CODES} | {"RMB": ("CNY", _ONE), "TL": ("TRY", _ONE)}
# Words that are currencies only with a scale ("361 million pounds", "5 billion won"):
# without one, "25 pounds" is a weight and "3 won" a verb.
_CUR_SCALED = {"pound": ("GBP", _ONE), "pounds": ("GBP", _ONE), "won": ("KRW", _ONE),
               "marks": ("DEM", _ONE)}


def _units(spec: dict[str, str]) -> dict[str, tuple[str, Decimal]]:
    out: dict[str, tuple[str, Decimal]] = {}
    for forms, target in spec.items():
        unit, _, factor = target.partition("*")
        for f in forms.split(","):
            for word in _plural(f.strip()):
                out[word] = (unit, Decimal(factor or "1"))
    return out


# Physical units, matched case-insensitively (long forms).
_UNITS_CI = _units({
    "tonne|s,ton|s,metric ton|s,metric tonne|s": "t",
    "kilotonne|s,kiloton|s": "t*1000", "megatonne|s,megaton|s": "t*1000000",
    "kilogram|s,kilogramme|s,kilo|s,kgs": "kg", "gram|s,gramme|s": "g",
    "milligram|s,milligramme|s": "mg", "microgram|s,microgramme|s,mcg": "µg",
    "pound|s,lbs": "lb", "ounce|s,troy ounce|s": "oz",
    "kilometre|s,kilometer|s,km,kms": "km", "metre|s,meter|s": "m",
    "centimetre|s,centimeter|s": "cm", "millimetre|s,millimeter|s": "mm",
    "decimetre|s,decimeter|s": "dm", "micrometre|s,micrometer|s,micron|s": "µm",
    "nanometre|s,nanometer|s": "nm", "picometre|s,picometer|s": "pm",
    "mile|s": "mi", "nautical mile|s": "nmi", "foot,feet": "ft", "inch,inches": "in",
    "yard|s": "yd",
    "square kilometre|s,square kilometer|s,sq km,sq. km,km2,km²": "km2",
    "square metre|s,square meter|s,sq m,sq. m": "m2", "square mile|s,sq mi": "mi2",
    "square feet,square foot,sq ft,sq. ft": "ft2", "hectare|s": "ha", "acre|s": "acre",
    "litre|s,liter|s": "l", "millilitre|s,milliliter|s": "ml",
    "cubic metre|s,cubic meter|s": "m3", "cubic feet,cubic foot,cu ft": "ft3",
    "billion cubic metres,billion cubic meters,bcm": "m3*1000000000",
    "gallon|s": "gal", "barrel|s,bbl,bbls": "barrel",
    "barrels per day,barrels a day,barrels/day,bpd,b/d": "barrel/d",
    "watt|s": "W", "kilowatt|s": "kW", "megawatt|s": "MW", "gigawatt|s": "GW", "terawatt|s": "TW",
    "kilowatt-hour|s,kilowatt hour|s": "kWh", "megawatt-hour|s,megawatt hour|s": "MWh",
    "gigawatt-hour|s,gigawatt hour|s": "GWh", "terawatt-hour|s,terawatt hour|s": "TWh",
    "kilometres per hour,kilometers per hour,kilometres an hour,kilometers an hour,km per hour,"
    "km/h,km/hr,kph,kmph,kmh": "km/h",
    "miles per hour,miles an hour,mph": "mph", "knot|s": "kn",
    "metres per second,meters per second,m/s": "m/s",
    "degrees celsius,degrees centigrade,°c,ºc,° c": "°C", "degrees fahrenheit,°f,ºf": "°F",
    "bit|s": "bit", "byte|s": "B", "kilobyte|s": "KB", "megabyte|s": "MB", "gigabyte|s": "GB",
    "terabyte|s": "TB", "kilobit|s": "Kb", "megabit|s": "Mb", "gigabit|s": "Gb",
})
# Short symbols whose case carries meaning (MW vs mW, MB vs Mb, t, m, g, L).
_UNITS_CS = _units({
    "t": "t", "Mt": "t*1000000", "kt": "t*1000", "kg": "kg", "g": "g", "mg": "mg", "µg,μg": "µg",
    "lb": "lb", "oz": "oz", "m": "m", "cm": "cm", "mm": "mm", "dm": "dm", "µm,μm": "µm",
    "nm": "nm", "mi": "mi", "ft": "ft", "yd": "yd", "m2,m²": "m2", "ha": "ha", "L": "l",
    "ml,mL": "ml", "m3,m³": "m3", "gal": "gal", "W": "W", "kW": "kW", "MW": "MW", "GW": "GW",
    "TW": "TW", "kWh": "kWh", "MWh": "MWh", "GWh": "GWh", "TWh": "TWh",
    "KB,kB": "KB", "MB": "MB", "GB": "GB", "TB": "TB", "Kb,kb": "Kb", "Mb,mb": "Mb", "Gb": "Gb",
})
# Countable nouns that make a number a quantity ("3,500 firms", "fourteen people").
# The unit is the singular noun; people/persons/individuals all become "people".
_COUNT_SPEC = [
    "worker", "employee", "job", "voter", "resident", "citizen", "civilian", "student", "patient",
    "migrant", "refugee", "soldier", "troop", "officer", "firm", "company", "business", "household",
    "home", "house", "family", "passenger", "tourist", "visitor", "fan", "member", "user", "customer",
    "subscriber", "case", "death", "infection", "victim", "casualty", "prisoner", "detainee", "hostage",
    "vehicle", "car", "truck", "bus", "aircraft", "plane", "jet", "helicopter", "drone", "missile",
    "rocket", "tank", "ship", "vessel", "boat", "flight", "unit", "share", "vote", "seat", "point",
    "country", "city", "village", "school", "hospital", "project", "contract", "dose", "child", "staff"
]
_IRREGULAR = {"company": "companies", "family": "families", "casualty": "casualties",
              "country": "countries", "city": "cities", "business": "businesses", "bus": "buses",
              "child": "children", "aircraft": "aircraft", "staff": "staff"}
_COUNT_NOUNS: dict[str, tuple[str, Decimal]] = {"people": ("people", _ONE), "person": ("people", _ONE),
                                                "persons": ("people", _ONE),
                                                "individuals": ("people", _ONE)}
for _noun in _COUNT_SPEC:
    _COUNT_NOUNS[_noun] = (_noun, _ONE)
    _COUNT_NOUNS[_IRREGULAR.get(_noun, _noun + "s")] = (_noun, _ONE)
COUNT_UNITS: frozenset[str] = frozenset(u for u, _ in _COUNT_NOUNS.values())
"""Units of countable nouns ("people", "firm", ...): quantities, but not physical ones."""

_QUALIFIERS: dict[str, str] = {}
for _canon, _forms in {
    "more than": "more than,over,above,in excess of,upwards of,upward of,greater than,higher than,"
                 "just over,well over,north of,exceeding,exceeds,exceeded,exceed,surpassing,"
                 "surpasses,surpassed,surpass,topping,topped",
    "at least": "at least,no less than,not less than,no fewer than,a minimum of",
    "less than": "less than,fewer than,under,below,just under,well under,well below,lower than",
    "nearly": "nearly,almost,close to,just shy of,just short of",
    "about": "about,around,roughly,some,approximately,approx.,approx,an estimated,estimated,"
             "circa,~",
    "up to": "up to,as much as,as many as,as high as",
    "at most": "at most,no more than,not more than,a maximum of",
    "exactly": "exactly,precisely",
}.items():
    for _form in _forms.split(","):
        _QUALIFIERS[_form] = _canon

_INDEX_NAMES = [
    "s&p", "ftse", "nasdaq", "nikkei", "stoxx", "russell", "fortune", "dax", "cac", "asx", "kospi",
    "bist", "sensex", "nifty"
]
_SKIP_WORDS = [
    "page", "pages", "article", "chapter", "section", "paragraph", "clause", "room", "flight", "route",
    "highway", "interstate", "exit", "gate", "platform", "channel", "season", "episode", "volume",
    "number", "grade", "level", "stage", "phase", "round", "tier", "category", "class", "type", "model",
    "version", "resolution", "amendment", "item", "step", "table", "figure", "district", "ward",
    "precinct", "block", "division", "region", "terminal", "pier", "lane"
]


# --------------------------------------------------------------------------- patterns


def _alt(words: Iterable[str], fold: bool = True) -> str:
    """Literal words as a regex trie: one pass per word instead of one branch per word.

    Python's ``re`` tries alternatives one by one; with a few hundred unit and currency
    names that dominated the scan time. A prefix trie keeps it linear in the word length.
    Longer words win because every "end here" option is tried after the longer branches.
    Spaces inside a word match any run of whitespace.
    """
    trie: dict[str, dict] = {}
    for w in {w.lower() if fold else w for w in words}:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [(r"\s+" if ch == " " else re.escape(ch)) + emit(child)
                    for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return "(?:" + body + ")?"
        return body

    return "(?:" + emit(trie) + ")"


_WB = r"(?![^\W_])"  # not followed by a letter or digit (works after symbols, unlike \b)
_NUM_START = r"(?<![\w.,/])(?<![^\W\d_][-‑])"  # not inside a word, number or "F-16"/"COVID-19"
_NUM_END = r"(?![\d]|[.,/]\d)"  # never stop in the middle of a digit group

_DIGITS = (
    r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 1,234,567.89
    # 1 234 567 (also nbsp / thin space); not a run of separate figures such as "100 200 300 400 500"
    r"|(?<!\d[ \u00a0\u202f])\d{1,3}(?:[ \u00a0\u202f]\d{3}){1,4}(?![ \u00a0\u202f]?\d)(?:\.\d+)?"
    r"|\d{1,3}\s+\d{1,2}/\d{1,3}"  # 10 1/2
    r"|\d{1,3}/\d{1,3}"  # 3/4 (validated later: dates are dropped)
    r"|\d+,\d{1,2}(?!\d|,\d)"  # European decimal comma 1,3 (not a list 22,24,26)
    r"|\d+(?:\.\d+)?(?:[eE][+-]?\d+(?![\d.]))?"  # 12, 4.800, 1.3e6
    r"|\.\d+"  # .08
    r")[½¼¾⅓⅔⅛⅜⅝⅞]?" + _NUM_END + r"|[½¼¾⅓⅔⅛⅜⅝⅞]"
)
_ONES = "one|two|three|four|five|six|seven|eight|nine"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_SMALL = rf"(?:(?:{_TENS})(?:\s*-\s*|\s+)(?:{_ONES})\b|(?:{_TENS}|{_TEENS}|{_ONES})\b)"
_DEN_SING = "half|third|quarter|fourth|fifth|sixth|seventh|eighth|ninth|tenth|hundredth|thousandth"
_DEN_PLUR = (
    "halves|thirds|quarters|fourths|fifths|sixths|sevenths|eighths|ninths|tenths|hundredths|thousandths"
)
_DEN = rf"(?:{_DEN_PLUR}|{_DEN_SING})\b"
_SMALLX = rf"{_SMALL}(?![\s-]+{_DEN})"  # "two" in "two thirds" is a numerator, not a number
_BIGW = r"(?:thousand|million|billion|trillion|lakhs?|crores?|dozens?|dozs?|dzs?)\b"
_GROUP = rf"(?:(?:{_SMALLX}|an?)\s+hundred\b(?:\s+(?:and\s+)?{_SMALLX})?|{_SMALLX})"
# "a half", "two thirds", "five - eighths"
_FRAC = rf"(?:(?:an?|one)(?:\s*-\s*|\s+)(?:{_DEN_SING})\b|{_SMALL}(?:\s*-\s*|\s+)(?:{_DEN_PLUR})\b)"
# A spaced fraction must end the phrase or take "of": "a third of voters", not "a third term".
_FRAC_END = r"(?=\s+of\b|\s*[.,;:!?)]|\s*$)"
_MIXED = rf"\s+and\s+{_FRAC}(?:\s+{_BIGW})?"  # "one and a half (million)", "3 million and a half"
_POINT = rf"\s+point(?:(?:\s+(?:zero|nought|naught|{_ONES})\b)+|\s+{_SMALL})"  # "five point five"
_CORE = (
    rf"(?:(?:{_GROUP}|an?(?=\s+{_BIGW}))(?:\s+{_BIGW})+(?:(?:\s+and\s+|\s+){_GROUP}(?:\s+{_BIGW})*)*"
    rf"|{_GROUP}|(?:zero|nought|naught)\b)"
)
_WORDS = (
    rf"(?:half\s+a\s+dozen\b"
    rf"|(?:(?:a\s+)?(?:half|quarter)|three\s+quarters)(?:\s+a|\s+of\s+a)?\s+(?:thousand|million|billion|trillion)\b"
    rf"|(?:an?|one|{_SMALL})-(?:{_DEN_PLUR}|{_DEN_SING})\b"
    rf"|{_FRAC}{_FRAC_END}"
    rf"|{_CORE}(?:{_MIXED}|{_POINT})?)"
)
# Word numbers are costly to try; at an ordinary word start this look-ahead fails at once.
_WORDS_GATE = "(?=" + _alt([*_WORD_VALUES, "half", "quarter"]) + r"\b)"
_SCALE_SP = _alt(w for w in _SCALE_WORDS if w != "hundred") + r"\b"

_DOLLAR_FAMILY = (
    r"(?:(?-i:US|U\.S\.|USD|Can|AU|NT)"
    r"|(?:u\.s\.?|usd|c|ca|cad|cdn|hk|hkd|nz|nzd|aud|sg|mex|mx|mxn))"
)
_CUR_PRE = (
    r"(?<![\w$.])(?:"
    rf"(?-i:A|S|R)\$|{_DOLLAR_FAMILY}\s?\$|\$|CN¥|[{_CUR_SYMBOLS}]"
    r"|(?-i:" + "|".join(_ISO_CODES) + r"|RMB|Rs\.?|Rp\.?|RM|KSh|Ksh|Sh|Dhs?|SR|QR|TL)(?=\s?[\d.])|GH¢)"
)
_CUR_SUF = "(?:" + _alt(_CUR_WORDS) + "|(?-i:" + _alt(_CUR_WORDS_CS, fold=False) + "))" + _WB
_CUR_SUF_SCALED = _alt(_CUR_SCALED) + _WB


_UNIT = (
    "(?:" + _alt(list(_UNITS_CI) + list(_COUNT_NOUNS)) + "|(?-i:" + _alt(_UNITS_CS, fold=False) + "))"
    + _WB + r"(?![-‑]\d)"  # "24703 L-202" is a part number
)


def _num(money: bool) -> str:
    """A number: optional sign, digits or words, then scale words ("1.2 billion", "10k", "3 dozen").

    A lower-case "m" means million only next to a currency or a unit ("€3.5m", "5m euros",
    "1m people", "2m barrels"); otherwise "1.8m tall" and "100m sprint" are metres.
    """
    m = "m" if money else rf"m(?=\s(?:{_CUR_SUF}|{_UNIT})|-{_CUR_SUF})"
    letters = rf"(?-i:MM|[kKMbB]|{m})"
    sign = r"(?:(?<![\w.,%)\]])[-−+](?=[\d.])|\b(?:minus|negative)\s+)?"
    # After a currency prefix the number may be attached to letters: "Rs40 crore", "RM5bn".
    start = r"(?<![\d.,/])" if money else _NUM_START
    digits = (
        rf"{start}(?:{_DIGITS})"
        rf"(?:(?:\s*|-){_SCALE_SP}|\s?hundred\b|(?<=\d){letters}{_WB}|\s(?-i:[kKM]|MM){_WB})*"
        rf"(?:{_MIXED})?"
    )
    return rf"{sign}(?:{digits}|(?<![-‑])\b{_WORDS_GATE}{_WORDS})"


_NUM_G = _num(False)
_NUM_M = _num(True)
_NOT_YEAR = r"(?!(?:1[5-9]|20|21)\d\d(?!\d|[,.]\d|\s*(?:" + _SCALE_SP + r")))"
_PCT_SUF = r"(?:\s?[%％]|\s*(?:per\s?-?\s?cent|percent(?:age)?s?|pct|(?-i:pc))" + _WB + ")"
_PP_WORDS = r"(?:(?:percentage|percent|per\s?cent|pct)[\s-]+(?:points?|pts?)|pp|ppts?|p\.p\.)"
_BP_WORDS = r"(?:basis[\s-]+points?|bps|bp)"
_PP_SUF = r"\s*" + _PP_WORDS + _WB
_BP_SUF = r"\s*" + _BP_WORDS + _WB
_PHYS_UNIT = "(?:" + _alt(_UNITS_CI) + "|(?-i:" + _alt(_UNITS_CS, fold=False) + "))" + _WB
_UNIT_SUF = (
    rf"(?:[\s-]?{_UNIT}|\s?\(\s?{_UNIT}\s?\)|\s?\[\s?{_UNIT}\s?\]|\s?\{{\s?{_UNIT}\s?\}}|\s?<\s?{_UNIT}\s?>)"
)
_CENTS = (  # "3 dollars 50 cents", "thirteen dollars and forty-five cents", "c $ 100 and fifty."
    r"(?:\s*,?\s*(?:and\s+)?(?:\d{1,2}|" + _SMALL + r")\s?(?:cents?|pence)" + _WB
    + r"|\s+(?:and\s+)?" + _SMALL + r"(?=\s*(?:[.,;:!?)]|$)))"
)
_QUAL = (
    r"(?:(?<![\w])(?P<qual>"
    r"(?:a\s+)?(?:new\s+)?record(?:[\s-]+(?:monthly|annual|yearly|quarterly|daily|weekly|all-time"
    r"|high|low|level|sum|total))*(?:\s+of)?\b"
    r"|" + _alt(q for q in _QUALIFIERS if q != "~") + _WB
    + r"|~)\s*)?"
)
_SEP = r"(?:\s?[-–—]\s?|\s+to\s+)"
_MONTH_NAMES = [
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept", "sep", "oct",
    "nov", "dec"
]
_MONTHS = "(?:" + _alt(_MONTH_NAMES) + r"\b|(?-i:May|MAY)\b)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?(?!\d|[.,]\d|\s?%|\s*per\s?cent|\s*percent)"
_SKIP = (
    r"(?:(?:https?://|www\.)\S+|"  # links: "?q=30%25" is not a percentage
    # dates: "31 January", "Feb. 8, 2026", "January 2026", "2026-02-03", "5/17/2018"
    rf"{_MONTHS}\s?\.?\s*{_DAY}\b(?:\s*,?\s*\d{{4}}(?!\d))?"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}(?:\s*,?\s*\d{{4}}(?!\d))?"
    rf"|{_MONTHS}\s*,?\s*\d{{4}}(?!\d)"
    r"|\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"
    # times: "10:30", "2:00 pm", "6pm", "11 a.m.", "1400 GMT"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\b\.?)?"
    r"|\b\d{1,2}(?:[.:]\d{2})?\s?[ap]\.?m\b\.?|\b\d{4}\s?(?-i:GMT|UTC|hrs)\b"
    # years: "2025", "1990s", "2025-26", "2025/2026" -- unless a unit follows ("1500 metres")
    r"|\b(?:1[5-9]|20|21)\d\d(?:s|['’]s)?(?:\s?[-–/]\s?(?:(?:1[5-9]|20|21)\d\d|\d\d))?(?![\d,.]\d|[^\W_])"
    rf"(?!{_PCT_SUF}|{_PP_SUF}|{_BP_SUF}|[\s-]?{_PHYS_UNIT}|[\s-]?{_CUR_SUF}|\s*{_SCALE_SP})"
    # ordinals, identifiers and phone-like strings
    r"|\b\d+(?:st|nd|rd|th)\b|24/7"
    # market indices and lists: "S&P 500", "FTSE 100", "Fortune 500"
    r"|(?<![\w])" + _alt(_INDEX_NAMES) +
    r"(?:\s+(?:SmallCap|MidCap|Composite))?\s+\d+" + _WB
    + r"|(?<![\w])" + _alt(_SKIP_WORDS) + r"\s*#?\s?\d+[a-z]?(?:[-/.]\d+)*" + _WB
    + r"|(?-i:No\.?|NO\.|no\.|Nos\.)\s?\d+|#\d+"
    r"|\+\d[\d\s().\-/]{6,}\d|\(\d{2,5}\)\s?\d{3,4}[\s.-]?\d{3,4}"
    r"|\b\d+(?P<psep>[-./])\d+(?:(?P=psep)\d+)+" + _WB + r"|\b\d{3}-\d{4}\b|\b\d{9,}\b|\b0\d{4,}\b"
    ")"
)
# A match can only start at the start of a word or at a digit/symbol; checking this first
# lets the scanner skip the inside of words without trying any alternative.
_GUARD = r"(?<!\w)(?=[^\W_]|[$€£¥₹₺₽₩₦₱₪₴₫₸₼₾₡₭฿₿~#+\-−.(½¼¾⅓⅔⅛⅜⅝⅞])"


def _build_master() -> re.Pattern[str]:
    # Currency first: "$1-2 billion", "between $1m and $2m", "$555.3 million", "$3 and 50 cents".
    money = (
        rf"(?P<mp>(?P<btw1>between\s+)?(?P<pre>{_CUR_PRE})\s?(?P<mnum>{_NUM_M})"
        rf"(?:(?(btw1)\s+and\s+|{_SEP})(?P<pre2>{_CUR_PRE})?\s?(?P<mnum2>{_NUM_M})|(?P<mcents>{_CENTS}))?"
        rf"{_WB})"
    )
    # "per cent of twenty-two": only phrase-initially, where it cannot be the tail of "95 percent of 10".
    pct2 = (
        r"(?P<pct2>(?<![\w,])(?<![\w,]\s)(?<![\w,]\s\s)(?:per\s?cent|percents?|percentage)\s+of\s+"
        rf"(?P<pct2_num>{_NUM_G}){_WB})"
    )
    # Cheap gate: skip patterns start with a digit, "+", "(", "#" or one of these words.
    skip_gate = "(?=[\\d+(#]|" + _alt([*_MONTH_NAMES, "may", *_SKIP_WORDS, *_INDEX_NAMES, "no", "nos", "http",
                                         "www"]) + ")"
    skip = rf"(?P<skip>{skip_gate}{_SKIP})"
    # Everything else starts with a number, parsed once; what follows decides the kind.
    # Ranges first so "5-7%" is not "5" and "-7%"; then currency words, percentage points
    # before percent ("percentage points" vs "percentage"), units, and finally nothing.
    tail_suffix = rf"(?:{_PP_SUF}|{_BP_SUF}|{_PCT_SUF}|(?:\s?|-){_CUR_SUF}|\s{_CUR_SUF_SCALED}|{_UNIT_SUF})"
    number = (
        rf"(?P<n>(?P<btw>between\s+{_NOT_YEAR})?(?P<a>{_NUM_G})(?:"
        rf"(?P<rt>(?(btw)\s+and\s+|{_SEP}){_NOT_YEAR}(?P<b>{_NUM_G})(?P<rsuf>{tail_suffix})?)"
        rf"|(?:\s?|-)(?P<cur>{_CUR_SUF})(?P<cents>{_CENTS})?"
        rf"|(?<=\d)(?P<minor>(?-i:p|c)){_WB}"  # "50p", "99c": attached only
        rf"|\s(?P<curs>{_CUR_SUF_SCALED})"
        rf"|(?P<pps>{_PP_SUF}|{_BP_SUF})"
        rf"|(?P<pcs>{_PCT_SUF})"
        rf"|(?P<unit>{_UNIT_SUF}|(?<=\d)(?-i:C){_WB})"  # "1.5C of warming": attached only
        rf")?{_WB})"
    )
    body = "|".join([money, pct2, skip, number])
    return re.compile(rf"{_GUARD}{_QUAL}(?:{body})", re.IGNORECASE)


_MASTER = _build_master()
_DIGIT_LIT = re.compile(rf"(?:{_DIGITS})", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W\d_]+")
_SPACES = re.compile(r"\s+")
_UNIT_STRIP = "()[]{}<>- \t\n\u00a0"


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Num:
    value: Decimal
    raw: Decimal  # before scale words
    scale: Decimal  # product of scale words (1 when none)


def _parse_digits(lit: str) -> Decimal | None:
    vulgar = _VULGAR.get(lit[-1:], Decimal(0))
    if vulgar:
        lit = lit[:-1]
        if not lit:
            return vulgar
    lit = lit.replace("\u00a0", " ").replace("\u202f", " ")
    if "/" in lit:  # "10 1/2", "3/4": only proper fractions with a usual denominator
        whole, _, frac = lit.rpartition(" ")
        num, den = (int(x) for x in frac.split("/"))
        if den not in _FRACTION_DENOMINATORS or num >= den:
            return None
        return Decimal(whole.strip() or 0) + Decimal(num) / Decimal(den)
    if "," in lit and re.fullmatch(r"\d+,\d{1,2}", lit):
        lit = lit.replace(",", ".")  # decimal comma
    lit = lit.replace(",", "").replace(" ", "")
    try:
        return Decimal(lit) + vulgar
    except InvalidOperation:
        return None


_DENOMINATORS: dict[str, int] = {}
for _i, _den in enumerate(_DEN_SING.split("|")):
    _DENOMINATORS[_den] = _DENOMINATORS[_DEN_PLUR.split("|")[_i]] = (
        [2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 100, 1000][_i]
    )
_BIG_SCALES = {w: f for w, f in _SCALE_WORDS.items() if f >= 1000}
_DIGIT_WORDS = {w: str(v) for w, v in _WORD_VALUES.items() if v < 10 and w not in ("a", "an")}


def _parse_fraction(words: list[str]) -> Decimal | None:
    """["two", "thirds"] -> 2/3; ["a", "half"] -> 1/2; ["half"] -> 1/2."""
    numerator = _parse_words(words[:-1]) if words[:-1] else _ONE
    return None if numerator is None else numerator / _DENOMINATORS[words[-1]]


def _with_fraction(whole: Decimal, whole_words: list[str], rest: list[str]) -> Decimal | None:
    """Add "and a half" (of the last big scale: "one million and a half") and trailing scales."""
    k = next((i for i, w in enumerate(rest) if w in _DENOMINATORS), None)
    if k is None:
        return None
    frac = _parse_fraction([w for w in rest[: k + 1] if w != "and"])
    if frac is None:
        return None
    trailing = _ONE
    for w in rest[k + 1:]:
        if w in ("a", "of"):
            continue
        if w not in _SCALE_WORDS:
            return None
        trailing *= _SCALE_WORDS[w]
    big_whole = bool(whole_words) and whole_words[-1] in _BIG_SCALES
    if trailing > 1:  # "one billion and a half million" vs "two and a half million"
        return whole + frac * trailing if big_whole else (whole + frac) * trailing
    if big_whole:  # "one million and a half"
        frac *= _BIG_SCALES[whole_words[-1]]
    return whole + frac


def _parse_words(words: list[str]) -> Decimal | None:
    if words[:3] == ["half", "a", "dozen"]:
        return Decimal(6)
    if "point" in words:  # "two hundred point zero three", "nought point eleven"
        i = words.index("point")
        whole, decimals = _parse_words(words[:i]), words[i + 1:]
        if all(w in _DIGIT_WORDS for w in decimals):
            digits = "".join(_DIGIT_WORDS[w] for w in decimals)
        else:
            small = _parse_words(decimals)
            digits = "" if small is None else str(int(small))
        return None if whole is None or not digits else Decimal(f"{int(whole)}.{digits}")
    k = next((i for i, w in enumerate(words) if w in _DENOMINATORS), None)
    if k is not None:  # fractions: "two thirds", "one and a half", "half a million"
        cut = max((i for i, w in enumerate(words[:k]) if w == "and"), default=-1)
        whole_words = words[:cut] if cut > 0 else []
        whole = _parse_words(whole_words) if whole_words else Decimal(0)
        return None if whole is None else _with_fraction(whole, whole_words, words[max(cut, 0):])
    total, hundreds, small = Decimal(0), Decimal(0), Decimal(0)
    for w in words:
        if w == "and":
            continue
        if w in _WORD_VALUES:
            small += _WORD_VALUES[w]
        elif w == "hundred":
            hundreds += (small or 1) * 100
            small = Decimal(0)
        elif _SCALE_WORDS.get(w) == 12:  # "three hundred and two dozens" = 300 + 24
            if small:
                small *= 12
            else:
                hundreds *= 12
        elif w in _SCALE_WORDS:
            group = hundreds + small
            total = total * _SCALE_WORDS[w] if group == 0 else total + group * _SCALE_WORDS[w]
            hundreds = small = Decimal(0)
        else:
            return None
    return total + hundreds + small


def _parse_number(s: str) -> _Num | None:
    s = s.strip()
    negative = False
    low = s.lower()
    if low.startswith(("minus ", "negative ")):
        negative, s = True, s.split(None, 1)[1]
    elif s[:1] in "-−":
        negative, s = True, s[1:]
    elif s[:1] == "+":
        s = s[1:]
    lit = _DIGIT_LIT.match(s)
    if lit and lit.group():
        raw = _parse_digits(lit.group())
        if raw is None:
            return None
        scale = _ONE
        tokens = _TOKEN.findall(s[lit.end():])
        tail = tokens.index("and") if "and" in tokens else len(tokens)
        for tok in tokens[:tail]:
            factor = _SCALE_CS.get(tok) or _SCALE_WORDS.get(tok.lower())
            if factor is None:
                return None
            scale *= factor
        value: Decimal | None = raw * scale
        if tail < len(tokens):  # "3 million and a half", "3 and a half"
            value = _with_fraction(raw * scale, [t.lower() for t in tokens[:tail]],
                                   [t.lower() for t in tokens[tail:]])
            if value is None:
                return None
            raw = value / scale
    else:
        words = _TOKEN.findall(s.lower())
        value = _parse_words(words)
        if value is None:
            return None
        scales = [w for w in words if w in _BIG_SCALES]
        scale = _SCALE_WORDS[scales[-1]] if scales else _ONE
        raw = value / scale
    if negative:
        value, raw = -value, -raw
    return _Num(value, raw, scale)


def _norm(s: str) -> str:
    return _SPACES.sub(" ", s.strip()).lower()


def _currency_prefix(s: str) -> str | None:
    return _CUR_PREFIX.get(re.sub(r"[\s.]", "", s).upper())


def _currency_suffix(s: str) -> tuple[str, Decimal] | None:
    s = s.strip()
    return _CUR_WORDS_CS.get(s) or _CUR_WORDS.get(_norm(s)) or _CUR_SCALED.get(_norm(s))


def _unit(s: str) -> tuple[str, Decimal] | None:
    s = s.strip(_UNIT_STRIP)
    if s == "C":  # only reachable attached to digits ("40C"), see _build_master
        return "°C", _ONE
    return _UNITS_CS.get(s) or _UNITS_CI.get(_norm(s)) or _COUNT_NOUNS.get(_norm(s))


def _cents(s: str | None) -> Decimal:
    """Value of a "50 cents" / "and fifty" tail, in major units."""
    if not s:
        return Decimal(0)
    words = _TOKEN.findall(s.lower())
    words = [w for w in words if w not in ("and", "cent", "cents", "pence")]
    digits = re.search(r"\d+", s)
    amount = Decimal(digits.group()) if digits else _parse_words(words)
    return (amount or Decimal(0)) / 100


def _is_year(s: str) -> bool:
    return bool(re.fullmatch(r"(?:1[5-9]|20|21)\d\d", s.strip()))


# --------------------------------------------------------------------------- scanning

_Part = tuple[Kind, Decimal, str | None, int, int]  # kind, value, unit, start, end


_BP_RE = re.compile(r"\s*" + _BP_WORDS, re.IGNORECASE)
_PP_RE = re.compile(r"\s*" + _PP_WORDS, re.IGNORECASE)
_PCT_RE = re.compile(_PCT_SUF, re.IGNORECASE)


def _suffix_reading(suf: str, b: _Num) -> tuple[Kind, str | None, Decimal]:
    """What the suffix of a range ("%", "km", "euros"...) makes both ends."""
    if not suf.strip():
        return "number", None, _ONE
    if _BP_RE.fullmatch(suf):
        return "percent", "pp", Decimal("0.01")  # 25 basis points = 0.25 percentage points
    if _PP_RE.fullmatch(suf):
        return "percent", "pp", _ONE
    if _PCT_RE.fullmatch(suf):
        return "percent", "%", _ONE
    stripped = suf.strip(_UNIT_STRIP)
    cur = _currency_suffix(stripped)
    if cur and (_norm(stripped) not in _CUR_SCALED or b.scale > 1):
        return "money", cur[0], cur[1]
    unit = _unit(stripped)
    if unit:
        return "quantity", unit[0], unit[1]
    return "number", None, _ONE


def _range_low(a: _Num, b: _Num) -> Decimal:
    """Lower end of a range inherits the upper end's scale: "$1-2 billion", "2 to 3 million"."""
    if a.scale == 1 and b.scale > 1 and a.raw <= b.raw:
        return a.value * b.scale
    return a.value


def _parts(m: re.Match[str]) -> list[_Part] | None:
    """Decode one match of ``_MASTER`` into (kind, value, unit, start, end) parts."""
    g = m.lastgroup
    if g == "mp":  # currency prefix: "$555.3 million", "$1-2 billion", "c $ 100 and fifty"
        a, code = _parse_number(m["mnum"]), _currency_prefix(m["pre"])
        if a is None or code is None:
            return None
        if m["mnum2"] is None:
            return [("money", a.value + _cents(m["mcents"]), code, m.start("pre"), m.end("mp"))]
        b = _parse_number(m["mnum2"])
        if b is None:
            return None
        code2 = _currency_prefix(m["pre2"]) if m["pre2"] else code
        b_start = m.start("pre2") if m["pre2"] else m.start("mnum2")
        return [("money", _range_low(a, b), code, m.start("pre"), m.end("mnum")),
                ("money", b.value, code2 or code, b_start, m.end("mp"))]
    if g == "pct2":
        n = _parse_number(m["pct2_num"])
        return None if n is None else [("percent", n.value, "%", m.start(g), m.end(g))]
    if g != "n":
        return []  # skip: dates, times, years, phone numbers, identifiers
    a = _parse_number(m["a"])
    if a is None:
        return None
    start, end = m.start("a"), m.end("n")
    if m["rt"] is not None:  # range: "5-7%", "between 2 and 3 million people", "10 to 15 km"
        b = _parse_number(m["b"])
        if b is None:
            return None
        kind, unit, factor = _suffix_reading(m["rsuf"] or "", b)
        if kind == "quantity" and unit in COUNT_UNITS and (_is_year(m["a"]) or _is_year(m["b"])):
            return []
        return [(kind, _range_low(a, b) * factor, unit, start, m.end("a")),
                (kind, b.value * factor, unit, m.start("b"), end)]
    if m["cur"] is not None:
        cur = _currency_suffix(m["cur"])
        if cur is None:
            return None
        return [("money", a.value * cur[1] + _cents(m["cents"]), cur[0], start, end)]
    if m["minor"] is not None:
        code = "GBP" if m["minor"] == "p" else "USD"
        return [("money", a.value / 100, code, start, end)]
    if m["curs"] is not None:  # "361 million pounds"; without a scale "25 pounds" is a weight
        if a.scale > 1:
            cur = _CUR_SCALED[_norm(m["curs"])]
            return [("money", a.value * cur[1], cur[0], start, end)]
        if _norm(m["curs"]).startswith("pound"):
            return [("quantity", a.value, "lb", start, end)]
        return [("number", a.value, None, start, m.end("a"))]
    if m["pps"] is not None:  # 25 basis points = 0.25 percentage points
        factor = Decimal("0.01") if _BP_RE.fullmatch(m["pps"]) else _ONE
        return [("percent", a.value * factor, "pp", start, end)]
    if m["pcs"] is not None:
        return [("percent", a.value, "%", start, end)]
    if m["unit"] is not None:
        unit = _unit(m["unit"])
        if unit is None:
            return None
        if unit[0] in COUNT_UNITS and _is_year(m["a"]):
            return []  # "in 2025 people ..." is a year
        return [("quantity", a.value * unit[1], unit[0], start, end)]
    if _norm(m["a"]) in ("one", "a", "an"):  # a pronoun/determiner far more often than 1
        return []
    return [("number", a.value, None, start, end)]


def _qualifier(m: re.Match[str]) -> str | None:
    q = m["qual"]
    if not q:
        return None
    q = _norm(q)
    return "record" if "record" in q else _QUALIFIERS.get(q)


def find_quantities(text: str) -> list[Quantity]:
    """Every money amount, percentage, quantity and plain number in ``text``, in order."""
    out: list[Quantity] = []
    for m in _MASTER.finditer(text):
        parts = _parts(m)
        if not parts:
            continue
        qual = _qualifier(m)
        for kind, value, unit, start, end in parts:
            out.append(Quantity(kind, float(value), unit, qual, text[start:end], start, end))
    return out


_NUM_GROUPS = ("mnum", "mnum2", "pct2_num", "a", "b")


def find_numbers(text: str) -> list[Quantity]:
    """Every numeric expression, including those inside money/percent/quantities.

    "$555.3 million" gives the number "555.3 million" (555300000.0); years, dates, times
    and identifiers are still left out. Useful where only the figures matter.
    """
    out: list[Quantity] = []
    for m in _MASTER.finditer(text):
        if m.lastgroup == "skip" or not _parts(m):
            continue
        qual = _qualifier(m)
        for name in _NUM_GROUPS:
            s = m[name]
            if s is None:
                continue
            n = _parse_number(s)
            if n is not None:
                start, end = m.span(name)
                out.append(Quantity("number", float(n.value), None, qual, s, start, end))
    return out
