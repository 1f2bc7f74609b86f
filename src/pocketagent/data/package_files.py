"""Data files shipped inside the package (generator pools, phrase tables, demo fixtures).

Read with `importlib.resources`, so they load the same from a source checkout, an installed
wheel or a zip. A file that is missing, is not valid TOML or does not match its model means a
broken install: `PackageDataError`, whose message names the file.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from pocketagent.errors import PackageDataError

ModelT = TypeVar("ModelT", bound=BaseModel)


def package_file(package: str, *parts: str) -> Traversable:
    """The shipped file or folder `parts` (path components) inside `package`."""
    found = files(package)
    for part in parts:  # one component per call: older Traversables take a single name
        found = found.joinpath(part)
    return found


def _where(package: str, parts: tuple[str, ...]) -> str:
    return f"{package}:{'/'.join(parts)}"


def read_package_bytes(package: str, *parts: str) -> bytes:
    """The bytes of a shipped file, unchanged (no newline translation: CRLF stays CRLF)."""
    try:
        return package_file(package, *parts).read_bytes()
    except OSError as error:
        raise PackageDataError(f"cannot read packaged file {_where(package, parts)}: {error}") from None


def load_package_toml(model: type[ModelT], package: str, *parts: str) -> ModelT:
    """A shipped TOML file, validated as `model`."""
    raw = read_package_bytes(package, *parts)
    try:
        return model.model_validate(tomllib.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PackageDataError(f"packaged file {_where(package, parts)} is not valid TOML: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in error.errors()[:3]
        )
        raise PackageDataError(f"packaged file {_where(package, parts)} is malformed: {problems}") from None


def package_tree(package: str, *parts: str) -> list[tuple[str, bytes]]:
    """Every file under a shipped folder as (POSIX path relative to it, bytes), sorted by path.

    Hidden entries (".DS_Store", editor swap files) and `__pycache__` are skipped.
    """
    root = package_file(package, *parts)
    if not root.is_dir():
        raise PackageDataError(f"packaged folder {_where(package, parts)} is missing")
    found: list[tuple[str, bytes]] = []

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in sorted(folder.iterdir(), key=lambda item: item.name):
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue
            relative = f"{prefix}{entry.name}"
            if entry.is_dir():
                walk(entry, relative + "/")
            else:
                found.append((relative, entry.read_bytes()))

    try:
        walk(root, "")
    except OSError as error:
        raise PackageDataError(f"cannot read packaged folder {_where(package, parts)}: {error}") from None
    return found
