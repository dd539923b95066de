"""At most one temporary Prefect API server per command, shared by the flow and its worker processes.

Without `PREFECT_API_URL`, every process that runs a flow or task (the CLI, and each worker of a process pool)
would start its own ephemeral server; on a loaded machine one of them may miss Prefect's startup timeout.
`prefect_api()` starts one itself (the server Prefect's ephemeral mode runs), with our own timeout, and
publishes its URL in `os.environ` before any worker is spawned.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO


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
def prefect_api(startup_timeout: float, meanwhile: Callable[[], object] | None = None) -> Iterator[None]:
    """Run the block against the configured Prefect API (PREFECT_API_URL, a profile, a test harness), or against
    one temporary server started (and stopped) here.

    `meanwhile` (the command's own imports, ~2.5 CPU s for the ingest flow) runs while the server starts (~4 CPU s,
    nearly all of it imports): on two cores they overlap instead of adding up (server ready and flow imported
    4.4 s after the start instead of 5.3-6.2 s, measured at a load of ~1)."""
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if configured:
        if meanwhile is not None:
            meanwhile()
        with _in_environment(configured):
            yield
        return
    server = TemporaryServer()
    with tempfile.TemporaryFile() as server_log:
        try:
            server.start(startup_timeout, log=server_log, meanwhile=meanwhile)
        except PrefectServerError as exc:
            server.stop()
            raise PrefectServerError(
                f"the temporary Prefect server did not start within {startup_timeout:g} s ({str(exc)[:160]}): "
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
            server.stop()


class TemporaryServer:
    """The API server Prefect's ephemeral mode runs (`uvicorn prefect.server.api.server:create_app`, no UI), in
    a subprocess started here rather than through `SubprocessASGIServer`: importing that module loads the whole
    server app (~70 MiB) into the command's process only to start a subprocess. In a session of its own: a
    Ctrl-C in the terminal reaches the command (and its workers) but not the server, which stays up for the
    interrupted run's last API calls (its state, the `runs` row's artifact) and is stopped like after any run;
    in the terminal's process group, uvicorn would exit at once and every later API call be retried for a
    minute."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float, log: IO[bytes], meanwhile: Callable[[], object] | None = None) -> None:
        """Start it, run `meanwhile`, and wait until it answers; its output goes to `log`, never to the terminal."""
        from prefect.settings import get_current_settings

        environment = {
            **os.environ,
            # What Prefect's ephemeral server sets: no UI, ephemeral-server defaults.
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            **get_current_settings().to_environment_variables(exclude_unset=True),
        }
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app", "--host",
            "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on",
        ]
        started = time.monotonic()
        self.process = subprocess.Popen(command, env=environment, stdout=log, stderr=log, start_new_session=True)
        if meanwhile is not None:
            meanwhile()
        self._wait_until_ready(timeout - (time.monotonic() - started), log)

    def _wait_until_ready(self, timeout: float, log: IO[bytes]) -> None:
        import httpx

        assert self.process is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:  # it died: its log says why
                    raise PrefectServerError(_last_line(log) or f"exit status {self.process.returncode}")
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise PrefectServerError("still starting")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
