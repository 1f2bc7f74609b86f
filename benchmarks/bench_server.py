"""`pocketagent serve` benchmark: the server's overhead against the CLI, and 4 concurrent clients.

On a demo workspace (made in a temp dir) with the default planner, this measures:

1. **Overhead.** The same request, `--repeats` times each way:
   - `cli`: `pocketagent run REQUEST --json` in a fresh process (what a user waits for at a shell:
     process start, model load, plan, run);
   - `in_process`: `Agent.run` in one warm process (the CLI's work without process start and load);
   - `server`: `POST /v1/agent/run` to a running `pocketagent serve`, until the `answer` event.
   It prints the medians and the ratios server / in_process (what HTTP, SSE and the server's
   bookkeeping add) and server / cli (what keeping the model loaded saves).
2. **Throughput.** `--clients` threads (default 4) each send `--requests` runs one after the
   other, every client with its own request (a different contact), all at once. It prints
   requests per minute, latency p50 / p95, and checks that every client's streams carry only its
   own run (run id, request, answer; no other client's contact anywhere in its events) and that
   no run was lost (each stream ends with its answer). Isolation failures exit 1.

    .venv/bin/python benchmarks/bench_server.py [--repeats N] [--clients N] [--requests N] [--json]

Figures are only meaningful on a quiet machine (nothing else using the cores).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

NOW = "2026-11-23 10:00:00"
DEFAULT_REQUEST = "text Sid that I'm running 10 minutes late"
# One contact per client: a client's stream must never mention another's.
CLIENT_NAMES = ("Sid", "Nick", "Priya", "Aditya", "Maria", "Adaeze", "Sam", "Ilona")
CLI = "import sys; from pocketagent.cli.main import main; sys.argv[0] = 'pocketagent'; main()"
START_TIMEOUT_S = 300.0


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def workspace_env(home: Path) -> dict[str, str]:
    """The environment every process of the benchmark runs with: the demo home, a fixed clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POCKETAGENT_")}
    env.update(
        POCKETAGENT_HOME=str(home), POCKETAGENT_NOW=NOW, POCKETAGENT_CONFIG=str(home / "none.toml"),
        POCKETAGENT_HISTORY_PATH=str(home / "history.sqlite"),
    )  # fmt: skip
    return env


def sse_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON `data` of each message of a text/event-stream body."""
    data = ""
    for line in response.iter_lines():
        if not line:
            if data:
                yield json.loads(data)
            data = ""
        elif line.startswith("data:"):
            data += line[5:].removeprefix(" ")


def stream_run(url: str, request: str) -> tuple[float, list[dict[str, Any]]]:
    """One run over the server: (seconds until the stream ended, its events)."""
    started = time.perf_counter()
    with httpx.stream("POST", f"{url}/v1/agent/run", json={"request": request}, timeout=600) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.read().decode(errors='replace')}")
        events = list(sse_events(response))
    return time.perf_counter() - started, events


def time_cli(request: str, env: dict[str, str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", CLI, "run", request, "--json"], env=env, capture_output=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:  # a failed run is not the same work as the server's
            raise RuntimeError(f"pocketagent run failed: {done.stderr.decode(errors='replace')[-500:]}")
    return times


def time_in_process(request: str, env: dict[str, str], repeats: int) -> list[float]:
    """`Agent.run` in this process, with the benchmark's environment, after one warm-up run."""
    os.environ.update(env)
    from pocketagent.agent.agent import collect
    from pocketagent.agent.build import build_agent
    from pocketagent.settings import load_settings

    settings = load_settings()
    agent = build_agent(settings)
    asyncio.run(collect(agent.run(request, settings.current_time())))  # warm: the server's model is warm too
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        asyncio.run(collect(agent.run(request, settings.current_time())))
        times.append(time.perf_counter() - started)
    agent.planner.backend.close()  # type: ignore[union-attr]
    return times


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", CLI, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the server did not start")
        time.sleep(0.2)


def client_request(name: str) -> str:
    return f"text {name} that I'm running 10 minutes late"


