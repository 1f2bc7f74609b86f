"""Concurrency benchmark: every pair of the 16 tools run in parallel on one demo workspace.

    .venv/bin/python benchmarks/concurrency_pairs.py [--rounds N] [--json]

Issue #11 asks for "every pair of the 16 tools run in parallel on one demo workspace, 50
rounds: 0 failures caused by concurrency, every write present afterwards". One round:

1. copies a demo workspace made once by `pocketagent init --demo` (a fresh copy per round,
   so rounds are alike and the stores stay demo-sized);
2. runs the 136 unordered pairs of tools (a tool with itself included), each as one plan of
   two independent actions, which the executor runs in two threads at once. The agent is
   built per plan from settings as `pocketagent run --plan` builds it; the only addition is
   a thin wrapper around its apps that holds each tool call at a barrier until the other
   one has arrived, so the two calls really overlap (without it a fast call often ends
   before the other's thread has started). The workspace's caches (file index, PDF
   summaries) are emptied before each pair, so every run also writes them, as a first run does;
3. after each pair checks both results against the same call run alone (the baseline) and
   that each write is in its store exactly once and intact: the event or reminder in the
   .ics, the draft in Maildir .Drafts, the text in the SMS outbox, the note file, the line
   appended to a note;
4. at the end of the round checks again that every write of the round is still there (a
   later write must not have lost an earlier one), and that every store still parses:
   .ics files with icalendar (no component dropped), vCards, notes as UTF-8, Maildir
   messages, the JSON files, and no temp file left behind.

A pair that fails is run again on a copy of the workspace with its two calls one after the
other (two plans). A failure only in parallel is "caused by concurrency"; one that happens
the same way alone is a plain failure (a wrong call, or a bug that needs no concurrency).

The calls use the demo's real data (contacts, the selected email, notes, PDFs). Each write
carries a marker unique to its round, pair and slot (`cp-r3-p017-b`), as event title, note
name, email subject or Cc address, or text, so it can be found exactly once afterwards.
`get_zoom_meeting_link` counts as a read: the default Jitsi backend stores nothing, and its
result (a fresh room link) is checked instead. In a tool's pair with itself, a read tool's
second call spells its argument differently ("tio manuel") for the same contact, file or
note: two identical calls in one plan may be merged by the executor, which would test nothing.

Prints figures; results go to docs/benchmarks.md by hand (with the date and command).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cached_property
from pathlib import Path
from typing import Any

import icalendar

from pocketagent.agent.agent import collect
from pocketagent.agent.build import build_agent
from pocketagent.settings import Settings
from pocketagent.tools.apps import APP_NAMES, LazyApp
from pocketagent.tools.builtin import BUILTIN_FUNCTIONS

NOW = "2026-11-23 10:00:00"  # a Monday, as in the eval set; every date below is after it
MAIL_NAME = "Alex Kim"
MAIL_ADDRESS = "alex.kim@example.com"
TIMEZONE = "America/Los_Angeles"  # the demo's people and places are in San Francisco
TOOLS = tuple(func.__name__ for func in BUILTIN_FUNCTIONS)
PAIRS = tuple(itertools.combinations_with_replacement(TOOLS, 2))  # 136 = 16 * 17 / 2
# Threads take turns every 10 µs instead of Python's 5 ms, so two calls that start together
# interleave finely (a race window of a few statements gets hit) instead of running in slices.
SWITCH_INTERVAL_S = 1e-5
BARRIER_TIMEOUT_S = 5.0  # a partner that never reaches its app (failed before) must not hang the run
MAX_DETAILS = 20  # failure details kept in the figures
# What `atomic_write_bytes` names its temp files (left behind only by a writer killed mid-write).
TEMP_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
# The demo's selected email (the newest inbox message) that replies and forwards are based on.
SELECTED_SUBJECT = "Design review Wednesday"
SELECTED_ID = "<review-1@demo.pocketagent.invalid>"


# -- the 16 calls -------------------------------------------------------------------------


def call_args(home: Path, marker: str, second: bool = False) -> dict[str, tuple[object, ...]]:
    """Each tool's arguments on the demo workspace `home`.

    `marker` goes into what a write stores; `second` (the second call of a read tool's pair
    with itself) spells the argument the other way, for the same contact, file or note.
    """

    def spell(first: str, other: str) -> str:
        return other if second else first

    files = home / "files"
    invitees = ["teodora@example.com"]
    return {
        "get_phone_number": (spell("Tío Manuel", "tio manuel"),),
        "get_email_address": (spell("Eren Erdogan", "eren erdogan"),),
        # Events and reminders both go to Work.ics: two writers of one file (in their pair too).
        "create_calendar_event": (
            marker, "2026-11-25 10:00:00", "2026-11-25 11:00:00", "Room Atlas", invitees, f"{marker} agenda", "Work",
        ),
        "open_and_get_file_path": (spell("NDA", "nda"),),
        # A literal path (in a real plan "$N" from open_and_get_file_path); "../Legal" is the same file.
        "summarize_pdf": (str(files / "Work" / "Legal" / spell("NDA.pdf", "../Legal/NDA.pdf")),),
        "compose_new_email": (
            ["ravi.kumar@example.org"], [], marker, "the headcount numbers", [str(files / "Work" / "headcount.csv")],
        ),
        # The reply and the forward are found by their Cc, the marker's own address.
        "reply_to_email": ([f"{marker}@example.com"], "Thursday works for me", []),
        "forward_email": (["nadia.haddad@example.com"], [f"{marker}@example.com"], "see thread below", []),
        "maps_open_location": (spell("Presidio Tunnel Tops", "presidio tunnel tops"),),
        "maps_show_directions": ("Ferry Building", spell("de Young Museum", "de young museum"), "r"),
        "create_note": (marker, f"{marker} packing list", "Travel"),
        # open_note reads the note append_note_content writes to.
        "open_note": (spell("Home", "home"), spell("Household", "household")),
        "append_note_content": ("Home", f"{marker} appended", "Household"),
        "create_reminder": (marker, "2026-12-01 09:00:00", "", "Work", 5, False),
        "send_sms": (["+1-415-555-0104"], f"{marker} see you at 6"),
        "get_zoom_meeting_link": (marker, "2026-11-27 13:00:00", 45, invitees),
    }  # fmt: skip


def literal(value: object) -> str:
    """A value as the plan language writes it: JSON for strings and lists (valid Python literals)."""
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Call:
    """One tool call of a run: its plan text and the marker its write (if any) carries."""

    tool: str
    text: str
    marker: str

    @property
    def writes(self) -> bool:
        return self.tool in WRITE_CHECKS


def make_call(tool: str, home: Path, marker: str, second: bool = False) -> Call:
    args = call_args(home, marker, second)[tool]
    return Call(tool, f"{tool}({', '.join(literal(a) for a in args)})", marker)


def pair_calls(pair: tuple[str, str], home: Path, prefix: str) -> list[Call]:
    """The two calls of `pair`, marked `<prefix>-a` and `<prefix>-b`."""
    first, other = pair
    return [make_call(first, home, f"{prefix}-a"), make_call(other, home, f"{prefix}-b", second=first == other)]


# -- reading the stores back --------------------------------------------------------------


class Stores:
    """What a workspace holds on disk, each store read (once) when a check needs it."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def calendar(self, name: str) -> list[icalendar.cal.Component]:
        path = self.home / "calendars" / f"{name}.ics"
        return [c for cal in icalendar.Calendar.from_ical(path.read_bytes(), multiple=True) for c in cal.walk()]

    @cached_property
    def work(self) -> list[icalendar.cal.Component]:
        return self.calendar("Work")

    @cached_property
    def drafts(self) -> list[EmailMessage]:
        folder = self.home / "mail" / ".Drafts"
        return [parse_message(p) for sub in ("cur", "new") for p in sorted((folder / sub).iterdir())]

    @cached_property
    def outbox(self) -> list[dict[str, Any]]:
        files = sorted((self.home / "sms" / "outbox").glob("*.json"))
        return [json.loads(path.read_text(encoding="utf-8")) for path in files]

    @cached_property
    def home_note_lines(self) -> list[str]:
        return (self.home / "notes" / "Household" / "Home.md").read_text(encoding="utf-8").splitlines()

    @cached_property
    def note_names(self) -> list[str]:
        return [p.stem for p in (self.home / "notes").rglob("*.md")]


