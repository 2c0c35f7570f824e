"""Ingest pipeline end to end: real loaders, chunking, the real small model and a real Chroma on tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from assistant.index.store import ChunkStore
from ingest.loaders import doc_id_for
from ingest.manifest import Manifest, manifest_path
from ingest.pipeline import IngestSummary, ingest
from ingest.status import index_status

pytestmark = pytest.mark.slow

SMALL_DIGESTS = (  # short digests (one or two chunks each): keep the model's work small
    "digests/12_en_coe_24_7_network_page.txt",
    "digests/23_vi_nld_gan_70_quoc_gia_ky.txt",
    "digests/35_fr_boursorama_afp_plus_de_60_pays.txt",
    "digests/50_en_hellbound_claims_us_signed_UNRELIABLE.txt",
)


def snapshot(store: ChunkStore) -> dict[str, Any]:
    """Every chunk id with its text and metadata: equal snapshots mean nothing changed."""
    return {chunk.chunk_id: (chunk, doc) for chunk, doc in store.iter_chunks()}


def copy_digests(corpus_dir: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in SMALL_DIGESTS:
        shutil.copy(corpus_dir / name, dest / Path(name).name)
    return dest


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory, corpus_dir, small_embedder):
    """The whole shared corpus ingested once with the small model."""
    from assistant.config import load_settings

    settings = load_settings(embedding_model="small", data_dir=tmp_path_factory.mktemp("corpus") / "data")
    store = ChunkStore(settings, small_embedder)
    events: list[tuple[str, int, int]] = []
    first = ingest(
        [str(corpus_dir)], settings, small_embedder, store, on_progress=lambda *e: events.append(e)
    )
    return settings, store, first, events


def test_whole_corpus_is_ingested_with_locators_and_metadata(corpus_index) -> None:
    settings, store, first, events = corpus_index
    assert (first.added, first.updated, first.unchanged, first.removed) == (60, 0, 0, 0)
    assert sorted(s.source for s in first.skipped) == ["corpus/MANIFEST.tsv", "corpus/README.md"]
    assert {"en", "fr", "vi", "ar"} <= set(first.languages)
    assert sum(first.languages.values()) == 60 and first.kinds["treaty"] == 3
    assert first.chunks_written == first.embedded_chunks == store.count() > 60
    states = store.doc_states()
    assert len(states) == 60
    for chunk, doc in store.iter_chunks():
        assert chunk.locator and chunk.text and chunk.doc_id == doc.doc_id
        assert (
            doc.title and doc.language and doc.kind and doc.content_hash and doc.source.startswith("corpus/")
        )
        assert (
            states[doc.doc_id][1]
            == Manifest(manifest_path(settings.data_dir), store.collection_name).records[doc.doc_id].n_chunks
        )
    budapest = store.get_doc(doc_id_for("corpus/texts/coe_budapest_convention_ets185_en.txt"))
    assert budapest is not None
    assert any(c.article == "16" for c in budapest[1])
    # progress: every file, then every text embedded (chunks and their sentences), ending at the totals
    assert ("files", 60, 60) in events
    texts = first.embedded_chunks + first.embedded_sentences
    embed_events = [e for e in events if e[0] == "embed"]
    assert embed_events[-1] == ("embed", texts, texts)
    assert [e[1] for e in embed_events] == sorted(e[1] for e in embed_events)
    # every document's quotable sentences are stored, as many as the manifest records
    sentences = store.sentence_states()
    records = Manifest(manifest_path(settings.data_dir), store.collection_name).records
    assert sum(sentences.values()) == first.embedded_sentences > first.embedded_chunks
    assert all(records[d].n_sentences == sentences.get(d, 0) for d in records)
    assert index_status(settings, store).problems == ()


def test_second_run_embeds_nothing_and_changes_nothing(corpus_index, corpus_dir, small_embedder) -> None:
    settings, store, _, _ = corpus_index
    before = snapshot(store)
    again = ingest([str(corpus_dir)], settings, small_embedder, store)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 60, 0)
    assert (again.embedded_chunks, again.chunks_written, again.chunks_deleted) == (0, 0, 0)
    assert again.embedded_sentences == 0
    assert snapshot(store) == before
    assert again.seconds < 5


def test_changed_file_replaces_exactly_its_own_chunks(
    tmp_path, corpus_dir, small_embedder, make_settings
) -> None:
    src = copy_digests(corpus_dir, tmp_path / "src")
    settings = make_settings(embedding_model="small")
    store = ChunkStore(settings, small_embedder)
    first = ingest([str(src)], settings, small_embedder, store)
    assert first.added == 4
    before = snapshot(store)
    sentences_before = store.sentence_states()
    changed = src / Path(SMALL_DIGESTS[2]).name
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nUn paragraphe ajouté pour le test.\n", "utf-8"
    )
    changed_id = doc_id_for(f"src/{changed.name}")

    second = ingest([str(src)], settings, small_embedder, store)
    assert (second.added, second.updated, second.unchanged) == (0, 1, 3)
    after = snapshot(store)
    others_before = {k: v for k, v in before.items() if v[1].doc_id != changed_id}
    others_after = {k: v for k, v in after.items() if v[1].doc_id != changed_id}
    assert others_after == others_before
    new_chunks = [c for c, d in after.values() if d.doc_id == changed_id]
    stored = store.sentence_vectors([c.chunk_id for c in new_chunks])
    new_sentences = [c.text[a:b] for c in new_chunks for a, b, _ in stored.get(c.chunk_id, [])]
    assert any("ajouté pour le test" in text for text in new_sentences)
    sentences_after = store.sentence_states()
    assert sentences_after.pop(changed_id) == second.embedded_sentences == len(new_sentences)
    assert sentences_after == {d: n for d, n in sentences_before.items() if d != changed_id}
    assert second.embedded_chunks == len(new_chunks) == store.doc_states()[changed_id][1]
    assert any("ajouté pour le test" in c.text for c in new_chunks)
    assert second.chunks_deleted == sum(1 for _, d in before.values() if d.doc_id == changed_id)


def test_no_change_ingest_does_not_load_the_model(
    tmp_path, corpus_dir, small_embedder, make_settings
) -> None:
    from assistant.models.embeddings import LazyEmbedder

    src = copy_digests(corpus_dir, tmp_path / "src")
    settings = make_settings(embedding_model="small")
    loads: list[str] = []

    def run() -> tuple[IngestSummary, bool]:
        """One ingest as a CLI process runs it: a fresh lazy embedder whose loads are counted."""
        def load():  # type: ignore[no-untyped-def]
            loads.append(small_embedder.name)
            return small_embedder

        embedder = LazyEmbedder(small_embedder.name, small_embedder.dim, load)
        summary = ingest([str(src)], settings, embedder, ChunkStore(settings, embedder))
        return summary, embedder.loaded

    first, loaded = run()
    assert (first.added, loaded, len(loads)) == (4, True, 1)
    again, loaded = run()
    assert (again.unchanged, again.embedded_chunks, loaded, len(loads)) == (4, 0, False, 1)
    changed = src / Path(SMALL_DIGESTS[0]).name
    changed.write_text(changed.read_text(encoding="utf-8") + "\nOne more line.\n", "utf-8")
    third, loaded = run()
    assert (third.updated, third.unchanged, loaded, len(loads)) == (1, 3, True, 2)


def test_prune_removes_documents_no_longer_given(tmp_path, corpus_dir, small_embedder, make_settings) -> None:
    src = copy_digests(corpus_dir, tmp_path / "src")
    settings = make_settings(embedding_model="small")
    store = ChunkStore(settings, small_embedder)
    ingest([str(src)], settings, small_embedder, store)
    gone = src / Path(SMALL_DIGESTS[0]).name
    gone.unlink()
    gone_id = doc_id_for(f"src/{gone.name}")

    kept = ingest([str(src)], settings, small_embedder, store)
    assert (kept.removed, kept.unchanged) == (0, 3) and gone_id in store.doc_states()
    pruned = ingest([str(src)], settings, small_embedder, store, prune=True)
    assert (pruned.removed, pruned.unchanged, pruned.embedded_chunks) == (1, 3, 0)
    assert gone_id not in store.doc_states() and pruned.chunks_deleted > 0
    assert gone_id not in store.sentence_states() and len(store.sentence_states()) == 3
    assert store.get_doc(gone_id) is None
    assert gone_id not in Manifest(manifest_path(settings.data_dir), store.collection_name).records


def test_bad_inputs_are_skipped_with_reasons_and_good_ones_kept(
    tmp_path, corpus_dir, small_embedder, make_settings
) -> None:
    src = copy_digests(corpus_dir, tmp_path / "in")
    (src / "empty.txt").write_bytes(b"")
    (src / "corrupt.pdf").write_bytes(b"%PDF-1.4 not really a pdf\x00\x01\x02")
    (src / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (src / "latin1.txt").write_bytes(
        "Convention sur la cybercriminalité. Les États parties coopèrent.\n".encode("latin-1")
    )
    (src / "notes.xyz").write_text("what is this", encoding="utf-8")
    (src / "huge.md").write_text("mot " * 60_000, encoding="utf-8")
    settings = make_settings(embedding_model="small", max_file_mb=0.1)
    store = ChunkStore(settings, small_embedder)

    summary: IngestSummary = ingest([str(src), str(tmp_path / "missing")], settings, small_embedder, store)
    reasons = {s.source: s.reason for s in summary.skipped}
    assert set(reasons) == {
        "in/empty.txt",
        "in/corrupt.pdf",
        "in/binary.txt",
        "in/notes.xyz",
        "in/huge.md",
        str(tmp_path / "missing"),
    }
    assert all(reason and "\n" not in reason for reason in reasons.values())
    assert "empty" in reasons["in/empty.txt"] and "limit" in reasons["in/huge.md"]
    # the good ones (the four digests and the latin-1 text, decoded) are all in
    assert summary.added == 5
    latin = store.get_doc(doc_id_for("in/latin1.txt"))
    assert latin is not None and "cybercriminalité" in latin[1][0].text
    assert len(store.doc_states()) == 5


def test_length_sorted_windows_keep_every_vector_with_its_text(tmp_path, corpus_dir, make_settings) -> None:
    from fakes import HashEmbedder  # tests/ is on sys.path

    from assistant.text.segmenter import quotable_sentences

    src = copy_digests(corpus_dir, tmp_path / "src")
    shutil.copy(corpus_dir / "texts/uncc_articles_01-15_ar.txt", src / "uncc.txt")  # spans several windows
    settings = make_settings(embedding_batch_size=3)
    fake = HashEmbedder(dim=32)
    store = ChunkStore(settings, fake)
    summary = ingest([str(src)], settings, fake, store)
    assert summary.added == 5
    assert all(size <= 3 for _, size in fake.calls) and all(kind == "document" for kind, _ in fake.calls)
    assert sum(size for _, size in fake.calls) == summary.embedded_chunks + summary.embedded_sentences
    for chunk, _ in store.iter_chunks():
        # the chunk's own vector (its text with heading) is the nearest to itself
        found = store.nearest_ids(fake.embed_batch([chunk.embed_text()], "document")[0], k=1)
        assert found[0][1] == pytest.approx(1.0, abs=1e-5)
        rows = store.sentence_vectors([chunk.chunk_id]).get(chunk.chunk_id, [])
        assert [(a, b) for a, b, _ in rows] == quotable_sentences(chunk.text)
        for a, b, vector in rows:
            assert vector == pytest.approx(fake.embed_batch([chunk.text[a:b]], "document")[0], abs=1e-6)


def test_index_from_before_sentence_vectors_is_upgraded_by_the_next_run(
    tmp_path, corpus_dir, small_embedder, make_settings
) -> None:
    import json

    src = copy_digests(corpus_dir, tmp_path / "src")
    settings = make_settings(embedding_model="small")
    store = ChunkStore(settings, small_embedder)
    first = ingest([str(src)], settings, small_embedder, store)
    # an older manifest has no sentence counts: the documents were stored without sentence vectors
    path = manifest_path(settings.data_dir)
    data = json.loads(path.read_text(encoding="utf-8"))
    for record in data["collections"][store.collection_name].values():
        del record["n_sentences"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert index_status(settings, store).problems  # says answers are slow until the next ingest

    again = ingest([str(src)], settings, small_embedder, store)
    assert (again.updated, again.unchanged) == (4, 0)
    assert again.embedded_sentences == first.embedded_sentences
    assert index_status(settings, store).problems == ()


class CountingEmbedder:
    """Wraps a real Embedder and counts the texts it embeds."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim, self.texts = inner, inner.name, inner.dim, 0

    def embed_batch(self, texts: Any, kind: Any) -> list[list[float]]:
        self.texts += len(texts)
        return self.inner.embed_batch(texts, kind)  # type: ignore[no-any-return]

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)  # type: ignore[no-any-return]


