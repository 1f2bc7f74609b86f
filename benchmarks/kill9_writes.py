"""kill -9 during writes: every store stays readable, no earlier data is lost, no litter is left.

    .venv/bin/python benchmarks/kill9_writes.py [--iterations 200] [--seed 0] [--max-delay 0.3] [--json]

A demo workspace is made once (`pocketagent init --demo`). Each iteration starts a child
process (this script with ``--child HOME --start N``) that builds the apps the way the CLI
does (`load_settings` + `build_apps("workspace")`), opens every local store (which removes
stale temp files), reads every store back through the apps, prints ``ready`` and waits for
``go``. It then writes in a tight loop, one write per sequence number N, rotating through
the local stores: append a line to a demo note, create a note, add a calendar event to a
demo calendar, add a reminder to a demo list, save an email draft, queue an SMS, add a
contact. It prints ``begin N`` before and ``done N`` after each write (unbuffered).

The parent sends ``go``, waits a random 0..max-delay seconds, sends SIGKILL, and checks the
workspace as the kill left it:

- unreadable stores: every ``.ics`` parses with icalendar (every BEGIN closed), every vCard
  file is UTF-8 with balanced cards that the product's parser reads, every note is UTF-8,
  every Maildir message parses with the email package (no defects, complete body), every
  SMS file is JSON; after the next open, the apps themselves read every store back;
- data lost: every write the child reported ``done`` (in this or any earlier iteration) is
  there, and the demo data is intact (untouched files byte for byte; the note and the two
  calendars written to keep their old bytes around the inserted items);
- litter: files that are not store data (``.NAME.xxxxxxxx.tmp`` temp files, Maildir
  ``tmp/`` entries, anything else unexpected). A temp file just left by a kill is fresh, and
  a store deliberately keeps fresh temp files (they may belong to a live writer), so the
  leftovers are aged past the stale limits (10 minutes for ours, 36 hours for Maildir's
  ``tmp/``) and the next child's open must remove them all.

After the last kill one more child opens and reads the stores. Prints the figures
(iterations, writes done, kills during a write, unreadable stores, data lost, litter found,
seconds); the CI test runs a small count and asserts the zeros. Results go to
docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

NOW = "2026-11-23 10:00:00"  # a Monday, as in the eval set: the event and reminder dates below are ahead
KINDS = ("append_note", "create_note", "event", "reminder", "draft", "sms", "contact")
TAG = re.compile(r"K9-\d{6}")
APPENDED_NOTE = Path("notes/Notes/Groceries.md")  # demo note the child appends to
NEW_NOTES = Path("notes/Kill9")  # folder of the notes the child creates
EVENTS = Path("calendars/Work.ics")  # demo calendar the child adds events to
REMINDERS = Path("calendars/Reminders.ics")  # demo list the child adds reminders to
CONTACTS = Path("contacts/pocketagent.vcf")  # where LocalContacts writes new cards
DRAFTS = Path("mail/.Drafts")
OUTBOX = Path("sms/outbox")
WRITTEN_DEMO_FILES = (APPENDED_NOTE, EVENTS, REMINDERS)  # demo files that grow; every other demo file must not change
MAILDIRS = (Path("mail"), Path("mail/.Drafts"), Path("mail/.Sent"))
AGE_S = 40 * 3600  # past both stale limits: 10 minutes (atomic.py) and 36 hours (Maildir tmp/)
STARTUP_TIMEOUT_S = 300.0  # a child that is not ready by then has hung (the loop would wait forever)


def tag(n: int) -> str:
    return f"K9-{n:06d}"


def kind_of(n: int) -> str:
    return KINDS[n % len(KINDS)]


def child_env(home: Path) -> dict[str, str]:
    """The environment of the `pocketagent` processes: this workspace, a fixed clock, no config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POCKETAGENT_")}
    env.update(
        POCKETAGENT_HOME=str(home),
        POCKETAGENT_NOW=NOW,
        POCKETAGENT_CONFIG=str(home.parent / "no-config.toml"),
        POCKETAGENT_OPEN_IN_DESKTOP="false",
        POCKETAGENT_MAIL_NAME="Alex Kim",
        POCKETAGENT_MAIL_ADDRESS="alex.kim@example.com",
    )
    return env


# -- the child: open the stores, read them back, then write until killed ---------------------


def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # unbuffered: a line is in the pipe once this returns