def parse_message(path: Path) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())  # type: ignore[return-value]


def _once(found: list[Any], what: str) -> str | None:
    return None if len(found) == 1 else f"{what} is there {len(found)} times, not once"


def _drafts_with_cc(stores: Stores, marker: str) -> list[EmailMessage]:
    address = f"{marker}@example.com"
    return [m for m in stores.drafts if address in [a.addr_spec for a in getattr(m["Cc"], "addresses", ())]]


def check_event(stores: Stores, marker: str) -> str | None:
    found = [c for c in stores.work if c.name == "VEVENT" and str(c.get("SUMMARY")) == marker]
    if problem := _once(found, f"event {marker!r} in Work.ics"):
        return problem
    event = found[0]
    if (
        event.decoded("DTSTART").strftime("%Y-%m-%d %H:%M") != "2026-11-25 10:00"
        or event.decoded("DTEND").strftime("%H:%M") != "11:00"
        or str(event.get("LOCATION")) != "Room Atlas"
        or str(event.get("DESCRIPTION")) != f"{marker} agenda"
        or str(event.get("ATTENDEE")).lower() != "mailto:teodora@example.com"
    ):
        return f"event {marker!r} in Work.ics is garbled: {event.to_ical()!r}"
    return None


def check_reminder(stores: Stores, marker: str) -> str | None:
    found = [c for c in stores.work if c.name == "VTODO" and str(c.get("SUMMARY")) == marker]
    if problem := _once(found, f"reminder {marker!r} in Work.ics"):
        return problem
    todo = found[0]
    if todo.decoded("DUE").strftime("%Y-%m-%d %H:%M") != "2026-12-01 09:00" or int(todo.get("PRIORITY", 0)) != 5:
        return f"reminder {marker!r} in Work.ics is garbled: {todo.to_ical()!r}"
    return None


