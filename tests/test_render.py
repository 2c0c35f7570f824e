"""Strict rendering: one rule for prompts, answer phrases and interface strings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answering.phrases import PHRASE_FILE, Phrases, load_phrases
from assistant.config import PROJECT_ROOT
from assistant.errors import PromptError
from assistant.text.render import render, variables
from web.strings import text


def test_every_placeholder_is_filled_once_and_values_stay_data() -> None:
    template = "{who} signed {what}; {who} again. Braces: {{who}}."
    assert variables(template) == ["who", "what"]
    assert render(template, {"who": "{what}", "what": 72}) == "{what} signed 72; {what} again. Braces: {who}."


def test_missing_variables_are_listed_and_extra_ones_ignored() -> None:
    with pytest.raises(PromptError, match=r"^Missing variables: one, two$"):
        render("{one} {two} {one}", {"three": 3})
    assert render("{one}", {"one": 1, "unused": 2}) == "1"


@pytest.mark.parametrize("template", ["{0}", "{a.b}", "{a[0]}", "{a!r}", "{a:>5}", "{}", "a { b", "a } b"])
def test_anything_but_a_plain_name_is_malformed(template: str) -> None:
    with pytest.raises(PromptError, match="Malformed placeholder"):
        variables(template)


def test_phrases_and_interface_strings_render_the_same_way() -> None:
    phrases = Phrases(table={"en": {"conflict": "Sources disagree: {values}."}})
    assert phrases.get("vi", "conflict", values="65; 72") == "Sources disagree: 65; 72."
    with pytest.raises(PromptError, match=r"^Missing variables: values$"):
        phrases.get("en", "conflict")
    assert text("fr", "err_rate", seconds=30).startswith("Trop de questions")
    with pytest.raises(PromptError, match=r"^Missing variables: seconds$"):
        text("en", "err_rate")


def test_a_malformed_phrase_is_refused_when_the_table_loads(tmp_path: Path) -> None:
    table = json.loads((PROJECT_ROOT / "prompts" / PHRASE_FILE).read_text(encoding="utf-8"))
    table["fr"]["conflict"] = "Les sources divergent : {values!r}."
    (tmp_path / PHRASE_FILE).write_text(json.dumps(table), encoding="utf-8")
    with pytest.raises(PromptError, match=r"Phrase 'conflict' for 'fr' in .* is malformed: Malformed"):
        load_phrases(tmp_path)
