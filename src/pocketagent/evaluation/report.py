"""The evaluation REPORT: per-item results aggregated into one JSON-ready dict.

Top-level keys of a report:

- ``n``: number of items; ``model``: what produced the plans; ``dataset``: where the items came from.
- ``success_rate``, ``strict_success_rate``, ``parse_failure_rate``: shares in 0..1 (None when n = 0).
- ``latency_s``: ``{"p50", "p95", "mean"}`` over items with a latency (None without any).
- ``prompt_tokens_mean``: over items with a prompt token count (None without any).
- ``tool_selection``: micro-averaged ``{"precision", "recall"}`` of tool names.
- ``per_tool``: ``{tool: {"precision", "recall", "support"}}`` (see `metrics.tool_selection_scores`).
- ``success_by_tool``: ``{tool: {"n", "success", "strict"}}`` over items whose reference uses the tool.
- ``success_by_shape``: the same by the reference's number of tool actions (``1``, ``2``, ``3-6``, ``7+``).
- ``edit_distance_mean``: mean graph edit distance over failed items where it was computed.
- ``unmatched_predictions``: predictions whose id is in no reference item (``score`` only).
- ``items``: one dict per item: ``id``, ``query``, ``success``, ``strict_success``,
  ``parse_failure``, ``predicted`` (plan text), ``reference`` (plan text), ``error``,
  ``latency_s``, ``prompt_tokens``, ``predicted_tools``, ``reference_tools``, ``edit_distance``.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from pocketagent.evaluation.datasets import EvalFileError
from pocketagent.evaluation.metrics import overall_tool_score, tool_selection_scores

REQUIRED_KEYS = ("n", "success_rate", "strict_success_rate", "parse_failure_rate", "items")


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one item: what was predicted and how it scored."""

    id: str
    query: str
    success: bool
    strict_success: bool
    parse_failure: bool
    predicted: str
    reference: str
    error: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    predicted_tools: tuple[str, ...] = ()
    reference_tools: tuple[str, ...] = ()
    edit_distance: float | None = None
    reference_actions: int | None = None  # tool actions in the reference plan (its shape)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["predicted_tools"] = list(self.predicted_tools)
        data["reference_tools"] = list(self.reference_tools)
        return data


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between order statistics; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


SHAPES = (("1", 1, 1), ("2", 2, 2), ("3-6", 3, 6), ("7+", 7, 10**9))


def shape_of(actions: int) -> str:
    """The plan-shape label for a plan with this many tool actions."""
    return next((label for label, low, high in SHAPES if low <= actions <= high), "1")


def _breakdown(groups: Mapping[str, Sequence[ItemResult]]) -> dict[str, dict[str, Any]]:
    return {
        key: {
            "n": len(items),
            "success": _share(sum(r.success for r in items), len(items)),
            "strict": _share(sum(r.strict_success for r in items), len(items)),
        }
        for key, items in groups.items()
    }


def _by_tool_and_shape(results: Sequence[ItemResult]) -> tuple[dict[str, Any], dict[str, Any]]:
    by_tool: dict[str, list[ItemResult]] = {}
    by_shape: dict[str, list[ItemResult]] = {label: [] for label, _low, _high in SHAPES}
    for result in results:
        for tool in result.reference_tools:
            by_tool.setdefault(tool, []).append(result)
        if result.reference_actions is not None:
            by_shape[shape_of(result.reference_actions)].append(result)
    shapes = {label: items for label, items in by_shape.items() if items}
    return _breakdown(dict(sorted(by_tool.items()))), _breakdown(shapes)


def build_report(
    results: Sequence[ItemResult],
    model: str | None = None,
    dataset: str | None = None,
    unmatched_predictions: int = 0,
) -> dict[str, Any]:
    """Aggregate item results into the REPORT dict (keys in the module docstring)."""
    n = len(results)
    latencies = [r.latency_s for r in results if r.latency_s is not None]
    tokens = [float(r.prompt_tokens) for r in results if r.prompt_tokens is not None]
    distances = [r.edit_distance for r in results if r.edit_distance is not None and not r.success]
    per_tool = tool_selection_scores((r.predicted_tools, r.reference_tools) for r in results)
    overall = overall_tool_score(per_tool)
    by_tool, by_shape = _by_tool_and_shape(results)
    return {
        "n": n,
        "model": model,
        "dataset": dataset,
        "success_rate": _share(sum(r.success for r in results), n),
        "strict_success_rate": _share(sum(r.strict_success for r in results), n),
        "parse_failure_rate": _share(sum(r.parse_failure for r in results), n),
        "latency_s": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95), "mean": _mean(latencies)},
        "prompt_tokens_mean": _mean(tokens),
        "tool_selection": {"precision": overall.precision, "recall": overall.recall},
        "per_tool": {tool: score.to_dict() for tool, score in per_tool.items()},
        "success_by_tool": by_tool,
        "success_by_shape": by_shape,
        "edit_distance_mean": _mean(distances),
        "unmatched_predictions": unmatched_predictions,
        "items": [r.to_dict() for r in results],
    }


def _percent(value: Any) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, (int, float)) else "-"


def _seconds(value: Any) -> str:
    return f"{value:.2f}s" if isinstance(value, (int, float)) else "-"


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _latency(report: Mapping[str, Any], key: str) -> Any:
    latency = report.get("latency_s")
    return latency.get(key) if isinstance(latency, Mapping) else None


