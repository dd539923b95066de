"""Benchmark of newsmon.stories: accuracy on ECB+ and cost per article as the stored window grows.

    python bench/stories.py [--data PATH]            # B-cubed P/R/F1 in file order + 3 seeded orders,
                                                     # threshold sensitivity (+-10%, +-20%), docs/s
    python bench/stories.py --scale [--sizes 10000,100000,1000000]
                                                     # ms per article with N synthetic articles stored
    python bench/stories.py --cv [--grid threshold=0.24,0.27,0.30,0.33,0.36]
                                                     # 2-fold cross-validation by topic of one setting:
                                                     # tuned on odd topics, scored on even, and vice versa

ECB+ has no dates, so time gives no evidence there; every topic holds two different events of the same
kind (hard negatives). Title = first line, text = the rest, source = URL host or doc id.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from newsmon.stories import Assignment, ClusterSettings, StoryClusterer, StoryDoc

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecbplus_docs.jsonl"


def load_ecbplus(path: Path) -> tuple[list[StoryDoc], dict[str, str]]:
    docs: list[StoryDoc] = []
    gold: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            title, _, text = rec["text"].partition("\n")
            source = urlparse(rec["url"]).hostname if rec.get("url") else None
            docs.append(StoryDoc(rec["doc_id"], source or rec["doc_id"], title, text, None))
            gold[rec["doc_id"]] = rec["story"]
    return docs, gold


def load_topics(path: Path) -> dict[str, int]:
    with path.open(encoding="utf-8") as fh:
        return {rec["doc_id"]: int(rec["topic"]) for rec in map(json.loads, fh)}


def bcubed(pred: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering (item -> cluster) against gold labels."""
    by_pred: dict[str, list[str]] = defaultdict(list)
    by_gold: dict[str, list[str]] = defaultdict(list)
    for item, c in pred.items():
        by_pred[c].append(item)
        by_gold[gold[item]].append(item)
    p = r = 0.0
    for item, c in pred.items():
        same = Counter(gold[x] for x in by_pred[c])[gold[item]]
        p += same / len(by_pred[c])
        r += same / len(by_gold[gold[item]])
    n = len(pred)
    p, r = p / n, r / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def run(docs: Sequence[StoryDoc], gold: dict[str, str], settings: ClusterSettings) -> dict[str, float]:
    clusterer = StoryClusterer(settings)
    start, cpu = time.perf_counter(), time.process_time()
    out = clusterer.assign(docs)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    p, r, f = bcubed({a.article_id: a.story_id for a in out}, gold)
    return {
        "P": p,
        "R": r,
        "F1": f,
        "docs_per_s": len(docs) / elapsed,
        "ms_per_doc": 1000 * elapsed / len(docs),
        "cpu_ms_per_doc": 1000 * cpu / len(docs),
        "stories": len({a.story_id for a in out}),
        "duplicates": sum(a.duplicate_of is not None for a in out),
    }


def orders(docs: list[StoryDoc], seeds: Sequence[int]) -> list[tuple[str, list[StoryDoc]]]:
    out = [("file order", docs)]
    for seed in seeds:
        shuffled = docs[:]
        random.Random(seed).shuffle(shuffled)
        out.append((f"shuffle seed {seed}", shuffled))
    return out


def with_page_noise(
    docs: list[StoryDoc], gold: dict[str, str], seed: int = 0, outlets: int = 40
) -> tuple[list[StoryDoc], dict[str, str]]:
    """ECB+ made to look like crawled pages: each article is published by one of `outlets` outlets and its
    page ends with a sidebar of 8 other headlines, half the outlet's own latest headlines, half headlines
    that rotate slowly ("most read", partners); 10% of articles are re-posted by another outlet under a new
    headline with one sentence dropped (wire copies), with that outlet's sidebar."""
    rng = random.Random(seed)
    titles = [d.title for d in docs if len(d.title.split()) >= 5]
    latest: list[list[str]] = [[rng.choice(titles) for _ in range(4)] for _ in range(outlets)]
    popular: list[list[str]] = [[rng.choice(titles) for _ in range(4)] for _ in range(outlets)]

    def page(outlet: int, title: str) -> str:
        if rng.random() < 0.3:
            popular[outlet].pop(0)
            popular[outlet].append(rng.choice(titles))
        text = "\n".join(latest[outlet] + popular[outlet])
        latest[outlet] = [*latest[outlet][1:], title]
        return text

    out: list[StoryDoc] = []
    labels = dict(gold)
    for d in docs:
        outlet = rng.randrange(outlets)
        out.append(replace(d, source=f"outlet{outlet}.example", text=d.text + "\n" + page(outlet, d.title)))
        if rng.random() < 0.1:
            lines = d.text.split("\n")
            if len(lines) > 3:
                del lines[rng.randrange(1, len(lines))]
            other = (outlet + 1 + rng.randrange(outlets - 1)) % outlets
            copy_id = d.article_id + "-copy"
            title = "Report: " + d.title
            text = "\n".join(lines) + "\n" + page(other, title)
            out.append(StoryDoc(copy_id, f"outlet{other}.example", title, text, None))
            labels[copy_id] = gold[d.article_id]
    return out, labels


