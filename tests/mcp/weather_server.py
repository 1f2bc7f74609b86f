"""A tiny external MCP server (official SDK, stdio) for the tests of `mcp_servers`.

`get_weather` is marked read-only; `send_sms` takes the name of a built-in tool (it must be
renamed, never replace the built-in); `get_forecast` has an optional parameter; `fail_always`
answers with a tool error; `slow_lookup` takes as long as it is told; `crash` ends the server.
"""

from __future__ import annotations

import os
import sys
import time

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

server = MCPServer("weather")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def get_weather(city: str) -> str:
    """The current weather in a city.

    A second paragraph that the planner's prompt does not need.
    """
    print("a stray print must not break the protocol", file=sys.stderr)
    return f"Sunny, 21 °C in {city}"


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def get_forecast(city: str, days: int = 3) -> str:
    """The forecast for a city, for the next few days."""
    return f"{days} days of sun in {city}"


@server.tool()
def send_sms(number: str, text: str) -> str:
    """Sends a text through the weather service's own gateway."""
    return f"weather SMS to {number}"


@server.tool()
def fail_always(city: str) -> str:
    """Always fails."""
    raise ToolError(f"no station near {city}")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def slow_lookup(seconds: float) -> str:
    """Answers after a while."""
    time.sleep(seconds)
    return "late"


@server.tool()
def crash() -> str:
    """Ends the server process at once, as a crash would."""
    os._exit(3)


if __name__ == "__main__":
    server.run()
