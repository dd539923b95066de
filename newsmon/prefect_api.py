"""At most one temporary Prefect API server at a time, shared by a command, its worker processes and the commands
that follow it within a few minutes.

Without `PREFECT_API_URL`, every process that runs a flow or task (the CLI, and each worker of a process pool)
would start its own ephemeral server; on a loaded machine one of them may miss Prefect's startup timeout.
`prefect_api()` starts one itself (the server Prefect's ephemeral mode runs), with our own timeout, and
publishes its URL in `os.environ` before any worker is spawned.

Starting it costs ~4.5 CPU s (nearly all imports), more than a pass with nothing new does in all. So, as Gradle's
daemon does for builds, the server outlives its command: a small supervisor process keeps it for
`NEWSMON_PREFECT_SERVER_LINGER` seconds (600) after the last command that used it, and the commands in between
reuse it. Its address is in `newsmon-server-KEY.json` under PREFECT_HOME (KEY: the interpreter, Prefect's
version and its server and database settings, so a command configured otherwise gets a server of its own).
Commands hold a shared lock on `newsmon-server-KEY.use` while they use it; the supervisor stops the server only
when it can take that lock exclusively and the linger has passed. `NEWSMON_PREFECT_SERVER_LINGER=0` gives the
old behaviour: one server per command, stopped at its end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

try:
    import fcntl
except ImportError:  # not on Windows: there every command starts and stops its own server
    fcntl = None  # type: ignore[assignment]


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
def prefect_api(
    startup_timeout: float, meanwhile: Callable[[], object] | None = None, *, linger: float = 0.0
) -> Iterator[None]:
    """Run the block against the configured Prefect API (PREFECT_API_URL, a profile, a test harness), or against
    a temporary server: the one an earlier command left running (`linger` > 0), or one started here (and, with
    `linger` 0, stopped at the block's end).

    `meanwhile` (the command's own imports, ~2.5 CPU s for the ingest flow) runs while the server starts (~4 CPU s,
    nearly all of it imports): on two cores they overlap instead of adding up (server ready and flow imported
    4.4 s after the start instead of 5.3-6.2 s, measured at a load of ~1)."""
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL

    configured = PREFECT_API_URL.value()
    if configured:
        if meanwhile is not None:
            meanwhile()
        with _api_settings(configured):
            yield
        return
    with (
        _temporary_server(startup_timeout, meanwhile, linger) as api_url,
        _api_settings(api_url),
        _process_wide(),
    ):
        try:
            yield
        finally:
            # Send the runs' last log lines while the server still listens (after a Ctrl-C too): after it
            # stops, Prefect's log worker would retry them for about a minute and print its failure.
            APILogWorker.drain_all(timeout=5)


@contextmanager
def _temporary_server(startup_timeout: float, meanwhile: Callable[[], object] | None, linger: float) -> Iterator[str]:
    """The API URL of a temporary server for the block: shared (see the module's docstring) or the block's own."""
    if linger > 0 and fcntl is not None:
        with _shared_server(startup_timeout, meanwhile, linger) as api_url:
            yield api_url
        return
    server = TemporaryServer()
    with tempfile.TemporaryFile() as server_log:
        try:
            _start(server, startup_timeout, server_log, meanwhile)
            yield server.api_url
        finally:
            server.stop()


def _start(server: TemporaryServer, timeout: float, log: IO[bytes], meanwhile: Callable[[], object] | None) -> None:
    try:
        server.start(timeout, log=log, meanwhile=meanwhile)
    except PrefectServerError as exc:
        server.stop()
        raise PrefectServerError(
            f"the temporary Prefect server did not start within {timeout:g} s ({str(exc)[:160]}): "
            "raise NEWSMON_PREFECT_STARTUP_TIMEOUT, or point PREFECT_API_URL at a running server"
        ) from exc


@dataclass(frozen=True)
class SharedFiles:
    """Where a shared server is published (`state`), who starts or stops one (`start`, an exclusive lock), who
    uses it (`use`: shared locks; its time of change is the end of the last use) and its output (`log`)."""

    state: Path
    start: Path
    use: Path
    log: Path

    @classmethod
    def here(cls) -> SharedFiles:
        from prefect import __version__
        from prefect.settings import get_current_settings

        settings = get_current_settings()
        configured = settings.to_environment_variables(exclude_unset=True)
        server_side = sorted(
            (k, v) for k, v in configured.items() if k.startswith(("PREFECT_SERVER_", "PREFECT_API_DATABASE_"))
        )
        key = hashlib.blake2b(repr((sys.executable, __version__, server_side)).encode(), digest_size=5).hexdigest()
        return cls.at(Path(settings.home) / f"newsmon-server-{key}")

    @classmethod
    def at(cls, base: Path) -> SharedFiles:
        return cls(*(base.with_suffix(suffix) for suffix in (".json", ".lock", ".use", ".log")))


@contextmanager
def _shared_server(startup_timeout: float, meanwhile: Callable[[], object] | None, linger: float) -> Iterator[str]:
    files = SharedFiles.here()
    files.state.parent.mkdir(parents=True, exist_ok=True)
    with open(files.start, "a") as start, open(files.use, "a") as use:
        fcntl.flock(start, fcntl.LOCK_EX)  # one command starts a server while the others wait to share it
        try:
            api_url = running_server(files)
            if api_url is None:
                server = TemporaryServer(linger=linger, files=files)
                with open(files.log, "wb") as log:
                    _start(server, startup_timeout, log, meanwhile)
                api_url = server.api_url
                files.state.write_text(json.dumps({"pid": server.pid, "api_url": api_url}))
            elif meanwhile is not None:
                meanwhile()
            fcntl.flock(use, fcntl.LOCK_SH)
        finally:
            fcntl.flock(start, fcntl.LOCK_UN)
        try:
            yield api_url
        finally:
            os.utime(files.use)  # the linger counts from here (closing the file releases the shared lock)


def stop_shared_server(timeout: float = 30) -> bool:
    """Stop the shared server this process's settings would use, if one runs (benchmarks start each setup
    without one, as a new user's first command does); True if one was stopped."""
    if fcntl is None:
        return False
    files = SharedFiles.here()
    try:
        pid = int(json.loads(files.state.read_text())["pid"])
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    return True


def _alive(pid: int) -> bool:
    """Running, and not a zombie its parent has yet to reap."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def running_server(files: SharedFiles) -> str | None:
    """The API URL of the shared server `files` publish, if it is alive and answers."""
    import httpx

    try:
        state = json.loads(files.state.read_text())
        if _alive(int(state["pid"])) and httpx.get(f"{state['api_url']}/health", timeout=5).status_code == 200:
            return str(state["api_url"])
    except (OSError, ValueError, KeyError, TypeError, httpx.HTTPError):
        pass
    return None


class TemporaryServer:
    """The API server Prefect's ephemeral mode runs (`uvicorn prefect.server.api.server:create_app`, no UI), in
    a subprocess started here rather than through `SubprocessASGIServer`: importing that module loads the whole
    server app (~70 MiB) into the command's process only to start a subprocess. In a session of its own: a
    Ctrl-C in the terminal reaches the command (and its workers) but not the server, which stays up for the
    interrupted run's last API calls (its state, the `runs` row's artifact) and is stopped like after any run;
    in the terminal's process group, uvicorn would exit at once and every later API call be retried for a
    minute. With `linger`, the subprocess is a supervisor (`python -m newsmon.prefect_api`) that runs uvicorn
    and stops it once no command has used it for `linger` seconds."""

    def __init__(self, *, linger: float = 0.0, files: SharedFiles | None = None) -> None:
        self.port = _free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.process: subprocess.Popen[bytes] | None = None
        self.linger, self.files = linger, files

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

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
        command = uvicorn_command(self.port)
        if self.files is not None:
            command = [
                sys.executable, "-m", "newsmon.prefect_api", "--port", str(self.port), "--linger", str(self.linger),
                "--files", str(self.files.state.with_suffix("")),
            ]
        started = time.monotonic()
        self.process = subprocess.Popen(
            command, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
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


def uvicorn_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app", "--host",
        "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on",
    ]


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
def _api_settings(url: str) -> Iterator[None]:
    """The API's settings for the block, in Prefect's settings and in os.environ: process-pool workers inherit
    them instead of starting servers of their own. For a plain-HTTP API on this machine (the temporary server, a
    local `prefect server start`), Prefect's client gets a one-certificate CA file unless one is set for it: it
    builds an SSL context for every client it makes (two per task run in a worker), and loading the whole CA
    bundle costs ~44 ms of CPU each time (~1 ms for one certificate), for an API that never speaks TLS."""
    from prefect.settings import PREFECT_API_SSL_CERT_FILE, PREFECT_API_URL, get_current_settings, temporary_settings

    updates = {PREFECT_API_URL: url}
    configured = get_current_settings().to_environment_variables(exclude_unset=True)
    if _plain_http_loopback(url) and PREFECT_API_SSL_CERT_FILE.name not in configured:
        with suppress(OSError):  # an unwritable PREFECT_HOME: the client loads the whole bundle, as before
            updates[PREFECT_API_SSL_CERT_FILE] = str(_one_certificate_file())
    with temporary_settings(updates=updates), _in_environment({s.name: str(v) for s, v in updates.items()}):
        yield


def _plain_http_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _one_certificate_file() -> Path:
    """A CA file holding the first certificate of certifi's bundle, under PREFECT_HOME (written once)."""
    import certifi
    from prefect.settings import get_current_settings

    path = Path(get_current_settings().home) / "newsmon-loopback-ca.pem"
    if not path.exists():
        bundle = Path(certifi.where()).read_text()
        end = "-----END CERTIFICATE-----\n"
        first = bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)]
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(first)
        partial.replace(path)  # atomic: a command starting at the same moment reads a whole file or none
    return path


