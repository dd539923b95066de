"""Ingest benchmark: a realistic crawl served on loopback, a cold pass, an idle pass (every feed 304), an update
pass, and the floor.

    python bench/ingest.py [--outlets 50] [--hosts 10] [--wire-share 0.5] [--latency 0.0]
                           [--runner threads|processes|dask] [--workers N] [--batch-size N] [--no-floor]
                           [--as-user] [--host-per-outlet] [--polite] [--trickle SECONDS]

`--as-user` is how a new user runs it: `--host-per-outlet` (each outlet its own loopback address), `--polite`
(the default politeness, 2 requests and 0.5 s per host, instead of none) and `--trickle 60` (one more feed, on a
host of its own, takes 60 s to answer). With a trickling feed, the time from the start of the cold pass to its
first stored (and clustered) article and to its first alert (a rule matching "said") is printed too. Without
PREFECT_API_URL each run starts Prefect's temporary server, as a new user's does; its memory is counted in the
total of all processes.

The crawl is bench/corpus.py: the 982 real ECB+ news documents published by `outlets` outlets (two feeds each,
~100 feeds), a `wire_share` of them again by another outlet (wire copies), on pages of 60-120 KB with sidebars of
other headlines; the update pass changes 5% of the pages. Each pass runs `newsmon run` as a user would (Prefect's
own start included) and prints its wall time, articles/s and seconds of work per stage. Also printed: peak
memory (the sum over the flow's process and its children, sampled every 0.2 s; a temporary Prefect server is
counted apart), B-cubed F1 of the stories against the ECB+ gold, and the floor (bench/floor.py: the same pages
fetched, extracted with trafilatura and read by the same spaCy components over as many processes, storing
nothing) with the cold pass's ratio to it.

Set PREFECT_API_URL to a running server to leave Prefect's temporary server out of the figures.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import build_corpus, serve, serve_trickling_feed, updated, urls
from floor import floor_seconds


class PeakMemory:
    """Peak RSS of this process and its descendants, summed, sampled from /proc in a thread."""

    def __init__(self, interval: float = 0.2, *, exclude: tuple[int | None, ...] = ()) -> None:
        self.interval, self.peak, self.server_peak, self.exclude = interval, 0.0, 0.0, set(exclude)
        self.total_peak = 0.0
        self.per_process: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            ours = server = 0.0
            for pid in [*_descendants(os.getpid()), os.getpid()]:
                if pid in self.exclude:
                    continue
                mib = _rss_mib(pid)
                if "uvicorn" in _cmdline(pid) or "prefect.server" in _cmdline(pid):
                    server += mib
                else:
                    ours += mib
                    self.per_process[pid] = max(self.per_process.get(pid, 0.0), mib)
            self.peak, self.server_peak = max(self.peak, ours), max(self.server_peak, server)
            self.total_peak = max(self.total_peak, ours + server)

    def breakdown(self) -> str:
        """The flow's process, then its largest children."""
        main = self.per_process.get(os.getpid(), 0.0)
        children = sorted((m for pid, m in self.per_process.items() if pid != os.getpid()), reverse=True)
        return f"flow process {main:.0f} MiB, largest children " + ", ".join(f"{m:.0f}" for m in children[:3])


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return 0.0


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CrawlServer:
    """The crawl served from a process of its own, so its pages' memory and CPU are not counted as newsmon's."""

    def __init__(self, *, outlets: int, hosts: int, wire_share: float, latency: float, trickle: float = 0.0) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve_crawl, args=(child, outlets, hosts, wire_share, latency, trickle), daemon=True
        )
        self._process.start()
        self.feed_urls, self.page_urls, self.gold, self.wire_copies = self._conn.recv()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def update(self) -> None:
        self._conn.send("update")
        self._conn.recv()

    def stop(self) -> None:
        if self._process.is_alive():
            self._conn.send("stop")
            self._process.join()

    def __enter__(self) -> CrawlServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serve_crawl(
    conn: Connection, outlets: int, hosts: int, wire_share: float, latency: float, trickle: float
) -> None:
    corpus = build_corpus(outlets=outlets, hosts=hosts, wire_share=wire_share)
    live = [dict(routes) for routes in corpus.hosts]
    servers = [serve(_host_address(i), live[i], latency=latency) for i in range(hosts)]
    feeds = urls(corpus.feed_paths, servers)
    if trickle:
        slow = serve_trickling_feed("127.0.0.9", trickle)
        feeds.append(f"http://127.0.0.9:{slow.server_address[1]}/feed.xml")
    conn.send((feeds, urls(corpus.page_paths, servers), corpus.gold, sum(a.wire for a in corpus.articles)))
    while conn.recv() == "update":
        for routes, new in zip(live, updated(corpus).hosts, strict=True):
            routes.update(new)
        conn.send("updated")