def check_compose(stores: Stores, marker: str) -> str | None:
    found = [m for m in stores.drafts if m["Subject"] == marker]
    if problem := _once(found, f"draft {marker!r}"):
        return problem
    message = found[0]
    attachments = list(message.iter_attachments())
    expected = (stores.home / "files" / "Work" / "headcount.csv").read_bytes()
    if (
        message["To"] != "ravi.kumar@example.org"
        or "The headcount numbers." not in message.get_body(("plain",)).get_content()
        or [a.get_filename() for a in attachments] != ["headcount.csv"]
        or attachments[0].get_payload(decode=True) != expected
    ):
        return f"draft {marker!r} is garbled"
    return None


def _check_selected_draft(stores: Stores, marker: str, kind: str, intact: Callable[[EmailMessage, str], bool]) -> str | None:
    """The one reply/forward draft with Cc `marker`, made from the selected email and `intact`."""
    found = _drafts_with_cc(stores, marker)
    if problem := _once(found, f"{kind} draft with Cc {marker}@example.com"):
        return problem
    draft = found[0]
    if not intact(draft, draft.get_body(("plain",)).get_content()):
        return f"{kind} draft with Cc {marker}@example.com is garbled"
    return None


def check_reply(stores: Stores, marker: str) -> str | None:
    return _check_selected_draft(
        stores,
        marker,
        "reply",
        lambda draft, body: draft["Subject"] == f"Re: {SELECTED_SUBJECT}"
        and draft["In-Reply-To"] == SELECTED_ID
        and "wrote:" in body,
    )


def check_forward(stores: Stores, marker: str) -> str | None:
    return _check_selected_draft(
        stores,
        marker,
        "forward",
        lambda draft, body: draft["Subject"] == f"Fwd: {SELECTED_SUBJECT}"
        and "---------- Forwarded message ----------" in body,
    )


