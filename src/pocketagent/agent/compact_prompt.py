"""The compact planner prompt a fine-tuned planner is trained on and prompted with.

A fine-tuned model has learned the tools' meaning and the planning conventions from data,
so its prompt only lists the tool signatures (about 10 tokens a tool instead of ~80 with
descriptions and rules) and holds no worked examples. Training (`pocketagent.finetune`)
and inference (`prompt_style = "compact"`) build the messages with this one function, so
the model sees at run time exactly the token layout it was trained on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pocketagent.agent.prompts import describe_now
from pocketagent.llm.base import Message
from pocketagent.tools.registry import ToolRegistry

COMPACT_HEADER = "Plan the request as numbered tool calls. Tools:"
UPCOMING_DAYS = 7
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: that follows the locale


def upcoming_days(now: datetime, days: int = UPCOMING_DAYS) -> str:
    """`Next days: Tue 12-01, Wed 12-02, ...`: the dates of the coming week, spelled out.

    A 135M model resolves "Friday" far more reliably by copying it from this list than by
    weekday arithmetic (~50 tokens a request; the year is on the "Today is" line).
    """
    dates = (now + timedelta(days=offset) for offset in range(1, days + 1))
    return "Next days: " + ", ".join(f"{_WEEKDAYS[day.weekday()]} {day:%m-%d}" for day in dates) + "."


def compact_system_prompt(registry: ToolRegistry) -> str:
    """Tool signatures only, in the registry's stable order (keeps the prefix cacheable)."""
    return "\n".join([COMPACT_HEADER, *(tool.signature_text() for tool in registry)])


def compact_messages(
    query: str, now: datetime, registry: ToolRegistry, replan_context: str | None = None
) -> list[Message]:
    """System (signatures), then the request with today's date; replan context appended when given."""
    content = f"Today is {describe_now(now)}.\n{upcoming_days(now)}\nRequest: {query}"
    if replan_context:
        content += f"\n\nA previous plan failed:\n{replan_context}\nWrite a new complete plan."
    return [Message("system", compact_system_prompt(registry)), Message("user", content)]
