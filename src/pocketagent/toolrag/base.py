"""The planner's view of tool selection: `Selection`, the `ToolSelector` protocol, the registry.

Kept free of numpy and the embedder, so building a planner without Tool RAG (or running a
plan file) does not load them; the ``toolrag`` selector is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pocketagent.data.example import Example
from pocketagent.errors import ConfigError
from pocketagent.tools.registry import ToolRegistry


@dataclass(frozen=True)
class Selection:
    """What the planner shows for one request."""

    tools: tuple[str, ...]  # in registry order
    # Worked examples for the prompt, most similar last; None = the planner's fixed examples.
    examples: tuple[Example, ...] | None = None
    scores: dict[str, float] = field(default_factory=dict)  # per-tool score, for --json and debugging
    example_scores: tuple[float, ...] = ()
    method: str = "all"
    select_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (`pocketagent toolrag select --json`)."""
        return {
            "method": self.method,
            "tools": list(self.tools),
            "scores": {name: round(score, 4) for name, score in self.scores.items()},
            "examples": [
                {"id": ex.id, "score": round(score, 4), "query": ex.query, "tools": list(ex.tools)}
                for ex, score in zip(self.examples or (), self.example_scores)
            ],
            "select_ms": round(self.select_s * 1000, 2),
        }


class ToolSelector(Protocol):
    """Chooses the tools and examples for a request."""

    def select(self, query: str, registry: ToolRegistry) -> Selection: ...


class AllToolsSelector:
    """Every tool, the planner's fixed examples: the prompt Tool RAG is compared against."""

    def select(self, query: str, registry: ToolRegistry) -> Selection:
        return Selection(tools=tuple(registry.names()), method="all")


SelectorFactory = Callable[..., "ToolSelector"]
_SELECTORS: dict[str, SelectorFactory] = {}


def register_selector(name: str, factory: SelectorFactory) -> None:
    """Make a selector available by name (`factory(**options)` builds it)."""
    _SELECTORS[name] = factory


def create_selector(name: str, **options: Any) -> ToolSelector:
    """A registered selector by name; ConfigError for an unknown one."""
    try:
        factory = _SELECTORS[name]
    except KeyError:
        raise ConfigError(f"unknown tool selector {name!r}; known: {', '.join(sorted(_SELECTORS))}") from None
    return factory(**options)


def _toolrag(**options: Any) -> ToolSelector:
    from pocketagent.toolrag.selector import toolrag_selector  # numpy + onnxruntime only when used

    return toolrag_selector(**options)


register_selector("all", lambda **_: AllToolsSelector())
register_selector("toolrag", _toolrag)
