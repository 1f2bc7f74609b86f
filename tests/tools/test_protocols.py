"""The tool ↔ app contract: every built-in tool is its app protocol's method, and every backend
class implements its protocols with the same parameters (names, order, types).

The type checker (mypy --strict in CI) checks the backends' types against the protocols; it
ignores parameter names, which these tests pin, as they do the tool layer, which mypy cannot
relate to the protocols at all.
"""

from __future__ import annotations

import importlib
import inspect
import typing

import pytest

from pocketagent.errors import AppNotConfiguredError
from pocketagent.tools import ToolContext, builtin_registry, recording_apps
from pocketagent.tools.apps import APP_NAMES, Apps, LazyApp
from pocketagent.tools.protocols import APP_PROTOCOLS

REGISTRY = builtin_registry()

# Every module that holds a backend class; importing them makes their classes subclasses we can find.
BACKEND_MODULES = (
    "pocketagent.backends.local.calendar",
    "pocketagent.backends.local.contacts",
    "pocketagent.backends.local.files",
    "pocketagent.backends.local.mail",
    "pocketagent.backends.local.notes",
    "pocketagent.backends.local.sms",
    "pocketagent.backends.caldav_apps",
    "pocketagent.backends.macos",
    "pocketagent.backends.maps",
    "pocketagent.backends.meetings",
    "pocketagent.backends.provider",
    "pocketagent.subagents.pdf_summarizer",
    "pocketagent.tools.apps",
)


def protocol_methods(protocol: type) -> list[str]:
    return [name for name, value in vars(protocol).items() if inspect.isfunction(value) and not name.startswith("_")]


def parameters(func: typing.Callable[..., object], skip_first: bool) -> list[tuple[str, object]]:
    """(name, type without `Annotated` markers) of each parameter, in order."""
    hints = typing.get_type_hints(func)
    params = list(inspect.signature(func).parameters.values())[1 if skip_first else 0 :]
    return [(p.name, hints[p.name]) for p in params]


def app_of(tool_name: str) -> str:
    owners = [app for app, protocol in APP_PROTOCOLS.items() if tool_name in protocol_methods(protocol)]
    assert len(owners) == 1, f"{tool_name} is a method of {owners}, not of exactly one app protocol"
    return owners[0]


def test_every_app_has_a_protocol_and_every_protocol_method_is_a_builtin_tool():
    assert list(APP_PROTOCOLS) == list(APP_NAMES)
    methods = [name for protocol in APP_PROTOCOLS.values() for name in protocol_methods(protocol)]
    assert sorted(methods) == sorted(REGISTRY.names())
    assert len(methods) == len(set(methods)) == 16


@pytest.mark.parametrize("tool", list(REGISTRY), ids=lambda tool: tool.name)
def test_a_builtin_tool_has_its_protocol_methods_parameters(tool):
    protocol = APP_PROTOCOLS[app_of(tool.name)]
    expected = parameters(getattr(protocol, tool.name), skip_first=True)  # self
    assert parameters(tool.func, skip_first=True) == expected  # ctx
    assert [p.name for p in tool.parameters] == [name for name, _ in expected]


SAMPLE = {str: "x", int: 1, bool: True, list[str]: ["a@example.com"], str | None: None}


@pytest.mark.parametrize("tool", list(REGISTRY), ids=lambda tool: tool.name)
def test_a_builtin_tool_calls_its_app_with_its_arguments_in_order(tool):
    apps = recording_apps()
    args = tuple(SAMPLE[annotation] for _, annotation in parameters(tool.func, skip_first=True))
    result = tool.func(ToolContext(apps=apps), *args)
    assert isinstance(result, str) and result
    ((call),) = apps.calls
    assert (call.app, call.method, call.args) == (app_of(tool.name), tool.name, args)


def backend_classes() -> list[tuple[type, type]]:
    """(backend class, app protocol) for every concrete class subclassing an app protocol."""
    for module in BACKEND_MODULES:
        importlib.import_module(module)
    found: list[tuple[type, type]] = []
    for protocol in APP_PROTOCOLS.values():
        stack = list(protocol.__subclasses__())
        while stack:
            cls = stack.pop()
            stack.extend(cls.__subclasses__())
            if cls.__module__.startswith("pocketagent.") and not getattr(cls, "_is_protocol", False):
                found.append((cls, protocol))
    return sorted(set(found), key=lambda pair: (pair[0].__qualname__, pair[1].__name__))


def test_every_backend_of_the_provider_subclasses_its_protocol():
    classes = {cls.__name__ for cls, _ in backend_classes()}
    assert {
        "LocalContacts", "CardDAVContacts", "MacContacts", "LocalCalendar", "CalDAVCalendar", "MacCalendar",
        "LocalReminders", "CalDAVReminders", "MacReminders", "LocalFiles", "SpotlightFiles", "PdfSummarizer",
        "MaildirMail", "MacMail", "MapLinks", "LocalNotes", "MacNotes", "NotesWithWriter", "SmsOutbox",
        "JitsiMeetings", "ZoomMeetings", "RecordingApp",
    } <= classes  # fmt: skip


@pytest.mark.parametrize(
    ("cls", "protocol"), backend_classes(), ids=lambda c: c.__name__ if isinstance(c, type) else str(c)
)
def test_a_backend_implements_its_protocol_with_the_same_parameters(cls, protocol):
    for method in protocol_methods(protocol):
        implementation = getattr(cls, method)
        assert implementation is not getattr(protocol, method), f"{cls.__name__} does not implement {method}"
        expected = parameters(getattr(protocol, method), skip_first=True)
        assert parameters(implementation, skip_first=True) == expected, f"{cls.__name__}.{method}"


def test_an_app_that_was_not_given_is_a_clear_tool_error():
    ctx = ToolContext(apps=Apps())
    with pytest.raises(AppNotConfiguredError, match="no contacts app is configured"):
        REGISTRY.get("get_phone_number").func(ctx, "Ana")


def test_a_lazy_app_is_built_on_first_read_once_and_a_failed_build_is_retried():
    attempts: list[int] = []

    def build():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("not yet")
        return recording_apps().contacts

    apps = Apps(contacts=LazyApp("contacts", "test", build))
    assert apps.has("contacts") and not apps.is_built("contacts") and not apps.has("mail")
    with pytest.raises(RuntimeError, match="not yet"):
        _ = apps.contacts
    assert apps.contacts is apps.contacts and len(attempts) == 2
    assert apps.is_built("contacts")
    assert "contacts app: test backend, built" in repr(apps)
