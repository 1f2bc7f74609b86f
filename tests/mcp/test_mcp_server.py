"""`pocketagent mcp` as a real stdio subprocess, driven by the official `mcp` client.

The server runs on a copy of the demo workspace with a plugin tool; no model is used (the
server never plans). Each test checks what an MCP client sees: the tool list and schemas,
answers from the user's data, drafts (not sent mail) in the Maildir, error results.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any, TypeVar

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

from pocketagent.tools.builtin import builtin_registry

NOW = "2026-11-23 10:00:00"
PLUGIN = '''
def book_table(restaurant: str, party_size: int) -> str:
    """Books a table at a restaurant.

    Args:
        restaurant: where.
        party_size: how many people.
    """
    return f"Booked {restaurant} for {party_size}"


def register_tools(registry):
    registry.register(book_table, side_effect=True)
'''
T = TypeVar("T")


@pytest.fixture
def server_env(demo_template: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of a `pocketagent mcp` on a fresh copy of the demo workspace, with a plugin."""
    home = tmp_path / "home"
    shutil.copytree(demo_template, home)
    plugin = tmp_path / "restaurants.py"
    plugin.write_text(PLUGIN)
    return {
        "POCKETAGENT_CONFIG": str(tmp_path / "no-config.toml"),
        "POCKETAGENT_HOME": str(home),
        "POCKETAGENT_NOW": NOW,
        "POCKETAGENT_PLUGINS": json.dumps([str(plugin)]),
        "POCKETAGENT_OPEN_IN_DESKTOP": "false",
        "POCKETAGENT_MAIL_ADDRESS": "alex.kim@example.com",
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(tmp_path / "cache")),
    }


def with_server(env: dict[str, str], body: Callable[[ClientSession], Awaitable[T]], *flags: str) -> T:
    """Start `pocketagent mcp` (the venv's console script), initialize a session, run `body`."""
    command = str(Path(sys.executable).with_name("pocketagent"))

    async def session() -> T:
        params = StdioServerParameters(command=command, args=["mcp", *flags], env=env)
        async with stdio_client(params) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream, read_timeout_seconds=120) as client:
                await client.initialize()
                return await body(client)

    return asyncio.run(session())


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content)


def messages(folder: Path) -> list[Any]:
    files = [p for sub in ("new", "cur") if (folder / sub).is_dir() for p in sorted((folder / sub).iterdir())]
    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in files]


def test_lists_the_16_builtins_and_the_plugin_tool_with_their_schemas(server_env):
    async def body(client: ClientSession) -> Any:
        return (await client.list_tools()).tools

    tools = with_server(server_env, body)
    builtins = builtin_registry()
    assert [t.name for t in tools] == [*builtins.names(), "book_table"]
    for listed in tools[:16]:
        schema = builtins.get(listed.name).json_schema()
        assert listed.input_schema == schema["parameters"] and listed.description == schema["description"]
        assert listed.annotations.read_only_hint is (not builtins.get(listed.name).side_effect)
    plugin = tools[16]
    assert plugin.input_schema["properties"] == {
        "restaurant": {"type": "string", "description": "where."},
        "party_size": {"type": "integer", "description": "how many people."},
    }
    assert plugin.input_schema["required"] == ["restaurant", "party_size"]
    assert plugin.annotations.read_only_hint is False  # registered with side_effect=True


def test_get_email_address_answers_from_the_workspace_contacts(server_env):
    async def body(client: ClientSession) -> Any:
        return await client.call_tool("get_email_address", {"name": "Maëlle"})

    result = with_server(server_env, body)
    assert result.is_error is False
    assert text_of(result) == "maelle.durand@example.net"


