"""Manifest: what was ingested into each collection (hashes, chunk counts, pending/done), saved atomically."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.errors import IngestError

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
