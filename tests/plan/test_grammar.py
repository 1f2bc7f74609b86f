"""Plan grammar: built text, compiled and run by llama.cpp's own grammar engine.

Acceptance is checked with llama.cpp itself, not a re-implementation: the default model is
loaded vocab-only (no weights, no inference), the plan text is tokenized, and each token
is offered to a `llama_sampler_init_grammar` sampler alone. A token the grammar rejects
gets logit -inf; at the end the grammar must allow end-of-generation. This is exactly the
check the sampler makes during generation.
"""

from __future__ import annotations

import ctypes
import json
import math
import random
from datetime import datetime
from pathlib import Path

import llama_cpp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llama_cpp import _internals

from pocketagent.errors import PocketAgentError
from pocketagent.plan import Action, Plan, parse_plan, render_value
from pocketagent.plan.grammar import GrammarBuildError, build_grammar, continuation_grammar, grammar_for_request
from pocketagent.tools import ToolContext, ToolRegistry, builtin_registry

HANDWRITTEN = Path(__file__).resolve().parents[2] / "data" / "handwritten-dev.jsonl"  # eval only, never trained on


def _user_registry() -> ToolRegistry:
    registry = ToolRegistry()

    @registry.register
    def set_alarm(ctx: ToolContext, hour: int, minute: int, label: str | None, repeat: bool) -> str:
        """Sets an alarm."""
        return ""

    @registry.register
    def adjust_volume(level: float, muted: bool | None) -> str:
        """Sets the volume (no context parameter)."""
        return ""

    @registry.register
    def pick_numbers(values: list[int], weights: list[float], tags: list[str | None]) -> str:
        """Takes lists of every kind."""
        return ""

    @registry.register
    def ping() -> str:
        """Takes no argument."""
        return ""

    return registry


class GrammarEngine:
    """llama.cpp's grammar sampler over the default model's vocabulary (no weights loaded)."""

    def __init__(self, model_path: Path) -> None:
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        self.model = _internals.LlamaModel(path_model=str(model_path), params=params, verbose=False)
        self.vocab = self.model.vocab
        self.eos = llama_cpp.llama_vocab_eos(self.vocab)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)

    def sampler(self, grammar: str):
        """A grammar sampler, or a NULL pointer (falsy) when llama.cpp cannot parse the grammar."""
        return llama_cpp.llama_sampler_init_grammar(self.vocab, grammar.encode("utf-8"), b"root")

    def compiles(self, grammar: str) -> bool:
        sampler = self.sampler(grammar)
        if not sampler:
            return False
        llama_cpp.llama_sampler_free(sampler)
        return True

    def allowed(self, sampler, candidates: list[int]) -> list[int]:
        """The candidate tokens the grammar allows next (apply sets the others to -inf)."""
        data = (llama_cpp.llama_token_data * len(candidates))(
            *(llama_cpp.llama_token_data(token, 0.0, 0.0) for token in candidates)
        )
        array = llama_cpp.llama_token_data_array(data, len(candidates), -1, False)
        llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))
        return [data[i].id for i in range(array.size) if not math.isinf(data[i].logit)]

    def accepts(self, grammar: str, text: str) -> bool:
        """True when the grammar accepts `text` as a complete plan."""
        tokens = self.model.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        assert self.model.detokenize(tokens).decode("utf-8") == text, "tokenization must round-trip"
        sampler = self.sampler(grammar)
        assert sampler, "grammar must compile"
        try:
            for token in tokens:
                if not self.allowed(sampler, [token]):
                    return False
                llama_cpp.llama_sampler_accept(sampler, token)
            return bool(self.allowed(sampler, [self.eos]))
        finally:
            llama_cpp.llama_sampler_free(sampler)

    def piece(self, token: int) -> bytes:
        # LlamaModel.token_to_piece returns its whole 32-byte buffer; use the length llama.cpp reports.
        buffer = ctypes.create_string_buffer(64)
        length = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, False)
        return buffer.raw[: max(length, 0)]


