"""Scenarios for the 16 built-in tools: each writes one clause of a request and its plan steps.

A scenario is a function `(scene) -> str`: it adds the actions the clause needs to
`scene.builder` (following the argument conventions of data/handwritten-README.md) and returns
the clause's words. A request is one or more clauses; `ScenarioSet` holds the scenarios and
their weights, so a user tool set can bring its own (see `offline.OfflineGenerator`).
This module has the kit (`ScenarioSet`, phrase helpers) and the app scenarios (maps, notes,
calendar, contacts, files); messages are in `message_scenarios.py`, the built-in set in
`builtin_scenarios.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from pocketagent.data.generate.pools import load_pools
from pocketagent.data.generate.scene import Person, Produced, Scene, capitalized
from pocketagent.data.generate.timeexpr import duration_phrase, fmt, sample_day, sample_when

Scenario = Callable[[Scene], str]


@dataclass(frozen=True)
class ScenarioSet:
    """Named scenarios with sampling weights; `small` names those that can be a single call."""

    scenarios: dict[str, tuple[Scenario, float]]
    small: frozenset[str] = field(default_factory=frozenset)

    def pick(self, scene: Scene, only_small: bool = False) -> tuple[str, Scenario]:
        names = [n for n in self.scenarios if not only_small or n in self.small]
        weights = [self.scenarios[n][1] for n in names]
        name = scene.rng.choices(names, weights=weights)[0]
        return name, self.scenarios[name][0]


def file_phrase(scene: Scene) -> tuple[str, str]:
    """(words for a file, file_name argument)."""
    rng = scene.rng
    name = rng.choice(load_pools().files)
    scene.keep(name)
    article = rng.choice(("the ", "the ", "my ", "", "that "))
    return f"{article}{name}{rng.choice(load_pools().file_suffixes)}", name


def place_phrase(scene: Scene) -> tuple[str, str]:
    """(words for a place, location argument without a leading "the")."""
    words = scene.rng.choice(load_pools().places)
    arg = words.removeprefix("the ")
    scene.keep(arg)
    return words, arg


def folder_phrase(scene: Scene, p: float) -> tuple[str, str | None]:
    if not scene.chance(p):
        return "", None
    folder = scene.rng.choice(load_pools().note_folders)
    scene.keep(folder)
    return scene.rng.choice(
        (f" in my {folder} folder", f" in {folder}", f" (in the {folder} folder)", f" in {folder} folder")
    ), folder


def choose(scene: Scene, options: tuple[str, ...] | list[str], *needed: str) -> str:
    """One of `options` that says every non-empty `needed` fragment (a folder, a start, a list name).

    Not every phrasing has room for every optional argument; a phrasing that drops one would
    teach the model to invent that argument, so those are left out.
    """
    fitting = [o for o in options if all(part in o for part in needed if part)]
    assert fitting, f"no phrasing says all of {needed}"
    return scene.rng.choice(fitting)


def quoted(scene: Scene, text: str) -> str:
    return scene.rng.choice((text, text, text, f'"{text}"', f"'{text}'"))


# ---- maps -----------------------------------------------------------------------------------


def directions(scene: Scene) -> str:
    rng, b = scene.rng, scene.builder
    words, dest = place_phrase(scene)
    start_words, start = "", ""
    if not scene.small and scene.chance(0.15):
        start_words, start = place_phrase(scene)
        if start == dest:
            start_words, start = "", ""
    mode = rng.choices("dwr", weights=(50, 25, 25))[0]
    b.call("maps_show_directions", start, dest, mode)
    frm = f" from {start_words}" if start else ""
    options = {
        "d": (
            f"directions{frm} to {words}",
            f"navigate{frm} to {words}",
            f"how do I get{frm} to {words}",
            f"driving directions{frm} to {words}",
            f"route me{frm} to {words}",
            f"get me{frm} to {words}",
            f"take me to {words}",
            f"drive{frm} to {words}, show me the route",
            f"how do I drive to {words}",
            f"how long to drive{frm} to {words}? show me the route",
            f"I'm driving to {words}, give me directions",
            f"need to get to {words}, directions please",
            f"what's the fastest way to drive to {words}",
        ),
        "w": (
            f"walking directions{frm} to {words}",
            f"how do I walk{frm} to {words}",
            f"walk me to {words}",
            f"I'm walking to {words}, show me the way",
            f"directions to {words} on foot",
            f"walking route to {words}",
            f"how long to walk to {words}? show me the way",
            f"I'd like to walk over to {words}, which way",
        ),
        "r": (
            f"transit directions{frm} to {words}",
            f"how do I get to {words} by bus",
            f"public transit to {words}",
            f"directions to {words} by train",
            f"how do I get{frm} to {words} on public transport",
            f"take the subway to {words}, show me how",
            f"bus directions to {words}",
            f"I'm taking the train to {words}, show me the route",
            f"how do I get to {words} without a car, by transit",
        ),
    }
    return choose(scene, options[mode], frm)


def show_map(scene: Scene) -> str:
    words, place = place_phrase(scene)
    scene.builder.call("maps_open_location", place)
    return scene.rng.choice(
        (
            f"show me {words} on the map",
            f"where is {words}",
            f"pull up {words} in maps",
            f"map {words}",
            f"open {words} in maps",
            f"find {words} on a map",
            f"show {words} on a map",
            f"where's {words}? show me",
            f"put {words} on the map for me",
            f"show me where {words} is",
            f"locate {words} on the map",
            f"can I see {words} on a map",
            f"pull up {words}, I want to see where it is",
        )
    )


# ---- notes ----------------------------------------------------------------------------------


def create_note(scene: Scene) -> str:
    rng = scene.rng
    name, content = rng.choice(load_pools().note_names), rng.choice(load_pools().note_contents)
    folder_words, folder = folder_phrase(scene, 0.35)
    scene.keep(name, content)
    scene.builder.call("create_note", name, content, folder or "Notes")
    c = quoted(scene, content)
    return choose(
        scene,
        (
            f"make a note called {name}{folder_words}: {c}",
            f"new note {name}{folder_words} saying {c}",
            f"jot down {c} in a note called {name}{folder_words}",
            f"create a note titled {name}{folder_words} with {c}",
            f"save a note {name}{folder_words}: {c}",
            f"write {c} in a new note named {name}{folder_words}",
            f"start a note {name}{folder_words} that says {c}",
            f"jot this down in a new note, {name}{folder_words}: {c}",
            f"write down {c} — new note, call it {name}{folder_words}",
            f"start a new note called {name}{folder_words} and put {c} in it",
            f"I need a new note {name}{folder_words} with {c}",
            f"note to self, title {name}{folder_words}: {c}",
        ),
        folder_words,
    )


def open_note(scene: Scene) -> str:
    rng = scene.rng
    name = rng.choice(load_pools().note_names)
    folder_words, folder = folder_phrase(scene, 0.2)
    scene.keep(name)
    scene.builder.call("open_note", name, folder or "")
    return choose(
        scene,
        (
            f"open the {name} note{folder_words}",
            f"what's in my {name} note{folder_words}",
            f"show me my {name} note",
            f"pull up the {name} note{folder_words}",
            f"read me my {name} note",
            f"open my note {name}{folder_words}",
        ),
        folder_words,
    )


def append_note(scene: Scene) -> str:
    rng = scene.rng
    name, content = rng.choice(load_pools().note_names), rng.choice(load_pools().note_contents)
    folder_words, folder = folder_phrase(scene, 0.2)
    scene.keep(name, content)
    scene.builder.call("append_note_content", name, content, folder or "")
    c = quoted(scene, content)
    return choose(
        scene,
        (
            f"add {c} to my {name} note{folder_words}",
            f"append {c} to the {name} note{folder_words}",
            f"tack {c} onto my {name} note",
            f"put {c} at the end of the {name} note{folder_words}",
            f"in my {name} note{folder_words}, add {c}",
            f"update the {name} note with {c}",
            f"stick {c} in my {name} note{folder_words}",
            f"update my existing {name} note{folder_words} with {c}",
            f"my {name} note{folder_words} needs {c}, add it at the bottom",
            f"add a line to my {name} note: {c}",
            f"add {c} to the end of my {name} note{folder_words}",
        ),
        folder_words,
    )


# ---- reminders and calendar -----------------------------------------------------------------


def reminder(scene: Scene) -> str:
    rng = scene.rng
    task = rng.choice(load_pools().reminder_tasks)
    scene.keep(task)
    list_words, list_name = "", ""
    if scene.chance(0.15):
        list_name = rng.choice(load_pools().reminder_lists)
        scene.keep(list_name)
        list_words = rng.choice((f" on my {list_name} list", f" in {list_name}", f" to the {list_name} list"))
    priority, prio_words = rng.choices(((0, ""), (1, "high"), (5, "medium"), (9, "low")), weights=(80, 10, 5, 5))[0]
    if prio_words:
        prio_words = rng.choice(
            (f", {prio_words} priority", f" ({prio_words} priority)", f", make it {prio_words} priority")
        )
        if priority == 1 and scene.chance(0.3):
            prio_words = rng.choice((", it's urgent", " — urgent, high priority"))
    kind = rng.choices(("timed", "none", "all_day"), weights=(70, 18, 12))[0]
    name = capitalized(task)
    if kind == "all_day":
        day_words, day = sample_day(rng, scene.now)
        scene.builder.call("create_reminder", name, f"{day.isoformat()} 00:00:00", "", list_name, priority, True)
        return choose(
            scene,
            (
                f"all-day reminder {day_words} to {task}{list_words}{prio_words}",
                f"remind me to {task} {day_words}, all day{list_words}{prio_words}",
                f"put {task} on {day_words} as an all-day reminder{list_words}{prio_words}",
            ),
            list_words,
            prio_words,
        )
    if kind == "none":
        scene.builder.call("create_reminder", name, "", "", list_name, priority, False)
        return choose(
            scene,
            (
                f"remind me to {task}{list_words}{prio_words}",
                f"add a to-do to {task}{list_words}{prio_words}",
                f"reminder to {task}{list_words}{prio_words}",
                f"don't let me forget to {task}{list_words}{prio_words}",
                f"add {task} to my reminders{list_words}{prio_words}",
                f"I need to {task}, make me a reminder{list_words}{prio_words}",
                f"can you make sure I don't forget to {task}{list_words}{prio_words}",
            ),
            list_words,
            prio_words,
        )
    when = sample_when(rng, scene.now)
    scene.builder.call("create_reminder", name, fmt(when.start), "", list_name, priority, False)
    w = when.text
    return choose(
        scene,
        (
            f"remind me to {task} {w}{list_words}{prio_words}",
            f"remind me {w} to {task}{list_words}{prio_words}",
            f"set a reminder {w} to {task}{list_words}{prio_words}",
            f"reminder: {task} {w}{list_words}{prio_words}",
            f"nudge me {w} to {task}{list_words}{prio_words}",
            f"don't let me forget to {task} {w}{list_words}{prio_words}",
            f"ping me {w} to {task}{list_words}{prio_words}",
            f"can you remind me {w} that I need to {task}{list_words}{prio_words}",
            f"I need to {task} {w}, remind me{list_words}{prio_words}",
            f"I keep forgetting to {task} — nudge me {w}{list_words}{prio_words}",
            f"set me a reminder for {w}: {task}{list_words}{prio_words}",
            f"make sure I remember to {task} {w}{list_words}{prio_words}",
        ),
        list_words,
        prio_words,
    )


def calendar_event(scene: Scene) -> str:
    rng, b = scene.rng, scene.builder
    event = rng.choice(load_pools().events)
    scene.keep(event)
    when = sample_when(rng, scene.now, allow_range=True)
    duration_words = ""
    if when.end is None and scene.chance(0.2):
        duration_words, minutes = duration_phrase(rng)
        duration_words = rng.choice((f" for {duration_words}", f", {duration_words}"))
        end = when.start + timedelta(minutes=minutes)
    else:
        end = when.end_or_default()
    place_words, location = "", ""
    if scene.chance(0.25):
        words, location = place_phrase(scene)
        place_words = f" at {words}"
    cal_words, calendar = "", None
    if scene.chance(0.2):
        calendar = rng.choice(load_pools().calendars)
        scene.keep(calendar)
        cal_words = rng.choice(
            (f" on my {calendar} calendar", f" in the {calendar} calendar", f" ({calendar} calendar)")
        )
    invitees: list[str] = []
    people_words = ""
    if not scene.small and scene.chance(0.4):
        group, people_words = scene.pick_people(3, literal="email", literal_p=0.1)
        invitees = [b.email_of(p) for p in group]
    b.call("create_calendar_event", capitalized(event), fmt(when.start), fmt(end), location, invitees, "", calendar)
    w = when.text + duration_words
    a = "an" if event[:1] in "aeiou" else "a"
    if invitees:
        return choose(
            scene,
            (
                f"schedule {a} {event} with {people_words} {w}{place_words}{cal_words}",
                f"invite {people_words} to {a} {event} {w}{place_words}{cal_words}",
                f"set up {a} {event} with {people_words} {w}{place_words}{cal_words}, send them invites",
                f"book {a} {event} {w}{place_words} and invite {people_words}",
                f"{people_words} should be at the {event} {w}{place_words}, send an invite{cal_words}",
                f"put {a} {event} with {people_words} on the calendar {w}{place_words}{cal_words}",
                f"get {a} {event} on the calendar {w}{place_words}{cal_words} and send {people_words} an invite",
            )
            + _meeting_first(scene, group, people_words, f"{a} {event}", w + place_words, cal_words),
            place_words,
            cal_words,
        )
    return choose(
        scene,
        (
            f"add {event} {w}{place_words} to my calendar{cal_words}",
            f"schedule {event} {w}{place_words}{cal_words}",
            f"pencil in {event} {w}{place_words}{cal_words}",
            f"put {event} on my calendar {w}{place_words}{cal_words}",
            f"block {w} for {event}{place_words}{cal_words}",
            f"{event} {w}{place_words}, put it in my calendar{cal_words}",
            f"create an event {event} {w}{place_words}{cal_words}",
            f"book {event} {w}{place_words}{cal_words}",
            f"block off {w} for {event}{place_words}{cal_words}",
            f"I have {event} {w}{place_words}, add it to my calendar{cal_words}",
            f"can you put {event} in my calendar for {w}{place_words}{cal_words}",
            f"add {event} to my calendar{cal_words}, {w}{place_words}",
            f"pencil me in for {event} {w}{place_words}{cal_words}",
        ),
        place_words,
        cal_words,
    )


def _meeting_first(scene: Scene, group: list[Person], people: str, event: str, when: str, cal: str) -> tuple[str, ...]:
    """Invite phrasings that say who wants the meeting before the command (none for pronoun mentions)."""
    if people in ("her", "him", "them", "both of them", "all of them", "everyone"):
        return ()
    them = group[0].pronoun if len(group) == 1 else "them"
    wants = "wants" if len(group) == 1 else "want"
    return (
        f"{people} {wants} to meet {when} — set up {event} and invite {them}{cal}",
        f"I'm meeting {people} {when} for {event}, add it to my calendar{cal} and invite {them}",
        f"{people} and I have {event} {when}; put it on my calendar{cal} and send {them} an invite",
    )


def zoom_meeting(scene: Scene) -> str:
    """A Zoom link, optionally put on the calendar (link as location) and sent to the people."""
    rng, b = scene.rng, scene.builder
    topic = rng.choice(load_pools().meeting_topics)
    scene.keep(topic)
    when = sample_when(rng, scene.now)
    minutes, dur_words = 60, ""
    if scene.chance(0.35):
        dur_words, minutes = duration_phrase(rng)
        dur_words = rng.choice((f", {dur_words}", f" for {dur_words}"))
    group: list[Person] = []
    people_words = ""
    if not scene.small and scene.chance(0.6):
        group, people_words = scene.pick_people(3, literal="email", literal_p=0.08)
    invitee_refs = [b.email_of(p) for p in group]
    link = b.call("get_zoom_meeting_link", capitalized(topic), fmt(when.start), minutes, invitee_refs)
    with_words = f" with {people_words}" if group else ""
    head = rng.choice(
        (
            f"set up a zoom{with_words} {when.text} about {topic}{dur_words}",
            f"create a zoom meeting for {topic}{with_words} {when.text}{dur_words}",
            f"I need a zoom link for the {topic}{with_words}, {when.text}{dur_words}",
            f"zoom call{with_words} re {topic} {when.text}{dur_words}",
            f"get me a zoom for {topic} {when.text}{with_words}{dur_words}",
            f"schedule a zoom{with_words} {when.text} for the {topic}{dur_words}",
            f"get me a zoom link for {when.text}{with_words}, it's the {topic}{dur_words}",
            f"we need a zoom for the {topic} {when.text}{with_words}{dur_words}, set it up",
        )
    )
    parts = [head]
    if not scene.small and scene.chance(0.45):
        cal_words, calendar = "", None
        if scene.chance(0.3):
            calendar = rng.choice(load_pools().calendars)
            scene.keep(calendar)
            cal_words = f" {calendar}"
        end = when.start + timedelta(minutes=minutes)
        b.call("create_calendar_event", capitalized(topic), fmt(when.start), fmt(end), link, [], "", calendar)
        parts.append(
            rng.choice(
                (
                    f"put it on my{cal_words} calendar",
                    f"add it to my{cal_words} calendar too",
                    f"block it on my{cal_words} calendar",
                    f"and put it in my{cal_words} calendar",
                )
            )
        )
    if group and scene.chance(0.5):
        if scene.chance(0.6) or any(p.is_literal for p in group):
            b.call("compose_new_email", [b.email_of(p) for p in group], [], f"Zoom link for {topic}", link, [])
            parts.append(
                rng.choice(("email them the link", "send the link to everyone by email", "and email the link out"))
            )
        else:
            b.call("send_sms", [b.phone_of(p) for p in group], link)
            parts.append(rng.choice(("text them the link", "and text the link to them", "shoot them the link by text")))
    scene.tags.append("zoom_flow")
    return ", ".join(parts)


# ---- contacts, files ------------------------------------------------------------------------


def lookup(scene: Scene) -> str:
    rng = scene.rng
    (person,) = scene.new_people(1)
    self_words = f"{person.name}'s" if not person.name.endswith("s") else f"{person.name}'"
    if scene.chance(0.5):
        scene.builder.call("get_phone_number", person.name)
        return rng.choice(
            (
                f"what's {self_words} number",
                f"look up {self_words} phone number",
                f"I need {self_words} cell",
                f"find the phone number for {person.name}",
                f"get me {self_words} number",
                f"what number do I have for {person.name}",
            )
        )
    scene.builder.call("get_email_address", person.name)
    return rng.choice(
        (
            f"what's {self_words} email",
            f"get me {self_words} email address",
            f"look up the email for {person.name}",
            f"find {self_words} email address",
            f"what email do I have for {person.name}",
        )
    )


def open_file(scene: Scene) -> str:
    words, name = file_phrase(scene)
    scene.builder.call("open_and_get_file_path", name)
    return scene.rng.choice(
        (
            f"open {words}",
            f"pull up {words}",
            f"find {words} and open it",
            f"can you open {words}",
            f"bring up {words}",
            f"I need {words} open",
            f"where's {words}? open it",
        )
    )


def summarize(scene: Scene) -> str:
    """Summarize one or two PDFs; the summary may travel into a later clause."""
    rng, b = scene.rng, scene.builder
    words, name = file_phrase(scene)
    summary = b.call("summarize_pdf", b.once("open_and_get_file_path", name))
    if not scene.small and scene.chance(0.12):
        words2, name2 = file_phrase(scene)
        if name2 != name:
            summary2 = b.call("summarize_pdf", b.once("open_and_get_file_path", name2))
            scene.produced = Produced(
                f"{summary} {summary2}",
                "summaries",
                ("both summaries", "the summaries", "them"),
                f"{capitalized(name)} and {name2} summaries",
            )
            return rng.choice((f"summarize {words} and {words2}", f"give me summaries of {words} and {words2}"))
    scene.produced = Produced(
        summary, "summary", ("it", "the summary", "that summary", "the tl;dr"), f"{capitalized(name)} summary"
    )
    return rng.choice(
        (
            f"summarize {words}",
            f"give me a summary of {words}",
            f"tl;dr {words}",
            f"sum up {words} for me",
            f"what's {words} about? summarize it",
            f"quick summary of {words}",
            f"can you summarize {words}",
            f"what's the gist of {words}",
            f"give me the key points of {words}",
            f"what does {words} say? summarize it",
            f"boil {words} down for me",
            f"I don't have time to read {words}, summarize it",
            f"open {words} and give me a summary",
            f"pull up {words} and summarize it",
        )
    )


def read_note(scene: Scene) -> str:
    """Open a note whose text a later clause sends on."""
    text = open_note(scene)
    ref = f"${len(scene.builder)}"
    name = scene.builder.actions[-1][1][0]
    scene.produced = Produced(ref, "note", ("it", "that", "the note", "what it says"), str(name))
    return text
