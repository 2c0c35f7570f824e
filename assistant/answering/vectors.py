"""Vectors of the sentences an answer is composed from: stored at ingest, else embedded once and kept."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Protocol

from assistant.models.embeddings import Embedder

log = logging.getLogger(__name__)

EMBEDDED_CACHE = 4096  # sentence vectors embedded at answer time, kept per process

Key = tuple[str, int, int]  # (chunk id, start, end) of a sentence in its chunk


class SentenceVectors(Protocol):
    """Where precomputed sentence vectors come from (assistant.index.store.ChunkStore)."""

    def sentence_vectors(
        self, chunk_ids: Sequence[str]
    ) -> Mapping[str, Sequence[tuple[int, int, Sequence[float]]]]: ...


class SentenceVectorLookup:
    """Stored vectors first; sentences a re-ingest has not yet stored (an older index, or a newer
    segmenter) are embedded once and kept, the oldest dropped past EMBEDDED_CACHE."""

    def __init__(self, embedder: Embedder, stored: SentenceVectors | None) -> None:
        self.embedder, self.stored = embedder, stored
        self._embedded: OrderedDict[Key, Sequence[float]] = OrderedDict()
        self._lock = threading.Lock()  # the web app answers from several threads
        self._fallback_logged = False

    def vectors(self, keys: Sequence[Key], texts: Sequence[str]) -> list[Sequence[float]]:
        """One vector per sentence key (`texts[i]` is the text of `keys[i]`), in order."""
        found: dict[Key, Sequence[float]] = {}
        if self.stored is not None:
            chunk_ids = list(dict.fromkeys(chunk_id for chunk_id, _, _ in keys))
            for chunk_id, rows in self.stored.sentence_vectors(chunk_ids).items():
                found.update(((chunk_id, start, end), vec) for start, end, vec in rows)
        with self._lock:
            found.update({k: self._embedded[k] for k in keys if k not in found and k in self._embedded})
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            if not self._fallback_logged:
                self._fallback_logged = True
                log.warning("%d sentences have no stored vector (an index from before sentence vectors?): "
                            "embedding them per answer; re-ingest with --prune to speed answers up",
                            len(missing))
            fresh = self.embedder.embed_batch([texts[i] for i in missing], "document")
            found.update((keys[i], vec) for i, vec in zip(missing, fresh, strict=True))
            with self._lock:
                self._embedded.update((keys[i], vec) for i, vec in zip(missing, fresh, strict=True))
                while len(self._embedded) > EMBEDDED_CACHE:
                    self._embedded.popitem(last=False)
        return [found[key] for key in keys]
