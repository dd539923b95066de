"""DuckDB storage: migrations, idempotent bulk writes, versions, and the spool for a locked file."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from newsmon.model import ArticleRecord, ItemRecord, WriteBatch
from newsmon.storage.db import DatabaseLocked, connect, kept_open, open_reader, open_writer, writer_session
from newsmon.storage.feeds import add_feeds, remove_feed
from newsmon.storage.schema import LATEST_VERSION, MIGRATIONS, current_version, migrate
from newsmon.storage.writes import pending_spool, write_batch

NOW = datetime(2026, 2, 3, 12, 0, tzinfo=UTC)


def article(text: str = "Body text of the article.", *, article_id: str = "a1", at: datetime = NOW) -> ArticleRecord:
    return ArticleRecord(
        article_id=article_id,
        url=f"http://x.org/{article_id}",
        canonical_url=f"http://x.org/{article_id}",
        feed_url="http://x.org/feed",
        source="x.org",
        title="Title",
        author=None,
        published_at=NOW,
        published_source="feed",
        language="en",
        description=None,
        text=text,
        content_hash=str(hash(text)),
        fetched_at=at,
        extractor_version="test",
        final_url=None,
        content_type="text/html",
        charset="utf-8",
        size=10,
        html_zlib=b"x",
    )


def item(key: str = "k1", status: str = "stored", article_id: str | None = "a1") -> ItemRecord:
    return ItemRecord(
        feed_url="http://x.org/feed",
        item_key=key,
        guid=key,
        link=f"http://x.org/{key}",
        title="T",
        published_at=NOW,
        updated_at=None,
        first_seen_at=NOW,
        last_seen_at=NOW,
        status=status,
        attempts=1,
        article_id=article_id,
    )


def count(db: Path, table: str) -> int:
    with open_reader(db) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_migrations_apply_once(db_path: Path) -> None:
    con = duckdb.connect(str(db_path))
    assert migrate(con) == [version for version, _, _ in MIGRATIONS]  # numbers are reserved per branch
    assert migrate(con) == []
    assert current_version(con) == LATEST_VERSION
    con.close()


def test_rewriting_a_batch_duplicates_nothing(db_path: Path) -> None:
    batch = WriteBatch(articles=[article(), article()], items=[item()])
    first = write_batch(db_path, batch, lock_timeout=0)
    again = write_batch(db_path, batch, lock_timeout=0)
    assert (first.articles_new, again.articles_new, again.articles_unchanged) == (1, 0, 1)
    assert count(db_path, "articles") == 1
    assert count(db_path, "article_versions") == 1
    assert count(db_path, "pages") == 1
    assert count(db_path, "items") == 1


def test_changed_text_is_a_new_version_of_the_same_article(db_path: Path) -> None:
    write_batch(db_path, WriteBatch(articles=[article("First text.")]), lock_timeout=0)
    later = NOW + timedelta(hours=2)
    outcome = write_batch(db_path, WriteBatch(articles=[article("Corrected text.", at=later)]), lock_timeout=0)
    assert outcome.articles_updated == 1
    with open_reader(db_path) as con:
        rows = con.execute("SELECT version, text FROM article_versions ORDER BY version").fetchall()
        current = con.execute("SELECT version, text, updated_at FROM articles").fetchall()
    assert rows == [(1, "First text."), (2, "Corrected text.")]
    assert current[0][:2] == (2, "Corrected text.") and current[0][2] == later


def test_feeds_add_is_idempotent_and_remove_keeps_articles(db_path: Path) -> None:
    with open_writer(db_path) as con:
        assert add_feeds(con, [("http://a/f", None), ("http://a/f", None)], now=NOW, interval=900) == ["http://a/f"]
        assert add_feeds(con, [("http://a/f", "A")], now=NOW, interval=900) == []
    write_batch(db_path, WriteBatch(articles=[article()]), lock_timeout=0)
    with open_writer(db_path) as con:
        assert remove_feed(con, "http://a/f") is True
        assert remove_feed(con, "http://a/f") is False
    assert count(db_path, "articles") == 1


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SELECT count(*) FROM articles").fetchall()
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_read_only(db: Path, seconds: float) -> subprocess.Popen[str]:
    """An analyst in another process with the file open read-only."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_locked_database_spools_then_merges(db_path: Path) -> None:
    write_batch(db_path, WriteBatch(articles=[article(article_id="a0")]), lock_timeout=0)
    analyst = hold_read_only(db_path, 30)
    try:
        with pytest.raises(DatabaseLocked):
            connect(db_path, timeout=0.2)
        outcome = write_batch(
            db_path, WriteBatch(articles=[article(article_id="a1")], items=[item()]), lock_timeout=0.3
        )
        assert outcome.spooled
        assert len(pending_spool(db_path)) == 1
        # Readers still work alongside the analyst, and see the committed data.
        assert count(db_path, "articles") == 1
    finally:
        analyst.kill()
        analyst.wait()
    time.sleep(0.1)
    outcome = write_batch(db_path, WriteBatch(articles=[article(article_id="a2")]), lock_timeout=5)
    assert outcome.spool_batches_merged == 1 and not outcome.spooled
    assert pending_spool(db_path) == []
    with open_reader(db_path) as con:
        ids = [r[0] for r in con.execute("SELECT article_id FROM articles ORDER BY 1").fetchall()]
    assert ids == ["a0", "a1", "a2"]
    assert count(db_path, "items") == 1


