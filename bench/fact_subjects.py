"""Benchmark of a figure's subject entity (``facts.subject_entity_id``): the parse against the nearest entity.

    python bench/fact_subjects.py [--data bench/fact_subjects.jsonl] [--show]

Data: ``fact_subjects.jsonl``, 45 sentences stating money or a percentage, taken in order from every 7th ECB+
and BASIL document (one sentence each, 3 more BASIL documents from an offset start) and labelled by hand with
the entity the figure is about -- the one that pays, earns, loses, owns or is measured ("AMD will pay US$334
million" -> AMD; "Houses in the village of Gavarzin have been destroyed 100 percent" -> Gavarzin) -- or none
(15: "I've heard the figure of $1 million"). Three sentences the figure finder misread or cut mid-sentence were
left out before labelling. Each sentence is read alone by the extractor, as one article.

Reported: the share of sentences whose subject entity is right (the labelled entity, or none when none is
labelled), for the parse (falling back to the nearest entity when the parse names none) and for the nearest
entity alone (``fact_entities.nearest``). Names match when one's words contain the other's last word.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from newsmon.extract.entities import Entity
from newsmon.extract.facts import FactExtractor, subject_entity
from newsmon.extract.parse import Parse
from newsmon.text import name_key

ROOT = Path(__file__).resolve().parent
DEFAULT_DATA = ROOT / "fact_subjects.jsonl"


def matches(predicted: Entity | None, gold: str | None) -> bool:
    if predicted is None or gold is None:
        return predicted is None and gold is None
    p, g = name_key(predicted.name).split(), name_key(gold).split()
    return bool(p and g) and (g[-1] in p or p[-1] in g)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--show", action="store_true", help="print every sentence with both answers")
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in args.data.open(encoding="utf-8")]
    found = FactExtractor().extract([(r["sentence"], None) for r in rows])
    right = {"parse": 0, "nearest": 0}
    how_counts = {"parse": 0, "nearest": 0, None: 0}
    for r, af in zip(rows, found, strict=True):
        at = r["sentence"].find(r["figure"])
        fact = min((f for f in af.facts if f.kind != "date"), key=lambda f: abs(f.start - at), default=None)
        if fact is None:
            print(f"no figure found: {r['sentence']}")
            continue
        end = len(r["sentence"])
        nearest, _ = subject_entity(Parse(), af.mentions, fact.start, fact.end, 0, end)
        right["parse"] += matches(fact.subject_entity, r["subject"])
        right["nearest"] += matches(nearest, r["subject"])
        how_counts[fact.subject_entity_how] += 1
        if args.show:
            name = fact.subject_entity.name if fact.subject_entity else None
            print(f"gold {r['subject']!r}: parse {name!r} ({fact.subject_entity_how}), "
                  f"nearest {nearest.name if nearest else None!r} | {r['sentence'][:110]}")
    n = len(rows)
    print(f"{n} sentences ({sum(r['subject'] is not None for r in rows)} with a labelled subject entity)")
    print(f"subject entity right: parse (nearest when it names none) {right['parse'] / n:.3f}, "
          f"nearest {right['nearest'] / n:.3f}; found by the parse {how_counts['parse']}, "
          f"by nearest {how_counts['nearest']}, none {how_counts[None]}")


if __name__ == "__main__":
    main()
