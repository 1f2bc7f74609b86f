"""Crash and concurrency safety of the local stores: atomic writes, locks, a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import datetime
from pathlib import Path

import icalendar
import pytest

from pocketagent.atomic import atomic_write_bytes, atomic_write_text, locked
from pocketagent.backends.dates import DateRules
from pocketagent.backends.local.calendar import LocalReminders
from pocketagent.backends.local.contacts import Contact, LocalContacts
from pocketagent.backends.local.notes import LocalNotes

NOW = datetime(2026, 11, 23, 10, 0, 0)


def test_atomic_write_replaces_content_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second ✓")
    assert target.read_text(encoding="utf-8") == "second ✓"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_atomic_write_keeps_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "shared.ics"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write_bytes(target, b"new")
    assert target.stat().st_mode & 0o777 == 0o640


def test_new_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "new.md", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "new.md").stat().st_mode & 0o777 == 0o640


def test_writing_through_a_symlink_updates_its_target(tmp_path: Path) -> None:
    (tmp_path / "synced").mkdir()
    target = tmp_path / "synced" / "Work.ics"
    target.write_text("old")
    link = tmp_path / "Work.ics"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_failed_replace_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "store.vcf"
    target.write_text("old content")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new content")
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["store.vcf"]


def test_lock_serializes_read_modify_write_across_threads(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    atomic_write_text(counter, "0")

    def bump(times: int) -> None:
        for _ in range(times):
            with locked(counter):
                atomic_write_text(counter, str(int(counter.read_text()) + 1))

    threads = [threading.Thread(target=bump, args=(25,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.read_text() == "200"


def test_concurrent_note_appends_from_threads_lose_nothing(tmp_path: Path) -> None:
    notes = LocalNotes(tmp_path)
    notes.create_note("Log", "start", "Notes")

    def append(worker: int) -> None:
        for i in range(10):
            notes.append_note_content("Log", f"w{worker}-{i}", "")

    threads = [threading.Thread(target=append, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "Notes" / "Log.md").read_text().splitlines()
    assert lines[0] == "start"
    assert sorted(lines[1:]) == sorted(f"w{w}-{i}" for w in range(6) for i in range(10))
    for w in range(6):  # each writer's lines stay in its own order
        own = [line for line in lines if line.startswith(f"w{w}-")]
        assert own == [f"w{w}-{i}" for i in range(10)]


_WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime
    from pathlib import Path
    from pocketagent.backends.dates import DateRules
    from pocketagent.backends.local.calendar import LocalReminders
    from pocketagent.backends.local.contacts import Contact, LocalContacts
    from pocketagent.backends.local.notes import LocalNotes

    kind, root, prefix, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    pause_at = int(sys.argv[5]) if len(sys.argv) > 5 else -1
    progress = {"i": 0}
    if pause_at >= 0:
        # Stop inside write number `pause_at`, after its first fsync (the new data is on disk,
        # the old file not yet replaced), tell the parent, and wait there to be killed.
        import os
        real_fsync = os.fsync

        def fsync_then_pause(fd):
            real_fsync(fd)
            if progress["i"] >= pause_at:
                print("in-write", flush=True)
                sys.stdin.read()

        os.fsync = fsync_then_pause
    rules = DateRules.from_names("Europe/Berlin", "reject", lambda: datetime(2026, 11, 23, 10))
    store = {"reminders": lambda: LocalReminders(root, rules), "contacts": lambda: LocalContacts(root),
             "notes": lambda: LocalNotes(root)}[kind]()
    for i in range(count):
        progress["i"] = i
        if kind == "reminders":
            store.create_reminder(f"{prefix} {i}", "2026-12-01 09:00:00", "", "", 0, False)
        elif kind == "contacts":
            store.add_contact(Contact(f"{prefix} {i}", emails=(f"p{i}@example.com",)))
        else:
            store.append_note_content("Log", f"{prefix} {i}", "")
        print(i, flush=True)
""")


def _writer(kind: str, root: Path, prefix: str, count: int, pause_at: int = -1) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, kind, str(root), prefix, str(count), str(pause_at)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _written_names(kind: str, root: Path) -> list[str]:
    """What the store holds now, read the way a user's program would (a full parse)."""
    if kind == "reminders":
        text = (root / "Reminders.ics").read_text(encoding="utf-8")
        summaries = [str(t["summary"]) for t in icalendar.Calendar.from_ical(text).walk("VTODO")]
        return [s for s in summaries if s.startswith("task")]
    if kind == "contacts":
        return [c.full_name for c in LocalContacts(root).contacts() if c.full_name.startswith("task")]
    return [line for line in (root / "Notes" / "Log.md").read_text().splitlines() if line.startswith("task")]


def _seed(kind: str, root: Path) -> None:
    # A big store makes each write slow, so the kill often lands in the middle of one.
    if kind == "reminders":
        reminders = LocalReminders(root, DateRules.from_names("Europe/Berlin", "reject", lambda: NOW))
        reminders.create_reminder("seed", "", "x" * 200_000, "", 0, False)
    elif kind == "contacts":
        LocalContacts(root).add_contact(Contact("Seed Person", nicknames=("y" * 3_000_000,)))
    else:
        LocalNotes(root).create_note("Log", "z" * 3_000_000, "Notes")


