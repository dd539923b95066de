"""Re-extract stored articles from their kept raw HTML, when the extractor improves. No refetch.

The page is the same version of the article, better read: the current version's text is replaced in
place (articles and article_versions), not stored as a new version, and facts read from the old text are
forgotten so the next pass reads them again. The page's publication date is read again too (a feed's date is
kept). It runs under the run lock, like a pass: both change articles.
Pages are read with a short read-only connection, extracted with no connection open, and written in a
short transaction per batch, so analysts and other readers are held for milliseconds, not minutes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from newsmon import progress
from newsmon.extract.article import EXTRACTOR_VERSION, ExtractionError, extract_article
from newsmon.extract.dates import resolve_published_at
from newsmon.settings import Settings
from newsmon.storage.db import open_reader, open_writer
from newsmon.storage.lock import exclusive_run
from newsmon.storage.pages import (
    NewText,
    PageDay,
    StoredPage,
    article_ids,
    current_pages,
    set_article_texts,
    set_page_dates,
)


@dataclass
class ReextractOutcome:
    pages: int = 0
    changed: int = 0
    failed: int = 0


def reextract_all(settings: Settings, *, batch_size: int = 500) -> ReextractOutcome:
    outcome = ReextractOutcome()
    with exclusive_run(settings.db, wait=settings.run_lock_wait, purpose="reextract"):
        with open_writer(settings.db, timeout=settings.lock_timeout) as con:  # migrates an old file first
            ids = article_ids(con)
        for start in range(0, len(ids), batch_size):
            with open_reader(settings.db, timeout=settings.lock_timeout) as con:
                pages = current_pages(con, ids[start : start + batch_size])
            changed, reread, days = _reextract(pages, outcome)
            with open_writer(settings.db, timeout=settings.lock_timeout) as con:
                set_article_texts(con, changed, reread, EXTRACTOR_VERSION)
                set_page_dates(con, days)
            progress.report("extracted", len(reread), total=len(ids))
            progress.report("failed", len(pages) - len(reread))
    return outcome


def _reextract(
    pages: list[StoredPage], outcome: ReextractOutcome
) -> tuple[list[NewText], list[str], list[PageDay]]:
    changed: list[NewText] = []
    reread: list[str] = []
    days: list[PageDay] = []
    for page in pages:
        outcome.pages += 1
        try:
            article = extract_article(zlib.decompress(page.html_zlib), page.url, page.charset)
        except (ExtractionError, zlib.error):
            outcome.failed += 1
            continue
        reread.append(page.article_id)
        # The same rule as ingest: the feed's date when there was one, else the page's, never after the fetch.
        days.append(PageDay(page.article_id, *resolve_published_at(page.feed_date, article.page_date, page.fetched_at)))
        if article.content_hash != page.content_hash:
            changed.append(NewText(page.article_id, page.version, article.title, article.text, article.content_hash))
    outcome.changed += len(changed)
    return changed, reread, days
