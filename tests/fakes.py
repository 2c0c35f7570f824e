"""Fakes for unit tests of pure logic, passed in through constructors (never patched in)."""

from __future__ import annotations

import hashlib
import math
import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from assistant.types import Answer, Citation, Filters, StreamEvent, Turn

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """Deterministic bag-of-hashed-tokens Embedder: texts sharing words get similar unit vectors."""

    def __init__(self, dim: int = 64, name: str = "hash-embedder") -> None:
        if dim <= 0:
            raise ValueError(f"dim must be greater than 0. Currently, dim is {dim}")
        self.dim = dim
        self.name = f"{name}-{dim}"
        self.calls: list[tuple[str, int]] = []  # (kind, batch size), for tests of batching

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for token in _WORD.findall(unicodedata.normalize("NFC", text).lower()):
            digest = hashlib.sha256(token.encode("utf-8")).digest()
            slot = int.from_bytes(digest[:4], "little") % self.dim
            vec[slot] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vec))
        if norm == 0.0:
            # subtle: an empty text still needs a unit vector, or cosine similarity is undefined
            vec[0], norm = 1.0, 1.0
        return [x / norm for x in vec]

    def embed_batch(self, texts: Sequence[str], kind: Literal["query", "document"]) -> list[list[float]]:
        """One unit vector per text; `kind` is recorded but does not change the vector."""
        if kind not in ("query", "document"):
            raise ValueError(f"kind must be 'query' or 'document'. Currently, kind is {kind!r}")
        self.calls.append((kind, len(texts)))
        return [self._vector(t) for t in texts]

    def count_tokens(self, text: str) -> int:
        """Whitespace tokens."""
        return len(text.split())


class EmptyStore:
    """A document store with nothing in it (health, documents and cited chunks all empty)."""

    collection_name = "fake-64"

    def count(self) -> int:
        return 0

    def doc_states(self) -> dict[str, tuple[str, int]]:
        return {}

    def get_doc(self, doc_id: str) -> None:
        return None

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[object]:
        return []


CITE = Citation(n=1, doc_id="0123456789abcdef", source="corpus/x.txt", title="X", language="en",
                locator="Article 1", quote="90 days", url="https://example.org/x", chunk_id="c1")


class GatedAssistant:
    """Fake Assistant for the API's own logic: answers once `release` is set, or raises `error`."""

    def __init__(self, error: Exception | None = None, released: bool = True) -> None:
        self.error, self.llm = error, None
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self.asked: list[tuple[str, list[Turn], Filters]] = []
        self.modes: list[str | None] = []  # the answer mode of each question, as asked
        if released:
            self.release.set()

    def stream(self, question: str, history: Any = (), filters: Filters = Filters(), mode: str | None = None,
               k: int | None = None) -> Iterator[StreamEvent]:
        self.asked.append((question, list(history), filters))
        self.modes.append(mode)
        self.entered.release()
        assert self.release.wait(20)
        if self.error is not None:
            raise self.error
        yield StreamEvent(kind="token", text="It enters into force ")
        yield StreamEvent(kind="token", text="after 90 days [1].")
        yield StreamEvent(kind="citations", citations=(CITE,))
        yield StreamEvent(kind="final", answer=Answer(question=question, language="en", abstained=False,
                          answer="It enters into force after 90 days [1].", mode="extractive",
                          citations=(CITE,)))

    def answer(self, question: str, history: Any = (), filters: Filters = Filters(), mode: str | None = None,
               k: int | None = None) -> Answer:
        *_, last = self.stream(question, history, filters, mode, k)
        assert last.answer is not None
        return last.answer

    def close(self) -> None:
        pass
