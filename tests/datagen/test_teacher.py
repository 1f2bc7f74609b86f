"""The LLM-driven generator: prompts, reply parsing, checks, and real runs against llama_cpp.server (threads and Ray)."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pocketagent.cli.datagen import register
from pocketagent.data.checks import DatasetChecker, ExampleChecker
from pocketagent.data.formats import read_jsonl
from pocketagent.data.splits import GenerationError
from pocketagent.datagen import teacher as gen
from pocketagent.errors import BackendError
from pocketagent.plan.language import END_OF_PLAN
from pocketagent.tools.builtin import builtin_registry

HANDWRITTEN_DEV = Path(__file__).resolve().parents[2] / "data" / "handwritten-dev.jsonl"  # eval only, never trained on
REGISTRY = builtin_registry()
POOL = gen.seed_pool(11)


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)

    @application.callback()
    def _root() -> None:  # keeps `datagen` a sub-command, as in the main app
        pass

    return application


runner = CliRunner()


# ---- prompts -----------------------------------------------------------------------------------


def test_jobs_are_reproducible_and_seeds_fit_the_tool_subset() -> None:
    jobs = gen.sample_jobs(40, 3, POOL, REGISTRY, per_prompt=3, tools_per_prompt=4, seeds_per_prompt=3, endpoints=3)
    assert jobs == gen.sample_jobs(40, 3, POOL, REGISTRY, 3, 4, 3, endpoints=3)
    assert jobs != gen.sample_jobs(40, 4, POOL, REGISTRY, 3, 4, 3, endpoints=3)
    assert [j.endpoint for j in jobs[:6]] == [0, 1, 2, 0, 1, 2]  # round-robin over endpoints
    assert [j.index for j in jobs] == list(range(1, 41))
    for job in jobs:
        assert len(job.tools) >= 4 and len(set(job.tools)) == len(job.tools)
        assert 1 <= len(job.seeds) <= 3
        for seed in job.seeds:
            assert set(seed.tools) <= set(job.tools)
            assert seed in POOL
    assert len({j.tools for j in jobs}) > 20  # subsets vary


def test_messages_show_only_the_subset_the_seeds_and_the_ask() -> None:
    job = gen.sample_jobs(1, 8, POOL, REGISTRY, per_prompt=5, tools_per_prompt=3)[0]
    system, user = gen.build_messages(job, REGISTRY)
    assert (system.role, user.role) == ("system", "user")
    # The tool listing (not the fixed rules, which name a few tools in passing) shows only the subset.
    listing = system.content.split("Tools:\n", 1)[1].split("\nRules:", 1)[0]
    for tool in REGISTRY:
        assert (f"{tool.name}(" in listing) == (tool.name in job.tools)
    for seed in job.seeds:
        assert f"Request: {seed.query}\nPlan:\n{seed.plan}" in user.content
    assert job.now in user.content and "Write 5 new requests" in user.content
    # The instructions never show a hand-written eval request.
    for example in read_jsonl(HANDWRITTEN_DEV):
        assert example.query not in user.content


def test_seeds_that_leak_the_holdout_are_dropped_and_the_rest_count_as_seen() -> None:
    checker = DatasetChecker(REGISTRY, holdout_queries=[POOL[0].query])
    kept = gen.admit_seeds(checker, POOL[:10])
    assert kept == POOL[1:10]
    copy = gen.candidate_example("x", POOL[3].query, POOL[3].plan, POOL[3].now)
    assert checker.admit(copy) is not None and checker.admit(copy).reason.value == "duplicate"


def test_reply_grammar_compiles_in_llama_cpp() -> None:
    import llama_cpp

    job = gen.sample_jobs(1, 0, POOL, REGISTRY)[0]
    text = gen.reply_grammar(REGISTRY.subset(job.tools), job.count)
    assert text.startswith("root ::= pair")
    llama_cpp.LlamaGrammar.from_string(text, verbose=False)  # raises on a malformed grammar


# ---- reply parsing -----------------------------------------------------------------------------

_query_text = (
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\"'`*“”‘’\x85"),
        min_size=1,
        max_size=60,
    )
    .map(str.strip)
    .filter(lambda q: q and not q.lower().startswith(("request", "plan", "today is")))
)


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(st.tuples(_query_text, st.sampled_from(POOL[:50])), min_size=1, max_size=5),
    decorate=st.booleans(),
    junk=st.sampled_from(["", "Sure! Here are some examples:\n", "Here you go.\n\n"]),
)
def test_parse_reply_reads_back_what_was_written(pairs, decorate: bool, junk: str) -> None:
    blocks = []
    for number, (query, example) in enumerate(pairs, start=1):
        head = f"{number}. **Request:** {query}" if decorate else f"Request: {query}"
        plan = f"```\n{example.plan}\n```" if decorate else example.plan
        blocks.append(f"Today is Monday 2026-03-02 09:00:00.\n{head}\nPlan:\n{plan}")
    text = junk + "\n\n".join(blocks) + ("\nThat's all!" if decorate else "")
    assert gen.parse_reply(text) == [(q, e.plan) for q, e in pairs]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["Request: a", "**Request**:", "Plan:", '1. maps_open_location("x")', END_OF_PLAN, "\n", " ", "z"]
        )
    ).map("".join)
)
def test_parse_reply_never_raises_and_returns_one_line_requests(text: str) -> None:
    for query, plan in gen.parse_reply(text):
        assert query and "\n" not in query
        assert plan and plan == plan.strip()
        assert END_OF_PLAN not in plan or plan.endswith(END_OF_PLAN)


def test_parse_reply_cuts_at_end_of_plan_and_keeps_unfinished_plans_for_the_checks() -> None:
    text = (
        'Request: map of Lyon\nPlan: 1. maps_open_location("Lyon")\n2. join()<END_OF_PLAN> trailing words\n'
        'more chatter\nRequest: text Bo hi\nPlan:\n1. get_phone_number("Bo")\n'
    )
    pairs = gen.parse_reply(text)
    assert pairs == [
        ("map of Lyon", '1. maps_open_location("Lyon")\n2. join()<END_OF_PLAN>'),
        ("text Bo hi", '1. get_phone_number("Bo")'),
    ]
    assert gen.parse_reply("no requests here\nPlan:\n1. join()<END_OF_PLAN>") == []


# ---- collecting and checking replies (no LLM: replies are written here) ------------------------


def _reply(index: int, *pairs: tuple[str, str]) -> gen.Reply:
    return gen.Reply(index, "\n\n".join(f"Request: {q}\nPlan:\n{p}" for q, p in pairs))


def test_collect_replies_checks_like_the_offline_path() -> None:
    jobs = gen.sample_jobs(4, 1, POOL, REGISTRY)
    checker = DatasetChecker(REGISTRY, holdout_queries=[e.query for e in read_jsonl(HANDWRITTEN_DEV)])
    seeds = gen.admit_seeds(checker, POOL)
    # A hand-written request whose plan passes the per-example checks at this job's `now`.
    handwritten = next(
        e
        for e in read_jsonl(HANDWRITTEN_DEV)
        if ExampleChecker(REGISTRY).check(gen.candidate_example("h", e.query, e.plan, jobs[3].now)) is None
    )
    # A seed whose dates are still ahead at job 1's `now` (so copying it is only a duplicate).
    copied = next(
        s
        for s in seeds[5:]
        if ExampleChecker(REGISTRY).check(gen.candidate_example("s", s.query, s.plan, jobs[0].now)) is None
    )
    good_plan = '1. maps_show_directions("", "Lake Merritt", "w")\n2. join()<END_OF_PLAN>'
    replies = [
        _reply(
            1,
            ("walk me to lake merritt please", good_plan),
            ("walk me to lake merritt please!", good_plan),  # exact duplicate once normalized
            (copied.query, copied.plan),  # copies a seed
        ),
        gen.Reply(2, "I cannot help with that."),
        _reply(
            3, ("email Ana the notes", '1. compose_new_email(["Ana"], [], "Notes", "", [])\n2. join()<END_OF_PLAN>')
        ),
        _reply(4, (handwritten.query, handwritten.plan), ("open the map of Porto", '1. maps_open_location("Porto")')),
    ]
    collected = gen.collect_replies(replies, jobs, checker)
    assert collected.replies == 4 and collected.empty_replies == 1 and collected.candidates == 6
    assert [e.query for e in collected.examples] == ["walk me to lake merritt please"]
    assert collected.examples[0].now == jobs[0].now and collected.examples[0].id == "p00001-1"
    assert collected.buckets == ["1"]
    assert dict(collected.rejections) == {
        "duplicate": 2,
        "missing_lookup": 1,
        "holdout_leak": 1,
        "missing_join": 1,
    }
    run = gen.build_llm_dataset(collected, 0, 0, 0, holdout_size=40, command="x", notes=["made in a test"])
    assert [e.query for e in run.splits["train"]] == ["walk me to lake merritt please"]
    assert run.splits["train"][0].id == "train-00001"
    with pytest.raises(GenerationError, match="only 1 generated examples passed"):
        gen.build_llm_dataset(collected, 1, 1, 0, holdout_size=40)


def test_kept_plans_are_stored_canonically() -> None:
    jobs = gen.sample_jobs(1, 1, POOL, REGISTRY)
    messy = "Thought: easy\n1.  maps_open_location( 'Oslo' )\n2. join()<END_OF_PLAN>"
    collected = gen.collect_replies([_reply(1, ("show oslo on the map", messy))], jobs, DatasetChecker(REGISTRY))
    (example,) = collected.examples
    assert example.plan == '1. maps_open_location("Oslo")\n2. join()<END_OF_PLAN>'  # canonical, no thought
    assert ExampleChecker(REGISTRY).check(example) is None


def test_a_failed_first_request_aborts_and_a_later_one_is_counted() -> None:
    jobs = gen.sample_jobs(3, 1, POOL, REGISTRY)
    with pytest.raises(BackendError, match="cannot reach"):
        gen.collect_replies([gen.Reply(1, error="cannot reach it")], jobs, DatasetChecker(REGISTRY))
    replies = [gen.Reply(1, "nothing"), gen.Reply(2, error="timed out"), gen.Reply(3, error="timed out again")]
    collected = gen.collect_replies(replies, jobs, DatasetChecker(REGISTRY))
    assert (collected.replies, collected.request_errors, collected.first_error) == (1, 2, "timed out")


# ---- the CLI: errors ---------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_endpoint_is_exit_2_and_one_line(app: typer.Typer, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    result = runner.invoke(app, ["datagen", "llm", "--out", str(tmp_path / "o"), "--endpoint", url, "--prompts", "3"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "cannot reach" in lines[0] and url in lines[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ray-address", "ray://nowhere:10001"], "--ray-address needs --ray"),
        (["--holdout", "/nonexistent/holdout.jsonl"], "cannot read"),
        # Ray would retry a dead cluster address for minutes; the run says so at once.
        (["--ray", "--ray-address", "127.0.0.1:{port}"], "cannot reach the Ray cluster at 127.0.0.1:"),
    ],
)
def test_bad_options_are_exit_2(app: typer.Typer, tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.format(port=_closed_port()) for a in args]
    result = runner.invoke(app, ["datagen", "llm", "--out", str(tmp_path), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_missing_ray_is_a_clear_message(app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray looks like to `import ray`
    result = runner.invoke(app, ["datagen", "llm", "--out", str(tmp_path), "--ray"])
    assert result.exit_code == 2
    assert "pip install 'pocketagent[ray]'" in result.output and "Traceback" not in result.output


# ---- end to end against a real llama_cpp.server --------------------------------------------------

# Small prompts and replies: the CPU is slow and the output quality is irrelevant here. The grammar
# makes even the tiny model write request/plan pairs, so the checks get real input; greedy decoding
# makes the replies the same whichever runner sends the prompts.
E2E_ARGS = ["--prompts", "2", "--per-prompt", "2", "--tools-per-prompt", "2", "--seeds-per-prompt", "2"]
E2E_ARGS += ["--max-tokens", "120", "--temperature", "0", "--seed", "5", "--grammar"]
E2E_ARGS += ["--holdout", str(HANDWRITTEN_DEV), "-q", "--json"]


def _run(app: typer.Typer, out: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["datagen", "llm", "--out", str(out), *E2E_ARGS, *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _assert_checked_output(summary: dict, out: Path) -> None:
    assert summary["prompts"] == summary["replies"] == 2 and summary["request_errors"] == 0
    assert summary["empty_replies"] == 0 and summary["candidates"] >= 2 and summary["completion_tokens"] > 0
    kept = sum(summary["examples"].values())
    assert kept + sum(summary["rejections"].values()) == summary["candidates"]
    examples = read_jsonl(out / "train.jsonl")
    assert len(examples) == kept
    report = DatasetChecker(REGISTRY, holdout_queries=[e.query for e in read_jsonl(HANDWRITTEN_DEV)]).run(examples)
    assert report.rejected == []
    card = (out / "card.md").read_text(encoding="utf-8")
    assert card.startswith("# pocketagent LLM-generated dataset") and "from 2 prompts asking for 4 requests" in card
    for reason, count in summary["rejections"].items():
        assert f"| {reason} | {count} |" in card


@pytest.fixture(scope="module")
def threads_run(app: typer.Typer, llama_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("llm-threads")
    return _run(app, out, "--endpoint", llama_server, "--workers", "2"), out


@pytest.mark.model
@pytest.mark.server
@pytest.mark.slow
def test_threads_against_a_real_server(threads_run: tuple[dict, Path]) -> None:
    summary, out = threads_run
    _assert_checked_output(summary, out)
    assert summary["runner"] == "threads" and summary["endpoints"] == 1


@pytest.mark.model
@pytest.mark.server
@pytest.mark.slow
def test_ray_pipeline_gives_what_the_threads_give(
    app: typer.Typer, llama_server: str, threads_run: tuple[dict, Path], tmp_path: Path
) -> None:
    # Two endpoints (the same server under two spellings) exercise the round-robin assignment.
    summary = _run(
        app, tmp_path, "--ray", "--workers", "2", "--endpoint", llama_server, "--endpoint", llama_server + "/"
    )
    _assert_checked_output(summary, tmp_path)
    assert summary["runner"] == "ray" and summary["endpoints"] == 2
    threads, threads_out = threads_run
    for key in ("candidates", "rejections", "examples", "completion_tokens"):
        assert summary[key] == threads[key], key
    assert (tmp_path / "train.jsonl").read_bytes() == (threads_out / "train.jsonl").read_bytes()

    import ray

    assert not ray.is_initialized()  # the local Ray started for the run was shut down
