"""Benchmark of newsmon.extract.facts: NLP throughput of the fact extractor.

    python bench/facts.py [--n 300] [--data PATH] [--batch-sizes 1,32]

Texts are the first N ECB+ documents (news prose, ~290 words each) when ../shared/data is there, else the
two seed reports repeated. For each pipeline (the components the extractor runs over the whole text -- ner and
a rule sentencizer; tok2vec, tagger and parser run on chosen sentences -- and the package's full pipeline) and
batch size it times ``nlp.pipe`` alone, and for the used pipeline also the whole ``FactExtractor.extract`` (model
+ story cut + rules), with and without the parse of the sentences holding or introducing a quote or holding a
figure (extract/parse.py). Reported: articles/s and milliseconds per 300-word article (time / words * 300), best
of ``--repeat`` runs; wall-clock and process CPU time side by side, since other processes on a shared machine
distort wall-clock times (CPU time is the steadier comparison between configurations).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from newsmon.extract.facts import DEFAULT_MODEL, FactExtractor, load_pipeline

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ecbplus_docs.jsonl"
SEEDS = [ROOT / "tests" / "data" / "facts_seed_000.txt", ROOT / "tests" / "data" / "facts_seed_001.txt"]


def load_texts(path: Path, n: int) -> list[str]:
    if path.exists():
        with path.open(encoding="utf-8") as fh:
            texts = [json.loads(line)["text"] for line in fh]
    else:
        print(f"{path} not found: using the seed reports", file=sys.stderr)
        texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    return (texts * (n // len(texts) + 1))[:n]


def best_time(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall, cpu) seconds of the fastest of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        run()
        times.append((time.perf_counter() - w0, time.process_time() - c0))
    return min(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="articles per run")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--batch-sizes", default="1,32")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--extract-only", action="store_true", help="time FactExtractor.extract only, not nlp.pipe")
    args = ap.parse_args(argv)

    texts = load_texts(args.data, args.n)
    words = sum(len(t.split()) for t in texts)
    published = datetime(2026, 2, 3, tzinfo=UTC)
    print(f"{len(texts)} articles, {words / len(texts):.0f} words on average; model {args.model}")
    rows: list[tuple[str, int, tuple[float, float]]] = []
    for label, full in () if args.extract_only else (("used components", False), ("full pipeline", True)):
        t0 = time.perf_counter()
        nlp = load_pipeline(args.model, full=full)
        print(f"{label}: {nlp.pipe_names} loaded in {time.perf_counter() - t0:.2f} s")
        list(nlp.pipe(texts[:10]))  # warm-up
        for bs in (int(b) for b in args.batch_sizes.split(",")):
            dt = best_time(lambda nlp=nlp, bs=bs: list(nlp.pipe(texts, batch_size=bs)), args.repeat)
            rows.append((f"nlp.pipe, {label}", bs, dt))
    extractor = FactExtractor(args.model)
    extractor.extract([(texts[0], published)])  # load + warm-up
    docs = [(t, published) for t in texts]
    for bs in (int(b) for b in args.batch_sizes.split(",")):
        extractor.batch_size = bs
        # Interleaved run by run, so both see the same machine load: the rules alone, then with the sentence parse.
        best: dict[bool, tuple[float, float]] = {}
        for _ in range(args.repeat):
            for parse in (False, True):
                extractor.parse = parse
                dt = best_time(lambda: extractor.extract(docs), 1)
                best[parse] = min(best.get(parse, dt), dt)
        rows.append(("FactExtractor.extract, no parse", bs, best[False]))
        rows.append(("FactExtractor.extract (all)", bs, best[True]))
    print()
    print(f"{'run':<36} {'batch':>5} {'articles/s':>11} {'ms/300 words':>13} {'CPU art/s':>10} {'CPU ms/300w':>12}")
    for name, bs, (wall, cpu) in rows:
        print(f"{name:<36} {bs:>5} {len(texts) / wall:>11.1f} {wall / words * 300_000:>13.1f}"
              f" {len(texts) / cpu:>10.1f} {cpu / words * 300_000:>12.1f}")


if __name__ == "__main__":
    main()
