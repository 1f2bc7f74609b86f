"""Fuzz the plan parser and the streaming parser: N generated inputs, no foreign exception, linear time.

    .venv/bin/python benchmarks/fuzz_parsers.py [--count 100000] [--seed 0] [--json]

Inputs are mutations of real plans (the hand-written reference plans): random byte flips,
insertions of the characters parsers trip on (quotes, brackets, `$`, digits, `<END_OF_PLAN>`,
surrogates, NUL, long whitespace and digit runs), truncations, duplications and splices, plus
pure random text. Each input goes through `parse_plan` and through `StreamingPlanParser` in a
random chunking; both must either parse or raise the project's own `PocketAgentError`, and
agree. Then pathological inputs of growing size (whitespace runs, deep brackets, long digit
runs, many lines) are timed: time per character must stay flat (linear time).

Prints the figures (inputs tried, foreign exceptions, disagreements, time ratios); the CI test
runs it with a small count. Results go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from pocketagent.errors import PocketAgentError
from pocketagent.plan import StreamingPlanParser, parse_plan

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [json.loads(line)["plan"] for line in (ROOT / "data" / "handwritten-dev.jsonl").read_text("utf-8").splitlines()]
TRICKY = ['"', "'", "\\", "(", ")", "[", "]", "{", "}", "$", "$1", "${2}", "$99999", ",", "\n", "\r\n", "\t", " " * 50,
          "<END_OF_PLAN>", "<END", "join()", "Thought: ", "1. ", "\x00", "\ud800", "é", "𝔘", "None", "True", "1e309",
          "9" * 5000, "#", "=", "\\u0000", '"""', "((((", "]]]]"]  # fmt: skip


def mutate(rng: random.Random, text: str) -> str:
    """One random mutation of `text` (applied one to four times per input)."""
    kind = rng.randrange(7)
    at = rng.randrange(len(text) + 1)
    if kind == 0 and text:  # replace a character
        return text[:at] + chr(rng.randrange(0x20, 0x2FF)) + text[at + 1 :]
    if kind == 1:  # insert a tricky piece
        return text[:at] + rng.choice(TRICKY) + text[at:]
    if kind == 2:  # truncate
        return text[:at]
    if kind == 3:  # duplicate a slice
        end = rng.randrange(at, len(text) + 1)
        return text[:end] + text[at:end] + text[end:]
    if kind == 4:  # splice another plan in
        other = rng.choice(SEEDS)
        return text[:at] + other[rng.randrange(len(other) + 1) :]
    if kind == 5:  # delete a slice
        end = rng.randrange(at, min(len(text), at + 20) + 1)
        return text[:at] + text[end:]
    return text[:at] + "".join(rng.choice(TRICKY) for _ in range(rng.randrange(1, 8))) + text[at:]


def make_input(rng: random.Random) -> str:
    if rng.random() < 0.1:  # pure noise
        return "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(0, 200)))
    text = rng.choice(SEEDS)
    for _ in range(rng.randrange(1, 5)):
        text = mutate(rng, text)
    return text


def outcome(parse) -> tuple[str, object]:  # type: ignore[no-untyped-def]
    """("ok", plan) or ("error", message) for the project's errors; anything else propagates."""
    try:
        return "ok", parse()
    except PocketAgentError as exc:
        return "error", type(exc).__name__


def streamed(text: str, rng: random.Random):  # type: ignore[no-untyped-def]
    parser = StreamingPlanParser()
    at = 0
    while at < len(text):
        step = rng.randrange(1, 40)
        parser.feed(text[at : at + step])
        at += step
    return parser.finish()


def fuzz(count: int, seed: int) -> dict[str, object]:
    """Parse `count` generated inputs both ways; count foreign exceptions and disagreements."""
    rng = random.Random(seed)
    foreign: list[str] = []
    disagreements = parsed = 0
    started = time.perf_counter()
    for _ in range(count):
        text = make_input(rng)
        try:
            batch = outcome(lambda: parse_plan(text))
            stream = outcome(lambda: streamed(text, rng))
        except Exception as exc:  # noqa: BLE001 - the point: any exception that is not ours is a finding
            foreign.append(f"{type(exc).__name__}: {exc} <- {text[:80]!r}")
            continue
        parsed += batch[0] == "ok"
        # The stream stops reading at join(): it may accept text whose tail the batch parser rejects.
        if batch[0] == "ok" and stream != batch:
            disagreements += 1
    return {
        "inputs": count,
        "parsed_ok": parsed,
        "foreign_exceptions": len(foreign),
        "examples": foreign[:5],
        "disagreements": disagreements,
        "seconds": round(time.perf_counter() - started, 2),
    }


PATHOLOGICAL = {
    "whitespace run": lambda n: "1. a(" + " " * n + ")\n2. join()<END_OF_PLAN>",
    "thought spaces": lambda n: "Thought:" + " " * n + "x\n1. join()<END_OF_PLAN>",
    "digit run": lambda n: "1. a(" + "9" * n + ")\n2. join()<END_OF_PLAN>",
    "open brackets": lambda n: "1. a(" + "[" * n + ")\n2. join()<END_OF_PLAN>",
    "long string": lambda n: '1. a("' + "x" * n + '")\n2. join()<END_OF_PLAN>',
    "many lines": lambda n: "".join(f'{i}. a("x")\n' for i in range(1, n // 10 + 1)),
    "dollar run": lambda n: '1. a("' + "$" * n + '")\n2. join()<END_OF_PLAN>',
}


def linearity(sizes: tuple[int, ...] = (20_000, 200_000, 1_000_000)) -> dict[str, dict[str, float]]:
    """Seconds (best of 3) per input size for each pathological family, and the per-character
    ratio largest/smallest: about 1 when parsing is linear, 50 if it were quadratic."""
    figures: dict[str, dict[str, float]] = {}
    for name, build in PATHOLOGICAL.items():
        per_char = []
        row: dict[str, float] = {}
        for size in sizes:
            text = build(size)
            seconds = min(_both_parses(text) for _ in range(3))
            row[str(size)] = round(seconds, 4)
            per_char.append(seconds / len(text))
        row["ratio"] = round(per_char[-1] / max(per_char[0], 1e-9), 2)
        figures[name] = row
    return figures


def _both_parses(text: str) -> float:
    started = time.perf_counter()
    for parse in (lambda: parse_plan(text), lambda: streamed(text, random.Random(0))):
        try:
            parse()
        except PocketAgentError:
            pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-linearity", action="store_true", help="skip the timing of pathological inputs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result: dict[str, object] = {"fuzz": fuzz(args.count, args.seed)}
    if not args.no_linearity:
        result["linearity"] = linearity()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    report = result["fuzz"]
    assert isinstance(report, dict)
    print(
        f"{report['inputs']} inputs in {report['seconds']} s: {report['parsed_ok']} parsed, "
        f"{report['foreign_exceptions']} foreign exceptions, {report['disagreements']} stream/batch disagreements"
    )
    for example in report["examples"]:  # type: ignore[union-attr]
        print("  ", example)
    for name, row in dict(result.get("linearity", {})).items():  # type: ignore[call-overload]
        sizes = ", ".join(f"{k} chars {v} s" for k, v in row.items() if k != "ratio")
        print(f"{name:16s} {sizes}; time per char, largest / smallest: {row['ratio']}x")


if __name__ == "__main__":
    main()
