"""Export and import an index (manifest, chunks, metadata, vectors, sentence vectors) without re-embedding.

Layout of an export folder (version 1):
  export.json       format, version, embedding model name and dim, collection, counts
  manifest.jsonl    one manifest record per document
  documents.jsonl   one line per document: its metadata and its chunks
  vectors.npz       chunk_ids + vectors (float32, one row per chunk);
                    sentence_chunk_ids + sentence_spans (start, end) + sentence_vectors
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import IngestError
from assistant.index.store import ChunkStore
from assistant.index.visibility import complete_docs
from assistant.types import Chunk, DocMeta
from ingest.manifest import DocRecord, Manifest, manifest_path

logger = logging.getLogger(__name__)

FORMAT = "convention-assistant-export"
VERSION = 1
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TransferSummary:
    """What an export or an import moved."""

    documents: int
    chunks: int
    sentences: int
    model: str
    dim: int


def _doc_json(doc: DocMeta) -> dict[str, Any]:
    out = asdict(doc)
    out["extra"] = [list(pair) for pair in doc.extra]
    return out


@dataclass
class _Vectors:
    """The chunk and sentence vectors of an export, gathered document by document."""

    chunk_ids: list[str] = field(default_factory=list)
    vectors: list[list[float]] = field(default_factory=list)
    s_ids: list[str] = field(default_factory=list)
    s_spans: list[tuple[int, int]] = field(default_factory=list)
    s_vectors: list[list[float]] = field(default_factory=list)

    def add(self, store: ChunkStore, meta: DocMeta, chunks: list[Chunk]) -> int:
        """Add one document's vectors; returns how many sentence rows it has."""
        ids = [c.chunk_id for c in chunks]
        by_id = store.chunk_vectors(ids)
        if len(by_id) != len(ids):
            raise IngestError(f"Vectors of {meta.source} are missing in the store: re-ingest it, "
                              "then export.")
        self.chunk_ids += ids
        self.vectors += [by_id[cid] for cid in ids]
        n_sentences = 0
        for cid, rows in store.sentence_vectors(ids).items():
            for start, end, vector in rows:
                self.s_ids.append(cid)
                self.s_spans.append((start, end))
                self.s_vectors.append(list(vector))
                n_sentences += 1
        return n_sentences

    def save(self, path: Path, dim: int) -> None:
        """One compressed .npz with every vector and the ids and spans they belong to."""
        np.savez_compressed(
            path,
            chunk_ids=np.array(self.chunk_ids, dtype=str),
            vectors=np.array(self.vectors, dtype=np.float32).reshape(len(self.chunk_ids), dim),
            sentence_chunk_ids=np.array(self.s_ids, dtype=str),
            sentence_spans=np.array(self.s_spans, dtype=np.int64).reshape(len(self.s_ids), 2),
            sentence_vectors=np.array(self.s_vectors, dtype=np.float32).reshape(len(self.s_ids), dim),
        )


