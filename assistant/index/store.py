"""ChunkStore: chunks, their vectors and metadata in Chroma (the only module that imports chromadb)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import chromadb
import httpx
import numpy as np
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from assistant.config import Settings
from assistant.errors import StoreError, StoreUnavailable
from assistant.index.rows import (
    StoredDoc,
    build_where,
    collection_name_for,
    date_num,
    from_metadata,
    summarize_rows,
    to_metadata,
)
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

_COSINE: CreateCollectionConfiguration = {"hnsw": {"space": "cosine"}}  # chunks and sentences alike
_PAGE = 2000  # rows per `get` page: keeps memory flat on large collections
# (start, end, vector) of one sentence, offsets relative to its chunk's text
SentenceVector = tuple[int, int, Sequence[float]]


class ChunkStore:
    """Chunks with their vectors and metadata, in an embedded Chroma folder or a Chroma server."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.dim = embedder.dim
        self.collection_name = collection_name_for(embedder.name, embedder.dim)
        self.location = settings.chroma_url or str(settings.chroma_dir)
        self._url = settings.chroma_url
        self._timeout_s = settings.chroma_timeout_s
        with self._guard():
            client = self._connect(settings)
            # subtle: the call langchain-chroma makes to take the collection over, so either may create it;
            # the LangChain wrapper (half a second of imports) is built on first use, so an ingest with
            # nothing new never pays for it. We upsert precomputed vectors through the collection itself
            # because the pipeline embeds in batches with progress.
            self._collection = client.get_or_create_collection(
                self.collection_name, embedding_function=None, configuration=_COSINE
            )
            self._client, self._embeddings = client, LangchainEmbeddings(embedder)
            # sentence vectors of every chunk, computed at ingest so answers need no embedding
            self._sentences = client.get_or_create_collection(
                self.sentence_collection_name, configuration=_COSINE
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
            collection_configuration=_COSINE,
        )

    @property
    def sentence_collection_name(self) -> str:
        """The collection of sentence vectors that goes with the chunk collection."""
        return f"{self.collection_name}-sentences"

    def _connect(self, settings: Settings) -> Any:
        """An HTTP client when a server URL is set, else an embedded client on the data folder."""
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if not settings.chroma_url:
            settings.chroma_dir.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
        url = urlsplit(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise StoreError(
                f"The index server URL {settings.chroma_url!r} is invalid: "
                "set CA_CHROMA_URL like http://127.0.0.1:8000."
            )
        ssl = url.scheme == "https"
        port = url.port or (443 if ssl else 8000)
        timeout = httpx.Timeout(settings.chroma_timeout_s)
        # subtle: chromadb's HTTP client is built with timeout=None and no setting changes it, and its
        # constructor already talks to the server; ask for a heartbeat first, bounded, so a hung server
        # fails here, then bound every later request on the client's own httpx session.
        httpx.get(f"{url.scheme}://{url.netloc}/api/v2/heartbeat", timeout=timeout)
        client = chromadb.HttpClient(host=url.hostname, port=port, ssl=ssl, settings=chroma_settings)
        session = getattr(getattr(client, "_server", None), "_session", None)
        if not isinstance(session, httpx.Client):
            raise StoreError(
                "This chromadb version hides its HTTP session, so requests to the index server cannot be "
                "given a timeout: install chromadb 1.5, the version this release is tested with."
            )
        session.timeout = timeout
        return client

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Translate chromadb and transport failures into our errors, one sentence each."""
        try:
            yield
        except StoreError:
            raise
        except httpx.TimeoutException as exc:
            raise StoreUnavailable(
                f"The index server at {self._url} did not answer within {self._timeout_s:g} s: check that it "
                "is healthy, or raise CA_CHROMA_TIMEOUT_S."
            ) from exc
        except (httpx.TransportError, ConnectionError) as exc:
            raise self._unavailable() from exc
        except ValueError as exc:
            if "could not connect" in str(exc).lower():
                raise self._unavailable() from exc
            raise StoreError(f"The index rejected a request ({exc}): check the data, or re-ingest.") from exc
        except (ChromaError, httpx.HTTPError, OSError, RuntimeError) as exc:
            raise StoreError(
                f"The index at {self.location} failed ({type(exc).__name__}: {exc}): "
                "check the folder or server, then retry."
            ) from exc

    def _unavailable(self) -> StoreUnavailable:
        if self._url:
            return StoreUnavailable(
                f"The index server at {self._url} is unreachable: start it or fix CA_CHROMA_URL."
            )
        return StoreUnavailable(f"The index at {self.location} cannot be opened: check the folder.")

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

    def doc_totals(self) -> dict[str, tuple[str, int, int]]:
        """doc_id -> (content_hash, chunks stored, chunks it was written with): equal when complete."""
        totals: dict[str, tuple[str, int, int]] = {}
        for _, _, meta in self._rows(["metadatas"]):
            doc_id = str(meta["doc_id"])
            _, seen, _ = totals.get(doc_id, ("", 0, 0))
            totals[doc_id] = (str(meta.get("content_hash", "")), seen + 1, int(meta.get("n_chunks", 0)))
        return totals

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
