"""The deployment files are checked here, since Docker cannot run on the build machine."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parents[1]


def test_prefect_yaml_deploys_every_flow_with_valid_parameters() -> None:
    spec = yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in spec["deployments"]}
    assert set(deployments) >= {"ingest", "maintenance", "recluster"}
    flows_declared = set()
    for path in (ROOT / "flows").glob("*.py"):
        flows_declared |= {(path.name, m) for m in re.findall(r"@flow\(name=\"([\w-]+)\"", path.read_text())}
    deployed = set()
    for deployment in deployments.values():
        flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
        deployed.add((Path(deployment["entrypoint"].split(":")[0]).name, flow.name))
        accepted = set(inspect.signature(flow.fn).parameters)
        assert set(deployment.get("parameters", {})) <= accepted, deployment["name"]
        assert deployment["work_pool"]["name"] == "newsmon"
        for schedule in deployment.get("schedules", []):
            assert schedule["timezone"] == "UTC"
    assert flows_declared <= deployed  # no flow left without a deployment
    assert deployments["ingest"]["schedules"] == [{"interval": 900, "timezone": "UTC"}]
    assert deployments["ingest"]["concurrency_limit"]["limit"] == 1



def test_prefect_yaml_holds_the_schedule_table() -> None:
    """`newsmon serve` and the work-pool setup come from one table (flows/schedules.py): they never drift."""
    from newsmon.flows.schedules import DEPLOYMENTS

    spec = {d["name"]: d for d in yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text())["deployments"]}
    assert set(spec) == {d.name for d in DEPLOYMENTS}
    for d in DEPLOYMENTS:
        written = spec[d.name]
        assert written["entrypoint"] == d.entrypoint, d.name
        assert written.get("parameters", {}) == d.parameters, d.name
        assert set(written["tags"]) == set(d.tags), d.name
        expected = [{"interval": d.interval_s} if d.interval_s else {"cron": d.cron}] if d.interval_s or d.cron else []
        assert [{k: v for k, v in s.items() if k != "timezone"} for s in written.get("schedules", [])] == expected
        limit = written.get("concurrency_limit") or {}
        assert (limit.get("limit"), limit.get("collision_strategy")) == (d.concurrency_limit, d.collision_strategy)
        assert load_flow_from_entrypoint(str(ROOT / d.entrypoint)).name == d.flow().name, d.name

def test_compose_runs_server_on_postgres_and_a_worker_with_a_data_volume() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "prefect-server", "worker"}
    server_env = services["prefect-server"]["environment"]
    assert server_env["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in server_env["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert services["prefect-server"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    worker = services["worker"]
    assert worker["environment"]["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert worker["environment"]["NEWSMON_DB"].startswith("/data/")
    assert "newsmon-data:/data" in worker["volumes"]
    assert set(compose["volumes"]) == {"prefect-db", "newsmon-data"}
    assert (ROOT / "deploy" / worker["build"]["context"] / worker["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"


def test_dockerfile_copies_every_package_folder() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    folders = set(pyproject["tool"]["setuptools"]["package-dir"].values())
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    assert folders <= copied, folders - copied