def other_process_can_read(db: Path) -> bool:
    probe = "import sys, duckdb; duckdb.connect(sys.argv[1], read_only=True).close()"
    return subprocess.run([sys.executable, "-c", probe, str(db)], capture_output=True).returncode == 0


def test_a_writer_session_opens_the_file_once_and_closes_it_at_its_end(db_path: Path) -> None:
    write_batch(db_path, WriteBatch(articles=[article(article_id="a0")]), lock_timeout=0)
    with writer_session(db_path):
        write_batch(db_path, WriteBatch(articles=[article(article_id="a1")]), lock_timeout=0)
        with open_writer(db_path) as first, open_writer(db_path) as second:
            # Two connections (transactions apart) on one open database, not two opens of the file.
            first.execute("CREATE TEMP TABLE mine AS SELECT 1 AS x")
            assert second.execute("SELECT count(*) FROM articles").fetchall() == [(2,)]
        with open_reader(db_path) as con:  # the session's connection, though the process holds the file read-write
            assert con.execute("SELECT count(*) FROM articles").fetchall() == [(2,)]
        # Held between the session's writes: an analyst waits for the session, not for each write.
        assert not other_process_can_read(db_path)
    assert other_process_can_read(db_path)
    assert count(db_path, "articles") == 2


def memory_limit(db: Path) -> str:
    with open_reader(db) as con:
        return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


def test_kept_open_lets_the_next_session_reuse_the_open_file_and_frees_it_when_writes_pause(db_path: Path) -> None:
    write_batch(db_path, WriteBatch(articles=[article(article_id="a0")]), lock_timeout=0)
    # Long enough that a loaded CI machine starts the probe's Python within it (0.5 s was not, once).
    with kept_open(db_path, 5.0):
        with writer_session(db_path):
            with open_writer(db_path) as con:
                # A setting of the open database, not of the file: gone once the file is closed and opened again.
                con.execute("SET GLOBAL memory_limit = '321MB'")
            ours = memory_limit(db_path)
        assert not other_process_can_read(db_path)  # kept open for the next batch
        with writer_session(db_path):
            write_batch(db_path, WriteBatch(articles=[article(article_id="a1")]), lock_timeout=0)
            assert memory_limit(db_path) == ours  # the same open file
        deadline = time.monotonic() + 30
        while not other_process_can_read(db_path):  # no write for 5 s: another process gets the file
            assert time.monotonic() < deadline
        with writer_session(db_path):
            assert memory_limit(db_path) != ours  # opened again
    assert other_process_can_read(db_path)  # the block's end closes the file at once
    assert count(db_path, "articles") == 2


def test_a_writer_session_spools_while_an_analyst_holds_the_file(db_path: Path) -> None:
    write_batch(db_path, WriteBatch(articles=[article(article_id="a0")]), lock_timeout=0)
    analyst = hold_read_only(db_path, 30)
    try:
        with writer_session(db_path):
            assert count(db_path, "articles") == 1  # read beside the analyst, as any reader does
            outcome = write_batch(db_path, WriteBatch(articles=[article(article_id="a1")]), lock_timeout=0.3)
            assert outcome.spooled
    finally:
        analyst.kill()
        analyst.wait()
    time.sleep(0.1)
    with writer_session(db_path):
        assert write_batch(db_path, WriteBatch(articles=[article(article_id="a2")]), lock_timeout=5) \
            .spool_batches_merged == 1
    assert count(db_path, "articles") == 3