def check_note(stores: Stores, marker: str) -> str | None:
    if problem := _once([n for n in stores.note_names if n == marker], f"note {marker!r}"):
        return problem
    path = stores.home / "notes" / "Travel" / f"{marker}.md"
    if not path.is_file() or path.read_text(encoding="utf-8") != f"{marker} packing list\n":
        return f"note {marker!r} is not in Travel with its text"
    return None


def check_append(stores: Stores, marker: str) -> str | None:
    found = [line for line in stores.home_note_lines if line == f"{marker} appended"]
    return _once(found, f"line {marker!r} in Home.md")


def check_sms(stores: Stores, marker: str) -> str | None:
    found = [r for r in stores.outbox if r.get("message") == f"{marker} see you at 6"]
    if problem := _once(found, f"text {marker!r} in the SMS outbox"):
        return problem
    if found[0].get("to") != ["+1-415-555-0104"] or found[0].get("status") != "queued":
        return f"text {marker!r} in the SMS outbox is garbled: {found[0]}"
    return None


# The tools that write to a store, and how to find their write.
WRITE_CHECKS: dict[str, Callable[[Stores, str], str | None]] = {
    "create_calendar_event": check_event,
    "create_reminder": check_reminder,
    "compose_new_email": check_compose,
    "reply_to_email": check_reply,
    "forward_email": check_forward,
    "create_note": check_note,
    "append_note_content": check_append,
    "send_sms": check_sms,
}


def check_write(stores: Stores, call: Call) -> str | None:
    """None when the call's write is in its store exactly once and intact, else what is wrong."""
    try:
        return WRITE_CHECKS[call.tool](stores, call.marker)
    except Exception as exc:  # noqa: BLE001 — an unreadable store is a failed check, not a crash
        return f"{call.tool} {call.marker}: cannot read its store: {type(exc).__name__}: {exc}"


def store_problems(home: Path, contacts: int) -> list[str]:
    """What keeps a store from parsing completely; [] when every store reads back whole."""
    from pocketagent.backends.local.contacts import LocalContacts

    problems: list[str] = []
    for path in sorted((home / "calendars").glob("*.ics")):
        try:
            text = path.read_bytes().decode("utf-8")
            parsed = [c for cal in icalendar.Calendar.from_ical(text, multiple=True) for c in cal.walk()]
            # icalendar silently drops a component whose END is missing: count BEGIN lines against it.
            for kind in ("VEVENT", "VTODO", "VTIMEZONE"):
                begun = sum(1 for line in text.splitlines() if line.strip() == f"BEGIN:{kind}")
                read = sum(1 for c in parsed if c.name == kind)
                if begun != read:
                    problems.append(f"{path.name}: {begun} BEGIN:{kind} lines but {read} {kind}s parse")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{path.name} does not parse: {type(exc).__name__}: {exc}")
    try:
        found = len(LocalContacts(home / "contacts").contacts())
        if found != contacts:
            problems.append(f"contacts: {found} load, the demo has {contacts}")
    except Exception as exc:  # noqa: BLE001
        problems.append(f"contacts do not load: {type(exc).__name__}: {exc}")
    for path in sorted((home / "notes").rglob("*.md")):
        try:
            path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"note {path.relative_to(home)} does not read: {exc}")
    for folder in (home / "mail", home / "mail" / ".Drafts", home / "mail" / ".Sent"):
        if any((folder / "tmp").iterdir()):
            problems.append(f"{folder.relative_to(home)}/tmp is not empty")
        for path in sorted(p for sub in ("cur", "new") for p in (folder / sub).iterdir()):
            try:
                message = parse_message(path)
                if not message["Message-ID"] or not message["From"] or message.defects:
                    problems.append(f"message {path.relative_to(home)} is incomplete: {message.defects}")
                message.get_body(("plain", "html"))
            except Exception as exc:  # noqa: BLE001
                problems.append(f"message {path.relative_to(home)} does not parse: {type(exc).__name__}: {exc}")
    for path in sorted([*home.glob("sms/*/*.json"), *home.glob("cache/**/*.json"), *home.glob("state/*.json")]):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{path.relative_to(home)} is not JSON: {exc}")
    problems += [f"temp file left behind: {p.relative_to(home)}" for p in home.rglob("*") if TEMP_FILE.match(p.name)]
    return problems


