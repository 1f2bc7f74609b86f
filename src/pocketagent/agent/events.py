"""Typed events of one agent run. The CLI, the server, logs and evaluation all consume these.

Every event has a `kind` string and `to_dict()` for JSON lines / server-sent events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

from pocketagent.plan.language import Action, Plan


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        data = {"kind": self.kind}
        for key, value in asdict(self).items():
            data[key] = value
        return data


@dataclass(frozen=True)
class PlanningStarted(Event):
    kind: ClassVar[str] = "planning_started"
    request: str
    attempt: int = 0


@dataclass(frozen=True)
class PlanToken(Event):
    """A piece of plan text as the model streams it."""

    kind: ClassVar[str] = "plan_token"
    text: str


@dataclass(frozen=True)
class ActionPlanned(Event):
    """An action's line is complete; it will start as soon as its dependencies are done."""

    kind: ClassVar[str] = "action_planned"
    id: int
    tool: str
    args: tuple[Any, ...]
    dependencies: tuple[int, ...]

    @classmethod
    def of(cls, action: Action) -> ActionPlanned:
        return cls(action.id, action.tool, action.args, action.dependencies)


@dataclass(frozen=True)
class ActionStarted(Event):
    kind: ClassVar[str] = "action_started"
    id: int
    tool: str
    args: tuple[Any, ...]  # after `$N` substitution


@dataclass(frozen=True)
class ActionFinished(Event):
    kind: ClassVar[str] = "action_finished"
    id: int
    tool: str
    args: tuple[Any, ...]
    result: str
    duration_s: float


@dataclass(frozen=True)
class ActionFailed(Event):
    kind: ClassVar[str] = "action_failed"
    id: int
    tool: str
    args: tuple[Any, ...]
    error: str
    error_type: str
    duration_s: float = 0.0


@dataclass(frozen=True)
class ConfirmationRequested(Event):
    """A side effect waits for the user's yes or no (`confirm = "side_effects"`).

    `id` names this request (answer it with it, e.g. `POST /v1/agent/confirm`); `action_id`
    is the action's id in the plan; `args` are after `$N` substitution, i.e. exactly what
    would run. Approved, `ActionStarted` follows; rejected or unanswered in time, `ActionSkipped`.
    """

    kind: ClassVar[str] = "confirmation_requested"
    id: str
    action_id: int
    tool: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class ActionSkipped(Event):
    kind: ClassVar[str] = "action_skipped"
    id: int
    tool: str
    reason: str


@dataclass(frozen=True)
class PlanStats:
    """What producing one plan cost."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    time_to_first_token_s: float = 0.0
    time_to_first_action_s: float | None = None
    plan_s: float = 0.0
    tokens_per_s: float = 0.0

    def plus(self, more: PlanStats) -> PlanStats:
        """This plan's cost with `more` (another generation for the same plan) added."""
        return replace(
            self,
            prompt_tokens=self.prompt_tokens + more.prompt_tokens,
            completion_tokens=self.completion_tokens + more.completion_tokens,
            cached_prompt_tokens=self.cached_prompt_tokens + more.cached_prompt_tokens,
            plan_s=self.plan_s + more.plan_s,
        )


@dataclass(frozen=True)
class PlanReady(Event):
    """The model finished the plan (or it failed to parse: `error` is set and `plan` is None)."""

    kind: ClassVar[str] = "plan_ready"
    text: str
    plan: Plan | None
    stats: PlanStats = field(default_factory=PlanStats)
    error: str | None = None
    stopped: str | None = None  # the plan was cut before a runaway action (see agent.plan_guard)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "plan": self.plan.render() if self.plan else None,
            "stats": asdict(self.stats),
            "error": self.error,
            "stopped": self.stopped,
        }


@dataclass(frozen=True)
class Replanning(Event):
    kind: ClassVar[str] = "replanning"
    reason: str
    attempt: int


@dataclass(frozen=True)
class FinalAnswer(Event):
    kind: ClassVar[str] = "answer"
    answer: str
    ok: bool
