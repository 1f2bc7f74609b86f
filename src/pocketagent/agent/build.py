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
from pocketagent.settings import Settings
from pocketagent.toolrag.base import create_selector
from pocketagent.tools.apps import build_apps
from pocketagent.tools.builtin import register_builtin_tools
from pocketagent.tools.registry import ToolContext, ToolRegistry

ENTRY_POINT_GROUP = "pocketagent.tools"


def _load_plugin(spec: str) -> ModuleType:
    """A plugin is a module name or a path to a .py file."""
    if spec.endswith(".py"):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ConfigError(f"tool plugin file not found: {path}")
        module_spec = importlib.util.spec_from_file_location(f"pocketagent_plugin_{path.stem}", path)
        if module_spec is None or module_spec.loader is None:
            raise ConfigError(f"cannot load tool plugin {path}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise ConfigError(f"cannot import tool plugin {spec!r}: {exc}") from None


def build_registry(settings: Settings) -> ToolRegistry:
    """The 16 built-in tools, then tools from installed plugins and configured plugin modules.

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
    return registry


def build_planner(
    settings: Settings, registry: ToolRegistry | None = None, backend: LLMBackend | None = None
) -> Planner:
    """A planner for the configured tools and LLM backend (with Tool RAG unless `tool_rag` is off)."""
    selector = create_selector(
        "toolrag" if settings.tool_rag else "all",
        directory=settings.tool_rag_dir,
        examples=settings.tool_rag_examples,
    )
    return Planner(
        backend or create_backend(settings),
        registry or build_registry(settings),
        PlannerConfig(
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            seed=settings.seed,
            grammar=settings.grammar,
            examples=settings.examples,
            prompt_style=settings.effective_prompt_style(),
        ),
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
        tool_timeout_s=settings.tool_timeout_s, max_replans=settings.max_replans, dry_run=settings.dry_run
    )
    return Agent(registry, context, planner=planner, config=config)