def test_compose_new_email_saves_a_draft_and_sends_nothing(server_env):
    mail = Path(server_env["POCKETAGENT_HOME"]) / "mail"
    drafts_before, sent_before = len(messages(mail / ".Drafts")), len(messages(mail / ".Sent"))
    arguments = {
        "recipients": ["maelle.durand@example.net"], "cc": [], "subject": "Lunch on Friday?",
        "context": "lunch on Friday at noon", "attachments": [],
    }  # fmt: skip

    async def body(client: ClientSession) -> Any:
        return await client.call_tool("compose_new_email", arguments)

    result = with_server(server_env, body)
    assert result.is_error is False and text_of(result).startswith("Draft saved to Drafts: 'Lunch on Friday?'")
    drafts = messages(mail / ".Drafts")
    assert len(drafts) == drafts_before + 1 and len(messages(mail / ".Sent")) == sent_before
    (new,) = [m for m in drafts if m["Subject"] == "Lunch on Friday?"]
    assert new["To"] == "maelle.durand@example.net"


def test_dry_run_writes_no_draft(server_env):
    mail = Path(server_env["POCKETAGENT_HOME"]) / "mail"
    drafts_before = len(messages(mail / ".Drafts"))

    async def body(client: ClientSession) -> Any:
        arguments = {"recipients": ["a@example.com"], "cc": [], "subject": "x", "context": "y", "attachments": []}
        return await client.call_tool("compose_new_email", arguments)

    result = with_server(server_env, body, "--dry-run")
    assert text_of(result).startswith("[dry run] would call compose_new_email(")
    assert len(messages(mail / ".Drafts")) == drafts_before


def test_with_confirm_on_side_effects_are_refused_not_run_unasked(server_env):
    mail = Path(server_env["POCKETAGENT_HOME"]) / "mail"
    drafts_before = len(messages(mail / ".Drafts"))
    arguments = {"recipients": ["a@example.com"], "cc": [], "subject": "x", "context": "y", "attachments": []}

    async def body(client: ClientSession) -> Any:
        return await client.call_tool("compose_new_email", arguments), await client.call_tool(
            "get_email_address", {"name": "Maëlle"}
        )

    write, read = with_server({**server_env, "POCKETAGENT_CONFIRM": "side_effects"}, body)
    assert write.is_error
    assert text_of(write).startswith("compose_new_email was not run: it needs the user's confirmation")
    assert len(messages(mail / ".Drafts")) == drafts_before
    assert not read.is_error and text_of(read) == "maelle.durand@example.net"  # reads need no confirmation


def test_bad_calls_are_error_results_with_a_clear_message_and_the_server_keeps_serving(server_env):
    async def body(client: ClientSession) -> Any:
        wrong_type = await client.call_tool("get_email_address", {"name": 42})
        missing = await client.call_tool("book_table", {"restaurant": "Luigi's"})
        unknown_contact = await client.call_tool("get_email_address", {"name": "Nobody Atall"})
        try:
            await client.call_tool("get_emial_address", {"name": "Ana"})
            unknown_tool: str | None = None
        except MCPError as exc:
            unknown_tool = exc.message
        still_fine = await client.call_tool("book_table", {"restaurant": "Luigi's", "party_size": 4})
        return wrong_type, missing, unknown_contact, unknown_tool, still_fine

    wrong_type, missing, unknown_contact, unknown_tool, still_fine = with_server(server_env, body)
    assert wrong_type.is_error and text_of(wrong_type) == "get_email_address: argument 'name' must be str, got 42"
    assert missing.is_error and text_of(missing).startswith("book_table: missing argument 'party_size'")
    assert unknown_contact.is_error and "Nobody Atall" in text_of(unknown_contact)
    assert unknown_tool == "unknown tool 'get_emial_address'; did you mean 'get_email_address'?"
    assert not still_fine.is_error and text_of(still_fine) == "Booked Luigi's for 4"


def test_bad_settings_end_in_one_error_line_and_nothing_on_the_protocol_stream(server_env):
    command = str(Path(sys.executable).with_name("pocketagent"))
    env = {**os.environ, **server_env}
    result = subprocess.run(
        [command, "mcp", "--apps", "nosuch"],
        capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: unknown apps provider 'nosuch'") and len(result.stderr.splitlines()) == 1
