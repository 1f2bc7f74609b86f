"""The bottom layer's machine locations (platformdirs): today's Linux XDG layout, env honoured."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pocketagent import paths
from pocketagent.settings import Settings

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the XDG layout is the Linux convention")


def test_defaults_are_the_xdg_locations_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "POCKETAGENT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    assert paths.cache_dir() == tmp_path / ".cache" / "pocketagent"
    assert paths.config_dir() == tmp_path / ".config" / "pocketagent"
    assert paths.data_dir() == tmp_path / ".local" / "share" / "pocketagent"
    assert paths.default_config_path() == tmp_path / ".config" / "pocketagent" / "config.toml"


def test_xdg_variables_move_every_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "d"))
    for var in [name for name in os.environ if name.startswith("POCKETAGENT_")]:  # the test session's home etc.
        monkeypatch.delenv(var)
    assert paths.cache_dir() == tmp_path / "c" / "pocketagent"
    assert paths.default_config_path() == tmp_path / "cfg" / "pocketagent" / "config.toml"
    assert paths.data_dir() == tmp_path / "d" / "pocketagent"
    # The users of these paths follow: the settings' defaults, tool-RAG and BFCL caches.
    from pocketagent.evaluation.bfcl_checker import default_venv_dir
    from pocketagent.toolrag.embedder import default_cache_dir

    settings = Settings()
    assert settings.home == tmp_path / "d" / "pocketagent"
    assert settings.prompt_cache_dir == tmp_path / "c" / "pocketagent" / "kv"
    assert default_cache_dir() == tmp_path / "c" / "pocketagent" / "toolrag"
    assert default_venv_dir() == tmp_path / "c" / "pocketagent" / "bfcl-venv"


def test_pocketagent_config_names_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("POCKETAGENT_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert paths.default_config_path() == tmp_path / "elsewhere.toml"
