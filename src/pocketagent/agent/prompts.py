"""Planner prompts: a fixed system prompt (tools, rules, worked examples) and a short user turn.

Everything that varies per request (the date, the request, replan context) goes into the
last user message, so the system prompt and the example turns form a token prefix that
llama.cpp keeps in its KV cache across requests. Worked examples are dataset `Example`s
(`pocketagent.data.example`), whether the fixed DEFAULT_EXAMPLES or ones Tool RAG retrieved.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime

from pocketagent.data.example import Example
from pocketagent.llm.base import Message
from pocketagent.timefmt import NOW_FORMAT
from pocketagent.tools.registry import ToolRegistry

RULES = """\
Rules:
- Write one numbered action per line: N. tool_name(arg1, arg2, ...). Every argument is written, positionally, as a Python literal; use "", [] or None when not applicable.
- $N is the result of action N. Use "$N" in a later action's argument to pass that result on; independent actions run in parallel.
- Before emailing or inviting a person by name, call get_email_address once per person; before texting, call get_phone_number once per person. Use literal addresses or numbers as given.
- One send_sms call for several recipients. To summarize a PDF: open_and_get_file_path, then summarize_pdf("$N"). Attachments are "$N" from open_and_get_file_path.
- A video meeting is get_zoom_meeting_link; to also put it on the calendar, use its link "$N" as the event location.
- Dates are "YYYY-MM-DD HH:MM:SS". Events and meetings last 60 minutes unless said otherwise.
- Use only the tools listed. End with join()<END_OF_PLAN>."""


_EXAMPLES_NOW = "2026-03-11 09:00:00"  # a Wednesday: the fixed examples' dates resolve against it

# Written for the prompt only: none of these come from any evaluation set.
DEFAULT_EXAMPLES: tuple[Example, ...] = (
    Example(
        query="text Ana and Bo that I'm running 10 min late",
        plan='1. get_phone_number("Ana")\n2. get_phone_number("Bo")\n'
        '3. send_sms(["$1", "$2"], "I\'m running 10 min late")\n4. join()<END_OF_PLAN>',
        now=_EXAMPLES_NOW,
        tools=("get_phone_number", "send_sms"),
    ),
    Example(
        query="email Priya the Q3 report and set up a call with her friday at 2 to go over it",
        plan='1. get_email_address("Priya")\n2. open_and_get_file_path("Q3 report")\n'
        '3. compose_new_email(["$1"], [], "Q3 report", "", ["$2"])\n'
        '4. create_calendar_event("Q3 report review", "2026-03-13 14:00:00", "2026-03-13 15:00:00", "", ["$1"], "", None)\n'
        "5. join()<END_OF_PLAN>",
        now=_EXAMPLES_NOW,
        tools=("get_email_address", "open_and_get_file_path", "compose_new_email", "create_calendar_event"),
    ),
    Example(
        query="what does the lease agreement say? put the summary in a note called Lease",
        plan='1. open_and_get_file_path("lease agreement")\n2. summarize_pdf("$1")\n'
        '3. create_note("Lease", "$2", "Notes")\n4. join()<END_OF_PLAN>',
        now=_EXAMPLES_NOW,
        tools=("open_and_get_file_path", "summarize_pdf", "create_note"),
    ),
    Example(
        query="zoom with Chen tomorrow 11am about hiring, 45 min, add it to my calendar",
        plan='1. get_email_address("Chen")\n'
        '2. get_zoom_meeting_link("Hiring", "2026-03-12 11:00:00", 45, ["$1"])\n'
        '3. create_calendar_event("Hiring", "2026-03-12 11:00:00", "2026-03-12 11:45:00", "$2", [], "", None)\n'
        "4. join()<END_OF_PLAN>",
        now=_EXAMPLES_NOW,
        tools=("get_email_address", "get_zoom_meeting_link", "create_calendar_event"),
    ),
    Example(
        query="walking directions to the train station",
        plan='1. maps_show_directions("", "train station", "w")\n2. join()<END_OF_PLAN>',
        now=_EXAMPLES_NOW,
        tools=("maps_show_directions",),
    ),
    Example(
        query="remind me to renew my passport next monday at 9, high priority",
        plan='1. create_reminder("Renew my passport", "2026-03-16 09:00:00", "", "", 1, False)\n2. join()<END_OF_PLAN>',
        now=_EXAMPLES_NOW,
        tools=("create_reminder",),
    ),
    Example(
        query="reply saying sounds good and forward it to jo@acme.io",
        plan='1. reply_to_email([], "sounds good", [])\n2. forward_email(["jo@acme.io"], [], "", [])\n'
        "3. join()<END_OF_PLAN>",
        now=_EXAMPLES_NOW,
        tools=("reply_to_email", "forward_email"),
    ),
    Example(
        query="add 'buy oat milk' to my Groceries note",
        plan='1. append_note_content("Groceries", "buy oat milk", "")\n2. join()<END_OF_PLAN>',
        now=_EXAMPLES_NOW,
        tools=("append_note_content",),
    ),
)


def describe_now(now: datetime) -> str:
    """`Wednesday 2026-03-11 09:00:00` — the weekday helps the model resolve "friday"."""
    return f"{now.strftime('%A')} {now.strftime(NOW_FORMAT)}"


def user_turn(query: str, now: datetime) -> str:
    return f"Today is {describe_now(now)}.\nRequest: {query}"


def rules_for(registry: ToolRegistry, shown: Collection[str]) -> str:
    """RULES without the lines about tools of `registry` none of which are `shown`.

    With every tool shown (or for a registry the rules never name) this is RULES itself.
    """
    patterns = {name: re.compile(rf"\b{re.escape(name)}\b") for name in registry.names()}
    shown_set = set(shown)
    kept = []
    for line in RULES.splitlines():
        named = {name for name, pattern in patterns.items() if pattern.search(line)}
        if not named or named & shown_set:
            kept.append(line)
    return "\n".join(kept)


def system_prompt(registry: ToolRegistry, tools: Collection[str] | None = None) -> str:
    """The system prompt for a tool set, or for the `tools` of it that Tool RAG selected.

    Tools keep the registry's order, so the same selection always gives the same text
    (and the prompt prefix stays cacheable).
    """
    shown = registry if tools is None else registry.subset(tools)
    rules = RULES if tools is None else rules_for(registry, shown.names())
    text = "\n".join(tool.prompt_text() for tool in shown)
    return f"You are a planner. Turn the user's request into a plan of tool calls.\n\nTools:\n{text}\n\n{rules}"


def select_examples(examples: Sequence[Example], registry: ToolRegistry, k: int) -> list[Example]:
    """The first k examples that only use tools of this registry (so the prompt never shows a missing tool)."""
    usable = [ex for ex in examples if ex.tools and all(t in registry for t in ex.tools)]
    return usable[:k]


def planner_messages(
    query: str,
    now: datetime,
    registry: ToolRegistry,
    examples: Sequence[Example] = (),
    replan_context: str | None = None,
    tools: Collection[str] | None = None,
) -> list[Message]:
    """System prompt, example turns, then the request (and, when replanning, what went wrong).

    `tools`: show only these tools of the registry (Tool RAG); None shows them all.
    """
    messages = [Message("system", system_prompt(registry, tools))]
    for example in examples:
        messages.append(Message("user", user_turn(example.query, datetime.strptime(example.now, NOW_FORMAT))))
        messages.append(Message("assistant", example.plan))
    content = user_turn(query, now)
    if replan_context:
        content += (
            f"\n\nA previous plan for this request did not work:\n{replan_context}\n"
            "Write a new complete plan that fixes these problems."
        )
    messages.append(Message("user", content))
    return messages
