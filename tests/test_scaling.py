"""Past one machine, tested on one: feed shards, and article batches on a Dask cluster."""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path

import pytest

from newsmon.flows.runners import in_shard, make_task_runner
from newsmon.settings import Settings
from tests.cli import newsmon
from tests.site import PARAGRAPHS, Route, Site, article_page, rss, rss_item

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def site() -> Site:
    with Site() as s:
        for f in range(8):
            items = []
            for p in range(2):
                path = f"/f{f}/p{p}.html"
                s.add(path, Route(body=article_page(f"Feed {f} story {p}", [f"Story {f}.{p} has its own lead.", *PARAGRAPHS])))
                items.append(rss_item(f"Feed {f} story {p}", s.url(path), guid=f"{f}-{p}"))
            s.add(f"/f{f}.xml", Route(body=rss(items), content_type="application/rss+xml"))
        yield s


def url_in_shard(site: Site, path: str, shard: int, shards: int) -> str:
    """The feed's URL with a query that puts it in `shard` (its hash decides; the site ignores the query): with the
    bare URLs, whose hash changes with the site's port, all 8 feeds fell in one of 2 shards once in 128 runs."""
    return next(u for k in itertools.count() if in_shard(u := site.url(f"{path}?v={k}"), shard, shards))


def test_shards_split_the_feeds_between_them(site: Site, db_path: Path) -> None:
    urls = [url_in_shard(site, f"/f{f}.xml", f % 2, 2) for f in range(8)]
    assert all(sum(in_shard(u, i, 3) for i in range(3)) == 1 for u in urls)  # each feed in exactly one shard
    assert newsmon(db_path, "feeds", "add", *urls).exit_code == 0
    first = newsmon(db_path, "run", "--shard", "0/2")
    second = newsmon(db_path, "run", "--shard", "1/2")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    polled = [int(re.search(r"^feeds: (\d+) polled", r.output, re.MULTILINE).group(1)) for r in (first, second)]  # type: ignore[union-attr]
    assert polled == [4, 4]
    assert all(site.hits(f"/f{f}.xml") == 1 for f in range(8))
    rows = json.loads(newsmon(db_path, "query", "--format", "json", "SELECT count(*) AS n FROM articles").output)
    assert rows == [{"n": 16}]
    assert newsmon(db_path, "run", "--shard", "2/2").exit_code == 2


def test_the_default_runner_reads_on_a_process_per_core(db_path: Path, tmp_path: Path) -> None:
    """`newsmon run` as installed, with the default task runner (processes on this 2+-core machine): the demo's
    stories and facts come out as with threads."""
    import shutil
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    from newsmon.demo.sites import DemoSites
    from newsmon.flows.runners import runner_kind

    assert runner_kind(Settings(task_runner="auto")) == ("processes" if (os.cpu_count() or 1) >= 2 else "threads")
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_TASK_RUNNER"}
    env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    command = shutil.which("newsmon", path=str(Path(sys.executable).parent)) or "newsmon"
    with DemoSites() as sites:
        opml = tmp_path / "demo.opml"
        opml.write_text(sites.opml())
        assert newsmon(db_path, "feeds", "import", str(opml)).exit_code == 0
        run = subprocess.run([command, "--db", str(db_path), "run"], env=env, capture_output=True, text=True,
                             timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "stories: 22 articles assigned, 15 new stories, 1 near-duplicate" in run.stdout
    assert "facts: extracted from 21 articles" in run.stdout
    if (os.cpu_count() or 1) >= 2:
        assert "on WorkerProcesses" in run.stdout + run.stderr  # Prefect's ProcessPoolTaskRunner, Ctrl-C aware


def test_article_batches_run_on_a_dask_cluster(site: Site, db_path: Path) -> None:
    from prefect_dask import DaskTaskRunner

    from newsmon.flows.ingest import ingest

    assert isinstance(make_task_runner(Settings(task_runner="dask")), DaskTaskRunner)
    urls = [site.url(f"/f{f}.xml") for f in range(8)]
    assert newsmon(db_path, "feeds", "add", *urls).exit_code == 0
    # A local cluster (threads, to start fast); batches of 4 pages, so several run side by side.
    on_dask = ingest.with_options(
        task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 2, "processes": False, "threads_per_worker": 1})
    )
    os.environ["NEWSMON_BATCH_SIZE"] = "4"
    try:
        summary = on_dask(db=str(db_path))
    finally:
        del os.environ["NEWSMON_BATCH_SIZE"]
    assert summary.articles_new == 16 and summary.articles_failed == 0
    rows = json.loads(newsmon(db_path, "query", "--format", "json",
                              "SELECT count(*) AS n, count(story_id) AS assigned FROM articles").output)
    assert rows == [{"n": 16, "assigned": 16}]
