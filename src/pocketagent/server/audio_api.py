"""`POST /v1/audio/transcriptions`: speech to text, OpenAI-compatible, offline.

The body is the OpenAI API's multipart form: `file` (the recording: WAV, WebM, Ogg, MP3, FLAC,
M4A), `model` (any name: there is one model, Whisper tiny.en), optional `language` (English only)
and `response_format` (`json`, the default: `{"text": ...}`; or `text`: the bare transcript).
The web UI's microphone button and the official `openai` client
(`client.audio.transcriptions.create(file=..., model="whisper-1")`) both speak it.

The upload is bounded by `max_request_bytes` (413, before it is read) and the audio by
`max_audio_s`. Audio that cannot be transcribed is 400 with the reason; without the voice extra
every request is 501 with the install hint. The transcriber is the server's (`ServerRuntime`):
its model loads on the first request and stays; transcription runs in a worker thread, so other
requests and runs go on meanwhile.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from pocketagent.errors import AudioError, VoiceUnavailableError
from pocketagent.server.runtime import ServerRuntime

router = APIRouter()

RESPONSE_FORMATS = ("json", "text")
_FORM_FIELDS = 8  # file, model, language, response_format, prompt, temperature, ... and no more


@router.post("/v1/audio/transcriptions", response_model=None)
async def create_transcription(request: Request) -> Response:
    """Transcribe the uploaded `file`; `{"text": ...}` (or plain text with `response_format=text`)."""
    runtime: ServerRuntime = request.app.state.runtime
    transcriber = runtime.transcriber
    try:
        transcriber.check_available()
    except VoiceUnavailableError as exc:
        raise HTTPException(501, str(exc)) from None
    try:
        form = await request.form(max_files=1, max_fields=_FORM_FIELDS)
    except AssertionError:  # starlette's way of saying python-multipart is missing
        raise HTTPException(501, "reading uploads needs: pip install python-multipart") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(
                400, "send the recording as a multipart/form-data upload in the field 'file' (with 'model')"
            )
        response_format = _text_field(form.get("response_format")) or "json"
        if response_format not in RESPONSE_FORMATS:
            raise HTTPException(
                400, f"response_format {response_format!r} is not supported; use one of: {', '.join(RESPONSE_FORMATS)}"
            )
        language = _text_field(form.get("language"))
        audio = await upload.read()
    finally:
        await form.close()  # the upload's temporary file
    try:
        transcript = await run_in_threadpool(transcriber.transcribe, audio, language)
    except AudioError as exc:
        raise HTTPException(400, str(exc)) from None
    except VoiceUnavailableError as exc:
        raise HTTPException(501, str(exc)) from None
    if response_format == "text":
        return PlainTextResponse(transcript.text + "\n")
    return JSONResponse({"text": transcript.text, "language": transcript.language, "duration": transcript.duration_s})


def _text_field(value: UploadFile | str | None) -> str | None:
    """A form field's text (stripped; None when absent or blank); a file where text belongs is a 400."""
    if isinstance(value, UploadFile):
        raise HTTPException(400, f"the form field {value.filename!r} must be text, not a file")
    if value is None:
        return None
    return value.strip() or None
