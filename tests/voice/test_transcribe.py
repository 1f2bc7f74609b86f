"""Speech to text with the packaged Whisper tiny.en: real speech (espeak-ng), the real model.

The transcript must hold the request's key words (compared without case and punctuation), in
every format a user or a browser sends; audio that cannot be transcribed is a clear `AudioError`.
"""

from __future__ import annotations

import hashlib
import io
import sys
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from voice_kit import REMIND_MOM, TEXT_MOM, encode, encode_opus, read_wav, words, write_float_wav
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocketagent.errors import AudioError, VoiceUnavailableError
from pocketagent.voice import INSTALL_HINT, Transcriber
from pocketagent.voice.audio import SAMPLE_RATE, decode_audio
from pocketagent.voice.transcribe import packaged_model_dir

# Systran/faster-whisper-tiny.en at revision 0d3d19a32d3338f10357c0889762bd8d64bbdeba (docs/voice.md).
UPSTREAM_TINY_EN_SHA256 = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}


def assert_heard_text_mom(text: str) -> None:
    heard = words(text)
    assert {"text", "mom", "late"} <= set(heard), text


def test_the_packaged_model_is_upstream_whisper_tiny_en_byte_for_byte() -> None:
    model_dir = packaged_model_dir()
    digests = {
        name: hashlib.sha256((model_dir / name).read_bytes()).hexdigest() for name in UPSTREAM_TINY_EN_SHA256
    }
    assert digests == UPSTREAM_TINY_EN_SHA256


@pytest.mark.parametrize(
    ("request_text", "key_words"),
    [(TEXT_MOM, [{"send"}, {"text"}, {"mom"}, {"running"}, {"late"}]),
     (REMIND_MOM, [{"remind"}, {"call"}, {"mom"}, {"tomorrow"}, {"6", "six"}])],
)  # fmt: skip
def test_the_transcript_holds_the_requests_key_words(
    transcriber: Transcriber, say: Callable[[str], Path], request_text: str, key_words: list[set[str]]
) -> None:
    transcript = transcriber.transcribe(say(request_text))
    heard = set(words(transcript.text))
    assert all(heard & alternatives for alternatives in key_words), transcript.text
    assert transcript.language == "en"
    spoken_s = len(read_wav(say(request_text))[0]) / read_wav(say(request_text))[1]
    assert transcript.duration_s == pytest.approx(spoken_s, abs=0.05)
    assert transcript.seconds > 0 and transcript.real_time_factor == pytest.approx(
        transcript.seconds / transcript.duration_s
    )


def test_the_model_loads_once_and_a_second_transcription_reuses_it(
    transcriber: Transcriber, say: Callable[[str], Path]
) -> None:
    model = transcriber.load()
    assert transcriber.loaded and transcriber.load_s is not None
    assert_heard_text_mom(transcriber.transcribe(say(TEXT_MOM)).text)
    assert transcriber.load() is model


def test_uploaded_bytes_transcribe_like_the_file(transcriber: Transcriber, say: Callable[[str], Path]) -> None:
    path = say(TEXT_MOM)
    assert transcriber.transcribe(path.read_bytes()).text == transcriber.transcribe(path).text


def test_float_stereo_44k_wav_is_resampled_to_16k_mono(
    transcriber: Transcriber, say: Callable[[str], Path], tmp_path: Path
) -> None:
    samples, rate = read_wav(say(TEXT_MOM))
    positions = np.arange(0, len(samples), rate / 44100)  # linear resampling is plenty for speech
    upsampled = np.interp(positions, np.arange(len(samples)), samples)
    stereo = np.stack([upsampled, 0.5 * upsampled], axis=1)
    float_wav = write_float_wav(tmp_path / "float-stereo.wav", stereo, 44100)
    transcript = transcriber.transcribe(float_wav)
    assert_heard_text_mom(transcript.text)
    assert transcript.duration_s == pytest.approx(len(samples) / rate, abs=0.05)


@pytest.mark.parametrize("container", ["ogg", "webm"])
def test_browser_recordings_in_opus_are_transcribed(
    transcriber: Transcriber, say: Callable[[str], Path], tmp_path: Path, container: str
) -> None:
    recording = encode_opus(say(TEXT_MOM), tmp_path / f"request.{container}", container)
    assert_heard_text_mom(transcriber.transcribe(recording.read_bytes()).text)