@pytest.fixture(scope="module")
def engine(default_model_path: Path) -> GrammarEngine:
    return GrammarEngine(default_model_path)


@pytest.fixture(scope="module")
def builtin_grammar() -> str:
    return build_grammar(builtin_registry())


def _handwritten_plans() -> list[str]:
    return [json.loads(line)["plan"] for line in HANDWRITTEN.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- building -------------------------------------------------------------------------------


def test_grammar_names_every_tool_and_ends_plans_with_join(builtin_grammar: str):
    registry = builtin_registry()
    assert len(registry) == 16
    for tool in registry:
        assert f'"{tool.name}(' in builtin_grammar
    assert '"join()<END_OF_PLAN>"' in builtin_grammar
    assert builtin_grammar.startswith("root ::= ")


def test_builtin_and_user_grammars_compile_in_llama_cpp(engine: GrammarEngine, builtin_grammar: str):
    assert engine.compiles(builtin_grammar)
    assert engine.compiles(build_grammar(_user_registry()))
    assert engine.compiles(build_grammar(_user_registry(), allow_thoughts=False, max_actions=1, min_actions=0))
    assert engine.compiles(
        build_grammar(builtin_registry(), max_actions=99, max_list_items=None, max_string_chars=None)
    )
    # The check itself can fail: llama.cpp refuses a grammar with an undefined rule.
    assert not engine.compiles("root ::= nowhere")


def test_grammar_is_deterministic_and_grows_linearly(builtin_grammar: str):
    assert build_grammar(builtin_registry()) == builtin_grammar
    # Rules are written once per action position (for exact references), so the text
    # grows linearly with max_actions: about 2.3 kB per position for the 16 tools.
    sizes = [len(build_grammar(builtin_registry(), max_actions=n)) for n in (10, 20, 40)]
    assert sizes[1] - sizes[0] < 2600 * 10
    assert abs((sizes[2] - sizes[1]) - 2 * (sizes[1] - sizes[0])) < 2000
    assert len(builtin_grammar) < 50_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_actions": 0}, "max_actions"),
        ({"max_actions": True}, "max_actions"),
        ({"max_actions": 100}, "at most 99"),
        ({"min_actions": 3, "max_actions": 2}, "min_actions"),
        ({"min_actions": -1}, "min_actions"),
        ({"max_list_items": 0}, "max_list_items"),
        ({"max_string_chars": "many"}, "max_string_chars"),
    ],
)
def test_bad_limits_raise_grammar_build_error(kwargs: dict, message: str):
    with pytest.raises(GrammarBuildError, match=message):
        build_grammar(builtin_registry(), **kwargs)


def _fake_tool(name: object, kinds: tuple = ("str",), is_list: bool = False):
    from types import SimpleNamespace

    param = SimpleNamespace(name="x", type=SimpleNamespace(kinds=kinds, is_list=is_list))
    return SimpleNamespace(name=name, parameters=(param,))


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ([], "at least one tool"),
        ([_fake_tool("join")], "reserved"),
        ([_fake_tool("bad name")], "not a valid identifier"),
        ([_fake_tool(None)], "not a valid identifier"),
        ([_fake_tool("a"), _fake_tool("a")], "twice"),
        ([_fake_tool("a", kinds=("dict",))], "kinds"),
        ([_fake_tool("a", kinds=())], "kinds"),
        ([object()], "not a valid identifier"),
    ],
)
def test_bad_tools_raise_grammar_build_error(tools: list, message: str):
    with pytest.raises(GrammarBuildError, match=message):
        build_grammar(tools)


def test_duck_typed_tools_work(engine: GrammarEngine):
    grammar = build_grammar([_fake_tool("lookup", kinds=("int", "none"), is_list=True)])
    assert engine.accepts(grammar, "1. lookup([1, None, -3])\n2. join()<END_OF_PLAN>")
    assert not engine.accepts(grammar, '1. lookup(["a"])\n2. join()<END_OF_PLAN>')