def _app_read_problems(apps) -> list[str]:  # type: ignore[no-untyped-def]
    """What the apps themselves cannot read back (the product's own readers, stricter where it checks)."""
    problems: list[str] = []

    def attempt(what: str, read: Callable[[], object]) -> None:
        try:
            read()
        except Exception as exc:  # noqa: BLE001 - any failure to read is what is counted
            problems.append(f"{what}: {type(exc).__name__}: {exc}")

    store = apps.calendar.store
    for name in store.names():
        attempt(f"calendar {name}", lambda name=name: store.read(name))
    attempt("contacts", apps.contacts.contacts)
    notes = apps.notes
    listing = notes.notes if callable(notes.notes) else notes.notes.notes  # NotesWithWriter wraps LocalNotes
    for note in listing():
        attempt(f"note {note.label}", lambda note=note: note.path.read_bytes().decode("utf-8"))
    attempt("inbox", apps.mail.inbox_summaries)
    drafts = apps.mail.drafts
    for key in drafts.keys():
        attempt(f"draft {key}", lambda key=key: BytesParser(policy=policy.default).parsebytes(drafts.get_bytes(key)))
    outbox = apps.sms.outbox_dir
    files = len(list(outbox.glob("*.json"))) if outbox.is_dir() else 0
    if len(apps.sms.records()) != files:  # records() skips what it cannot read
        problems.append(f"sms outbox: {files - len(apps.sms.records())} of {files} messages unreadable")
    return problems


def _write(apps, n: int) -> None:  # type: ignore[no-untyped-def]
    from pocketagent.backends.local.contacts import Contact

    t = tag(n)
    kind = kind_of(n)
    if kind == "append_note":
        apps.notes.append_note_content("Groceries", t, "Notes")
    elif kind == "create_note":
        apps.notes.create_note(t, f"{t} body", NEW_NOTES.name)
    elif kind == "event":
        apps.calendar.create_calendar_event(t, "2026-11-25 10:00:00", "2026-11-25 11:00:00", "", [], "", "Work")
    elif kind == "reminder":
        apps.reminders.create_reminder(t, "2026-12-01 09:00:00", "", "Reminders", 0, False)
    elif kind == "draft":
        apps.mail.compose_new_email(["sid@example.com"], [], t, f"{t} body", [])
    elif kind == "sms":
        apps.sms.send_sms(["+1 415 555 0100"], t)
    else:
        apps.contacts.add_contact(Contact(full_name=t))


def child(home: Path, start: int) -> None:
    """Open the stores like the CLI, report what the apps cannot read, then write from `start` until killed."""
    import pocketagent.agent.build  # noqa: F401 - registers the "workspace" provider, as every CLI run does
    from pocketagent.settings import load_settings
    from pocketagent.tools.apps import build_apps

    apps = build_apps("workspace", load_settings(home=home))
    for name in ("contacts", "calendar", "reminders", "notes", "mail", "sms"):
        getattr(apps, name)  # reading builds the app: opening a store removes its stale temp files
    for problem in _app_read_problems(apps):
        _say(f"unreadable {problem}")
    _say("ready")
    if sys.stdin.readline().strip() != "go":
        return
    n = start
    while True:
        _say(f"begin {n}")
        _write(apps, n)
        _say(f"done {n}")
        n += 1


# -- the parent's checks, on the files as the kill left them ----------------------------------


def snapshot(home: Path) -> dict[Path, bytes]:
    """Every file of the workspace (relative path → bytes), lock sidecars left out."""
    return {p.relative_to(home): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file() and p.suffix != ".lock"}


@dataclass
class Found:
    """What the checks saw: problems per category, and the tags present per kind."""

    unreadable: list[str] = field(default_factory=list)
    lost_demo: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    tags: dict[str, set[int]] = field(default_factory=lambda: {kind: set() for kind in KINDS})

    def add(self, kind: str, text: str, where: str) -> None:
        n = int(text[3:])
        if n in self.tags[kind]:
            self.duplicates.append(f"{text} twice in {where}")
        self.tags[kind].add(n)


def _utf8(path: Path, found: Found) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        found.unreadable.append(f"{path}: {exc}")
        return None