def test_second_ingest_machine_adopts_the_shared_index_instead_of_deleting_it(
    tmp_path, corpus_dir, small_embedder
) -> None:
    from assistant.config import load_settings

    src = copy_digests(corpus_dir, tmp_path / "src")
    machine_a = load_settings(embedding_model="small", data_dir=tmp_path / "a")
    machine_b = load_settings(embedding_model="small", data_dir=tmp_path / "b")
    # one index (as a Chroma server would be), two ingest machines, each with its own manifest
    store = ChunkStore(machine_a, small_embedder)
    first = ingest([str(src)], machine_a, small_embedder, store)
    assert first.added == 4
    before, sentences_before = snapshot(store), store.sentence_states()
    new_name = "19_en_eu_2019_statement_budapest_digwatch.txt"
    shutil.copy(corpus_dir / "digests" / new_name, src / new_name)
    new_id = doc_id_for(f"src/{new_name}")

    counting = CountingEmbedder(small_embedder)
    second = ingest([str(src)], machine_b, counting, store)
    assert (second.adopted, second.unchanged, second.added, second.updated) == (4, 4, 1, 0)
    assert second.chunks_deleted == 0
    # only the new file was embedded: its chunks and sentences, nothing of the four others
    assert counting.texts == second.embedded_chunks + second.embedded_sentences > 0
    assert second.embedded_chunks == store.doc_states()[new_id][1]
    after = snapshot(store)
    assert {k: v for k, v in after.items() if v[1].doc_id != new_id} == before
    sentences_after = store.sentence_states()
    assert sentences_after.pop(new_id) == second.embedded_sentences
    assert sentences_after == sentences_before
    records = Manifest(manifest_path(machine_b.data_dir), store.collection_name).done()
    assert set(records) == set(store.doc_states()) and len(records) == 5
    for doc_id, record in records.items():
        assert store.doc_states()[doc_id] == (record.content_hash, record.n_chunks)
        assert record.n_sentences == store.sentence_states().get(doc_id, 0)
        assert record.source.startswith("src/")
    assert index_status(machine_b, store).problems == ()
    # machine A's manifest does not know the new document: it adopts it too, embedding nothing
    counting.texts = 0
    third = ingest([str(src)], machine_a, counting, store)
    assert (third.adopted, third.unchanged, third.chunks_deleted, counting.texts) == (1, 5, 0, 0)


