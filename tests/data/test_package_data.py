"""Generator pools and phrase tables as package data: they load typed, complete, and a broken file is one clear error."""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from pocketagent.data.generate.pools import Pools, load_pools
from pocketagent.data.generate.render import REGISTERS, Phrases, load_phrases
from pocketagent.data.package_files import load_package_toml, package_tree, read_package_bytes
from pocketagent.errors import PackageDataError


def _raw(name: str) -> dict[str, Any]:
    return tomllib.loads(files("pocketagent.data.generate").joinpath(name).read_text("utf-8"))


def test_pools_file_has_exactly_the_typed_pools():
    assert set(_raw("pools.toml")) == set(Pools.model_fields)
    pools = load_pools()
    assert load_pools() is pools  # read once
    for name in Pools.model_fields:
        assert isinstance(getattr(pools, name), tuple) and getattr(pools, name), name


def test_people_keep_their_pronoun_and_file_order():
    raw_people = _raw("pools.toml")["people"]
    assert isinstance(raw_people, dict) and list(raw_people) == ["her", "him", "them"]
    people = load_pools().people
    assert [p.name for p in people] == [name for names in raw_people.values() for name in names]
    assert {p.pronoun for p in people} == {"her", "him", "them"}
    assert all(p.name == p.name.strip() and p.name for p in people)
    assert any(not p.name.isascii() for p in people)  # non-ASCII spellings are part of the point


def test_pool_values_look_like_what_they_stand_for():
    pools = load_pools()
    assert all(re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", address) for address in pools.email_addresses)
    assert all(sum(c.isdigit() for c in phone) >= 7 for phone in pools.phone_numbers)
    assert all(len(topic) == 3 and topic.words and topic.subject for topic in pools.email_topics)
    assert all(suffix == "" or suffix.startswith(" ") for suffix in pools.file_suffixes)


def test_phrases_cover_every_register_and_keep_order():
    raw = _raw("phrases.toml")
    assert set(raw) == set(Phrases.model_fields)
    phrases = load_phrases()
    assert set(phrases.connectors) == set(REGISTERS)
    assert phrases.polite_prefix == tuple(raw["polite_prefix"])
    assert all(verb.islower() and " " not in verb for verb in phrases.imperative_verbs)
    assert all(word not in typos for word, typos in phrases.misspellings.items())
    assert all(full != short for full, short in (*phrases.contractions, *phrases.abbreviations))


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real importable package on sys.path, to hold broken data files (imported afresh per test)."""
    root = tmp_path / "fixture_data_pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("fixture_data_pkg", None)
    yield root
    sys.modules.pop("fixture_data_pkg", None)


class _Small(BaseModel):
    names: tuple[str, ...]


def test_a_missing_file_is_a_package_data_error_naming_it(package: Path):
    with pytest.raises(PackageDataError, match=r"fixture_data_pkg:nowhere\.toml"):
        load_package_toml(_Small, "fixture_data_pkg", "nowhere.toml")
    with pytest.raises(PackageDataError, match="missing"):
        package_tree("fixture_data_pkg", "no-folder")


def test_invalid_toml_and_a_wrong_shape_are_package_data_errors(package: Path):
    (package / "bad.toml").write_text('names = ["a", \n')
    with pytest.raises(PackageDataError, match="not valid TOML"):
        load_package_toml(_Small, "fixture_data_pkg", "bad.toml")
    (package / "shape.toml").write_text("names = 3\n")
    with pytest.raises(PackageDataError, match=r"malformed: names"):
        load_package_toml(_Small, "fixture_data_pkg", "shape.toml")
    (package / "good.toml").write_text('names = ["a", "b"]\n')
    assert load_package_toml(_Small, "fixture_data_pkg", "good.toml").names == ("a", "b")


def test_package_tree_is_sorted_byte_exact_and_skips_hidden_files(package: Path):
    tree = package / "tree"
    (tree / "b" / "__pycache__").mkdir(parents=True)
    (tree / "b" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (tree / "b" / "z.txt").write_bytes(b"line\r\n")
    (tree / "a.txt").write_bytes("é\n".encode())
    (tree / ".DS_Store").write_bytes(b"junk")
    assert package_tree("fixture_data_pkg", "tree") == [("a.txt", "é\n".encode()), ("b/z.txt", b"line\r\n")]
    assert read_package_bytes("fixture_data_pkg", "tree", "b", "z.txt") == b"line\r\n"
