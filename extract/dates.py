"""Publication date of an article page, from the page alone (pure: no network, no database).

Nothing here clamps to "now" (the caller does); only the htmldate fallback uses today, to
discard its own guesses in the future.

Evidence is tried from the most to the least reliable, as htmldate/newspaper-style extractors do:

1. JSON-LD of the article (``datePublished``, else ``dateCreated``): publishers fill it for
   Google News, so it is the most deliberate statement of the publication time.
2. ``<meta>`` publication tags (Open Graph ``article:published_time``, Dublin Core, Parse.ly,
   Sailthru, Highwire ``citation_*``, ``itemprop=datePublished``...).
3. ``<time>`` elements of the article (``pubdate``, ``class=published``, else the first one
   in ``<article>``/``<main>`` that is not labelled as an update).
4. A day in the URL path (``/2026/02/03/``, ``/20260203/``, ``-2026-02-03``).
5. "Modified" metadata (JSON-LD ``dateModified``, ``article:modified_time``), a poor but
   structured stand-in that is usually the same day on news sites.
6. ``htmldate.find_date`` (original date, extensive search) over the whole page.

A day written as a whole path segment of the URL (``/2026/02/03/``) is the permalink the CMS
minted at publication; when 1-3 disagree with it by more than a day they are more likely the
faulty ones (republication, template default, update time leaking into ``datePublished``), so
the URL day wins. Within a day the structured value is kept: it carries the time and the
offset, and the URL day is in the publisher's local time, which may differ from the UTC day.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from dateutil import parser as dateutil_parser

LOGGER = logging.getLogger(__name__)

# Nothing on the news web predates 1995; epoch-zero (1970) and 0001-01-01 placeholders fall out.
MIN_DATE = datetime(1995, 1, 1, tzinfo=UTC)
# An absolute bound only (the function is pure): the caller clamps dates later than fetch time.
MAX_DATE = datetime(2100, 1, 1, tzinfo=UTC)

# A structured date and the URL day may legitimately differ by one day (local vs UTC day).
URL_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PageDate:
    value: datetime  # timezone-aware, UTC
    source: str  # which evidence: "jsonld", "meta:article:published_time", "time[datetime]", "url", ...


# --------------------------------------------------------------------------------------------
# parsing of single values


# Zone abbreviations seen in bylines; dateutil knows only UTC/GMT by itself. IST is India's
# (+05:30): Indian outlets use it far more than Ireland does.
# fmt: off
_TZ_HOURS: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "CET": 1, "MEZ": 1, "CEST": 2, "MESZ": 2,
    "EET": 2, "EEST": 3, "MSK": 3, "IST": 5.5, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10,
}
# fmt: on
_TZINFOS = {name: int(hours * 3600) for name, hours in _TZ_HOURS.items()}
_DOTTED_DMY = re.compile(r"^\s*\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b")
_DIGITS = re.compile(r"^\d+$")
_GARBAGE = re.compile(r"^(?:null|none|nan|undefined|invalid date|false|true|0+|[-/.:0\sTZ]+)$", re.I)
_HAS_YEAR = re.compile(r"(?<!\d)(?:199\d|20\d\d)(?!\d)")
_WORDS = re.compile(r"[^\W\d_]{3,}")
# Words dateutil already understands: when a text holds no other, dateparser cannot do better.
# fmt: off
_ENGLISH_DATE_WORDS = frozenset({
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "the", "and", "at", "on", "of", "published", "posted", "updated",
    "utc", "gmt", "est", "edt", "cst", "cdt", "mst", "mdt", "pst", "pdt", "bst", "cet", "cest", "ist",
})
# fmt: on

# Two defaults that differ in every date field: a field dateutil filled from the default (i.e.
# absent from the text) comes out different, so "February 2026" or "10:30" are refused.
_DEFAULT_A = datetime(2001, 1, 1)
_DEFAULT_B = datetime(2002, 2, 2)


def _to_utc(value: datetime) -> datetime:
    """Naive values are taken as UTC (what the spec of most meta tags implies)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _plausible(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        value = _to_utc(value)
    except (OverflowError, ValueError):  # e.g. 0001-01-01 with a negative offset
        return None
    return value if MIN_DATE <= value < MAX_DATE else None


def _parse_epoch(text: str) -> datetime | None:
    # 10 digits = seconds, 13 = milliseconds (Unix timestamps in data attributes and some CMS meta)
    if len(text) == 10:
        return datetime.fromtimestamp(int(text), tz=UTC)
    if len(text) == 13:
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    return None


def _dateutil(text: str, *, dayfirst: bool, fuzzy: bool) -> datetime | None:
    results = []
    for default in (_DEFAULT_A, _DEFAULT_B):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # UnknownTimezoneWarning: such values stay naive
                results.append(
                    dateutil_parser.parse(
                        text, default=default, dayfirst=dayfirst, fuzzy=fuzzy, tzinfos=_TZINFOS
                    )
                )
        except (ValueError, OverflowError, TypeError):
            return None
    first, second = results
    if (first.year, first.month, first.day) != (second.year, second.month, second.day):
        return None  # year, month or day missing from the text
    return first


@lru_cache(maxsize=1)
def _dateparser() -> Any:
    # dateparser comes with htmldate; it is slow to warm up (~1 s), so only the last resort uses it.
    from dateparser import DateDataParser

    return DateDataParser(settings={"REQUIRE_PARTS": ["day", "month", "year"], "PREFER_DATES_FROM": "past"})


def _multilingual(text: str) -> datetime | None:
    try:
        parsed = _dateparser().get_date_data(text[:100])
    except ImportError:  # pragma: no cover - dateparser is a dependency of htmldate
        return None
    except Exception:  # dateparser raises assorted errors on odd input; a guess is not worth a crash
        LOGGER.debug("dateparser failed on %r", text, exc_info=True)
        return None
    return parsed.date_obj if parsed is not None else None


def parse_date(value: str) -> datetime | None:
    """Parse one date string into an aware UTC datetime, or None.

    Handles ISO 8601 variants (``2026-02-03T10:00:00+03:00``, ``...Z``, ``20260203``, with a
    space or fractions), RFC 822 (``Tue, 03 Feb 2026 10:00:00 GMT``), English prose
    (``February 3, 2026``, ``3 February 2026 10:30 EST``), dotted day-first (``03.02.2026``),
    Unix timestamps, and other languages as a last resort. A value without a year, month and
    day, before 1995 or from 2100 on is refused; a naive value is taken as UTC.
    """
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not text or len(text) > 200 or _GARBAGE.match(text):
        return None
    for parse in (_parse_iso, _parse_rfc822, _parse_prose):
        try:
            result = _plausible(parse(text))
        except (ValueError, OverflowError, TypeError, OSError):
            result = None
        if result is not None:
            return result
    return None


def _parse_iso(text: str) -> datetime | None:
    if _DIGITS.match(text):
        # YYYYMMDD is ISO basic format; longer/shorter digit runs may be timestamps
        return _parse_epoch(text) if len(text) != 8 else datetime.strptime(text, "%Y%m%d")
    if not text[:4].isdigit():
        return None
    # Python 3.11 reads most ISO forms: Z, +0300, fractions of any length, space separator
    return datetime.fromisoformat(text.replace(" +", "+").replace(" -", "-").replace(" Z", "Z"))


def _parse_rfc822(text: str) -> datetime | None:
    if not re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d", text):
        return None
    return email.utils.parsedate_to_datetime(text)


def _parse_prose(text: str) -> datetime | None:
    # 03.02.2026 is day-first everywhere dots are used; slashes keep dateutil's month-first
    # (US) reading, which it swaps by itself when the first number is over 12.
    dayfirst = bool(_DOTTED_DMY.match(text))
    result = _dateutil(text, dayfirst=dayfirst, fuzzy=False)
    if result is None and len(text) <= 100 and _HAS_YEAR.search(text):
        # "Published: February 3, 2026 at 10:30" – words around a date
        result = _dateutil(text, dayfirst=dayfirst, fuzzy=True)
    words = {word.lower() for word in _WORDS.findall(text)}
    if result is None and _HAS_YEAR.search(text) and words - _ENGLISH_DATE_WORDS:
        result = _multilingual(text)  # "3. Februar 2026", "3 de febrero de 2026"
    return result


# --------------------------------------------------------------------------------------------
# evidence 1: JSON-LD

_ARTICLE_TYPE = re.compile(r"(?:Article|Posting|^Report)$")
_PAGE_TYPES = frozenset({"WebPage", "ItemPage", "CreativeWork", "VideoObject", "AudioObject"})
_JSONLD_PUBLISHED = ("datepublished", "datecreated")
_JSONLD_NAMES = {"datepublished": "jsonld", "datecreated": "jsonld:dateCreated"}
_JSONLD_REGEX = re.compile(r'"datePublished"\s*:\s*"([^"]{6,60})"')


def _types(node: dict[str, Any]) -> list[str]:
    raw = node.get("@type", [])
    names = raw if isinstance(raw, list) else [raw]
    # "http://schema.org/NewsArticle" and "schema:NewsArticle" name the same type
    return [re.split(r"[/:#]", name)[-1] for name in names if isinstance(name, str)]


def _walk(node: Any, depth: int = 0) -> Iterator[tuple[dict[str, Any], int]]:
    if depth > 8:
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, depth)
    elif isinstance(node, dict):
        yield node, depth
        for key, child in node.items():
            if isinstance(child, dict | list):
                # @graph members are top-level entities, anything else is nested in this one
                yield from _walk(child, depth if key == "@graph" else depth + 1)