def _check_calendars(home: Path, found: Found) -> None:
    import icalendar

    for path in sorted((home / "calendars").glob("*.ics")):
        text = _utf8(path, found)
        if text is None:
            continue
        try:
            calendars = icalendar.Calendar.from_ical(text, multiple=True)
        except Exception as exc:  # noqa: BLE001
            found.unreadable.append(f"{path}: icalendar: {exc}")
            continue
        lines = [line.strip().upper() for line in text.splitlines()]
        for kind in ("VCALENDAR", "VEVENT", "VTODO", "VTIMEZONE"):
            begins, ends = lines.count(f"BEGIN:{kind}"), lines.count(f"END:{kind}")
            parsed = len(calendars) if kind == "VCALENDAR" else sum(len(c.walk(kind)) for c in calendars)
            if not begins == ends == parsed:
                found.unreadable.append(f"{path}: {begins} BEGIN:{kind}, {ends} END:{kind}, {parsed} parsed")
        if not text.rstrip().upper().endswith("END:VCALENDAR"):
            found.unreadable.append(f"{path}: does not end with END:VCALENDAR")
        for kind, wanted in (("VEVENT", EVENTS), ("VTODO", REMINDERS)):
            if path.relative_to(home) == wanted:
                for component in (c for cal in calendars for c in cal.walk(kind)):
                    summary = str(component.get("SUMMARY", ""))
                    if TAG.fullmatch(summary):
                        found.add("event" if kind == "VEVENT" else "reminder", summary, str(path))


def _check_contacts(home: Path, found: Found) -> None:
    from pocketagent.backends.local.vcard import parse_vcards

    for path in sorted((home / "contacts").glob("*.vcf")):
        text = _utf8(path, found)
        if text is None:
            continue
        lines = [line.strip().upper() for line in text.splitlines()]
        cards = parse_vcards(text)
        if not lines.count("BEGIN:VCARD") == lines.count("END:VCARD") == len(cards):
            found.unreadable.append(f"{path}: unbalanced vCards ({len(cards)} parsed)")
        for card in cards:
            names = [p.text() for p in card.properties if p.name == "FN"]
            if not names or not names[0]:
                found.unreadable.append(f"{path}: a card without FN")
            elif path.relative_to(home) == CONTACTS and TAG.fullmatch(names[0]):
                found.add("contact", names[0], str(path))


def _check_notes(home: Path, found: Found) -> None:
    for path in sorted((home / "notes").rglob("*.md")):
        if any(part.startswith(".") for part in path.relative_to(home / "notes").parts):
            continue
        text = _utf8(path, found)
        if text is None:
            continue
        relative = path.relative_to(home)
        if relative == APPENDED_NOTE:
            for line in text.splitlines():
                if TAG.fullmatch(line):
                    found.add("append_note", line, str(path))
        elif relative.parent == NEW_NOTES and TAG.fullmatch(path.stem):
            if text != f"{path.stem} body\n":
                found.unreadable.append(f"{path}: incomplete note {text!r}")
            found.add("create_note", path.stem, str(path))


def _check_mail(home: Path, found: Found) -> None:
    for maildir in MAILDIRS:
        for sub in ("cur", "new"):
            folder = home / maildir / sub
            for path in sorted(folder.iterdir()) if folder.is_dir() else []:
                if path.name.startswith("."):
                    continue
                try:
                    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
                    body = message.get_body(preferencelist=("plain", "html"))
                    text = body.get_content() if body is not None else ""
                    subject = str(message["Subject"] or "")
                except Exception as exc:  # noqa: BLE001
                    found.unreadable.append(f"{path}: {type(exc).__name__}: {exc}")
                    continue
                if message.defects or not message["From"] or not message["Message-ID"] or not text.strip():
                    found.unreadable.append(f"{path}: defects {message.defects} or missing headers/body")
                elif maildir == DRAFTS and TAG.fullmatch(subject):
                    if f"{subject} body" not in text:
                        found.unreadable.append(f"{path}: draft body incomplete")
                    found.add("draft", subject, str(path))


def _check_sms(home: Path, found: Found) -> None:
    for path in sorted((home / OUTBOX).glob("*.json")):
        try:
            record = json.loads(path.read_bytes().decode("utf-8"))
            message = record["message"]
            assert isinstance(message, str) and record["status"] == "queued" and record["to"]
        except Exception as exc:  # noqa: BLE001
            found.unreadable.append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        if TAG.fullmatch(message):
            found.add("sms", message, str(path))