# -- running plans --------------------------------------------------------------------------


def workspace_settings(home: Path) -> Settings:
    """The settings `pocketagent run --plan` would use on this workspace, given explicitly
    (the local backends, drafts and the outbox, no desktop apps, no model).

    The time zone is named rather than the machine's (often UTC in CI), so events and
    reminders are stored with a TZID and their VTIMEZONE, the path most users' files take.
    """
    return Settings(
        home=home, now=NOW, timezone=TIMEZONE, open_in_desktop=False, mail_name=MAIL_NAME, mail_address=MAIL_ADDRESS,
        apps="workspace", dry_run=False, send=False, subagent_llm=False, plugins=[],
        contacts_backend="local", calendar_backend="local", reminders_backend="local", notes_backend="local",
        mail_backend="local", files_backend="local", sms_provider="outbox", maps_provider="openstreetmap",
        meetings_provider="jitsi",
    )  # fmt: skip


@dataclass
class CallTrace:
    """When a tool call was inside its app, and the traceback if the app raised."""

    method: str
    started: float = 0.0
    ended: float = 0.0
    traceback: str | None = None


class StartTogether:
    """Wraps one app: each call waits at `barrier` (all calls of the plan there) before it runs.

    Every built-in tool makes exactly one app call, so the barrier lines up the tools themselves.
    The app is resolved after the barrier, so building it on first use (`LazyApp`) overlaps too.
    """

    def __init__(self, app: Any, barrier: threading.Barrier | None, traces: list[CallTrace]) -> None:
        self._app, self._barrier, self._traces = app, barrier, traces

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("__"):
            raise AttributeError(method)

        def call(*args: Any) -> Any:
            trace = CallTrace(method)
            self._traces.append(trace)
            if self._barrier is not None:
                try:
                    self._barrier.wait(BARRIER_TIMEOUT_S)
                except threading.BrokenBarrierError:
                    pass  # the partner failed before its app: run alone
            trace.started = time.perf_counter()
            try:
                app = self._app.resolve() if isinstance(self._app, LazyApp) else self._app
                return getattr(app, method)(*args)
            except BaseException:
                trace.traceback = traceback.format_exc()
                raise
            finally:
                trace.ended = time.perf_counter()

        return call


@dataclass
class Outcome:
    """What became of one call: status, result or error, and its app call's trace."""

    call: Call
    status: str
    result: str = ""
    error: str = ""
    trace: CallTrace | None = None


def run_plan(home: Path, calls: list[Call], together: bool) -> list[Outcome]:
    """Run `calls` as one plan of independent actions (in parallel); `together`: start them at a barrier."""
    agent = build_agent(workspace_settings(home), with_planner=False)
    traces: list[CallTrace] = []
    barrier = threading.Barrier(len(calls)) if together and len(calls) > 1 else None
    apps = agent.context.apps
    for name in APP_NAMES:
        setattr(apps, name, StartTogether(apps.given(name), barrier, traces))
    lines = [f"{number}. {call.text}" for number, call in enumerate(calls, 1)]
    plan = "\n".join(lines) + f"\n{len(calls) + 1}. join()<END_OF_PLAN>\n"
    summary = asyncio.run(collect(agent.run_plan(plan)))
    actions = {a["id"]: a for a in summary.to_dict()["actions"]}
    outcomes = []
    for number, call in enumerate(calls, 1):
        action = actions.get(number, {"status": "missing", "error": "no action in the run"})
        outcomes.append(
            Outcome(call, action["status"], str(action.get("result", "")), str(action.get("error", "")))
        )
    # Traces are in arrival order; give each to the outcome whose tool calls that app method.
    for outcome in outcomes:
        mine = [t for t in traces if t.method == outcome.call.tool and t.started]
        outcome.trace = mine.pop(0) if mine else None
        if outcome.trace is not None:
            traces.remove(outcome.trace)
    return outcomes


