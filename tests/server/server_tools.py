"""Plugin tools for the server tests (loaded by name through `plugins = ["server_tools"]`).

The server runs in a thread of the test process, so the tests see what the tools did through
this module's `CALLS` and can hold `wait_for_gate` until they open `GATE`.
"""

from __future__ import annotations

import threading

CALLS: list[tuple[str, tuple[str, ...]]] = []
GATE = threading.Event()
GATE_TIMEOUT_S = 30.0


def reset() -> None:
    """Forget the calls and close the gate (before each test)."""
    CALLS.clear()
    GATE.clear()


def lookup(name: str) -> str:
    """Looks up a person's address.

    Args:
        name: the person.
    """
    CALLS.append(("lookup", (name,)))
    return f"{name.lower()}@example.org"


def wait_for_gate(name: str) -> str:
    """Waits until the test opens the gate, then returns the name.

    Args:
        name: any text.
    """
    CALLS.append(("wait_for_gate", (name,)))
    opened = GATE.wait(GATE_TIMEOUT_S)
    CALLS.append(("wait_for_gate returned", (name, str(opened))))
    return name


def post_message(to: str, text: str) -> str:
    """Posts a message to someone (a side effect).

    Args:
        to: the address.
        text: the message.
    """
    CALLS.append(("post_message", (to, text)))
    return f"posted {text!r} to {to}"


def register_tools(registry) -> None:  # type: ignore[no-untyped-def]
    registry.register(lookup)
    registry.register(wait_for_gate)
    registry.register(post_message, side_effect=True)
