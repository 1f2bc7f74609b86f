"""`POST /v1/audio/transcriptions` on a real server (uvicorn on loopback), with the official
`openai` client and plain multipart uploads; real speech, the real Whisper model."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest
from server_kit import LiveServer
from voice_kit import TEXT_MOM, encode_opus, words

pytestmark = pytest.mark.server  # each test starts uvicorn on loopback
ENDPOINT = "/v1/audio/transcriptions"


def client_for(server: LiveServer, token: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=token, max_retries=0)


def assert_heard_text_mom(text: str) -> None:
    assert {"text", "mom", "late"} <= set(words(text)), text


def test_the_openai_client_transcribes_a_wav(serve: Callable[..., LiveServer], say: Callable[[str], Path]) -> None:
    server = serve()
    with say(TEXT_MOM).open("rb") as audio:
        transcription = client_for(server).audio.transcriptions.create(file=audio, model="whisper-1")
    assert_heard_text_mom(transcription.text)


def test_text_format_and_a_browser_recording(
    serve: Callable[..., LiveServer], say: Callable[[str], Path], tmp_path: Path
) -> None:
    server = serve()
    recording = encode_opus(say(TEXT_MOM), tmp_path / "mic.webm", "webm")
    with recording.open("rb") as audio:
        text = client_for(server).audio.transcriptions.create(
            file=("mic.webm", audio, "audio/webm"), model="whisper-1", response_format="text", language="en"
        )
    assert isinstance(text, str)
    assert_heard_text_mom(text)


def test_the_transcriber_loads_once_per_server(serve: Callable[..., LiveServer], say: Callable[[str], Path]) -> None:
    server = serve()
    transcriber = server.runtime.transcriber
    assert not transcriber.loaded  # nothing loads until someone speaks
    texts = []
    for _ in range(2):
        response = httpx.post(f"{server.url}{ENDPOINT}", files={"file": say(TEXT_MOM).read_bytes()},
                              data={"model": "whisper-1"}, timeout=120)  # fmt: skip
        assert response.status_code == 200, response.text
        texts.append(response.json()["text"])
        model = transcriber.load()
    assert texts[0] == texts[1] and transcriber.load() is model
    assert response.json()["language"] == "en" and response.json()["duration"] > 1


def test_audio_that_cannot_be_transcribed_is_a_400_with_the_reason(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    with pytest.raises(openai.BadRequestError) as failure:
        client_for(server).audio.transcriptions.create(file=("notes.wav", b"not audio" * 50), model="whisper-1")
    assert failure.value.status_code == 400
    assert failure.value.message.endswith(
        "the uploaded audio is not audio in a known format (WAV, WebM, Ogg, MP3, FLAC, M4A)"
    )


@pytest.mark.parametrize(
    ("files", "data", "message"),
    [(None, {"model": "whisper-1"}, "send the recording as a multipart/form-data upload in the field 'file'"),
     ({"file": b"x"}, {"model": "whisper-1", "response_format": "srt"}, "response_format 'srt' is not supported"),
     ({"file": b"x"}, {"model": "whisper-1", "language": "fr"}, "only understands English, not 'fr'"),
     ({"file": b""}, {"model": "whisper-1"}, "the audio is empty (0 bytes)")],
    ids=["no-file", "format", "language", "empty"],
)  # fmt: skip
def test_bad_requests_are_400_with_a_json_error(
    serve: Callable[..., LiveServer], files: dict[str, bytes] | None, data: dict[str, str], message: str
) -> None:
    server = serve()
    response = httpx.post(f"{server.url}{ENDPOINT}", files=files, data=data, timeout=60)
    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error["message"] and error["code"] == 400


def test_an_upload_over_the_request_limit_is_413(serve: Callable[..., LiveServer], say: Callable[[str], Path]) -> None:
    server = serve(max_request_bytes=4096)
    response = httpx.post(f"{server.url}{ENDPOINT}", files={"file": say(TEXT_MOM).read_bytes()},
                          data={"model": "whisper-1"}, timeout=60)  # fmt: skip
    assert response.status_code == 413
    assert "the limit is 4096 bytes (max_request_bytes)" in response.json()["error"]["message"]
    assert not server.runtime.transcriber.loaded


def test_the_endpoint_needs_the_token_when_one_is_set(
    serve: Callable[..., LiveServer], say: Callable[[str], Path]
) -> None:
    server = serve(api_token="s3cret")
    with say(TEXT_MOM).open("rb") as audio, pytest.raises(openai.AuthenticationError):
        client_for(server, token="wrong").audio.transcriptions.create(file=audio, model="whisper-1")
    with say(TEXT_MOM).open("rb") as audio:
        transcription = client_for(server, "s3cret").audio.transcriptions.create(file=audio, model="whisper-1")
    assert_heard_text_mom(transcription.text)


def test_without_the_voice_extra_the_endpoint_is_501_with_the_install_hint(
    serve: Callable[..., LiveServer], say: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve()
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    response = httpx.post(f"{server.url}{ENDPOINT}", files={"file": say(TEXT_MOM).read_bytes()},
                          data={"model": "whisper-1"}, timeout=60)  # fmt: skip
    assert response.status_code == 501
    assert response.json()["error"]["message"] == "voice input needs: pip install 'pocketagent[voice]'"