def overlapped(outcomes: list[Outcome]) -> bool:
    """Whether the two tool calls were inside their apps at the same time."""
    spans = [(o.trace.started, o.trace.ended) for o in outcomes if o.trace is not None]
    return len(spans) == 2 and max(s for s, _ in spans) < min(e for _, e in spans)


# -- expected results -----------------------------------------------------------------------

_ROOM = re.compile(r"-[a-z0-9]{10}$")  # the random part of a Jitsi room name


def normalize(result: str, home: Path, marker: str) -> str:
    """A result with what legitimately varies (the workspace path, the marker, a room's random part) replaced."""
    return _ROOM.sub("-{room}", result.replace(str(home), "{home}").replace(marker, "{marker}"))


@dataclass
class Baseline:
    """The normalized result of each call run alone on a fresh demo workspace."""

    results: dict[tuple[str, bool], str] = field(default_factory=dict)

    @classmethod
    def measure(cls, template: Path, scratch: Path) -> Baseline:
        """Run each call alone; a call that fails even so is a mistake here, not a finding."""
        baseline = cls()
        for number, (tool, second) in enumerate(itertools.product(TOOLS, (False, True))):
            home = copy_workspace(template, scratch / f"baseline-{number}")
            call = make_call(tool, home, f"cp-base-{number}", second)
            if second and call.text == make_call(tool, home, call.marker).text:
                shutil.rmtree(home)
                continue  # a write's second call differs by its marker only: same expected result
            (outcome,) = run_plan(home, [call], together=False)
            problem = check_outcome(outcome, home, None) or (check_write(Stores(home), call) if call.writes else None)
            if outcome.status != "ok" or problem:
                raise RuntimeError(f"the call {call.text} fails alone: {outcome.error or problem}")
            baseline.results[tool, second] = normalize(outcome.result, home, call.marker)
            shutil.rmtree(home)
        return baseline

    def expected(self, call: Call, second: bool) -> str:
        return self.results.get((call.tool, second)) or self.results[call.tool, False]


def check_outcome(outcome: Outcome, home: Path, baseline: Baseline | None, second: bool = False) -> str | None:
    """None when the call succeeded with the result it has when run alone, else what is wrong."""
    call = outcome.call
    if outcome.status != "ok":
        return f"{call.tool} {outcome.status}: {outcome.error}"
    if baseline is None:
        return None
    got = normalize(outcome.result, home, call.marker)
    want = baseline.expected(call, second)
    if call.tool == "open_note":
        # Home.md grows with the lines appended earlier (or right now, by the other call);
        # a read must see the demo text then whole appended lines, never a torn write.
        rest = got[len(want):] if got.startswith(want) else None
        if rest is None or not all(re.fullmatch(r"cp-\S+ appended", x) for x in rest.splitlines()):
            return f"open_note returned a torn or wrong note: {outcome.result!r}"
        return None
    if got != want:
        return f"{call.tool} returned {outcome.result!r}; alone it returns {want!r}"
    return None


def check_run(home: Path, outcomes: list[Outcome], baseline: Baseline) -> list[str]:
    """Everything wrong with a run of a pair: failed calls, unexpected results, missing or bad writes."""
    problems: list[str] = []
    same_tool = len(outcomes) == 2 and outcomes[0].call.tool == outcomes[1].call.tool
    stores = Stores(home)
    for slot, outcome in enumerate(outcomes):
        problem = check_outcome(outcome, home, baseline, second=same_tool and slot == 1)
        if problem is None and outcome.call.writes:
            problem = check_write(stores, outcome.call)
        if problem:
            trace = outcome.trace.traceback if outcome.trace and outcome.trace.traceback else ""
            problems.append(problem + (f"\n{trace}" if trace else ""))
    links = [o.result for o in outcomes if o.call.tool == "get_zoom_meeting_link" and o.status == "ok"]
    if len(links) == 2 and links[0] == links[1]:
        problems.append(f"both get_zoom_meeting_link calls returned the same room {links[0]}")
    return problems


# -- the benchmark --------------------------------------------------------------------------


