"""Incremental plan parsing for streamed model output.

Feed arbitrary chunks (a character, half a line, many lines); each action is returned
the moment its line is complete, so the executor can start it while the model is still
writing the rest of the plan. Feeding a text in any chunking gives exactly what
`parse_plan` gives for the whole text.
"""

from __future__ import annotations

from pocketagent.plan.language import END_OF_PLAN, Action, LineParser, Plan


class StreamingPlanParser:
    """Accumulates chunks and parses complete lines as they arrive."""

    def __init__(self) -> None:
        self._lines = LineParser()
        # The line being received, in pieces: joining once per line (instead of `buffer += chunk`
        # and searching the whole buffer on every chunk) keeps feeding linear in the text's length,
        # however long the line and however small the chunks.
        self._pending: list[str] = []
        # The pending line's last characters, enough to find an end marker split across chunks.
        self._tail = ""
        self._text: list[str] = []

    @property
    def text(self) -> str:
        """All text fed so far (until `join()`)."""
        if len(self._text) > 1:
            self._text = ["".join(self._text)]
        return self._text[0] if self._text else ""

    @property
    def finished(self) -> bool:
        """True once `join()` has been parsed; later text is ignored."""
        return self._lines.finished

    @property
    def actions(self) -> list[Action]:
        """Actions parsed so far."""
        return list(self._lines.actions)

    def feed(self, chunk: str) -> list[Action]:
        """Add streamed text; return the actions whose lines this chunk completed."""
        if self.finished:
            return []
        self._text.append(chunk)
        completed: list[Action] = []
        start = 0  # where the current line's part of this chunk begins
        while not self.finished:
            cut = self._line_end(chunk, start)
            if cut is None:
                self._hold(chunk[start:])
                break
            line = "".join(self._pending) + chunk[start:cut]
            self._pending, self._tail, start = [], "", cut
            action = self._lines.feed_line(line.removesuffix("\n"))
            if action is not None:
                completed.append(action)
        return completed

    def _line_end(self, chunk: str, start: int) -> int | None:
        """Where in `chunk` the line from `start` (plus held text) ends, or None if it goes on.

        A line ends after its newline, or after an end marker that comes first: the marker
        closes the join line even without a trailing newline.
        """
        if self._tail:
            # A marker begun in held text: it comes before anything in this chunk.
            joined = self._tail + chunk[: len(END_OF_PLAN) - 1]
            end = joined.find(END_OF_PLAN)
            if end != -1:
                return end + len(END_OF_PLAN) - len(self._tail)
        newline = chunk.find("\n", start)
        # Search for the marker only up to the newline: scanning the rest of the chunk for
        # every line of it would be quadratic in the number of lines.
        end = chunk.find(END_OF_PLAN, start, len(chunk) if newline == -1 else newline)
        if end != -1:
            return end + len(END_OF_PLAN)
        return None if newline == -1 else newline + 1

    def _hold(self, rest: str) -> None:
        """Keep the start of an unfinished line until the chunk that ends it arrives."""
        if rest:
            self._pending.append(rest)
            self._tail = (self._tail + rest[-(len(END_OF_PLAN) - 1) :])[-(len(END_OF_PLAN) - 1) :]

    def finish(self) -> Plan:
        """Parse whatever is left after the stream ended and return the full plan."""
        if not self.finished and self._pending:
            line = "".join(self._pending)
            self._pending, self._tail = [], ""
            self._lines.feed_line(line)
        return self._lines.finish()
