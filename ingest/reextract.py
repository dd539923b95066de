"""Re-extract stored articles from their kept raw HTML, when the extractor improves. No refetch.

The page is the same version of the article, better read: the current version's text is replaced in
place (articles and article_versions), not stored as a new version.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import pyarrow as pa

from newsmon.extract.article import EXTRACTOR_VERSION, ExtractionError, extract_article
from newsmon.settings import Settings
from newsmon.storage.db import open_writer


@dataclass
class ReextractOutcome:
    pages: int = 0
    changed: int = 0
    failed: int = 0


def reextract_all(settings: Settings, *, batch_size: int = 500) -> ReextractOutcome:
    outcome = ReextractOutcome()
    with open_writer(settings.db, timeout=settings.lock_timeout) as con:
        ids = [r[0] for r in con.execute("SELECT article_id FROM articles ORDER BY article_id").fetchall()]
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            rows = con.execute(
                """
                SELECT a.article_id, a.content_hash, p.html_zlib, coalesce(p.final_url, p.url), p.charset,
                       a.version
                FROM articles a JOIN pages p ON p.article_id = a.article_id AND p.version = a.version
                WHERE a.article_id IN (SELECT unnest(?::VARCHAR[]))
                """,
                [chunk],
            ).fetchall()
            updates: dict[str, list[object]] = {
                "article_id": [], "version": [], "text": [], "title": [], "content_hash": [],
            }
            for article_id, old_hash, html_zlib, url, charset, version in rows:
                outcome.pages += 1
                try:
                    article = extract_article(zlib.decompress(html_zlib), url, charset)
                except (ExtractionError, zlib.error):
                    outcome.failed += 1
                    continue
                if article.content_hash == old_hash:
                    continue
                outcome.changed += 1
                for key, value in (
                    ("article_id", article_id), ("version", version), ("text", article.text),
                    ("title", article.title), ("content_hash", article.content_hash),
                ):
                    updates[key].append(value)
            _apply(con, updates)
        con.execute("UPDATE articles SET extractor_version = ?", [EXTRACTOR_VERSION])
    return outcome


def _apply(con: object, updates: dict[str, list[object]]) -> None:
    if not updates["article_id"]:
        return
    con.register("reextracted", pa.table(updates))  # type: ignore[attr-defined]
    con.execute("BEGIN TRANSACTION")  # type: ignore[attr-defined]
    con.execute(  # type: ignore[attr-defined]
        """
        UPDATE articles SET text = r.text, title = coalesce(r.title, articles.title),
               content_hash = r.content_hash
        FROM reextracted r WHERE articles.article_id = r.article_id
        """
    )
    con.execute(  # type: ignore[attr-defined]
        """
        UPDATE article_versions SET text = r.text, title = coalesce(r.title, article_versions.title),
               content_hash = r.content_hash
        FROM reextracted r
        WHERE article_versions.article_id = r.article_id AND article_versions.version = r.version
        """
    )
    con.execute("COMMIT")  # type: ignore[attr-defined]
    con.unregister("reextracted")  # type: ignore[attr-defined]
