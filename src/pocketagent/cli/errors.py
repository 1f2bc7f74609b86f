"""The one place where the command line turns an error into a message and an exit status.

Every command is decorated with `reports_errors`: our typed errors (errors.py), an `OSError`
and Ctrl-C end in one line on stderr, `error: <message>`, and the exit status of the error's
type, whatever the command. With `--json` the same error is also printed on stdout as one JSON
object (`ok`, `error`, `error_type`, `exit_code`); with `--verbose` the traceback follows the line.

Exit status: 0 done, 1 the work failed (`RUN_ERROR`), 2 bad input: a flag, setting, file or
request that cannot work (`USAGE_ERROR`), 130 interrupted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from pocketagent.errors import ConfigError, ModelNotFoundError, PocketAgentError, ToolRagError, VoiceError

USAGE_ERROR = 2  # bad input: missing/malformed file, wrong option combination, bad settings
RUN_ERROR = 1  # anything else pocketagent reports (backend, model, tools)
INTERRUPTED = 130

# The parameter names `reports_errors` reads: every `--json` / `--verbose` option is called so.
JSON_PARAM = "as_json"
VERBOSE_PARAM = "verbose"

P = ParamSpec("P")
R = TypeVar("R")


def bad_input_errors() -> tuple[type[PocketAgentError], ...]:
    """The error types that mean bad input (exit 2), for every command alike."""
    # Imported here, not at the top: they live with the code that reads those files, which the
    # command line loads only inside the commands that need it (start-up time).
    from pocketagent.data.example import DataFormatError
    from pocketagent.data.splits import GenerationError
    from pocketagent.datagen.ray_runner import RayRunError
    from pocketagent.evaluation.datasets import EvalFileError

    return (
        ConfigError,  # settings, flags, the command line (CommandLineError)
        ModelNotFoundError,  # a model path or alias that does not exist
        VoiceError,  # audio that cannot be transcribed, or no voice extra (docs/voice.md)
        ToolRagError,  # missing or corrupt Tool RAG head, bank or training data
        DataFormatError,  # a dataset file or line that is not an example
        EvalFileError,  # an eval set, predictions file or report that cannot be read
        GenerationError,  # dataset sizes the generator cannot fill
        RayRunError,  # --ray / --ray-address: Ray cannot be started or joined
    )


def exit_code(error: BaseException) -> int:
    """The exit status for `error`: decided by its type alone, never by the command."""
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(error, PocketAgentError) and isinstance(error, bad_input_errors()):
        return USAGE_ERROR
    return RUN_ERROR


def error_message(error: BaseException) -> str:
    """The one-line message for `error` (the OS's reason and the path for an `OSError`)."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, OSError) and not isinstance(error, PocketAgentError):
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror or error}{where}"
    text = str(error)
    if "\n" in text:  # one line, whatever the error's text holds
        text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return text or type(error).__name__


def print_error_line(message: str) -> None:
    """`error: <message>` on stderr: one line (never wrapped), red on a terminal, no markup read."""
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, soft_wrap=True, highlight=False).print(Text.assemble(("error:", "bold red"), " ", message))


def report_error(error: BaseException, as_json: bool = False, verbose: bool = False) -> typer.Exit:
    """Print `error` the one way (see the module doc) and return the exit to raise.

    Call it from an `except` block: `verbose` prints the traceback being handled.
    """
    from pocketagent.cli.output import json_text

    message, code = error_message(error), exit_code(error)
    print_error_line(message)
    if verbose and not isinstance(error, KeyboardInterrupt):
        from rich.console import Console

        Console(stderr=True).print_exception()
    if as_json:
        payload = {"ok": False, "error": message, "error_type": type(error).__name__, "exit_code": code}
        typer.echo(json_text(payload))
    return typer.Exit(code)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command: its errors are reported by `report_error` (and `--json`, `--verbose` honoured).

    Typer calls commands with keyword arguments; the `--json` and `--verbose` options must be
    named `as_json` and `verbose` (tests/cli checks every command).
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (PocketAgentError, OSError, KeyboardInterrupt) as error:
            as_json, verbose = bool(kwargs.get(JSON_PARAM)), bool(kwargs.get(VERBOSE_PARAM))
            raise report_error(error, as_json=as_json, verbose=verbose) from None

    return run
