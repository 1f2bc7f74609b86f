"""Every error pocketagent raises on purpose.

Errors are typed here and turned into messages only at the edges (CLI, HTTP server).
`ModelFixableError` marks errors a planner can correct by replanning (a bad plan, a
wrong argument); the executor turns them into observations for the joiner.
"""

from __future__ import annotations


class PocketAgentError(Exception):
    """Base class: a clear, user-facing message is the exception's text."""


class ConfigError(PocketAgentError):
    """Invalid settings, config file or flag value."""


class CommandLineError(ConfigError):
    """A command line that cannot work: a missing argument, options that exclude each other, an empty request."""


class ModelFixableError(PocketAgentError):
    """An error in what the model produced; replanning may fix it."""


class PlanParseError(ModelFixableError):
    """Plan text that does not follow the plan language."""

    def __init__(self, message: str, line_no: int | None = None, line: str | None = None):
        self.line_no = line_no
        self.line = line
        where = f"line {line_no}: " if line_no is not None else ""
        shown = f" (got: {line.strip()[:120]!r})" if line is not None else ""
        super().__init__(f"{where}{message}{shown}")


class UnknownToolError(ModelFixableError):
    """The plan calls a tool that is not registered."""

    def __init__(self, name: str, known: list[str] | None = None):
        self.name = name
        hint = ""
        if known:
            from rapidfuzz import process
            from rapidfuzz.distance import Indel

            close = process.extractOne(name, known, scorer=Indel.normalized_similarity, score_cutoff=0.6)
            if close is not None:
                hint = f"; did you mean {close[0]!r}?"
        super().__init__(f"unknown tool {name!r}{hint}")


class ToolArgumentError(ModelFixableError):
    """Wrong arity or argument type for a tool call."""


class ToolError(PocketAgentError):
    """A tool ran and failed with a message meant for the user (unknown contact, missing file)."""


class UserFileError(ToolError):
    """A user's file that a tool would have to rewrite but cannot understand completely (not
    UTF-8, an unclosed iCalendar component). It is left byte for byte as it was."""


class ToolTimeoutError(ToolError):
    """A tool did not finish within its time limit."""


class AppNotConfiguredError(ToolError):
    """A tool needs an app (contacts, mail, ...) that the apps provider did not supply."""


class BackendError(PocketAgentError):
    """The LLM backend could not be loaded or reached."""


class ModelNotFoundError(BackendError):
    """A model file or packaged model that does not exist."""


class DataFormatError(PocketAgentError):
    """A dataset file or record that is not an example; the message starts with ``file:line:`` when read from a file."""


class PackageDataError(PocketAgentError):
    """A data file shipped inside the package (pools, demo fixtures) is missing or malformed: a broken install."""


class BfclError(PocketAgentError):
    """bfcl-eval could not be installed, started or read, or a BFCL category name is unknown."""


class ToolRagError(PocketAgentError):
    """Tool RAG cannot run: missing or corrupt trained head, example bank or training data."""


class EmbedderError(ToolRagError):
    """The sentence-embedding model or its tokenizer is missing or cannot be loaded."""


class HistoryError(PocketAgentError):
    """The run history database cannot be opened, read or written (damaged, locked, newer schema)."""


class McpServerError(PocketAgentError):
    """An external MCP server (`mcp_servers`) could not be started, did not answer in time, or broke off."""


class VoiceError(PocketAgentError):
    """Voice input (`run --audio`, `POST /v1/audio/transcriptions`) cannot go on."""


class VoiceUnavailableError(VoiceError):
    """The voice extra (faster-whisper, the packaged Whisper model) is not installed, or the model is broken."""


class AudioError(VoiceError):
    """Audio that cannot be transcribed: missing, unreadable, not audio, empty, too long, no speech."""


class ServerError(PocketAgentError):
    """A request `pocketagent serve` refuses; `status` is the HTTP status it answers with."""

    status: int = 400


class TooManyRunsError(ServerError):
    """`max_concurrent_runs` runs are already in progress."""

    status = 429


class UnknownConfirmationError(ServerError):
    """A confirmation answer for a request that is not pending (answered, timed out, run ended)."""

    status = 404


class UnknownRunError(ServerError):
    """A run id the run history does not have (`GET /v1/runs/{id}`)."""

    status = 404


class UnknownDraftError(ServerError):
    """A draft id that is not in the workspace's Drafts or SMS outbox (`GET /v1/drafts/{id}`)."""

    status = 404


class ChatRequestError(ServerError):
    """A chat-completions request the server cannot act on (bad tools, tool results matching no call)."""

    status = 400
