"""Publication date of an article page, from the page alone (pure: no network, no database).

htmldate decides (extensive search, original rather than updated date, 1995..today), reading the canonical
link as the issue's baseline does. Our rules around it, each measured by `python bench/dates.py --ablation`
(real pages: 60 from htmldate's and newspaper4k's test suites; written: 300 BASIL + 140 PolNeAR pages):

1. htmldate reads a copy of the page without its chrome first (menus; the site's header, footer and asides;
   comment, "related", sidebar and widget blocks; a `<time>` labelled as an update; an http-equiv
   last-modified), keeping whatever holds the headline or most of the text; when the copy gives nothing sure,
   the whole page (source `page`). Written pages (BASIL / PolNeAR) 0.893 / 0.907 with the copy, 0.727 / 0.679
   without; real pages 1.000 either way. The retry on the whole page keeps newsmon at htmldate's level on
   real pages (1.000; 0.983 without it), at the cost of a `page` day on written pages whose only days are
   other articles' or the masthead's (0.970 / 0.993 without the retry).
2. A first-of-the-month answer at midnight that htmldate's fast mode does not confirm is a guess from a
   year or a month alone (a copyright line, an archive menu): not taken from the copy (real pages 0.983,
   written 0.817 / 0.721 without the rule); on the whole page only a copyright year's 1 January goes.
3. When the copy gives nothing sure, dateparser reads a wire dateline opening the text ("WASHINGTON, Jan. 18,
   2016 —", which htmldate does not parse) and, on a page in another language than English, the byline in
   that language (htmldate knows English and German month names only): the earliest day stated. Written
   pages 0.830 / 0.757 without it.

The day kept is the one the page states, stored at 00:00 UTC: an article belongs to the day its outlet
printed (newspaper4k's nikkei.com page says 19 June 05:50 +09:00: the 18th in UTC, the 19th in Tokyo).

The evidence of the chosen day (`PageDate.source`) is named after the markup that states it: `json-ld`,
`meta`, `time`, `url`, else `htmldate` (a day htmldate read from the text: byline, headline, free text);
`byline` is rule 3's; `page` a day read only outside the article's own parts (weakest).
"""

from __future__ import annotations

import logging
import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime

import lxml.html
from htmldate import find_date
from htmldate.extractors import COMPLETE_URL  # htmldate's own test for a day in a URL

LOGGER = logging.getLogger(__name__)

# Nothing on the news web predates 1995; epoch-zero (1970) and 0001-01-01 placeholders fall out.
MIN_DATE = datetime(1995, 1, 1, tzinfo=UTC)
_FORMAT = "%Y-%m-%dT%H:%M:%S"  # the page's own wall clock: its day is the one kept

# Page parts whose days belong to something else. The site's <header>/<footer>/<aside> only: an article's own
# hold its byline (WordPress writes "Posted on" in <footer class="entry-meta">, ebene11.com its day in an
# <aside>), and nothing that holds the headline (<h1>) or most of the page's text goes, whatever it is called
# (Blogger puts the post in <div class="widget Blog">, some themes in <div class="sidebar_content">).
_CHROME_TAGS = "//nav | //*[self::header or self::footer or self::aside][not(ancestor::article)]"
_CHROME_WORDS = re.compile(
    r"^(?:comments?|related|sidebar|widgets?|most-read|popular|recommended|masthead)(?:$|[-_])", re.IGNORECASE
)
_KEEP = frozenset({"html", "body", "main", "article"})
_UPDATE_LABEL = re.compile(
    r"(?:updated?|modified|edited|revised|mis à jour|modifié|aktualisiert|actualizado|aggiornato|bijgewerkt"
    r"|atualizado)\W*$",
    re.IGNORECASE,
)
# Where a page writes its byline: class, id or itemprop words (rule 3); short texts only.
_BYLINE_WORDS = re.compile(r"byline|date|time|meta|publi|posted|dateline|info", re.IGNORECASE)
_BYLINE_MAX_CHARS = 200
# A wire dateline: place (agency), date, dash, at the start of one of the first paragraphs.
_DATELINE = re.compile(r"[A-ZÀ-Ý][\w .'’/-]{1,40}(?:\([^)]{1,30}\))?,\s*([^—–]{6,40}?)\s*(?:—|–|--)")
_DATELINE_PARAGRAPHS = 3
_YEAR = re.compile(r"(?<!\d)(?:199\d|20\d\d)(?!\d)")  # dateparser is slow: only texts holding a year go to it