def _numbered(calls: list[str]) -> str:
    lines = [f"{i}. {call}" for i, call in enumerate(calls, start=1)]
    return "\n".join(lines + [f"{len(calls) + 1}. join()<END_OF_PLAN>"])


# --- acceptance -----------------------------------------------------------------------------


def test_accepts_every_handwritten_reference_plan(engine: GrammarEngine, builtin_grammar: str):
    plans = _handwritten_plans()
    assert len(plans) >= 40
    rejected = [plan for plan in plans if not engine.accepts(builtin_grammar, plan)]
    assert rejected == []


def test_accepts_reference_plans_with_thoughts_only_when_allowed(engine: GrammarEngine, builtin_grammar: str):
    plan = parse_plan(_handwritten_plans()[2])
    with_thoughts = Plan(
        tuple(Action(a.id, a.tool, a.args, f"step {a.id}: use ${a.id} <3 <<x") for a in plan.actions)
    ).render()
    assert "Thought: step 1" in with_thoughts
    assert engine.accepts(builtin_grammar, with_thoughts)
    assert not engine.accepts(build_grammar(builtin_registry(), allow_thoughts=False), with_thoughts)


SPEC_EXAMPLE = """Thought: I need Sid's address first.
1. get_email_address("Sid")
2. create_calendar_event("Budget review", "2026-11-27 15:00:00", "2026-11-27 16:00:00", "", ["$1"], "", None)
3. join()<END_OF_PLAN>"""


@pytest.mark.parametrize(
    "plan",
    [
        SPEC_EXAMPLE,
        '1. create_reminder("Pay rent", "", "", "", 1, True)\n2. join()<END_OF_PLAN>',
        _numbered(['get_phone_number("Sid")', 'create_reminder("a", "", "", "", "$1", "${1}")']),  # refs: any type
        '1. get_zoom_meeting_link("Sync", "2026-11-24 15:00:00", -0, [])\n2. join()<END_OF_PLAN>',
        '1. create_note("Tabs\\tand \\"quotes\\" \\\\ \\u001b né 日本 \U0001f600", "a<b <<", "<")\n2. join()<END_OF_PLAN>',
        '1. create_note("US$ 5, costs $ or $x or $<3 $", "$\\n", "Notes")\n2. join()<END_OF_PLAN>',
        _numbered(['get_phone_number("a")'] * 2 + ['send_sms(["$1", "555-0100"], "Summary: $2 and ${1}0, ${2}, $1.")']),
        _numbered(['maps_open_location("x")'] * 12 + ['send_sms(["$12", "${9}", "$1"], "$10 $11")']),
    ],
)
def test_accepts_valid_plans(engine: GrammarEngine, builtin_grammar: str, plan: str):
    assert engine.accepts(builtin_grammar, plan)


