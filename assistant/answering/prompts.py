"""Prompt templates as files in prompts/, rendered strictly with `$name` placeholders."""

from __future__ import annotations

import logging
import string
from pathlib import Path

from assistant.errors import PromptError

log = logging.getLogger(__name__)

class PromptLibrary:
    """Loads prompts/<name>.txt on first use and renders it; every placeholder must be given."""

    def __init__(self, prompts_dir: Path | str) -> None:
        self.prompts_dir = Path(prompts_dir)
        self._templates: dict[str, string.Template] = {}

    def template(self, name: str) -> string.Template:
        """The parsed template `name`, or PromptError when its file is missing or malformed."""
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
        template = string.Template(text)
        if not template.is_valid():
            raise PromptError(
                f"Prompt template {path} has a malformed placeholder; "
                "write $name or ${name}, and $$ for a dollar sign."
            )
        self._templates[name] = template
        return template

    def variables(self, name: str) -> list[str]:
        """The placeholders of template `name`, in order of first use."""
        return list(dict.fromkeys(self.template(name).get_identifiers()))

    def render(self, name: str, **variables: object) -> str:
        """Template `name` with every placeholder replaced; missing or unknown variables raise PromptError."""
        template = self.template(name)
        expected = self.variables(name)
        missing = [v for v in expected if v not in variables]
        if missing:
            raise PromptError(f"Missing variables: {', '.join(missing)}")
        unknown = sorted(set(variables) - set(expected))
        if unknown:
            raise PromptError(f"Unknown variables for prompt {name!r}: {', '.join(unknown)}")
        # subtle: substitute() never re-expands a `$` inside a value, so user text cannot inject placeholders.
        return template.substitute({k: str(v) for k, v in variables.items()})