@pytest.mark.parametrize("kind", ["reminders", "contacts", "notes"])
@pytest.mark.slow
def test_concurrent_writer_processes_lose_nothing(tmp_path: Path, kind: str) -> None:
    if kind == "notes":
        LocalNotes(tmp_path).create_note("Log", "", "Notes")
    writers = [_writer(kind, tmp_path, f"task{w}", 12) for w in range(3)]
    for proc in writers:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert sorted(_written_names(kind, tmp_path)) == sorted(f"task{w} {i}" for w in range(3) for i in range(12))


@pytest.mark.parametrize("kind", ["reminders", "contacts", "notes"])
@pytest.mark.slow
def test_sigkill_inside_a_write_leaves_the_previous_content(tmp_path: Path, kind: str) -> None:
    """The child is stopped inside its 8th write (new data fsynced, not yet renamed) and killed."""
    _seed(kind, tmp_path)
    proc = _writer(kind, tmp_path, "task", 100, pause_at=7)
    assert proc.stdout is not None
    lines = []
    while not lines or lines[-1] != "in-write":
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"writer exited early: {proc.stderr.read() if proc.stderr else ''}")
        lines.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert lines == [str(i) for i in range(7)] + ["in-write"]
    assert _written_names(kind, tmp_path) == [f"task {i}" for i in range(7)]
    assert LocalNotes(tmp_path).notes() is not None  # stray temp files do not confuse the stores
    if kind == "contacts":
        assert LocalContacts(tmp_path).get_email_address("task 3") == "p3@example.com"


@pytest.mark.parametrize("kind", ["reminders", "contacts", "notes"])
@pytest.mark.slow
def test_sigkill_at_a_random_moment_leaves_a_whole_number_of_writes(tmp_path: Path, kind: str) -> None:
    _seed(kind, tmp_path)
    proc = _writer(kind, tmp_path, "task", 10_000)
    confirmed = -1
    assert proc.stdout is not None
    while confirmed < 15:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"writer exited early: {proc.stderr.read() if proc.stderr else ''}")
        confirmed = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    names = _written_names(kind, tmp_path)
    # Every write the child confirmed is there, nothing is torn, and the order is intact.
    assert len(names) >= confirmed + 1
    assert names == [f"task {i}" for i in range(len(names))]


def test_stale_temp_files_of_killed_writers_are_removed_when_a_store_opens(tmp_path: Path) -> None:
    """Issue #11: kill -9 between mkstemp and the rename left `.NAME.xxxxxxxx.tmp` files forever."""
    import time

    from pocketagent.backends.local.files import LocalFiles
    from pocketagent.backends.local.mail import MaildirMail
    from pocketagent.backends.local.sms import SmsOutbox
    from pocketagent.backends.opener import DesktopOpener

    old = time.time() - 3600

    def plant(directory: Path, target: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        temp = directory / f".{target}.k2j_9x0q.tmp"  # what atomic_write_bytes' mkstemp names look like
        temp.write_text("half a write")
        os.utime(temp, (old, old))
        return temp

    home = tmp_path / "home"
    stale = [
        plant(home / "contacts", "pocketagent.vcf"),
        plant(home / "calendars", "Calendar.ics"),
        plant(home / "notes", "Log.md"),
        plant(home / "notes" / "Work" / "Projects", "Plan.md"),
        plant(home / "sms" / "outbox", "2026-11-23T100000-ab12cd34.json"),
        plant(home / "sms" / "sent", "2026-11-23T100000-ab12cd34.json"),
        plant(home / "cache", "files.json"),
        plant(home / "state", "mail.json"),
    ]
    fresh = home / "contacts" / ".pocketagent.vcf.zz9_abcd.tmp"  # a write in progress right now
    fresh.write_text("being written")
    kept = [
        fresh,
        plant(home / "notes" / ".obsidian", "workspace.json"),  # hidden folders are not ours
        home / "calendars" / ".Work.ics.lock",  # lock files and other dot files stay
        home / "notes" / "Log.md.k2j_9x0q.tmp",  # not hidden: not one of our temp files
    ]
    for path in kept[2:]:
        path.write_text("x")
        os.utime(path, (old, old))
    symlinked = home / "calendars" / ".Old.ics.abcd1234.tmp"
    symlinked.symlink_to(kept[3])  # a link is never followed or removed
    os.utime(symlinked, (old, old), follow_symlinks=False)

    LocalContacts(home / "contacts")
    LocalReminders(home / "calendars")
    LocalNotes(home / "notes")
    SmsOutbox(home / "sms")
    LocalFiles([home / "files"], cache_path=home / "cache" / "files.json", opener=DesktopOpener(enabled=False))
    MaildirMail(home / "mail", identity="a@example.com", state_file=home / "state" / "mail.json")

    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in kept) and symlinked.is_symlink()


def test_a_killed_maildir_delivery_is_cleaned_from_drafts_after_36_hours(tmp_path: Path) -> None:
    from pocketagent.backends.local.mail import MaildirMail

    MaildirMail(tmp_path / "mail", identity="a@example.com")
    half = tmp_path / "mail" / ".Drafts" / "tmp" / "1700000000.M1P2Q3.host"
    half.write_text("From: a@example.com\n\nhalf")
    recent = half.with_name("1700000001.M1P2Q3.host")
    recent.write_text("being written")
    two_days = datetime.now().timestamp() - 2 * 86400
    os.utime(half, (two_days, two_days))
    MaildirMail(tmp_path / "mail", identity="a@example.com")
    assert not half.exists() and recent.exists()
