"""Train the story model shipped in stories/model.py: logistic regression on (article, candidate story) pairs
of every evaluation set (ECB+, BASIL real dates, BASIL compressed into one week), replayed with their true
stories, then the join probability that maximises the mean B-cubed F1 over those streams.

    python bench/train_stories.py            # prints the model and rewrites the TRAINED block of stories/model.py
    python bench/train_stories.py --dry-run  # prints it only
    python bench/train_stories.py --only ecb --out /tmp/ecb-only.json
                                             # trained on ECB+ alone, written as a model file for
                                             # NEWSMON_STORY_MODEL (stories/model.py left alone): BASIL
                                             # through `newsmon run` then is truly held out
                                             # (bench/basil_pages.py --model /tmp/ecb-only.json)
    python bench/train_stories.py --fold 0 --out /tmp/fold0.json
                                             # trained on every set without fold 0's ECB+ topics and
                                             # BASIL events (bench/stories.py --cv's folds): BASIL's fold 0
                                             # through `newsmon run` is then held out from a model of the
                                             # shipped design (bench/basil_pages.py --fold 0 --model ...)

How well this generalises is measured by `python bench/stories.py --cv` (the same training, on one fold of
topics/events or one set, scored on the others).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from newsmon.stories.model import SHIPPED, StoryModel

HERE = Path(__file__).resolve().parent
MODEL = HERE.parent / "stories" / "model.py"


def _bench() -> ModuleType:
    # bench/stories.py under its own name: "stories" may name the flows module elsewhere.
    spec = importlib.util.spec_from_file_location("newsmon_bench_stories", HERE / "stories.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def trained_block(weights: Sequence[float], bias: float, join: float) -> str:
    return (
        "# BEGIN TRAINED (bench/train_stories.py rewrites this block)\n"
        f"WEIGHTS = ({', '.join(repr(round(w, 4)) for w in weights)})\n"
        f"BIAS = {round(bias, 4)!r}\n"
        f"JOIN_PROBABILITY = {join!r}\n"
        "# END TRAINED"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true", help="print the model, leave stories/model.py alone")
    ap.add_argument("--only", choices=("ecb", "basil"), help="train on this set alone (default: every set)")
    ap.add_argument("--out", type=Path, help="write the model to this JSON file instead of stories/model.py")
    ap.add_argument("--fold", type=int, help="leave out this fold of --folds (bench/stories.py --cv's)")
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--merge", type=float, help="young-story merge probability of the model file (default: shipped)")
    args = ap.parse_args(argv)
    if args.fold is not None and not 0 <= args.fold < args.folds:
        ap.error(f"--fold must be from 0 to {args.folds - 1}")
    bench = _bench()
    for path in (bench.DEFAULT_DATA, bench.BASIL):
        if not path.exists():
            print(f"no data at {path}", file=sys.stderr)
            return 2
    sets = bench.load_sets(folds=args.folds)
    trained_on = args.only or "ecb+basil"
    if args.fold is not None:
        sets = sets.part([f for f in range(args.folds) if f != args.fold])
        trained_on += f" without fold {args.fold} of {args.folds}"
    if args.only == "ecb":
        sets = replace(sets, basil_real=[], basil_week=[])
    elif args.only == "basil":
        sets = replace(sets, ecb=[], ecb_gold={})
    settings, f1 = bench.train(sets)
    print("mean F1 of the training streams by join probability:", {k: round(v, 4) for k, v in f1.items()})
    print(f"split ratio: {settings.split_ratio} (SPLIT_RATIO in stories/model.py, outside the trained block)")
    block = trained_block(settings.weights, settings.bias, settings.threshold)
    print(block)
    if args.out is not None:
        merge = SHIPPED.merge_probability if args.merge is None else args.merge
        model = StoryModel(settings.weights, settings.bias, settings.threshold, merge, settings.split_ratio)
        args.out.write_text(model.to_json(trained_on=trained_on) + "\n", encoding="utf-8")
        print(f"written to {args.out} (use it with NEWSMON_STORY_MODEL={args.out})")
    elif not args.dry_run:
        text = MODEL.read_text(encoding="utf-8")
        text = re.sub(r"# BEGIN TRAINED.*?# END TRAINED", lambda _: block, text, flags=re.S)
        MODEL.write_text(text, encoding="utf-8")
        print(f"written to {MODEL}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