@contextmanager
def _in_environment(variables: dict[str, str]) -> Iterator[None]:
    """`variables` in os.environ for the block, restored after it."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# --------------------------------------------------------------------------- the shared server's supervisor


def supervise(port: int, linger: float, files: SharedFiles, check_every: float = 1.0) -> None:
    """Run the server until it has been unused for `linger` seconds (or it dies, or this process is terminated)."""
    server = subprocess.Popen(uvicorn_command(port), preexec_fn=_terminated_with_parent)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    last_used = time.time()
    try:
        while server.poll() is None:
            time.sleep(check_every)
            if _in_use(files.use):
                last_used = time.time()
            elif time.time() - max(last_used, _changed_at(files.use)) > linger and _retire(files, port):
                return
    finally:
        _unpublish(files, port)
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()


def _retire(files: SharedFiles, port: int) -> bool:
    """Unpublish the server unless a command took it meanwhile (between the check and the start lock)."""
    with open(files.start, "a") as start:
        fcntl.flock(start, fcntl.LOCK_EX)
        if _in_use(files.use):
            return False
        _unpublish(files, port)
        return True


def _unpublish(files: SharedFiles, port: int) -> None:
    with suppress(OSError, ValueError, AttributeError):
        if f":{port}/" in json.loads(files.state.read_text()).get("api_url", ""):
            files.state.unlink()


def _in_use(path: Path) -> bool:
    with open(path, "a") as probe:
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(probe, fcntl.LOCK_UN)
        return False


def _changed_at(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _terminated_with_parent() -> None:
    """Linux: uvicorn gets SIGTERM when its supervisor dies (even by kill -9), so no server is left orphaned."""
    with suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m newsmon.prefect_api", description=supervise.__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--linger", type=float, required=True)
    parser.add_argument("--files", type=Path, required=True, help="the shared files' path without suffix")
    args = parser.parse_args(argv)
    supervise(args.port, args.linger, SharedFiles.at(args.files))


if __name__ == "__main__":
    main()
