"""Page bytes → article record: main text and metadata, with trafilatura doing the extraction."""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import charset_normalizer
import lxml.html

from newsmon.errors import PageError
from newsmon.extract.dates import PageDate, find_page_date
from newsmon.extract.urls import canonical_url, host_of

if TYPE_CHECKING:
    from trafilatura.settings import Document

EXTRACTOR_VERSION = f"trafilatura-{version('trafilatura')}/newsmon-1"

_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_MIN_TEXT_CHARS = 40
# A page's time zone abbreviation that dateutil does not know ("PST", "CST") made each worker print a warning per
# page on the user's terminal; the day is read all the same.
warnings.filterwarnings("ignore", message=r"tzname \w+ identified but not understood")


class ExtractionError(PageError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ExtractedArticle:
    title: str | None
    author: str | None
    text: str
    language: str | None
    canonical_url: str
    page_date: PageDate | None
    description: str | None
    sitename: str | None

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)


def content_hash(text: str) -> str:
    """Hash of the normalised text: equal for copies that differ only in spacing, case or accents' form."""
    normal = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


def decode_html(body: bytes, declared_charset: str | None = None) -> str:
    """Decode a page, trusting the bytes over the label.

    Servers often label UTF-8 pages as ISO-8859-1 and vice versa. Strict UTF-8 almost never succeeds on
    text that is not UTF-8, so it goes first; then the HTTP label, the <meta> label, and detection.
    """
    if b"\x00" in body[:2048] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError("binary_body", "body is binary, not HTML")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    meta = _META_CHARSET.search(body[:4096])
    labels = [declared_charset, meta.group(1).decode("ascii") if meta else None]
    for label in labels:
        if not label:
            continue
        try:
            return body.decode(label)
        except (LookupError, UnicodeDecodeError):
            continue
    best = charset_normalizer.from_bytes(body[:262144]).best()
    if best is not None:
        return body.decode(best.encoding, errors="replace")
    return body.decode("cp1252", errors="replace")


def extract_article(
    body: bytes, url: str, declared_charset: str | None = None, *, read_date: bool = True
) -> ExtractedArticle:
    """Extract one page fetched from `url` (the final URL after redirects). `read_date=False` when the feed's date
    wins anyway (`feed_date_wins`): the page's day (~2 ms of a page's ~16 ms) is then not read."""
    # Imported here: the flow process, which only needs this module's records, is 22 MiB lighter without it.
    import trafilatura
    from trafilatura.utils import load_html

    html = decode_html(body, declared_charset)
    # trafilatura's own loader: it repairs common breakage and drops comments as its extractor expects.
    tree = load_html(html)
    if tree is None:
        raise ExtractionError("unparseable_html", "cannot parse the page as HTML")
    # Read what trafilatura does not give us before it prunes the tree.
    canonical = _canonical(tree, url)
    language = _language(tree)
    page_date = find_page_date(tree, url) if read_date else None
    metadata = page_metadata(tree, url)
    document = trafilatura.bare_extraction(tree, url=url, include_comments=False, include_tables=True)
    if document is None or not document.text or len(document.text.strip()) < _MIN_TEXT_CHARS:
        raise ExtractionError("no_text", "no article text found on the page")
    text = document.text.strip()
    title = metadata.title
    # trafilatura keeps the <h1> as the first line; the title has its own column.
    first, _, rest = text.partition("\n")
    if title and rest and first.strip() == title.strip():
        text = rest.strip()
    return ExtractedArticle(
        title=title,
        author=metadata.author,
        text=text,
        language=language,
        canonical_url=canonical,
        page_date=page_date,
        description=metadata.description,
        sitename=metadata.sitename,
    )


def page_metadata(tree: lxml.html.HtmlElement, url: str) -> Document:
    """The page's title, author, description and site name, as trafilatura's `extract_metadata` finds them (its
    steps for these fields, in its order), read before extraction prunes the tree.

    `bare_extraction(with_metadata=True)` also searches categories, tags, a licence and a date, which newsmon does
    not store (the date is extract/dates.py's): 3.5 of its 5.5 ms a page, ~11% of a page's extraction (600 pages
    of the ingest bench; `tests/test_article_extract.py` checks these fields equal to trafilatura's on real pages)."""
    from trafilatura.metadata import (
        META_URL,
        examine_meta,
        extract_author,
        extract_meta_json,
        extract_sitename,
        extract_title,
        extract_url,
    )

    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    with contextlib.suppress(Exception):  # as trafilatura: a bug in its JSON-LD reader loses that source only
        metadata = extract_meta_json(tree, metadata)
    metadata.title = metadata.title or extract_title(tree)
    metadata.author = metadata.author or extract_author(tree)
    metadata.url = metadata.url or extract_url(tree, url)
    metadata.sitename = metadata.sitename or extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")  # a Twitter handle
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url and (host := META_URL.match(metadata.url)):
        metadata.sitename = host[1]
    metadata.clean_and_trim()
    return metadata


def _canonical(tree: lxml.html.HtmlElement, url: str) -> str:
    """The page's own canonical URL when it stays on the same site, else the URL it was fetched from.

    A canonical pointing to another site (syndicated copies do this) would merge two outlets' articles
    into one; story clustering is what relates them.
    """
    candidates = tree.xpath('//link[@rel="canonical"]/@href') + tree.xpath('//meta[@property="og:url"]/@content')
    site = _site(host_of(url))
    for candidate in candidates:
        absolute = urljoin(url, str(candidate).strip())
        if absolute.startswith(("http://", "https://")) and _site(host_of(absolute)) == site:
            return canonical_url(absolute)
    return canonical_url(url)


def _site(host: str) -> str:
    return host.removeprefix("www.")


def _language(tree: lxml.html.HtmlElement) -> str | None:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not lang:
        metas = tree.xpath('//meta[@http-equiv="content-language"]/@content')
        lang = str(metas[0]) if metas else None
    if not lang:
        return None
    primary = lang.strip().split(",")[0].split("-")[0].split("_")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None
