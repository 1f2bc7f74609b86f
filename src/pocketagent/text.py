"""Text folding shared by the layers: the comparison form of a name.

Both the plan guard ("does the request name this person?") and the local backends' fuzzy
matching compare names this way, as do the dataset checks and near-duplicate filter; it lives
in the bottom layer so every layer folds accents the same way (one `_FOLD` table).
"""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
        "Þ": "TH",
        "ı": "i",
    }
)


def fold_accents(text: str) -> str:
    """Case-folded, accent-free form with punctuation kept: "Łukasz Zoë-Ann" -> "lukasz zoe-ann".

    Letters NFKD does not decompose (ø, ł, ß, æ, ...) are spelled out by `_FOLD`. Decomposing
    both before and after case folding matters: either step can expose the other's input
    ("Ǿ" decomposes to "Ø" + accent; casefold turns some letters into a base + accent).
    """
    text = unicodedata.normalize("NFKD", text).translate(_FOLD)
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def normalize_name(text: str) -> str:
    """Lower-case, accent-free, punctuation-free form of a name, for comparisons."""
    text = re.sub(r"['’ʼ`]", "", fold_accents(text))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


# Numbers as people say them in durations and counts ("fifty minutes", "two hours").
NUMBER_WORDS = {
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    10: "ten",
    15: "fifteen",
    20: "twenty",
    30: "thirty",
    40: "forty",
    45: "forty-five",
    50: "fifty",
    90: "ninety",
}


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def looks_like_email(text: str) -> bool:
    """Whether `text` is written like one email address ("ana@example.com")."""
    return bool(_EMAIL.match(text.strip()))
