"""What the index holds, per language and kind, and where the manifest and the store disagree."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from assistant.config import Settings
from assistant.index.store import ChunkStore
from ingest.manifest import Manifest, is_whole, manifest_path


@dataclass(frozen=True)
class IndexStatus:
    """What the index holds, and where the manifest and the store disagree."""

    collection: str
    location: str
    documents: int
    chunks: int
    languages: dict[str, tuple[int, int]]  # language -> (documents, chunks)
    kinds: dict[str, tuple[int, int]]
    problems: tuple[str, ...]  # one sentence each, with what to do


def index_status(settings: Settings, store: ChunkStore) -> IndexStatus:
    """Count documents and chunks per language and kind, and compare the store with the manifest."""
    manifest = Manifest(manifest_path(settings.data_dir), store.collection_name)
    docs: dict[str, tuple[str, str]] = {}
    chunk_counts: Counter[str] = Counter()
    for chunk, doc in store.iter_chunks():
        docs[doc.doc_id] = (doc.language, doc.kind)
        chunk_counts[chunk.doc_id] += 1
    languages: dict[str, tuple[int, int]] = {}
    kinds: dict[str, tuple[int, int]] = {}
    for doc_id, (language, kind) in docs.items():
        for table, key in ((languages, language), (kinds, kind)):
            n_docs, n_chunks = table.get(key, (0, 0))
            table[key] = (n_docs + 1, n_chunks + chunk_counts[doc_id])
    return IndexStatus(
        collection=store.collection_name,
        location=store.location,
        documents=len(docs),
        chunks=sum(chunk_counts.values()),
        languages=dict(sorted(languages.items())),
        kinds=dict(sorted(kinds.items())),
        problems=tuple(_problems(store, manifest, set(docs), chunk_counts)),
    )


def _problems(store: ChunkStore, manifest: Manifest, docs: set[str], chunk_counts: Counter[str]) -> list[str]:
    """Where the manifest and the store disagree, one sentence each with what to do."""
    problems = []
    sentence_counts = store.sentence_states()
    for doc_id, rec in sorted(manifest.records.items(), key=lambda kv: kv[1].source):
        stored = chunk_counts.get(doc_id, 0)
        if rec.state == "pending":
            problems.append(f"{rec.source} was interrupted while ingesting: run ingest on it again.")
        elif stored != rec.n_chunks:
            problems.append(
                f"{rec.source} should have {rec.n_chunks} chunks but the store has {stored}: "
                "run ingest on it again."
            )
        elif rec.n_sentences != sentence_counts.get(doc_id, 0):
            problems.append(
                f"{rec.source} lacks some of its sentence vectors, so answers embed them slowly: "
                "run ingest on it again."
            )
    rows = store.stored_docs()
    for doc_id in sorted(set(docs) - set(manifest.records)):
        if is_whole(store, rows[doc_id], sentence_counts.get(doc_id, 0)):
            problems.append(
                f"document {doc_id} is complete in the store but not in this manifest (another ingest job "
                "wrote it?): the next ingest here adopts it."
            )
        else:
            problems.append(
                f"document {doc_id} is only partly in the store and not in the manifest: "
                "the next ingest removes it."
            )
    return problems
