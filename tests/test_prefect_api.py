"""The temporary Prefect server a command starts when no API is configured."""

from __future__ import annotations

import tempfile

import httpx

from newsmon.prefect_api import TemporaryServer


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