def _load_jsonld(text: str) -> Any:
    text = text.strip()
    # CMS templates wrap scripts in comments/CDATA and leave trailing semicolons
    text = re.sub(r"^(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)", "", text).strip()
    text = re.sub(r"(?:-->|//\s*\]\]>|\]\]>)$", "", text).strip().rstrip(";")
    return json.loads(text, strict=False)  # strict=False: raw newlines inside strings are common


def _norm_url(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url.strip())
    return (parts.netloc.lower().removeprefix("www.") + parts.path.rstrip("/")).lower()


def _node_urls(node: dict[str, Any]) -> set[str]:
    urls = set()
    for key in ("url", "@id", "mainEntityOfPage"):
        value = node.get(key)
        if isinstance(value, dict):
            value = value.get("@id") or value.get("url")
        if isinstance(value, str):
            urls.add(_norm_url(value.split("#")[0]))
    return urls - {""}


def _node_value(node: dict[str, Any], key: str) -> str | None:
    for name, value in node.items():
        if isinstance(name, str) and name.lower() == key:
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, dict):  # {"@value": "...", "@type": "DateTime"}
                value = value.get("@value")
            if isinstance(value, int | float):
                value = str(int(value))
            return value if isinstance(value, str) else None
    return None


def _from_jsonld(tree: lxml.html.HtmlElement, page_urls: set[str]) -> tuple[PageDate | None, PageDate | None]:
    """Return (published-or-created, modified) from the article entity of the page."""
    ranked: list[tuple[tuple[int, int, int, int], dict[str, Any]]] = []
    fallback_texts: list[str] = []
    scripts = tree.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]')
    for script in scripts:
        text = script.text or ""
        try:
            data = _load_jsonld(text)
        except ValueError:
            fallback_texts.append(text)  # broken JSON: still worth a regex look below
            continue
        for node, depth in _walk(data):
            types = _types(node)
            is_article = any(_ARTICLE_TYPE.search(t) for t in types)
            if not is_article and not (_PAGE_TYPES & set(types)) and not (depth == 0 and not types):
                continue  # an ImageObject's or Organization's dates say nothing of the article
            # Rank: the entity about this very URL, then articles over pages, then the outermost
            # (related-article lists nest their own NewsArticle entries deeper).
            rank = (0 if _node_urls(node) & page_urls else 1, 0 if is_article else 1, depth, len(ranked))
            ranked.append((rank, node))
    ranked.sort(key=lambda item: item[0])

    published: PageDate | None = None
    for _, node in ranked:
        for key in _JSONLD_PUBLISHED:  # per entity: its datePublished, else its dateCreated
            value = _node_value(node, key)
            parsed = parse_date(value) if value else None
            if parsed is not None:
                published = PageDate(parsed, _JSONLD_NAMES[key])
                break
        if published is not None:
            break
    if published is None:
        for text in fallback_texts:
            match = _JSONLD_REGEX.search(text)
            parsed = parse_date(match[1]) if match else None
            if parsed is not None:
                published = PageDate(parsed, "jsonld")
                break

    modified: PageDate | None = None
    for _, node in ranked:
        value = _node_value(node, "datemodified")
        parsed = parse_date(value) if value else None
        if parsed is not None:
            modified = PageDate(parsed, "jsonld:dateModified")
            break
    return published, modified