def test_partial_rows_unknown_to_the_manifest_are_swept_once_older_than_the_lease(
    tmp_path, corpus_dir, make_settings
) -> None:
    from fakes import HashEmbedder  # tests/ is on sys.path

    from assistant.types import Chunk, DocMeta

    src = copy_digests(corpus_dir, tmp_path / "src")
    settings = make_settings()
    fake = HashEmbedder(dim=32)
    store = ChunkStore(settings, fake)
    ingest([str(src)], settings, fake, store)

    def chunks(doc: DocMeta, n: int) -> list[Chunk]:
        return [Chunk(chunk_id=f"{doc.content_hash}-{i}", doc_id=doc.doc_id, position=i, text=f"text {i}")
                for i in range(n)]  # fmt: skip

    # two half-overwritten versions of one document (mixed hashes), as concurrent or killed writers leave
    v1 = DocMeta(doc_id="a" * 16, source="x.txt", title="X", language="en", kind="other", content_hash="h1")
    v2 = DocMeta(doc_id="a" * 16, source="x.txt", title="X", language="en", kind="other", content_hash="h2")
    for version in (v1, v2):
        store.upsert(version, chunks(version, 2), fake.embed_batch(["t", "u"], "document"))
    # a complete document another ingest job wrote: adopted, not swept
    other = DocMeta(doc_id="b" * 16, source="y.txt", title="Y", language="en", kind="other",
                    content_hash="h3")
    store.upsert(other, chunks(other, 3), fake.embed_batch(["t", "u", "v"], "document"))
    problems = index_status(settings, store).problems
    assert len(problems) == 2 and "only partly" in problems[0] and "adopts it" in problems[1]

    # written a moment ago: perhaps another ingest job, still writing into the shared server
    soon = ingest([str(src)], settings, fake, store)
    assert (soon.adopted, soon.unchanged, soon.chunks_deleted) == (1, 4, 0)
    assert store.get_doc("a" * 16) is not None
    # a job that died long ago (here: a lease of 0 s) left them: swept
    again = ingest([str(src)], make_settings(ingest_lease_s=0), fake, store)
    assert (again.adopted, again.unchanged, again.chunks_deleted) == (0, 4, 4)
    assert store.get_doc("a" * 16) is None
    kept = store.get_doc("b" * 16)
    assert kept is not None and len(kept[1]) == 3
    assert index_status(settings, store).problems == ()
