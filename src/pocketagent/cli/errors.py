"""One way for CLI command groups to turn typed errors into a one-line message and an exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from pocketagent.errors import ConfigError, ModelNotFoundError, PocketAgentError

USAGE_ERROR = 2  # bad input: missing/malformed file, wrong option combination, bad settings
RUN_ERROR = 1  # anything else pocketagent reports (backend, model, tools)
INTERRUPTED = 130


@contextmanager
def clear_errors(*usage_errors: type[PocketAgentError]) -> Iterator[None]:
    """Typed errors become one line on stderr and an exit code; never a traceback.

    `usage_errors` are the command group's own bad-input errors (exit 2, like bad settings).
    """
    try:
        yield
    except (*usage_errors, ConfigError, ModelNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(USAGE_ERROR) from None
    except PocketAgentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(RUN_ERROR) from None
    except OSError as exc:
        # A file we were told to read or write: the OS's reason and the path, not a traceback.
        where = f" ({exc.filename})" if exc.filename else ""
        typer.echo(f"error: {exc.strerror or exc}{where}", err=True)
        raise typer.Exit(RUN_ERROR) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        raise typer.Exit(INTERRUPTED) from None