@dataclass(frozen=True, slots=True)
class PageDate:
    value: datetime  # the page's day at 00:00, timezone-aware UTC
    source: str  # the evidence: json-ld | meta | time | url | htmldate | byline | page


def find_page_date(tree: lxml.html.HtmlElement, url: str) -> PageDate | None:
    """The publication day an article page states, with the evidence it came from."""
    # The fetched URL only when it states a day: given any URL, htmldate stops reading the canonical link,
    # whose permalink day was right on real pages (befifty.de: 2017-07-12 from it, 2019-06-17 without).
    day_url = url if COMPLETE_URL.search(url) else None
    article = _without_chrome(tree)
    found = _htmldate_sure(article, day_url)
    if found is not None:
        return PageDate(_day(found), _evidence(tree, url, found.date().isoformat()))
    written = _written_day(article)
    if written is not None:
        return PageDate(_day(written), "byline")
    found = _whole_page(tree, day_url)
    return PageDate(_day(found), "page") if found is not None else None


def _whole_page(tree: lxml.html.HtmlElement, url: str | None) -> datetime | None:
    """Rule 1's retry: htmldate on the whole page, for what the copy without chrome lost.

    Only a copyright year's 1 January goes here (rule 2): on a page that has a date, dropping htmldate's last
    answer can never give the right day, and a month's first may be one.
    """
    found = _htmldate(tree, url, extensive=True)
    return None if found is None or (found.month == 1 and _is_guess(found, tree, url)) else found


def _htmldate_sure(tree: lxml.html.HtmlElement, url: str | None) -> datetime | None:
    found = _htmldate(tree, url, extensive=True)
    return None if found is None or _is_guess(found, tree, url) else found


def _is_guess(found: datetime, tree: lxml.html.HtmlElement, url: str | None) -> bool:
    """A first of the month at midnight that the fast mode does not confirm: from a year or a month alone (rule 2)."""
    midnight = (found.hour, found.minute, found.second) == (0, 0, 0)
    return found.day == 1 and midnight and _htmldate(tree, url, extensive=False) != found


def _htmldate(tree: lxml.html.HtmlElement, url: str | None, *, extensive: bool) -> datetime | None:
    """htmldate's answer in the page's own wall-clock time (naive)."""
    try:
        # htmldate copies a tree it is given before pruning it, so ours is left intact.
        found = find_date(
            tree,
            extensive_search=extensive,
            original_date=True,
            outputformat=_FORMAT,
            url=url,
            min_date=MIN_DATE.replace(tzinfo=None),
            max_date=datetime.now(UTC).replace(tzinfo=None),
        )
    except Exception:  # a heuristic must never break extraction of the article
        LOGGER.debug("htmldate failed", exc_info=True)
        return None
    return datetime.fromisoformat(found) if found else None


