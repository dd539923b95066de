"""The temporary Prefect server a command starts when no API is configured."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsmon.prefect_api import TemporaryServer
from tests.test_cli_first_hour import SERVER, descendants, newsmon, user_env


def test_the_command_imports_its_flows_while_the_temporary_server_starts() -> None:
    """The server's start (~4 CPU s of imports) and the command's own imports overlap instead of adding up."""
    server = TemporaryServer()
    seen: list[str] = []

    def meanwhile() -> None:
        try:
            httpx.get(f"{server.api_url}/health", timeout=1)
            seen.append("the server already answered")
        except httpx.HTTPError:
            seen.append("the server is still starting")

    with tempfile.TemporaryFile() as log:
        try:
            server.start(600, log, meanwhile=meanwhile)
            assert httpx.get(f"{server.api_url}/health", timeout=5).status_code == 200
        finally:
            server.stop()
    assert seen == ["the server is still starting"]


# --- the server shared by commands in a row -------------------------------------------------------------------


def shared_env(home: Path, linger: float) -> dict[str, str]:
    env = user_env(PREFECT_HOME=str(home), NEWSMON_PREFECT_SERVER_LINGER=str(linger),
                   NEWSMON_PREFECT_STARTUP_TIMEOUT="600")
    default_db = Path.home() / ".prefect" / "prefect.db"
    if default_db.exists():  # an already migrated server database: a new one takes minutes on a loaded machine
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{default_db}"
    return env


def published(home: Path) -> dict[str, object] | None:
    states = list(home.glob("newsmon-server-*.json"))
    return json.loads(states[0].read_text()) if states else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def servers_on(port: str) -> list[int]:
    return [pid for pid, _, cmd in descendants(1) if SERVER in cmd and f"--port {port} " in cmd]


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def db_with_a_feed(tmp_path: Path) -> Path:
    db = tmp_path / "x.duckdb"
    assert newsmon("--db", str(db), "feeds", "add", "http://a.example/rss").returncode == 0
    return db


def test_commands_in_a_row_share_one_temporary_server_which_stops_once_unused(
    tmp_path: Path, db_with_a_feed: Path
) -> None:
    home = tmp_path / "prefect"
    env = shared_env(home, linger=10)
    first = newsmon("--db", str(db_with_a_feed), "recluster", env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    state = published(home)
    assert state is not None and alive(int(state["pid"]))  # the server outlived the command that started it
    port = str(state["api_url"]).rsplit(":", 1)[1].split("/")[0]
    assert len(servers_on(port)) == 1

    second = newsmon("--db", str(db_with_a_feed), "recluster", env=env, timeout=600)
    assert second.returncode == 0, second.stderr
    assert published(home) == state  # the second command used it and started none
    assert len(servers_on(port)) == 1

    # Unused for its linger (10 s), it stops by itself and unpublishes its address; nothing is left running.
    assert wait_until(lambda: not alive(int(state["pid"])), 60), "the supervisor is still running"
    assert wait_until(lambda: not servers_on(port), 15), "the server is still running"
    assert published(home) is None


def test_a_killed_supervisor_takes_its_server_along_and_the_next_command_starts_another(
    tmp_path: Path, db_with_a_feed: Path
) -> None:
    home = tmp_path / "prefect"
    env = shared_env(home, linger=600)
    assert newsmon("--db", str(db_with_a_feed), "recluster", env=env, timeout=600).returncode == 0
    state = published(home)
    assert state is not None
    port = str(state["api_url"]).rsplit(":", 1)[1].split("/")[0]
    os.kill(int(state["pid"]), signal.SIGKILL)
    assert wait_until(lambda: not servers_on(port), 30), "the server outlived its supervisor"

    again = newsmon("--db", str(db_with_a_feed), "recluster", env=env, timeout=600)
    assert again.returncode == 0, again.stderr  # the address left behind is not trusted
    fresh = published(home)
    assert fresh is not None and fresh["pid"] != state["pid"]
    os.kill(int(fresh["pid"]), signal.SIGTERM)  # a terminated supervisor stops its server and unpublishes it
    assert wait_until(lambda: not alive(int(fresh["pid"])), 30)
    assert published(home) is None
    fresh_port = str(fresh["api_url"]).rsplit(":", 1)[1].split("/")[0]
    assert wait_until(lambda: not servers_on(fresh_port), 30)


# --- the client's CA file for a plain-HTTP API on this machine ----------------------------------------------------


def _api_ca_file() -> tuple[str | None, str | None]:
    from prefect.settings import PREFECT_API_SSL_CERT_FILE

    value = PREFECT_API_SSL_CERT_FILE.value()
    return (str(value) if value else None), os.environ.get("PREFECT_API_SSL_CERT_FILE")


def _certificates(path: str) -> int:
    return Path(path).read_text().count("-----BEGIN CERTIFICATE-----")


def test_workers_load_one_certificate_for_a_plain_http_api_on_this_machine(prefect_harness: None) -> None:
    """Prefect's client builds an SSL context for each client it makes (two per task run in a worker); for an API
    that never speaks TLS, loading the whole CA bundle each time cost ~13 ms of a worker's ~100 ms a task run."""
    from prefect import flow, task
    from prefect.settings import PREFECT_API_URL

    from newsmon.flows.runners import WorkerProcesses
    from newsmon.prefect_api import prefect_api

    assert str(PREFECT_API_URL.value()).startswith("http://127.0.0.1:")  # the harness's server
    probe = task(_api_ca_file)

    @flow(task_runner=WorkerProcesses(1))
    def in_a_worker() -> tuple[str | None, str | None]:
        return probe.submit().result()

    with prefect_api(600):
        here = _api_ca_file()
        there = in_a_worker()
    assert here[0] == here[1] and here[0] is not None and _certificates(here[0]) == 1
    assert there == here  # the worker's settings and environment, as the task's client reads them
    assert _api_ca_file()[1] is None  # restored after the block


def test_a_ca_file_set_for_the_api_or_a_tls_api_is_left_alone(prefect_harness: None, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_SSL_CERT_FILE, PREFECT_API_URL, temporary_settings

    from newsmon.prefect_api import prefect_api

    own = tmp_path / "own-ca.pem"
    with temporary_settings(updates={PREFECT_API_SSL_CERT_FILE: str(own)}), prefect_api(600):
        assert _api_ca_file()[0] == str(own)
    bundle = PREFECT_API_SSL_CERT_FILE.value()
    with temporary_settings(updates={PREFECT_API_URL: "https://prefect.example/api"}), prefect_api(600):
        assert PREFECT_API_SSL_CERT_FILE.value() == bundle
        assert os.environ.get("PREFECT_API_SSL_CERT_FILE") is None
