"""Helpers of the voice tests: key-word comparison, WAV and Opus files (the planner is tests/fakes.py's).

Imported by name (tests/voice is put on sys.path by its conftest), like tests/server's server_kit.
"""

from __future__ import annotations

import re
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np

ESPEAK_VOICE = ("-v", "en", "-s", "150")  # the voice and speed whose speech tiny.en hears best
TEXT_MOM = "Send a text message to mom saying that I'm running late."
REMIND_MOM = "Remind me to call mom tomorrow at 6."
ONE_PLAN = "one-plan"


def words(text: str) -> list[str]:
    """Lower-case words without punctuation: transcripts are compared word by word."""
    return re.findall(r"[a-z0-9']+", text.lower())


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A mono PCM16 WAV's samples as float32 and its rate."""
    with wave.open(str(path)) as wav:
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, "<i2").astype(np.float32) / 32768, wav.getframerate()


def write_float_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """A WAV of IEEE float32 samples (format 3), shape (frames, channels): what `wave` cannot write."""
    data = np.ascontiguousarray(samples, "<f4").tobytes()
    channels = samples.shape[1]
    header = b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
    header += (3).to_bytes(2, "little") + channels.to_bytes(2, "little") + rate.to_bytes(4, "little")
    header += (rate * channels * 4).to_bytes(4, "little") + (channels * 4).to_bytes(2, "little")
    header += (32).to_bytes(2, "little") + b"data" + len(data).to_bytes(4, "little")
    path.write_bytes(header + data)
    return path


def encode(source: Path, target: Path, container: str, codec: str, rate: int = 48000) -> Path:
    """Re-encode a mono WAV with `codec` in `container` (e.g. "webm" + "libopus", as a browser records)."""
    import av

    samples, source_rate = read_wav(source)
    with av.open(str(target), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        context = stream.codec_context
        resampler = av.AudioResampler(
            format=context.format.name, layout="mono", rate=rate, frame_size=context.frame_size or None
        )
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = source_rate, 0, Fraction(1, source_rate)
        for resampled in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target


def encode_opus(source: Path, target: Path, container: str) -> Path:
    """Opus at 48 kHz in `container` ("ogg" or "webm"): what Chrome and Firefox record."""
    return encode(source, target, container, "libopus")
