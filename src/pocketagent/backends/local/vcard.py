"""The vCard text format: a small vCard 2.1/3.0/4.0 reader and 4.0 writer.

The parser keeps each property's value as it appears in the file (still escaped) and
unescapes on access (`text()`, `components()`), so reading and writing a card is
lossless. It handles line folding (RFC 6350 §3.2), backslash escapes, RFC 6868 parameter
escapes, vCard 2.1 bare parameters and QUOTED-PRINTABLE values in any CHARSET.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


class VCardSyntaxError(ValueError):
    """A property that cannot be written as vCard (bad name or group)."""


@dataclass(frozen=True)
class VCardProperty:
    """One content line. `value` is the raw (escaped) value; names are upper-case."""

    name: str
    value: str
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()
    group: str = ""

    def param(self, name: str) -> tuple[str, ...]:
        """All values of a parameter (from every occurrence), or ()."""
        return tuple(v for key, vals in self.params if key == name.upper() for v in vals)

    @property
    def types(self) -> frozenset[str]:
        """Lower-case TYPE values; `TYPE="work,voice"` (quoted by some writers) counts as two."""
        return frozenset(t.strip().lower() for v in self.param("TYPE") for t in v.split(",") if t.strip())

    def text(self) -> str:
        """The value as text (escapes undone)."""
        return unescape_text(self.value)

    def components(self) -> list[str]:
        """A structured value (N, ADR, ORG) split on ';', each part unescaped."""
        return [unescape_text(part) for part in _split_unescaped(self.value, ";")]

    def list_values(self) -> list[str]:
        """A comma-separated value (NICKNAME, CATEGORIES), each item unescaped and stripped."""
        return [item for item in (unescape_text(p).strip() for p in _split_unescaped(self.value, ",")) if item]


@dataclass
class VCard:
    """One BEGIN:VCARD … END:VCARD block (BEGIN/END themselves are not stored)."""

    properties: list[VCardProperty] = field(default_factory=list)

    def all(self, name: str) -> list[VCardProperty]:
        return [prop for prop in self.properties if prop.name == name.upper()]

    def first(self, name: str) -> VCardProperty | None:
        found = self.all(name)
        return found[0] if found else None


def escape_text(text: str) -> str:
    """Escape a text value for a content line (backslash, comma, semicolon, newline).

    CR and CRLF become a newline: vCard has no way to keep a bare CR.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def unescape_text(raw: str) -> str:
    """Undo `escape_text`; unknown escapes keep their backslash (Windows paths in old exports)."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt in "nN":
                out.append("\n")
            elif nxt in "\\,;:":
                out.append(nxt)
            else:
                out.append(char + nxt)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def structured_value(parts: Sequence[str]) -> str:
    """Raw value of a structured property from its text parts (inverse of `components`)."""
    return ";".join(escape_text(part) for part in parts)


def list_value(items: Iterable[str]) -> str:
    """Raw value of a comma-list property from its items (inverse of `list_values`)."""
    return ",".join(escape_text(item) for item in items)


def _split_unescaped(raw: str, separator: str) -> list[str]:
    parts, current, i = [], [], 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            current.append(raw[i : i + 2])
            i += 2
            continue
        if raw[i] == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(raw[i])
        i += 1
    parts.append("".join(current))
    return parts


_NEWLINE = re.compile(r"\r\n|\r|\n")
_NAME_OK = re.compile(r"^[A-Za-z0-9-]+$")


def _logical_lines(text: str) -> list[str]:
    """The content lines of `text` with folding undone, in time linear in its length.

    A line starting with a space or tab continues the one before (RFC 6350 §3.2); a vCard 2.1
    QUOTED-PRINTABLE value continues on the next line after a trailing "=" (a soft break).
    """
    lines: list[str] = []
    current: _LogicalLine | None = None
    for physical in _NEWLINE.split(text):
        if current is not None and physical[:1] in (" ", "\t"):
            current.append(physical[1:])
        elif current is not None and current.ends_in_soft_break():
            current.drop_last_char()  # the "=" of the soft break
            current.append(physical)
        else:
            if current is not None:
                lines.append(current.text())
            current = _LogicalLine(physical)
    if current is not None:
        lines.append(current.text())
    return lines


_QP_PARAM = re.compile(r";(?:ENCODING=)?QUOTED-PRINTABLE(?=[;:])", re.IGNORECASE)
_QP_PARAM_MAX = len(";ENCODING=QUOTED-PRINTABLE")  # the longest text `_QP_PARAM` matches


class _LogicalLine:
    """One content line being unfolded, kept as pieces that are joined once, when it is complete.

    Not `line += piece`: that copies the whole line for every continuation line, which is
    quadratic, and an embedded PHOTO of 16 MB folded at 75 octets is 216,000 continuation
    lines (every contacts lookup timed out). Everything here is linear in the line's length:
    the QUOTED-PRINTABLE test looks only at new text, and a soft break's "=" is cut lazily.
    """

    __slots__ = ("pieces", "cut", "in_head", "head_tail", "quoted_printable")

    def __init__(self, first: str) -> None:
        self.pieces: list[str] = []  # never empty strings, so pieces[-1] holds the last character
        self.cut = 0  # characters dropped from the end of pieces[-1] but not yet sliced off
        self.in_head = True  # still looking for QUOTED-PRINTABLE: no ":" seen yet and not found
        self.head_tail = ""  # the last characters of the name and parameters seen so far
        self.quoted_printable = False
        self.append(first)

    def append(self, piece: str) -> None:
        if not piece:
            return
        if self.cut:
            self.pieces[-1] = self.pieces[-1][: -self.cut]
            self.cut = 0
        self.pieces.append(piece)
        if self.in_head:
            # The name and parameters end at the first ":". A match may straddle pieces, so
            # search the tail of what came before plus the new text; a match found is never
            # undone by later text (soft breaks only cut an "=", which no match ends with).
            colon = piece.find(":")
            window = self.head_tail + (piece if colon < 0 else piece[: colon + 1])
            self.quoted_printable = bool(_QP_PARAM.search(window))
            self.head_tail = window[-_QP_PARAM_MAX:]
            self.in_head = colon < 0 and not self.quoted_printable

    def ends_in_soft_break(self) -> bool:
        """A vCard 2.1 QUOTED-PRINTABLE value continues on the next line after a trailing "="."""
        if not self.quoted_printable or not self.pieces:
            return False
        last = self.pieces[-1]
        return last[len(last) - self.cut - 1] == "="

    def drop_last_char(self) -> None:
        self.cut += 1
        if self.cut == len(self.pieces[-1]):
            self.pieces.pop()
            self.cut = 0

    def text(self) -> str:
        if self.cut:
            self.pieces[-1] = self.pieces[-1][: -self.cut]
            self.cut = 0
        return "".join(self.pieces)


def _decode_param_value(value: str) -> str:
    # RFC 6868: ^n newline, ^' double quote, ^^ caret.
    return re.sub(r"\^(['n^])", lambda m: {"n": "\n", "'": '"', "^": "^"}[m.group(1)], value)


def _encode_param_value(value: str) -> str:
    encoded = value.replace("^", "^^").replace("\r\n", "\n").replace("\r", "\n").replace("\n", "^n").replace('"', "^'")
    if any(c in encoded for c in ",;:") or encoded != encoded.strip():
        return f'"{encoded}"'
    return encoded


def parse_content_line(line: str) -> VCardProperty | None:
    """Parse one unfolded content line; None when it is not a property line."""
    i, n = 0, len(line)
    while i < n and line[i] not in ";:":
        i += 1
    head = line[:i].strip()
    if i >= n or not head:
        return None
    group, _, name = head.rpartition(".")
    params: list[tuple[str, tuple[str, ...]]] = []
    while i < n and line[i] == ";":
        i += 1
        start = i
        while i < n and line[i] not in "=;:":
            i += 1
        pname = line[start:i].strip().upper()
        if i < n and line[i] == "=":
            i += 1
            values: list[str] = []
            while True:
                if i < n and line[i] == '"':
                    end = line.find('"', i + 1)
                    if end < 0:
                        return None
                    values.append(_decode_param_value(line[i + 1 : end]))
                    i = end + 1
                    while i < n and line[i] not in ",;:":  # junk after a closing quote
                        i += 1
                else:
                    start = i
                    while i < n and line[i] not in ",;:":
                        i += 1
                    values.append(_decode_param_value(line[start:i]))
                if i < n and line[i] == ",":
                    i += 1
                    continue
                break
            params.append((pname, tuple(values)))
        elif pname:  # vCard 2.1 bare parameter: TEL;CELL;PREF:...
            known = {"QUOTED-PRINTABLE": "ENCODING", "BASE64": "ENCODING", "8BIT": "ENCODING"}
            params.append((known.get(pname, "TYPE"), (pname,)))
    if i >= n or line[i] != ":":
        return None
    prop = VCardProperty(name.upper(), line[i + 1 :], tuple(params), group)
    return _decode_quoted_printable(prop)


def _decode_quoted_printable(prop: VCardProperty) -> VCardProperty:
    if "QUOTED-PRINTABLE" not in {v.upper() for v in prop.param("ENCODING")}:
        return prop
    charset = (prop.param("CHARSET") or ("utf-8",))[0]
    data = quopri.decodestring(prop.value.encode("latin-1", "replace"))
    try:
        text = data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        text = data.decode("utf-8", "replace")
    # The decoded text is plain 2.1 text; keep it escaped like any other value.
    raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    params = tuple((k, v) for k, v in prop.params if k not in ("ENCODING", "CHARSET"))
    return VCardProperty(prop.name, raw, params, prop.group)


def parse_vcards(text: str) -> list[VCard]:
    """All cards in a vCard document. Lines outside cards and unparseable lines are skipped.

    A vCard 2.1 AGENT property with no value of its own is followed by a whole card
    (`AGENT:` then BEGIN:VCARD … END:VCARD): that nested card is skipped. Any other
    BEGIN:VCARD inside a card means the card before it lost its END:VCARD line: that card
    ends there with what it has, as one cut off at the end of the file does, instead of
    swallowing every card after it.
    """
    cards: list[VCard] = []
    current: VCard | None = None
    depth = 0
    after_agent = False  # the last property was a value-less AGENT: a nested card may follow
    for line in _logical_lines(text):
        prop = parse_content_line(line)
        if prop is None:
            continue
        if prop.name == "BEGIN" and prop.value.strip().upper() == "VCARD":
            if depth and after_agent:
                depth += 1
            else:
                if current is not None:  # unterminated (or its nested card was)
                    cards.append(current)
                current, depth = VCard(), 1
            after_agent = False
            continue
        after_agent = prop.name == "AGENT" and not prop.value.strip()
        if prop.name == "END" and prop.value.strip().upper() == "VCARD":
            depth = max(0, depth - 1)
            if depth == 0 and current is not None:
                cards.append(current)
                current = None
            continue
        if current is not None and depth == 1:
            current.properties.append(prop)
    if current is not None:  # a card missing its END line still counts
        cards.append(current)
    return cards


def _fold(line: str, limit: int = 75) -> str:
    # Fold at `limit` octets without splitting a UTF-8 sequence; continuation lines start with a space.
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        budget = limit if not pieces else limit - 1
        if size + width > budget:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def serialize_property(prop: VCardProperty) -> str:
    """One folded content line (without the final CRLF)."""
    for label in (prop.name, *([prop.group] if prop.group else [])):
        if not _NAME_OK.match(label):
            raise VCardSyntaxError(f"invalid vCard property or group name {label!r}")
    head = f"{prop.group}.{prop.name}" if prop.group else prop.name
    for pname, values in prop.params:
        if not _NAME_OK.match(pname):
            raise VCardSyntaxError(f"invalid vCard parameter name {pname!r}")
        head += f";{pname}=" + ",".join(_encode_param_value(v) for v in values)
    value = prop.value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")
    return _fold(f"{head}:{value}")


def serialize_vcards(cards: Iterable[VCard], version: str = "4.0") -> str:
    """A vCard document; cards without a VERSION get `version` first."""
    out: list[str] = []
    for card in cards:
        out.append("BEGIN:VCARD")
        if card.first("VERSION") is None:
            out.append(f"VERSION:{version}")
        out.extend(serialize_property(prop) for prop in card.properties)
        out.append("END:VCARD")
    return "".join(line + "\r\n" for line in out)
