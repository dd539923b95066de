"""The CLI as a user runs it: feeds verbs, OPML import, query formats, the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsmon.cli import cli
from tests.site import Route, Site

OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>Subscriptions</title></head><body>
<outline text="World"><outline text="A" title="Feed A" type="rss" xmlUrl="{a}"/></outline>
<outline text="B" type="rss" xmlUrl="{b}"/><outline text="bad" xmlUrl="javascript:x"/></body></opml>"""


def newsmon(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj={}, env=env, catch_exceptions=False)


def test_feeds_add_list_remove(db_path: Path) -> None:
    db = str(db_path)
    result = newsmon("--db", db, "feeds", "add", "http://a.example/rss", "https://b.example/atom.xml")
    assert result.exit_code == 0 and "added 2 feeds" in result.output
    again = newsmon("--db", db, "feeds", "add", "http://a.example/rss")
    assert "added 0 feeds, 1 already present" in again.output
    bad = newsmon("--db", db, "feeds", "add", "javascript:alert(1)")
    assert bad.exit_code == 1

    listed = json.loads(newsmon("--db", db, "feeds", "list", "--format", "json").output)
    assert [(f["url"], f["health"]) for f in listed] == [
        ("http://a.example/rss", "new"),
        ("https://b.example/atom.xml", "new"),
    ]
    assert newsmon("--db", db, "feeds", "remove", "http://a.example/rss").exit_code == 0
    missing = newsmon("--db", db, "feeds", "remove", "http://a.example/rss")
    assert missing.exit_code == 1 and "no such feed" in missing.output
    assert len(json.loads(newsmon("--db", db, "feeds", "list", "--format", "json").output)) == 1


def test_db_from_environment(tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    result = newsmon("feeds", "add", "http://a.example/rss", env={"NEWSMON_DB": str(db)})
    assert result.exit_code == 0 and db.exists()


def test_import_opml_from_file_and_url(db_path: Path, tmp_path: Path) -> None:
    opml = OPML.format(a="http://a.example/rss", b="http://b.example/rss")
    path = tmp_path / "subs.opml"
    path.write_text(opml)
    result = newsmon("--db", str(db_path), "feeds", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "added 2 feeds" in result.output and "skipped an outline" in result.output
    with Site() as site:
        url = site.add(
            "/subs.opml",
            Route(
                body=OPML.format(a="http://c.example/rss", b="http://a.example/rss").encode(),
                content_type="text/x-opml",
            ),
        )
        result = newsmon("--db", str(db_path), "feeds", "import", url)
    assert "added 1 feed, 1 already present" in result.output
    titles = json.loads(
        newsmon("--db", str(db_path), "query", "--format", "json", "SELECT url, title FROM feeds ORDER BY url").output
    )
    assert titles[0] == {"url": "http://a.example/rss", "title": "Feed A"}


def test_query_formats_and_read_only(db_path: Path) -> None:
    newsmon("--db", str(db_path), "feeds", "add", "http://a.example/rss")
    sql = "SELECT url, poll_interval_s, added_at FROM feeds"
    rows = json.loads(newsmon("--db", str(db_path), "query", "--format", "json", sql).output)
    assert rows[0]["url"] == "http://a.example/rss" and rows[0]["poll_interval_s"] == 900
    assert rows[0]["added_at"].endswith("+00:00")
    csv_out = newsmon("--db", str(db_path), "query", "--format", "csv", "SELECT url FROM feeds").output
    assert csv_out.splitlines() == ["url", "http://a.example/rss"]
    table = newsmon("--db", str(db_path), "query", "SELECT url FROM feeds").output
    assert "http://a.example/rss" in table and "1 row" in table
    write = newsmon("--db", str(db_path), "query", "DELETE FROM feeds")
    assert write.exit_code == 1 and "read-only" in write.output.lower()
    assert json.loads(
        newsmon("--db", str(db_path), "query", "--format", "json", "SELECT count(*) AS n FROM feeds").output
    ) == [{"n": 1}]


def test_console_script_is_installed() -> None:
    out = subprocess.run([Path(sys.executable).with_name("newsmon"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for verb in ("demo", "feeds", "run", "query", "reextract"):
        assert verb in out.stdout


@pytest.mark.usefixtures("prefect_harness")
def test_demo_ingests_the_bundled_sites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = newsmon("demo")
    assert result.exit_code == 0, result.output
    assert "articles: 22 new, 0 updated, 0 failed" in result.output
    assert "feeds: 6 polled, 6 not modified, 0 failed" in result.output
    assert "Turkish defence and aerospace exports see unprecedented increase in January" in result.output
    told = result.output.split("Stories told by several outlets")[1]
    january = next(line for line in told.splitlines() if "export" in line.lower() and "[2 outlets]" in line)
    facts = told.splitlines()[told.splitlines().index(january) + 1]
    assert "$555 million" in facts or "$555.3 million" in facts
    db = tmp_path / "newsmon-demo.duckdb"
    rows = json.loads(
        newsmon(
            "--db", str(db), "query", "--format", "json", "SELECT title, text FROM articles WHERE text LIKE '%555%'"
        ).output
    )
    texts = {r["title"]: r["text"] for r in rows}
    assert len(texts) == 2
    seed = next(t for title, t in texts.items() if title.startswith("Turkish defence"))
    assert "Gorgun" in seed and "Aomori" not in seed and "Kazakhstan" not in seed
    # Running it again starts over instead of piling up a second copy.
    assert newsmon("demo").exit_code == 0
    count = json.loads(
        newsmon("--db", str(db), "query", "--format", "json", "SELECT count(*) AS n FROM articles").output
    )
    assert count == [{"n": 22}]


def test_demo_refuses_to_overwrite_a_real_database(db_path: Path) -> None:
    newsmon("--db", str(db_path), "feeds", "add", "https://real.example/rss")
    result = newsmon("--db", str(db_path), "demo")
    assert result.exit_code == 1 and "not a demo database" in result.output


def test_a_database_held_by_another_process_is_a_clear_error(db_path: Path) -> None:
    newsmon("--db", str(db_path), "feeds", "add", "http://a.example/rss")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)",
         str(db_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = newsmon("--db", str(db_path), "feeds", "add", "http://b.example/rss", env={"NEWSMON_LOCK_TIMEOUT": "0.5"})
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "is in use by another process" in result.output and "read-only" in result.output


ARENAS = """
import ctypes, sys, threading
if sys.argv[1] == "limit":
    from newsmon.cli import limit_malloc_arenas
    limit_malloc_arenas()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def churn():
    for _ in range(20000):  # ctypes calls run without the GIL: the threads meet in malloc
        libc.free(libc.malloc(1024))
threads = [threading.Thread(target=churn) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc.malloc_stats()  # one "Arena N:" block per heap, on stderr
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_command_keeps_to_two_malloc_heaps_however_many_threads() -> None:
    """Each thread would get a glibc heap of its own (~38 MiB more at a pass's peak): the CLI limits them to two,
    unless MALLOC_ARENA_MAX says otherwise."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}

    def heaps(mode: str) -> int:
        run = subprocess.run([sys.executable, "-c", ARENAS, mode], env=env, capture_output=True, text=True, check=True)
        return run.stderr.count("Arena ")

    assert heaps("default") > 2  # without the limit, the threads got heaps of their own
    assert heaps("limit") <= 2
