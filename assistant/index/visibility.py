"""IndexView: the store as answers see it (complete documents only), re-checked every few seconds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from assistant.types import Chunk, DocMeta

log = logging.getLogger(__name__)


class TotalsStore(Protocol):
    """What the view needs from assistant.index.store.ChunkStore."""

    collection_name: str

    def doc_totals(self) -> dict[str, tuple[str, int, int]]: ...

    def iter_chunks(self) -> Iterator[tuple[Chunk, DocMeta]]: ...


def complete_docs(totals: Mapping[str, tuple[str, int, int]]) -> dict[str, tuple[str, int]]:
    """doc_id -> (content_hash, chunks) of the documents whose every chunk is stored."""
    return {doc_id: (content_hash, stored) for doc_id, (content_hash, stored, expected) in totals.items()
            if stored == expected > 0}


class IndexView:
    """Wraps the ChunkStore: hides documents still being written and says when the index changed.

    subtle: an ingest job on another machine writes a document's chunks in several upserts, and a
    re-ingested document comes back under a new content hash. A document is visible only once a sync has
    seen all its chunks (each chunk row carries the document's n_chunks), and only in the version that
    sync saw, so answers never quote half of a document, nor a mix of two versions.
    """

    def __init__(self, store: Any, interval_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if interval_s < 0:
            raise ValueError(f"interval_s must be 0 or more. Currently, interval_s is {interval_s}")
        self.store, self.interval_s, self.clock = store, interval_s, clock
        self.collection_name: str = store.collection_name
        self._visible: dict[str, tuple[str, int]] | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        # everything that is not about visibility (get_doc, doc_states, location...) is the store's
        return getattr(self.store, name)

    def sync(self, force: bool = False) -> bool:
        """Re-read which documents are complete, at most every interval_s; True when that set changed."""
        with self._lock:
            now = self.clock()
            if not force and self._visible is not None and now - self._checked < self.interval_s:
                return False
            visible = complete_docs(self.store.doc_totals())
            self._checked = now
            changed = visible != self._visible
            if changed and self._visible is not None:
                log.info("index changed: %d complete documents (was %d)", len(visible), len(self._visible))
            self._visible = visible
            return changed

    def _shown(self) -> dict[str, tuple[str, int]]:
        if self._visible is None:
            self.sync(force=True)
        assert self._visible is not None
        return self._visible

    def is_visible(self, doc: DocMeta) -> bool:
        """Whether this version of the document was complete at the last sync."""
        seen = self._shown().get(doc.doc_id)
        return seen is not None and seen[0] == doc.content_hash

    def count(self) -> int:
        """Chunks of the visible documents (the Retriever rebuilds its lexical index when this changes)."""
        return sum(n for _, n in self._shown().values())

    def signature(self) -> tuple[tuple[str, str], ...]:
        """What identifies the visible index: every visible document and its content hash."""
        return tuple(sorted((doc_id, h) for doc_id, (h, _) in self._shown().items()))

    def iter_chunks(self) -> Iterator[tuple[Chunk, DocMeta]]:
        """Every chunk of the visible documents."""
        for chunk, doc in self.store.iter_chunks():
            if self.is_visible(doc):
                yield chunk, doc


class IndexWatcher:
    """Keeps a Retriever in step with a shared index: rebuilds its lexical index when the view changed."""

    def __init__(self, view: IndexView, refresh: Callable[[], None],
                 on_refresh: Callable[[], None] | None = None) -> None:
        self.view, self.refresh, self.on_refresh = view, refresh, on_refresh
        self._lock = threading.Lock()

    def check(self, force: bool = False) -> bool:
        """Sync the view (cheap when recent) and refresh the retriever if it changed; True if refreshed."""
        with self._lock:
            if not self.view.sync(force=force):
                return False
            self.refresh()
            if self.on_refresh is not None:
                self.on_refresh()
            return True