def accuracy(path: Path, seeds: Sequence[int]) -> None:
    docs, gold = load_ecbplus(path)
    _accuracy("ECB+", docs, gold, seeds)
    noisy_docs, noisy_gold = with_page_noise(docs, gold)
    print()
    _accuracy("ECB+ as crawled pages (outlet sidebars + wire copies)", noisy_docs, noisy_gold, seeds)


def _accuracy(label: str, docs: list[StoryDoc], gold: dict[str, str], seeds: Sequence[int]) -> None:
    base = ClusterSettings()
    print(f"{label}: {len(docs)} docs, {len(set(gold.values()))} gold stories; threshold {base.threshold}")
    print(
        f"{'order':<16} {'P':>6} {'R':>6} {'F1':>6} {'stories':>7} {'dups':>5} {'docs/s':>7} {'ms/doc':>7} "
        f"{'cpu ms/doc':>10}"
    )
    all_orders = orders(docs, seeds)
    f1s = []
    for name, seq in all_orders:
        m = run(seq, gold, base)
        f1s.append(m["F1"])
        print(
            f"{name:<16} {m['P']:6.3f} {m['R']:6.3f} {m['F1']:6.3f} {m['stories']:7d} {m['duplicates']:5d} "
            f"{m['docs_per_s']:7.0f} {m['ms_per_doc']:7.2f} {m['cpu_ms_per_doc']:10.2f}"
        )
    print(f"mean F1 {sum(f1s) / len(f1s):.3f}  min {min(f1s):.3f}")
    print("\nthreshold sensitivity (mean F1 over the orders above)")
    for factor in (0.8, 0.9, 1.0, 1.1, 1.2):
        s = replace(base, threshold=round(base.threshold * factor, 4))
        res = [run(seq, gold, s) for _, seq in all_orders]
        mean = {k: sum(r[k] for r in res) / len(res) for k in ("P", "R", "F1")}
        tag = "base" if factor == 1.0 else f"{factor - 1:+.0%}"
        print(f"  threshold {s.threshold:.3f} ({tag:>4}): P {mean['P']:.3f} R {mean['R']:.3f} F1 {mean['F1']:.3f}")


