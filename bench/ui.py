"""How fast `newsmon ui` answers on a large store: each page requested over HTTP from the real `newsmon ui`
command (the file opened read-only and closed per request, as always).

    python bench/ui.py [--articles 100000] [--repeat 5] [--db seeded.duckdb]

Seeds a temporary database with bench/seed.py (articles, stories of three, entities, mentions, facts), then
reports the median and worst time per page. `--db PATH` keeps the seeded database there and reuses it next time
(seeding 100k articles takes minutes).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import seed_store

PAGES = {
    "stories (latest 50)": "/stories",
    "stories, 7 days, min 2 outlets": "/stories?since=7d&min_outlets=2",
    "stories, by outlet": "/stories?outlet=outlet7.example",
    "stories, by entity": "/stories?entity=nairobi",
    "stories, keyword (scans texts)": "/stories?q=earthquake+rescue",
    "a story": "/stories/s-seed100",
    "an article": "/articles/seed300",
    "an entity (all its stories)": "/entities/place:nairobi",
    "feeds": "/feeds",
    "alerts": "/alerts",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, help="Seed here once and reuse it (default: a temporary file).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        if db.exists():
            print(f"reusing {db}")
        else:
            seconds = seed_store(db, args.articles, before=datetime.now(UTC))
            print(f"seeded {args.articles:,} articles in {seconds:.1f} s")
        command = [str(Path(sys.executable).with_name("newsmon")), "--db", str(db), "ui", "--port", "0"]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            url = re.search(r"http://[\d.:]+", server.stdout.readline())
            assert url, "newsmon ui printed no address"
            with httpx.Client(base_url=url[0], trust_env=False, timeout=120) as client:
                for name, path in PAGES.items():
                    _measure(client, name, path, args.repeat)
        finally:
            server.terminate()
            server.wait()


def _measure(client: httpx.Client, name: str, path: str, repeat: int) -> None:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
    median, worst = statistics.median(times) * 1000, max(times) * 1000
    print(f"{name:<34} median {median:7.0f} ms   worst {worst:7.0f} ms", flush=True)

if __name__ == "__main__":
    main()