# --------------------------------------------------------------------------------------------
# evidence 2: meta tags

# Ordered: specific publication tags first, the catch-all "date" last.
_META_PUBLISHED = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "article:published",
    "datePublished",
    "parsely-pub-date",
    "sailthru.date",
    "cXenseParse:recs:publishtime",
    "DC.date.issued",
    "dcterms.issued",
    "dcterms.created",
    "DC.date.created",
    "citation_publication_date",
    "citation_online_date",
    "citation_date",
    "prism.publicationDate",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "published_date",
    "published-date",
    "publication_date",
    "article.published",
    "article_date_original",
    "original-publish-date",
    "dc.date",
    "dcterms.date",
    "date",
)
_META_MODIFIED = (
    "article:modified_time",
    "og:updated_time",
    "og:modified_time",
    "dateModified",
    "dcterms.modified",
    "DC.date.modified",
    "last-modified",
    "lastmod",
)


def _meta_index(tree: lxml.html.HtmlElement) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for meta in tree.xpath("//meta[@content]"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        index.setdefault(key.strip().lower(), []).append(meta.get("content", ""))
    return index


def _from_meta(index: dict[str, list[str]], names: tuple[str, ...]) -> PageDate | None:
    for name in names:
        for value in index.get(name.lower(), ()):
            parsed = parse_date(value)
            if parsed is not None:
                return PageDate(parsed, f"meta:{name}")
    return None


def _from_itemprop(tree: lxml.html.HtmlElement) -> PageDate | None:
    # microdata outside <meta>: <time itemprop="datePublished" datetime="...">, <span itemprop=...>
    for elem in tree.xpath(f'//*[@itemprop="datePublished"][not(self::meta)][not({_OFF_ARTICLE})]'):
        for value in (elem.get("datetime"), elem.get("content"), elem.text_content()):
            parsed = parse_date(value) if value else None
            if parsed is not None:
                return PageDate(parsed, "itemprop:datePublished")
    return None


# --------------------------------------------------------------------------------------------
# evidence 3: <time> elements

_UPDATE_WORDS = re.compile(r"updat|modif|edited|revis|aktualisiert|mis à jour|actualiz|aggiornat", re.I)
_PUBLISHED_CLASS = re.compile(r"publish|pubdate|posted|entry-date|post-date|article-date|dateline", re.I)
# Parts of an article page that carry other stories' or readers' dates.
_CHROME = "ancestor::nav or ancestor::header or ancestor::aside or ancestor::footer"
_OFF_ARTICLE = (
    "ancestor::aside or ancestor::nav or ancestor::footer"
    ' or ancestor::*[contains(@class, "related") or contains(@class, "comment")'
    ' or contains(@class, "sidebar") or contains(@class, "recommend") or contains(@id, "comment")]'
)


_TIME_SCOPES = (
    f"(//article[.//h1][not({_CHROME})])[1]",
    f"(//article[not({_CHROME})])[1]",
    '(//main | //*[@role="main"])[1]',
)


def _label_before(elem: lxml.html.HtmlElement) -> str:
    """Text right before the element ("Updated: <time>"), plus its own class and text."""
    previous = elem.getprevious()
    if previous is not None:
        before = previous.tail or previous.text_content()
    else:
        parent = elem.getparent()
        before = (parent.text or "") if parent is not None else ""
    return f"{before[-40:]} {elem.get('class', '')} {elem.get('id', '')} {elem.text_content()[:60]}"


def _time_value(elem: lxml.html.HtmlElement) -> datetime | None:
    for value in (elem.get("datetime"), elem.get("title"), elem.text_content()):
        parsed = parse_date(value) if value else None
        if parsed is not None:
            return parsed
    return None


def _from_time(tree: lxml.html.HtmlElement) -> PageDate | None:
    # <time pubdate> is the (HTML5 draft) explicit publication marker
    for elem in tree.xpath(f"//time[@pubdate][not({_OFF_ARTICLE})]"):
        parsed = _time_value(elem)
        if parsed is not None:
            return PageDate(parsed, "time[pubdate]")
    # hAtom/WordPress: <time class="entry-date published" datetime=...>, <abbr class="published">
    for elem in tree.xpath(f"//*[self::time or self::abbr][@datetime or @title][not({_OFF_ARTICLE})]"):
        label = f"{elem.get('class', '')} {elem.get('itemprop', '')}"
        if _PUBLISHED_CLASS.search(label) and not _UPDATE_WORDS.search(label):
            parsed = _time_value(elem)
            if parsed is not None:
                return PageDate(parsed, "time.published")
    # The first <time> of the article holding the headline (else the first article outside menus,
    # else <main>): the byline comes first. The site header is left out on purpose: mastheads
    # show today's date, and mega-menus render teaser <article>s.
    for scope in _TIME_SCOPES:
        for elem in tree.xpath(f"{scope}//time[@datetime][not({_OFF_ARTICLE})]"):
            if _UPDATE_WORDS.search(_label_before(elem)):
                continue
            parsed = _time_value(elem)
            if parsed is not None:
                return PageDate(parsed, "time[datetime]")
    return None


# --------------------------------------------------------------------------------------------
# evidence 4: the URL

_YEAR = r"(?P<y>199\d|20\d\d)"
# /2026/02/03/, /2026-02-03/, /2026_2_3, .2026.02.03
_URL_SEPARATED = re.compile(
    rf"(?<![\d])(?P<lead>/?){_YEAR}(?P<sep>[/_.-])(?P<m>0?[1-9]|1[0-2])(?P=sep)(?P<d>0?[1-9]|[12]\d|3[01])(?![\d])"
)
# /20260203/, /20260203-slug, -20260203.html (exactly 8 digits, so article ids are not read)
_URL_COMPACT = re.compile(
    rf"(?<![\d])(?P<lead>/?){_YEAR}(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?![\d])"
)


def _url_day(url: str | None) -> tuple[date, bool] | None:
    """The day written in the URL path, and whether it opens a path segment (the strong form)."""
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for pattern in (_URL_SEPARATED, _URL_COMPACT):
        for match in pattern.finditer(path):
            if match.groupdict().get("sep") == "/" and path[match.end() : match.end() + 1] not in (
                "",
                "/",
                ".",
            ):
                # /2026/02/5-things-to-know/: a year/month permalink whose slug starts with a number
                continue
            try:
                day = date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                continue
            return day, bool(match["lead"])
    return None


def _page_urls(tree: lxml.html.HtmlElement, url: str) -> list[str]:
    """The fetched URL, then the canonical and og:url (feed links are often redirectors/AMP)."""
    found = tree.xpath('//link[translate(@rel, "CANONICAL", "canonical")="canonical"]/@href')
    found += tree.xpath('//meta[@property="og:url"]/@content')
    urls = [url] if url else []
    for candidate in found:
        with suppress(ValueError):  # malformed href: ignore it, the others may do
            urls.append(urljoin(url, str(candidate).strip()) if url else str(candidate).strip())
    return [u for u in urls if u]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# evidence 6: htmldate


def _from_htmldate(tree: lxml.html.HtmlElement, url: str) -> PageDate | None:  # url: for logs
    from htmldate import find_date

    try:
        # htmldate copies a tree it is given before pruning it, so the caller's tree is safe.
        # Its own max_date (today) only filters its text guesses; no clamping of ours happens.
        # url="" turns off its URL reading (and canonical probe): the URL was judged above, more
        # strictly (it would read /2026/02/5-things-to-know/ as 5 February).
        found = find_date(
            tree,
            extensive_search=True,
            original_date=True,
            outputformat="%Y-%m-%dT%H:%M:%S%z",
            url="",
        )
    except Exception:  # a heuristic fallback must never break extraction of the article
        LOGGER.debug("htmldate failed on %s", url, exc_info=True)
        return None
    parsed = parse_date(found) if found else None
    return PageDate(parsed, "htmldate") if parsed is not None else None


# --------------------------------------------------------------------------------------------
# the decision


def find_page_date(tree: lxml.html.HtmlElement, url: str) -> PageDate | None:
    """Best publication date of an article page, in UTC, with the evidence it came from."""
    urls = _page_urls(tree, url)
    page_urls = {_norm_url(u) for u in urls} - {""}

    jsonld_published, jsonld_modified = _from_jsonld(tree, page_urls)
    meta = _meta_index(tree)
    structured = (
        jsonld_published or _from_meta(meta, _META_PUBLISHED) or _from_itemprop(tree) or _from_time(tree)
    )

    url_days = [found for found in map(_url_day, urls) if found is not None]
    url_day = url_days[0] if url_days else None

    if structured is not None:
        if url_day is not None:
            day, strong = url_day
            if strong and abs(structured.value.date() - day) > URL_TOLERANCE:
                # The permalink day beats a disagreeing metadata date (see module docstring).
                return PageDate(_midnight(day), "url")
        return structured
    if url_day is not None:
        return PageDate(_midnight(url_day[0]), "url")

    modified = jsonld_modified or _from_meta(meta, _META_MODIFIED)
    if modified is not None:
        return modified
    return _from_htmldate(tree, url)


def resolve_published_at(
    feed_date: datetime | None, page_date: PageDate | None, fetched_at: datetime
) -> tuple[datetime | None, str]:
    """The stored publication time: the feed's when present, else the page's; UTC, never future.

    A feed date outside 1995..2100 (epoch-zero and 0001-01-01 placeholders of broken feeds) counts
    as absent. A date later than ``fetched_at`` (clock skew, time zones misdeclared, scheduled
    posts) is clamped to ``fetched_at``: nothing can be published after we read it.
    """
    fetched = _to_utc(fetched_at)
    feed = _plausible(feed_date)
    if feed is not None:
        value, source = feed, "feed"
    elif page_date is not None:
        value, source = _to_utc(page_date.value), f"page:{page_date.source}"
    else:
        return None, "none"
    return min(value, fetched), source


__all__ = ["PageDate", "find_page_date", "parse_date", "resolve_published_at"]
