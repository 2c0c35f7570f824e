"""Reads of a whole collection: per-document states and totals, language centroids, write times.

These touch every row (page by page), so they serve ingest bookkeeping, status and visibility syncs;
a question never calls them. Mixed into ChunkStore, whose collections and error guard they use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from assistant.index.rows import StoredDoc, summarize_rows

_PAGE = 2000  # rows per `get` page: keeps memory flat on large collections


class IndexScans:
    """Whole-collection reads over `_collection` (chunks) and `_sentences` (sentence vectors)."""

    _collection: Any
    _sentences: Any

    def _guard(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def write_times(self, doc_ids: Sequence[str]) -> dict[str, float]:
        """doc_id -> when its newest chunk or sentence row was written (unix seconds; 0 for old rows)."""
        if not doc_ids:
            return {}
        where = {"doc_id": {"$in": list(dict.fromkeys(doc_ids))}}
        times: dict[str, float] = {}
        for collection in (self._collection, self._sentences):
            for _, _, meta in self._rows(["metadatas"], where=where, collection=collection):
                doc_id = str(meta["doc_id"])
                times[doc_id] = max(times.get(doc_id, 0.0), float(meta.get("written_at", 0.0)))
        return times

    def sentence_states(self) -> dict[str, int]:
        """doc_id -> number of sentence vectors stored, for every document that has any."""
        counts: dict[str, int] = {}
        for _, _, meta in self._rows(["metadatas"], collection=self._sentences):
            doc_id = str(meta["doc_id"])
            counts[doc_id] = counts.get(doc_id, 0) + 1
        return counts

    def _rows(
        self, include: list[str], where: dict[str, Any] | None = None, collection: Any = None
    ) -> Iterator[tuple[str, str, Any]]:
        """Every stored row as (id, document, metadata), page by page."""
        collection = self._collection if collection is None else collection
        offset = 0
        while True:
            with self._guard():
                page = collection.get(where=where, include=include, limit=_PAGE, offset=offset)
            ids = page["ids"]
            docs = page.get("documents") or [""] * len(ids)
            metas = page.get("metadatas") or [{}] * len(ids)
            yield from zip(ids, docs, metas, strict=True)
            if len(ids) < _PAGE:
                return
            offset += _PAGE

    def language_centroids(self) -> dict[str, list[float]]:
        """language -> mean of its chunk vectors (the direction every text in that language shares)."""
        sums: dict[str, np.ndarray] = {}
        counts: dict[str, int] = {}
        offset = 0
        while True:
            with self._guard():
                page = self._collection.get(
                    include=["metadatas", "embeddings"], limit=_PAGE, offset=offset  # type: ignore[list-item]
                )
            metas = page.get("metadatas") or []
            if metas:
                vectors = np.asarray(page.get("embeddings"), dtype=np.float64)
                languages = [str((meta or {}).get("language", "")) for meta in metas]
                for language in set(languages):
                    rows = [i for i, lang in enumerate(languages) if lang == language]
                    sums[language] = sums.get(language, 0.0) + vectors[rows].sum(axis=0)
                    counts[language] = counts.get(language, 0) + len(rows)
            if len(page["ids"]) < _PAGE:
                break
            offset += _PAGE
        return {language: (total / counts[language]).tolist() for language, total in sums.items()}

    def doc_states(self) -> dict[str, tuple[str, int]]:
        """doc_id -> (content_hash, number of chunks stored) for every document in the store."""
        states: dict[str, tuple[str, int]] = {}
        for _, _, meta in self._rows(["metadatas"]):
            doc_id = str(meta["doc_id"])
            _, seen = states.get(doc_id, ("", 0))
            states[doc_id] = (str(meta.get("content_hash", "")), seen + 1)
        return states

    def stored_docs(self) -> dict[str, StoredDoc]:
        """doc_id -> what its chunk rows say (hashes, positions, totals), to check it without a manifest."""
        return summarize_rows(meta for _, _, meta in self._rows(["metadatas"]))

    def doc_totals(self) -> dict[str, tuple[str, int, int]]:
        """doc_id -> (content_hash, chunks stored, chunks it was written with): equal when complete."""
        totals: dict[str, tuple[str, int, int]] = {}
        for _, _, meta in self._rows(["metadatas"]):
            doc_id = str(meta["doc_id"])
            _, seen, _ = totals.get(doc_id, ("", 0, 0))
            totals[doc_id] = (str(meta.get("content_hash", "")), seen + 1, int(meta.get("n_chunks", 0)))
        return totals
