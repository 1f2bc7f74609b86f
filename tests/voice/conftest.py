"""Fixtures for voice tests: real speech from Debian's espeak-ng, the real Whisper model, a planner
backend that answers any request with one plan, and the real server on loopback.

espeak-ng is a test dependency (`.ci/run` installs it): without it these tests fail, not skip.
Recordings in other formats (float WAV, stereo 44.1 kHz, Ogg and WebM with Opus, as browsers
record) are made from espeak-ng's WAV with PyAV, the same library that decodes them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_kit import LiveServer, server_starter  # noqa: E402
from voice_kit import ESPEAK_VOICE, ONE_PLAN  # noqa: E402

from fakes import ScriptedLLM  # noqa: E402
from pocketagent import llm  # noqa: E402
from pocketagent.llm import register_backend  # noqa: E402
from pocketagent.settings import Settings  # noqa: E402
from pocketagent.voice import Transcriber  # noqa: E402


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def say(speech_dir: Path) -> Callable[[str], Path]:
    """`say(text)`: a 22.05 kHz mono PCM16 WAV of espeak-ng speaking `text` (made once per text)."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed (apt-get install espeak-ng; .ci/run does it)")
    made: dict[str, Path] = {}

    def speak(text: str) -> Path:
        if text not in made:
            path = speech_dir / f"utterance-{len(made)}.wav"
            subprocess.run(["espeak-ng", *ESPEAK_VOICE, "-w", str(path), text], check=True, capture_output=True)
            made[text] = path
        return made[text]

    return speak


@pytest.fixture(scope="session")
def transcriber() -> Transcriber:
    """One real transcriber (packaged tiny.en) for the session: the model loads once."""
    return Transcriber(threads=1)


@pytest.fixture
def one_plan(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ScriptedLLM]:
    """`one_plan(plan)` registers `backend = "one-plan"` answering with `plan`, for this test only."""
    monkeypatch.setattr(llm, "_BACKENDS", dict(llm._BACKENDS))

    def install(plan: str) -> ScriptedLLM:
        backend = ScriptedLLM(plan, model=ONE_PLAN)
        register_backend(ONE_PLAN, lambda settings: backend)
        return backend

    return install


@pytest.fixture
def serve(tmp_path: Path, one_plan: Callable[[str], ScriptedLLM]) -> Iterator[Callable[..., LiveServer]]:
    """`serve(**settings)`: the real app on uvicorn (loopback, free port) with the one-plan backend."""
    one_plan("1. join()<END_OF_PLAN>")

    def make_settings(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "backend": ONE_PLAN, "grammar": False, "tool_rag": False, "apps": "recorder", "n_threads": 1,
            "history_path": tmp_path / "history.sqlite",
        }  # fmt: skip
        values.update(overrides)
        return Settings(**values)

    with server_starter(make_settings) as start:
        yield start
