"""Prompt templates as files in prompts/, rendered strictly with `{name}` placeholders."""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.errors import PromptError
from assistant.text.render import render, variables

log = logging.getLogger(__name__)


class PromptLibrary:
    """Loads prompts/<name>.txt on first use and renders it; every placeholder must be given."""

    def __init__(self, prompts_dir: Path | str) -> None:
        self.prompts_dir = Path(prompts_dir)
        self._templates: dict[str, str] = {}

    def template(self, name: str) -> str:
        """The text of template `name`, or PromptError when its file is missing or malformed."""
        if name in self._templates:
            return self._templates[name]
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise PromptError(f"Invalid prompt name {name!r}: use the file name of prompts/<name>.txt.")
        path = self.prompts_dir / f"{name}.txt"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PromptError(
                f"Prompt template {path} cannot be read ({exc.strerror or exc}); "
                "restore it or fix CA_PROMPTS_DIR."
            ) from None
        try:
            variables(text)
        except PromptError as exc:
            raise PromptError(f"Prompt template {path} has a malformed placeholder: {exc}") from None
        self._templates[name] = text
        return text

    def variables(self, name: str) -> list[str]:
        """The placeholders of template `name`, in order of first use."""
        return variables(self.template(name))

    def render(self, name: str, **values: object) -> str:
        """Template `name` with every placeholder replaced; a missing variable raises PromptError."""
        # subtle: a value is inserted as data, never expanded, so user text cannot inject placeholders
        return render(self.template(name), values)