def _check_demo(home: Path, demo: dict[Path, bytes], found: Found) -> None:
    for relative, old in demo.items():
        path = home / relative
        try:
            new = path.read_bytes()
        except OSError as exc:
            found.lost_demo.append(f"{relative}: {exc.strerror or exc}")
            continue
        if relative not in WRITTEN_DEMO_FILES:
            if new != old:
                found.lost_demo.append(f"{relative}: changed")
        elif relative.suffix == ".ics":  # items are inserted before the last END:VCALENDAR
            cut = old.upper().rfind(b"END:VCALENDAR")
            if not (new.startswith(old[:cut]) and new.endswith(old[cut:])):
                found.lost_demo.append(f"{relative}: its old bytes are not all kept")
        elif not new.startswith(old):  # appended to
            found.lost_demo.append(f"{relative}: its old bytes are not all kept")


def check_workspace(home: Path, demo: dict[Path, bytes]) -> Found:
    """Read every store as the files are now (no store is opened, nothing is cleaned)."""
    found = Found()
    _check_calendars(home, found)
    _check_contacts(home, found)
    _check_notes(home, found)
    _check_mail(home, found)
    _check_sms(home, found)
    _check_demo(home, demo, found)
    return found


def lost_writes(found: Found, done: set[int]) -> list[str]:
    """The writes reported done that are not in their store."""
    return [f"{tag(n)} ({kind_of(n)})" for n in sorted(done) if n not in found.tags[kind_of(n)]]


def litter(home: Path, demo: dict[Path, bytes]) -> list[Path]:
    """Files that are neither demo data, store data nor a lock sidecar: temp files and anything else unexpected."""
    found = []
    for path in sorted(home.rglob("*")):
        if not path.is_file() and not path.is_symlink():
            continue
        relative = path.relative_to(home)
        parts, name = relative.parts, path.name
        hidden = any(part.startswith(".") for part in parts[1:-1]) or name.startswith(".")
        if relative in demo or name.endswith(".lock"):  # locks are permanent sidecars (`.pocketagent.lock`)
            continue
        store_data = (
            (parts[0] == "notes" and name.endswith(".md") and not hidden)
            or (parts[0] == "calendars" and len(parts) == 2 and name.endswith(".ics") and not hidden)
            or (parts[0] == "contacts" and len(parts) == 2 and name.endswith(".vcf") and not hidden)
            or (parts[0] == "mail" and parts[-2] in ("cur", "new") and not name.startswith("."))
            or (relative.parent == OUTBOX and name.endswith(".json") and not name.startswith("."))
            or relative == Path("state/mail.json")
        )
        if not store_data:
            found.append(relative)
    return found


def age(home: Path, paths: list[Path]) -> None:
    """Make leftovers look as old as a crash long ago (mtime for atomic.py, atime for Maildir.clean)."""
    then = time.time() - AGE_S
    for relative in paths:
        try:
            os.utime(home / relative, (then, then), follow_symlinks=False)
        except OSError:
            continue


# -- the loop -------------------------------------------------------------------------------


def make_demo(home: Path) -> None:
    subprocess.run(
        [sys.executable, "-c", "from pocketagent.cli.main import main; main()", "init", "--demo", "--home", str(home)],
        env=child_env(home),
        check=True,
        stdout=subprocess.DEVNULL,
    )


@dataclass
class Child:
    process: subprocess.Popen[bytes]
    app_problems: list[str]
    ready: bool
    stderr_path: Path

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text("utf-8", "replace")[-2000:]
        except OSError:
            return ""


def start_child(home: Path, start: int, stderr_path: Path) -> Child:
    """A child that has opened and read the stores (`ready`) and now waits for `go`."""
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(home), "--start", str(start)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=child_env(home),
        )
    watchdog = threading.Timer(STARTUP_TIMEOUT_S, process.kill)
    watchdog.start()
    problems, ready = [], False
    try:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line == "ready":
                ready = True
                break
            if line.startswith("unreadable "):
                problems.append(line.removeprefix("unreadable "))
    finally:
        watchdog.cancel()
    return Child(process, problems, ready, stderr_path)


def stop(child: Child) -> None:
    assert child.process.stdin is not None
    try:
        child.process.stdin.write(b"stop\n")
        child.process.stdin.close()
    except OSError:
        pass
    child.process.wait(timeout=60)


