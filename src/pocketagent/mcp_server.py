"""`pocketagent mcp`: the tools (built-in and plugins) as an MCP server over stdio.

Other agents (Claude Desktop, an IDE, any MCP client) list the tools with their JSON schemas
(`Tool.json_schema()`, the same the planner's tools are described by) and call them by name.
A call runs through the same pieces as a plan action of `pocketagent run`: the registry, the
`ToolContext` with the configured apps provider, and an `Executor` (validation, dry run,
timeouts, the write grace period of side-effect tools). So the side-effect policy is the same:
email and SMS are drafts unless `send` is on, `dry_run` writes nothing.

With `confirm = "side_effects"` nothing on this side can ask the user, so side-effect tools
answer an error saying so instead of running unasked (set `confirm = "never"` for the server).

A tool that fails (a wrong argument, an unknown contact, a bug) answers with an MCP tool error
(`isError`) carrying its message; the server keeps serving. An unknown tool name is a protocol
error, as the MCP specification asks. Nothing but protocol goes to stdout (the `mcp` stdio
transport points fd 1 at stderr while it serves, so a stray print cannot corrupt the stream);
logs go to stderr.

The served tools never include those of `mcp_servers`: proxying them would make pocketagent a
gateway for servers it does not own, and a config that lists `pocketagent mcp` itself would
start copies of itself without end.

Layering: this side builds an agent, so it sits above `agent` (next to `server`); the other
direction, external servers' tools as plan tools, is `mcp_client.py`, below `agent`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from pocketagent import __version__
from pocketagent.agent.agent import AgentConfig
from pocketagent.agent.executor import Confirmation, Executor
from pocketagent.errors import PocketAgentError, ToolArgumentError, UnknownToolError
from pocketagent.settings import Settings
from pocketagent.tools.registry import Tool, ToolContext, ToolRegistry

log = logging.getLogger(__name__)

SERVER_NAME = "pocketagent"
INSTRUCTIONS = (
    "Tools on the user's own contacts, calendar, reminders, notes, mail, files, maps, SMS and video "
    "meetings. Email and SMS tools save drafts (the SMS outbox) unless the user turned sending on."
)


def mcp_tool(tool: Tool) -> types.Tool:
    """The MCP description of a tool: its JSON schema, and whether it only reads."""
    schema = tool.json_schema()
    return types.Tool(
        name=tool.name,
        description=schema["description"],
        input_schema=schema["parameters"],
        annotations=types.ToolAnnotations(read_only_hint=not tool.side_effect),
    )


def positional_arguments(tool: Tool, arguments: Mapping[str, Any]) -> tuple[Any, ...]:
    """MCP arguments (by name) as the tool's positional arguments; every parameter is required."""
    names = [p.name for p in tool.parameters]
    unknown = [key for key in arguments if key not in names]
    if unknown:
        raise ToolArgumentError(f"{tool.name}: unknown argument {unknown[0]!r}; it takes {tool.signature_text()}")
    missing = [name for name in names if name not in arguments]
    if missing:
        shown = ", ".join(repr(name) for name in missing)
        raise ToolArgumentError(f"{tool.name}: missing argument {shown}; it takes {tool.signature_text()}")
    return tuple(arguments[name] for name in names)


def _error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def _ignore(event: object) -> None:
    """Tool calls over MCP have no event stream to feed."""


class ToolServer:
    """Serves one registry's tools over MCP, calling them with the agent's context and policy."""

    def __init__(self, registry: ToolRegistry, context: ToolContext, config: AgentConfig) -> None:
        self.registry = registry
        self.context = context
        self.config = config

    def tools(self) -> list[types.Tool]:
        """Every served tool's MCP description, in the registry's order."""
        return [mcp_tool(tool) for tool in self.registry]

    async def call(self, name: str, arguments: Mapping[str, Any] | None) -> types.CallToolResult:
        """Call a tool by name; its failures become an error result with the message.

        Raises `MCPError` (a protocol error) only for a tool that does not exist.
        """
        try:
            tool = self.registry.get(name)
        except UnknownToolError as exc:
            raise MCPError(code=types.INVALID_PARAMS, message=str(exc)) from None
        # A fresh executor per call: no memo, so two identical calls are two calls, as asked.
        executor = Executor(
            self.registry, self.context, _ignore,
            timeout_s=self.config.tool_timeout_s, dry_run=self.config.dry_run, confirmation=self._confirmation(),
        )  # fmt: skip
        try:
            result = await executor.call(tool, positional_arguments(tool, arguments or {}))
        except PocketAgentError as exc:
            return _error_result(str(exc))
        except Exception as exc:  # noqa: BLE001 — a bug in a tool must not end the server
            log.warning("tool %s raised", name, exc_info=exc)
            return _error_result(f"{name} raised {type(exc).__name__}: {exc}")
        return types.CallToolResult(content=[types.TextContent(type="text", text=str(result))])

    def _confirmation(self) -> Confirmation | None:
        # With confirm = side_effects nothing here can ask the user (the MCP client asks its own
        # user, if anyone), so side effects are refused with the reason, never run unasked.
        if self.config.confirm == "never":
            return None
        return Confirmation(None, self.config.confirm_timeout_s)

    def mcp_server(self) -> Server[Any]:
        """The low-level MCP server whose tools/list and tools/call are this object's."""

        async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
            return types.ListToolsResult(tools=self.tools())

        async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
            return await self.call(params.name, params.arguments)

        return Server(
            SERVER_NAME,
            version=__version__,
            instructions=INSTRUCTIONS,
            on_list_tools=list_tools,
            on_call_tool=call_tool,
        )

    async def serve_stdio(self) -> None:
        """Serve MCP on stdin/stdout until the client closes the connection."""
        server = self.mcp_server()
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())


def build_tool_server(settings: Settings) -> ToolServer:
    """A tool server wired like `pocketagent run --plan` (no model): built-in and plugin tools,
    the configured apps, `send`/`dry_run`/`tool_timeout_s` from settings; no `mcp_servers`."""
    from pocketagent.agent.build import build_agent

    agent = build_agent(settings.model_copy(update={"mcp_servers": []}), with_planner=False)
    return ToolServer(agent.registry, agent.context, agent.config)
