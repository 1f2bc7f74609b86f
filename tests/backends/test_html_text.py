"""HTML mail bodies to readable text (backends/local/html_text.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pocketagent.backends.local.html_text import html_to_text


def test_scripts_styles_and_the_head_are_dropped() -> None:
    markup = (
        "<html><head><title>Newsletter</title><style>p { color: red }</style></head>"
        "<body><script>alert('x < y')</script><p>Hello</p><script src=a.js></script></body></html>"
    )
    assert html_to_text(markup) == "Hello"


def test_blocks_become_lines_and_paragraphs_blank_lines() -> None:
    markup = "<p>Hi Ana,</p><p>line one<br>line two<br/>line three</p><ul><li>tea</li><li>cake</li></ul><div>Bye</div>"
    assert html_to_text(markup) == "Hi Ana,\n\nline one\nline two\nline three\n\ntea\ncake\n\nBye"


def test_table_rows_are_lines_and_cells_are_spaced() -> None:
    assert html_to_text("<table><tr><td>Room</td><td>B2</td></tr><tr><th>Time</th><td>10:00</td></tr></table>") == (
        "Room B2\nTime 10:00"
    )


def test_entities_are_decoded_and_whitespace_collapsed() -> None:
    assert html_to_text("Tom &amp; Jerry&nbsp;&lt;3 &#233;t&eacute;\n\n   <b>  bold  </b>") == "Tom & Jerry <3 été bold"


def test_nested_inline_tags_keep_their_words_in_order() -> None:
    assert html_to_text("<p><b>Budget <i>draft <u>v2</u></i></b> is <a href='x'>here</a>.</p>") == (
        "Budget draft v2 is here."
    )


def test_malformed_markup_still_gives_its_text() -> None:
    assert html_to_text("<p>unclosed <div><b>bold<p>next") == "unclosed\nbold\n\nnext"
    assert html_to_text("<title>never closed<body>Body text") == "Body text"
    assert html_to_text("before<script>never closed") == "before"
    assert html_to_text("a </p></div></b> b") == "a\n\nb"


def test_preformatted_text_keeps_its_line_breaks() -> None:
    assert html_to_text("<pre>total   12\nvat      2</pre>") == "total 12\nvat 2"


@given(st.text(alphabet=st.sampled_from(list("<>/&;#!-=\"' abpdivscrt\n")) | st.characters(), max_size=200))
def test_never_raises_and_never_leaves_a_blank_line_run(markup: str) -> None:
    text = html_to_text(markup)
    assert "\n\n\n" not in text and text == text.strip("\n ")
