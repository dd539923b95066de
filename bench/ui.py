"""How fast `newsmon ui` answers on a large store: each page rendered through the real app (in-process ASGI
client), the file opened read-only and closed per request as in production.

    python bench/ui.py [--articles 100000] [--repeat 5]

Seeds a temporary database with bench/seed.py (articles, stories of three, entities, mentions, facts), then
reports the median and worst time per page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import seed_store

from newsmon.ui.app import create_app

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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        seconds = seed_store(db, args.articles, before=datetime.now(UTC))
        print(f"seeded {args.articles:,} articles in {seconds:.1f} s")
        with TestClient(create_app(db)) as client:
            for name, path in PAGES.items():
                times = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    response = client.get(path)
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200, (path, response.status_code, response.text[:200])
                median, worst = statistics.median(times) * 1000, max(times) * 1000
                print(f"{name:<34} median {median:7.0f} ms   worst {worst:7.0f} ms")


if __name__ == "__main__":
    main()
