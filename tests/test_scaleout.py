"""Scale-out: app processes sharing one Chroma server, and documents visible only once completely written."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import HashEmbedder
from processes import AppProcess, ChromaServer, cli_env, run_cli

from assistant.config import Settings
from assistant.index.store import ChunkStore
from assistant.index.visibility import IndexView, IndexWatcher, complete_docs
from assistant.models.embeddings import Embedder
from assistant.retrieval.retriever import Retriever
from assistant.types import Chunk, DocMeta
from ingest.loaders import doc_id_for
from ingest.pipeline import ingest


def doc(doc_id: str, content_hash: str) -> DocMeta:
    return DocMeta(doc_id=doc_id, source=f"{doc_id}.txt", title=doc_id, language="en", kind="other",
                   content_hash=content_hash)


def chunk(doc_id: str, i: int, text: str) -> Chunk:
    return Chunk(chunk_id=f"{doc_id}-{i}", doc_id=doc_id, position=i, text=text)


class TotalsStore:
    """Fake store for the view's logic: rows as (chunk, doc) and the totals the real store would report."""

    collection_name = "fake-64"

    def __init__(self) -> None:
        self.rows: list[tuple[Chunk, DocMeta]] = []
        self.totals: dict[str, tuple[str, int, int]] = {}
        self.reads = 0

    def doc_totals(self) -> dict[str, tuple[str, int, int]]:
        self.reads += 1
        return dict(self.totals)

    def iter_chunks(self) -> Iterator[tuple[Chunk, DocMeta]]:
        yield from self.rows


def test_complete_docs_needs_every_chunk() -> None:
    totals = {"a": ("h", 3, 3), "b": ("h", 2, 5), "c": ("h", 0, 0)}
    assert complete_docs(totals) == {"a": ("h", 3)}


def test_view_hides_partial_documents_and_new_versions_until_a_sync_sees_them() -> None:
    store, now = TotalsStore(), [0.0]
    store.rows = [(chunk("a", 0, "alpha"), doc("a", "h1")), (chunk("b", 0, "beta"), doc("b", "h1"))]
    store.totals = {"a": ("h1", 1, 1), "b": ("h1", 1, 3)}  # b: 1 of its 3 chunks written so far
    view = IndexView(store, interval_s=5.0, clock=lambda: now[0])
    refreshed: list[int] = []
    watcher = IndexWatcher(view, lambda: refreshed.append(view.count()))
    assert watcher.check(force=True) and refreshed == [1]
    assert [c.doc_id for c, _ in view.iter_chunks()] == ["a"]

    store.totals["b"] = ("h1", 3, 3)
    now[0] = 4.0
    assert not watcher.check() and store.reads == 1  # checked at most every interval_s
    now[0] = 5.5
    assert watcher.check() and refreshed == [1, 4]
    assert {c.doc_id for c, _ in view.iter_chunks()} == {"a", "b"}

    # a re-ingest of `a` writes a new version: its rows carry the new hash and stay hidden until complete
    store.rows[0] = (chunk("a", 0, "alpha two"), doc("a", "h2"))
    store.totals["a"] = ("h2", 1, 2)
    now[0] = 11.0
    assert watcher.check()
    assert [c.doc_id for c, _ in view.iter_chunks()] == ["b"]
    assert not watcher.check(force=True)  # nothing changed since: no needless rebuild
    assert refreshed == [1, 4, 3]


def test_a_document_being_written_is_never_half_visible(make_settings: Callable[..., Settings]) -> None:
    """A slow write of one large document (several store batches) while queries run against it."""
    embedder = HashEmbedder(64)
    settings = make_settings()
    store = ChunkStore(settings, embedder)
    small = doc("small", "s1")
    small_chunks = [chunk("small", 0, "zebra crossing rules for the control document")]
    store.upsert(small, small_chunks, embedder.embed_batch([c.text for c in small_chunks], "document"))
    big = doc("big", "b1")
    n = 3000  # the store writes at most 1000 rows per call: three visible steps
    big_chunks = [chunk("big", i, f"zebra passage {i} of the large document, part {i % 40}")
                  for i in range(n)]
    vectors = embedder.embed_batch([c.text for c in big_chunks], "document")

    view = IndexView(store, interval_s=0.0)
    retriever = Retriever(view, embedder, settings, mode="hybrid")
    watcher = IndexWatcher(view, retriever.refresh)
    watcher.check(force=True)
    writer = threading.Thread(target=store.upsert, args=(big, big_chunks, vectors))
    partial_states: list[int] = []

    def observe() -> None:  # what a reader of the raw store sees meanwhile
        while writer.is_alive():
            stored = store.doc_totals().get("big", ("", 0, 0))[1]
            if 0 < stored < n:
                partial_states.append(stored)

    observer = threading.Thread(target=observe)
    writer.start()
    observer.start()
    queries = 0
    while writer.is_alive():
        watcher.check()
        hits = retriever.search("zebra passage", k=8)
        queries += 1
        if any(h.doc.doc_id == "big" for h in hits):
            # subtle: the store only grows here, so a complete count now means the view's sync saw it whole
            stored = store.doc_totals()["big"][1]
            assert stored == n, f"an answer used the large document with only {stored} of {n} chunks stored"
        # complete documents stay visible throughout (asked apart: 3000 zebra passages may outrank it)
        control = retriever.search("crossing rules control document", k=8)
        assert any(h.doc.doc_id == "small" for h in control)
    writer.join()
    observer.join()
    assert partial_states and queries > 0, "the write finished before anyone could see it half-done"
    watcher.check()
    assert any(h.doc.doc_id == "big" for h in retriever.search("zebra passage", k=8))


