"""A result the plan found and never used: the model dropped the action that needed it.

A 135M planner that loses track of a long request often writes the lookups of a clause and not
the clause itself: it finds "the offsite budget pdf" and never emails it, looks up Giovanni's
address and writes no email, summarizes the lease and never texts the summary. Of 1,072 plans
(the generated test split and both hand-written sets), 30 ended with a result that no action
took, where no later action could have taken it and the request did not ask for the result
itself; all 30 were wrong, and no right plan ended that way.

When a plan ends that way the planner makes the model write one more action, with a tool that
takes the result (`Unused.tools`: the kinds the request asks for), and keeps it only when it
uses the result (`Unused.used_by`): anything else the model writes there is dropped and the plan
stands as it was. A result left out of a later action that takes its kind (an email without the
person on cc) is not a dropped action: a second email would be no better.

A result is the user's own, and may stay unused, when the request asks for it:
- a contact lookup, when the request asks for an address or a number ("what email do I have for
  José", "Lars's number");
- a file, unless the request has an email send a file ("open the budget spreadsheet");
- a summary, unless the request passes more summaries on than the plan does ("summarize the
  NDA" alone, or "send her the summary" when one already went);
- a meeting link, a note, anything else: always.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pocketagent.agent.said_names import asks_for_a_number, sends_a_file
from pocketagent.agent.said_repairs import REPLYING
from pocketagent.plan.language import Action

# The request asks for an email address itself (typos included: people type "emial", "emali").
_EMAIL_WORD = r"e-?m(?:ail|ial|ali|al|il)"
_ASKS_FOR_AN_ADDRESS = re.compile(
    rf"\b(?:{_EMAIL_WORD}\s+address(?:es)?|address(?:es)?|what(?:'s|\s+is)?\s+(?:the\s+)?{_EMAIL_WORD}|"
    rf"which\s+{_EMAIL_WORD}|{_EMAIL_WORD}\s+(?:do\s+i\s+have\s+|i\s+have\s+)?(?:for|of)|contact)\b"
    rf"|['’]s\s+{_EMAIL_WORD}\b",
    re.IGNORECASE,
)
_SUMMARY = r"(?:summary|summaries|tl;?dr|gist|recap|sum-?up|highlights|takeaways)"
# A summary passed on: "text the tl;dr to Astrid", "email Sofia the summary", "stick the gist in my note".
_PASSES_A_SUMMARY_ON = re.compile(
    r"\b(?:send|text|txt|sms|e-?mail|mail|share|forward|fwd|save|stick|put|add|append|jot|paste|copy|write|pass|"
    rf"shoot|drop|message|reply|respond|answer)\b(?:\s+[^\s.;!?]+){{0,6}}?\s+(?:the|that|this|those|these|both)\s+"
    rf"{_SUMMARY}\b|\b{_SUMMARY}\s+(?:to|in|into)\s|\bgets?\s+the\s+{_SUMMARY}\b",
    re.IGNORECASE,
)
# The tools that take each kind of result (the built-in tools' names, as in the planning conventions).
_EMAIL_TAKERS = ("compose_new_email", "reply_to_email", "forward_email", "create_calendar_event", "get_zoom_meeting_link")
_TAKERS: dict[str, tuple[str, ...]] = {
    "get_email_address": _EMAIL_TAKERS,
    "get_phone_number": ("send_sms",),
    "open_and_get_file_path": ("compose_new_email", "reply_to_email"),
    "summarize_pdf": (
        "send_sms",
        "compose_new_email",
        "reply_to_email",
        "forward_email",
        "create_note",
        "append_note_content",
    ),
}


# Takers only some requests ask for: a reply, a forward, an invite, a meeting (a new email or a
# text is what the others are).
_ASKED: dict[str, re.Pattern[str]] = {
    "reply_to_email": REPLYING,
    "forward_email": re.compile(r"\b(?:forward|fwd|pass\s+(?:this|it|that)|this (?:e-?mail|message)|copy of)\b", re.IGNORECASE),
    "create_calendar_event": re.compile(r"\b(?:invite|invites|calendar|event|schedule|book|meeting)\b", re.IGNORECASE),
    "get_zoom_meeting_link": re.compile(r"\b(?:zoom|video|meeting link)\b", re.IGNORECASE),
}


@dataclass(frozen=True)
class Unused:
    """An action whose result the plan never used, and the tools one of which should take it."""

    action: Action
    tools: tuple[str, ...]

    def used_by(self, action: Action) -> bool:
        """Whether `action` takes this result."""
        return action.tool in self.tools and self.action.id in action.dependencies


def unused_result(request: str, actions: list[Action]) -> Unused | None:
    """The first action of the plan whose result nothing uses and the request does not ask for itself."""
    used = {ref for action in actions for ref in action.dependencies}
    passed_on = len(_PASSES_A_SUMMARY_ON.findall(request))
    summaries_used = sum(1 for action in actions if action.tool == "summarize_pdf" and action.id in used)
    for at, action in enumerate(actions):
        if action.id in used or action.tool not in _TAKERS:
            continue
        if any(later.tool in _TAKERS[action.tool] for later in actions[at + 1 :]):
            continue  # the action that takes it is there and left it out (a cc, one of a list): not dropped
        if action.tool == "get_email_address" and _ASKS_FOR_AN_ADDRESS.search(request):
            continue
        if action.tool == "get_phone_number" and asks_for_a_number(request):
            continue
        if action.tool == "open_and_get_file_path" and sends_a_file(request) is None:
            continue
        if action.tool == "summarize_pdf" and passed_on <= summaries_used:
            continue
        takers = _TAKERS[action.tool]
        asked = tuple(tool for tool in takers if tool not in _ASKED or _ASKED[tool].search(request))
        return Unused(action, asked or takers)
    return None
