"""The operator's path from the README, for real: a self-hosted Prefect server, a process work pool,
`prefect deploy --all`, a worker, and a triggered ingest run that stores the demo sites' stories."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from newsmon.demo.sites import DemoSites

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "NEWSMON_DB": str(tmp_path / "ops.duckdb"),
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([BIN / "prefect", "server", "start", "--port", str(port)], env=env, stdout=log,
                              stderr=subprocess.STDOUT)

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
                return response.read() == b"true"
        except OSError:
            return False

    try:
        wait_for(healthy, 90, "the Prefect server")
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def run(env: dict[str, str], *args: str | Path) -> str:
    done = subprocess.run([str(a) for a in args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_deployed_ingest_runs_on_a_process_worker(prefect_server: dict[str, str], tmp_path: Path) -> None:
    env = prefect_server
    with DemoSites() as sites:
        opml = tmp_path / "demo.opml"
        opml.write_text(sites.opml())
        run(env, BIN / "newsmon", "feeds", "import", opml)
        run(env, BIN / "prefect", "work-pool", "create", "newsmon", "--type", "process")
        deployed = run(env, BIN / "prefect", "--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml")
        names = [d["name"] for d in yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text())["deployments"]]
        assert deployed.count("successfully created") == len(names) >= 5
        # The server's scheduler creates the runs of every scheduled deployment ahead of time.
        api = env["PREFECT_API_URL"]

        def scheduled() -> int:
            body = json.dumps({"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}).encode()
            request = urllib.request.Request(f"{api}/flow_runs/count", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.read())

        wait_for(lambda: scheduled() > 0, 60, "the scheduler to create scheduled runs")
        listed = run(env, BIN / "prefect", "deployment", "ls")
        for name in ("ingest/ingest", "maintenance/maintenance", "deliver-alerts/deliver-alerts"):
            assert name in listed
        log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen([BIN / "prefect", "worker", "start", "--pool", "newsmon"], env=env, cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            run(env, BIN / "prefect", "deployment", "run", "ingest/ingest")

            def stored() -> bool:
                out = subprocess.run([BIN / "newsmon", "query", "--format", "json", "SELECT status FROM runs"],
                                     env=env, capture_output=True, text=True)
                return out.returncode == 0 and json.loads(out.stdout or "[]") == [{"status": "completed"}]

            wait_for(stored, 120, "the worker's ingest run")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()
    stories = json.loads(run(env, BIN / "newsmon", "stories", "--since", "all", "--limit", "50", "--format", "json"))
    assert len(stories) == 15
    january = [s for s in stories if "defen" in s["title"].lower() and "export" in s["title"].lower()]
    assert len(january) == 1 and january[0]["source_count"] == 2
    runs = json.loads(run(env, BIN / "newsmon", "query", "--format", "json", "SELECT status, flow_run_id FROM runs"))
    assert runs[0]["flow_run_id"]