def check_isolation(name: str, request: str, events: list[dict[str, Any]], others: list[str]) -> list[str]:
    """What is wrong with one client's stream (empty: it is its own run, whole)."""
    problems = []
    if not events or events[0].get("kind") != "run_started" or events[0].get("request") != request:
        problems.append(f"{name}: the stream does not open with its own run_started")
    if not events or events[-1].get("kind") != "answer":
        problems.append(f"{name}: the stream does not end with its answer (a lost run)")
    if any(e.get("request") not in (None, request) for e in events):
        problems.append(f"{name}: another request appears in its stream")
    text = json.dumps(events[1:])
    leaked = [other for other in others if other in text]
    if leaked:
        problems.append(f"{name}: its stream mentions other clients' contacts {leaked}")
    return problems


def throughput(url: str, clients: int, requests: int) -> dict[str, Any]:
    names = list(CLIENT_NAMES[:clients])
    latencies: list[float] = []
    problems: list[str] = []
    run_ids: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(clients)

    def client(name: str) -> None:
        request = client_request(name)
        others = [n for n in names if n != name]
        go.wait()
        for _ in range(requests):
            try:
                seconds, events = stream_run(url, request)
            except (RuntimeError, httpx.HTTPError) as exc:
                with lock:
                    problems.append(f"{name}: {exc}")
                continue
            with lock:
                latencies.append(seconds)
                problems.extend(check_isolation(name, request, events, others))
                if events:
                    run_ids.append(str(events[0].get("run_id")))

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if len(set(run_ids)) != len(run_ids):
        problems.append("two streams carried the same run id")
    return {
        "clients": clients,
        "requests": len(latencies),
        "wall_s": round(wall, 2),
        "requests_per_min": round(len(latencies) / wall * 60, 2) if wall > 0 else 0.0,
        "latency_p50_s": round(percentile(latencies, 0.5), 3),
        "latency_p95_s": round(percentile(latencies, 0.95), 3),
        "problems": problems,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--request", default=DEFAULT_REQUEST)
    parser.add_argument("--repeats", type=int, default=5, help="runs of the request per way, for the overhead")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=5, help="runs per client, for the throughput")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= len(CLIENT_NAMES):
        parser.error(f"--clients must be 1..{len(CLIENT_NAMES)}")

    with tempfile.TemporaryDirectory(prefix="bench-server-") as scratch:
        home = Path(scratch) / "home"
        env = workspace_env(home)
        subprocess.run([sys.executable, "-c", CLI, "init", "--demo"], env=env, capture_output=True, check=True)
        cli = time_cli(args.request, env, args.repeats)
        in_process = time_in_process(args.request, env, args.repeats)
        port = free_port()
        server = start_server(env, port, Path(scratch) / "server.log")
        try:
            url = f"http://127.0.0.1:{port}"
            stream_run(url, args.request)  # warm, like the in-process agent
            served = [stream_run(url, args.request)[0] for _ in range(args.repeats)]
            load = throughput(url, args.clients, args.requests)
        finally:
            server.terminate()
            server.wait(30)

    medians = {name: statistics.median(times) for name, times in (("cli", cli), ("in_process", in_process), ("server", served))}
    report = {
        "request": args.request,
        "repeats": args.repeats,
        "median_s": {name: round(value, 3) for name, value in medians.items()},
        "server_over_in_process": round(medians["server"] / medians["in_process"], 3),
        "server_over_cli": round(medians["server"] / medians["cli"], 3),
        "throughput": load,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        m = report["median_s"]
        print(f"request: {args.request!r} ({args.repeats} runs each way, medians)")
        print(f"  cli (fresh process) {m['cli']:.3f} s | in-process agent {m['in_process']:.3f} s | server {m['server']:.3f} s")
        print(f"  server / in-process = {report['server_over_in_process']:.3f}   server / cli = {report['server_over_cli']:.3f}")
        print(
            f"{load['clients']} concurrent clients: {load['requests']} runs in {load['wall_s']} s = "
            f"{load['requests_per_min']} runs/min, latency p50 {load['latency_p50_s']} s, p95 {load['latency_p95_s']} s"
        )
        print("  isolation: " + ("every client got only its own runs, none lost" if not load["problems"] else "FAILED"))
        for problem in load["problems"]:
            print(f"    {problem}")
    return 1 if load["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
