"""The REPORT dict, its summary lines, comparison table and files."""

from __future__ import annotations

import json

import pytest

from pocketagent.evaluation.datasets import EvalFileError
from pocketagent.evaluation.report import (
    ItemResult,
    breakdown_text,
    build_report,
    compare_reports,
    compare_summary,
    load_report,
    percentile,
    summary_json,
    summary_line,
    write_report,
)


def result(item_id: str, success: bool, strict: bool = False, parse_failure: bool = False, **extra) -> ItemResult:
    defaults = {
        "query": f"query {item_id}",
        "predicted": "" if parse_failure else "1. join()<END_OF_PLAN>",
        "reference": '1. maps_open_location("x")\n2. join()<END_OF_PLAN>',
        "predicted_tools": () if parse_failure else ("maps_open_location",),
        "reference_tools": ("maps_open_location",),
    }
    defaults.update(extra)
    return ItemResult(id=item_id, success=success, strict_success=strict, parse_failure=parse_failure, **defaults)


@pytest.fixture
def report_a() -> dict:
    return build_report(
        [
            result("1", True, True, latency_s=1.0, prompt_tokens=500),
            result("2", True, False, latency_s=2.0, prompt_tokens=700),
            result("3", False, latency_s=3.0, prompt_tokens=600, edit_distance=2.0),
            result("4", False, parse_failure=True, error="plan does not parse", latency_s=4.0, prompt_tokens=600),
        ],
        model="small",
        dataset="dev.jsonl",
    )


def test_build_report_top_level(report_a):
    assert report_a["n"] == 4
    assert report_a["success_rate"] == 0.5
    assert report_a["strict_success_rate"] == 0.25
    assert report_a["parse_failure_rate"] == 0.25
    assert report_a["latency_s"] == {"p50": 2.5, "p95": pytest.approx(3.85), "mean": 2.5}
    assert report_a["prompt_tokens_mean"] == 600
    assert report_a["model"] == "small"
    assert report_a["edit_distance_mean"] == 2.0
    assert report_a["per_tool"] == {"maps_open_location": {"precision": 1.0, "recall": 0.75, "support": 4}}
    assert report_a["tool_selection"] == {"precision": 1.0, "recall": 0.75}


def test_report_items_carry_everything(report_a):
    item = report_a["items"][3]
    assert set(item) >= {
        "id",
        "query",
        "success",
        "strict_success",
        "predicted",
        "reference",
        "error",
        "latency_s",
        "prompt_tokens",
    }
    assert item["id"] == "4" and item["error"] == "plan does not parse" and item["parse_failure"] is True
    assert item["predicted_tools"] == [] and item["reference_tools"] == ["maps_open_location"]
    json.dumps(report_a)  # JSON-ready


def test_empty_report_has_no_rates():
    report = build_report([])
    assert report["success_rate"] is None and report["latency_s"]["p50"] is None
    assert summary_line(report) == "0 items | success - | strict - | parse failures -"


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 0.5, None), ([3.0], 0.95, 3.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5), ([4.0, 1.0, 3.0, 2.0], 1.0, 4.0)],
)
def test_percentile(values, q, expected):
    assert percentile(values, q) == expected


def test_summary_line(report_a):
    assert summary_line(report_a) == (
        "4 items | success 50.0% | strict 25.0% | parse failures 25.0% | latency p50 2.50s p95 3.85s | model small"
    )


def test_summary_json_is_one_line_without_items(report_a):
    line = summary_json(report_a)
    assert "\n" not in line
    data = json.loads(line)
    assert data["success_rate"] == 0.5 and "items" not in data and "per_tool" not in data


def test_compare_reports_side_by_side(report_a):
    report_b = build_report(
        [
            result("1", True, True, latency_s=0.5),
            result("2", False, latency_s=0.5),
            result("3", True, True, latency_s=0.5),
            result("4", True, False, latency_s=0.5),
        ],
        model="tuned",
    )
    table = compare_reports(report_a, report_b, names=("a.json", "b.json"))
    lines = table.splitlines()
    assert "a.json" in lines[0] and "b.json" in lines[0]
    row = next(line for line in lines if line.strip().startswith("success"))
    assert row.split() == ["success", "50.0%", "75.0%", "+25.0", "pt"]
    assert any(line.split()[:3] == ["model", "small", "tuned"] for line in lines)
    assert any("recall maps_open_location" in line for line in lines)
    fixed = next(line for line in lines if "fixed in B" in line)
    assert fixed.split()[-3:] == ["+2", "/", "-1"]
    assert compare_summary(report_a, report_b) == "B vs A: success +25.0 pt, strict +25.0 pt, parse failures -25.0 pt"


def test_compare_reports_tolerates_missing_numbers():
    sparse = {"n": 1, "success_rate": 1.0, "strict_success_rate": None, "parse_failure_rate": 0.0, "items": []}
    table = compare_reports(sparse, sparse)
    assert "strict success" in table
    assert compare_summary(sparse, sparse) == "B vs A: success +0.0 pt, strict n/a, parse failures +0.0 pt"


def test_report_file_round_trip(report_a, tmp_path):
    path = tmp_path / "report.json"
    write_report(report_a, path)
    assert load_report(path) == report_a


def test_report_file_errors(tmp_path):
    with pytest.raises(EvalFileError, match="no such file"):
        load_report(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(EvalFileError, match=r"bad.json:1: invalid JSON"):
        load_report(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"n": 3}')
    with pytest.raises(EvalFileError, match="not an evaluation report"):
        load_report(tmp_path / "other.json")
    with pytest.raises(EvalFileError, match="cannot write report"):
        write_report({"n": 0}, tmp_path / "missing-dir" / "r.json")


def test_success_by_tool_and_by_plan_shape() -> None:
    sms = ("get_phone_number", "send_sms")
    report = build_report(
        [
            result("1", True, True, reference_actions=1),
            result("2", False, reference_tools=sms, reference_actions=2),
            result("3", True, False, reference_tools=sms, reference_actions=2),
            result("4", False, reference_tools=(*sms, "create_note"), reference_actions=8),
        ]
    )
    assert report["success_by_shape"] == {
        "1": {"n": 1, "success": 1.0, "strict": 1.0},
        "2": {"n": 2, "success": 0.5, "strict": 0.0},
        "7+": {"n": 1, "success": 0.0, "strict": 0.0},
    }
    assert report["success_by_tool"]["send_sms"] == {"n": 3, "success": 1 / 3, "strict": 0.0}
    assert list(report["success_by_tool"]) == sorted(report["success_by_tool"])
    text = breakdown_text(report)
    assert "by plan size" in text and "7+" in text and "send_sms" in text

