"""The fixed phrases and word lists of the extractive answerer, loaded from prompts/ and validated."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answering.conflict import Quantity, quantity
from assistant.errors import PromptError
from assistant.text.languages import CORE_LANGUAGES
from assistant.text.render import render, variables

PHRASE_FILE = "extractive_phrases.json"
QUANTITY_FILE = "quantities.json"
QUANTITY_LISTS = ("asked", "counted", "approximately", "between_except")  # the first two are required
REQUIRED = (
    "lead_in", "conflict", "abstain", "fallback_notice", "no_llm", "article_lead", "article_lead_foreign",
    "article_missing", "also_said", "article_word", "treaty_budapest", "treaty_uncc", "treaty_protocol",
    *(f"lang_{code}" for code in CORE_LANGUAGES),  # a served language's name, in each language
)


@dataclass(frozen=True)
class Phrases:
    """Phrase tables by language; `get` falls back to English for a language without a table."""

    table: dict[str, dict[str, str]]

    def get(self, language: str, key: str, **values: object) -> str:
        """The phrase `key` in `language` (or English), with {placeholders} filled (assistant.text.render)."""
        row = self.table.get(language) or self.table["en"]
        return render(row[key], values)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PromptError(
            f"Cannot read the {what} {path} ({exc.__class__.__name__}); restore it from the repository."
        ) from None


def load_phrases(prompts_dir: Path) -> Phrases:
    """Read prompts_dir/extractive_phrases.json, or raise PromptError naming what is missing."""
    path = prompts_dir / PHRASE_FILE
    raw = _read_json(path, "phrase table")
    if not isinstance(raw, dict) or "en" not in raw:
        raise PromptError(f"The phrase table {path} must map languages to phrases and include 'en'.")
    for language, row in raw.items():
        missing = [key for key in REQUIRED if not isinstance(row, dict) or not isinstance(row.get(key), str)]
        if missing:
            raise PromptError(f"Missing phrases for '{language}' in {path}: {', '.join(missing)}.")
        for key, phrase in row.items():
            try:
                variables(phrase)
            except (PromptError, TypeError) as exc:  # TypeError: not a string
                raise PromptError(f"Phrase '{key}' for '{language}' in {path} is malformed: {exc}") from None
    return Phrases(table={lang: dict(row) for lang, row in raw.items()})


def load_quantities(prompts_dir: Path) -> tuple[Quantity, ...]:
    """Read prompts_dir/quantities.json, the counts sources may disagree on, or raise PromptError.

    Each quantity maps "asked" and "counted" (required), "approximately" and "between_except" (optional)
    to lists of regular-expression fragments: see assistant.answering.conflict.quantity.
    """
    path = prompts_dir / QUANTITY_FILE
    raw = _read_json(path, "quantity word lists")
    if not isinstance(raw, dict) or not all(isinstance(lists, dict) for lists in raw.values()):
        raise PromptError(f"The quantity word lists {path} must map each quantity to its word lists.")
    out = []
    for name, lists in raw.items():
        missing = [key for key in QUANTITY_LISTS[:2] if key not in lists]
        if missing:
            raise PromptError(f"Missing key '{missing[0]}' of quantity '{name}' in {path}.")
        for key, words in lists.items():
            if key not in QUANTITY_LISTS:
                raise PromptError(f"Unknown key '{key}' of quantity '{name}' in {path}: "
                                  f"use {', '.join(QUANTITY_LISTS)}.")
            if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words) or (
                    not words and key in QUANTITY_LISTS[:2]):
                raise PromptError(f"The key '{key}' of quantity '{name}' in {path} must be a list of words.")
        try:
            out.append(quantity(name, **lists))
        except re.error as exc:
            raise PromptError(f"A word of quantity '{name}' in {path} is no valid pattern ({exc}).") from None
    return tuple(out)
