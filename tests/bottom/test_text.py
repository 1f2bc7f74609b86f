"""Accent folding of the bottom layer: one table and one function for every layer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pocketagent.data.dedup import normalize_query
from pocketagent.text import fold_accents, normalize_name


def test_fold_accents_spells_out_letters_nfkd_keeps() -> None:
    assert fold_accents("Łukasz Søren-Strauß ZOË") == "lukasz soren-strauss zoe"
    assert fold_accents("Ǿrsted") == "orsted"  # decomposes to Ø + accent, then the table applies


def test_normalize_name_drops_punctuation_and_apostrophes() -> None:
    assert normalize_name("  O’Brien, Zoë-Ann! ") == "obrien zoe ann"
    assert normalize_query("Text  Zoë!") == "text zoe"


@given(st.text())
def test_folding_is_idempotent_and_accent_free(text: str) -> None:
    once = fold_accents(text)
    assert fold_accents(once) == once
    assert normalize_name(normalize_name(text)) == normalize_name(text)
