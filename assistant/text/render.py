"""Strict rendering of `{name}` templates: prompts, answer phrases and interface strings alike.

A missing variable is an error (it would leave a hole, or a literal "{name}", in front of a reader); an
extra one is not: a phrase table renders one set of values in every language, and a translation may
leave one out. A value is inserted as data: braces inside it are never expanded. `{{` and `}}` write a
brace; anything but a plain name between braces (`{0}`, `{a.b}`, `{a!r}`, `{a:>5}`) is malformed.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping

from assistant.errors import PromptError

_Parts = tuple[tuple[str, str | None], ...]  # (literal text, then the placeholder's name or None)
_HOW = "write {name}, and {{ or }} for a brace."


@functools.lru_cache(maxsize=1024)
def _parse(template: str) -> _Parts:
    # subtle: cached per process on purpose: phrases and UI strings are a few hundred fixed texts
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:  # a lone brace
        raise PromptError(f"Malformed placeholder ({exc}): {_HOW}") from None
    parts = []
    for literal, name, spec, conversion in fields:
        if name is not None and (not name.isidentifier() or spec or conversion):
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise PromptError(f"Malformed placeholder {{{written}}}: {_HOW}")
        parts.append((literal, name))
    return tuple(parts)


def variables(template: str) -> list[str]:
    """The names of the template's placeholders, in order of first use."""
    return list(dict.fromkeys(name for _, name in _parse(template) if name is not None))


def render(template: str, values: Mapping[str, object]) -> str:
    """The template with every {name} replaced by str(value); PromptError listing the missing names."""
    parts = _parse(template)
    missing = [name for name in variables(template) if name not in values]
    if missing:
        raise PromptError(f"Missing variables: {', '.join(missing)}")
    return "".join(literal + ("" if name is None else str(values[name])) for literal, name in parts)
