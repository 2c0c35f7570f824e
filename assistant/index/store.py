"""ChunkStore: chunks, their vectors and metadata in Chroma (through assistant/index/chroma.py)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.config import Settings
from assistant.errors import StoreError
from assistant.index.chroma import COSINE, connect, guarded
from assistant.index.rows import (
    StoredDoc,
    build_where,
    collection_name_for,
    date_num,
    from_metadata,
    to_metadata,
)
from assistant.index.scans import IndexScans
from assistant.models.embeddings import Embedder, LangchainEmbeddings
from assistant.types import Chunk, DocMeta, Filters

# re-exported: callers know these as part of the store's interface
__all__ = [
    "ChunkStore", "SentenceVector", "StoredDoc", "build_where", "collection_name_for", "date_num",
    "from_metadata", "to_metadata",
]

if TYPE_CHECKING:
    from langchain_chroma import Chroma

logger = logging.getLogger(__name__)

_PAGE = 2000  # rows per `get` page: keeps memory flat on large collections
# (start, end, vector) of one sentence, offsets relative to its chunk's text
SentenceVector = tuple[int, int, Sequence[float]]


class ChunkStore(IndexScans):
    """Chunks with their vectors and metadata, in an embedded Chroma folder or a Chroma server."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.dim = embedder.dim
        self.collection_name = collection_name_for(embedder.name, embedder.dim)
        self.location = settings.chroma_url or str(settings.chroma_dir)
        self._url = settings.chroma_url
        self._timeout_s = settings.chroma_timeout_s
        with self._guard():
            client = connect(settings)
            # subtle: the call langchain-chroma makes to take the collection over, so either may create it;
            # the LangChain wrapper (half a second of imports) is built on first use, so an ingest with
            # nothing new never pays for it. We upsert precomputed vectors through the collection itself
            # because the pipeline embeds in batches with progress.
            self._collection = client.get_or_create_collection(
                self.collection_name, embedding_function=None, configuration=COSINE
            )
            self._client, self._embeddings = client, LangchainEmbeddings(embedder)
            # sentence vectors of every chunk, computed at ingest so answers need no embedding
            self._sentences = client.get_or_create_collection(
                self.sentence_collection_name, configuration=COSINE
            )
            self._max_batch = int(client.get_max_batch_size())

    @functools.cached_property
    def _vectors(self) -> Chroma:
        """The langchain-chroma view of the chunk collection."""
        from langchain_chroma import Chroma

        return Chroma(
            collection_name=self.collection_name,
            embedding_function=self._embeddings,
            client=self._client,
            collection_configuration=COSINE,
        )

    def _guard(self) -> AbstractContextManager[None]:
        """chromadb's failures, as our errors (one sentence each)."""
        return guarded(self._url, self.location, self._timeout_s)

    @property
    def sentence_collection_name(self) -> str:
        """The collection of sentence vectors that goes with the chunk collection."""
        return f"{self.collection_name}-sentences"

    def _check_dim(self, vector: Sequence[float]) -> None:
        if len(vector) != self.dim:
            raise StoreError(
                f"A vector has {len(vector)} dimensions but {self.collection_name} holds {self.dim}: "
                "embed with the store's model."
            )

    def upsert(
        self,
        doc: DocMeta,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
        sentences: Mapping[str, Sequence[SentenceVector]] | None = None,
    ) -> None:
        """Write (or overwrite) chunks of one document with their precomputed vectors and sentence vectors.

        `sentences` maps a chunk id to its (start, end, vector) rows, offsets relative to chunk.text.
        """
        if len(chunks) != len(vectors):
            raise StoreError(f"Got {len(chunks)} chunks but {len(vectors)} vectors: embed every chunk once.")
        for chunk, vector in zip(chunks, vectors, strict=True):
            if chunk.doc_id != doc.doc_id:
                raise StoreError(f"Chunk {chunk.chunk_id} belongs to {chunk.doc_id}, not {doc.doc_id}.")
            self._check_dim(vector)
        known = {c.chunk_id for c in chunks}
        # subtle: the write time tells another machine's ingest a write in progress from a crash's leftovers
        written_at = time.time()
        rows: list[tuple[str, dict[str, str | int | float | bool], list[float]]] = []
        for chunk_id, spans in (sentences or {}).items():
            if chunk_id not in known:
                raise StoreError(f"Sentence vectors for {chunk_id}, which is not a chunk of {doc.doc_id}.")
            for i, (start, end, vector) in enumerate(spans):
                self._check_dim(vector)
                meta: dict[str, str | int | float | bool] = {
                    "chunk_id": chunk_id, "doc_id": doc.doc_id, "start": start, "end": end,
                    "written_at": written_at,
                }
                rows.append((f"{chunk_id}:{i}", meta, list(map(float, vector))))
        n = len(chunks)
        step = max(1, min(self._max_batch, 1000))
        with self._guard():
            # subtle: sentences first; the pipeline marks a document done only after both writes
            for start in range(0, len(rows), step):
                part_rows = rows[start : start + step]
                self._sentences.upsert(
                    ids=[r[0] for r in part_rows],
                    embeddings=[r[2] for r in part_rows],
                    metadatas=[r[1] for r in part_rows],  # type: ignore[misc]
                )
            for start in range(0, n, step):
                part = chunks[start : start + step]
                self._collection.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=[list(map(float, v)) for v in vectors[start : start + step]],
                    documents=[c.text for c in part],
                    metadatas=[  # type: ignore[misc]
                        {**to_metadata(doc, c, n, len(rows)), "written_at": written_at} for c in part
                    ],
                )

    def delete_doc(self, doc_id: str) -> int:
        """Remove a document's chunks and sentence vectors; returns how many chunks were removed."""
        with self._guard():
            self._sentences.delete(where={"doc_id": doc_id})
            ids = self._collection.get(where={"doc_id": doc_id}, include=[])["ids"]
            if ids:
                self._vectors.delete(ids=list(ids))
        return len(ids)

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, list[SentenceVector]]:
        """chunk_id -> its (start, end, vector) sentence rows in order; chunks without any are absent."""
        if not chunk_ids:
            return {}
        with self._guard():
            where = {"chunk_id": {"$in": list(dict.fromkeys(chunk_ids))}}
            page = self._sentences.get(where=where, include=["metadatas", "embeddings"])  # type: ignore[list-item]
        found: dict[str, list[SentenceVector]] = {}
        vectors = page.get("embeddings")
        vectors = [] if vectors is None else vectors  # subtle: a numpy array has no truth value
        for meta, vector in zip(page.get("metadatas") or [], vectors, strict=True):
            row = (int(meta["start"]), int(meta["end"]), [float(x) for x in vector])
            found.setdefault(str(meta["chunk_id"]), []).append(row)
        return {cid: sorted(rows, key=lambda r: r[0]) for cid, rows in found.items()}

    def sentence_search(
        self, vector: Sequence[float], k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """The k sentences nearest to a query vector as (chunk_id, cosine), within doc_ids if given."""
        if k <= 0 or doc_ids is not None and not doc_ids:
            return []
        where = None if doc_ids is None else {"doc_id": {"$in": list(doc_ids)}}
        with self._guard():
            found = self._sentences.query(
                query_embeddings=[[float(x) for x in vector]], n_results=k, where=where,
                include=["metadatas", "distances"],  # type: ignore[list-item]
            )
        metas = (found.get("metadatas") or [[]])[0]
        distances = (found.get("distances") or [[]])[0]
        # cosine space: distance = 1 - cosine
        return [(str(meta["chunk_id"]), 1.0 - float(d)) for meta, d in zip(metas, distances, strict=True)]

    def _doc_ids_for_sources(self, needles: Sequence[str]) -> list[str]:
        """Documents whose source contains any of the substrings (one row per document: position 0)."""
        lowered = [n.lower() for n in needles]
        return [
            str(meta["doc_id"])
            for _, _, meta in self._rows(["metadatas"], where={"position": 0})
            if any(n in str(meta.get("source", "")).lower() for n in lowered)
        ]

    def nearest_ids(
        self, vector: Sequence[float], k: int, filters: Filters = Filters()
    ) -> list[tuple[str, float]]:
        """The k chunk ids nearest to a query vector with their cosines (the caller holds the chunks)."""
        if k <= 0:
            return []
        matchable, where = self._where(filters)
        if not matchable:
            return []
        with self._guard():
            found = self._collection.query(
                query_embeddings=[[float(x) for x in vector]], n_results=k, where=where,
                include=["distances"],  # type: ignore[list-item]
            )
        distances = (found.get("distances") or [[]])[0]
        return [(str(cid), 1.0 - float(d)) for cid, d in zip(found["ids"][0], distances, strict=True)]

    def _where(self, filters: Filters) -> tuple[bool, dict[str, Any] | None]:
        """(whether any document can match, the `where` clause) of a filtered search."""
        where = build_where(filters)
        if filters.sources:
            doc_ids = self._doc_ids_for_sources(filters.sources)
            if not doc_ids:
                return False, None
            in_docs = {"doc_id": {"$in": doc_ids}}
            where = in_docs if where is None else {"$and": [where, in_docs]}
        return True, where

    def iter_chunks(self) -> Iterator[tuple[Chunk, DocMeta]]:
        """Every stored chunk with its document, page by page (order is the store's)."""
        for chunk_id, text, meta in self._rows(["documents", "metadatas"]):
            yield from_metadata(chunk_id, text, meta)

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[tuple[Chunk, DocMeta]]:
        """The chunks with these ids, in the order asked; unknown ids are left out."""
        if not chunk_ids:
            return []
        with self._guard():
            unique = list(dict.fromkeys(chunk_ids))
            page = self._collection.get(ids=unique, include=["documents", "metadatas"])
        rows = zip(page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True)
        found = {cid: from_metadata(cid, text or "", meta or {}) for cid, text, meta in rows}
        return [found[cid] for cid in chunk_ids if cid in found]

    def get_doc(self, doc_id: str) -> tuple[DocMeta, list[Chunk]] | None:
        """A document and all its chunks in order, or None if it is not stored."""
        rows = [from_metadata(cid, text, meta) for cid, text, meta in self._rows(
            ["documents", "metadatas"], where={"doc_id": doc_id}
        )]
        if not rows:
            return None
        chunks = sorted((chunk for chunk, _ in rows), key=lambda c: c.position)
        return rows[0][1], chunks

    def count(self) -> int:
        """Number of chunks stored."""
        with self._guard():
            return int(self._collection.count())

    def chunk_cosines(self, vector: Sequence[float], chunk_ids: Sequence[str]) -> dict[str, float]:
        """chunk_id -> cosine of its stored vector with `vector` (unit vectors); unknown ids are left out."""
        if not chunk_ids:
            return {}
        with self._guard():
            page = self._collection.get(ids=list(dict.fromkeys(chunk_ids)), include=["embeddings"])  # type: ignore[list-item]
        if not page["ids"]:
            return {}
        cosines = np.asarray(page["embeddings"], dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
        return {str(cid): float(c) for cid, c in zip(page["ids"], cosines, strict=True)}

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """chunk_id -> its stored vector (for export: moving an index without re-embedding)."""
        if not chunk_ids:
            return {}
        with self._guard():
            page = self._collection.get(ids=list(dict.fromkeys(chunk_ids)), include=["embeddings"])  # type: ignore[list-item]
        vectors = page.get("embeddings")
        vectors = [] if vectors is None else vectors  # subtle: a numpy array has no truth value
        rows = zip(page["ids"], vectors, strict=True)
        return {str(cid): [float(x) for x in vector] for cid, vector in rows}
