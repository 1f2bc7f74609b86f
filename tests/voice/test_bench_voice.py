"""benchmarks/bench_voice.py at a CI-sized count: one utterance, one run (its figures are not asserted)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):  # type: ignore[no-untyped-def]
    return load_benchmark("bench_voice")


def test_the_report_has_latency_rtf_and_the_key_words_of_each_utterance(bench, capsys) -> None:  # type: ignore[no-untyped-def]
    report = bench.measure(bench.UTTERANCES[:1], repeats=1, threads=1)
    (row,) = report["utterances"]
    assert report["load_s"] > 0 and row["name"] == "short"
    assert row["real_time_factor"] == pytest.approx(row["latency_median_s"] / row["audio_s"], rel=0.05)
    assert row["key_words_heard"] == "4/4", row["transcript"]
    bench.print_report(report)
    printed = capsys.readouterr().out
    assert "model load:" in printed and row["transcript"] in printed


def test_the_utterances_grow_in_length(bench) -> None:  # type: ignore[no-untyped-def]
    lengths = [len(u.text.split()) for u in bench.UTTERANCES]
    assert lengths == sorted(lengths) and lengths[-1] >= 4 * lengths[0]
