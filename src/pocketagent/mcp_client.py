"""The tools of external MCP servers (`mcp_servers` in the config) as plan tools.

Each configured server is started as a subprocess speaking MCP on stdio, and each of its tools
is registered with `tool_from_json_schema` (its `inputSchema` properties become positional
parameters, in order), so the planner's prompt, grammar and validation treat it like any
other tool.

Sessions live on one background thread running an asyncio loop (`McpConnections`): the MCP
client is async and its transport must be entered and left by one task, while tools are
called synchronously from the executor's worker threads. A call hands a coroutine to that
loop and waits for it, at most the server's `timeout_s`.

Names: a tool keeps its own name (made an identifier, "get-weather" -> "get_weather") unless
`prefix` is set for its server or the name is already taken (a built-in tool, a plugin's, an
earlier server's): then it is `<server>_<tool>`. A server can never replace a built-in tool.
A tool whose prefixed name is taken as well is left out, with a warning.

Side effects: a tool counts as read-only only if the server marks it so (`readOnlyHint`), so
`dry_run` does not call the others. A server that cannot be started, or does not answer within
its `startup_timeout_s`, is a `McpServerError` naming it and saying why (with the last line it wrote to
stderr); `add_mcp_tools` logs it as a warning and goes on without that server's tools.

Layering: `agent/build.py` calls `add_mcp_tools`, so this module sits below `agent` and needs only
the tool registry; serving our tools over MCP is `mcp_server.py`, above `agent`.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import json
import logging
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import anyio
import mcp.types as types
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

from pocketagent.errors import McpServerError, ToolError, ToolTimeoutError
from pocketagent.settings import McpServerConfig
from pocketagent.tools.registry import Tool, ToolRegistry
from pocketagent.tools.schema_tools import plan_name, tool_from_json_schema

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 10.0  # how long closing waits for the servers to exit (stdio_client stops them)
CALL_MARGIN_S = 2.0  # the executor's own timeout is this much later, so ours (clearer) comes first


def _root_cause(exc: BaseException) -> BaseException:
    """The first leaf of an exception group (anyio task groups wrap what failed inside)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _last_line(stream: TextIO) -> str:
    """The last non-empty line a server wrote to stderr (why it exited, usually)."""
    try:
        stream.flush()
        stream.seek(0)
        lines = [line.strip() for line in stream.read().splitlines() if line.strip()]
    except (OSError, ValueError):
        return ""
    return lines[-1][:300] if lines else ""


