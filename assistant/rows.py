"""Chroma rows, as pure functions: flatten a chunk and its document, rebuild them, build `where` filters."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
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
