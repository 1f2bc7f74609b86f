"""Finding files by a few words of their name, fast, over large trees.

`FileIndex` keeps the names of all files under the search roots, by directory, with each
directory's mtime. Adding, removing or renaming an entry changes its directory's mtime,
so a refresh only stats the known directories and rescans the ones that changed: cheap
enough to do before every search (see benchmarks/files_index_bench.py). The index is
cached on disk (JSON, written atomically) so that each CLI run does not rescan the tree.

Matching is token based and accent-insensitive: names and queries are split into words
(at spaces, punctuation, digit/letter and camelCase boundaries, accents folded), so
"insurance policy" finds "Insurance_Policy_2026.pdf" and "cafe menu" finds "Café Menü.pdf".
Type words ("pdf", "spreadsheet", "photo") select extensions instead of name words.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Indel

from pocketagent.atomic import atomic_write_text, locked, remove_stale_temp_files
from pocketagent.backends.opener import DesktopOpener
from pocketagent.errors import ToolError
from pocketagent.text import fold_accents
from pocketagent.tools.protocols import FilesApp

CACHE_VERSION = 3  # 3: names folded by pocketagent.text.fold_accents
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})
MATCH_THRESHOLD = 0.66

STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "my",
        "our",
        "your",
        "his",
        "her",
        "their",
        "this",
        "that",
        "file",
        "files",
        "called",
        "named",
        "of",
        "for",
        "and",
        "to",
        "in",
        "on",
    ]
)
# Words that name a kind of file; they pick extensions rather than match name words.
TYPE_WORDS: dict[str, frozenset[str]] = {
    word: frozenset(exts.split())
    for word, exts in {
        "pdf": "pdf",
        "spreadsheet": "xlsx xls ods csv numbers",
        "sheet": "xlsx xls ods csv numbers",
        "excel": "xlsx xls",
        "csv": "csv",
        "doc": "doc docx odt pages rtf",
        "docx": "docx",
        "document": "pdf doc docx odt pages rtf txt md",
        "word": "doc docx",
        "presentation": "pptx ppt key odp",
        "slides": "pptx ppt key odp pdf",
        "deck": "pptx ppt key odp pdf",
        "photo": "jpg jpeg png heic gif webp",
        "picture": "jpg jpeg png heic gif webp",
        "image": "jpg jpeg png heic gif webp svg",
        "txt": "txt",
        "markdown": "md",
    }.items()
}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TOKEN = re.compile(r"[^\W\d_]+|\d+")


def fold(text: str) -> str:
    """Lowercase, accents removed ("Erdoğan" → "erdogan")."""
    if text.isascii():
        return text.lower()  # the common case, 20x faster than normalizing
    return fold_accents(text)


def name_tokens(text: str) -> list[str]:
    """Words of a file name or query: split at camelCase, digits and punctuation, folded."""
    return _TOKEN.findall(fold(_CAMEL.sub(" ", text)))


def query_words(query: str) -> list[str]:
    """The name words of a query (type words and stopwords removed)."""
    return [w for w in name_tokens(query) if w not in TYPE_WORDS and w not in STOPWORDS]


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


@dataclass(frozen=True)
class FileMatch:
    path: Path
    score: float


@dataclass
class _Dir:
    mtime_ns: int
    files: list[str]
    subdirs: list[str]
    tokens: list[str] = field(default_factory=list)  # per file, space-joined; cached so loading skips tokenizing


class FileIndex:
    """File names under `roots`, refreshed incrementally and cached at `cache_path`."""

    def __init__(self, roots: Sequence[Path], cache_path: Path | None = None, include_hidden: bool = False) -> None:
        self.roots = [Path(root).expanduser().resolve() for root in roots]
        self.cache_path = cache_path
        self.include_hidden = include_hidden
        if cache_path is not None:  # temp files of a cache write killed midway
            remove_stale_temp_files(Path(cache_path).parent)
        self._dirs: dict[str, _Dir] | None = None
        self._files: list[tuple[str, str] | None] = []  # (directory, name); None once removed
        self._tokens: list[tuple[str, ...]] = []
        self._postings: dict[str, list[int]] = {}
        self._vocabulary: list[str] = []
        self._dir_ids: dict[str, list[int]] = {}
        self._dead = 0

    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> FileIndex:
        """An in-memory index over given file paths (e.g. Spotlight results); nothing is scanned."""
        index = cls([], cache_path=None)
        dirs: dict[str, _Dir] = {}
        for path in paths:
            entry = dirs.setdefault(str(Path(path).parent), _Dir(0, [], []))
            entry.files.append(Path(path).name)
        index._install(dirs)
        return index

    # -- scanning -------------------------------------------------------------------------

    def _visible(self, name: str) -> bool:
        return self.include_hidden or not name.startswith(".")

    def _scan_dir(self, path: str) -> _Dir | None:
        try:
            mtime_ns = os.stat(path).st_mtime_ns
            files: list[str] = []
            subdirs: list[str] = []
            with os.scandir(path) as entries:
                for entry in entries:
                    if not self._visible(entry.name):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if entry.name not in SKIPPED_DIRS:
                                subdirs.append(entry.name)
                        elif entry.is_file():
                            files.append(entry.name)
                    except OSError:
                        continue
        except OSError:  # vanished or unreadable: not indexed
            return None
        return _Dir(mtime_ns, sorted(files), sorted(subdirs))

    def _scan_tree(self, top: str, into: dict[str, _Dir]) -> set[str]:
        added: set[str] = set()
        stack = [top]
        while stack:
            path = stack.pop()
            found = self._scan_dir(path)
            if found is None:
                continue
            into[path] = found
            added.add(path)
            stack.extend(os.path.join(path, sub) for sub in found.subdirs)
        return added

    def rebuild(self) -> None:
        """Scan every root from scratch."""
        dirs: dict[str, _Dir] = {}
        for root in self.roots:
            self._scan_tree(str(root), dirs)
        self._install(dirs)
        self._save()

    def refresh(self) -> bool:
        """Bring the index up to date (load the cache, rescan changed directories); True if anything changed."""
        if self._dirs is None:
            cached = self._load()
            if cached is None:
                self.rebuild()
                return True
            self._install(cached)
        dirs = self._dirs if self._dirs is not None else {}
        changed = self._update(dirs)
        if changed:
            self._reindex(dirs, changed)
            self._save()
        return bool(changed)

    def _update(self, dirs: dict[str, _Dir]) -> set[str]:
        """Rescan directories whose mtime changed; the paths whose file lists may differ."""
        changed: set[str] = set()
        for root in self.roots:
            if str(root) not in dirs and root.is_dir():
                changed |= self._scan_tree(str(root), dirs)
        for path in list(dirs):
            entry = dirs.get(path)
            if entry is None:
                continue  # dropped with an ancestor
            try:
                mtime_ns = os.stat(path).st_mtime_ns
            except OSError:
                changed |= self._drop_tree(dirs, path)
                continue
            if mtime_ns == entry.mtime_ns:
                continue
            fresh = self._scan_dir(path)
            if fresh is None:
                changed |= self._drop_tree(dirs, path)
                continue
            dirs[path] = fresh
            changed.add(path)
            for gone in set(entry.subdirs) - set(fresh.subdirs):
                changed |= self._drop_tree(dirs, os.path.join(path, gone))
            for new in set(fresh.subdirs) - set(entry.subdirs):
                changed |= self._scan_tree(os.path.join(path, new), dirs)
        return changed

    @staticmethod
    def _drop_tree(dirs: dict[str, _Dir], path: str) -> set[str]:
        dropped: set[str] = set()
        stack = [path]
        while stack:
            current = stack.pop()
            entry = dirs.pop(current, None)
            if entry is not None:
                dropped.add(current)
                stack.extend(os.path.join(current, sub) for sub in entry.subdirs)
        return dropped

    # -- the in-memory token index -----------------------------------------------------------
    #
    # Files get integer ids; `_postings` maps a name word to the ids of files containing it.
    # A refresh retires the ids of changed directories (tombstones: `None`) and appends new
    # ones, so its cost follows what changed; the index is rebuilt when tombstones pile up.

    def _install(self, dirs: dict[str, _Dir]) -> None:
        self._dirs = dirs
        self._files, self._tokens, self._postings, self._vocabulary = [], [], {}, []
        self._dir_ids = {}
        self._dead = 0
        for directory, entry in dirs.items():
            self._index_dir(directory, entry)

    def _index_dir(self, directory: str, entry: _Dir) -> None:
        if len(entry.tokens) != len(entry.files):
            entry.tokens = [" ".join(dict.fromkeys(name_tokens(name))) for name in entry.files]
        self._dir_ids[directory] = [
            self._add_file(directory, name, tuple(words.split(" ")) if words else ())
            for name, words in zip(entry.files, entry.tokens)
        ]

    def _add_file(self, directory: str, name: str, words: tuple[str, ...]) -> int:
        file_id = len(self._files)
        self._files.append((directory, name))
        self._tokens.append(words)
        for word in words:
            ids = self._postings.get(word)
            if ids is None:
                self._postings[word] = [file_id]
                self._vocabulary.append(word)
            else:
                ids.append(file_id)
        return file_id

    def _reindex(self, dirs: dict[str, _Dir], paths: set[str]) -> None:
        for path in paths:
            for file_id in self._dir_ids.pop(path, []):
                self._files[file_id] = None
                self._tokens[file_id] = ()
                self._dead += 1
            entry = dirs.get(path)
            if entry is not None:
                self._index_dir(path, entry)
        if self._dead > max(1000, len(self._files) // 3):
            self._install(dirs)

    # -- cache ----------------------------------------------------------------------------

    def _load(self) -> dict[str, _Dir] | None:
        if self.cache_path is None:
            return None
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
            if data.get("version") != CACHE_VERSION or data.get("roots") != [str(r) for r in self.roots]:
                return None
            if data.get("include_hidden") != self.include_hidden:
                return None
            return {path: _Dir(int(m), list(f), list(s), list(t)) for path, (m, f, s, t) in data["dirs"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing or damaged cache: rescan

    def _save(self) -> None:
        if self.cache_path is None or self._dirs is None:
            return
        payload = {
            "version": CACHE_VERSION,
            "roots": [str(r) for r in self.roots],
            "include_hidden": self.include_hidden,
            "dirs": {path: [d.mtime_ns, d.files, d.subdirs, d.tokens] for path, d in self._dirs.items()},
        }
        try:
            with locked(self.cache_path):
                atomic_write_text(self.cache_path, json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
        except OSError:
            pass  # a cache we cannot write only costs a rescan next time

    # -- searching ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._files) - self._dead

    def paths(self) -> Iterable[Path]:
        return (Path(*entry) for entry in self._files if entry is not None)

    def _similar_tokens(self, word: str) -> dict[str, float]:
        """Vocabulary words like `word`, with a similarity in (0, 1]."""
        similar: dict[str, float] = {}
        if word in self._postings:
            similar[word] = 1.0
        if len(word) >= 2:
            for token in self._vocabulary:
                if token != word and word in token:
                    similar[token] = 0.85 if token.startswith(word) else 0.75
                elif len(token) >= 3 and word.startswith(token) and len(word) - len(token) <= 3:
                    similar.setdefault(token, 0.7)  # "policies" → "polic..." style stems
        if len(word) >= 4 and word not in self._postings:  # typos: only when the word itself is unknown
            size = len(word)
            near = [t for t in self._vocabulary if abs(len(t) - size) <= 2 and (t[0] == word[0] or t[-1] == word[-1])]
            close = process.extract(word, near, scorer=Indel.normalized_similarity, limit=8, score_cutoff=0.8)
            for token, ratio, _ in close:
                similar[token] = max(similar.get(token, 0.0), 0.8 * ratio)
        return similar

    def search(self, query: str, limit: int = 5) -> list[FileMatch]:
        """Best matching files for a few words of a name, best first (scores in [0, ~1.2]).

        The score is the mean over query words of the best similarity to a word of the
        name, plus up to 0.1 for how much of the name the query covers (so "budget" prefers
        "budget.pdf" to "offsite budget.pdf") and ±0.1 when type words ("pdf") match or not.
        """
        words = name_tokens(query)
        wanted_exts: set[str] = set()
        content: list[str] = []
        for word in words:
            if word in TYPE_WORDS:
                wanted_exts |= TYPE_WORDS[word]
            elif word not in STOPWORDS:
                content.append(word)
        if not content and not wanted_exts:
            content = [w for w in words if w in STOPWORDS]
        files = self._files
        if content:
            similarities = [self._similar_tokens(word) for word in content]
            base: dict[int, float] = {}
            for similar in similarities:
                best: dict[int, float] = {}
                for token, similarity in similar.items():
                    for file_id in self._postings[token]:
                        if best.get(file_id, 0.0) < similarity:
                            best[file_id] = similarity
                for file_id, similarity in best.items():
                    base[file_id] = base.get(file_id, 0.0) + similarity / len(similarities)
            # Bonuses add at most 0.2: only files within that of the best base score can win.
            top = max(base.values(), default=0.0)
            shortlist = [(s, i) for i, s in base.items() if files[i] is not None and s >= top - 0.2]
            if len(shortlist) < limit:
                shortlist = heapq.nlargest(limit * 4, ((s, i) for i, s in base.items() if files[i] is not None))
            scored = []
            for score, file_id in shortlist:
                ext = _extension(files[file_id][1])  # type: ignore[index]
                named = [t for t in self._tokens[file_id] if t != ext and not t.isdigit()] or list(
                    self._tokens[file_id]
                )
                covered = sum(1 for t in named if any(t in s for s in similarities))
                score += 0.1 * covered / len(named)
                if wanted_exts:
                    score += 0.1 if ext in wanted_exts else -0.05
                scored.append((score, file_id))
        else:
            scored = [
                (1.0, i) for i, entry in enumerate(files) if entry is not None and _extension(entry[1]) in wanted_exts
            ]

        def order(item: tuple[float, int]) -> tuple[float, int, str]:
            directory, name = files[item[1]]  # type: ignore[misc]
            return (-item[0], directory.count(os.sep), name)

        scored.sort(key=order)
        return [FileMatch(Path(*files[i]), round(score, 4)) for score, i in scored[:limit]]  # type: ignore[misc]

    def closest_names(self, query: str, limit: int = 3) -> list[str]:
        """File names that look most like `query`, for "did you mean" messages."""
        folded = {fold(entry[1]): entry[1] for entry in self._files if entry is not None}
        close = process.extract(
            fold(query), list(folded), scorer=Indel.normalized_similarity, limit=limit, score_cutoff=0.3
        )
        return [folded[name] for name, _, _ in close]


def _most_recent(paths: Sequence[Path]) -> Path:
    def mtime(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    return max(paths, key=mtime)


class LocalFiles(FilesApp):
    """`open_and_get_file_path` over local search roots (default: $POCKETAGENT_HOME/files)."""

    def __init__(
        self,
        roots: Sequence[Path],
        cache_path: Path | None = None,
        opener: DesktopOpener | None = None,
        include_hidden: bool = False,
    ) -> None:
        if not roots:
            raise ToolError("no folders to search for files are configured")
        self.index = FileIndex(roots, cache_path=cache_path, include_hidden=include_hidden)
        self._opener = opener if opener is not None else DesktopOpener()
        # The tool threads of a run share this app; a refresh rewrites the index's lists and
        # postings in place, so refreshing and searching must not overlap.
        self._index_lock = threading.Lock()

    def find(self, file_name: str) -> Path:
        """The best matching file; ToolError with the closest names when nothing matches well."""
        if not isinstance(file_name, str) or not file_name.strip():
            raise ToolError("the file name is empty; say which file to open")
        text = file_name.strip()
        direct = Path(text).expanduser()
        if direct.is_absolute() and direct.is_file():
            return direct
        for root in self.index.roots:
            if (root / text).is_file():
                return root / text
        with self._index_lock:
            self.index.refresh()
            matches = self.index.search(text, limit=10)
            good = [m for m in matches if m.score >= MATCH_THRESHOLD]
            near: list[str] = []
            if not good:
                near = [m.path.name for m in matches[:3]] or self.index.closest_names(text)
        if not good:
            roots = ", ".join(str(r) for r in self.index.roots)
            hint = f"; closest names: {', '.join(near)}" if near else ""
            raise ToolError(f"no file matching {text!r} in {roots}{hint}")
        best = [m.path for m in good if m.score == good[0].score]
        return best[0] if len(best) == 1 else _most_recent(best)

    def open_and_get_file_path(self, file_name: str) -> str:
        """Find the file, open it where a display exists, and return its absolute path."""
        path = self.find(file_name)
        self._opener.open(str(path))
        return str(path)
