"""The one spelling of a moment that crosses the project's seams: `YYYY-MM-DD HH:MM:SS`.

Dataset examples (`now`), the planner prompt, tool date arguments, the `--now` flag and the
HTTP API all write and read local, naive times in this format.
"""

from __future__ import annotations

NOW_FORMAT = "%Y-%m-%d %H:%M:%S"
# NOW_FORMAT as users read it, for error messages.
NOW_FORMAT_HINT = "YYYY-MM-DD HH:MM:SS"
