"""Data safety: export -> import round trip without re-embedding, model mismatch refused, status --repair."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import pytest
from fakes import HashEmbedder
from processes import cli_env, run_cli

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.index.store import ChunkStore
from assistant.models.embeddings import Embedder
from assistant.retrieval.retriever import Retriever
from assistant.types import Chunk, DocMeta
from ingest.manifest import Manifest, manifest_path
from ingest.pipeline import ingest
from ingest.repair import repair
from ingest.status import index_status
from ingest.transfer import export_index, import_index

FILES = ("35_fr_boursorama_afp_plus_de_60_pays.txt", "37_en_newshour_72_states_who_signed.txt",
         "24_vi_vietnamnet_noi_dung_chinh_cong_uoc.txt")
QUESTIONS = ("How many states signed the convention?", "Combien de pays ont signé ?",
             "Nội dung chính của công ước là gì?")


class CountingEmbedder:
    """Wraps a real Embedder and counts the texts it embeds, to prove an import embeds nothing."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.embedded = 0

    def embed_batch(self, texts: Sequence[str], kind: Literal["query", "document"]) -> list[list[float]]:
        self.embedded += len(texts)
        return self.inner.embed_batch(texts, kind)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def results(store: ChunkStore, embedder: Embedder, settings: Settings) -> list[list[tuple[str, float]]]:
    retriever = Retriever(store, embedder, settings)
    return [[(h.chunk.chunk_id, round(h.score, 9)) for h in retriever.search(q, k=5)] for q in QUESTIONS]


