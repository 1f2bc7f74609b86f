"""The ``score`` and ``eval`` commands on a typer app built here (cli/main.py wires the real planner)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pocketagent.cli.evaluate import register
from pocketagent.errors import BackendError, ConfigError, ModelNotFoundError
from pocketagent.evaluation.datasets import load_items
from pocketagent.evaluation.harness import PlanOutcome
from pocketagent.plan.language import parse_plan

HANDWRITTEN_DEV = Path(__file__).resolve().parents[2] / "data" / "handwritten-dev.jsonl"  # eval only, never trained on
MAP_PLAN = '1. maps_open_location("Machu Picchu")\n2. join()<END_OF_PLAN>'
DIRECTIONS_PLAN = '1. maps_show_directions("", "Machu Picchu", "d")\n2. join()<END_OF_PLAN>'


class CannedPlanFn:
    """Answers every known query with a canned plan text (the real planner is tested elsewhere)."""

    model_name = "canned-planner"

    def __init__(self, plans: dict[str, str]):
        self.plans = plans
        self.nows: list[datetime | None] = []
        self.queries: list[str] = []

    def __call__(self, query: str, now: datetime | None) -> PlanOutcome:
        self.nows.append(now)
        self.queries.append(query)
        text = self.plans[query]
        return PlanOutcome(text=text, plan=parse_plan(text), error=None, latency_s=0.25, prompt_tokens=321)


class Factory:
    """A make_plan_fn that records the overrides it gets; may fail like a real backend would."""

    def __init__(self, plans: dict[str, str], error: Exception | None = None):
        self.plans, self.error = plans, error
        self.overrides: list[dict] = []

    def __call__(self, overrides: dict) -> CannedPlanFn:
        self.overrides.append(overrides)
        if self.error is not None:
            raise self.error
        self.made = CannedPlanFn(self.plans)
        return self.made


def make_app(factory: Factory) -> typer.Typer:
    app = typer.Typer()
    register(app, factory)
    return app


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    lines = [
        {"id": "a", "query": "show me machu picchu", "plan": MAP_PLAN},
        {"id": "b", "query": "drive to machu picchu", "plan": DIRECTIONS_PLAN},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def run(app: typer.Typer, *args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def stdout_lines(result) -> list[str]:
    return result.stdout.rstrip("\n").split("\n")


def assert_clean_usage_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and message[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in message[0]
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- score


@pytest.mark.skipif(not HANDWRITTEN_DEV.exists(), reason="shared hand-written set not present")
def test_score_handwritten_against_itself(tmp_path):
    preds = tmp_path / "pred.jsonl"
    items = load_items(HANDWRITTEN_DEV)
    preds.write_text("\n".join(json.dumps({"id": i.id, "plan": i.plan}) for i in items))
    report_path = tmp_path / "report.json"
    result = run(make_app(Factory({})), "score", HANDWRITTEN_DEV, preds, "--report", report_path)
    assert result.exit_code == 0, result.output
    assert stdout_lines(result)[-1].startswith("40 items | success 100.0% | strict 100.0% | parse failures 0.0%")
    report = json.loads(report_path.read_text())
    assert report["success_rate"] == 1.0 and report["strict_success_rate"] == 1.0 and report["n"] == 40


def test_score_json_summary(data, tmp_path):
    preds = tmp_path / "pred.jsonl"
    preds.write_text(json.dumps({"id": "a", "plan": MAP_PLAN}) + "\n" + json.dumps({"id": "b", "plan": "1. nope("}))
    result = run(make_app(Factory({})), "score", data, preds, "--json", "--edit-distance-timeout", "0")
    assert result.exit_code == 0, result.output
    lines = stdout_lines(result)
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["success_rate"] == 0.5 and summary["parse_failure_rate"] == 0.5
    assert summary["model"] == "predictions:pred.jsonl"


def test_score_bad_inputs_exit_2_with_one_line(data, tmp_path):
    app = make_app(Factory({}))
    assert_clean_usage_error(run(app, "score", tmp_path / "nope.jsonl", data), "nope.jsonl", "no such file")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "plan": "x"}\n{"id": \n')
    assert_clean_usage_error(run(app, "score", data, bad), f"{bad}:2:", "not valid JSON")
    assert_clean_usage_error(run(app, "score", bad, data), f"{bad}:1:")
    assert_clean_usage_error(
        run(app, "score", data, data, "--report", tmp_path / "no-dir" / "r.json"), "cannot write report"
    )


# --------------------------------------------------------------------------- eval


def test_eval_runs_the_planner_and_writes_the_report(data, tmp_path):
    factory = Factory({"show me machu picchu": MAP_PLAN, "drive to machu picchu": MAP_PLAN})
    report_path = tmp_path / "report.json"
    result = run(
        make_app(factory), "eval", data, "--report", report_path, "--model", "m.gguf", "--no-grammar", "--seed", "7"
    )
    assert result.exit_code == 0, result.output
    assert factory.overrides == [{"model": "m.gguf", "grammar": False, "seed": 7}]
    lines = stdout_lines(result)
    # Progress goes to stderr; stdout has the breakdown by plan size and tool, then the one-line result.
    assert lines[0] == "by plan size (tool actions):" and "by tool:" in lines
    assert (
        lines[-1]
        == "2 items | success 50.0% | strict 50.0% | parse failures 0.0% | latency p50 0.25s p95 0.25s | model canned-planner"
    )
    report = json.loads(report_path.read_text())
    assert report["model"] == "canned-planner"
    assert report["prompt_tokens_mean"] == 321
    assert [i["success"] for i in report["items"]] == [True, False]


def test_eval_limit(data):
    factory = Factory({"show me machu picchu": MAP_PLAN})
    result = run(make_app(factory), "eval", data, "--limit", "1")
    assert result.exit_code == 0, result.output
    assert stdout_lines(result)[-1].startswith("1 items | success 100.0%")
    assert factory.overrides == [{}]


def test_eval_skip_and_limit_evaluate_a_slice(data):
    factory = Factory({"show me machu picchu": MAP_PLAN, "drive to machu picchu": DIRECTIONS_PLAN})
    result = run(make_app(factory), "eval", data, "--skip", "1", "--limit", "1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(stdout_lines(result)[-1])["n"] == 1
    assert factory.made.queries == ["drive to machu picchu"]  # the second item only
    refused = run(make_app(factory), "eval", data, "--skip", "-1")
    assert refused.exit_code == 2 and "--skip" in refused.output  # typer's range check


def test_eval_now_is_the_today_of_items_without_their_own(data, tmp_path):
    own = tmp_path / "own.jsonl"
    own.write_text(json.dumps({"id": "c", "query": "show me machu picchu", "plan": MAP_PLAN, "now": "2026-11-23 10:00:00"}) + "\n")
    factory = Factory({"show me machu picchu": MAP_PLAN, "drive to machu picchu": DIRECTIONS_PLAN})
    assert run(make_app(factory), "eval", data, "--now", "2026-12-03 09:30:00").exit_code == 0
    assert factory.made.nows == [datetime(2026, 12, 3, 9, 30)] * 2
    assert run(make_app(factory), "eval", own, "--now", "2026-12-03 09:30:00").exit_code == 0
    assert factory.made.nows == [datetime(2026, 11, 23, 10, 0)]  # an item's own `now` wins
    assert_clean_usage_error(run(make_app(factory), "eval", data, "--now", "tomorrow"), "--now")


def test_eval_compare_prints_the_table(tmp_path, data):
    factory = Factory({"show me machu picchu": MAP_PLAN, "drive to machu picchu": DIRECTIONS_PLAN})
    app = make_app(factory)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run(app, "eval", data, "--report", first, "--limit", "1").exit_code == 0
    assert run(app, "eval", data, "--report", second).exit_code == 0
    result = run(app, "eval", "--compare", first, second)
    assert result.exit_code == 0, result.output
    assert "a.json" in result.stdout and "b.json" in result.stdout
    assert any(line.split()[:2] == ["items", "1"] for line in stdout_lines(result))
    assert stdout_lines(result)[-1] == "B vs A: success +0.0 pt, strict +0.0 pt, parse failures +0.0 pt"
    assert len(factory.overrides) == 2  # compare alone builds no planner


def test_eval_usage_errors(data, tmp_path):
    app = make_app(Factory({}))
    assert_clean_usage_error(run(app, "eval"), "missing DATA")
    report = tmp_path / "r.json"
    report.write_text("{}")
    assert_clean_usage_error(run(app, "eval", data, "--compare", report, report), "not both")
    assert_clean_usage_error(run(app, "eval", "--compare", report, report), "not an evaluation report")
    assert_clean_usage_error(run(app, "eval", tmp_path / "missing.jsonl"), "no such file")


def test_planner_setup_errors(data):
    result = run(make_app(Factory({}, error=BackendError("cannot load model m.gguf"))), "eval", data)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: cannot load model m.gguf"
    assert_clean_usage_error(
        run(make_app(Factory({}, error=ConfigError("invalid settings: seed"))), "eval", data), "invalid settings"
    )
    assert_clean_usage_error(
        run(make_app(Factory({}, error=ModelNotFoundError("no model file x.gguf"))), "eval", data), "x.gguf"
    )
