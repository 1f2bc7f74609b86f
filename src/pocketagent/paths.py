"""Where pocketagent keeps its files on this machine: cache, config and data directories.

platformdirs gives each platform's convention. On Linux that is the XDG layout, with the
`XDG_CACHE_HOME` / `XDG_CONFIG_HOME` / `XDG_DATA_HOME` variables honoured:
`~/.cache/pocketagent`, `~/.config/pocketagent`, `~/.local/share/pocketagent`.
The functions read the environment on every call, so a changed variable takes effect at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "pocketagent"


def cache_dir() -> Path:
    """Caches that can be rebuilt at any time (`~/.cache/pocketagent` on Linux)."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    """The user's configuration (`~/.config/pocketagent` on Linux)."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def data_dir() -> Path:
    """The user's data: the default workspace home (`~/.local/share/pocketagent` on Linux)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def default_config_path() -> Path:
    """The config file read unless `POCKETAGENT_CONFIG` names another (`config_dir()/config.toml`)."""
    explicit = os.environ.get("POCKETAGENT_CONFIG")
    return Path(explicit) if explicit else config_dir() / "config.toml"