MALFORMED = {
    "too many arguments": '1. get_phone_number("Sid", "Ann")\n2. join()<END_OF_PLAN>',
    "too few arguments": '1. send_sms(["555"])\n2. join()<END_OF_PLAN>',
    "no arguments": "1. get_phone_number()\n2. join()<END_OF_PLAN>",
    "unknown tool": '1. get_fax_number("Sid")\n2. join()<END_OF_PLAN>',
    "tool name prefix": '1. get_phone("Sid")\n2. join()<END_OF_PLAN>',
    "missing join": '1. get_phone_number("Sid")',
    "missing end marker": '1. get_phone_number("Sid")\n2. join()',
    "only join": "1. join()<END_OF_PLAN>",
    "keyword argument": '1. get_phone_number(name="Sid")\n2. join()<END_OF_PLAN>',
    "int for str": "1. get_phone_number(42)\n2. join()<END_OF_PLAN>",
    "str for int": '1. create_reminder("a", "", "", "", "high", True)\n2. join()<END_OF_PLAN>',
    "lowercase bool": '1. create_reminder("a", "", "", "", 0, true)\n2. join()<END_OF_PLAN>',
    "None for str": "1. get_phone_number(None)\n2. join()<END_OF_PLAN>",
    "str for list": '1. send_sms("555", "hi")\n2. join()<END_OF_PLAN>',
    "nested list": '1. send_sms([["555"]], "hi")\n2. join()<END_OF_PLAN>',
    "single quotes": "1. get_phone_number('Sid')\n2. join()<END_OF_PLAN>",
    "no space after comma": '1. send_sms(["555"],"hi")\n2. join()<END_OF_PLAN>',
    "space before paren": '1. get_phone_number ("Sid")\n2. join()<END_OF_PLAN>',
    "ids out of order": '2. get_phone_number("Sid")\n3. join()<END_OF_PLAN>',
    "repeated id": '1. get_phone_number("Sid")\n1. join()<END_OF_PLAN>',
    "raw newline in string": '1. create_note("a\nb", "", "Notes")\n2. join()<END_OF_PLAN>',
    "end marker in string": '1. create_note("<END_OF_PLAN>", "", "Notes")\n2. join()<END_OF_PLAN>',
    "python-only escape": '1. create_note("\\x41", "", "Notes")\n2. join()<END_OF_PLAN>',
    "reference to action 0 for int": _numbered(['open_note("a", "")', 'create_reminder("a", "", "", "", "$0", True)']),
    "reference in action 1": '1. create_reminder("a", "", "", "", "$1", True)\n2. join()<END_OF_PLAN>',
    "reference in action 1 string": '1. create_note("a", "see $1", "Notes")\n2. join()<END_OF_PLAN>',
    "self reference": _numbered(['get_phone_number("Sid")', 'send_sms(["$2"], "hi")']),
    "forward reference in text": _numbered(['get_phone_number("Sid")', 'send_sms(["$1"], "see $3")']),
    "braced forward reference": _numbered(['get_phone_number("Sid")', 'send_sms(["${2}"], "hi")']),
    "reference with trailing digit": _numbered(['get_phone_number("Sid")', 'send_sms(["$1"], "$15 left")']),
    "non-control unicode escape": '1. create_note("\\u00e9", "", "Notes")\n2. join()<END_OF_PLAN>',
    "text after end marker": '1. get_phone_number("Sid")\n2. join()<END_OF_PLAN>\n3. get_phone_number("Ann")',
    "blank line": '1. get_phone_number("Sid")\n\n2. join()<END_OF_PLAN>',
    "two thoughts in a row": 'Thought: a\nThought: b\n1. get_phone_number("Sid")\n2. join()<END_OF_PLAN>',
    "empty thought": 'Thought: \n1. get_phone_number("Sid")\n2. join()<END_OF_PLAN>',
}


@pytest.mark.parametrize("plan", MALFORMED.values(), ids=MALFORMED.keys())
def test_rejects_malformed_plans(engine: GrammarEngine, builtin_grammar: str, plan: str):
    assert not engine.accepts(builtin_grammar, plan)


def test_action_count_limits(engine: GrammarEngine):
    call = 'get_phone_number("Sid")'
    grammar = build_grammar(builtin_registry(), max_actions=3)
    assert engine.accepts(grammar, _numbered([call] * 3))
    assert not engine.accepts(grammar, _numbered([call] * 4))
    assert engine.accepts(build_grammar(builtin_registry(), min_actions=0), "1. join()<END_OF_PLAN>")
    assert engine.accepts(build_grammar(builtin_registry(), max_actions=12), _numbered([call] * 12))


