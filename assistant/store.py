"""ChunkStore: chunks, their vectors and metadata in Chroma (the only module that imports chromadb)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from langchain_chroma import Chroma

from assistant.config import Settings
from assistant.embeddings import Embedder, LangchainEmbeddings
from assistant.errors import StoreError, StoreUnavailable
from assistant.types import Chunk, DocMeta, Filters

logger = logging.getLogger(__name__)

_PAGE = 2000  # rows per `get` page: keeps memory flat on large collections
_CHUNK_KEYS = ("heading", "locator", "chapter", "section", "article", "paragraph")
_DOC_KEYS = ("source", "title", "language", "kind", "outlet", "date", "url", "content_hash")


def collection_name_for(model_name: str, dim: int) -> str:
    """Chroma collection name for an embedding model, so vectors of two models never mix."""
    slug = re.sub(r"[^a-z0-9]+", "-", model_name.lower()).strip("-") or "model"
    return f"chunks-{slug[-40:].strip('-')}-d{dim}"


def date_num(date: str) -> int:
    """The first ISO-like date in a free-form date string as yyyymmdd (missing parts 00), or 0."""
    found = re.search(r"\b((?:19|20)\d{2})(?:-(\d{2}))?(?:-(\d{2}))?", date)
    if not found:
        return 0
    year, month, day = found.group(1), found.group(2) or "00", found.group(3) or "00"
    return int(f"{year}{month}{day}")


def _bound(prefix: str, fill: str) -> int:
    """An inclusive filter bound from an ISO date prefix ("2024", "2024-10", "2024-10-25")."""
    digits = re.sub(r"\D", "", prefix)[:8]
    return int(digits + fill * (8 - len(digits))) if digits else 0


def to_metadata(doc: DocMeta, chunk: Chunk, n_chunks: int) -> dict[str, str | int | float | bool]:
    """Flatten a chunk and its document into a Chroma metadata row (no None values)."""
    meta: dict[str, str | int | float | bool] = {"doc_id": doc.doc_id}
    meta.update({key: getattr(doc, key) for key in _DOC_KEYS})
    meta.update({key: getattr(chunk, key) for key in _CHUNK_KEYS})
    meta.update(
        extra=json.dumps([list(pair) for pair in doc.extra], ensure_ascii=False),
        date_num=date_num(doc.date),
        position=chunk.position,
        page=-1 if chunk.page is None else chunk.page,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
        n_chunks=n_chunks,
    )
    return meta


def from_metadata(chunk_id: str, text: str, meta: Mapping[str, Any]) -> tuple[Chunk, DocMeta]:
    """Rebuild the chunk and its document from a stored row."""
    doc = DocMeta(
        doc_id=str(meta["doc_id"]),
        extra=tuple((str(k), str(v)) for k, v in json.loads(str(meta.get("extra") or "[]"))),
        **{key: str(meta.get(key, "")) for key in _DOC_KEYS},
    )
    page = int(meta.get("page", -1))
    chunk = Chunk(
        chunk_id=chunk_id,
        doc_id=doc.doc_id,
        position=int(meta.get("position", 0)),
        text=text,
        page=None if page < 0 else page,
        char_start=int(meta.get("char_start", 0)),
        char_end=int(meta.get("char_end", 0)),
        **{key: str(meta.get(key, "")) for key in _CHUNK_KEYS},
    )
    return chunk, doc


def build_where(filters: Filters) -> dict[str, Any] | None:
    """The Chroma `where` clause for language, kind and date filters (sources are matched after)."""
    clauses: list[dict[str, Any]] = []
    if filters.languages:
        clauses.append({"language": {"$in": list(filters.languages)}})
    if filters.kinds:
        clauses.append({"kind": {"$in": list(filters.kinds)}})
    if filters.date_from or filters.date_to:
        clauses.append({"date_num": {"$gt": 0}})  # undated documents cannot satisfy a date range
    if filters.date_from:
        clauses.append({"date_num": {"$gte": _bound(filters.date_from, "0")}})
    if filters.date_to:
        clauses.append({"date_num": {"$lte": _bound(filters.date_to, "9")}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChunkStore:
    """Chunks with their vectors and metadata, in an embedded Chroma folder or a Chroma server."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.dim = embedder.dim
        self.collection_name = collection_name_for(embedder.name, embedder.dim)
        self.location = settings.chroma_url or str(settings.chroma_dir)
        self._url = settings.chroma_url
        with self._guard():
            client = self._connect(settings)
            # langchain-chroma owns the collection and the search path; we upsert precomputed vectors
            # through the same collection because the pipeline embeds in batches with progress.
            self._vectors = Chroma(
                collection_name=self.collection_name,
                embedding_function=LangchainEmbeddings(embedder),
                client=client,
                collection_configuration={"hnsw": {"space": "cosine"}},
            )
            self._collection = client.get_collection(self.collection_name)
            self._max_batch = int(client.get_max_batch_size())

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
        return chromadb.HttpClient(host=url.hostname, port=port, ssl=ssl, settings=chroma_settings)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Translate chromadb and transport failures into our errors, one sentence each."""
        try:
            yield
        except StoreError:
            raise
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

    def upsert(self, doc: DocMeta, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Write (or overwrite) chunks of one document with their precomputed vectors."""
        if len(chunks) != len(vectors):
            raise StoreError(f"Got {len(chunks)} chunks but {len(vectors)} vectors: embed every chunk once.")
        for chunk, vector in zip(chunks, vectors, strict=True):
            if chunk.doc_id != doc.doc_id:
                raise StoreError(f"Chunk {chunk.chunk_id} belongs to {chunk.doc_id}, not {doc.doc_id}.")
            if len(vector) != self.dim:
                raise StoreError(
                    f"A vector has {len(vector)} dimensions but {self.collection_name} holds {self.dim}: "
                    "embed with the store's model."
                )
        n = len(chunks)
        with self._guard():
            step = max(1, min(self._max_batch, 1000))
            for start in range(0, n, step):
                part = chunks[start : start + step]
                self._collection.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=[list(map(float, v)) for v in vectors[start : start + step]],
                    documents=[c.text for c in part],
                    metadatas=[to_metadata(doc, c, n) for c in part],  # type: ignore[misc]
                )

    def delete_doc(self, doc_id: str) -> int:
        """Remove every chunk of a document; returns how many were removed."""
        with self._guard():
            ids = self._collection.get(where={"doc_id": doc_id}, include=[])["ids"]
            if ids:
                self._vectors.delete(ids=list(ids))
        return len(ids)

    def _rows(
        self, include: list[str], where: dict[str, Any] | None = None
    ) -> Iterator[tuple[str, str, Any]]:
        """Every stored row as (id, document, metadata), page by page."""
        offset = 0
        while True:
            with self._guard():
                page = self._collection.get(where=where, include=include, limit=_PAGE, offset=offset)  # type: ignore[arg-type]
            ids = page["ids"]
            docs = page.get("documents") or [""] * len(ids)
            metas = page.get("metadatas") or [{}] * len(ids)
            yield from zip(ids, docs, metas, strict=True)
            if len(ids) < _PAGE:
                return
            offset += _PAGE

    def doc_states(self) -> dict[str, tuple[str, int]]:
        """doc_id -> (content_hash, number of chunks stored) for every document in the store."""
        states: dict[str, tuple[str, int]] = {}
        for _, _, meta in self._rows(["metadatas"]):
            doc_id = str(meta["doc_id"])
            _, seen = states.get(doc_id, ("", 0))
            states[doc_id] = (str(meta.get("content_hash", "")), seen + 1)
        return states

    def _doc_ids_for_sources(self, needles: Sequence[str]) -> list[str]:
        """Documents whose source contains any of the substrings (one row per document: position 0)."""
        lowered = [n.lower() for n in needles]
        return [
            str(meta["doc_id"])
            for _, _, meta in self._rows(["metadatas"], where={"position": 0})
            if any(n in str(meta.get("source", "")).lower() for n in lowered)
        ]

    def dense_search(
        self, vector: Sequence[float], k: int, filters: Filters = Filters()
    ) -> list[tuple[Chunk, DocMeta, float]]:
        """The k chunks nearest to a query vector, as (chunk, document, cosine similarity)."""
        if k <= 0:
            return []
        where = build_where(filters)
        if filters.sources:
            doc_ids = self._doc_ids_for_sources(filters.sources)
            if not doc_ids:
                return []
            in_docs = {"doc_id": {"$in": doc_ids}}
            where = in_docs if where is None else {"$and": [where, in_docs]}
        with self._guard():
            if self._collection.count() == 0:
                return []
            found = self._vectors.similarity_search_by_vector_with_relevance_scores(
                [float(x) for x in vector], k=k, filter=where
            )
        results = []
        for document, distance in found:
            chunk, doc = from_metadata(str(document.id), document.page_content, document.metadata)
            results.append((chunk, doc, 1.0 - float(distance)))  # cosine space: distance = 1 - cosine
        return results

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
