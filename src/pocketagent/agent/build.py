"""Assemble an agent from settings: tools (built-in + plugins), apps, LLM backend, planner.

The CLI, the server and the evaluation all build their agent here, so a setting means
the same thing everywhere.
"""

from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from pocketagent.agent.agent import Agent, AgentConfig
from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.errors import ConfigError
from pocketagent.llm import create_backend
from pocketagent.llm.base import LLMBackend
from pocketagent.llm.models import effective_prompt_style
from pocketagent.settings import Settings
from pocketagent.toolrag.base import ToolSelector, create_selector
from pocketagent.tools.apps import Apps, build_apps, register_app_provider
from pocketagent.tools.builtin import register_builtin_tools
from pocketagent.tools.registry import ToolContext, ToolRegistry

ENTRY_POINT_GROUP = "pocketagent.tools"


def workspace_apps(settings: Settings, llm: LLMBackend | None = None) -> Apps:
    """The `workspace` apps provider (`backends/provider.py`), imported on first use, so a run
    on the `recorder` apps never loads the backends."""
    from pocketagent.backends.provider import build_workspace_apps

    return build_workspace_apps(settings, llm)


# The provider that ships with pocketagent is registered here, where the agent is assembled:
# the tools layer, which keeps the provider registry, sits below the backends.
register_app_provider("workspace", workspace_apps)


def _load_plugin(spec: str) -> ModuleType:
    """A plugin is a module name or a path to a .py file.

    Whatever a plugin raises while it is imported (a syntax error, a missing setting, a bug)
    is the user's configuration to fix, so it becomes a `ConfigError` naming the plugin, with
    the exception's first line, instead of a traceback through pocketagent.
    """

    def failed(exc: Exception) -> ConfigError:
        lines = str(exc).strip().splitlines()
        # The type names the kind of failure; the message's first line is enough to act on.
        reason = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        return ConfigError(f"cannot load tool plugin {spec!r}: {reason}")

    if spec.endswith(".py"):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ConfigError(f"tool plugin file not found: {path}")
        module_spec = importlib.util.spec_from_file_location(f"pocketagent_plugin_{path.stem}", path)
        if module_spec is None or module_spec.loader is None:
            raise ConfigError(f"cannot load tool plugin {path}")
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise failed(exc) from None
        return module
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise ConfigError(f"cannot import tool plugin {spec!r}: {exc}") from None
    except Exception as exc:
        raise failed(exc) from None


def build_registry(settings: Settings) -> ToolRegistry:
    """The 16 built-in tools, then tools from installed plugins and configured plugin modules,
    then the tools of the external MCP servers in `mcp_servers` (see mcp_client.py).

    A plugin module defines `register_tools(registry)` and registers its typed functions
    (`registry.register(func)`), like simonw/llm's `register_tools` hook.
    """
    registry = register_builtin_tools(ToolRegistry())
    modules = [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]
    modules += [_load_plugin(spec) for spec in settings.plugins]
    for module in modules:
        register = getattr(module, "register_tools", None)
        if register is None:
            raise ConfigError(f"tool plugin {getattr(module, '__name__', module)!r} has no register_tools(registry)")
        register(registry)
    if settings.mcp_servers:  # last: a server's tool never takes a built-in or plugin tool's name
        from pocketagent.mcp_client import add_mcp_tools

        add_mcp_tools(registry, settings.mcp_servers)
    return registry


def build_planner(
    settings: Settings, registry: ToolRegistry | None = None, backend: LLMBackend | None = None
) -> Planner:
    """A planner for the configured tools and LLM backend.

    Tool RAG (unless `tool_rag` is off) serves the full prompt of an untuned model; the compact
    prompt of the fine-tuned planner lists every tool's signature (a fixed, cached prefix) and
    the model picks the tools itself, so nothing is retrieved for it; with `tool_rag_grammar`
    Tool RAG narrows only its grammar to the selected tools.
    """
    prompt_style = effective_prompt_style(settings)
    if prompt_style == "compact":
        # The prompt stays the fixed, cached list of every tool; Tool RAG only narrows the grammar.
        method = "toolrag" if settings.tool_rag and settings.tool_rag_grammar else "all"
        selector = create_selector(method, directory=settings.tool_rag_dir, examples=0)
    else:
        selector = create_selector(
            "toolrag" if settings.tool_rag else "all",
            directory=settings.tool_rag_dir,
            examples=settings.tool_rag_examples,
        )
    return Planner(
        backend or create_backend(settings),
        registry or build_registry(settings),
        planner_config(settings, prompt_style),
        selector=selector,
    )


def planner_config(settings: Settings, prompt_style: str) -> PlannerConfig:
    """The planner's generation settings, with `prompt_style` decided by the caller."""
    return PlannerConfig(
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        seed=settings.seed,
        grammar=settings.grammar,
        examples=settings.examples,
        prompt_style=prompt_style,
        plan_by_parts=settings.plan_by_parts,
        replan_dropped=settings.replan_dropped,
    )


def client_tools_selector(settings: Settings) -> ToolSelector:
    """The selector for tools a client brings: Tool RAG's similarity fallback (no bank examples
    fit foreign tools, so none are loaded), or every tool when `tool_rag` is off."""
    if not settings.tool_rag:
        return create_selector("all")
    return create_selector("toolrag", directory=settings.tool_rag_dir, examples=0)


def build_client_tools_planner(
    settings: Settings, registry: ToolRegistry, backend: LLMBackend, selector: ToolSelector
) -> Planner:
    """A planner over tools a client brought (the OpenAI API's `tools`), not the built-ins.

    Always the full prompt (descriptions and rules), whatever `prompt_style` says: the
    fine-tuned adapter learned the built-ins' meaning, not these tools', so the model needs
    their descriptions; Tool RAG's similarity fallback (`client_tools_selector`) narrows them
    to the request. Tried on five requests over four tools with the shipped adapter: full
    prompt + Tool RAG got 4/5 tool sets right (and the one dependent lookup), compact
    prompt 3-4/5, full prompt with every tool shown 2/5.
    """
    return Planner(
        backend,
        registry,
        planner_config(settings, "full"),
        selector=selector,
    )


def build_agent(settings: Settings, with_planner: bool = True, backend: LLMBackend | None = None) -> Agent:
    """An agent wired from settings. Without a planner it can only `run_plan`."""
    registry = build_registry(settings)
    planner = build_planner(settings, registry, backend) if with_planner else None
    backend = planner.backend if planner else backend
    # The apps get the planner's LLM too: the sub-agents (email writer, note writer, PDF
    # summarizer) use it, and fall back to templates when there is none (`run --plan`).
    context = ToolContext(apps=build_apps(settings.apps, settings, llm=backend), settings=settings, llm=backend)
    config = AgentConfig(
        tool_timeout_s=settings.tool_timeout_s, max_replans=settings.max_replans, dry_run=settings.dry_run,
        confirm=settings.confirm, confirm_timeout_s=settings.confirm_timeout_s,
    )
    return Agent(registry, context, planner=planner, config=config)
