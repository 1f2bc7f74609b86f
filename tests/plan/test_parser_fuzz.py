"""The parser fuzz benchmark (benchmarks/fuzz_parsers.py) at a CI-sized count: no foreign exception.

The benchmark run tries 100,000 inputs and times pathological ones (docs/benchmarks.md,
Reliability); here a few thousand mutated plans must parse or fail with the project's own
error, the same way through the batch and the streaming parser.
"""

from __future__ import annotations

import random
import warnings


def test_mutated_plans_parse_or_fail_cleanly_and_both_parsers_agree(load_benchmark) -> None:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing printed on the user's terminal either (SyntaxWarning...)
        report = load_benchmark("fuzz_parsers").fuzz(count=4000, seed=7)
    assert report["foreign_exceptions"] == 0, report["examples"]
    assert report["disagreements"] == 0
    assert 0 < report["parsed_ok"] < report["inputs"]  # the mutations make both kinds of input


def test_the_inputs_hit_what_parsers_trip_on(load_benchmark) -> None:  # type: ignore[no-untyped-def]
    bench = load_benchmark("fuzz_parsers")
    rng = random.Random(1)
    inputs = [bench.make_input(rng) for _ in range(2000)]
    for piece in ("$", "<END_OF_PLAN>", "\x00", '"', "9" * 100):
        assert any(piece in text for text in inputs), piece
