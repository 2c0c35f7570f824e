"""status --repair: bring the store and the manifest back into agreement, and say what must be re-ingested."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.store import ChunkStore
from ingest.manifest import Manifest, manifest_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepairReport:
    """What a repair did, and what only a new ingest can fix."""

    orphans_removed: tuple[str, ...]  # doc ids whose rows were in the store but not recorded as done
    chunks_removed: int
    remarked_done: tuple[str, ...]  # sources a killed run had fully stored but not yet marked done
    reingest: tuple[str, ...]  # sources whose stored chunks were wrong or missing: run ingest on them

    @property
    def changed(self) -> bool:
        """Whether the repair changed the store or the manifest (re-ingest advice alone is no change)."""
        return bool(self.orphans_removed or self.chunks_removed or self.remarked_done)


def repair(data_dir: Path, store: ChunkStore) -> RepairReport:
    """Drop orphan and partial rows, re-mark fully stored documents done, list what must be re-ingested."""
    manifest = Manifest(manifest_path(data_dir), store.collection_name)
    totals = store.doc_totals()
    sentences = store.sentence_states()
    orphans: list[str] = []
    remarked: list[str] = []
    reingest: list[str] = []
    removed = 0
    # a run killed between the sentence write and the chunk write leaves sentence rows only
    for doc_id in sorted(set(totals) | set(sentences)):
        if doc_id not in manifest.records:
            removed += store.delete_doc(doc_id)
            orphans.append(doc_id)
    for doc_id, record in sorted(manifest.records.items(), key=lambda kv: kv[1].source):
        content_hash, stored, expected = totals.get(doc_id, ("", 0, 0))
        whole = stored == expected > 0 and content_hash == record.content_hash
        if whole and record.state == "pending":
            # subtle: all chunks carry the manifest's hash and their own count matches: the run died after
            # the upsert and before mark_done, so the document is complete and can be marked done as is.
            manifest.records[doc_id] = replace(record, state="done", n_chunks=stored,
                                               n_sentences=sentences.get(doc_id, 0))
            manifest.save()
            remarked.append(record.source)
        elif whole and record.n_chunks != stored:
            manifest.records[doc_id] = replace(record, n_chunks=stored)
            manifest.save()
            remarked.append(record.source)
        elif not whole:
            removed += store.delete_doc(doc_id)
            if record.state != "pending":
                manifest.mark_pending(record)  # the next ingest of this source rewrites it
            reingest.append(record.source)
    if orphans or reingest or remarked:
        logger.info("repair: %d orphans removed, %d re-marked, %d to re-ingest", len(orphans), len(remarked),
                    len(reingest))
    return RepairReport(tuple(orphans), removed, tuple(remarked), tuple(reingest))