def test_list_and_string_limits(engine: GrammarEngine):
    grammar = build_grammar(builtin_registry(), max_list_items=2, max_string_chars=5)
    assert engine.accepts(grammar, _numbered(['send_sms(["1", "2"], "abcde")']))
    assert not engine.accepts(grammar, _numbered(['send_sms(["1", "2", "3"], "hi")']))
    assert not engine.accepts(grammar, _numbered(['send_sms([], "abcdef")']))
    unbounded = build_grammar(builtin_registry(), max_list_items=None, max_string_chars=None)
    assert engine.accepts(unbounded, _numbered([f"send_sms({render_value(['5'] * 30)}, {render_value('x' * 400)})"]))


def test_user_tool_types(engine: GrammarEngine):
    grammar = build_grammar(_user_registry())
    good = [
        "set_alarm(7, 30, None, False)",
        'set_alarm(7, 0, "Wake up", True)',
        "adjust_volume(0.5, None)",
        "adjust_volume(3, True)",  # an int is a valid float
        "adjust_volume(-1.25e-3, False)",
        'pick_numbers([1, -2, "$1"], [0.5, 2], ["a", None])',
        "pick_numbers([], [], [])",
        "ping()",
    ]
    assert engine.accepts(grammar, _numbered(good))
    bad = [
        "set_alarm(7.5, 30, None, False)",  # float for int
        'set_alarm(7, 30, "x")',  # arity
        "set_alarm(07, 30, None, False)",  # not a Python int literal
        "adjust_volume(.5, None)",
        'adjust_volume(1, "yes")',
        "pick_numbers([None], [], [])",
        "ping(None)",
    ]
    for call in bad:
        assert not engine.accepts(grammar, _numbered([call])), call


# Values of each argument type, for random plans (any text: render_value escapes it).
# The grammar keeps "<E" (as in <END_OF_PLAN>) and runs of more than 3 "<" out of free text.
# Code points from U+40000 on need a UTF-8 lead byte (F1-F4) that this model's tokenizer drops.
# "$" is left to `_text_with_refs`: before a digit it would be a reference.
_TEXT = st.text(st.characters(exclude_categories=("Cs",), max_codepoint=0x3FFFF), max_size=40).filter(
    lambda s: "<E" not in s and "<<<<" not in s and "$" not in s
)


def _text_with_refs(action_id: int) -> st.SearchStrategy[str]:
    """Text with `$N` / `${N}` references to earlier actions, each followed by a space."""
    if action_id == 1:
        return _TEXT
    ref = st.integers(1, action_id - 1).flatmap(lambda n: st.sampled_from([f"${n} ", f"${{{n}}} "]))
    return st.lists(st.one_of(_TEXT, ref), max_size=4).map("".join)


_SCALARS = {
    "str": _TEXT,
    "int": st.integers(-(10**12), 10**12),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "bool": st.booleans(),
    "none": st.none(),
}


def _value_for(param_type, action_id: int) -> st.SearchStrategy:
    strategies = {**_SCALARS, "str": _text_with_refs(action_id)}
    scalar = st.one_of(*(strategies[kind] for kind in param_type.kinds))
    if action_id > 1:  # a reference stands for any type
        scalar = scalar | st.integers(1, action_id - 1).map(lambda n: f"${n}")
    return st.lists(scalar, max_size=4) if param_type.is_list else scalar


@st.composite
def _random_plans(draw) -> str:
    tools = list(builtin_registry()) + list(_user_registry())
    actions = []
    for action_id in range(1, draw(st.integers(1, 5)) + 1):
        tool = draw(st.sampled_from(tools))
        args = tuple(draw(_value_for(p.type, action_id)) for p in tool.parameters)
        thought = draw(st.none() | _TEXT.filter(lambda s: s.strip() and not any(c < " " for c in s)))
        actions.append(Action(action_id, tool.name, args, thought))
    actions.append(Action(len(actions) + 1, "join"))
    return Plan(tuple(actions)).render()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=_random_plans())
def test_accepts_random_rendered_plans(engine: GrammarEngine, plan: str):
    parse_plan(plan)  # the generator makes valid plans only
    grammar = build_grammar(list(builtin_registry()) + list(_user_registry()), max_string_chars=None)
    assert engine.accepts(grammar, plan)


