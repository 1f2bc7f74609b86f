"""Evaluation: how often the planner's plan is right (TinyAgent's metric) and how close it is.

- `metrics`: plan_success (DAG isomorphism), strict_success (arguments too), tool selection
  precision/recall, graph edit distance.
- `datasets`: reference items (JSONL, TinyAgent JSON) and stored predictions.
- `harness`: evaluate(items, plan_fn) runs a planner; score(items, predictions) needs no model.
- `report`: the REPORT dict, summary lines, side-by-side comparison.
"""

from pocketagent.evaluation.datasets import (
    EvalFileError,
    EvalItem,
    Prediction,
    load_items,
    load_jsonl_items,
    load_predictions,
    load_tinyagent_items,
)
from pocketagent.evaluation.harness import PlanFn, PlanOutcome, evaluate, score, score_item
from pocketagent.evaluation.metrics import (
    ArgumentKeys,
    ToolScore,
    normalize_text,
    parse_lenient_datetime,
    plan_edit_distance,
    plan_success,
    strict_success,
    tool_selection_scores,
)
from pocketagent.evaluation.report import (
    ItemResult,
    build_report,
    compare_reports,
    compare_summary,
    load_report,
    summary_json,
    summary_line,
    write_report,
)

__all__ = [
    "ArgumentKeys",
    "EvalFileError",
    "EvalItem",
    "ItemResult",
    "PlanFn",
    "PlanOutcome",
    "Prediction",
    "ToolScore",
    "build_report",
    "compare_reports",
    "compare_summary",
    "evaluate",
    "load_items",
    "load_jsonl_items",
    "load_predictions",
    "load_report",
    "load_tinyagent_items",
    "normalize_text",
    "parse_lenient_datetime",
    "plan_edit_distance",
    "plan_success",
    "score",
    "score_item",
    "strict_success",
    "summary_json",
    "summary_line",
    "tool_selection_scores",
    "write_report",
]
