"""Output helpers shared by the CLI command groups."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import typer


def json_text(
    payload: dict[str, Any] | list[Any], default: Callable[[Any], Any] | None = None, indent: int | None = 2
) -> str:
    """`payload` as JSON (indented; one line with `indent=None`) that can always be written to a UTF-8 stdout.

    Non-ASCII text stays readable, except when a lone surrogate is in it (a command-line
    argument with an undecodable byte, a tool's result): UTF-8 cannot encode one, so the
    whole object is written with `\\u` escapes instead of raising UnicodeEncodeError.
    """
    text = json.dumps(payload, ensure_ascii=False, indent=indent, default=default)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(payload, ensure_ascii=True, indent=indent, default=default)
    return text


def emit(payload: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    """Print `payload` as indented JSON with --json, else the human-readable `lines`."""
    if as_json:
        typer.echo(json_text(payload))
    else:
        for line in lines:
            typer.echo(line)
