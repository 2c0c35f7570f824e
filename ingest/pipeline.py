"""Ingestion: discover -> load -> chunk -> embed -> upsert, incremental and safe to kill at any point."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.index.store import ChunkStore
from assistant.models.embeddings import Embedder
from assistant.text.segmenter import quotable_sentences
from assistant.types import Chunk, Document
from ingest.chunking import chunk_document
from ingest.loaders import Skipped, SourceRef, discover, doc_id_for, load
from ingest.manifest import DocRecord, Manifest, manifest_path, reconcile

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
WINDOW_BATCHES = 32  # batches whose texts are sorted by length together before embedding


@dataclass(frozen=True)
class IngestSummary:
    """What one ingest run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_written: int = 0
    chunks_deleted: int = 0
    languages: dict[str, int] = field(default_factory=dict)  # documents per language, of this run's inputs
    kinds: dict[str, int] = field(default_factory=dict)
    skipped: tuple[Skipped, ...] = ()
    seconds: float = 0.0
    embedded_chunks: int = 0
    embedded_sentences: int = 0  # sentence vectors the extractive answerer reads instead of embedding
    adopted: int = 0  # complete documents found in the store but not in this manifest (another ingest job's)

    @property
    def changed(self) -> int:
        """Documents added, updated or removed."""
        return self.added + self.updated + self.removed


@dataclass
class _Pending:
    """One document being embedded: its chunks, where each sentence goes, and the vectors so far."""

    doc: Document
    chunks: list[Chunk]
    spans: list[tuple[int, int, int]]  # (chunk index, start, end) of each sentence vector
    vectors: dict[int, list[float]] = field(default_factory=dict)  # text index -> vector

    def texts(self) -> list[str]:
        """Chunk texts (with heading), then the quotable sentences of every chunk."""
        return [c.embed_text() for c in self.chunks] + [
            self.chunks[j].text[a:b] for j, a, b in self.spans
        ]

    def complete(self) -> bool:
        return len(self.vectors) == len(self.chunks) + len(self.spans)


def _spans(chunks: Sequence[Chunk]) -> list[tuple[int, int, int]]:
    """(chunk index, start, end) of every sentence the extractive answerer may quote."""
    return [(j, a, b) for j, chunk in enumerate(chunks) for a, b in quotable_sentences(chunk.text)]


class _Writer:
    """Embeds chunks and sentences of changed documents in length-sorted windows that may span documents."""

    def __init__(self, embedder: Embedder, store: ChunkStore, manifest: Manifest, batch_size: int) -> None:
        self.embedder, self.store, self.manifest, self.batch_size = embedder, store, manifest, batch_size
        self.chunks_deleted = 0
        self.chunks_written = 0
        self.sentences_written = 0

    def _begin(self, doc: Document) -> None:
        meta = doc.meta
        # subtle: pending is on disk before the old chunks go, so a kill from here on is redone next run.
        record = DocRecord(
            meta.doc_id, meta.source, meta.content_hash,
            title=meta.title, language=meta.language, kind=meta.kind,
        )
        self.manifest.mark_pending(record)
        self.chunks_deleted += self.store.delete_doc(meta.doc_id)

    def _finish(self, item: _Pending) -> None:
        n = len(item.chunks)
        sentences: dict[str, list[tuple[int, int, list[float]]]] = {}
        for k, (j, a, b) in enumerate(item.spans):
            sentences.setdefault(item.chunks[j].chunk_id, []).append((a, b, item.vectors[n + k]))
        self.store.upsert(item.doc.meta, item.chunks, [item.vectors[k] for k in range(n)], sentences)
        self.manifest.mark_done(item.doc.meta.doc_id, n, len(item.spans))
        self.chunks_written += n
        self.sentences_written += len(item.spans)
        logger.info("stored %s (%d chunks, %d sentences)", item.doc.meta.source, n, len(item.spans))

    def write(self, work: Sequence[tuple[Document, list[Chunk]]], on_progress: Progress | None) -> int:
        """Replace every document of `work` in the store; returns the number of texts embedded."""
        pending = [
            _Pending(doc, chunks, _spans(chunks))
            for doc, chunks in work
        ]
        flat = [(i, k, text) for i, item in enumerate(pending) for k, text in enumerate(item.texts())]
        total, done = len(flat), 0
        window = self.batch_size * WINDOW_BATCHES
        begun: set[int] = set()
        for w_start in range(0, total, window):
            part = flat[w_start : w_start + window]
            for i in dict.fromkeys(i for i, _, _ in part):
                if i not in begun:
                    begun.add(i)
                    self._begin(pending[i].doc)
            # subtle: texts of similar length in tokens share a batch, so little of each batch is padding
            # (characters are a poor proxy: a Vietnamese or Chinese character is not a Latin one)
            part.sort(key=lambda row: self.embedder.count_tokens(row[2]), reverse=True)
            for b_start in range(0, len(part), self.batch_size):
                batch = part[b_start : b_start + self.batch_size]
                vectors = self.embedder.embed_batch([text for _, _, text in batch], "document")
                for (i, k, _), vector in zip(batch, vectors, strict=True):
                    pending[i].vectors[k] = vector
                done += len(batch)
                if on_progress:
                    on_progress("embed", done, total)
            # documents are done in input order as soon as all their texts have vectors
            for i in sorted({i for i, _, _ in part}):
                if pending[i].complete():
                    self._finish(pending[i])
                    pending[i].vectors.clear()  # keep memory flat on large inputs
        return total


