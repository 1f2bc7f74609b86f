"""Run a planner over reference items (`evaluate`) or score stored predictions (`score`).

Both produce the same REPORT (see `pocketagent.evaluation.report`). The planner is any
callable ``plan_fn(query, now) -> PlanOutcome``; the CLI adapts the real planner to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pocketagent.errors import ModelFixableError, PlanParseError
from pocketagent.evaluation.datasets import EvalItem, Prediction
from pocketagent.evaluation.metrics import (
    DEFAULT_EDIT_DISTANCE_TIMEOUT_S,
    plan_edit_distance,
    plan_success,
    strict_success,
    tool_names,
)
from pocketagent.evaluation.report import ItemResult, build_report
from pocketagent.plan.language import Plan, parse_plan


@dataclass(frozen=True)
class PlanOutcome:
    """What a planner produced for one request.

    `plan` is None when there is no parsable plan; `error` then says why. If both `plan`
    and `error` are None, the harness parses `text` itself.
    """

    text: str
    plan: Plan | None
    error: str | None = None
    latency_s: float = 0.0
    prompt_tokens: int = 0


PlanFn = Callable[[str, "datetime | None"], PlanOutcome]
# Called after each item with (items done, total items, that item's result).
ProgressFn = Callable[[int, int, ItemResult], None]


def score_item(
    item: EvalItem,
    plan: Plan | None,
    text: str,
    error: str | None = None,
    latency_s: float | None = None,
    prompt_tokens: int | None = None,
    edit_distance_timeout_s: float | None = DEFAULT_EDIT_DISTANCE_TIMEOUT_S,
) -> ItemResult:
    """Score one predicted plan (None = parse failure) against the item's reference.

    The graph edit distance is computed only for parsed plans that fail, and only when
    `edit_distance_timeout_s` is not None.
    """
    success = plan is not None and plan_success(plan, item.reference)
    strict = success and plan is not None and strict_success(plan, item.reference, now=item.when)
    distance = None
    if plan is not None and not success and edit_distance_timeout_s is not None:
        distance = plan_edit_distance(plan, item.reference, timeout_s=edit_distance_timeout_s)
    return ItemResult(
        id=item.id,
        query=item.query,
        success=success,
        strict_success=strict,
        parse_failure=plan is None,
        predicted=text,
        reference=item.plan,
        error=error if error is not None or plan is not None else "no plan",
        latency_s=latency_s,
        prompt_tokens=prompt_tokens,
        predicted_tools=tuple(tool_names(plan)),
        reference_tools=tuple(tool_names(item.reference)),
        edit_distance=distance,
        reference_actions=len(item.reference.tool_actions),
    )


def _resolve(outcome: PlanOutcome) -> tuple[Plan | None, str | None]:
    """The outcome's plan, parsing its text when the planner left both plan and error empty."""
    if outcome.plan is not None or outcome.error is not None:
        return outcome.plan, outcome.error
    if not outcome.text.strip():
        return None, "no plan"
    try:
        return parse_plan(outcome.text), None
    except PlanParseError as exc:
        return None, f"plan does not parse: {exc}"


def _run_one(item: EvalItem, plan_fn: PlanFn) -> PlanOutcome:
    try:
        outcome = plan_fn(item.query, item.when)
    except ModelFixableError as exc:
        # A bad plan is the planner's failure on this item, not a reason to stop the run.
        # Other errors (backend down, model missing) propagate: they are not the planner's score.
        return PlanOutcome(text="", plan=None, error=str(exc))
    if not isinstance(outcome, PlanOutcome):
        raise TypeError(f"plan_fn must return a PlanOutcome, got {type(outcome).__name__}")
    return outcome


def evaluate(
    items: Iterable[EvalItem],
    plan_fn: PlanFn,
    progress: ProgressFn | None = None,
    model: str | None = None,
    dataset: str | None = None,
    edit_distance_timeout_s: float | None = DEFAULT_EDIT_DISTANCE_TIMEOUT_S,
) -> dict[str, Any]:
    """Plan every item's query with `plan_fn(query, item.when)` and return the REPORT.

    A `ModelFixableError` (e.g. `PlanParseError`) raised by `plan_fn` counts as that item's
    parse failure; other exceptions stop the run.
    """
    items = list(items)
    results: list[ItemResult] = []
    for item in items:
        outcome = _run_one(item, plan_fn)
        plan, error = _resolve(outcome)
        result = score_item(
            item,
            plan,
            outcome.text,
            error=error,
            latency_s=outcome.latency_s,
            prompt_tokens=outcome.prompt_tokens,
            edit_distance_timeout_s=edit_distance_timeout_s,
        )
        results.append(result)
        if progress is not None:
            progress(len(results), len(items), result)
    return build_report(results, model=model, dataset=dataset)


def score(
    ref_items: Sequence[EvalItem],
    predictions: Mapping[str, Prediction],
    progress: ProgressFn | None = None,
    model: str | None = None,
    dataset: str | None = None,
    edit_distance_timeout_s: float | None = DEFAULT_EDIT_DISTANCE_TIMEOUT_S,
) -> dict[str, Any]:
    """Score stored predictions (by item id) against reference items; no model involved.

    A reference item without a prediction is a parse failure ("no prediction"); an
    unparsable prediction is a parse failure with its parse error. Predictions for ids
    that are not in `ref_items` are counted in ``unmatched_predictions``.
    """
    results: list[ItemResult] = []
    for item in ref_items:
        prediction = predictions.get(item.id)
        if prediction is None:
            result = score_item(item, None, "", error="no prediction", edit_distance_timeout_s=edit_distance_timeout_s)
        else:
            result = score_item(
                item,
                prediction.plan,
                prediction.text,
                error=prediction.error,
                latency_s=prediction.latency_s,
                prompt_tokens=prediction.prompt_tokens,
                edit_distance_timeout_s=edit_distance_timeout_s,
            )
        results.append(result)
        if progress is not None:
            progress(len(results), len(ref_items), result)
    known = {item.id for item in ref_items}
    unmatched = sum(1 for pred_id in predictions if pred_id not in known)
    return build_report(results, model=model, dataset=dataset, unmatched_predictions=unmatched)
