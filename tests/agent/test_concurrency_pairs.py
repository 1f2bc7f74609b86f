"""The concurrency benchmark (benchmarks/concurrency_pairs.py) at a CI-sized count.

The benchmark runs every pair of the 16 tools in parallel on a demo workspace for 50 rounds
(issue #11); here one round over all 136 pairs must end with no failure caused by
concurrency (nor any other), every write present exactly once and every store parsing.
The other tests show that the checks are not vacuous: a lost update is caught and blamed on
concurrency, a missing or doubled write and a damaged store are reported. No timings are
asserted.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from types import ModuleType

import pytest

from pocketagent.backends.local.contacts import LocalContacts

pytestmark = pytest.mark.slow  # runs every pair of tools in parallel


@pytest.fixture(scope="module")
def bench(load_benchmark) -> ModuleType:  # type: ignore[no-untyped-def]
    return load_benchmark("concurrency_pairs")


def test_every_pair_of_tools_in_parallel_loses_no_write(bench, tmp_path):
    figures = bench.run_benchmark(rounds=1, workdir=tmp_path)
    assert figures["pairs"] == figures["runs"] == 136
    assert figures["failures_caused_by_concurrency"] == 0, figures["failure_details"]
    assert figures["failures"] == 0, figures["failure_details"]
    # 8 writing tools, each in 16 pairs, twice in its pair with itself.
    assert figures["writes_expected"] == 8 * 17
    assert figures["writes_present"] == figures["writes_expected"]
    assert figures["store_problems"] == []


def test_a_lost_update_is_caught_and_blamed_on_concurrency(bench, tmp_path, monkeypatch):
    """Without the vault lock, two appends read the same note and the later write drops the other line."""
    import pocketagent.backends.local.notes as notes

    write = notes.atomic_write_bytes

    def slow_write(path, data):  # widen the window between reading the note and writing it back
        time.sleep(0.3)  # long enough that both calls have read it, even on a loaded machine
        write(path, data)

    monkeypatch.setattr(notes, "locked", lambda path: contextlib.nullcontext())
    monkeypatch.setattr(notes, "atomic_write_bytes", slow_write)
    figures = bench.run_benchmark(rounds=1, workdir=tmp_path, pairs=(("append_note_content", "append_note_content"),))
    assert figures["runs"] == 1 and figures["writes_expected"] == 2
    assert figures["writes_present"] == 1
    assert figures["failures"] == figures["failures_caused_by_concurrency"] == 1
    (failure,) = figures["failure_details"]
    assert failure["pair"] == ["append_note_content", "append_note_content"] and failure["kind"] == "concurrency"
    assert "in Home.md is there 0 times, not once" in " ".join(failure["problems"])
    assert failure["sequential_problems"] == []


def test_missing_doubled_and_damaged_writes_are_reported(bench, tmp_path):
    template = bench.make_demo_workspace(tmp_path / "demo")
    home = bench.copy_workspace(template, tmp_path / "home")
    calls = bench.pair_calls(("create_note", "send_sms"), home, "cp-r1-p000")
    outcomes = bench.run_plan(home, calls, together=True)
    assert [o.status for o in outcomes] == ["ok", "ok"]
    stores = bench.Stores(home)
    assert [bench.check_write(stores, call) for call in calls] == [None, None]

    (home / "notes" / "Travel" / "cp-r1-p000-a.md").unlink()
    (text,) = (home / "sms" / "outbox").glob("*.json")
    shutil.copy(text, text.with_name("copy-" + text.name))
    stores = bench.Stores(home)
    note, sms = (bench.check_write(stores, call) for call in calls)
    assert note == "note 'cp-r1-p000-a' is there 0 times, not once"
    assert sms == "text 'cp-r1-p000-b' in the SMS outbox is there 2 times, not once"

    work = home / "calendars" / "Work.ics"
    work.write_bytes(work.read_bytes()[: len(work.read_bytes()) // 2])  # a torn write
    (home / "notes" / ".Home.md.abcd1234.tmp").write_text("half")
    problems = bench.store_problems(home, contacts=len(LocalContacts(template / "contacts").contacts()))
    assert any(p.startswith("Work.ics") for p in problems)
    assert "temp file left behind: notes/.Home.md.abcd1234.tmp" in problems