def result_text(result: types.CallToolResult) -> str:
    """A tool result as the plan's text: its text blocks, else its structured content as JSON."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        elif isinstance(block, types.EmbeddedResource) and isinstance(block.resource, types.TextResourceContents):
            parts.append(block.resource.text)
        else:
            parts.append(f"[{block.type}]")  # an image or audio: the plan language carries text
    if not any(parts) and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False)
    return "\n".join(parts)


@dataclass
class _Connection:
    """One server's session, owned by a task on the connections' loop."""

    config: McpServerConfig
    errlog: TextIO  # the server's stderr, a temporary file (read back as UTF-8, bad bytes replaced)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    session: ClientSession | None = None
    owner: concurrent.futures.Future[None] | None = None
    lost: str = ""  # why the session ended while in use (the server exited), for later calls


class McpConnections:
    """Live sessions with external MCP servers, on one background asyncio loop thread.

    `connect` starts servers and lists their tools; `call` is synchronous and may be used from
    any thread; `close` (also at interpreter exit, or leaving a `with` block) stops the servers.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mcp-client", daemon=True)
        self._thread.start()
        self._connections: dict[str, _Connection] = {}
        self._closed = False
        atexit.register(self.close)

    def __enter__(self) -> McpConnections:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def connect(
        self, configs: Iterable[McpServerConfig]
    ) -> tuple[dict[str, list[types.Tool]], dict[str, McpServerError]]:
        """Start the servers (at the same time) and list their tools.

        Returns ({server: tools} of those that answered, {server: error} of those that did not).
        """
        pending: dict[str, tuple[McpServerConfig, concurrent.futures.Future[list[types.Tool]]]] = {}
        for config in configs:
            if self._closed:
                raise RuntimeError("these MCP connections are closed")
            errlog = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115 — closed in _stop()
            connection = _Connection(config, errlog)
            ready: concurrent.futures.Future[list[types.Tool]] = concurrent.futures.Future()
            connection.owner = asyncio.run_coroutine_threadsafe(self._own(connection, ready), self._loop)
            self._connections[config.name] = connection
            pending[config.name] = (config, ready)
        listed: dict[str, list[types.Tool]] = {}
        failed: dict[str, McpServerError] = {}
        for name, (config, ready) in pending.items():
            try:
                # The owner gives up at startup_timeout_s itself; the margin only guards against a stuck loop.
                listed[name] = ready.result(config.startup_timeout_s + CLOSE_TIMEOUT_S)
            except McpServerError as exc:
                failed[name] = exc
            except concurrent.futures.TimeoutError:
                failed[name] = McpServerError(
                    f"MCP server {name!r} did not answer within {config.startup_timeout_s:g} s"
                )
        for name in failed:
            self._stop(self._connections.pop(name))
        return listed, failed

    async def _own(self, connection: _Connection, ready: concurrent.futures.Future[list[types.Tool]]) -> None:
        """Start one server, list its tools, then hold the session open until asked to stop."""
        config = connection.config
        params = StdioServerParameters(
            command=config.command, args=config.args, env=config.env or None,
            cwd=str(config.cwd) if config.cwd is not None else None,
        )  # fmt: skip
        try:
            async with stdio_client(params, errlog=connection.errlog) as (read_stream, write_stream):
                async with ClientSession(read_stream, write_stream) as session:
                    with anyio.fail_after(config.startup_timeout_s):
                        await session.initialize()
                        tools = await _list_all_tools(session)
                    connection.session = session
                    ready.set_result(tools)
                    await connection.stop.wait()
        except BaseException as exc:  # noqa: BLE001 — reported to whoever waits, or logged
            error = self._describe_failure(connection, exc)
            if not ready.done():
                ready.set_exception(error)
            elif not connection.stop.is_set():
                log.warning("%s", error)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            connection.session = None

    @staticmethod
    def _describe_failure(connection: _Connection, exc: BaseException) -> McpServerError:
        config = connection.config
        cause = _root_cause(exc)
        said = _last_line(connection.errlog)
        tail = f" (it said: {said})" if said else ""
        if isinstance(cause, TimeoutError):
            return McpServerError(
                f"MCP server {config.name!r} did not answer within {config.startup_timeout_s:g} s{tail}"
            )
        if isinstance(cause, FileNotFoundError):
            return McpServerError(f"cannot start MCP server {config.name!r}: command not found: {config.command}")
        if isinstance(cause, OSError):
            return McpServerError(f"cannot start MCP server {config.name!r}: {cause.strerror or cause}")
        if isinstance(cause, asyncio.CancelledError):
            return McpServerError(f"MCP server {config.name!r} was stopped")
        reason = str(cause) or type(cause).__name__
        return McpServerError(f"MCP server {config.name!r} stopped before it answered: {reason}{tail}")

    def call(self, server: str, tool: str, arguments: Mapping[str, Any]) -> str:
        """Call a tool of a connected server and wait (at most its `timeout_s`) for the result text.

        Raises `ToolError` with the server's message for a tool error, `ToolTimeoutError` for no
        answer in time, `McpServerError` for a server that is gone.
        """
        connection = self._connections.get(server)
        session = connection.session if connection else None
        if connection is None or session is None:
            why = f" ({connection.lost})" if connection and connection.lost else ""
            raise McpServerError(f"MCP server {server!r} is not running{why}")
        timeout = connection.config.timeout_s
        future = asyncio.run_coroutine_threadsafe(
            session.call_tool(tool, dict(arguments), read_timeout_seconds=timeout), self._loop
        )
        late = ToolTimeoutError(f"{tool} (MCP server {server!r}) did not answer within {timeout:g} s")
        try:
            result = future.result(timeout + 1)  # the session's own timeout answers first
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise late from None
        except MCPError as exc:
            if exc.code == types.REQUEST_TIMEOUT:
                raise late from None
            if exc.code == types.CONNECTION_CLOSED:
                raise self._lose(connection, tool, exc.message) from None
            raise ToolError(f"{tool} (MCP server {server!r}): {exc.message}") from None
        except Exception as exc:  # noqa: BLE001 — the connection broke: one line, not a traceback
            cause = _root_cause(exc)
            if isinstance(cause, TimeoutError):
                raise late from None
            raise self._lose(connection, tool, str(cause) or type(cause).__name__) from None
        text = result_text(result)
        if result.is_error:
            raise ToolError(f"{tool} (MCP server {server!r}): {text or 'failed'}")
        return text

    def _lose(self, connection: _Connection, tool: str, reason: str) -> McpServerError:
        """The session broke off during a call: end it (and the process) and say why."""
        said = _last_line(connection.errlog)
        connection.lost = f"it stopped during {tool}: {reason}" + (f"; it said: {said}" if said else "")
        connection.session = None
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(connection.stop.set)
        return McpServerError(f"MCP server {connection.config.name!r} failed during {tool}: {reason}")

    def _stop(self, connection: _Connection) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(connection.stop.set)
        if connection.owner is not None:
            try:
                connection.owner.result(CLOSE_TIMEOUT_S)
            except concurrent.futures.TimeoutError:
                connection.owner.cancel()
            except BaseException:  # noqa: BLE001 — already reported by _own
                pass
        connection.errlog.close()

    def close(self) -> None:
        """Stop every server and the loop thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        for connection in list(self._connections.values()):
            self._stop(connection)
        self._connections.clear()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CLOSE_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()


async def _list_all_tools(session: ClientSession) -> list[types.Tool]:
    """Every tool of a server, following pagination."""
    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            return tools


def _first_paragraph(text: str | None) -> str:
    # The planner's prompt lists every tool: a server's long manual would crowd out the rest.
    return (text or "").strip().split("\n\n")[0]


def plan_tool(
    connections: McpConnections, config: McpServerConfig, listed: types.Tool, name: str
) -> Tool:
    """The plan tool `name` that calls tool `listed` of server `config`."""
    schema = listed.input_schema or {}
    required = set(schema.get("required") or [])

    def handler(arguments: dict[str, Any]) -> str:
        # An optional parameter the plan left None is left out: servers rarely accept null for it.
        sent = {key: value for key, value in arguments.items() if value is not None or key in required}
        return connections.call(config.name, listed.name, sent)

    read_only = bool(listed.annotations and listed.annotations.read_only_hint)
    return tool_from_json_schema(
        name, _first_paragraph(listed.description), schema, handler,
        side_effect=not read_only, timeout_s=config.timeout_s + CALL_MARGIN_S,
    )  # fmt: skip


def tool_name(registry: ToolRegistry, config: McpServerConfig, listed_name: str) -> str | None:
    """The plan name of a server's tool (see the module docstring); None if no free name is left."""
    own = plan_name(listed_name)
    prefixed = f"{plan_name(config.name)}_{own}"
    for candidate in ([prefixed] if config.prefix else [own, prefixed]):
        if candidate != "join" and candidate not in registry:
            return candidate
    return None


