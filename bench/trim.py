"""What a worker's end-of-batch memory release costs: ECB+ texts read by the facts extractor in chunks, as
`read-facts` reads them, each chunk followed by the release; each mode in a fresh process.

    python bench/trim.py [--texts 600] [--chunk 100]

Modes: `always` (before: a full collection and malloc_trim after every chunk), `settled` (now:
`newsmon.flows.batches.release_freed_memory`: what outlives a batch, imports and the model, frozen once, and a trim
only when glibc holds more than TRIM_ABOVE_BYTES free), `none` (no release). Printed per mode: CPU seconds of
reading, of releasing, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import multiprocessing
import resource
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecbplus_docs.jsonl"


def run(mode: str, texts: int, chunk: int) -> tuple[float, float, float]:
    from newsmon.flows.batches import fact_extractor, release_freed_memory
    from newsmon.settings import get_settings

    docs = [json.loads(line)["text"] for line in DATA.open()][:texts]
    settings = get_settings()
    extractor = fact_extractor(settings.models_by_language()["en"], settings.nlp_batch_size)
    reading = releasing = 0.0
    for start in range(0, len(docs), chunk):
        started = time.process_time()
        extractor.extract([(text, None, "") for text in docs[start : start + chunk]])
        reading += time.process_time() - started
        started = time.process_time()
        if mode == "always":
            gc.collect()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        elif mode == "settled":
            release_freed_memory()
        releasing += time.process_time() - started
    return reading, releasing, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=600)
    parser.add_argument("--chunk", type=int, default=100)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    for mode in ("always", "settled", "none"):
        with context.Pool(1) as pool:
            reading, releasing, peak = pool.apply(run, (mode, args.texts, args.chunk))
        chunks = -(-args.texts // args.chunk)
        print(f"{mode:8} reading {reading:6.1f} CPU s, releasing {releasing * 1000:6.0f} ms "
              f"({releasing * 1000 / chunks:.0f} ms a chunk), peak RSS {peak:.0f} MiB")
    print(f"{args.texts} ECB+ texts in chunks of {args.chunk}, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