def cross_validate(path: Path, seeds: Sequence[int], grid: str) -> None:
    """Guard against tuning to ECB+: each fold (odd / even topics) is clustered on its own, plain and as
    crawled pages, in file order and the seeded orders; a value of `grid` ("field=v1,v2,...", a
    ClusterSettings field) is chosen on one fold and scored on the other. A fold holds half the topics, so
    its F1 compares values of the grid, not with the full set's F1."""
    name, _, values = grid.partition("=")
    base = ClusterSettings()
    kind = type(getattr(base, name))
    candidates = [kind(v) for v in values.split(",")]
    docs, gold = load_ecbplus(path)
    topics = load_topics(path)
    folds: dict[str, list[tuple[list[StoryDoc], dict[str, str]]]] = {}
    for fold, parity in (("odd", 1), ("even", 0)):
        part = [d for d in docs if topics[d.article_id] % 2 == parity]
        part_gold = {d.article_id: gold[d.article_id] for d in part}
        folds[fold] = [(part, part_gold), with_page_noise(part, part_gold)]
    print(f"2-fold cross-validation by topic of {name}; mean F1 over orders, (plain + crawled) / 2")
    print(f"{name:>12} {'odd topics':>10} {'even topics':>11}")
    scores: dict[str, dict[object, float]] = {"odd": {}, "even": {}}
    for value in candidates:
        settings = replace(base, **{name: value})
        for fold, variants in folds.items():
            f1s = [run(seq, g, settings)["F1"] for d, g in variants for _, seq in orders(d, seeds)]
            scores[fold][value] = sum(f1s) / len(f1s)
        print(f"{value!s:>12} {scores['odd'][value]:10.3f} {scores['even'][value]:11.3f}")
    held_out = []
    for tune, test in (("odd", "even"), ("even", "odd")):
        best = max(candidates, key=lambda v: scores[tune][v])
        held_out.append(scores[test][best])
        print(f"tuned on {tune} topics: {name}={best}, held-out {test} topics F1 {scores[test][best]:.3f}")
    print(f"mean held-out F1 {sum(held_out) / 2:.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seeds", default="1,2,3", help="seeds of the shuffled orders")
    ap.add_argument("--scale", action="store_true", help="run the scale benchmark instead")
    ap.add_argument("--sizes", default="10000,100000", help="stored articles for --scale")
    ap.add_argument("--cv", action="store_true", help="2-fold cross-validation by topic instead")
    ap.add_argument("--grid", default="threshold=0.24,0.27,0.30,0.33,0.36", help="field=values for --cv")
    ap.add_argument("--probes", type=int, default=2000, help="articles timed at each size for --scale")
    ap.add_argument("--memory", action="store_true", help="memory of one long stream at --sizes instead")
    ap.add_argument("--window", type=int, default=ClusterSettings().max_open_articles, help="cap for --memory")
    args = ap.parse_args(argv)
    if args.scale or args.memory:
        sizes = [int(x) for x in args.sizes.split(",")]
        scale(sizes, args.probes) if args.scale else memory(sizes, args.window)
        return 0
    if not args.data.exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    seeds = [int(x) for x in args.seeds.split(",") if x]
    if args.cv:
        cross_validate(args.data, seeds, args.grid)
        return 0
    accuracy(args.data, seeds)
    return 0


_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["ar", "en", "ol", "us", "im"]


