"""status --repair: bring the store and the manifest back into agreement, and say what must be re-ingested."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from assistant.index.store import ChunkStore
from ingest.manifest import Manifest, is_whole, manifest_path, reconcile

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepairReport:
    """What a repair did, and what only a new ingest can fix."""

    chunks_removed: int  # rows of partial writes (a killed run's leftovers) and of broken documents
    adopted: tuple[str, ...]  # sources complete in the store but unknown here (another machine's ingest)
    remarked_done: tuple[str, ...]  # sources a killed run had fully stored but not yet marked done
    reingest: tuple[str, ...]  # sources whose stored chunks were wrong or missing: run ingest on them

    @property
    def changed(self) -> bool:
        """Whether the repair changed the store or the manifest (re-ingest advice alone is no change)."""
        return bool(self.chunks_removed or self.adopted or self.remarked_done)


def repair(data_dir: Path, store: ChunkStore, lease_s: float) -> RepairReport:
    """Re-mark fully stored documents done, adopt complete unknown ones, drop partial rows, list re-ingests.

    subtle: the store is the source of truth (several machines may ingest into one server), so rows this
    manifest does not know are adopted when they form a complete document, never deleted for that alone.
    """
    manifest = Manifest(manifest_path(data_dir), store.collection_name)
    sentences = store.sentence_states()

    def whole(doc_id: str, content_hash: str) -> bool:
        doc = store.stored_docs().get(doc_id)
        return doc is not None and doc.content_hash == content_hash and is_whole(
            store, doc, sentences.get(doc_id, 0))

    remarked: list[str] = []
    for doc_id, record in sorted(manifest.records.items(), key=lambda kv: kv[1].source):
        if record.state == "pending" and whole(doc_id, record.content_hash):
            # the run died after the upsert and before mark_done: the document is complete as stored
            stored = store.stored_docs()[doc_id]
            manifest.mark_done(doc_id, len(stored.positions), sentences.get(doc_id, 0))
            remarked.append(record.source)
    known = set(manifest.records)
    removed, _ = reconcile(store, manifest, lease_s)  # adopts complete unknown documents, sweeps partial rows
    adopted = sorted(manifest.records[d].source for d in set(manifest.records) - known)
    reingest: list[str] = []
    for doc_id, record in sorted(manifest.records.items(), key=lambda kv: kv[1].source):
        if record.state == "done" and not whole(doc_id, record.content_hash):
            removed += store.delete_doc(doc_id)
            manifest.mark_pending(record)  # the next ingest of this source rewrites it
        if manifest.records[doc_id].state == "pending":
            reingest.append(record.source)
    if removed or adopted or remarked or reingest:
        logger.info("repair: %d rows removed, %d adopted, %d re-marked, %d to re-ingest", removed,
                    len(adopted), len(remarked), len(reingest))
    return RepairReport(removed, tuple(adopted), tuple(remarked), tuple(reingest))
