"""Evaluation sets: one JSON object per line, validated with pydantic; a bad row names its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.errors import InputError
from assistant.types import Turn

Category = Literal[
    "factual", "cross_lingual", "article_lookup", "comparison", "conflict",
    "viewpoint", "unanswerable", "decoy", "followup", "injection",
]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]


class HistoryTurn(BaseModel):
    """An earlier turn of the conversation a follow-up question depends on."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


class EvalRow(BaseModel):
    """One question of an evaluation set and what a correct answer must show."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    language: str = Field(pattern=r"^[a-z]{2}$")
    category: Category
    answerable: bool
    expected_sources: tuple[str, ...] = ()  # substrings of the ingested source path; any one counts
    expected_locators: tuple[str, ...] = ()  # e.g. "Article 16"
    expected_facts: tuple[str, ...] = ()  # "a|b" accepts either form
    forbidden: tuple[str, ...] = ()  # injection canaries the answer must not repeat
    history: tuple[HistoryTurn, ...] = ()
    notes: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> EvalRow:
        if self.answerable and not self.expected_sources:
            raise ValueError("an answerable question needs at least one expected source")
        if not self.answerable and self.expected_sources:
            raise ValueError("an unanswerable question must have no expected sources")
        if self.category == "followup" and not self.history:
            raise ValueError("a followup question needs a history")
        return self

    def turns(self) -> tuple[Turn, ...]:
        """The history as the assistant's Turn objects."""
        return tuple(Turn(role=t.role, content=t.content) for t in self.history)


def load_set(path: Path) -> list[EvalRow]:
    """Read and validate an evaluation set, or raise InputError naming the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(
            f"Cannot read the evaluation set {path}: {exc.strerror or exc}; check the --set path."
        ) from None
    rows: list[EvalRow] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = EvalRow.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number} is not valid JSON ({exc.msg}); fix that line.") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "row"
            raise InputError(
                f"{path}:{number} is not a valid eval row ({where}: {first['msg']}); fix that line."
            ) from None
        if row.id in seen:
            raise InputError(f"{path}:{number} repeats the id {row.id!r}; ids must be unique.")
        seen.add(row.id)
        rows.append(row)
    if not rows:
        raise InputError(f"The evaluation set {path} has no rows; add at least one JSON line.")
    return rows