class _Synthetic:
    """Deterministic synthetic news: each story has its own names, place, figures and topical words drawn
    from large pools (Zipf-like common words shared by all), so stories overlap the way real ones do."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = [self._word(2 + i % 2) for i in range(30000)]
        self.names = [self._word(2 + i % 2).capitalize() for i in range(60000)]
        self.common = self.words[:400]

    def _word(self, n: int) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(n))

    def story(self) -> dict[str, list[str]]:
        r = self.rng
        return {
            "names": [f"{r.choice(self.names)} {r.choice(self.names)}" for _ in range(3)] + r.sample(self.names, 3),
            "topic": [self.words[int(r.paretovariate(0.8)) % len(self.words)] for _ in range(12)]
            + r.sample(self.words, 8),
            "numbers": [f"${r.randint(2, 900)}.{r.randint(1, 9)} million", f"{r.randint(11, 95)}%"],
        }

    def doc(self, story: dict[str, list[str]], article_id: str, when: datetime) -> StoryDoc:
        r = self.rng

        def sentence() -> str:
            parts = [r.choice(story["names"]), *r.sample(story["topic"], 5), *r.sample(self.common, 5)]
            if r.random() < 0.4:
                parts.append(r.choice(story["numbers"]))
            r.shuffle(parts[1:])
            return " ".join(parts) + "."

        title = " ".join([*r.sample(story["topic"], 4), story["names"][3]])
        text = "\n".join(sentence() for _ in range(8))
        return StoryDoc(article_id, f"outlet{r.randint(1, 300)}.example", title, text, when)


def scale(sizes: Sequence[int], probes: int) -> None:
    """Cost per assigned article with N articles already stored in the open window and its indexes.

    The stored articles are loaded through restore() (as after a restart: same state updates as assign,
    minus the decision), all inside one window so none closes. Then `probes` new articles, half of them
    continuing stored stories, are assigned and timed."""
    head = ("stored", "open stories", "fill s", "ms/article", "cpu ms", "p99 ms", "scored", "joined", "RSS MB")
    print("{:>9} {:>12} {:>7} {:>10} {:>7} {:>7} {:>6} {:>6} {:>7}".format(*head))
    base = datetime(2026, 2, 1, tzinfo=UTC)
    for size in sizes:
        gen = _Synthetic(seed=size)
        # The window cap lifted: this measures the indexes with `size` articles in them.
        clusterer = StoryClusterer(ClusterSettings(max_open_articles=size + probes))
        stories: list[tuple[str, dict[str, list[str]]]] = []
        start = time.perf_counter()
        batch: list[tuple[StoryDoc, Assignment]] = []
        n = 0
        while n < size:
            story = gen.story()
            sid = f"s-syn{n}"
            stories.append((sid, story))
            for _ in range(min(gen.rng.randint(1, 4), size - n)):
                when = base + timedelta(seconds=n * 86400 / max(size, 1))  # all within one day
                doc = gen.doc(story, f"syn{n}", when)
                batch.append((doc, Assignment(doc.article_id, sid, None, 1.0, {"method": "story"})))
                n += 1
            if len(batch) >= 5000:
                clusterer.restore(batch)
                batch = []
        clusterer.restore(batch)
        fill = time.perf_counter() - start
        probe_docs = []
        expected = {}
        for i in range(probes):
            when = base + timedelta(days=1, seconds=i)
            if i % 2:
                sid, story = stories[gen.rng.randrange(len(stories))]
                expected[f"probe{i}"] = sid
            else:
                story = gen.story()
            probe_docs.append(gen.doc(story, f"probe{i}", when))
        times = []
        joined = cands = 0
        cpu = time.process_time()
        for doc in probe_docs:
            t0 = time.perf_counter()
            (a,) = clusterer.assign([doc])
            times.append(time.perf_counter() - t0)
            joined += expected.get(a.article_id) == a.story_id
            cands += a.evidence.get("candidates", 0)
        cpu_ms = 1000 * (time.process_time() - cpu) / len(probe_docs)
        times.sort()
        ms = 1000 * sum(times) / len(times)
        p99 = 1000 * times[int(0.99 * (len(times) - 1))]
        print(
            f"{size:9d} {clusterer.open_stories:12d} {fill:7.1f} {ms:10.2f} {cpu_ms:7.2f} {p99:7.2f} "
            f"{cands / len(probe_docs):6.1f} "
            f"{joined / max(len(expected), 1):6.1%} {_rss_mb():7.0f}"
        )


def memory(sizes: Sequence[int], window: int) -> None:
    """Memory of one long stream: `max(sizes)` synthetic articles, all published within one day (so no story
    closes by time), assigned in batches of 200 as a pass does, with the window capped at `window` articles
    (`max_open_articles`, NEWSMON_STORY_WINDOW_ARTICLES). Prints the process's RSS at each size: it grows
    with the window until the cap, then stays flat."""
    head = ("articles", "in window", "open stories", "closed early", "ms/article", "RSS MB")
    print("{:>9} {:>10} {:>13} {:>13} {:>10} {:>7}".format(*head))
    base = datetime(2026, 2, 1, tzinfo=UTC)
    total = max(sizes)
    gen = _Synthetic(seed=1)
    clusterer = StoryClusterer(ClusterSettings(max_open_articles=window))
    recent: list[dict[str, list[str]]] = []  # stories that may get another article
    n, last_n, last_t = 0, 0, time.perf_counter()
    for size in sorted(sizes):
        while n < size:
            batch = []
            for _ in range(min(200, size - n)):
                if recent and gen.rng.random() < 0.5:
                    story = recent[gen.rng.randrange(len(recent))]
                else:
                    story = gen.story()
                    recent = [*recent[-999:], story]
                batch.append(gen.doc(story, f"a{n}", base + timedelta(seconds=n * 86400 / total)))
                n += 1
            clusterer.assign(batch)
        now = time.perf_counter()
        ms = 1000 * (now - last_t) / max(n - last_n, 1)
        last_n, last_t = n, now
        print(
            f"{n:9d} {clusterer.stored_articles:10d} {clusterer.open_stories:13d} {clusterer.closed_early:13d} "
            f"{ms:10.2f} {_rss_mb():7.0f}"
        )


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


if __name__ == "__main__":
    raise SystemExit(main())
