"""Tool registry: one typed function is the source of signature, docs, schema and validation."""

import pytest

from pocketagent.errors import ToolArgumentError, UnknownToolError
from pocketagent.plan import parse_plan
from pocketagent.tools import ToolContext, ToolRegistry, builtin_registry


def book_table(restaurant: str, party_size: int, time: str | None, outdoor: bool, guests: list[str]) -> str:
    """Books a restaurant table.

    A second paragraph that is not part of the description.

    Args:
        restaurant: the restaurant's name.
        party_size: number of people,
            including the user.
        time: "HH:MM" or None for the first free slot.
        outdoor: sit outside.
        guests: names of the guests.

    Returns:
        a confirmation.
    """
    return f"booked {restaurant} for {party_size}"


def test_user_tool_from_typed_function():
    registry = ToolRegistry()
    registry.register(book_table)
    tool = registry.get("book_table")
    assert tool.description == "Books a restaurant table."
    assert [p.name for p in tool.parameters] == ["restaurant", "party_size", "time", "outdoor", "guests"]
    assert tool.parameters[1].description == "number of people, including the user."
    assert tool.signature_text() == (
        "book_table(restaurant: str, party_size: int, time: str | None, outdoor: bool, guests: list[str]) -> str"
    )
    schema = tool.json_schema()
    assert schema["parameters"]["properties"]["time"]["type"] == ["string", "null"]
    assert schema["parameters"]["properties"]["guests"] == {
        "type": "array", "items": {"type": "string"}, "description": "names of the guests."
    }
    assert schema["parameters"]["required"] == ["restaurant", "party_size", "time", "outdoor", "guests"]
    assert not tool.takes_context


def test_context_parameter_is_not_part_of_the_signature():
    tool = builtin_registry().get("send_sms")
    assert tool.takes_context
    assert tool.signature_text() == "send_sms(recipients: list[str], message: str) -> str"


def test_builtin_registry_has_the_16_contract_tools_in_order():
    names = builtin_registry().names()
    assert names == [
        "get_phone_number", "get_email_address", "create_calendar_event", "open_and_get_file_path",
        "summarize_pdf", "compose_new_email", "reply_to_email", "forward_email", "maps_open_location",
        "maps_show_directions", "create_note", "open_note", "append_note_content", "create_reminder",
        "send_sms", "get_zoom_meeting_link",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", 2, None, True), "takes 5 arguments"),
        (("x", "two", None, True, []), "'party_size' must be int"),
        (("x", 2, 5, True, []), "'time' must be str | None"),
        (("x", 2, None, "yes", []), "'outdoor' must be bool"),
        (("x", 2, None, True, "Ana"), "'guests' must be list"),
        (("x", 2, None, True, [1]), "'guests' must be list"),
        (("x", True, None, True, []), "'party_size' must be int"),
    ],
)
def test_validation_errors_are_model_fixable_and_clear(args, message):
    registry = ToolRegistry()
    registry.register(book_table)
    with pytest.raises(ToolArgumentError, match=message):
        registry.get("book_table").validate(args)


def test_references_stand_for_any_type():
    registry = ToolRegistry()
    registry.register(book_table)
    tool = registry.get("book_table")
    references = ["$1", "$2", "${3}", "$4", ["$5"]]
    assert tool.validate(references) is None  # accepted in every position, whatever its type
    # The same positions refuse a literal of the wrong type: the references are what passed.
    wrong_literals = [5, "two", 3, "yes", "Ana"]
    for position, (param, wrong) in enumerate(zip(tool.parameters, wrong_literals, strict=True)):
        args = [*references[:position], wrong, *references[position + 1 :]]
        with pytest.raises(ToolArgumentError, match=f"argument {param.name!r} must be"):
            tool.validate(args)


def test_unknown_tool_suggests_the_closest_name():
    with pytest.raises(UnknownToolError, match="did you mean 'send_sms'"):
        builtin_registry().get("send_sm")


def test_validate_action_on_parsed_plan():
    plan = parse_plan('1. get_email_address("Sid", "extra")\n2. join()<END_OF_PLAN>')
    with pytest.raises(ToolArgumentError, match="takes 1 arguments"):
        builtin_registry().validate_action(plan.actions[0])


def test_subset_keeps_registry_order():
    registry = builtin_registry()
    assert registry.subset(["send_sms", "get_phone_number"]).names() == ["get_phone_number", "send_sms"]


def test_unsupported_annotation_is_rejected_at_registration():
    def bad(x: dict) -> str:
        """Bad."""
        return ""

    with pytest.raises(TypeError, match="unsupported tool parameter type"):
        ToolRegistry().register(bad)


def test_join_is_reserved():
    def join() -> str:
        """No."""
        return ""

    with pytest.raises(ValueError, match="reserved"):
        ToolRegistry().register(join)


def test_context_is_passed_through():
    registry = ToolRegistry()

    @registry.register
    def whoami(ctx: ToolContext) -> str:
        """Returns the request."""
        return ctx.request

    tool = registry.get("whoami")
    assert tool.parameters == () and tool.takes_context
    assert tool.func(ToolContext(request="hi")) == "hi"


def test_verbatim_and_moment_markers_set_the_parameter_flags_and_nothing_else() -> None:
    from typing import Annotated

    from pocketagent.tools.registry import MOMENT, VERBATIM

    registry = ToolRegistry()

    @registry.register
    def book(ctx: ToolContext, place: Annotated[str, VERBATIM], people: Annotated[list[str], VERBATIM], at: Annotated[str, MOMENT], note: str) -> str:
        """Books a table.

        Args:
            place: where, as said.
        """
        return ""

    tool = registry.get("book")
    assert [(p.name, p.verbatim, p.moment) for p in tool.parameters] == [
        ("place", True, False),
        ("people", True, False),
        ("at", False, True),
        ("note", False, False),
    ]
    # The markers change neither the signature, nor validation, nor the schema.
    assert tool.signature_text() == "book(place: str, people: list[str], at: str, note: str) -> str"
    assert tool.parameters[1].type.is_list and tool.parameters[0].description == "where, as said."


def test_builtin_names_places_and_files_are_verbatim_and_dates_are_moments() -> None:
    registry = builtin_registry()
    verbatim = {(t.name, p.name) for t in registry for p in t.parameters if p.verbatim}
    moments = {(t.name, p.name) for t in registry for p in t.parameters if p.moment}
    assert {("get_email_address", "name"), ("open_and_get_file_path", "file_name"), ("send_sms", "recipients")} <= verbatim
    # Titles and messages are the user's words too (the generator's data always copies them);
    # a subject is written by the planner, a new note's folder defaults to "Notes".
    assert {("send_sms", "message"), ("create_calendar_event", "title"), ("create_reminder", "name")} <= verbatim
    assert ("compose_new_email", "subject") not in verbatim and ("create_note", "folder") not in verbatim
    assert moments == {
        ("create_calendar_event", "start_date"),
        ("create_calendar_event", "end_date"),
        ("create_reminder", "due_date"),
        ("get_zoom_meeting_link", "start_time"),
    }
