"""Voice input benchmark: transcription latency and real-time factor of the packaged Whisper tiny.en.

Speaks requests of different lengths with Debian's espeak-ng (`ESPEAK_VOICE`, as tests/voice
does), then, in this process:

1. loads the model once (a fresh `Transcriber`, as `pocketagent run --audio` does every time and
   `pocketagent serve` does on its first upload),
2. transcribes each utterance `--repeats` times: latency (decode + speech recognition) median and
   max, audio length, real-time factor (latency / audio length; below 1 is faster than speech),
   and how many of the request's key words the transcript holds (a sanity check, not a WER),
3. with `--plan`, also plans each transcript with the default planner and prints the planning
   time, so the voice overhead reads as a ratio of the whole request.

    .venv/bin/python benchmarks/bench_voice.py [--repeats N] [--threads N] [--plan] [--json]

Run it on a quiet machine: figures on a CPU shared with other work say nothing. docs/benchmarks.md
records them.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ESPEAK_VOICE = ("-v", "en", "-s", "150")
NOW = "2026-11-23 10:00:00"


@dataclass(frozen=True)
class Utterance:
    name: str
    text: str
    key_words: tuple[str, ...]  # words the transcript should hold (lower case)


UTTERANCES = (
    Utterance("short", "Remind me to call mom tomorrow at 6.", ("remind", "call", "mom", "tomorrow")),
    Utterance(
        "medium", "Send a text message to mom saying that I'm running late.", ("send", "text", "mom", "running", "late")
    ),
    Utterance(
        "long",
        "Email Sid and Nick the summary of the budget file, put a review on Friday at 3, "
        "and create a note called shopping list with milk, eggs and bread.",
        ("email", "sid", "nick", "summary", "budget", "review", "friday", "note", "shopping", "milk", "eggs", "bread"),
    ),
    Utterance(
        "very long",
        "Send a text message to mom saying that I'm running late. Remind me to call the dentist tomorrow "
        "morning. Email Sid the summary of the budget file and put a review with him on Friday at 3. "
        "Create a note called groceries with apples, bananas, coffee and rice, and remind me on Sunday "
        "evening to water the plants.",
        ("text", "mom", "late", "remind", "dentist", "email", "sid", "budget", "review", "friday", "note",
         "groceries", "coffee", "sunday", "plants"),
    ),  # fmt: skip
)


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def speak(utterance: Utterance, folder: Path) -> Path:
    """espeak-ng's WAV of the utterance."""
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed: apt-get install espeak-ng")
    path = folder / f"{utterance.name.replace(' ', '-')}.wav"
    subprocess.run(["espeak-ng", *ESPEAK_VOICE, "-w", str(path), utterance.text], check=True, capture_output=True)
    return path


def measure(utterances: tuple[Utterance, ...], repeats: int, threads: int, plan: bool = False) -> dict[str, Any]:
    """Load time, then per utterance: audio length, latency median/max, real-time factor, key words heard."""
    from pocketagent.voice import Transcriber

    transcriber = Transcriber(threads=threads)
    started = time.perf_counter()
    transcriber.load()
    load_s = time.perf_counter() - started
    planner = None
    now = datetime.strptime(NOW, "%Y-%m-%d %H:%M:%S")
    if plan:
        from pocketagent.agent.build import build_planner
        from pocketagent.settings import load_settings

        settings = load_settings(now=NOW, n_threads=threads)
        planner = build_planner(settings)
        planner.plan("text mom that I'm late", now)  # warm the prompt prefix
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as folder:
        for utterance in utterances:
            audio = speak(utterance, Path(folder))
            transcripts = [transcriber.transcribe(audio) for _ in range(repeats)]
            latencies = [t.seconds for t in transcripts]
            heard = words(transcripts[0].text)
            row: dict[str, Any] = {
                "name": utterance.name,
                "audio_s": round(transcripts[0].duration_s, 2),
                "latency_median_s": round(statistics.median(latencies), 3),
                "latency_max_s": round(max(latencies), 3),
                "real_time_factor": round(statistics.median(latencies) / transcripts[0].duration_s, 3),
                "key_words_heard": f"{sum(w in heard for w in utterance.key_words)}/{len(utterance.key_words)}",
                "transcript": transcripts[0].text,
            }
            if planner is not None:
                ready = planner.plan(transcripts[0].text, now)
                row["plan_s"] = round(ready.stats.plan_s, 3)
                whole = row["latency_median_s"] + ready.stats.plan_s
                row["voice_share_of_request"] = round(row["latency_median_s"] / whole, 3)
            rows.append(row)
    return {"model": "Whisper tiny.en (int8, CTranslate2)", "threads": threads, "repeats": repeats,
            "load_s": round(load_s, 3), "utterances": rows}  # fmt: skip


def print_report(report: dict[str, Any]) -> None:
    print(f"{report['model']}, {report['threads']} thread(s), {report['repeats']} run(s) per utterance")
    print(f"model load: {report['load_s']:.2f} s")
    header = f"{'utterance':<10} {'audio s':>8} {'latency p50 s':>14} {'max s':>7} {'RTF':>6} {'key words':>10}"
    planned = any("plan_s" in row for row in report["utterances"])
    print(header + (f" {'plan s':>7} {'voice share':>12}" if planned else ""))
    for row in report["utterances"]:
        line = (
            f"{row['name']:<10} {row['audio_s']:>8.2f} {row['latency_median_s']:>14.3f} "
            f"{row['latency_max_s']:>7.3f} {row['real_time_factor']:>6.3f} {row['key_words_heard']:>10}"
        )
        if planned:
            line += f" {row['plan_s']:>7.3f} {row['voice_share_of_request']:>12.0%}"
        print(line)
    rows = report["utterances"]
    if len(rows) > 1:
        longest, shortest = rows[-1], rows[0]
        print(f"longest / shortest: audio x{longest['audio_s'] / shortest['audio_s']:.1f}, "
              f"latency x{longest['latency_median_s'] / shortest['latency_median_s']:.1f}")  # fmt: skip
    for row in rows:
        print(f"  {row['name']}: {row['transcript']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="transcriptions per utterance")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: every core this process may use)")
    parser.add_argument("--plan", action="store_true", help="also plan each transcript with the default planner")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    from pocketagent.settings import available_cores

    report = measure(UTTERANCES, max(1, args.repeats), args.threads or available_cores(), plan=args.plan)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
