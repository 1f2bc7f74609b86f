"""The scenario set for the 16 built-in tools, with sampling weights (the offline generator's default)."""

from __future__ import annotations

from pocketagent.data.generate.message_scenarios import email, forward, relay, reply, share_summary, sms
from pocketagent.data.generate.scenarios import (
    ScenarioSet,
    append_note,
    calendar_event,
    create_note,
    directions,
    lookup,
    open_file,
    open_note,
    reminder,
    show_map,
    summarize,
    zoom_meeting,
)

BUILTIN_SCENARIOS = ScenarioSet(
    scenarios={
        "email": (email, 10),
        "sms": (sms, 10),
        "calendar": (calendar_event, 9),
        "zoom": (zoom_meeting, 7),
        "reminder": (reminder, 9),
        "directions": (directions, 7),
        "map": (show_map, 5),
        "create_note": (create_note, 5),
        "open_note": (open_note, 3),
        "append_note": (append_note, 4),
        "reply": (reply, 6),
        "forward": (forward, 5),
        "summarize": (summarize, 4),
        "open_file": (open_file, 2),
        "lookup": (lookup, 2),
        "relay": (relay, 10),
        "share_summary": (share_summary, 4),
    },
    small=frozenset(
        {
            "email",
            "sms",
            "calendar",
            "zoom",
            "reminder",
            "directions",
            "map",
            "create_note",
            "open_note",
            "append_note",
            "reply",
            "forward",
            "open_file",
            "lookup",
        }
    ),
)