@pytest.mark.parametrize(
    ("container", "codec", "suffix"), [("mp4", "aac", "m4a"), ("mp3", "libmp3lame", "mp3"), ("flac", "flac", "flac")]
)
def test_m4a_mp3_and_flac_are_transcribed(
    transcriber: Transcriber, say: Callable[[str], Path], tmp_path: Path, container: str, codec: str, suffix: str
) -> None:
    recording = encode(say(TEXT_MOM), tmp_path / f"request.{suffix}", container, codec, rate=44100)
    assert_heard_text_mom(transcriber.transcribe(recording.read_bytes()).text)


def _pcm16_wav(samples: np.ndarray, rate: int, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.repeat(samples, channels).astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (b"", "the audio is empty (0 bytes)"),
        (b"RIFF\x00\x00 not a wave file at all" * 20, "the uploaded audio is not audio in a known format"),
        (b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n", "is not audio in a known format"),
        (_pcm16_wav(np.zeros(0, np.int16), 16000), "holds no samples"),
        (_pcm16_wav(np.zeros(32000, np.int16), 16000), "no speech found in the audio"),
    ],
    ids=["empty", "not-audio", "playlist", "no-samples", "silence"],
)  # fmt: skip
def test_audio_that_cannot_be_transcribed_is_a_clear_error(
    transcriber: Transcriber, audio: bytes, message: str
) -> None:
    with pytest.raises(AudioError) as failure:
        transcriber.transcribe(audio)
    assert message in str(failure.value) and "\n" not in str(failure.value)


def test_a_missing_file_or_a_folder_is_named_in_the_error(transcriber: Transcriber, tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"audio file .*nothing\.wav not found"):
        transcriber.transcribe(tmp_path / "nothing.wav")
    with pytest.raises(AudioError, match="is a directory, not an audio file"):
        transcriber.transcribe(tmp_path)


def test_audio_over_the_limit_is_refused_before_it_is_transcribed(say: Callable[[str], Path]) -> None:
    short = Transcriber(max_audio_s=1.0, threads=1)
    with pytest.raises(AudioError, match=r"longer than 1 s \(max_audio_s\)"):
        short.transcribe(say(TEXT_MOM))
    assert not short.loaded  # refused while decoding: the model was never needed


def test_only_english_is_transcribed(transcriber: Transcriber, say: Callable[[str], Path]) -> None:
    assert_heard_text_mom(transcriber.transcribe(say(TEXT_MOM), language="en").text)
    with pytest.raises(AudioError, match="only understands English, not 'de'"):
        transcriber.transcribe(say(TEXT_MOM), language="de")


def test_without_the_voice_extra_the_error_is_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, say: Callable[[str], Path]
) -> None:
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # how Python marks a module as not importable
    with pytest.raises(VoiceUnavailableError) as failure:
        Transcriber().transcribe(say(TEXT_MOM))
    assert str(failure.value) == INSTALL_HINT == "voice input needs: pip install 'pocketagent[voice]'"


def test_a_voice_model_folder_without_a_model_is_named(tmp_path: Path, say: Callable[[str], Path]) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(VoiceUnavailableError, match=r"not a CTranslate2 Whisper model: no model\.bin, tokenizer\.json"):
        Transcriber(model_dir=tmp_path).transcribe(say(TEXT_MOM))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_decode_to_samples_or_raise_audio_error(data: bytes) -> None:
    try:
        samples = decode_audio(data, max_seconds=5.0)
    except AudioError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert samples.dtype == np.float32 and 0 < samples.size <= 5 * SAMPLE_RATE


@settings(max_examples=25, deadline=None)
@given(
    rate=st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]),
    channels=st.integers(1, 2),
    seconds=st.floats(0.05, 2.0),
)
def test_pcm_wav_of_any_rate_and_channels_keeps_its_length(rate: int, channels: int, seconds: float) -> None:
    frames = max(1, int(rate * seconds))
    tone = (8000 * np.sin(np.arange(frames) * 2 * np.pi * 440 / rate)).astype(np.int16)
    samples = decode_audio(_pcm16_wav(tone, rate, channels), max_seconds=5.0)
    assert samples.size == pytest.approx(frames * SAMPLE_RATE / rate, abs=SAMPLE_RATE * 0.01 + 2)
    # FFmpeg mixes two channels into one at -3 dB each (a sum times 0.707), so equal channels gain 3 dB.
    gain = 2**0.5 if channels == 2 else 1.0
    assert float(np.abs(samples).max()) == pytest.approx(gain * 8000 / 32768, rel=0.05)
