"""Helpers of the web UI tests (imported by name: tests/ui is put on sys.path by its conftest)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Read at import: the autouse `isolated_config` fixture removes POCKETAGENT_* variables in tests.
ARTIFACTS_DIR = os.environ.get("POCKETAGENT_TEST_ARTIFACTS")


@dataclass
class BrowserPage:
    """A Playwright page and what it did: every request's URL, uncaught script errors."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign_requests(self, origin: str) -> list[str]:
        """Requests that left `origin` (data: URLs never touch the network)."""
        ours = urlsplit(origin)
        return [
            url for url in self.requests
            if not url.startswith("data:") and (urlsplit(url).scheme, urlsplit(url).netloc) != (ours.scheme, ours.netloc)
        ]  # fmt: skip


def save_screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    """A full-page PNG in the test's tmp dir, copied to $POCKETAGENT_TEST_ARTIFACTS when set."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if ARTIFACTS_DIR:
        target = Path(ARTIFACTS_DIR)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / path.name)
    return path
