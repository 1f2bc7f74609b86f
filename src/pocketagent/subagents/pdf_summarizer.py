"""The PDF summarizer sub-agent behind `summarize_pdf`.

Text comes from pypdf. With an LLM, a short document is summarized in one call; a long
one is split into chunks at paragraph/sentence boundaries, each chunk is summarized
(map) and the partial summaries are combined (reduce, repeated while they are too long
for one prompt). Very long documents are sampled: at most `max_chunks` evenly spaced
chunks are read, so the cost stays bounded. Without an LLM, or when the model returns
nothing usable, an extractive summary is used: the opening sentence plus the sentences
richest in the document's frequent words, in document order.

Summaries are cached on disk per file (resolved path + mtime + size + summarizer
settings): asking twice about an unchanged PDF costs nothing.

Bad inputs get a clear ToolError: missing file, a directory, a non-PDF, a damaged PDF,
an encrypted PDF that needs a password, a PDF without a text layer (a scan).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path

from pocketagent.atomic import atomic_write_text
from pocketagent.errors import PocketAgentError, ToolError
from pocketagent.llm.base import GenerationOptions, LLMBackend, Message
from pocketagent.tools.protocols import PdfApp

MIN_TEXT_CHARS = 20  # fewer letters/digits than this: no usable text layer
EXTRACTIVE_SENTENCES = 4
EXTRACTIVE_MAX_CHARS = 600
CACHE_VERSION = 1

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_WORD = re.compile(r"[^\W\d_]{3,}")
_COMMON = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "but",
        "not",
        "you",
        "all",
        "any",
        "can",
        "had",
        "her",
        "was",
        "one",
        "our",
        "out",
        "has",
        "have",
        "this",
        "that",
        "with",
        "from",
        "they",
        "will",
        "shall",
        "which",
        "their",
        "there",
        "been",
        "into",
        "more",
        "other",
        "such",
        "than",
        "then",
        "them",
        "these",
        "those",
        "what",
        "when",
        "where",
        "who",
        "may",
        "each",
        "also",
        "its",
        "per",
        "any",
        "under",
        "upon",
        "your",
        "about",
        "after",
        "before",
        "between",
    ]
)


def split_sentences(text: str) -> list[str]:
    """Sentences of running text (a heuristic good enough for summaries)."""
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def _is_heading(line: str) -> bool:
    return 0 < len(line) < 70 and len(line.split()) <= 8 and not line.endswith((".", "!", "?", ":", ";", ","))


def extractive_summary(text: str, sentences: int = EXTRACTIVE_SENTENCES, max_chars: int = EXTRACTIVE_MAX_CHARS) -> str:
    """ "Title: " plus the opening sentence and the sentences richest in the document's frequent words.

    Headings are left out, and repeated boilerplate (the same sentence with other numbers)
    counts once, so it cannot crowd out the content.
    """
    lines = [line.strip() for line in text.splitlines()]
    title = next((line for line in lines if line), "")
    title = title if _is_heading(title) else ""
    body = " ".join(line for line in lines if line and not _is_heading(line))
    found: list[str] = []
    seen: set[str] = set()
    for sentence in split_sentences(body):
        shape = re.sub(r"\d+", "#", sentence.lower())
        if len(sentence) >= 15 and shape not in seen:
            seen.add(shape)
            found.append(sentence)
    prefix = f"{title}: " if title else ""
    if not found:
        return (prefix + " ".join(body.split()))[:max_chars] or title
    frequencies = Counter(w for s in found for w in _WORD.findall(s.lower()) if w not in _COMMON)

    def score(sentence: str) -> float:
        words = [w for w in _WORD.findall(sentence.lower()) if w not in _COMMON]
        return sum(frequencies[w] for w in words) / math.sqrt(len(words) + 1)

    ranked = sorted(range(1, len(found)), key=lambda i: -score(found[i]))
    chosen = [0]
    length = len(prefix) + len(found[0])
    for index in ranked:
        if len(chosen) >= sentences:
            break
        if length + len(found[index]) + 1 > max_chars:
            continue
        chosen.append(index)
        length += len(found[index]) + 1
    summary = prefix + " ".join(found[i] for i in sorted(chosen))
    return summary if len(summary) <= max_chars else summary[: max_chars - 1].rstrip() + "…"


def split_chunks(text: str, chunk_chars: int) -> list[str]:
    """Pieces of at most ~`chunk_chars`, cut at paragraph, then sentence boundaries."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if len(paragraph) <= chunk_chars:
            pieces.append(paragraph)
            continue
        for sentence in split_sentences(paragraph):
            while len(sentence) > chunk_chars:  # a "sentence" longer than a chunk: hard cut
                pieces.append(sentence[:chunk_chars])
                sentence = sentence[chunk_chars:]
            pieces.append(sentence)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= chunk_chars:
            chunks[-1] = f"{chunks[-1]}\n{piece}"
        else:
            chunks.append(piece)
    return chunks