# --- the grammar's language stays inside the parser's ---------------------------------------


# Characters where the grammar's decisions are (quotes, escapes, "<", references, numbers,
# separators). A random walk leans on them, or it would almost never write an escape.
_SYNTAX_CHARS = b'"\\<E${}[],. -+eE0123456789'


def _random_walk(engine: GrammarEngine, grammar: str, rng: random.Random, single_chars: dict[int, bytes]) -> str:
    """Text generated from the grammar by picking random allowed tokens (a model with random logits)."""
    syntax = {token for token, piece in single_chars.items() if piece in _SYNTAX_CHARS}
    sampler = engine.sampler(grammar)
    pieces: list[bytes] = []
    try:
        for _ in range(2000):
            candidates = list(single_chars) + rng.sample(range(engine.n_vocab), 100) + [engine.eos]
            allowed = engine.allowed(sampler, candidates)
            assert allowed, "the grammar must always allow some token until it is complete"
            allowed_syntax = [token for token in allowed if token in syntax]
            token = rng.choice(allowed_syntax if allowed_syntax and rng.random() < 0.5 else allowed)
            if token == engine.eos:
                # llama.cpp's grammar decodes overlong UTF-8 (b"\xf0\x81...") as a code point, so
                # random byte tokens can form one; llama-cpp-python decodes output the same way.
                return b"".join(pieces).decode("utf-8", errors="ignore")
            llama_cpp.llama_sampler_accept(sampler, token)
            pieces.append(engine.piece(token))
    finally:
        llama_cpp.llama_sampler_free(sampler)
    raise AssertionError("a grammar with small limits must end within 2000 tokens")


def test_every_text_the_grammar_generates_is_a_valid_plan(engine: GrammarEngine):
    registry = ToolRegistry(list(builtin_registry()) + list(_user_registry()))
    grammar = build_grammar(registry, max_actions=3, max_list_items=2, max_string_chars=4)
    # Single-character tokens make sure every character the grammar may need is on offer.
    single_chars = {t: piece for t in range(engine.n_vocab) if len(piece := engine.piece(t)) == 1}
    rng = random.Random(0)
    references = 0
    for _ in range(20):
        text = _random_walk(engine, grammar, rng, single_chars)
        try:
            plan = parse_plan(text)
            for action in plan.tool_actions:
                registry.validate_action(action)
        except PocketAgentError as error:
            raise AssertionError(f"grammar wrote an invalid plan ({error}):\n{text}") from None
        references += sum(len(action.dependencies) for action in plan.actions)
    assert references > 0  # the walks did exercise references


# --- with the real model --------------------------------------------------------------------

PLANNER_REQUESTS = [
    "email Anna the budget pdf",
    "walking directions to the airport",
    "remind me to call mom tomorrow at 5pm, high priority",
    "make a note called groceries with milk and eggs",
    "set up a 30 minute zoom with Raj on friday at 3pm and put it on my calendar",
    "summarize the quarterly report pdf and text the summary to Priya",
]


@pytest.fixture(scope="module")
def planner_llm(default_model_path: Path) -> llama_cpp.Llama:
    return llama_cpp.Llama(model_path=str(default_model_path), n_ctx=2048, n_threads=2, seed=0, verbose=False)


