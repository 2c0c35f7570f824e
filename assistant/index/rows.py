"""Chroma rows, as pure functions: flatten a chunk and its document, rebuild them, build `where` filters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from assistant.types import Chunk, DocMeta, Filters

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


def date_bound(prefix: str, *, upper: bool = False) -> int:
    """An inclusive yyyymmdd bound from an ISO date prefix: "2024-10" -> 20241000, or 20241099 as upper."""
    digits = re.sub(r"\D", "", prefix)[:8]
    return int(digits.ljust(8, "9" if upper else "0")) if digits else 0


def to_metadata(
    doc: DocMeta, chunk: Chunk, n_chunks: int, n_sentences: int = -1
) -> dict[str, str | int | float | bool]:
    """Flatten a chunk and its document into a Chroma metadata row (no None values).

    n_chunks and n_sentences are the document's totals, so any reader can tell a complete write from a
    partial one without a manifest; n_sentences -1 means unknown.
    """
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
        n_sentences=n_sentences,
    )
    return meta


@dataclass(frozen=True)
class StoredDoc:
    """What the chunk rows of one document say: enough to tell a complete write from a partial one."""

    doc_id: str
    source: str
    title: str
    language: str
    kind: str
    hashes: frozenset[str]  # content hash of every row: one value when the rows come from one write
    positions: tuple[int, ...]  # chunk positions stored, sorted
    n_chunks: frozenset[int]  # the document's chunk count, as each row was written with it
    n_sentences: frozenset[int]  # the document's sentence-vector count per row; -1: not recorded

    @property
    def content_hash(self) -> str:
        """The content hash, when every row agrees on it (else "")."""
        return next(iter(self.hashes)) if len(self.hashes) == 1 else ""

    def consistent(self) -> bool:
        """All rows come from one write of the whole document: one hash, one count, every position once."""
        if len(self.hashes) != 1 or len(self.n_chunks) != 1 or len(self.n_sentences) != 1:
            return False
        (n,) = self.n_chunks
        return n > 0 and self.positions == tuple(range(n))

    def expected_sentences(self) -> int | None:
        """How many sentence vectors the write stored with the chunks, or None when the rows do not say."""
        if len(self.n_sentences) != 1:
            return None
        (n,) = self.n_sentences
        return n if n >= 0 else None


def summarize_rows(metas: Iterable[Mapping[str, Any]]) -> dict[str, StoredDoc]:
    """doc_id -> StoredDoc, from the metadata of every chunk row."""
    seen: dict[str, tuple[Mapping[str, Any], set[str], list[int], set[int], set[int]]] = {}
    for meta in metas:
        doc_id = str(meta["doc_id"])
        if doc_id not in seen:
            seen[doc_id] = (meta, set(), [], set(), set())
        _, hashes, positions, n_chunks, n_sentences = seen[doc_id]
        hashes.add(str(meta.get("content_hash", "")))
        positions.append(int(meta.get("position", -1)))
        n_chunks.add(int(meta.get("n_chunks", 0)))
        n_sentences.add(int(meta.get("n_sentences", -1)))
    return {
        doc_id: StoredDoc(
            doc_id, str(first.get("source", "")), str(first.get("title", "")), str(first.get("language", "")),
            str(first.get("kind", "")), frozenset(hashes), tuple(sorted(positions)), frozenset(n_chunks),
            frozenset(n_sentences),
        )
        for doc_id, (first, hashes, positions, n_chunks, n_sentences) in seen.items()
    }


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
        clauses.append({"date_num": {"$gte": date_bound(filters.date_from)}})
    if filters.date_to:
        clauses.append({"date_num": {"$lte": date_bound(filters.date_to, upper=True)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