def summary_line(report: Mapping[str, Any]) -> str:
    """One human line: counts, the three rates, latency and model."""
    parts = [
        f"{report.get('n', 0)} items",
        f"success {_percent(report.get('success_rate'))}",
        f"strict {_percent(report.get('strict_success_rate'))}",
        f"parse failures {_percent(report.get('parse_failure_rate'))}",
    ]
    if _latency(report, "p50") is not None:
        parts.append(f"latency p50 {_seconds(_latency(report, 'p50'))} p95 {_seconds(_latency(report, 'p95'))}")
    if report.get("model"):
        parts.append(f"model {report['model']}")
    return " | ".join(parts)


def breakdown_text(report: Mapping[str, Any]) -> str:
    """Success and strict success per plan shape and per tool, as aligned text lines."""
    lines = []
    for title, key in (("by plan size (tool actions)", "success_by_shape"), ("by tool", "success_by_tool")):
        groups = report.get(key) or {}
        if not groups:
            continue
        lines.append(f"{title}:")
        width = max(len(name) for name in groups)
        for name, figures in groups.items():
            lines.append(
                f"  {name:<{width}}  n={figures['n']:<3} success {_percent(figures['success'])}"
                f"  strict {_percent(figures['strict'])}"
            )
    return "\n".join(lines)


def summary_json(report: Mapping[str, Any]) -> str:
    """The report's headline numbers (no items, no per-tool table) as one line of JSON."""
    keys = (
        "n",
        "model",
        "success_rate",
        "strict_success_rate",
        "parse_failure_rate",
        "latency_s",
        "prompt_tokens_mean",
    )
    return json.dumps({k: report.get(k) for k in keys}, ensure_ascii=False, separators=(",", ":"))


def _delta(a: Any, b: Any, scale: int = 1, unit: str = "", digits: int = 1) -> str:
    """``b - a`` (times `scale`) with a sign; "" unless both are numbers."""
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return ""
    diff = (b - a) * scale
    return f"{diff:+d}{unit}" if isinstance(diff, int) else f"{diff:+.{digits}f}{unit}"


def _item_outcomes(report: Mapping[str, Any]) -> dict[str, bool]:
    items = report.get("items")
    if not isinstance(items, list):
        return {}
    return {str(i.get("id")): bool(i.get("success")) for i in items if isinstance(i, Mapping)}


def compare_reports(a: Mapping[str, Any], b: Mapping[str, Any], names: tuple[str, str] = ("A", "B")) -> str:
    """Side-by-side table of two reports (plain text), with B - A deltas and per-tool recall.

    Items present in both (by id) are also counted as fixed (failed in A, succeeded in B)
    and broken (the reverse).
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("metric")
    table.add_column(names[0], justify="right")
    table.add_column(names[1], justify="right")
    table.add_column("B - A", justify="right")
    table.add_row("model", str(a.get("model") or "-"), str(b.get("model") or "-"), "")
    table.add_row("items", _number(a.get("n")), _number(b.get("n")), _delta(a.get("n"), b.get("n")))
    for key, label in (
        ("success_rate", "success"),
        ("strict_success_rate", "strict success"),
        ("parse_failure_rate", "parse failures"),
    ):
        table.add_row(label, _percent(a.get(key)), _percent(b.get(key)), _delta(a.get(key), b.get(key), 100, " pt"))
    for key in ("p50", "p95"):
        va, vb = _latency(a, key), _latency(b, key)
        table.add_row(f"latency {key}", _seconds(va), _seconds(vb), _delta(va, vb, 1, "s", digits=2))
    va, vb = a.get("prompt_tokens_mean"), b.get("prompt_tokens_mean")
    table.add_row("prompt tokens (mean)", _number(va), _number(vb), _delta(va, vb))
    for key in ("precision", "recall"):
        va = (a.get("tool_selection") or {}).get(key)
        vb = (b.get("tool_selection") or {}).get(key)
        table.add_row(f"tool {key}", _percent(va), _percent(vb), _delta(va, vb, 100, " pt"))
    tools_a, tools_b = a.get("per_tool") or {}, b.get("per_tool") or {}
    for tool in sorted(set(tools_a) | set(tools_b)):
        va, vb = (tools_a.get(tool) or {}).get("recall"), (tools_b.get(tool) or {}).get("recall")
        table.add_row(f"  recall {tool}", _percent(va), _percent(vb), _delta(va, vb, 100, " pt"))
    outcomes_a, outcomes_b = _item_outcomes(a), _item_outcomes(b)
    shared = outcomes_a.keys() & outcomes_b.keys()
    if shared:
        fixed = sum(1 for i in shared if outcomes_b[i] and not outcomes_a[i])
        broken = sum(1 for i in shared if outcomes_a[i] and not outcomes_b[i])
        table.add_row("items in both", str(len(shared)), "", "")
        table.add_row("fixed in B / broken in B", "", "", f"+{fixed} / -{broken}")
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None, force_terminal=False, legacy_windows=False).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).strip("\n") + "\n"


def compare_summary(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """One line: B's change against A in the three rates, in percentage points."""
    parts = []
    for key, label in (
        ("success_rate", "success"),
        ("strict_success_rate", "strict"),
        ("parse_failure_rate", "parse failures"),
    ):
        change = _delta(a.get(key), b.get(key), 100, " pt") or "n/a"
        parts.append(f"{label} {change}")
    return "B vs A: " + ", ".join(parts)


def write_report(report: Mapping[str, Any], path: str | Path) -> None:
    """Write the report as indented UTF-8 JSON; unwritable paths raise `EvalFileError`."""
    path = Path(path)
    try:
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise EvalFileError(f"{path}: cannot write report: {exc.strerror or exc}") from None


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a report written by `write_report`; anything else raises `EvalFileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read report: {exc}") from None
    try:
        report = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvalFileError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(report, dict):
        raise EvalFileError(f"{path}: a report must be a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in report]
    if missing:
        raise EvalFileError(f"{path}: not an evaluation report (missing {', '.join(missing)})")
    return report
