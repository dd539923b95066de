"""Shared fixtures: loopback allowed, no politeness delay, one Prefect test harness per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything reads settings: tests serve pages on loopback, which newsmon refuses by default.
os.environ["NEWSMON_ALLOW_NETWORKS"] = "127.0.0.0/8"
os.environ["NEWSMON_HOST_DELAY"] = "0"
os.environ["NEWSMON_LOCK_TIMEOUT"] = "2"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("NEWSMON_DB", None)
# Flows run in-process here, dozens of them: a process pool per run would add seconds of worker start-up each.
# The default (a process pool on 2+ cores) is tested in test_scaling.py through the installed `newsmon` command.
os.environ["NEWSMON_TASK_RUNNER"] = "threads"

SHARED = Path(__file__).resolve().parents[2] / "shared"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` first: with workers (-n), the longest tests begin at once, beside the rest, instead of
    running alone at the end (the cross-validated figures take minutes)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect API for every flow run of the session (starting one costs 5-15 s, minutes on a loaded machine)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=600):
        yield


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "newsmon.duckdb"