def register_server_tools(
    registry: ToolRegistry, connections: McpConnections, config: McpServerConfig, tools: list[types.Tool]
) -> list[str]:
    """Register one server's listed tools; returns their plan names in order."""
    names: list[str] = []
    for listed in tools:
        name = tool_name(registry, config, listed.name)
        if name is None:
            log.warning("MCP server %r: tool %r left out, its name is taken", config.name, listed.name)
            continue
        if not config.prefix and name != plan_name(listed.name):
            log.warning(
                "MCP server %r: tool %r is named %r (%r is taken); set prefix = true to name all its tools so",
                config.name, listed.name, name, plan_name(listed.name),
            )  # fmt: skip
        try:
            registry.add(plan_tool(connections, config, listed, name))
        except ValueError as exc:  # a schema pocketagent cannot read
            log.warning("MCP server %r: tool %r left out: %s", config.name, listed.name, exc)
            continue
        names.append(name)
    return names


def add_mcp_tools(registry: ToolRegistry, servers: Iterable[McpServerConfig]) -> McpConnections:
    """Start the servers and add their tools to `registry` (after the built-in and plugin tools).

    A server that does not start or answer is left out with a warning (the run goes on with the
    other tools). The returned connections stay open until closed or the interpreter exits.
    """
    configs = list(servers)
    connections = McpConnections()
    listed, failed = connections.connect(configs)
    for config in configs:  # in config order, so which tool gets a prefix is stable
        if config.name in failed:
            log.warning("%s; its tools are left out", failed[config.name])
        else:
            register_server_tools(registry, connections, config, listed[config.name])
    return connections