def _without_chrome(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """A copy of the page without the parts that carry other things' dates (rule 1)."""
    copy = deepcopy(tree)
    text_chars = _paragraph_chars(copy)
    doomed = [elem for elem in copy.xpath(_CHROME_TAGS) if not _holds_the_article(elem, text_chars)]
    for elem in copy.xpath("//body//*[@class or @id]"):
        tokens = f"{elem.get('class', '')} {elem.get('id', '')}".split()
        if (elem.tag not in _KEEP and any(_CHROME_WORDS.match(token) for token in tokens)
                and not _holds_the_article(elem, text_chars)):
            doomed.append(elem)
    times = copy.xpath("//time")
    updates = [elem for elem in times if _UPDATE_LABEL.search(_text_before(elem))]
    if len(updates) < len(times):
        doomed += updates
    # a server's last-modified header copied into the page: htmldate takes it even for the original date
    doomed += copy.xpath("//meta[translate(@http-equiv, 'LASTMODIFED', 'lastmodifed') = 'last-modified']")
    for elem in doomed:
        parent = elem.getparent()
        if parent is not None:
            parent.remove(elem)  # tails go too: a label's text is part of the chrome around it
    return copy


def _paragraph_chars(elem: lxml.html.HtmlElement) -> int:
    return sum(len(p.text_content()) for p in elem.iter("p"))


def _holds_the_article(elem: lxml.html.HtmlElement, page_chars: int) -> bool:
    return bool(elem.xpath(".//h1")) or 2 * _paragraph_chars(elem) > page_chars


def _text_before(elem: lxml.html.HtmlElement) -> str:
    previous = elem.getprevious()
    if previous is not None:
        return previous.tail or ""
    parent = elem.getparent()
    return (parent.text or "") if parent is not None else ""


def _written_day(article: lxml.html.HtmlElement) -> date | None:
    """The earliest full date of the dateline, or of the byline on a page not in English, by dateparser (rule 3)."""
    lang = (article.get("lang") or "en").split("-")[0].lower() or "en"
    datelines = _datelines(article)
    bylines = _bylines(article) if lang != "en" else []
    if not datelines and not bylines:
        return None
    import dateparser  # slow to import; only this fallback needs it
    from dateparser.search import search_dates

    settings = {"REQUIRE_PARTS": ["day", "month", "year"], "PREFER_DATES_FROM": "past"}
    found = []
    for text, is_dateline in [(t, True) for t in datelines] + [(t, False) for t in bylines]:
        try:
            # a dateline's date is the whole text (search_dates splits "Jan. 18, 2016"); a byline's is in it
            if is_dateline:
                found.append(dateparser.parse(text, languages=[lang], settings=settings))
            else:
                found += [value for _, value in search_dates(text, languages=[lang], settings=settings) or []]
        except Exception:  # dateparser raises assorted errors on odd input; a guess is not worth a crash
            LOGGER.debug("dateparser failed on %r", text, exc_info=True)
    now = datetime.now(UTC).replace(tzinfo=None)
    return min((v.date() for v in found if v is not None and MIN_DATE.replace(tzinfo=None) <= v <= now), default=None)


def _bylines(article: lxml.html.HtmlElement) -> list[str]:
    texts = []
    for elem in article.xpath("//body//*[@class or @id or @itemprop]"):
        label = f"{elem.get('class', '')} {elem.get('id', '')} {elem.get('itemprop', '')}"
        text = " ".join(elem.text_content().split())
        if _BYLINE_WORDS.search(label) and len(text) <= _BYLINE_MAX_CHARS and _YEAR.search(text):
            texts.append(text)
    return texts


def _datelines(article: lxml.html.HtmlElement) -> list[str]:
    """The date of a wire dateline opening the first paragraphs ("WASHINGTON, Jan. 18, 2016 — ...")."""
    opening = [" ".join(p.text_content().split()) for p in article.xpath("//body//p")[:_DATELINE_PARAGRAPHS]]
    return [m.group(1) for m in map(_DATELINE.match, opening) if m and _YEAR.search(m.group(1))]


def _day(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _to_utc(value: datetime) -> datetime:
    """Naive values are taken as UTC (what the spec of most meta tags implies)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _evidence(tree: lxml.html.HtmlElement, url: str, day: str) -> str:
    """Which markup states `day` (YYYY-MM-DD, the page's own day), strongest first."""
    compact = day.replace("-", "")
    scripts = " ".join(s.text or "" for s in tree.xpath('//script[contains(@type, "ld+json")]'))
    if re.search(rf'"date(?:Published|Created)"\s*:\s*"{day}', scripts):
        return "json-ld"
    if any(value.startswith((day, compact)) for value in tree.xpath("//meta/@content")):
        return "meta"
    if any(value.startswith(day) for value in tree.xpath("//time/@datetime | //*[@itemprop]/@datetime")):
        return "time"
    urls = [url, *tree.xpath('//link[@rel="canonical"]/@href')]
    if any(day in str(u) or day.replace("-", "/") in str(u) for u in urls if u):
        return "url"
    return "htmldate"


def feed_date_wins(feed_date: datetime | None) -> bool:
    """The feed's date is the one stored, whatever the page says: a page's day is then not worth reading."""
    return feed_date is not None and _to_utc(feed_date) >= MIN_DATE


def resolve_published_at(
    feed_date: datetime | None, page_date: PageDate | None, fetched_at: datetime
) -> tuple[datetime | None, str]:
    """The stored publication time and its evidence: the feed's when present, else the page's; UTC, never future.

    A feed date before 1995 (epoch-zero and 0001-01-01 placeholders of broken feeds) counts as absent. A date
    later than ``fetched_at`` (clock skew, time zones misdeclared, scheduled posts) is clamped to ``fetched_at``:
    nothing can be published after we read it. Without either date nothing is stored (source ``none``).
    """
    fetched = _to_utc(fetched_at)
    if feed_date is not None and feed_date_wins(feed_date):
        value, source = _to_utc(feed_date), "feed"
    elif page_date is not None:
        value, source = page_date.value, page_date.source
    else:
        return None, "none"
    return min(value, fetched), source


__all__ = ["PageDate", "feed_date_wins", "find_page_date", "resolve_published_at"]
