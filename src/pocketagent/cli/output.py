"""Output helpers shared by the CLI command groups."""

from __future__ import annotations

import json
from typing import Any

import typer


def emit(payload: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    """Print `payload` as indented JSON with --json, else the human-readable `lines`."""
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            typer.echo(line)
