"""The words of the chat page's components, kept per component so the page can change language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from web.strings import text

Block = TypeVar("Block")
Words = Callable[[str], dict[str, Any]]  # a language -> the properties that carry words


class Wording:
    """Components whose labels, placeholders or values follow the page language."""

    def __init__(self, first: str = "en") -> None:
        self.first = first  # the language the page is built in, before it knows its reader's
        self.blocks: list[Any] = []
        self._words: list[Words] = []

    def add(self, block: Block, words: Words) -> Block:
        """Register a built component and the function that words it in a language."""
        self.blocks.append(block)
        self._words.append(words)
        return block

    def make(self, build: Callable[..., Block], keys: dict[str, str], **kwargs: Any) -> Block:
        """Build a component whose properties in `keys` (property -> string key) follow the language."""

        def words(lang: str) -> dict[str, Any]:
            return {prop: text(lang, key) for prop, key in keys.items()}

        return self.add(build(**words(self.first), **kwargs), words)

    def updates(self, lang: str) -> list[Any]:
        """One update per registered component, in the order of `blocks`."""
        return [gr.update(**words(lang)) for words in self._words]
