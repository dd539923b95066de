"""At most one temporary Prefect API server per command, shared by the flow and its worker processes.

Without `PREFECT_API_URL`, every process that runs a flow or task (the CLI, and each worker of a process pool)
would start its own ephemeral server; on a loaded machine one of them may miss Prefect's startup timeout.
`prefect_api()` starts one itself (the same `SubprocessASGIServer` Prefect's ephemeral mode uses), with our
own timeout, and publishes its URL in `os.environ` before any worker is spawned.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


class PrefectServerError(Exception):
    """The temporary Prefect server did not come up."""


def opt_out_of_analytics() -> None:
    """Before Prefect is imported: no server analytics, and no client-side usage notice or telemetry."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect's SDK telemetry (and its first-run notice) honours the DO_NOT_TRACK convention.
    os.environ.setdefault("DO_NOT_TRACK", "1")


def quiet_prefect_logs(level: str) -> None:
    """Prefect's log level for this command (before Prefect configures logging on import)."""
    os.environ["PREFECT_LOGGING_LEVEL"] = level


@contextmanager
def prefect_api(startup_timeout: float) -> Iterator[None]:
    """Run the block against the configured Prefect API (PREFECT_API_URL, a profile, a test harness), or against
    one temporary server started (and stopped) here."""
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if configured:
        with _in_environment(configured):
            yield
        return
    # An explicit port: SubprocessASGIServer() without one is a per-process singleton that a test harness (or
    # Prefect's own ephemeral mode) may be using, and stopping ours would stop theirs.
    server = _detached_server_class()(port=_free_port())
    with tempfile.TemporaryFile() as server_log:
        try:
            # The server inherits fd 2: its own logs (and Prefect's start/stop notes) never reach the terminal.
            with _stderr_to(server_log):
                server.start(timeout=max(1, round(startup_timeout)))
        except Exception as exc:
            process = server.server_process
            # A server that died says why in its log; one still starting was only slow.
            died = _last_line(server_log) if process is not None and process.poll() is not None else ""
            with _stderr_to(server_log):
                server.stop()
            reason = died or (str(exc).splitlines()[0].rstrip(".") if str(exc) else type(exc).__name__)
            raise PrefectServerError(
                f"the temporary Prefect server did not start within {startup_timeout:g} s ({reason[:160]}): "
                "raise NEWSMON_PREFECT_STARTUP_TIMEOUT, or point PREFECT_API_URL at a running server"
            ) from exc
        try:
            with (
                temporary_settings(updates={PREFECT_API_URL: server.api_url}),
                _in_environment(server.api_url),
                _process_wide(),
            ):
                try:
                    yield
                finally:
                    # Send the runs' last log lines while the server still listens (after a Ctrl-C too): after it
                    # stops, Prefect's log worker would retry them for about a minute and print its failure.
                    APILogWorker.drain_all(timeout=5)
        finally:
            with _stderr_to(server_log):
                server.stop()


def _detached_server_class() -> type[Any]:
    """Prefect's `SubprocessASGIServer`, started in a session of its own: a Ctrl-C in the terminal reaches the
    command (and its workers) but not the server, which stays up for the interrupted run's last API calls
    (its state, the `runs` row's artifact) and is stopped by `prefect_api()` like after any run. Started with
    the terminal's process group, uvicorn would exit at once on Ctrl-C and every later API call would be
    retried for about a minute."""
    import prefect
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    class DetachedServer(SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            # Prefect 3.8's command and environment, plus start_new_session.
            environment = {
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
                **get_current_settings().to_environment_variables(exclude_unset=True),
            }
            command = [
                sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent), "--factory",
                "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port),
                "--log-level", "error", "--lifespan", "on",
            ]
            return subprocess.Popen(command, env=environment, start_new_session=True)

    return DetachedServer


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _stderr_to(log: IO[bytes]) -> Iterator[None]:
    """File descriptor 2 goes to `log` for the block (a child started meanwhile keeps writing there)."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _last_line(log: IO[bytes]) -> str:
    log.seek(0)
    lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


@contextmanager
def _process_wide() -> Iterator[None]:
    """Prefect's process-global settings re-read from the environment for the block: threads that do not inherit
    our context (Prefect's own event-loop and log threads) see the server too, instead of starting ephemeral ones."""
    import prefect.context as prefect_context

    prior = prefect_context.GLOBAL_SETTINGS_CONTEXT
    prefect_context.refresh_global_settings_context()
    try:
        yield
    finally:
        prefect_context.GLOBAL_SETTINGS_CONTEXT = prior


@contextmanager
def _in_environment(url: str) -> Iterator[None]:
    """PREFECT_API_URL in os.environ for the block: process-pool workers inherit it instead of starting
    servers of their own."""
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
