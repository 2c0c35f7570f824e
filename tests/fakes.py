"""Fakes for unit tests of pure logic, passed in through constructors (never patched in)."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

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
