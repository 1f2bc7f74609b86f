"""Files: fuzzy, accent-insensitive name search over an incrementally refreshed, cached index."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pocketagent.backends.local.files import CACHE_VERSION, FileIndex, LocalFiles, fold, name_tokens
from pocketagent.backends.opener import DesktopOpener
from pocketagent.errors import ToolError

NAMES = [
    "Documents/Insurance/Insurance_Policy_2026.pdf",
    "Documents/Insurance/InsuranceClaim.pdf",
    "Documents/Finance/budget.pdf",
    "Work/Offsite/offsite budget.pdf",
    "Work/headcount.xlsx",
    "Work/Legal/NDA.pdf",
    "Recipes/Café Menü.pdf",
    "Recipes/Crème brûlée.txt",
    "Travel/itinerary.pdf",
    "Travel/Eren Erdoğan passport scan.jpg",
    ".hidden/secret budget.pdf",
]


def make_tree(root: Path, names=NAMES) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return root


@pytest.fixture
def files(tmp_path: Path) -> LocalFiles:
    root = make_tree(tmp_path / "files")
    return LocalFiles([root], cache_path=tmp_path / "cache" / "files.json", opener=DesktopOpener(enabled=False))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("insurance policy", "Insurance_Policy_2026.pdf"),
        ("the insurance policy pdf", "Insurance_Policy_2026.pdf"),
        ("insurance polcy", "Insurance_Policy_2026.pdf"),  # typo
        ("budget", "budget.pdf"),  # the name that is only "budget" beats "offsite budget"
        ("offsite budget", "offsite budget.pdf"),
        ("budget.pdf", "budget.pdf"),
        ("headcount spreadsheet", "headcount.xlsx"),
        ("NDA", "NDA.pdf"),
        ("cafe menu", "Café Menü.pdf"),
        ("creme brulee", "Crème brûlée.txt"),
        ("Eren Erdogan passport", "Eren Erdoğan passport scan.jpg"),
        ("itinerary", "itinerary.pdf"),
        ("insurance claim", "InsuranceClaim.pdf"),  # camelCase split
    ],
)
def test_fuzzy_names(files, query, expected):
    assert Path(files.open_and_get_file_path(query)).name == expected


def test_returns_absolute_existing_path(files, tmp_path):
    path = Path(files.open_and_get_file_path("itinerary"))
    assert path.is_absolute() and path.is_file() and path.parent.name == "Travel"
    assert files.open_and_get_file_path(str(path)) == str(path)  # a path is taken as is
    assert Path(files.open_and_get_file_path("Work/Legal/NDA.pdf")).name == "NDA.pdf"  # relative to a root


def test_missing_file_names_the_closest(files):
    with pytest.raises(ToolError, match=r"no file matching 'insurance renewal letter' in .*closest names: .*Insurance"):
        files.open_and_get_file_path("insurance renewal letter")
    with pytest.raises(ToolError, match="file name is empty"):
        files.open_and_get_file_path("  ")


def test_hidden_directories_are_not_searched(files):
    with pytest.raises(ToolError, match="no file matching 'secret'"):
        files.open_and_get_file_path("secret")
    assert all(".hidden" not in str(p) for p in files.index.paths())


def test_index_refreshes_incrementally(tmp_path):
    root = make_tree(tmp_path / "files")
    index = FileIndex([root], cache_path=tmp_path / "cache.json")
    assert index.refresh() is True and len(index) == 10
    assert index.refresh() is False  # nothing changed: only directory stats

    (root / "Travel" / "boarding pass.pdf").write_bytes(b"x")  # new file in a known dir
    (root / "New" / "Deep").mkdir(parents=True)  # new directories
    (root / "New" / "Deep" / "lease renewal.pdf").write_bytes(b"x")
    (root / "Work" / "Legal" / "NDA.pdf").unlink()  # removed file
    (root / "Recipes").rename(root / "Cooking")  # renamed directory
    assert index.refresh() is True
    names = {p.relative_to(root).as_posix() for p in index.paths()}
    assert "Travel/boarding pass.pdf" in names and "New/Deep/lease renewal.pdf" in names
    assert "Work/Legal/NDA.pdf" not in names
    assert "Cooking/Café Menü.pdf" in names and not any(n.startswith("Recipes/") for n in names)
    assert index.search("lease renewal")[0].path == root / "New" / "Deep" / "lease renewal.pdf"
    assert all(m.path.name != "NDA.pdf" for m in index.search("NDA"))  # removed files are never returned
    assert index.search("cafe menu")[0].path == root / "Cooking" / "Café Menü.pdf"


def test_many_removals_compact_the_index(tmp_path):
    root = make_tree(tmp_path / "files", [f"bulk/scan {n}.jpg" for n in range(1500)] + ["keep/lease.pdf"])
    index = FileIndex([root])
    index.refresh()
    for path in (root / "bulk").iterdir():
        path.unlink()
    (root / "bulk" / "scan final.jpg").write_bytes(b"x")
    assert index.refresh() is True
    assert len(index) == 2 and sorted(p.name for p in index.paths()) == ["lease.pdf", "scan final.jpg"]
    assert [m.path.name for m in index.search("scan")] == ["scan final.jpg"]


def test_cache_is_reused_by_a_new_process_and_survives_damage(tmp_path):
    root = make_tree(tmp_path / "files")
    cache = tmp_path / "cache.json"
    FileIndex([root], cache_path=cache).refresh()
    data = json.loads(cache.read_text())
    assert data["roots"] == [str(root.resolve())] and len(data["dirs"]) >= 8

    again = FileIndex([root], cache_path=cache)
    assert again.refresh() is False  # loaded from the cache, nothing rescanned
    assert len(again) == 10

    cache.write_text("{not json")
    damaged = FileIndex([root], cache_path=cache)
    assert damaged.refresh() is True and len(damaged) == 10
    assert json.loads(cache.read_text())["version"] == CACHE_VERSION  # rewritten

    other_root = make_tree(tmp_path / "other", ["a/report.pdf"])
    other = FileIndex([other_root], cache_path=cache)
    assert other.refresh() is True  # a cache of other roots is not used
    assert [p.name for p in other.paths()] == ["report.pdf"]


def test_symlink_loops_are_not_followed(tmp_path):
    root = make_tree(tmp_path / "files", ["a/b/report.pdf"])
    os.symlink(root / "a", root / "a" / "b" / "loop")
    index = FileIndex([root])
    index.refresh()
    assert [p.name for p in index.paths()] == ["report.pdf"]


def test_several_roots_and_a_missing_root(tmp_path):
    one = make_tree(tmp_path / "one", ["x/alpha notes.txt"])
    two = make_tree(tmp_path / "two", ["beta plan.pdf"])
    files = LocalFiles([one, two, tmp_path / "missing"], opener=DesktopOpener(enabled=False))
    assert Path(files.open_and_get_file_path("beta plan")).parent == two.resolve()
    assert Path(files.open_and_get_file_path("alpha notes")).name == "alpha notes.txt"


def test_ties_go_to_the_most_recently_modified(tmp_path):
    root = make_tree(tmp_path / "files", ["2025/taxes.pdf", "2026/taxes.pdf"])
    os.utime(root / "2025" / "taxes.pdf", (1_700_000_000, 1_700_000_000))
    files = LocalFiles([root], opener=DesktopOpener(enabled=False))
    assert Path(files.open_and_get_file_path("taxes")).parent.name == "2026"


def test_opens_the_file_when_a_display_exists(tmp_path):
    root = make_tree(tmp_path / "files", ["NDA.pdf"])
    log = tmp_path / "opened.txt"
    fake = tmp_path / "bin" / "xdg-open"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\n')
    fake.chmod(0o755)

    class Recording(DesktopOpener):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.launched = []

        def launch(self, target):
            process = super().launch(target)
            self.launched.append(process)
            return process

    opener = Recording(env={"PATH": str(fake.parent), "DISPLAY": ":0"}, platform="linux")
    path = LocalFiles([root], opener=opener).open_and_get_file_path("nda")
    (process,) = opener.launched
    assert process.wait(timeout=30) == 0
    assert log.read_text().strip() == path


@given(st.text(max_size=40))
def test_tokens_are_folded_and_stable(text):
    tokens = name_tokens(text)
    assert all(t == fold(t) and t for t in tokens)
    assert name_tokens(" ".join(tokens)) == tokens


def test_tokens_examples():
    assert name_tokens("Insurance_Policy_2026.pdf") == ["insurance", "policy", "2026", "pdf"]
    assert name_tokens("InsuranceClaim") == ["insurance", "claim"]
    assert name_tokens("Straße Ørsted Łódź") == ["strasse", "orsted", "lodz"]


@pytest.mark.slow
def test_parallel_lookups_while_files_change_share_the_index_safely(tmp_path):
    """Issue #11: the tool threads of a run share one LocalFiles and its in-memory index.

    A refresh rebuilds the index's lists and postings while another thread searches them;
    without a lock, lookups failed with IndexError, KeyError or ZeroDivisionError.
    """
    import sys
    import threading

    root = tmp_path / "files"
    for d in range(6):
        make_tree(root / f"d{d}", [f"report {d} {n}.pdf" for n in range(300)])
    files = LocalFiles([root], cache_path=None, opener=DesktopOpener(enabled=False))
    errors: list[BaseException] = []
    found: list[str] = []

    def churn(d: int) -> None:
        try:
            for n in range(300, 340):  # each change makes the next lookup reindex that directory
                (root / f"d{d}" / f"report {d} {n}.pdf").write_bytes(b"x")
                (root / f"d{d}" / f"report {d} {n - 300}.pdf").unlink()
                found.append(files.find(f"report {d} {n}").name)
        except BaseException as exc:  # noqa: BLE001 - every failure is the bug
            errors.append(exc)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up at once
    try:
        threads = [threading.Thread(target=churn, args=(d,)) for d in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old_interval)
    assert errors == []
    assert sorted(found) == sorted(f"report {d} {n}.pdf" for d in range(6) for n in range(300, 340))
