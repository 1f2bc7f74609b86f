"""Voice on the command line: `run --audio FILE`, `plan --audio FILE` and `pocketagent transcribe FILE`.

A spoken request is transcribed offline (docs/voice.md), the transcript is shown, and from then
on it is exactly a typed request. Audio that cannot be transcribed, and a missing voice extra,
are one line on stderr and exit status 2 (bad input), before any model for planning loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pocketagent.cli.errors import reports_errors
from pocketagent.cli.output import json_text

if TYPE_CHECKING:
    from pocketagent.settings import Settings
    from pocketagent.voice import Transcript

AUDIO_HELP = "Say it instead: a recording of the request (WAV, WebM, Ogg, MP3, FLAC), transcribed offline."


def spoken_request(audio: Path, settings: Settings, show: bool = True) -> Transcript:
    """Transcribe the request recorded in `audio`; `show` prints what was heard on stderr.

    Audio that cannot be transcribed raises a `VoiceError` (bad input: exit 2, cli/errors.py).
    """
    from pocketagent.voice import Transcriber

    transcript = Transcriber.from_settings(settings).transcribe(audio)
    if show:
        typer.echo(f'heard: "{transcript.text}" ({transcript.duration_s:.1f} s of audio, '
                   f"transcribed in {transcript.seconds:.1f} s)", err=True)
    return transcript


def register(app: typer.Typer) -> None:
    """Add `pocketagent transcribe` to `app`."""

    @app.command()
    @reports_errors
    def transcribe(
        audio: Annotated[Path, typer.Argument(help="The recording (WAV, WebM, Ogg, MP3, FLAC, M4A).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print text, language and timings as JSON.")] = False,
    ) -> None:
        """Print what is said in a recording (offline speech recognition; the voice extra)."""
        from pocketagent.settings import load_settings

        transcript = spoken_request(audio, load_settings(), show=False)
        typer.echo(json_text(transcript.to_dict()) if as_json else transcript.text)
