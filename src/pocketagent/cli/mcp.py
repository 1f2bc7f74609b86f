"""`pocketagent mcp`: serve the tools to other agents over MCP (stdio); `pocketagent mcp tools`
lists the tools of the external MCP servers in `mcp_servers` (docs/mcp.md).

While serving, stdout carries the protocol only: errors and logs go to stderr.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

from pocketagent.cli.errors import INTERRUPTED, RUN_ERROR, reports_errors
from pocketagent.cli.output import json_text

SendOpt = Annotated[bool, typer.Option("--send", help="Really send email/SMS instead of saving drafts.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Write nothing: write tools say what they would do.")]
AppsOpt = Annotated[Optional[str], typer.Option("--apps", help="App backends for the tools (e.g. recorder).")]


def _serve(send: bool, dry_run: bool, apps: Optional[str]) -> None:
    import anyio

    from pocketagent.mcp_server import build_tool_server
    from pocketagent.settings import load_settings

    settings = load_settings(send=send or None, dry_run=dry_run or None, apps=apps)
    tool_server = build_tool_server(settings)
    if sys.stdin.isatty():  # started by hand: say what it is waiting for (stderr: stdout is the protocol)
        typer.echo(
            f"serving {len(tool_server.registry)} tools over MCP on stdin/stdout (Ctrl-C stops); "
            "add the command `pocketagent mcp` to an MCP client instead of typing here",
            err=True,
        )
    try:
        anyio.run(tool_server.serve_stdio)
    except KeyboardInterrupt:  # Ctrl-C is how a hand-started server stops: no error line
        raise typer.Exit(INTERRUPTED) from None


def _list_external_tools(as_json: bool) -> None:
    from pocketagent.agent.build import build_registry
    from pocketagent.mcp_client import McpConnections, register_server_tools
    from pocketagent.settings import load_settings

    settings = load_settings()
    if not settings.mcp_servers:
        typer.echo("no MCP servers configured (mcp_servers in the config file; see docs/mcp.md)", err=True)
        return
    # Their names are decided against the built-in and plugin tools, as in a run.
    registry = build_registry(settings.model_copy(update={"mcp_servers": []}))
    with McpConnections() as connections:
        listed, failed = connections.connect(settings.mcp_servers)
        servers: list[dict[str, Any]] = []
        for config in settings.mcp_servers:
            entry: dict[str, Any] = {"name": config.name, "command": [config.command, *config.args]}
            if config.name in failed:
                entry["error"] = str(failed[config.name])
            else:
                names = register_server_tools(registry, connections, config, listed[config.name])
                entry["tools"] = [registry.get(name).json_schema() for name in names]
            servers.append(entry)
    if as_json:
        typer.echo(json_text({"servers": servers}))
    else:
        for entry in servers:
            typer.echo(f"{entry['name']}: {' '.join(entry['command'])}")
            if "error" in entry:
                typer.echo(f"error: {entry['error']}", err=True)
                continue
            for schema in entry["tools"]:
                tool = registry.get(schema["name"])
                typer.echo(f"    {tool.signature_text()}")
                typer.echo(f"        {tool.description}")
    if failed:
        raise typer.Exit(RUN_ERROR)


def register(app: typer.Typer) -> None:
    """Attach the `mcp` command group to the main app."""
    group = typer.Typer(
        help="MCP: serve the tools to other agents (stdio), or list the tools of mcp_servers.",
        invoke_without_command=True,
    )

    @group.callback()
    @reports_errors
    def mcp(
        ctx: typer.Context,
        send: SendOpt = False,
        dry_run: DryRunOpt = False,
        apps: AppsOpt = None,
    ) -> None:
        """Serve the tools (built-in and plugins) over MCP on stdin/stdout, for other agents.

        Add it to an MCP client as the command `pocketagent mcp`. Email and SMS are drafts
        unless --send (or send = true in the config).
        """
        if ctx.invoked_subcommand is None:
            _serve(send, dry_run, apps)

    @group.command("tools")
    @reports_errors
    def tools(
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Start the MCP servers of the config (mcp_servers) and list their tools as the planner sees them."""
        _list_external_tools(as_json)

    app.add_typer(group, name="mcp")
