"""Manifest: what was ingested into each collection (hashes, chunk counts, pending/done), saved atomically.

The store is the source of truth: this is a local cache of it plus the pending marks of this machine's runs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.errors import IngestError
from assistant.index.store import ChunkStore, StoredDoc
from assistant.text.segmenter import quotable_sentences

logger = logging.getLogger(__name__)

State = Literal["pending", "done"]
_VERSION = 1


@dataclass(frozen=True)
class DocRecord:
    """One document as the manifest knows it."""

    doc_id: str
    source: str
    content_hash: str
    n_chunks: int = 0
    state: State = "pending"
    title: str = ""
    language: str = ""
    kind: str = ""
    ingested_at: str = ""  # ISO time the document was last marked done
    n_sentences: int = -1  # sentence vectors stored; -1: recorded before sentence vectors existed


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Manifest:
    """The records of one collection inside data_dir/manifest.json; every change is written at once."""

    def __init__(self, path: Path, collection: str) -> None:
        self.path = path
        self.collection = collection
        self._all = self._read()
        raw = self._all.setdefault(collection, {})
        self.records: dict[str, DocRecord] = {doc_id: DocRecord(**rec) for doc_id, rec in raw.items()}

    def _read(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every collection's records from disk; a damaged file is set aside so the run can heal the index."""
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            collections = data["collections"]
            for records in collections.values():
                for rec in records.values():
                    DocRecord(**rec)  # validate now rather than half-way through a run
            return dict(collections)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            aside = self.path.with_name(self.path.name + ".bad")
            os.replace(self.path, aside)
            # subtle: with an empty manifest every stored chunk counts as an orphan, so the next ingest
            # rebuilds the index from the inputs instead of trusting a record it cannot read.
            logger.warning("manifest %s is damaged (%s); moved to %s, starting empty", self.path, exc, aside)
            return {}
        except OSError as exc:
            raise IngestError(
                f"The manifest {self.path} cannot be read ({exc}): check the data folder."
            ) from exc

    def save(self) -> None:
        """Write the whole manifest atomically (temp file in the same folder, fsync, os.replace)."""
        self._all[self.collection] = {doc_id: asdict(rec) for doc_id, rec in sorted(self.records.items())}
        payload = json.dumps({"version": _VERSION, "collections": self._all}, ensure_ascii=False, indent=1)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(payload)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError as exc:
            raise IngestError(
                f"The manifest {self.path} cannot be written ({exc}): check the data folder."
            ) from exc

    def get(self, doc_id: str) -> DocRecord | None:
        """The record of a document, if any."""
        return self.records.get(doc_id)

    def mark_pending(self, record: DocRecord) -> None:
        """Record that a document is being (re)written; a crash leaves it pending, to be redone."""
        self.records[record.doc_id] = replace(record, state="pending")
        self.save()

    def mark_done(self, doc_id: str, n_chunks: int, n_sentences: int = -1) -> None:
        """Record that the n_chunks chunks and n_sentences sentence vectors of a document are stored."""
        record = self.records[doc_id]
        self.records[doc_id] = replace(
            record, state="done", n_chunks=n_chunks, n_sentences=n_sentences, ingested_at=_now()
        )
        self.save()

    def adopt(self, records: Sequence[DocRecord]) -> None:
        """Record documents found complete in the store (another ingest job's) as done; saves once."""
        if not records:
            return
        now = _now()
        for record in records:
            self.records[record.doc_id] = replace(record, state="done", ingested_at=record.ingested_at or now)
        self.save()

    def remove(self, doc_id: str) -> None:
        """Forget a document."""
        if self.records.pop(doc_id, None) is not None:
            self.save()

    def done(self) -> dict[str, DocRecord]:
        """Records of the documents completely stored."""
        return {d: r for d, r in self.records.items() if r.state == "done"}

    def pending(self) -> dict[str, DocRecord]:
        """Records left pending by an interrupted run."""
        return {d: r for d, r in self.records.items() if r.state == "pending"}


def manifest_path(data_dir: Path) -> Path:
    """Where the manifest of a data folder lives."""
    return data_dir / "manifest.json"


def is_whole(store: ChunkStore, doc: StoredDoc, sentences: int) -> bool:
    """Whether a document's rows are one complete write: chunks consistent, every sentence vector there."""
    if not doc.consistent():
        return False
    expected = doc.expected_sentences()
    if expected is None:
        # rows written before they carried the sentence count: count what the pipeline would have written
        got = store.get_doc(doc.doc_id)
        expected = sum(len(quotable_sentences(c.text)) for c in got[1]) if got else -1
    return sentences == expected


def reconcile(
    store: ChunkStore, manifest: Manifest, lease_s: float, now: float | None = None
) -> tuple[int, int]:
    """Sweep a killed run's leftovers, adopt complete documents unknown here; returns (deleted, adopted).

    subtle: the store is the source of truth and the manifest a local cache. Another machine's ingest job
    (or this one with a fresh data folder) wrote complete documents this manifest never saw; deleting them
    would empty a shared index. Swept: rows that this machine's killed run left pending, and partial rows
    of unknown documents older than the lease (a job that died); the next steps redo them if they are
    among the inputs. Younger partial rows of unknown documents may be a running job's and stay.
    """
    stored = store.stored_docs()
    sentence_counts = store.sentence_states()
    adopted: list[DocRecord] = []
    foreign: list[str] = []
    deleted = 0
    # a run killed between the sentence write and the chunk write leaves sentences only
    for doc_id in sorted(set(stored) | set(sentence_counts)):
        record = manifest.get(doc_id)
        if record is not None and record.state == "done":
            continue  # ingest compares it with the store below and rewrites it if they disagree
        doc = stored.get(doc_id)
        n_sentences = sentence_counts.get(doc_id, 0)
        if record is None and doc is not None and is_whole(store, doc, n_sentences):
            adopted.append(DocRecord(
                doc_id, doc.source, doc.content_hash, n_chunks=len(doc.positions), state="done",
                title=doc.title, language=doc.language, kind=doc.kind, n_sentences=n_sentences,
            ))  # fmt: skip
            continue
        if record is None:
            foreign.append(doc_id)
            continue
        deleted += store.delete_doc(doc_id)
        logger.info("removed partial rows of %s", doc_id)
    now = time.time() if now is None else now
    for doc_id, written_at in sorted(store.write_times(foreign).items()):
        age = now - written_at
        if age < lease_s:
            logger.info("left partial rows of %s alone: written %.0f s ago, perhaps by an ingest job still "
                        "running elsewhere; they are swept once %.0f s old", doc_id, age, lease_s)
            continue
        deleted += store.delete_doc(doc_id)
        logger.info("removed partial rows of %s (written %.0f s ago)", doc_id, age)
    manifest.adopt(adopted)
    if adopted:
        logger.info("adopted %d complete documents found in the store", len(adopted))
    return deleted, len(adopted)
