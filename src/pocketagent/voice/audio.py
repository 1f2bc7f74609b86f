"""Audio in, 16 kHz mono samples out: what the speech model reads.

PyAV (FFmpeg's libraries in a wheel; faster-whisper depends on it) decodes the file, so WAV of
any sample rate, channel count and sample format (PCM 8/16/24/32-bit, float), and the browser's
recordings (WebM or Ogg with Opus), MP3, FLAC and M4A all work without an `ffmpeg` program.
Only audio containers are opened (`AUDIO_DEMUXERS`): a playlist or concat file that would make
FFmpeg read other files or URLs is refused. Decoding stops as soon as the audio is longer than
the limit, so a huge upload costs no more than the limit's worth of samples.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from pocketagent.errors import AudioError, VoiceUnavailableError

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000  # Whisper's input rate
INSTALL_HINT = "voice input needs: pip install 'pocketagent[voice]'"
# FFmpeg demuxers an audio upload may use (the names FFmpeg gives them; "matroska" covers WebM).
AUDIO_DEMUXERS = ("wav", "w64", "ogg", "matroska", "webm", "mp3", "flac", "mov", "mp4", "aac", "aiff", "caf")

AudioSource = str | Path | bytes


def decode_audio(source: AudioSource, max_seconds: float) -> np.ndarray:
    """The audio of a file path or of a file's bytes as float32 samples in [-1, 1], 16 kHz mono.

    Raises `AudioError` (one clear line) for a missing or unreadable file, data that is not audio
    of a known format, a file without an audio stream, silence of zero length, or audio longer
    than `max_seconds`; `VoiceUnavailableError` when PyAV is not installed.
    """
    import numpy as np

    try:
        import av  # PyAV comes with faster-whisper (the voice extra)
    except ImportError as exc:
        raise VoiceUnavailableError(f"{INSTALL_HINT} (PyAV does not import: {exc})") from None

    what = "the uploaded audio" if isinstance(source, bytes) else f"audio file {source}"
    if isinstance(source, bytes) and not source:
        raise AudioError("the audio is empty (0 bytes)")
    try:
        container = av.open(
            io.BytesIO(source) if isinstance(source, bytes) else str(source),
            mode="r",
            options={"format_whitelist": ",".join(AUDIO_DEMUXERS)},
            metadata_errors="ignore",
        )
    except FileNotFoundError:
        raise AudioError(f"{what} not found") from None
    except IsADirectoryError:
        raise AudioError(f"{what} is a directory, not an audio file") from None
    except PermissionError:
        raise AudioError(f"{what} cannot be read: permission denied") from None
    except (av.FFmpegError, OSError, ValueError):
        raise AudioError(f"{what} is not audio in a known format (WAV, WebM, Ogg, MP3, FLAC, M4A)") from None
    limit = int(max_seconds * SAMPLE_RATE)
    pieces: list[np.ndarray] = []
    total = 0
    with container:
        if not container.streams.audio:
            raise AudioError(f"{what} has no audio stream")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        try:
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    total += out.samples
                    if total > limit:
                        raise AudioError(
                            f"{what} is longer than {max_seconds:g} s (max_audio_s); say a shorter request"
                        )
                    pieces.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):  # what the resampler still holds
                pieces.append(out.to_ndarray().reshape(-1))
        except (av.FFmpegError, ValueError):
            raise AudioError(f"{what} is damaged: it cannot be decoded") from None
    samples = np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)
    if samples.size == 0:
        raise AudioError(f"{what} holds no samples (0 s of audio)")
    return samples[:limit]
