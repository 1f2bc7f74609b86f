"""The kill -9 benchmark (benchmarks/kill9_writes.py) at a CI-sized count: the three zeros.

A child process writes to every local store in a tight loop (note appends, new notes,
calendar events, reminders, email drafts, SMS, contacts) and is killed with SIGKILL at a
random moment, again and again on one demo workspace. After each kill: 0 unreadable stores,
0 earlier data lost (every write reported done, all demo data), and, once the stores are
opened again, no temp-file litter. The benchmark run does 200 kills (docs/benchmarks.md).
No timed assertions: the figures depend on the machine.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow  # kills writer processes mid-write


@pytest.fixture(scope="module")
def bench(load_benchmark) -> ModuleType:  # type: ignore[no-untyped-def]
    return load_benchmark("kill9_writes")


def test_kill9_during_writes_leaves_readable_stores_no_lost_data_no_litter(bench: ModuleType, tmp_path: Path) -> None:
    report = bench.run(iterations=10, seed=11, max_delay=0.3, workdir=tmp_path)
    details = report["examples"]
    assert report["iterations"] == 10 and report["child_failures"] == 0, details
    assert report["writes_done"] > 0  # the children did write before being killed
    assert report["unreadable_stores"] == 0, details
    assert report["data_lost"] == 0, details
    assert report["litter_found"] == 0, details
    assert report["duplicates"] == 0, details


def test_the_checks_see_damage_loss_and_litter(bench: ModuleType, tmp_path: Path) -> None:
    """The zeros above mean something: each check fails on the damage it is there to find."""
    home = tmp_path / "home"
    bench.make_demo(home)
    demo = bench.snapshot(home)
    clean = bench.check_workspace(home, demo)
    assert (clean.unreadable, clean.lost_demo, clean.duplicates) == ([], [], [])
    assert bench.litter(home, demo) == []

    work = home / "calendars" / "Work.ics"
    work.write_bytes(work.read_bytes()[:-30])  # a calendar cut short: its last END lines are gone
    (home / "sms" / "outbox" / "2026-11-23T100000-0badf00d.json").write_text('{"id": "0badf00d", "mes', "utf-8")
    draft = home / "mail" / ".Drafts" / "cur" / "1.M1P1Q1.host:2,DS"
    draft.write_bytes(b"From: a@example.com\nSubject: K9-000004\nMessage-ID: <1@example.com>\n\nHi,\n")
    (home / "notes" / "Travel" / "Lisbon.md").unlink()
    groceries = home / "notes" / "Notes" / "Groceries.md"
    groceries.write_bytes(groceries.read_bytes()[5:] + b"K9-000000\n")  # its first bytes lost, one write kept
    temp = home / "calendars" / ".Work.ics.abcd1234.tmp"
    temp.write_bytes(b"BEGIN:VCALENDAR\n")
    maildir_temp = home / "mail" / ".Drafts" / "tmp" / "1796022677.M1P2Q3.host"
    maildir_temp.write_bytes(b"From: a@example.com\n")

    found = bench.check_workspace(home, demo)
    unreadable = "\n".join(found.unreadable)
    assert "Work.ics" in unreadable and "0badf00d.json" in unreadable and "draft body incomplete" in unreadable
    assert any("Lisbon.md" in item for item in found.lost_demo)
    assert any("Groceries.md" in item for item in found.lost_demo)
    assert bench.lost_writes(found, {0, 2, 4}) == ["K9-000002 (event)"]  # 0 is in the note, 4 is a draft
    assert set(bench.litter(home, demo)) == {temp.relative_to(home), maildir_temp.relative_to(home)}
