"""The fixed phrases of the extractive answerer, per language, loaded from prompts/ and validated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import PromptError

PHRASE_FILE = "extractive_phrases.json"
REQUIRED = (
    "lead_in", "conflict", "abstain", "fallback_notice", "no_llm", "article_lead", "article_lead_foreign",
    "article_missing", "also_said", "article_word", "treaty_budapest", "treaty_uncc", "treaty_protocol",
    "lang_en", "lang_fr", "lang_vi", "lang_ar", "lang_es", "lang_ru", "lang_zh",
)


@dataclass(frozen=True)
class Phrases:
    """Phrase tables by language; `get` falls back to English for a language without a table."""

    table: dict[str, dict[str, str]]

    def get(self, language: str, key: str, **values: object) -> str:
        """The phrase `key` in `language` (or English), with {placeholders} filled."""
        row = self.table.get(language) or self.table["en"]
        return row[key].format(**values)


def load_phrases(prompts_dir: Path) -> Phrases:
    """Read prompts_dir/extractive_phrases.json, or raise PromptError naming what is missing."""
    path = prompts_dir / PHRASE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PromptError(
            f"Cannot read the phrase table {path} ({exc.__class__.__name__}); restore it from the repository."
        ) from None
    if not isinstance(raw, dict) or "en" not in raw:
        raise PromptError(f"The phrase table {path} must map languages to phrases and include 'en'.")
    for language, row in raw.items():
        missing = [key for key in REQUIRED if not isinstance(row, dict) or not isinstance(row.get(key), str)]
        if missing:
            raise PromptError(f"Missing phrases for '{language}' in {path}: {', '.join(missing)}.")
    return Phrases(table={lang: dict(row) for lang, row in raw.items()})