@pytest.mark.slow
def test_export_import_round_trip_gives_the_same_results_without_embedding(
    tmp_path: Path, corpus_dir: Path, small_embedder: Embedder, make_settings: Callable[..., Settings]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in FILES:
        shutil.copy(corpus_dir / "digests" / name, src)
    before = make_settings(embedding_model="small")
    store = ChunkStore(before, small_embedder)
    ingest([str(src)], before, small_embedder, store)
    out = tmp_path / "export"
    exported = export_index(store, before.data_dir, out, small_embedder.name)
    assert exported.documents == 3 and exported.chunks == store.count() and exported.sentences > 0
    meta = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert (meta["embedding_model"], meta["dim"], meta["version"]) == (small_embedder.name, 384, 1)
    with pytest.raises(IngestError, match="is not empty: choose a new folder"):
        export_index(store, before.data_dir, out, small_embedder.name)

    after = make_settings(embedding_model="small", data_dir=tmp_path / "fresh")
    counting = CountingEmbedder(small_embedder)
    fresh = ChunkStore(after, counting)
    imported = import_index(fresh, after.data_dir, out, counting.name)
    assert counting.embedded == 0  # vectors and sentence vectors came from the export
    assert (imported.documents, imported.chunks, imported.sentences) == (
        exported.documents, exported.chunks, exported.sentences)
    assert fresh.doc_states() == store.doc_states()
    assert fresh.sentence_states() == store.sentence_states()
    assert index_status(after, fresh).problems == ()
    assert results(fresh, small_embedder, after) == results(store, small_embedder, before)
    again = ingest([str(src)], after, counting, fresh)  # the imported manifest makes a re-run a no-op
    assert (again.unchanged, again.embedded_chunks) == (3, 0)


def test_import_refuses_another_embedding_model(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    store = ChunkStore(settings, HashEmbedder(64))
    doc = DocMeta(doc_id="d1", source="d1.txt", title="D", language="en", kind="other", content_hash="h")
    chunks = [Chunk(chunk_id="c1", doc_id="d1", position=0, text="Article 1. Scope.")]
    store.upsert(doc, chunks, HashEmbedder(64).embed_batch([chunks[0].text], "document"))
    export_index(store, settings.data_dir, tmp_path / "out", "hash-embedder-64")
    other = make_settings(data_dir=tmp_path / "other")
    refused = (r"made with the embedding model hash-embedder-64 \(64 dims\) but this index uses "
               r"hash-embedder-32 \(32 dims\): set CA_EMBEDDING_MODEL")
    with pytest.raises(IngestError, match=refused):
        import_index(ChunkStore(other, HashEmbedder(32)), other.data_dir, tmp_path / "out",
                     "hash-embedder-32")
    with pytest.raises(IngestError, match="is not a readable export"):
        import_index(ChunkStore(other, HashEmbedder(64)), other.data_dir, tmp_path, "hash-embedder-64")


def test_repair_adopts_complete_unknown_documents_remarks_and_names_what_to_reingest(
    tmp_path: Path, corpus_dir: Path, make_settings: Callable[..., Settings]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in FILES:
        shutil.copy(corpus_dir / "digests" / name, src)
    settings = make_settings()
    embedder = HashEmbedder(64)
    store = ChunkStore(settings, embedder)
    ingest([str(src)], settings, embedder, store)
    manifest = Manifest(manifest_path(settings.data_dir), store.collection_name)
    first, second, third = sorted(manifest.records.values(), key=lambda r: r.source)
    # a run killed after storing `first` but before marking it done
    manifest.mark_pending(first)
    # `second` changed on disk and its re-ingest died before writing: the store holds the old version
    from dataclasses import replace

    manifest.mark_pending(replace(second, content_hash="0" * 64))
    # a complete document another machine ingested: this manifest never heard of it
    stray = DocMeta(doc_id="feedfacefeedface", source="gone.txt", title="Gone", language="en", kind="other",
                    content_hash="h")
    store.upsert(stray, [Chunk(chunk_id="s1", doc_id=stray.doc_id, position=0, text="stray text")],
                 embedder.embed_batch(["stray text"], "document"))
    assert len(index_status(settings, store).problems) == 3

    done = repair(settings.data_dir, store, settings.ingest_lease_s)
    assert done.adopted == ("gone.txt",)
    assert done.remarked_done == (first.source,)
    assert done.reingest == (second.source,)
    assert done.chunks_removed > 0  # the old version of `second`
    assert store.get_doc(second.doc_id) is None and store.get_doc(stray.doc_id) is not None
    problems = index_status(settings, store).problems
    assert problems == (f"{second.source} was interrupted while ingesting: run ingest on it again.",)
    second_pass = repair(settings.data_dir, store, settings.ingest_lease_s)
    assert not second_pass.changed and second_pass.reingest == (second.source,)  # advice, no change

    healed = ingest([str(src)], settings, embedder, store)
    assert (healed.updated + healed.added, healed.unchanged) == (1, 2)
    assert index_status(settings, store).problems == ()
    assert third.doc_id in store.doc_states()


@pytest.mark.slow
def test_cli_export_import_and_status_repair(
    tmp_path: Path, corpus_dir: Path, small_embedder: Embedder, make_settings: Callable[..., Settings]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(corpus_dir / "digests" / FILES[0], src)
    settings = make_settings(embedding_model="small")
    ingest([str(src)], settings, small_embedder, ChunkStore(settings, small_embedder))
    env = cli_env(settings.data_dir, embedding_model="small")
    exported = run_cli(["export", str(tmp_path / "out")], env)
    assert exported.returncode == 0 and "exported 1 documents" in exported.stdout, exported.stderr
    fresh = cli_env(tmp_path / "fresh", embedding_model="small")
    imported = run_cli(["import", str(tmp_path / "out")], fresh)
    assert imported.returncode == 0 and "imported 1 documents" in imported.stdout, imported.stderr
    status = run_cli(["status", "--repair"], fresh)
    assert status.returncode == 0, status.stderr
    assert "repair: nothing to fix" in status.stdout and "the store matches the manifest" in status.stdout
    refused = run_cli(["import", str(tmp_path / "out")], cli_env(tmp_path / "q", embedding_model="quality"))
    if refused.returncode != 2 or "embedding model" not in refused.stderr:
        # without the quality profile installed, loading the model is what fails, with its own sentence
        assert refused.returncode == 2 and "error:" in refused.stderr