def export_index(store: ChunkStore, data_dir: Path, out_dir: Path, model: str,
                 on_progress: Progress | None = None) -> TransferSummary:
    """Write every complete document of the store, with its vectors, into out_dir."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise IngestError(f"The export folder {out_dir} is not empty: choose a new folder.")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(manifest_path(data_dir), store.collection_name)
    totals = store.doc_totals()
    complete = sorted(complete_docs(totals))
    skipped = sorted(set(totals) - set(complete))
    if skipped:
        logger.warning("not exported (incomplete in the store, re-ingest them): %s", ", ".join(skipped))
    gathered = _Vectors()
    records = []
    with (out_dir / "documents.jsonl").open("w", encoding="utf-8") as docs_out:
        for n, doc_id in enumerate(complete, start=1):
            found = store.get_doc(doc_id)
            if found is None:
                continue  # removed meanwhile
            meta, chunks = found
            n_sentences = gathered.add(store, meta, chunks)
            line = {"doc": _doc_json(meta), "chunks": [asdict(c) for c in chunks]}
            docs_out.write(json.dumps(line, ensure_ascii=False) + "\n")
            record = manifest.get(doc_id) or DocRecord(
                doc_id, meta.source, meta.content_hash, title=meta.title, language=meta.language,
                kind=meta.kind,
            )
            records.append(replace(record, state="done", n_chunks=len(chunks), n_sentences=n_sentences))
            if on_progress:
                on_progress("export", n, len(complete))
    with (out_dir / "manifest.jsonl").open("w", encoding="utf-8") as out:
        for rec in records:
            out.write(json.dumps(asdict(rec), ensure_ascii=False) + "\n")
    dim = store.dim
    gathered.save(out_dir / "vectors.npz", dim)
    summary = TransferSummary(len(records), len(gathered.chunk_ids), len(gathered.s_ids), model, dim)
    meta_out = {"format": FORMAT, "version": VERSION, "embedding_model": model, "dim": dim,
                "collection": store.collection_name, "documents": summary.documents,
                "chunks": summary.chunks, "sentences": summary.sentences,
                "created": datetime.now(UTC).isoformat(timespec="seconds")}
    (out_dir / "export.json").write_text(json.dumps(meta_out, indent=1) + "\n", encoding="utf-8")
    return summary


def read_export_meta(in_dir: Path) -> dict[str, Any]:
    """The export.json of an export folder, checked for format and version."""
    try:
        meta = json.loads((in_dir / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IngestError(
            f"{in_dir} is not a readable export ({exc}): give the folder `export` wrote."
        ) from exc
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise IngestError(f"{in_dir} holds format {meta.get('format')!r} version {meta.get('version')!r}, "
                          f"not {FORMAT} version {VERSION}: export it again with this version.")
    return dict(meta)


def import_index(store: ChunkStore, data_dir: Path, in_dir: Path, model: str,
                 on_progress: Progress | None = None) -> TransferSummary:
    """Write an export's documents and vectors into the store and the manifest; nothing is embedded."""
    meta = read_export_meta(in_dir)
    if meta["embedding_model"] != model or int(meta["dim"]) != store.dim:
        raise IngestError(
            f"The export in {in_dir} was made with the embedding model {meta['embedding_model']} "
            f"({meta['dim']} dims) but this index uses {model} ({store.dim} dims): set "
            f"CA_EMBEDDING_MODEL to the export's model, or re-ingest the sources instead."
        )
    try:
        arrays = np.load(in_dir / "vectors.npz", allow_pickle=False)
        vectors = dict(zip((str(c) for c in arrays["chunk_ids"]), arrays["vectors"], strict=True))
        sentences: dict[str, list[tuple[int, int, list[float]]]] = {}
        for cid, (start, end), vector in zip(arrays["sentence_chunk_ids"], arrays["sentence_spans"],
                                             arrays["sentence_vectors"], strict=True):
            sentences.setdefault(str(cid), []).append((int(start), int(end), vector.tolist()))
        records = {rec["doc_id"]: DocRecord(**rec) for rec in _jsonl(in_dir / "manifest.jsonl")}
        lines = list(_jsonl(in_dir / "documents.jsonl"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IngestError(f"The export in {in_dir} is damaged ({exc}): export the index again.") from exc
    manifest = Manifest(manifest_path(data_dir), store.collection_name)
    n_chunks = n_sentences = 0
    for n, line in enumerate(lines, start=1):
        doc = DocMeta(**{**line["doc"], "extra": tuple(tuple(p) for p in line["doc"]["extra"])})
        chunks = [Chunk(**c) for c in line["chunks"]]
        missing = [c.chunk_id for c in chunks if c.chunk_id not in vectors]
        if missing:
            raise IngestError(
                f"The export in {in_dir} lacks vectors for {doc.source}: export the index again."
            )
        record = records.get(doc.doc_id) or DocRecord(doc.doc_id, doc.source, doc.content_hash)
        # subtle: the same pending/done protocol as ingest, so a killed import is finished by ingest or import
        manifest.mark_pending(record)
        store.delete_doc(doc.doc_id)
        doc_sentences = {c.chunk_id: sentences[c.chunk_id] for c in chunks if c.chunk_id in sentences}
        store.upsert(doc, chunks, [vectors[c.chunk_id].tolist() for c in chunks], doc_sentences)
        doc_n_sentences = sum(len(rows) for rows in doc_sentences.values())
        manifest.mark_done(doc.doc_id, len(chunks), doc_n_sentences)
        n_chunks += len(chunks)
        n_sentences += doc_n_sentences
        if on_progress:
            on_progress("import", n, len(lines))
    return TransferSummary(len(lines), n_chunks, n_sentences, model, store.dim)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
