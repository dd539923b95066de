"""Issue 14, "the first hour": every finding checked through the installed `newsmon` command, as a user runs it
(a subprocess; in a real pseudo-terminal where the terminal matters)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from newsmon.extract.opml import parse_opml
from newsmon.storage.lock import exclusive_run, lock_path
from tests.site import Route, Site, rss

NEWSMON = str(Path(sys.executable).with_name("newsmon"))
REPO = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
SERVER = "prefect.server.api.server:create_app"


def user_env(**extra: str) -> dict[str, str]:
    """A user's environment: none of the test session's settings (loopback allowed, threads, no analytics)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSMON_", "PREFECT_", "COLUMNS", "LINES"))}
    env.pop("DO_NOT_TRACK", None)
    # Each command stops the server it starts, so no test finds one another left: the server shared by commands
    # in a row (the default) has tests of its own (tests/test_prefect_api.py).
    env["NEWSMON_PREFECT_SERVER_LINGER"] = "0"
    env.update(extra)
    return env


def newsmon(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NEWSMON, *args], capture_output=True, text=True, env=env or user_env(), timeout=timeout)


@dataclass
class TerminalRun:
    returncode: int
    output: str  # what the terminal showed, colours and cursor moves removed
    servers: int  # most Prefect API server processes running at once among the command's descendants
    server_parents: set[int]  # the processes that started them


