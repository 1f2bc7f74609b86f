"""Voice on the command line: `run --audio FILE`, `plan --audio FILE` and `pocketagent transcribe FILE`.

A spoken request is transcribed offline (docs/voice.md), the transcript is shown, and from then
on it is exactly a typed request. Audio that cannot be transcribed, and a missing voice extra,
are one line on stderr and exit status 2 (bad input), before any model for planning loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pocketagent.cli.errors import USAGE_ERROR
from pocketagent.cli.output import json_text
from pocketagent.errors import ConfigError, VoiceError
from pocketagent.settings import Settings, load_settings
from pocketagent.voice import Transcriber, Transcript

AUDIO_HELP = "Say it instead: a recording of the request (WAV, WebM, Ogg, MP3, FLAC), transcribed offline."


def spoken_request(audio: Path, settings: Settings, show: bool = True) -> Transcript:
    """Transcribe the request recorded in `audio`; `show` prints what was heard on stderr.

    Exits with status 2 and a one-line message when the audio cannot be transcribed.
    """
    try:
        transcript = Transcriber.from_settings(settings).transcribe(audio)
    except VoiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(USAGE_ERROR) from None
    if show:
        typer.echo(f'heard: "{transcript.text}" ({transcript.duration_s:.1f} s of audio, '
                   f"transcribed in {transcript.seconds:.1f} s)", err=True)
    return transcript


def register(app: typer.Typer) -> None:
    """Add `pocketagent transcribe` to `app`."""

    @app.command()
    def transcribe(
        audio: Annotated[Path, typer.Argument(help="The recording (WAV, WebM, Ogg, MP3, FLAC, M4A).")],
        json_output: Annotated[bool, typer.Option("--json", help="Print text, language and timings as JSON.")] = False,
    ) -> None:
        """Print what is said in a recording (offline speech recognition; the voice extra)."""
        try:
            settings = load_settings()
        except ConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(USAGE_ERROR) from None
        transcript = spoken_request(audio, settings, show=False)
        typer.echo(json_text(transcript.to_dict()) if json_output else transcript.text)