def make_demo_workspace(home: Path) -> Path:
    """`pocketagent init --demo --home HOME`, through the CLI as a user runs it."""
    from typer.testing import CliRunner

    from pocketagent.cli.main import app

    env = {"POCKETAGENT_NOW": NOW, "POCKETAGENT_CONFIG": str(home.parent / "no-config.toml")}
    result = CliRunner().invoke(app, ["init", "--demo", "--home", str(home)], env=env)
    if result.exit_code != 0:
        raise RuntimeError(f"pocketagent init --demo failed: {result.output}")
    return home


def copy_workspace(template: Path, home: Path) -> Path:
    if home.exists():
        shutil.rmtree(home)
    shutil.copytree(template, home, symlinks=True)
    return home


@dataclass
class Failure:
    """A run of a pair that went wrong, and what became of its calls one after the other."""

    round: int
    pair: tuple[str, str]
    problems: list[str]
    sequential_problems: list[str] | None = None  # None: not re-run (a write lost after its pair)

    @property
    def kind(self) -> str:
        """What went wrong where: `concurrency` (only in parallel), `also sequential` (one after the
        other too) or `lost later` (a write there after its pair ran was gone at the end of the round)."""
        if self.sequential_problems is None:
            return "lost later"
        return "also sequential" if self.sequential_problems else "concurrency"

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "pair": list(self.pair),
            "kind": self.kind,
            "problems": self.problems,
            "sequential_problems": self.sequential_problems,
        }


def run_sequentially(home: Path, pair: tuple[str, str], prefix: str, baseline: Baseline) -> list[str]:
    """The pair's two calls as two plans, one after the other, on `home`; what goes wrong."""
    calls = pair_calls(pair, home, prefix)
    outcomes = [run_plan(home, [call], together=False)[0] for call in calls]
    return check_run(home, outcomes, baseline)


@dataclass
class RoundResult:
    """The figures of one round over the pairs."""

    runs: int = 0
    overlapping_runs: int = 0
    writes_expected: int = 0
    writes_present: int = 0
    failures: list[Failure] = field(default_factory=list)
    store_problems: list[str] = field(default_factory=list)


def run_round(
    number: int, template: Path, workdir: Path, pairs: tuple[tuple[str, str], ...], baseline: Baseline, contacts: int
) -> RoundResult:
    """Every pair once, in parallel, on a fresh copy of the demo workspace; then check all of it."""
    result = RoundResult()
    home = copy_workspace(template, workdir / "round")
    writes: list[tuple[tuple[str, str], Call]] = []
    for index, pair in enumerate(pairs):
        shutil.rmtree(home / "cache", ignore_errors=True)  # cold caches: each run writes them
        prefix = f"cp-r{number}-p{index:03d}"
        calls = pair_calls(pair, home, prefix)
        outcomes = run_plan(home, calls, together=True)
        result.runs += 1
        result.overlapping_runs += overlapped(outcomes)
        writes += [(pair, call) for call in calls if call.writes]
        problems = check_run(home, outcomes, baseline)
        if problems:
            # The same two calls one after the other, on a copy of the workspace as it is now.
            scratch = copy_workspace(home, workdir / "sequential")
            sequential = run_sequentially(scratch, pair, prefix + "-seq", baseline)
            result.failures.append(Failure(number, pair, problems, sequential))
    # Afterwards: every write of the round still there, once (none lost to a later write)...
    stores = Stores(home)
    failed = {f.pair for f in result.failures}
    lost: dict[tuple[str, str], list[str]] = {}
    for pair, call in writes:
        result.writes_expected += 1
        problem = check_write(stores, call)
        if problem is None:
            result.writes_present += 1
        elif pair not in failed:  # present right after its pair ran, gone now
            lost.setdefault(pair, []).append(f"lost after its pair ran: {problem}")
    result.failures += [Failure(number, pair, problems) for pair, problems in lost.items()]
    # ...and every store still parses.
    result.store_problems = [f"round {number}: {p}" for p in store_problems(home, contacts)]
    return result