def _host_address(i: int) -> str:
    """127.0.0.10, 127.0.0.11, ... then 127.0.1.0, ...: one loopback address per host, however many."""
    n = 10 + i
    return f"127.0.{n // 250}.{n % 250}"


class FirstEvents:
    """When the pass first stored and clustered an article (newsmon.progress, in this process)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: dict[str, float] = {}

    def __call__(self, counter: str, advance: int, total: int | None) -> None:
        if advance:
            self.first.setdefault(counter, time.perf_counter() - self.started)


def first_alert_seconds(db: Path, started_at: object) -> float | None:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT epoch(min(created_at)) - epoch(?::TIMESTAMPTZ) FROM alerts", [started_at]).fetchall()
    return None if not rows or rows[0][0] is None else float(rows[0][0])


def _seed(db: Path, n: int) -> float:
    from datetime import UTC, datetime

    from seed import seed_store

    from newsmon.flows.facts import facts_version
    from newsmon.settings import get_settings

    return seed_store(db, n, before=datetime(2013, 5, 1, tzinfo=UTC), facts_version=facts_version(get_settings()))


def bcubed_f1(db: Path, gold: dict[str, str]) -> float:
    """B-cubed F1 of the stored stories against the ECB+ story of each page."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT url, story_id FROM articles WHERE story_id IS NOT NULL").fetchall()
    pred = {urlsplit(url).path: sid for url, sid in rows if urlsplit(url).path in gold}
    by_pred: dict[str, set[str]] = {}
    by_gold: dict[str, set[str]] = {}
    for path, sid in pred.items():
        by_pred.setdefault(sid, set()).add(path)
        by_gold.setdefault(gold[path], set()).add(path)
    p = r = 0.0
    for path, sid in pred.items():
        same = by_pred[sid] & by_gold[gold[path]]
        p += len(same) / len(by_pred[sid])
        r += len(same) / len(by_gold[gold[path]])
    p, r = p / max(len(pred), 1), r / max(len(pred), 1)
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outlets", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--wire-share", type=float, default=0.5)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the server waits before each answer")
    parser.add_argument("--runner", choices=["threads", "processes", "dask"], default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--stored", type=int, default=0, help="articles of the past stored before the cold pass")
    parser.add_argument("--no-floor", action="store_true", help="skip measuring the floor")
    parser.add_argument("--host-per-outlet", action="store_true", help="each outlet on its own loopback address")
    parser.add_argument("--polite", action="store_true", help="default politeness (else none)")
    parser.add_argument("--trickle", type=float, default=0.0, help="one more feed taking this many s to answer")
    parser.add_argument("--as-user", action="store_true", help="--host-per-outlet --polite --trickle 60")
    args = parser.parse_args()
    if args.as_user:
        args.host_per_outlet, args.polite, args.trickle = True, True, args.trickle or 60.0
    if args.host_per_outlet:
        args.hosts = args.outlets

    os.environ.update(NEWSMON_ALLOW_NETWORKS="127.0.0.0/8", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    # Prefect's default 20 s to start its temporary server is too short on a loaded 2-core machine (the run then
    # fails before doing anything); `newsmon` itself is to set a longer one.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    if not args.polite:
        os.environ["NEWSMON_HOST_DELAY"] = "0"
    for name, value in (("TASK_RUNNER", args.runner), ("WORKERS", args.workers), ("BATCH_SIZE", args.batch_size)):
        if value is not None:
            os.environ[f"NEWSMON_{name}"] = str(value)
    from datetime import UTC, datetime

    from click.testing import CliRunner

    from newsmon import progress
    from newsmon.cli import cli

    # Read before the runs: a pass started without one points its workers at its temporary server (os.environ).
    prefect_server = "configured" if os.environ.get("PREFECT_API_URL") else "temporary (none configured)"
    crawl = CrawlServer(outlets=args.outlets, hosts=args.hosts, wire_share=args.wire_share, latency=args.latency,
                        trickle=args.trickle)
    pages = len(crawl.page_urls)

    db = Path(tempfile.mkdtemp()) / "bench.duckdb"
    if args.stored:
        with multiprocessing.get_context("spawn").Pool(1) as pool:  # its memory is not the pipeline's
            seeded = pool.apply(_seed, (db, args.stored))
        print(f"stored before the cold pass: {args.stored} articles of the 60 days before the crawl ({seeded:.0f} s)")
    runner = CliRunner()
    runner.invoke(cli, ["--db", str(db), "feeds", "add", *crawl.feed_urls], obj={}, catch_exceptions=False)
    # A webhook nobody answers (the discard port): the alert is in the outbox either way; its creation is timed.
    runner.invoke(cli, ["--db", str(db), "alerts", "add", "said", "--keywords", "said", "--notify",
                        "http://127.0.0.1:9/hook"], obj={}, catch_exceptions=False)
    results = []
    firsts = FirstEvents()
    cold_started_at = datetime.now(UTC)
    with PeakMemory(exclude=(crawl.pid,)) as memory:
        for label, extra in (("cold", []), ("idle", ["--all"]), ("update", ["--all"])):
            if label == "update":
                crawl.update()
            started = time.perf_counter()
            with progress.listening(firsts if label == "cold" else lambda *_: None):
                out = runner.invoke(cli, ["--db", str(db), "run", *extra], obj={}, catch_exceptions=False).output
            seconds = time.perf_counter() - started
            if "articles:" not in out:
                print(f"the {label} pass failed:\n{out[-3000:]}", file=sys.stderr)
            results.append((label, seconds, [line for line in out.splitlines()
                                             if line.startswith(("articles:", "stories:", "time:"))]))
    f1 = bcubed_f1(db, crawl.gold)
    first_alert = first_alert_seconds(db, cold_started_at)
    crawl.stop()
    wires = crawl.wire_copies
    task_runner = os.environ.get("NEWSMON_TASK_RUNNER", "default")
    print(f"{len(crawl.feed_urls)} feeds, {pages} pages ({wires} wire copies) on {args.hosts} hosts, latency "
          f"{args.latency * 1000:.0f} ms, runner={task_runner}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores, politeness {'default' if args.polite else 'off'}, "
          f"trickling feed {args.trickle:g} s, Prefect server {prefect_server}")
    load = os.getloadavg()
    print(f"  load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)")
    for label, seconds, lines in results:
        rate = f", {pages / seconds:.1f} articles/s, {1000 * seconds / pages:.1f} ms/article" if label == "cold" else ""
        print(f"  {label:6} pass: {seconds:6.1f} s{rate}")
        for line in lines:
            print(f"      {line}")
    server = f"; a temporary Prefect server {memory.server_peak:.0f} MiB more" if memory.server_peak else ""
    print(f"  peak memory (RSS, flow process + workers): {memory.peak:.0f} MiB ({memory.breakdown()}){server}")
    print(f"  peak memory of all processes (sampled together): {memory.total_peak:.0f} MiB")
    stored = firsts.first.get("stories")
    print(f"  cold pass: first article stored and clustered after {stored or float('nan'):.1f} s, first alert after "
          f"{first_alert if first_alert is not None else float('nan'):.1f} s, first page fetched after "
          f"{firsts.first.get('pages', float('nan')):.1f} s")
    print(f"  stories: B-cubed F1 {f1:.3f} against the ECB+ gold")
    if not args.no_floor:
        processes = args.workers or os.cpu_count() or 2
        with CrawlServer(outlets=args.outlets, hosts=args.hosts, wire_share=args.wire_share,
                         latency=args.latency) as fresh:
            floor = floor_seconds(fresh.page_urls, processes=processes)
        print(f"  floor (fetch + trafilatura + spaCy tagger/NER, {processes} processes, nothing stored): "
              f"{floor:.1f} s; cold pass / floor = {results[0][1] / floor:.2f}; "
              f"idle / cold = {results[1][1] / results[0][1]:.1%}")


if __name__ == "__main__":
    main()