def _planner_messages(registry: ToolRegistry, request: str) -> list[dict[str, str]]:
    system = (
        "You turn a request into a numbered plan of tool calls, one per line, with positional "
        'arguments; "$N" is the result of action N. End with join()<END_OF_PLAN>.\n'
        "Tools:\n" + "\n".join(tool.signature_text() for tool in registry) + "\n\n"
        "Example request: text Sid that I'm late\n"
        'Example plan:\n1. get_phone_number("Sid")\n2. send_sms(["$1"], "I\'m late")\n3. join()<END_OF_PLAN>'
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": request}]


@pytest.mark.model
def test_model_output_under_grammar_is_always_a_valid_plan(planner_llm: llama_cpp.Llama):
    registry = builtin_registry()
    grammar = build_grammar(registry)
    # llama-cpp-python crashes (NULL sampler) on a grammar llama.cpp cannot parse: check first.
    sampler = llama_cpp.llama_sampler_init_grammar(planner_llm._model.vocab, grammar.encode(), b"root")
    assert sampler, "grammar must compile"
    llama_cpp.llama_sampler_free(sampler)

    failures = []
    for request in PLANNER_REQUESTS:
        completion = planner_llm.create_chat_completion(
            _planner_messages(registry, request),
            temperature=0.0,
            max_tokens=200,
            grammar=llama_cpp.LlamaGrammar.from_string(grammar, verbose=False),
        )
        text = completion["choices"][0]["message"]["content"]
        try:
            plan = parse_plan(text)
            for action in plan.tool_actions:
                registry.validate_action(action)
        except PocketAgentError as error:  # collect all outputs so one run shows every failure
            failures.append(f"{request!r} -> {text!r}: {error}")
    assert failures == []


# --- copying from the request ----------------------------------------------------------------

REQUEST = 'email the itinerary to receipts@expensify.com and Dolores, add "call plumber re: water heater" to Home, and remind me Friday at 3'
TUESDAY = datetime(2026, 12, 1, 9, 0)  # Friday = 2026-12-04


@pytest.fixture(scope="module")
def copying_grammar() -> str:
    return grammar_for_request(build_grammar(builtin_registry(), copy_from_request=True), REQUEST, TUESDAY)


@pytest.mark.parametrize(
    "plan",
    [
        '1. get_email_address("Dolores")\n2. join()<END_OF_PLAN>',
        '1. get_email_address("dolores")\n2. join()<END_OF_PLAN>',  # as said, or with the first letter's case changed
        '1. open_and_get_file_path("Itinerary")\n2. join()<END_OF_PLAN>',
        '1. compose_new_email(["receipts@expensify.com"], [], "Trip", "", [])\n2. join()<END_OF_PLAN>',
        '1. append_note_content("Home", "call plumber re: water heater", "")\n2. join()<END_OF_PLAN>',  # quotes and comma left out
        '1. get_email_address("Dolores")\n2. compose_new_email(["$1"], [], "Hi", "", [])\n3. join()<END_OF_PLAN>',
        '1. maps_show_directions("", "Home", "d")\n2. join()<END_OF_PLAN>',  # "" is always allowed
        '1. create_reminder("Call", "2026-12-04 15:00:00", "", "", 0, False)\n2. join()<END_OF_PLAN>',
        '1. create_reminder("Call", "", "", "", 0, False)\n2. join()<END_OF_PLAN>',
        # free text stays free: subjects and folders for new notes are the model's words
        '1. create_note("Home", "call plumber", "Anything at all")\n2. join()<END_OF_PLAN>',
        '1. compose_new_email([], [], "Anything at all", "", [])\n2. join()<END_OF_PLAN>',
        # results travel into messages: one or several whole references
        '1. open_note("Home", "")\n2. open_note("Itinerary", "")\n3. send_sms(["Dolores"], "$1 $2")\n4. join()<END_OF_PLAN>',
    ],
)
def test_verbatim_arguments_accept_spans_of_the_request(engine: GrammarEngine, copying_grammar: str, plan: str):
    assert engine.accepts(copying_grammar, plan)


@pytest.mark.parametrize(
    "plan",
    [
        '1. compose_new_email(["recs@expensify.com"], [], "Trip", "", [])\n2. join()<END_OF_PLAN>',  # garbled copy
        '1. open_and_get_file_path("ItiNerAry")\n2. join()<END_OF_PLAN>',  # case inside a word
        '1. get_email_address("Sid")\n2. join()<END_OF_PLAN>',  # never said
        '1. maps_open_location("Dolores,")\n2. join()<END_OF_PLAN>',  # punctuation at a span's edge
        '1. create_reminder("Pursing", "", "", "", 0, False)\n2. join()<END_OF_PLAN>',  # a title nobody said
        '1. open_note("Home", "")\n2. send_sms(["Dolores"], "see $1")\n3. join()<END_OF_PLAN>',  # words + reference
    ],
)
def test_verbatim_arguments_reject_what_the_request_never_said(engine: GrammarEngine, copying_grammar: str, plan: str):
    assert not engine.accepts(copying_grammar, plan)


def test_dates_fall_only_on_the_days_the_request_names(engine: GrammarEngine, copying_grammar: str):
    plan = '1. create_reminder("Call", "{}", "", "", 0, False)\n2. join()<END_OF_PLAN>'
    assert engine.accepts(copying_grammar, plan.format("2026-12-04 15:00:00"))
    assert not engine.accepts(copying_grammar, plan.format("2026-12-10 15:00:00"))  # "Dec 1" misread
    assert not engine.accepts(copying_grammar, plan.format("2026-12-4, 15:00:00"))  # malformed
    assert not engine.accepts(copying_grammar, plan.format("2026-12-04 25:00:00"))
    # No day the request names: any well-formed date.
    free = grammar_for_request(build_grammar(builtin_registry(), copy_from_request=True), "remind me to call", TUESDAY)
    assert engine.accepts(free, plan.format("2027-03-09 08:30:00"))


def test_without_copying_the_grammar_is_the_plain_one() -> None:
    plain = build_grammar(builtin_registry())
    assert grammar_for_request(plain, REQUEST, TUESDAY) == plain
    assert "request-span" not in plain and "request-day" not in plain


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDÉéíñ0123456789@.-,':!?", min_size=1, max_size=8),
        min_size=1,
        max_size=12,
    ),
    data=st.data(),
)
def test_every_word_span_of_any_request_is_accepted(engine: GrammarEngine, words: list[str], data) -> None:  # type: ignore[no-untyped-def]
    request = " ".join(words)
    start = data.draw(st.integers(0, len(words) - 1))
    end = data.draw(st.integers(start + 1, len(words)))
    # A span leaves out quotes/brackets before it and punctuation after it (grammar._LEADING/_TRAILING_PUNCT).
    span = " ".join(words[start:end]).lstrip("\"'“‘([").rstrip(",.;:!?\"'”’)] ")
    if not span or span != " ".join(words[start:end]).lstrip("\"'“‘([")[: len(span)]:
        return
    grammar = grammar_for_request(build_grammar(builtin_registry(), copy_from_request=True), request, TUESDAY)
    assert engine.accepts(grammar, f"1. get_email_address({json.dumps(span, ensure_ascii=False)})\n2. join()<END_OF_PLAN>")


def test_continuation_forces_one_of_the_given_tools_then_goes_on(engine: GrammarEngine, copying_grammar: str):
    grammar = continuation_grammar(copying_grammar, 3, ["create_calendar_event", "create_reminder"])
    assert grammar is not None and engine.compiles(grammar)
    dated = 'create_reminder("Call plumber", "2026-12-04 15:00:00", "", "", 0, False)\n4. join()<END_OF_PLAN>'
    assert engine.accepts(grammar, dated)
    assert engine.accepts(grammar, dated.replace("4. join()", '4. get_email_address("$1")\n5. join()'))
    assert not engine.accepts(grammar, "join()<END_OF_PLAN>")  # it cannot stop there
    assert not engine.accepts(grammar, 'get_email_address("Dolores")\n4. join()<END_OF_PLAN>')
    assert continuation_grammar(copying_grammar, 3, ["no_such_tool"]) is None
    assert continuation_grammar(copying_grammar, 99, ["create_reminder"]) is None  # beyond max_actions