def run_benchmark(
    rounds: int,
    workdir: Path,
    pairs: tuple[tuple[str, str], ...] = PAIRS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run `rounds` rounds of `pairs` under `workdir`; returns the figures (see the module doc)."""
    from pocketagent.backends.local.contacts import LocalContacts

    started = time.perf_counter()
    template = make_demo_workspace(workdir / "demo")
    contacts = len(LocalContacts(template / "contacts").contacts())
    baseline = Baseline.measure(template, workdir)
    setup = time.perf_counter() - started
    total = RoundResult()
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        for number in range(1, rounds + 1):
            one = run_round(number, template, workdir, pairs, baseline, contacts)
            for name in ("runs", "overlapping_runs", "writes_expected", "writes_present"):
                setattr(total, name, getattr(total, name) + getattr(one, name))
            total.failures += one.failures
            total.store_problems += one.store_problems
            if progress is not None:
                progress(
                    f"round {number}/{rounds}: {one.runs} runs, {len(one.failures)} failures, "
                    f"{one.writes_present}/{one.writes_expected} writes, {time.perf_counter() - started:.0f} s"
                )
    finally:
        sys.setswitchinterval(switch_interval)
    seconds = time.perf_counter() - started
    failures = total.failures
    return {
        "pairs": len(pairs),
        "rounds": rounds,
        "runs": total.runs,
        "tool_calls": 2 * total.runs,
        "overlapping_runs": total.overlapping_runs,
        "failures": len(failures),
        "failures_caused_by_concurrency": sum(f.kind == "concurrency" for f in failures),
        "failures_also_sequential": sum(f.kind == "also sequential" for f in failures),
        "failures_lost_later": sum(f.kind == "lost later" for f in failures),
        "writes_expected": total.writes_expected,
        "writes_present": total.writes_present,
        "store_problems": total.store_problems,
        "setup_s": round(setup, 1),
        "seconds": round(seconds, 1),
        "seconds_per_round": round((seconds - setup) / rounds, 1) if rounds else 0.0,
        "failure_details": [f.to_dict() for f in failures[:MAX_DETAILS]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=50, help="rounds over all 136 pairs (default 50)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    # Only the settings given here: not the user's config file or POCKETAGENT_* variables.
    for name in [n for n in os.environ if n.startswith("POCKETAGENT_")]:
        del os.environ[name]
    logging.getLogger("pocketagent").setLevel(logging.ERROR)  # skipped-item warnings; the figures say what matters
    with tempfile.TemporaryDirectory(prefix="pocketagent-concurrency-") as tmp:
        os.environ["POCKETAGENT_CONFIG"] = str(Path(tmp) / "no-config.toml")
        progress = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
        figures = run_benchmark(args.rounds, Path(tmp), progress=progress)
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
        return
    print(f"pairs of tools            {figures['pairs']:>8}  (16 tools, each with itself too)")
    print(f"rounds                    {figures['rounds']:>8}")
    print(f"runs (plans of 2 calls)   {figures['runs']:>8}  {figures['overlapping_runs']} with both calls overlapping")
    print(f"failures                  {figures['failures']:>8}")
    print(f"  caused by concurrency   {figures['failures_caused_by_concurrency']:>8}")
    print(f"  also one after other    {figures['failures_also_sequential']:>8}")
    print(f"  writes lost later       {figures['failures_lost_later']:>8}")
    print(f"writes present / expected {figures['writes_present']:>8} / {figures['writes_expected']}")
    print(f"store problems            {len(figures['store_problems']):>8}")
    print(f"seconds                   {figures['seconds']:>8.1f}  ({figures['seconds_per_round']} s per round, "
          f"{figures['setup_s']} s setup: demo workspace and baseline)")
    for failure in figures["failure_details"]:
        print(f"\nround {failure['round']} {' || '.join(failure['pair'])} ({failure['kind']}):")
        for problem in failure["problems"]:
            print("  " + problem.replace("\n", "\n    "))
        for problem in failure["sequential_problems"] or []:
            print("  one after the other: " + problem.replace("\n", "\n    "))
    for problem in figures["store_problems"][:MAX_DETAILS]:
        print(f"store: {problem}")


if __name__ == "__main__":
    main()
