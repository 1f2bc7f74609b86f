"""LLM-driven generation as a Ray Data pipeline, against one or many OpenAI-compatible endpoints.

`ray.data.from_items(jobs).map_batches(RequestBatch, compute=ActorPoolStrategy(size=N))`: each of the N actors holds
one backend per endpoint (made through the backend registry) and sends the prompts of its
batches; job i goes to endpoint i mod len(endpoints), which the driver assigned round-robin.
Prompts are built on the driver and replies are parsed and checked there, so the set-level
checks (duplicates, leakage) see one stream in job order, exactly as with the thread pool.

Ray is imported only here and only when called: it is the optional extra `pocketagent[ray]`.
With no address, a local Ray instance is started for the run and shut down after it; with an
address (or RAY_ADDRESS), the run joins that cluster, whose nodes need pocketagent installed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Generator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from pocketagent.datagen.teacher import GenerationJob, Reply, build_messages, job_options, request_reply
from pocketagent.errors import ConfigError, PocketAgentError
from pocketagent.llm import create_backend
from pocketagent.llm.base import GenerationOptions, LLMBackend, Message
from pocketagent.settings import available_cores
from pocketagent.tools.registry import ToolRegistry


class RayRunError(PocketAgentError):
    """Ray could not be started or joined, or the pipeline failed."""


# The actors only wait on HTTP; a CPU reservation would cap --workers at the cluster's cores.
ACTOR_CPUS = 0.0


def import_ray() -> Any:
    """The `ray` module, or a ConfigError saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise ConfigError(f"--ray needs Ray Data ({error}); install it with: pip install 'pocketagent[ray]'") from None
    return ray


class RequestBatch:
    """Ray Data callable class: sends each row's prompt to its endpoint and returns the replies.

    `endpoint_settings` are `Settings` with backend "openai", one per endpoint, in the order the
    rows' `endpoint` indexes refer to.
    """

    def __init__(self, endpoint_settings: Sequence[Any], options: GenerationOptions) -> None:
        self.backends: list[LLMBackend] = [create_backend(s) for s in endpoint_settings]
        self.options = options

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, list[Any]] = {"index": [], "text": [], "error": [], "completion_tokens": [], "seconds": []}
        for index, endpoint, messages, seed, grammar in zip(
            batch["index"], batch["endpoint"], batch["messages"], batch["seed"], batch["grammar"]
        ):
            chat = [Message(m["role"], m["content"]) for m in json.loads(str(messages))]
            options = replace(self.options, seed=int(seed), grammar=str(grammar) or None)
            reply = request_reply(self.backends[int(endpoint)], int(index), chat, options)
            out["index"].append(reply.index)
            out["text"].append(reply.text)
            out["error"].append(reply.error or "")
            out["completion_tokens"].append(reply.completion_tokens)
            out["seconds"].append(reply.seconds)
        return {key: np.array(values, dtype=object) for key, values in out.items()}

    def __del__(self) -> None:
        for backend in getattr(self, "backends", []):
            backend.close()


def job_rows(
    jobs: Sequence[GenerationJob], endpoints: int, registry: ToolRegistry, options: GenerationOptions, grammar: bool
) -> list[dict[str, Any]]:
    """One plain row per job (prompt as JSON, endpoint index, seed, grammar text or "")."""
    rows = []
    for job in jobs:
        messages = [{"role": m.role, "content": m.content} for m in build_messages(job, registry)]
        rows.append(
            {
                "index": job.index,
                "endpoint": job.endpoint % endpoints,
                "messages": json.dumps(messages, ensure_ascii=False),
                "seed": job.seed,
                "grammar": job_options(job, options, registry, grammar).grammar or "",
            }
        )
    return rows


def run_ray(
    jobs: Sequence[GenerationJob],
    endpoint_settings: Sequence[Any],
    registry: ToolRegistry,
    options: GenerationOptions,
    concurrency: int = 1,
    grammar: bool = False,
    address: str | None = None,
    batch_size: int = 1,
    num_cpus: int | None = None,
) -> Generator[Reply, None, None]:
    """Replies in job order from a Ray Data pipeline; starts (and stops) a local Ray unless one is running.

    `endpoint_settings` are `Settings` with `backend="openai"`, one per endpoint.
    """
    ray = import_ray()
    address = address or os.environ.get("RAY_ADDRESS") or None
    started_here = False
    if not ray.is_initialized():
        # Ray's start-up notices would drown our one-line progress; errors still show.
        quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
        if address:
            _probe(address)
        try:
            if address:
                ray.init(address=address, **quiet)
            else:
                ray.init(num_cpus=num_cpus or available_cores(), include_dashboard=False, **quiet)
        except Exception as error:  # noqa: BLE001 — Ray raises ConnectionError, RuntimeError, ValueError...
            where = f"join the Ray cluster at {address}" if address else "start a local Ray instance"
            raise RayRunError(f"cannot {where}: {_first_line(error)}") from None
        started_here = True
    context = ray.data.DataContext.get_current()
    saved = (context.execution_options.preserve_order, context.enable_progress_bars)
    data_logger = logging.getLogger("ray.data")
    saved_level = data_logger.level
    try:
        context.execution_options.preserve_order = True  # the checks must see jobs in order
        context.enable_progress_bars = False  # ours is on stderr already
        data_logger.setLevel(logging.ERROR)
        rows = job_rows(jobs, len(endpoint_settings), registry, options, grammar)
        dataset = ray.data.from_items(rows).map_batches(
            RequestBatch,
            fn_constructor_kwargs={"endpoint_settings": list(endpoint_settings), "options": options},
            batch_size=batch_size,
            batch_format="numpy",
            # More actors than prompts would idle (and Ray warns about it).
            compute=ray.data.ActorPoolStrategy(size=max(1, min(concurrency, len(rows)))),
            num_cpus=ACTOR_CPUS,
        )
        try:
            for row in dataset.iter_rows():
                yield Reply(
                    index=int(row["index"]),
                    text=str(row["text"]),
                    error=str(row["error"]) or None,
                    completion_tokens=int(row["completion_tokens"]),
                    seconds=float(row["seconds"]),
                )
        except ray.exceptions.RayError as error:
            raise RayRunError(f"the Ray Data pipeline failed: {_first_line(error)}") from None
    finally:
        context.execution_options.preserve_order, context.enable_progress_bars = saved
        data_logger.setLevel(saved_level)
        if started_here:
            ray.shutdown()


def _probe(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast on a cluster address nothing listens on (Ray itself retries for minutes)."""
    host_port = address.removeprefix("ray://").rstrip("/")
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "local" or another form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise RayRunError(f"cannot reach the Ray cluster at {address}: {error.strerror or error}") from None


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(error).__name__
