"""Ingest benchmark: N feeds x M pages served on loopback, a cold pass, then an idle pass (every feed 304).

    python bench/ingest.py [--feeds 100] [--pages 4] [--hosts 10] [--runner threads|processes|dask]

Pages are realistic in size and structure (navigation, sidebar of other headlines, footer, ~600 words of
text); feeds are spread over several loopback addresses (hosts), since politeness limits apply per host.
Prints the wall time of each pass (Prefect's own start included), articles/s, the peak memory (RSS), and the
floor (bench/floor.py: the same pages fetched, extracted and read by the same spaCy components over as many
processes, storing nothing) with the ratio of the cold pass to it.
"""

from __future__ import annotations

import argparse
import http.server
import os
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor import floor_seconds

WORDS = [
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "with", "as", "by", "at", "from", "government",
    "minister", "said", "percent", "million", "company", "market", "officials", "report", "growth", "exports",
    "prices", "week", "city", "council", "plan", "year", "budget", "workers", "strike", "court",
]


def page(title: str, rng: random.Random, others: list[str]) -> bytes:
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + ".</p>" for _ in range(10)
    )
    sidebar = "".join(f'<li><a href="/x">{o}</a></li>' for o in others[:8])
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>'
        '<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a></nav>'
        f"<article><h1>{title}</h1>{paragraphs}</article><aside><h3>Most read</h3><ul>{sidebar}</ul></aside>"
        "<footer><p>© 2026 Bench Times · About · Contact</p></footer></body></html>"
    ).encode()


def serve(host: str, routes: dict[str, tuple[bytes, str]]) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body, ctype = routes.get(self.path.split("?")[0], (b"", ""))
            if not body:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--runner", choices=["threads", "processes", "dask"], default="threads")
    args = parser.parse_args()

    os.environ.update(
        NEWSMON_ALLOW_NETWORKS="127.0.0.0/8", NEWSMON_HOST_DELAY="0", NEWSMON_TASK_RUNNER=args.runner,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    from click.testing import CliRunner

    from newsmon.cli import cli

    rng = random.Random(7)
    routes: list[dict[str, tuple[bytes, str]]] = [{} for _ in range(args.hosts)]
    servers = [serve(f"127.0.0.{10 + i}", routes[i]) for i in range(args.hosts)]
    feed_urls = []
    titles = [f"Story {f}-{p}: " + " ".join(rng.choice(WORDS) for _ in range(6)) for f in range(args.feeds)
              for p in range(args.pages)]
    for f in range(args.feeds):
        i = f % args.hosts
        host, port = servers[i].server_address[:2]
        base = f"http://{host}:{port}"
        items = []
        for p in range(args.pages):
            title = titles[f * args.pages + p]
            routes[i][f"/f{f}/p{p}.html"] = (page(title, rng, rng.sample(titles, 8)), "text/html; charset=utf-8")
            items.append(f"<item><title>{title}</title><link>{base}/f{f}/p{p}.html</link><guid>{f}-{p}</guid></item>")
        channel = f"<channel><title>Feed {f}</title>{''.join(items)}</channel>"
        rss = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
        routes[i][f"/f{f}.xml"] = (rss.encode(), "application/rss+xml")
        feed_urls.append(f"{base}/f{f}.xml")

    db = Path(tempfile.mkdtemp()) / "bench.duckdb"
    runner = CliRunner()
    runner.invoke(cli, ["--db", str(db), "feeds", "add", *feed_urls], obj={}, catch_exceptions=False)
    results = []
    for label, extra in (("cold", []), ("idle", ["--all"])):
        started = time.perf_counter()
        out = runner.invoke(cli, ["--db", str(db), "run", *extra], obj={}, catch_exceptions=False).output
        results.append((label, time.perf_counter() - started, [line for line in out.splitlines()
                                                               if line.startswith(("feeds:", "articles:", "time:"))]))
    page_urls = [f"http://{servers[f % args.hosts].server_address[0]}:{servers[f % args.hosts].server_address[1]}"
                 f"/f{f}/p{p}.html" for f in range(args.feeds) for p in range(args.pages)]
    floor = floor_seconds(page_urls, processes=os.cpu_count() or 2)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Worker processes (process pool, local Dask cluster, the temporary Prefect server) are counted apart.
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    pages = args.feeds * args.pages
    print(f"{args.feeds} feeds x {args.pages} pages on {args.hosts} hosts, runner={args.runner}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    for label, seconds, lines in results:
        rate = f", {pages / seconds:.1f} articles/s" if label == "cold" else ""
        print(f"  {label:5} pass: {seconds:6.1f} s{rate}   [{' | '.join(lines)}]")
    print(f"  peak memory (RSS): {peak:.0f} MiB in the flow's process, {child:.0f} MiB in the largest child")
    print(f"  floor (fetch + trafilatura + spaCy tagger/NER, {os.cpu_count()} processes, nothing stored): "
          f"{floor:.1f} s; cold pass / floor = {results[0][1] / floor:.2f}")


if __name__ == "__main__":
    main()