def run(
    iterations: int = 200,
    seed: int = 0,
    max_delay: float = 0.3,
    workdir: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """The kill loop on a fresh demo workspace under `workdir`; returns the figures and examples of failures."""
    import tempfile

    rng = random.Random(seed)
    say = log or (lambda text: None)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kill9-") as scratch:
        base = Path(workdir) if workdir is not None else Path(scratch)
        home = base / "home"
        if home.exists():  # the sequence numbers start at 0: an old run's writes would clash
            raise ValueError(f"{home} already exists; give an empty work directory")
        make_demo(home)
        demo = snapshot(home)
        report = {
            "iterations": 0,
            "writes_done": 0,
            "kills_during_write": 0,
            "kills_by_write_kind": {kind: 0 for kind in KINDS},
            "in_flight_writes_kept": 0,
            "temp_files_left_by_kills": 0,
            "unreadable_stores": 0,
            "data_lost": 0,
            "litter_found": 0,
            "duplicates": 0,
            "child_failures": 0,
        }
        examples: list[str] = []
        done: set[int] = set()
        lost: set[str] = set()  # counted once, though a lost item stays missing in every later check
        next_n = 0

        def problem(key: str, items: list, label: str) -> None:
            report[key] += len(items)
            examples.extend(f"iteration {report['iterations']}: {label}: {item}" for item in items[:3])

        for i in range(iterations + 1):  # the last child only opens and reads the stores
            child = start_child(home, next_n, base / "child-stderr.txt")
            problem("unreadable_stores", child.app_problems, "the apps cannot read")
            if not child.ready:
                problem("child_failures", [f"exited before ready: {child.stderr()}"], "child")
                child.process.wait()
                break
            problem("litter_found", [str(p) for p in litter(home, demo)], "left after reopening")
            if i == iterations:
                stop(child)
                break
            assert child.process.stdin is not None and child.process.stdout is not None
            child.process.stdin.write(b"go\n")
            child.process.stdin.flush()
            time.sleep(rng.uniform(0, max_delay))
            child.process.send_signal(signal.SIGKILL)
            output = child.process.stdout.read().decode("utf-8", "replace").split()
            child.process.wait()
            report["iterations"] += 1
            if child.process.returncode != -signal.SIGKILL:
                problem("child_failures", [f"exit {child.process.returncode}: {child.stderr()}"], "child")
            begun = [int(n) for word, n in zip(output[::2], output[1::2], strict=False) if word == "begin"]
            finished = [int(n) for word, n in zip(output[::2], output[1::2], strict=False) if word == "done"]
            done.update(finished)
            report["writes_done"] += len(finished)
            in_flight = begun[-1] if begun and (not finished or finished[-1] != begun[-1]) else None
            next_n = (begun[-1] + 1) if begun else next_n

            found = check_workspace(home, demo)
            problem("unreadable_stores", found.unreadable, "unreadable after the kill")
            missing = [item for item in found.lost_demo + lost_writes(found, done) if item not in lost]
            lost.update(missing)
            problem("data_lost", missing, "lost")
            problem("duplicates", found.duplicates, "duplicate")
            if in_flight is not None:
                report["kills_during_write"] += 1
                report["kills_by_write_kind"][kind_of(in_flight)] += 1
                report["in_flight_writes_kept"] += in_flight in found.tags[kind_of(in_flight)]
            leftovers = litter(home, demo)
            report["temp_files_left_by_kills"] += len(leftovers)
            age(home, leftovers)  # the next child's open must remove them
            say(
                f"iteration {i + 1}: {len(finished)} writes done, "
                f"{'killed during ' + kind_of(in_flight) if in_flight is not None else 'killed between writes'}, "
                f"{len(leftovers)} temp file(s) left"
            )
        report["seconds"] = round(time.perf_counter() - started, 1)
        report["examples"] = examples[:20]
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-delay", type=float, default=0.3, help="seconds of writing before the kill, at most")
    parser.add_argument("--workdir", type=Path, help="keep the workspace here (default: a temp dir, removed)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="one line per iteration")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.start)
        return
    report = run(
        args.iterations,
        args.seed,
        args.max_delay,
        args.workdir,
        log=(lambda text: print(text, file=sys.stderr, flush=True)) if args.verbose else None,
    )
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        if isinstance(value, dict):
            value = ", ".join(f"{kind} {count}" for kind, count in value.items())
        if key != "examples":
            print(f"{key.replace('_', ' '):26s} {value}")
    for line in report["examples"]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