def in_terminal(*args: str, columns: int = 80, env: dict[str, str] | None = None, timeout: float = 900) -> TerminalRun:
    """Run `newsmon ARGS` in a pseudo-terminal `columns` wide, watching its process tree for Prefect servers."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen([NEWSMON, *args], stdin=slave, stdout=slave, stderr=slave, env=env or user_env(),
                            close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    most, parents = 0, set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        servers = [(pid, parent) for pid, parent, cmd in descendants(proc.pid) if SERVER in cmd]
        most, parents = max(most, len(servers)), parents | {parent for _, parent in servers}
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    proc.wait(timeout=30)
    output = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return TerminalRun(proc.returncode, output, most, parents)


def descendants(pid: int) -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [(child, pid) for child in children.get(pid, [])]
    while todo:
        child, parent = todo.pop()
        try:
            cmd = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        found.append((child, parent, cmd))
        todo.extend((grandchild, child) for grandchild in children.get(child, []))
    return found


def one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode not in (0, None), result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# --- the demo, once, in a terminal: one server, a live display, quiet logs, no telemetry notice ----------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TerminalRun]:
    home = tmp_path_factory.mktemp("demo")
    db = home / "demo.duckdb"
    # A fresh Prefect home: its first-run telemetry notice would show here if newsmon did not opt out.
    env = user_env(PREFECT_HOME=str(home / "prefect"), NEWSMON_PREFECT_STARTUP_TIMEOUT="600")
    default_db = Path.home() / ".prefect" / "prefect.db"
    if default_db.exists():  # an already migrated server database: a new one takes minutes on a loaded machine
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{default_db}"
    run = in_terminal("--db", str(db), "demo", columns=100, env=env)
    assert run.returncode == 0, run.output[-3000:]
    return db, run


def test_demo_starts_one_prefect_server_without_log_noise_or_telemetry_notice(
    demo: tuple[Path, TerminalRun]
) -> None:
    db, run = demo
    # One at a time (it may be restarted on another port if its first one was taken meanwhile), started by the
    # command itself: not one more per worker process of the pool.
    assert run.servers == 1 and len(run.server_parents) == 1
    assert "Finished in state" not in run.output  # Prefect's INFO lines stay out of a terminal by default
    assert "telemetry" not in run.output.lower() and "analytics" not in run.output.lower()
    assert not (db.parent / "prefect" / ".sdk_telemetry" / "notice_shown").exists()
    assert "articles: 22 new" in run.output and "stories show s-" in run.output
    # The runs' last log lines reach the server before it stops (else Prefect retries them for a minute at exit).
    assert "Error logging to API" not in run.output


def test_the_demo_pass_shows_a_live_display_of_what_it_did(demo: tuple[Path, TerminalRun]) -> None:
    _, run = demo
    # The flow reports its counts as batches finish (newsmon.progress); on a terminal they are a rich display.
    assert re.search(r"feeds polled .*\d+/\d+", run.output), run.output
    assert re.search(r"pages fetched .*22/22.*eta", run.output), run.output  # count, total, rate, ETA
    assert re.search(r"articles into stories .*22/", run.output), run.output
    assert "progress after" not in run.output  # the plain lines are for pipes

def test_stories_lists_ids_and_show_tells_the_whole_story(demo: tuple[Path, TerminalRun]) -> None:
    db, _ = demo
    listed = json.loads(newsmon("--db", str(db), "stories", "--since", "all", "--limit", "50", "--format", "json").stdout)
    january = next(s for s in listed if "unprecedented increase in January" in s["title"])
    assert january["story_id"].startswith("s-") and january["outlets"] == ["Ankara Ledger", "Eurasia Dispatch"]

    shown = newsmon("--db", str(db), "stories", "show", january["story_id"])
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "Ankara Ledger:" in out and "Eurasia Dispatch:" in out and "http://127.0.0.1" in out
    assert "opened the story" in out and "joined (score" in out  # the evidence that grouped each article
    assert "$555.3 million" in out and "2 sources" in out  # facts with their corroboration
    assert "Görgün" in out  # quotes with speakers, entities, in their accented spelling
    detail = json.loads(newsmon("--db", str(db), "stories", "show", january["story_id"], "--format", "json").stdout)
    assert {"articles", "facts", "quotes", "entities"} <= detail.keys()
    assert all(a["evidence"] for a in detail["articles"]) and any(q["speaker"] for q in detail["quotes"])
    assert any(f["qualifier"] == "more than" or f["source_count"] > 1 for f in detail["facts"])

    wire = [s for s in listed if s["article_count"] > s["source_count"] or s["article_count"] > 1]
    duplicates = [
        a for s in wire
        for a in json.loads(newsmon("--db", str(db), "stories", "show", s["story_id"], "--format", "json").stdout)[
            "articles"]
        if a["duplicate_of"]
    ]
    assert duplicates  # the demo's wire copy shows as a near-duplicate of its first copy
    one_line_error(newsmon("--db", str(db), "stories", "show", "s-nope"), "no such story id")


def test_analyst_views_outlets_entities_qualifier_and_accented_names(demo: tuple[Path, TerminalRun]) -> None:
    db, _ = demo
    con = duckdb.connect(str(db), read_only=True)
    try:
        outlets = {r[0] for r in con.execute("SELECT DISTINCT outlet FROM article_outlets").fetchall()}
        assert "Ankara Ledger" in outlets and not any(o.startswith("127.") for o in outlets)
        names = {r[0] for r in con.execute("SELECT name FROM entities").fetchall()}
        assert "Haluk Görgün" in names and "Haluk Gorgun" not in names
        türkiye_money = con.execute(
            "SELECT count(*) FROM facts f JOIN fact_entities e USING (article_id, start_char, kind) "
            "WHERE f.kind = 'money' AND e.name = 'Türkiye'"
        ).fetchall()[0][0]
        assert türkiye_money > 0
        assert con.execute("SELECT count(*) FROM story_entities WHERE source_count > 1").fetchall()[0][0] > 0
        qualifiers = {r[0] for r in con.execute("SELECT DISTINCT qualifier FROM story_facts").fetchall()}
        assert qualifiers - {None}
    finally:
        con.close()


def test_every_example_query_in_the_schema_docs_runs_on_a_demo_database(demo: tuple[Path, TerminalRun]) -> None:
    db, _ = demo
    text = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    statements = [s.strip() for block in blocks for s in duckdb.extract_statements(block) for s in [s.query]]
    assert len(statements) >= 10
    con = duckdb.connect(str(db), read_only=True)
    try:
        for sql in statements:
            con.execute(sql.replace("'...'", "(SELECT min(article_id) FROM articles)")).fetchall()
    finally:
        con.close()


def test_export_writes_every_analyst_table_without_pruning(demo: tuple[Path, TerminalRun], tmp_path: Path) -> None:
    db, _ = demo
    for fmt in ("parquet", "csv"):
        result = newsmon("--db", str(db), "export", str(tmp_path / fmt), "--format", fmt)
        assert result.returncode == 0, result.stderr
        written = {p.stem for p in (tmp_path / fmt).glob(f"*.{fmt}")}
        assert {"facts", "quotes", "entities", "mentions", "story_facts", "story_quotes", "articles",
                "stories", "article_outlets", "story_entities"} <= written
    facts = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'parquet' / 'facts.parquet'}'").fetchall()[0][0]
    assert facts > 0
    con = duckdb.connect(str(db), read_only=True)
    try:  # nothing pruned: every page keeps its raw HTML
        assert con.execute("SELECT count(*) FROM pages WHERE html_zlib IS NULL").fetchall()[0][0] == 0
    finally:
        con.close()


def test_feeds_export_is_opml_that_imports_back(demo: tuple[Path, TerminalRun], tmp_path: Path) -> None:
    db, _ = demo
    out = newsmon("--db", str(db), "feeds", "export")
    found, rejected = parse_opml(out.stdout.encode())
    assert len(found) == 6 and not rejected and all(title for _, title in found)
    assert newsmon("--db", str(db), "feeds", "export", str(tmp_path / "feeds.opml")).returncode == 0
    assert parse_opml((tmp_path / "feeds.opml").read_bytes())[0] == found


def test_progress_is_a_live_display_on_a_terminal_and_plain_lines_when_piped(
    demo: tuple[Path, TerminalRun], tmp_path: Path
) -> None:
    db, _ = demo
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    shown = in_terminal("--db", str(copy), "reextract", columns=100)
    assert shown.returncode == 0, shown.output
    assert re.search(r"pages extracted .*22/22.*eta", shown.output), shown.output  # rich display: count, rate, ETA
    assert "progress after" not in shown.output
    piped = newsmon("--db", str(copy), "reextract")
    assert piped.returncode == 0, piped.stderr
    assert "re-extracted 22 pages" in piped.stdout
    assert re.search(r"progress after \d+ s: pages extracted 22/22 \(\d+\.\d/s\)", piped.stderr), piped.stderr
    assert "\x1b[" not in piped.stderr
    assert newsmon("-q", "--db", str(copy), "reextract").stderr == ""  # -q: no progress at all


# --- output that fits the terminal ---------------------------------------------------------------------------


@pytest.fixture
def failing_db(tmp_path: Path) -> Path:
    """A database with one feed that failed as older versions recorded it (an empty message after a colon)."""
    db = tmp_path / "ops.duckdb"
    url = "http://feeds.example.org/world/news-in-english/rss.xml"
    assert newsmon("--db", str(db), "feeds", "add", url, "http://b.example.org/atom.xml").returncode == 0
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE feeds SET error_count = 2, error_score = 0.5, last_error = 'timeout: ReadTimeout: ', "
        "last_error_kind = 'transient', last_polled_at = TIMESTAMPTZ '2026-01-12 09:30:12.123456+00', "
        "next_poll_at = TIMESTAMPTZ '2026-01-12 10:30:00.5+00', title = 'World news in English, from Example' "
        "WHERE url = ?",
        [url],
    )
    con.execute(
        "INSERT INTO runs (run_id, started_at, finished_at, status, all_feeds, feeds_polled, feeds_failed, error) "
        "VALUES ('r1', TIMESTAMPTZ '2026-01-12 09:30:00.654321+00', TIMESTAMPTZ '2026-01-12 09:30:12.5+00', "
        "'failed', false, 2, 1, 'RuntimeError: the pass failed on something with a long explanation here')"
    )
    con.close()
    return db


def test_tables_fit_an_80_column_terminal_and_keep_whole_urls(failing_db: Path) -> None:
    url = "http://feeds.example.org/world/news-in-english/rss.xml"
    for args in (("feeds", "list"), ("status",)):
        run = in_terminal("--db", str(failing_db), *args, columns=80)
        assert run.returncode == 0, run.output
        lines = run.output.splitlines()
        table = [line for line in lines if line[:1] in "\u250f\u2503\u2521\u2502\u2514"]
        assert table and max(len(line) for line in table) <= 80, run.output
        # Whole: a short URL on one line, a long one folded over lines in its column, never cut with an ellipsis.
        assert any("http://b.example.org/atom.xml" in line for line in lines) or args == ("status",), run.output
        column = "".join(line.split("\u2502")[1].strip() for line in lines if line.startswith("\u2502"))
        assert url in column or any(url in line for line in lines), run.output
        assert not re.search(r"\d\d:\d\d:\d\d\.\d", run.output)  # no microseconds
        assert not re.search(r"ReadTimeout: *$", run.output, re.M)  # never an empty message after a colon
    listed = in_terminal("--db", str(failing_db), "feeds", "list", columns=80).output
    assert "2 feeds" in listed and "(s)" not in listed
    status = in_terminal("--db", str(failing_db), "status", columns=80).output
    assert "2 feeds" in status and "1 feed failing" in status and "2026-01-12 10:30Z" in status


def test_piped_tables_keep_whole_values_and_formats_are_the_same_everywhere(failing_db: Path) -> None:
    piped = newsmon("--db", str(failing_db), "feeds", "list")
    assert "World news in English, from Example" in piped.stdout and "poll_interval_s" in piped.stdout
    for args in (("feeds", "list"), ("stories",), ("query", "SELECT 1 AS one"), ("alerts", "list"),
                 ("alerts", "status")):
        for fmt in ("table", "csv", "json"):
            result = newsmon("--db", str(failing_db), *args, "--format", fmt)
            assert result.returncode == 0, (args, fmt, result.stderr)
        json.loads(newsmon("--db", str(failing_db), *args, "--format", "json").stdout)


# --- errors: one line, a non-zero exit, no traceback, nothing created ---------------------------------------


def test_bad_input_and_bad_paths_are_one_line_errors(tmp_path: Path, failing_db: Path) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.duckdb"
    one_line_error(newsmon("--db", str(missing), "status"), "no database at", "--db")
    for command in (("feeds", "list"), ("stories",), ("query", "SELECT 1"), ("alerts", "list")):
        one_line_error(newsmon("--db", str(missing), *command), "no database at")
    assert not (tmp_path / "nonexistent").exists()  # read-only commands create nothing
    one_line_error(newsmon("--db", str(REPO / "README.md" / "x.duckdb"), "status"), "is a file, not a directory")
    one_line_error(newsmon("--db", "/proc/x.duckdb", "status"), "no database at")
    one_line_error(newsmon("--db", "/proc/x.duckdb", "feeds", "add", "http://a.example/x"), "/proc/x.duckdb")
    one_line_error(newsmon("--db", str(REPO / "README.md"), "status"), "not a valid DuckDB database")
    assert "Traceback" in newsmon("--db", str(REPO / "README.md"), "status", env=user_env(NEWSMON_DEBUG="1")).stderr
    assert "Traceback" in newsmon("-v", "--db", str(REPO / "README.md"), "status").stderr

    db = str(failing_db)
    assert "--limit" in newsmon("--db", db, "stories", "--limit", "-1").stderr
    assert newsmon("--db", db, "stories", "--limit", "-1").returncode == 2
    bad_since = newsmon("--db", db, "stories", "--since", "-1d")
    assert bad_since.returncode == 2 and "Traceback" not in bad_since.stderr and "--since" in bad_since.stderr
    assert newsmon("--db", db, "stories", "--since", "2026-01-30").returncode == 0
    one_line_error(newsmon("--db", db, "query", "SELECT 1; SELECT 2"), "2 statements")


def test_feeds_add_refuses_private_addresses_at_once(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    refused = newsmon("--db", str(db), "feeds", "add", "http://127.0.0.1:9/x")
    assert refused.returncode == 1 and "NEWSMON_ALLOW_NETWORKS" in refused.stderr
    allowed = newsmon("--db", str(db), "feeds", "add", "http://127.0.0.1:9/x",
                      env=user_env(NEWSMON_ALLOW_NETWORKS="127.0.0.0/8"))
    assert allowed.returncode == 0 and "added 1 feed," in allowed.stdout


def test_ctrl_c_is_one_line_and_exit_130(tmp_path: Path) -> None:
    release = threading.Event()

    def slow() -> Iterator[bytes]:
        release.wait(60)
        yield rss([])

    with Site() as site:
        url = site.add("/slow.opml", Route(body=slow))
        proc = subprocess.Popen([NEWSMON, "--db", str(tmp_path / "x.duckdb"), "feeds", "import", url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=user_env(NEWSMON_ALLOW_NETWORKS="127.0.0.0/8"))
        deadline = time.monotonic() + 60
        while site.hits("/slow.opml") == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        release.set()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Aborted" not in err
    assert [line for line in err.splitlines() if line.strip()] == [
        "interrupted: nothing more was done (a pass resumes where it stopped on the next run)"
    ]


# --- run: the lock before anything else, and an empty database -------------------------------------------


def test_run_while_another_pass_holds_the_lock_says_so_once_and_fast(failing_db: Path) -> None:
    with exclusive_run(failing_db, purpose="ingest"):
        started = time.monotonic()
        result = newsmon("--db", str(failing_db), "run")
        elapsed = time.monotonic() - started
    assert result.returncode == 3, result
    assert result.stderr.count("nothing done: another pass is running") == 1
    assert f"pid {os.getpid()}" in result.stderr and "since" in result.stderr
    # No Prefect server was started (5-15 s at best): only the interpreter's start-up, on a loaded machine.
    assert elapsed < 10, elapsed
    assert not lock_path(failing_db).exists()  # released and removed: no lock file stays behind


def test_a_lock_file_left_by_a_dead_process_is_reclaimed(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    assert newsmon("--db", str(db), "feeds", "add", "http://a.example/rss").returncode == 0
    lock_path(db).write_text(json.dumps({"pid": 999_999_999, "since": "2026-01-01T00:00:00+00:00"}))
    with exclusive_run(db):  # the stale file does not block the next pass
        assert json.loads(lock_path(db).read_text())["pid"] == os.getpid()
    assert not lock_path(db).exists()


def test_run_on_a_database_without_feeds_says_so_at_once(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    assert newsmon("--db", str(db), "feeds", "add", "http://a.example/rss").returncode == 0
    assert newsmon("--db", str(db), "feeds", "remove", "http://a.example/rss").returncode == 0
    started = time.monotonic()
    result = newsmon("--db", str(db), "run")
    assert time.monotonic() - started < 10
    one_line_error(result, "no feeds", "newsmon feeds add URL")
    one_line_error(newsmon("--db", str(tmp_path / "none.duckdb"), "run"), "no database at")


def test_lock_and_snapshot_files_are_ignored_by_git() -> None:
    for name in ("x.duckdb.run.lock", "x.duckdb.stories"):
        assert subprocess.run(["git", "check-ignore", "-q", name], cwd=REPO).returncode == 0, name


def test_a_prefect_server_that_does_not_start_in_time_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    assert newsmon("--db", str(db), "feeds", "add", "http://a.example/rss").returncode == 0
    proc = subprocess.Popen([NEWSMON, "--db", str(db), "recluster"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=user_env(NEWSMON_PREFECT_STARTUP_TIMEOUT="0.2"))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err  # the server's own logs stay out
    assert "did not start within 0.2 s" in err and "NEWSMON_PREFECT_STARTUP_TIMEOUT" in err and "Traceback" not in err