def _evenly_spaced(items: list[str], count: int) -> list[str]:
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def read_pdf_text(path: Path, max_pages: int = 300) -> str:
    """The text layer of a PDF, pages separated by blank lines; ToolError for anything unreadable."""
    # Imported here: pypdf costs ~80 ms to import, and most runs never read a PDF.
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError

    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror or exc}") from None
    if b"%PDF-" not in head:
        kind = f" (it is a .{path.suffix.lstrip('.').lower()} file)" if path.suffix else ""
        raise ToolError(f"{path.name} is not a PDF{kind}; summarize_pdf needs a PDF file")
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # many PDFs only restrict printing/copying
            except DependencyError:
                raise ToolError(
                    f"{path.name} is encrypted with AES; reading it needs the 'cryptography' package"
                ) from None
            if not opened:
                raise ToolError(f"{path.name} is encrypted and needs a password; save a decrypted copy first")
        pages: list[str] = []
        for page in reader.pages[:max_pages]:
            try:
                pages.append(page.extract_text() or "")
            except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
                continue  # one broken page should not lose the others
    except ToolError:
        raise
    except DependencyError:  # pypdf tries the empty password itself while opening
        raise ToolError(f"{path.name} is encrypted with AES; reading it needs the 'cryptography' package") from None
    except FileNotDecryptedError:
        raise ToolError(f"{path.name} is encrypted and needs a password; save a decrypted copy first") from None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ToolError(f"{path.name} is damaged or not a valid PDF ({exc})") from None
    text = "\n\n".join(_clean_page(p) for p in pages)
    if sum(ch.isalnum() for ch in text) < MIN_TEXT_CHARS:
        raise ToolError(f"{path.name} has no text layer (it is probably a scan or images); run OCR on it first")
    return text.strip()


def _clean_page(text: str) -> str:
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # words hyphenated across lines
    return re.sub(r"[ \t]+", " ", text).strip()


