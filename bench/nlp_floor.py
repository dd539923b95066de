"""newsmon's NLP per English article against the floor's, on the real pages of bench/realpages.py.

    python bench/nlp_floor.py [--rounds 2]

The English texts (CLD2) that the floor extracts from the real pages (bench/floor.py: trafilatura, up to the
100,000 characters both read), timed in CPU time per text, alternately: the floor's spaCy pipe (tagger and NER
over the whole text), the NER alone, and newsmon's whole extraction (``FactExtractor.extract`` as a worker runs
it: the NER over the text, the tok2vec, tagger and parser on the sentences the rules read, and every rule). CPU
time, since other work on a shared machine distorts wall-clock time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor import floor_pipeline, floor_text
from realpages import load_pages


def cpu_ms_per_text(texts: list[str], work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return 1000 * (time.process_time() - started) / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from newsmon.extract.facts import DEFAULT_MODEL, detect_language
    from newsmon.flows.batches import fact_extractor
    from newsmon.settings import Settings

    read = [text for text in (floor_text(page.body) for page in load_pages()) if text]
    english = [(text, detect_language(text) == "en") for text in read]  # each text's language detected once
    texts = [text for text, is_english in english if is_english]
    others = [text for text, is_english in english if not is_english]  # in another language, or none detected
    print(f"{len(texts)} English texts, {sum(map(len, texts)) // len(texts)} characters on average; "
          f"{len(others)} in other languages, {sum(map(len, others)) // max(len(others), 1)} characters on average")
    floor = floor_pipeline()
    newsmon = fact_extractor(DEFAULT_MODEL, Settings().nlp_batch_size)
    list(floor.pipe(texts[:5]))
    newsmon.extract([(text, None) for text in texts[:5]])  # models loaded before timing
    for _ in range(args.rounds):
        tagger_ner = cpu_ms_per_text(texts, lambda: [len(doc.ents) for doc in floor.pipe(texts, batch_size=32)])
        with floor.select_pipes(disable=["tok2vec", "tagger"]):
            ner = cpu_ms_per_text(texts, lambda: [len(doc.ents) for doc in floor.pipe(texts, batch_size=32)])
        ours = cpu_ms_per_text(texts, lambda: newsmon.extract([(text, None) for text in texts]))
        skipped = float("nan")
        if others:
            skipped = cpu_ms_per_text(others, lambda: [len(doc.ents) for doc in floor.pipe(others, batch_size=32)])
        print(f"CPU ms per text: floor (tagger + NER) {tagger_ner:.1f}, NER alone {ner:.1f}, "
              f"newsmon's whole extraction {ours:.1f} ({ours / tagger_ner:.2f}x the floor); "
              f"the floor on a text in another language {skipped:.1f} (newsmon: not read)")


if __name__ == "__main__":
    main()
