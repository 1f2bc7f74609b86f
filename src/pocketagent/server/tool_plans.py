"""Planning over a chat-completions client's own tools, handed out as `tool_calls` turn by turn.

The client's `tools` (JSON-schema functions) become `Tool`s (`tools/schema_tools.py`); the
planner writes one plan over exactly those. The client runs the calls, so the plan is given out
in waves: every call whose inputs are known goes out in one assistant message (independent
calls together); a call that needs an earlier result (`$N`) goes out in a later turn, after the
client sent the results back as `tool` messages, with those results put in its arguments. When
every call has its result, the answer is the final content.

State: the plan is kept in a bounded in-memory store under a plan id, and every call's id is
`call_<plan id>_<action id>`, so the next turn finds its plan from the ids the client echoes.
A plan the store no longer has (evicted, server restarted) is made again from the same request
and tools: planning is deterministic (temperature 0, fixed seed), and the calls the client
already ran must come out the same or the request is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pocketagent.agent.executor import ActionResult, substitute
from pocketagent.agent.events import PlanReady
from pocketagent.agent.joiner import RuleJoiner
from pocketagent.agent.planner import Planner, failure_context
from pocketagent.errors import ChatRequestError, ModelFixableError
from pocketagent.plan.language import Plan
from pocketagent.tools.registry import Tool, ToolRegistry
from pocketagent.tools.schema_tools import plan_name, tool_from_json_schema

CALL_ID = re.compile(r"^call_([0-9a-f]{12})_([0-9]+)$")
STORE_SIZE = 256  # plans kept for their next turn (a plan is a few hundred bytes)


def _not_called_here(arguments: dict[str, Any]) -> Any:
    raise ChatRequestError("client tools are run by the client, not by the server")


@dataclass(frozen=True)
class ClientTools:
    """The tools of one chat request, as a registry the planner plans over."""

    registry: ToolRegistry
    names: dict[str, str]  # plan-language name -> the client's name
    key: str  # digest of the definitions: the same tools get the same planner


def client_tools(tools: Sequence[Any]) -> ClientTools:
    """The `tools` of a chat-completions request as plan-language tools; `ChatRequestError` if unusable."""
    registry = ToolRegistry()
    names: dict[str, str] = {}
    for index, entry in enumerate(tools):
        function = entry.get("function") if isinstance(entry, Mapping) else None
        if not isinstance(entry, Mapping) or entry.get("type", "function") != "function" or not isinstance(function, Mapping):
            raise ChatRequestError(f"tools[{index}]: expected {{'type': 'function', 'function': {{'name': ...}}}}")
        name = function.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ChatRequestError(f"tools[{index}]: the function has no name")
        planned = plan_name(name)
        if planned in names or planned == "join":
            raise ChatRequestError(f"tools[{index}]: the tool name {name!r} clashes with another tool (or 'join')")
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, Mapping):
            raise ChatRequestError(f"tools[{index}] ({name}): 'parameters' must be a JSON schema object")
        try:
            tool = tool_from_json_schema(planned, str(function.get("description") or ""), parameters, _not_called_here)
        except ValueError as exc:
            raise ChatRequestError(f"tools[{index}] ({name}): {exc}") from None
        registry.add(tool)
        names[planned] = name
    if not names:
        raise ChatRequestError("'tools' is empty: give at least one function, or leave 'tools' out")
    key = hashlib.sha256(json.dumps(list(tools), sort_keys=True, default=str).encode()).hexdigest()[:16]
    return ClientTools(registry, names, key)


def invalid_action(plan: Plan, registry: ToolRegistry) -> str | None:
    """Why a plan cannot be handed out (an unknown tool, wrong arguments), or None."""
    for action in plan.tool_actions:
        try:
            registry.validate_action(action)
        except ModelFixableError as exc:
            return str(exc)
    return None


@dataclass(frozen=True)
class ToolCall:
    """One call for the client: OpenAI's `tool_calls` item."""

    id: str
    name: str
    arguments: str  # JSON object, by parameter name

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


def _argument(value: Any, tool: Tool, index: int) -> Any:
    """A substituted argument in the type its parameter takes: a result that is JSON for it is decoded."""
    kind = tool.parameters[index].type
    if isinstance(value, str) and not kind.accepts(value):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return value
        if kind.accepts(decoded):
            return decoded
    return value


@dataclass
class ToolPlan:
    """A plan over client tools and how far the conversation got with it."""

    id: str
    request: str
    tools_key: str
    plan: Plan

    def call_id(self, action_id: int) -> str:
        return f"call_{self.id}_{action_id}"

    def ready_calls(self, results: Mapping[int, str], tools: ClientTools) -> list[ToolCall]:
        """The calls not answered yet whose `$N` inputs all have results, with those results filled in."""
        calls = []
        for action in self.plan.tool_actions:
            if action.id in results or not all(dep in results for dep in action.dependencies):
                continue
            tool = tools.registry.get(action.tool)
            values = {dep: results[dep] for dep in action.dependencies}
            args = [_argument(substitute(arg, values), tool, i) for i, arg in enumerate(action.args)]
            named = {param.name: arg for param, arg in zip(tool.parameters, args)}
            calls.append(ToolCall(self.call_id(action.id), tools.names[action.tool], json.dumps(named, ensure_ascii=False)))
        return calls

    def answer(self, results: Mapping[int, str]) -> str:
        """The final content once every call has its result: the results no other call consumed."""
        outcome = {
            action.id: ActionResult(action.id, action.tool, action.args, "ok", result=results[action.id])
            for action in self.plan.tool_actions
        }
        return RuleJoiner.answer(self.plan, outcome)

    def matches(self, called: Mapping[int, str], tools: ClientTools) -> bool:
        """True when the calls the client says it made (action id -> client tool name) are this plan's."""
        actions = {action.id: action for action in self.plan.tool_actions}
        return all(
            action_id in actions and tools.names[actions[action_id].tool] == name for action_id, name in called.items()
        )