# --- several app processes on one Chroma server ------------------------------------------------------

QUESTION = "How many countries signed the convention in Hanoi?"


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """An answer without its timings (the only part two processes may legitimately differ on)."""
    return {k: v for k, v in body.items() if k != "timings_ms"}


@pytest.mark.slow
def test_two_app_processes_answer_alike_and_see_a_later_ingest(
    tmp_path: Path, chroma: ChromaServer, corpus_dir: Path, small_embedder: Embedder,
    make_settings: Callable[..., Settings],
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("35_fr_boursorama_afp_plus_de_60_pays.txt", "37_en_newshour_72_states_who_signed.txt",
                 "12_en_coe_24_7_network_page.txt"):
        shutil.copy(corpus_dir / "digests" / name, src)
    settings = make_settings(embedding_model="small", chroma_url=chroma.url)
    assert ingest([str(src)], settings, small_embedder, ChunkStore(settings, small_embedder)).added == 3

    # each app has its own empty data folder: everything it serves comes from the shared server
    apps = [AppProcess(cli_env(tmp_path / f"app{i}", chroma_url=chroma.url, embedding_model="small",
                               index_refresh_s="1"), tmp_path / f"app{i}.log") for i in (1, 2)]
    try:
        for app in apps:
            app.wait()
        first, second = (httpx.post(f"{a.url}/api/ask", json={"question": QUESTION}, timeout=120)
                         for a in apps)
        assert first.status_code == second.status_code == 200
        assert comparable(first.json()) == comparable(second.json())
        assert first.json()["citations"] and first.json()["retrieved"]

        # the history travels with the request: a follow-up asked of the other process is understood alike
        follow = {"question": "And in Vietnam?", "history": [
            {"role": "user", "content": QUESTION}, {"role": "assistant", "content": first.json()["answer"]}]}
        one, two = (httpx.post(f"{a.url}/api/ask", json=follow, timeout=120).json() for a in apps)
        assert comparable(one) == comparable(two) and one["standalone_question"]

        # an ingest job against the same server; both apps see the new document after their refresh
        late = corpus_dir / "digests" / "23_vi_nld_gan_70_quoc_gia_ky.txt"
        # subtle: ingest jobs share one manifest (here the first ingest's data folder): a job with an
        # empty manifest would take the server's documents for a killed run's orphans and remove them.
        job = run_cli(["ingest", str(late)], cli_env(settings.data_dir, chroma_url=chroma.url,
                                                      embedding_model="small"))
        assert job.returncode == 0, job.stderr
        late_id = doc_id_for(late.name)
        time.sleep(1.5)  # past index_refresh_s
        ask = {"question": "Bao nhiêu quốc gia đã ký công ước tại Hà Nội?", "filters": {"languages": ["vi"]}}
        answers = [httpx.post(f"{a.url}/api/ask", json=ask, timeout=120).json() for a in apps]
        assert comparable(answers[0]) == comparable(answers[1])
        assert any(c["doc_id"] == late_id for c in answers[0]["citations"]), answers[0]
        for app in apps:
            shown = httpx.get(f"{app.url}/api/documents/{late_id}", timeout=30)
            assert shown.status_code == 200 and shown.json()["language"] == "vi"
            health = httpx.get(f"{app.url}/api/health", timeout=30).json()
            assert health["documents"] == 4
            metrics = httpx.get(f"{app.url}/metrics", timeout=30).text
            assert "ca_index_refreshes_total 2.0" in metrics  # built at start, rebuilt after the ingest
    finally:
        for app in apps:
            app.stop()
