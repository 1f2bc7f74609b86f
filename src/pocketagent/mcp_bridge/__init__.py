"""pocketagent and the Model Context Protocol, both ways.

- `server`: `pocketagent mcp` serves the tools (built-in and plugins) over MCP stdio, so other
  agents can call them with the same settings and side-effect policy as `pocketagent run`.
- `client`: the tools of the external MCP servers listed in `mcp_servers` become plan tools.

(Not named `mcp`: that would shadow the `mcp` library it is built on.)
"""
