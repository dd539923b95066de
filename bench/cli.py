"""How fast the CLI answers when there is nothing to do, and how many Prefect servers a demo starts.

    python bench/cli.py [--repeat 5] [--demo]

Prints the wall time of `newsmon --help` (interpreter and imports), of `newsmon run` while another pass holds
the run lock (it must answer before any Prefect server starts), and with --demo the wall time of `newsmon demo`
and the most Prefect API server processes seen among its descendants at once.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from newsmon.storage.lock import exclusive_run

NEWSMON = str(Path(sys.executable).with_name("newsmon"))
SERVER = "prefect.server.api.server:create_app"


def timed(*args: str) -> float:
    started = time.monotonic()
    subprocess.run([NEWSMON, *args], capture_output=True, check=False)
    return time.monotonic() - started


def servers_below(pid: int) -> int:
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout.splitlines()[1:]
    rows = [line.split(None, 2) for line in out]
    children: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        if len(row) == 3:
            children.setdefault(row[1], []).append((row[0], row[2]))
    count, todo = 0, [str(pid)]
    while todo:
        for child, args in children.get(todo.pop(), []):
            count += SERVER in args
            todo.append(child)
    return count


def demo(directory: Path) -> tuple[float, int]:
    started = time.monotonic()
    proc = subprocess.Popen([NEWSMON, "--db", str(directory / "demo.duckdb"), "demo"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    most = 0
    while proc.poll() is None:
        most = max(most, servers_below(proc.pid))
        time.sleep(0.5)
    return time.monotonic() - started, most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--demo", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        subprocess.run([NEWSMON, "--db", str(db), "feeds", "add", "https://example.org/rss"], capture_output=True,
                       check=True)
        helps = [timed("--help") for _ in range(args.repeat)]
        with exclusive_run(db):
            busy = [timed("--db", str(db), "run") for _ in range(args.repeat)]
        for name, times in (("newsmon --help", helps), ("newsmon run, lock held", busy)):
            print(f"{name}: median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})")
        if args.demo:
            seconds, servers = demo(Path(tmp))
            print(f"newsmon demo: {seconds:.0f} s, at most {servers} Prefect server process(es) at once")


if __name__ == "__main__":
    main()
