"""Answer markup for the chat page: markers of cited sources become our links, nothing else can."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.markup import as_text, cited_markdown

_TAG = re.compile(r"<(/?)([a-z0-9]+)([^>]*)>")


def test_only_cited_markers_become_links() -> None:
    marked = cited_markdown("Signed [1]. Disputed [2]. Both [1, 2]; unknown [7].", [1, 2])
    assert marked == (r"Signed [\[1\]](#ca-cite-1)\. Disputed [\[2\]](#ca-cite-2)\. "
                      r"Both \[[1](#ca-cite-1)\, [2](#ca-cite-2)\]\; unknown \[7\]\.")
    assert cited_markdown("No sources [1].", []) == as_text("No sources [1].")


def test_a_backslash_before_a_marker_cannot_unescape_it() -> None:
    # "\[1]" in document text: the backslash is escaped on its own, the marker stays whole
    assert cited_markdown(r"x \[1] y", [1]) == r"x \\[\[1\]](#ca-cite-1) y"


@given(st.text(alphabet=list("[]()!<>\\*_`#~&12 ab:/.wh"), max_size=80))
def test_no_other_link_or_tag_can_form(value: str) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").render(cited_markdown(value, [1, 2]))
    for closing, name, attributes in _TAG.findall(rendered):
        assert name in {"p", "a", "pre", "code"}, rendered  # pre/code: an indented line is a code block
        if name == "a" and not closing:
            assert re.fullmatch(r' href="#ca-cite-[12]"', attributes), rendered