class PdfSummarizer(PdfApp):
    """`summarize_pdf(pdf_path)` with an optional LLM and an optional on-disk cache."""

    def __init__(
        self,
        llm: LLMBackend | None = None,
        cache_dir: Path | None = None,
        chunk_chars: int = 2400,
        max_chunks: int = 8,
        max_tokens: int = 160,
        seed: int = 0,
    ) -> None:
        self.llm = llm
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.chunk_chars = chunk_chars
        self.max_chunks = max_chunks
        self.max_tokens = max_tokens
        self.seed = seed
        self.llm_calls = 0  # for tests and reports

    # -- public -----------------------------------------------------------------------

    def summarize_pdf(self, pdf_path: str) -> str:
        """A short summary of the PDF at `pdf_path`."""
        path = self._resolve(pdf_path)
        cache_file = self._cache_file(path)
        if cache_file is not None:
            try:
                cached = json.loads(cache_file.read_text(encoding="utf-8"))
                known = cached.get("summary")
                if isinstance(known, str) and known:
                    return known
            except (OSError, ValueError, AttributeError):
                pass
        text = read_pdf_text(path)
        summary = self._summarize_text(text) if self.llm is not None else extractive_summary(text)
        if cache_file is not None:
            try:
                atomic_write_text(cache_file, json.dumps({"path": str(path), "summary": summary}, ensure_ascii=False))
            except OSError:
                pass  # no cache, same answer
        return summary

    # -- internals --------------------------------------------------------------------

    @staticmethod
    def _resolve(pdf_path: object) -> Path:
        if not isinstance(pdf_path, str) or not pdf_path.strip():
            raise ToolError("no PDF path given; find the file with open_and_get_file_path first")
        text = pdf_path.strip().strip("'\"")
        path = Path(text).expanduser()
        if not path.exists():
            raise ToolError(f"no such file: {text}; find the file with open_and_get_file_path first")
        if path.is_dir():
            raise ToolError(f"{text} is a folder, not a PDF file")
        return path.resolve()

    def _cache_file(self, path: Path) -> Path | None:
        if self.cache_dir is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        mode = f"llm:{self.llm.model_name}" if self.llm is not None else "extractive"
        key = f"{CACHE_VERSION}\0{path}\0{stat.st_mtime_ns}\0{stat.st_size}\0{mode}\0{self.chunk_chars}\0{self.max_chunks}"
        return self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def _ask(self, instruction: str, text: str, source: str | None = None) -> str:
        """The model's answer for `text`, kept only where it is grounded in `source` (default: `text`)."""
        messages = [
            Message("system", "You summarize documents accurately and briefly. Use only facts from the text."),
            Message("user", f"{instruction}\n\nText:\n{text}"),
        ]
        options = GenerationOptions(max_tokens=self.max_tokens, temperature=0.0, seed=self.seed)
        self.llm_calls += 1
        try:
            answer = self.llm.complete(messages, options).text  # type: ignore[union-attr]
        except (PocketAgentError, RuntimeError, ValueError, OSError):
            return ""  # the extractive fallback takes over
        return grounded(" ".join(answer.split()), text if source is None else source)

    def _summarize_text(self, text: str) -> str:
        chunks = _evenly_spaced(split_chunks(text, self.chunk_chars), self.max_chunks)
        if len(chunks) == 1:
            summary = self._ask("Summarize this document in 2-4 sentences.", chunks[0])
            return summary if _usable(summary) else extractive_summary(text)
        partials = []
        for chunk in chunks:  # map
            part = self._ask("Summarize this part of a document in 1-2 sentences.", chunk)
            partials.append(part if _usable(part) else extractive_summary(chunk, sentences=2, max_chars=300))
        while True:  # reduce, in groups that fit one prompt
            joined = "\n".join(partials)
            if len(joined) <= self.chunk_chars or len(partials) == 1:
                summary = self._ask(
                    "These are notes on parts of one document. Write one summary of 3-5 sentences.", joined, text
                )
                return summary if _usable(summary) else extractive_summary(joined)
            groups = split_chunks("\n\n".join(partials), self.chunk_chars)
            if len(groups) >= len(partials):  # cannot shrink by grouping: cut to what fits
                partials = [joined[: self.chunk_chars]]
                continue
            partials = [self._ask("Combine these notes into 2-3 sentences.", g, text) or g[:300] for g in groups]


def _usable(summary: str) -> bool:
    return sum(ch.isalpha() for ch in summary) >= 20


_NUMBER = re.compile(r"\d[\d,.]*\d|\d")


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def grounded(summary: str, source: str) -> str:
    """`summary` without sentences that repeat or state numbers absent from `source` ("" if nothing is left).

    Small models invent figures ("a 22-year term"); a number that is not in the document
    is the cheapest reliable sign of an invented sentence.
    """
    known = _numbers(source)
    kept: list[str] = []
    seen: set[str] = set()
    for sentence in split_sentences(summary):
        key = " ".join(sentence.lower().split())
        if key in seen or not _numbers(sentence) <= known:
            continue
        seen.add(key)
        kept.append(sentence)
    text = " ".join(kept)
    return text if _usable(text) else ""
