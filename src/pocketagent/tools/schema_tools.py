"""Tools described by a JSON schema instead of a Python function.

Other programs describe their tools as JSON schemas: the `tools` of an OpenAI chat-completions
request, the `inputSchema` of an MCP server's tools. `tool_from_json_schema` turns one into a
`Tool` (positional parameters in the schema's property order, plan-language types), so the
planner's prompt, grammar and validation treat it like any other tool; the call goes to
`handler(arguments_by_name)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from pocketagent.errors import ToolArgumentError
from pocketagent.tools.registry import Parameter, ParamType, Tool

# A tool name the plan language can call: an identifier (MCP and OpenAI allow "-" and ".").
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KINDS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "none"}
_ORDER = ("str", "int", "float", "bool", "none")

Handler = Callable[[dict[str, Any]], Any]


def plan_name(name: str) -> str:
    """`name` as a plan-language identifier ("get-weather" -> "get_weather")."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name.strip())
    if not cleaned or cleaned[0].isdigit():
        cleaned = f"t_{cleaned}"
    return cleaned


def _scalar_kinds(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    names = declared if isinstance(declared, list) else [declared] if isinstance(declared, str) else []
    kinds = {_KINDS[n] for n in names if n in _KINDS}
    for option in schema.get("anyOf", []) or schema.get("oneOf", []) or []:
        if isinstance(option, Mapping):
            kinds |= _scalar_kinds(option)
    if "enum" in schema and not kinds:
        kinds = {"str"}
    return kinds


def schema_param_type(schema: Mapping[str, Any]) -> ParamType:
    """The plan-language type of one JSON-schema property.

    Objects and anything the plan language cannot write become a string (the JSON text).
    """
    if schema.get("type") == "array" or (isinstance(schema.get("type"), list) and "array" in schema["type"]):
        items = schema.get("items")
        kinds = (_scalar_kinds(items) if isinstance(items, Mapping) else set()) or {"str"}
        return ParamType(tuple(k for k in _ORDER if k in kinds), is_list=True)
    kinds = _scalar_kinds(schema) or {"str"}
    return ParamType(tuple(k for k in _ORDER if k in kinds))


def tool_from_json_schema(
    name: str,
    description: str,
    parameters: Mapping[str, Any] | None,
    handler: Handler,
    side_effect: bool = False,
    timeout_s: float | None = None,
) -> Tool:
    """A `Tool` whose positional parameters are the schema's properties, in order.

    `handler` receives the arguments by name; a string argument for an `object` property is
    decoded from JSON first. Raises `ValueError` for a name that cannot become an identifier.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"tool name {name!r} is not an identifier; pass plan_name(name)")
    schema = parameters or {}
    properties = schema.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise ValueError(f"tool {name}: 'properties' must be an object")
    params = tuple(
        Parameter(key, schema_param_type(spec if isinstance(spec, Mapping) else {}), _describe(spec))
        for key, spec in properties.items()
    )
    objects = {key for key, spec in properties.items() if isinstance(spec, Mapping) and spec.get("type") == "object"}

    def call(*args: Any) -> Any:
        arguments: dict[str, Any] = {}
        for param, value in zip(params, args):
            if param.name in objects and isinstance(value, str):
                try:
                    value = json.loads(value) if value.strip() else {}
                except json.JSONDecodeError:
                    raise ToolArgumentError(f"{name}: argument {param.name!r} must be a JSON object") from None
            arguments[param.name] = value
        return handler(arguments)

    call.__name__ = name
    return Tool(
        name=name,
        func=call,
        parameters=params,
        description=" ".join((description or "").split()),
        takes_context=False,
        timeout_s=timeout_s,
        side_effect=side_effect,
    )


def _describe(spec: Any) -> str:
    if not isinstance(spec, Mapping):
        return ""
    text = str(spec.get("description") or spec.get("title") or "")
    return " ".join(text.split())