@dataclass
class _Plan:
    """What an ingest run found: documents to (re)write, and counts for the summary."""

    work: list[tuple[Document, list[Chunk]]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unchanged: int = 0
    added: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)


def _plan(refs: Sequence[SourceRef], settings: Settings, embedder: Embedder, store: ChunkStore,
          manifest: Manifest, on_progress: Progress | None) -> _Plan:
    """Load every input and chunk the documents whose stored version is not this one."""
    plan = _Plan()
    states, sentence_counts = store.doc_states(), store.sentence_states()
    seen: set[str] = set()
    for n, ref in enumerate(refs, start=1):
        try:
            doc = load(ref, settings)
        except IngestError as exc:
            plan.skipped.append(Skipped(ref.source, str(exc)))
            logger.info("skipped %s: %s", ref.source, exc)
            continue
        finally:
            if on_progress:
                on_progress("files", n, len(refs))
        meta = doc.meta
        if meta.doc_id in seen:
            continue  # the same source named twice (e.g. a folder and a file inside it)
        seen.add(meta.doc_id)
        record = manifest.get(meta.doc_id)
        stored_hash, stored_count = states.get(meta.doc_id, ("", 0))
        if (
            record is not None
            and record.state == "done"
            and record.content_hash == meta.content_hash == stored_hash
            and record.n_chunks == stored_count
            and record.n_sentences == sentence_counts.get(meta.doc_id, 0)
        ):
            plan.unchanged += 1
        else:
            chunks = chunk_document(
                doc, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens
            )
            if not chunks:
                plan.skipped.append(Skipped(ref.source, "no text to index after loading"))
                continue
            if record is None or record.state != "done":
                plan.added += 1
            plan.work.append((doc, chunks))
        plan.languages[meta.language] += 1
        plan.kinds[meta.kind] += 1
    return plan


def _prune(store: ChunkStore, manifest: Manifest, discovered: set[str]) -> tuple[int, int]:
    """Remove every indexed document not among the inputs: (documents removed, chunks deleted)."""
    removed, chunks = 0, 0
    for doc_id in set(manifest.records) | set(store.doc_states()) | set(store.sentence_states()):
        if doc_id not in discovered:
            chunks += store.delete_doc(doc_id)
            manifest.remove(doc_id)
            removed += 1
    return removed, chunks


def ingest(
    inputs: Sequence[str],
    settings: Settings,
    embedder: Embedder,
    store: ChunkStore,
    *,
    prune: bool = False,
    on_progress: Progress | None = None,
) -> IngestSummary:
    """Bring the store up to date with the inputs; unchanged documents are not embedded again."""
    started = time.perf_counter()
    manifest = Manifest(manifest_path(settings.data_dir), store.collection_name)
    orphans, adopted = reconcile(store, manifest, settings.ingest_lease_s)
    refs, skipped = discover(inputs)
    plan = _plan(refs, settings, embedder, store, manifest, on_progress)
    writer = _Writer(embedder, store, manifest, settings.embedding_batch_size)
    writer.write(plan.work, on_progress)
    discovered = {doc_id_for(ref.source) for ref in refs}
    removed, pruned_chunks = _prune(store, manifest, discovered) if prune else (0, 0)
    summary = IngestSummary(
        added=plan.added,
        updated=len(plan.work) - plan.added,
        unchanged=plan.unchanged,
        removed=removed,
        chunks_written=writer.chunks_written,
        chunks_deleted=orphans + writer.chunks_deleted + pruned_chunks,
        languages=dict(sorted(plan.languages.items())),
        kinds=dict(sorted(plan.kinds.items())),
        skipped=(*skipped, *plan.skipped),
        seconds=time.perf_counter() - started,
        embedded_chunks=writer.chunks_written,
        embedded_sentences=writer.sentences_written,
        adopted=adopted,
    )
    logger.info("ingest summary: %s", summary)
    return summary