class ToolPlanStore:
    """The most recent plans, by id (bounded; the oldest goes first)."""

    def __init__(self, size: int = STORE_SIZE) -> None:
        self.size = size
        self._plans: OrderedDict[str, ToolPlan] = OrderedDict()

    def new(self, request: str, tools: ClientTools, plan: Plan, plan_id: str | None = None) -> ToolPlan:
        """Keep `plan` under a fresh id (or `plan_id`, when a plan is made again)."""
        stored = ToolPlan(plan_id or uuid.uuid4().hex[:12], request, tools.key, plan)
        self._plans[stored.id] = stored
        self._plans.move_to_end(stored.id)
        while len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return stored

    def get(self, plan_id: str, tools: ClientTools, request: str) -> ToolPlan | None:
        """The plan `plan_id` if it is for these tools and this request."""
        stored = self._plans.get(plan_id)
        if stored is None or stored.tools_key != tools.key or stored.request != request:
            return None
        self._plans.move_to_end(plan_id)
        return stored


def message_text(content: Any) -> str:
    """A message's content as text (a string, or a list of parts of which the text ones count)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", "")) for part in content if isinstance(part, Mapping) and part.get("type") == "text"
        )
    return str(content)


@dataclass(frozen=True)
class Conversation:
    """What a chat request says for planning: the request and the tool calls answered since."""

    request: str
    plan_id: str | None = None
    called: dict[int, str] = field(default_factory=dict)  # action id -> client tool name
    results: dict[int, str] = field(default_factory=dict)  # action id -> the tool message's content


def read_conversation(messages: Sequence[Mapping[str, Any]]) -> Conversation:
    """The last user message, and the assistant tool calls and tool results after it.

    `ChatRequestError` when there is no user message, or tool results name calls this server
    did not make (or calls of two different plans).
    """
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
    if last_user is None:
        raise ChatRequestError("the messages have no 'user' message: nothing to plan")
    request = message_text(messages[last_user].get("content")).strip()
    if not request:
        raise ChatRequestError("the last user message is empty: say what you want done")
    plan_ids: set[str] = set()
    called: dict[int, str] = {}
    results: dict[int, str] = {}

    def parse(call_id: Any) -> int:
        match = CALL_ID.match(str(call_id or ""))
        if match is None:
            raise ChatRequestError(
                f"tool call id {call_id!r} was not made by this server (expected call_<plan>_<n>); "
                "send the tool_calls and tool messages back unchanged"
            )
        plan_ids.add(match.group(1))
        return int(match.group(2))

    for message in messages[last_user + 1 :]:
        role = message.get("role")
        if role == "assistant":
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, Mapping) else None
                name = function.get("name") if isinstance(function, Mapping) else None
                called[parse(call.get("id") if isinstance(call, Mapping) else None)] = str(name or "")
        elif role == "tool":
            results[parse(message.get("tool_call_id"))] = message_text(message.get("content"))
    if len(plan_ids) > 1:
        raise ChatRequestError("the tool calls after the last user message belong to different plans")
    unknown = sorted(set(results) - set(called))
    if unknown:
        raise ChatRequestError(f"tool results for calls no assistant message made: {unknown}")
    return Conversation(request, next(iter(plan_ids), None), called, results)


async def plan_checked(planner: Planner, request: str, now: datetime, replans: int) -> PlanReady:
    """A plan every call of which fits the planner's tools, replanning up to `replans` times with
    the problem shown to the model (as the agent does); the last `PlanReady` has `error` set if none did."""
    context: str | None = None
    attempt = 0
    while True:
        last = attempt >= replans
        ready = await planner.stream_plan(request, now, lambda event: None, lambda action: None, context, repair_dates=last)
        problem = ready.error if ready.plan is None else invalid_action(ready.plan, planner.registry)
        if problem is None:
            return ready
        if last:
            return dataclasses.replace(ready, plan=None, error=problem)
        context = failure_context(ready.text, f"the plan is not valid: {problem}", "")
        attempt += 1


def missing_results(plan: ToolPlan, conversation: Conversation) -> list[str]:
    """Ids of calls handed out whose results the client has not sent."""
    return [plan.call_id(i) for i in sorted(conversation.called) if i not in conversation.results]


__all__ = [
    "CALL_ID",
    "ClientTools",
    "Conversation",
    "ToolCall",
    "ToolPlan",
    "ToolPlanStore",
    "client_tools",
    "invalid_action",
    "message_text",
    "missing_results",
    "plan_checked",
    "read_conversation",
]
