"""Make a warm-start training set weighted toward long plans from a generated dataset.

The shipped adapter was first trained on items 1-5,000 of `datagen offline --seed 0`; a warm start
continues it on unseen items (5,001-10,000) with every plan of 4+ actions and a sample of the
short ones, so it keeps what it knows about short requests while practising long ones:

    pocketagent datagen offline --out /tmp/gen0 --train 10000 --val 300 --test 1000 --seed 0
    python scripts/warm_start_mix.py /tmp/gen0 /tmp/warm3
    pocketagent finetune train /tmp/warm3 --out runs/planner-s3 \\
        --init-from src/pocketagent/adapters/smollm2-135m-planner --bf16 --lr 2.5e-4
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

from pocketagent.finetune.card import dataset_command
from pocketagent.plan.language import parse_plan


def plan_size(plan: str) -> int:
    """Number of tool actions in a plan text (join() not counted)."""
    return len(parse_plan(plan).tool_actions)


def main() -> None:
    """Write OUT/train.jsonl (the mix), OUT/val.jsonl (the source's val split) and OUT/card.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a `datagen offline` directory (train.jsonl, val.jsonl)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--skip", type=int, default=5000, help="training items already used (default 5000)")
    parser.add_argument("--three", type=int, default=500, help="3-action plans to sample (default 500)")
    parser.add_argument("--short", type=int, default=800, help="1-2 action plans to sample (default 800)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    lines = (args.source / "train.jsonl").read_text(encoding="utf-8").splitlines()[args.skip :]
    items = [json.loads(line) for line in lines if line.strip()]
    long = [item for item in items if plan_size(item["plan"]) >= 4]
    three = [item for item in items if plan_size(item["plan"]) == 3]
    short = [item for item in items if plan_size(item["plan"]) <= 2]
    rng = random.Random(args.seed)
    mix = long + rng.sample(three, min(args.three, len(three))) + rng.sample(short, min(args.short, len(short)))
    rng.shuffle(mix)

    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "train.jsonl").open("w", encoding="utf-8") as handle:
        for item in mix:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    shutil.copyfile(args.source / "val.jsonl", args.out / "val.jsonl")
    source = dataset_command(args.source / "train.jsonl")
    command = (
        f"{source + '; ' if source else ''}python scripts/warm_start_mix.py DIR OUT --skip {args.skip} "
        f"--three {args.three} --short {args.short} --seed {args.seed}"
    )
    (args.out / "card.md").write_text(
        f"# warm-start mix\n\nMade with: `{command}`\n\n{len(long)} plans of 4+ actions, "
        f"{min(args.three, len(three))} of 3, {min(args.short, len(short))} of 1-2: {len(mix)} in all.\n",
        encoding="utf-8",
    )
    print(f"wrote {len(mix)} examples to {args.out / 'train.jsonl'} ({len(long)} with 4+ actions)")


if __name__ == "__main__":
    main()
