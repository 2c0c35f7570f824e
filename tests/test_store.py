"""ChunkStore on a real embedded Chroma in tmp_path: round trips, search, filters, deletes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from assistant.errors import StoreError
from assistant.index.rows import date_bound
from assistant.index.store import ChunkStore, build_where, collection_name_for, date_num
from assistant.types import Chunk, DocMeta, Filters


class AxisEmbedder:
    """Names a vector space of `dim` dimensions; the tests hand the store their own vectors."""

    def __init__(self, name: str = "axis-test", dim: int = 8) -> None:
        self.name, self.dim = name, dim

    def embed_batch(self, texts: Sequence[str], kind: str) -> list[list[float]]:
        return [axis(len(t) % self.dim, self.dim) for t in texts]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def axis(i: int, dim: int = 8, tilt: float = 0.0) -> list[float]:
    """Unit vector along axis i, tilted toward the next axis."""
    v = [0.0] * dim
    v[i % dim] = math.cos(tilt)
    v[(i + 1) % dim] = math.sin(tilt)
    return v


def make_doc(doc_id: str, language: str = "en", kind: str = "press", date: str = "2025-10-25") -> DocMeta:
    return DocMeta(
        doc_id=doc_id,
        source=f"corpus/{kind}/{doc_id}.txt",
        title=f"Title {doc_id}",
        language=language,
        kind=kind,
        outlet="Outlet",
        date=date,
        url=f"https://example.org/{doc_id}",
        content_hash=f"hash-{doc_id}",
        extra=(("VIEWPOINT", "critical"), ("NOTES", "é ü 中文")),
    )


def make_chunks(doc: DocMeta, n: int) -> list[Chunk]:
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}-{i}",
            doc_id=doc.doc_id,
            position=i,
            text=f"passage {i} of {doc.doc_id}",
            heading="Chapter II",
            locator=f"Chapter II, Article {i + 1}",
            chapter="II",
            article=str(i + 1),
            paragraph="2" if i else "",
            page=None if i else 3,
            char_start=10 * i,
            char_end=10 * i + 9,
        )
        for i in range(n)
    ]


@pytest.fixture
def store(make_settings) -> ChunkStore:
    return ChunkStore(make_settings(), AxisEmbedder())


def test_round_trip_keeps_every_field(store: ChunkStore) -> None:
    doc = make_doc("d1")
    chunks = make_chunks(doc, 3)
    store.upsert(doc, chunks, [axis(i) for i in range(3)])
    assert store.count() == 3
    got = store.get_doc("d1")
    assert got is not None
    assert got == (doc, chunks)
    assert store.get_doc("missing") is None
    assert store.doc_states() == {"d1": ("hash-d1", 3)}


def test_upsert_is_idempotent_and_delete_counts(store: ChunkStore) -> None:
    a, b = make_doc("a"), make_doc("b")
    store.upsert(a, make_chunks(a, 2), [axis(0), axis(1)])
    store.upsert(a, make_chunks(a, 2), [axis(0), axis(1)])
    store.upsert(b, make_chunks(b, 4), [axis(i) for i in range(4)])
    assert store.count() == 6
    assert store.delete_doc("a") == 2
    assert store.delete_doc("a") == 0
    assert store.doc_states() == {"b": ("hash-b", 4)}


def test_nearest_ids_rank_by_cosine(store: ChunkStore) -> None:
    doc = make_doc("d")
    store.upsert(doc, make_chunks(doc, 4), [axis(0), axis(0, tilt=0.3), axis(0, tilt=1.0), axis(4)])
    hits = store.nearest_ids(axis(0), k=3)
    assert [cid for cid, _ in hits] == ["d-0", "d-1", "d-2"]
    scores = [s for _, s in hits]
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert scores[1] == pytest.approx(math.cos(0.3), abs=1e-5)
    assert scores[2] == pytest.approx(math.cos(1.0), abs=1e-5)
    assert store.get_chunks(["d-0"])[0][1] == doc
    assert store.nearest_ids(axis(0), k=3, filters=Filters(sources=("no-such-file",))) == []
    assert store.nearest_ids(axis(0), k=0) == []
    cosines = store.chunk_cosines(axis(0), ["d-2", "d-3", "unknown"])
    assert cosines == {"d-2": pytest.approx(math.cos(1.0), abs=1e-5), "d-3": pytest.approx(0.0, abs=1e-6)}
    assert store.chunk_cosines(axis(0), []) == {}


def test_language_centroids_average_each_language(store: ChunkStore) -> None:
    assert store.language_centroids() == {}
    en, vi = make_doc("en"), make_doc("vi", language="vi")
    store.upsert(en, make_chunks(en, 2), [axis(0), axis(1)])
    store.upsert(vi, make_chunks(vi, 1), [axis(2)])
    centroids = store.language_centroids()
    assert set(centroids) == {"en", "vi"}
    assert centroids["en"] == pytest.approx([0.5, 0.5] + [0.0] * (len(axis(0)) - 2), abs=1e-6)
    assert centroids["vi"] == pytest.approx(axis(2), abs=1e-6)


def test_filters_language_kind_date_and_source(store: ChunkStore) -> None:
    docs = [
        make_doc("en_press", "en", "press", "2025-10-25"),
        make_doc("fr_press", "fr", "press", "2024-12-24"),
        make_doc("en_treaty", "en", "treaty", "opened for signature Budapest, 2001-11-23"),
        make_doc("vi_undated", "vi", "press", "page as stored"),
    ]
    for d in docs:
        store.upsert(d, make_chunks(d, 2), [axis(0), axis(1)])

    def found(filters: Filters) -> set[str]:
        ids = [cid for cid, _ in store.nearest_ids(axis(0), k=20, filters=filters)]
        return {doc.doc_id for _, doc in store.get_chunks(ids)}

    assert found(Filters()) == {d.doc_id for d in docs}
    assert found(Filters(languages=("en",))) == {"en_press", "en_treaty"}
    assert found(Filters(languages=("en", "fr"), kinds=("press",))) == {"en_press", "fr_press"}
    assert found(Filters(date_from="2024-12")) == {"en_press", "fr_press"}
    assert found(Filters(date_to="2024")) == {"fr_press", "en_treaty"}
    assert found(Filters(date_from="2024-12-25", date_to="2025-10-25")) == {"en_press"}
    assert found(Filters(sources=("TREATY/",))) == {"en_treaty"}
    assert found(Filters(sources=("vi_", "fr_"), languages=("vi",))) == {"vi_undated"}
    assert found(Filters(sources=("nothing-like-this",))) == set()


def test_get_chunks_in_asked_order_and_iter_pages(store: ChunkStore) -> None:
    doc = make_doc("big")
    chunks = make_chunks(doc, 2105)  # more than one page of `get`
    store.upsert(doc, chunks, [axis(i) for i in range(len(chunks))])
    got = store.get_chunks(["big-7", "nope", "big-2", "big-7"])
    assert [c.chunk_id for c, _ in got] == ["big-7", "big-2", "big-7"]
    assert sorted(c.position for c, _ in store.iter_chunks()) == list(range(2105))


def test_collection_encodes_model_and_dim(make_settings) -> None:
    settings = make_settings()
    small = ChunkStore(settings, AxisEmbedder("intfloat/multilingual-e5-small", 8))
    other = ChunkStore(settings, AxisEmbedder("other-model", 4))
    assert small.collection_name == "chunks-intfloat-multilingual-e5-small-d8"
    assert small.collection_name != other.collection_name
    doc = make_doc("d")
    small.upsert(doc, make_chunks(doc, 1), [axis(0)])
    assert (small.count(), other.count()) == (1, 0)
    with pytest.raises(StoreError, match="dimensions"):
        other.upsert(doc, make_chunks(doc, 1), [axis(0)])
    # a second store object on the same folder sees what the first wrote
    assert ChunkStore(settings, AxisEmbedder("intfloat/multilingual-e5-small", 8)).count() == 1


def test_collection_names_are_valid_for_long_paths() -> None:
    name = collection_name_for("/some/very/long/path/to/a/local/sentence-transformers/model-folder-v2/", 1024)
    assert 3 <= len(name) <= 63 and name[0].isalnum() and name[-1].isalnum()


def test_date_num_and_where() -> None:
    assert date_num("2025-10-25/26") == 20251025
    assert date_num("eucrim 2022-01-29; Protocol opened 12 May 2022") == 20220129
    assert date_num("2024-12") == 20241200
    assert date_num("page as stored") == 0
    assert [date_bound("2024"), date_bound("2024", upper=True)] == [20240000, 20249999]
    assert [date_bound("2024-10-25"), date_bound("2024-10-25", upper=True), date_bound("soon")] == [
        20241025, 20241025, 0]
    assert build_where(Filters()) is None
    assert build_where(Filters(languages=("fr",))) == {"language": {"$in": ["fr"]}}
    assert build_where(Filters(date_to="2024-10")) == {
        "$and": [{"date_num": {"$gt": 0}}, {"date_num": {"$lte": 20241099}}]
    }


def test_sentence_vectors_are_stored_with_their_chunks_and_removed_with_their_document(
    store: ChunkStore,
) -> None:
    a, b = make_doc("a"), make_doc("b")
    a_chunks, b_chunks = make_chunks(a, 2), make_chunks(b, 1)
    a_sentences = {
        a_chunks[0].chunk_id: [(0, 9, axis(2)), (10, 20, axis(3, tilt=0.5))],
        a_chunks[1].chunk_id: [(0, 7, axis(4))],
    }
    store.upsert(a, a_chunks, [axis(0), axis(1)], a_sentences)
    store.upsert(b, b_chunks, [axis(5)], {b_chunks[0].chunk_id: [(3, 8, axis(6))]})
    assert store.sentence_collection_name == f"{store.collection_name}-sentences"
    got = store.sentence_vectors([a_chunks[1].chunk_id, a_chunks[0].chunk_id, "unknown"])
    assert set(got) == {a_chunks[0].chunk_id, a_chunks[1].chunk_id}
    for chunk_id, rows in a_sentences.items():
        assert [(s, e) for s, e, _ in got[chunk_id]] == [(s, e) for s, e, _ in rows]
        for (_, _, want), (_, _, have) in zip(rows, got[chunk_id], strict=True):
            assert have == pytest.approx(want, abs=1e-6)
    assert store.sentence_states() == {"a": 3, "b": 1}
    # re-upserting the same document is idempotent, deleting it removes its sentences and nothing else
    store.upsert(a, a_chunks, [axis(0), axis(1)], a_sentences)
    assert store.sentence_states() == {"a": 3, "b": 1}
    assert store.delete_doc("a") == 2
    assert store.sentence_vectors([c.chunk_id for c in a_chunks]) == {}
    assert store.sentence_states() == {"b": 1}
    assert store.sentence_vectors([]) == {}


def test_sentence_search_finds_chunks_by_their_sentences(store: ChunkStore) -> None:
    assert store.sentence_search(axis(1), k=3) == []
    a, b = make_doc("a"), make_doc("b")
    a_chunks, b_chunks = make_chunks(a, 2), make_chunks(b, 1)
    store.upsert(a, a_chunks, [axis(0), axis(0)], {
        a_chunks[0].chunk_id: [(0, 9, axis(1)), (10, 20, axis(5))],
        a_chunks[1].chunk_id: [(0, 7, axis(1, tilt=0.4))],
    })
    store.upsert(b, b_chunks, [axis(0)], {b_chunks[0].chunk_id: [(0, 5, axis(1, tilt=0.2))]})
    found = store.sentence_search(axis(1), k=3)
    assert [cid for cid, _ in found] == ["a-0", "b-0", "a-1"]
    assert [c for _, c in found] == pytest.approx([1.0, math.cos(0.2), math.cos(0.4)], abs=1e-5)
    assert [cid for cid, _ in store.sentence_search(axis(1), k=2, doc_ids=["a"])] == ["a-0", "a-1"]
    assert store.sentence_search(axis(1), k=3, doc_ids=[]) == []


def test_a_long_chunk_ranks_by_its_answering_sentence(make_settings) -> None:
    from assistant.models.profiles import Calibration
    from assistant.retrieval.retriever import Retriever

    embedder = AxisEmbedder()
    store = ChunkStore(make_settings(), embedder)
    long_doc, short_doc = make_doc("long"), make_doc("short")
    long_chunk, short_chunk = make_chunks(long_doc, 1)[0], make_chunks(short_doc, 1)[0]
    # the question "q" embeds to axis 1: the long chunk as a whole is far from it (cos 0.48), one
    # of its sentences is the answer (cos 1); the short chunk is middling (cos 0.62), no sentences
    store.upsert(long_doc, [long_chunk], [axis(0, tilt=0.5)], {long_chunk.chunk_id: [(0, 9, axis(1))]})
    store.upsert(short_doc, [short_chunk], [axis(1, tilt=0.9)])

    def ranking(weight: float) -> list[str]:
        retriever = Retriever(store, embedder, make_settings(dense_weight=1.0),
                              calibration=Calibration(sentence_weight=weight))
        return [h.chunk.chunk_id for h in retriever.search("q", k=2)]

    assert ranking(0.0) == ["short-0", "long-0"]
    assert ranking(0.3) == ["long-0", "short-0"]
    hit = Retriever(store, embedder, make_settings(), calibration=Calibration(sentence_weight=0.3)).search(
        "q", k=1)[0]
    assert hit.dense_score == pytest.approx(math.sin(0.5), abs=1e-5)  # still the chunk's own cosine


def test_sentence_vectors_must_belong_to_the_document_and_fit_the_space(store: ChunkStore) -> None:
    a, b = make_doc("a"), make_doc("b")
    with pytest.raises(StoreError, match="not a chunk of a"):
        store.upsert(a, make_chunks(a, 1), [axis(0)], {make_chunks(b, 1)[0].chunk_id: [(0, 5, axis(1))]})
    with pytest.raises(StoreError, match="dimensions"):
        store.upsert(a, make_chunks(a, 1), [axis(0)], {make_chunks(a, 1)[0].chunk_id: [(0, 5, [1.0, 0.0])]})
    assert store.count() == 0 and store.sentence_states() == {}


def test_stored_docs_tell_a_complete_write_from_a_partial_one(store: ChunkStore) -> None:
    a, b = make_doc("a"), make_doc("b")
    a_chunks = make_chunks(a, 3)
    store.upsert(a, a_chunks, [axis(i) for i in range(3)], {a_chunks[0].chunk_id: [(0, 7, axis(4))]})
    store.upsert(b, make_chunks(b, 2), [axis(0), axis(1)])
    docs = store.stored_docs()
    assert docs["a"].consistent() and docs["a"].positions == (0, 1, 2) and docs["a"].expected_sentences() == 1
    assert docs["a"].content_hash == "hash-a" and docs["a"].source == "corpus/press/a.txt"
    assert docs["b"].consistent() and docs["b"].expected_sentences() == 0


def test_summarize_rows_flags_missing_rows_mixed_hashes_and_old_rows() -> None:
    from assistant.index.rows import summarize_rows, to_metadata

    doc = make_doc("d")
    chunks = make_chunks(doc, 3)
    rows = [to_metadata(doc, c, 3, 5) for c in chunks]
    assert summarize_rows(rows)["d"].consistent()
    assert not summarize_rows(rows[:2])["d"].consistent()  # a row missing
    assert not summarize_rows(rows + rows[:1])["d"].consistent()  # a position twice
    other = make_doc("d", language="fr")
    mixed = rows[:2] + [to_metadata(DocMeta(**{**other.__dict__, "content_hash": "new"}), chunks[2], 3, 5)]
    assert not summarize_rows(mixed)["d"].consistent()
    old = [{k: v for k, v in r.items() if k != "n_sentences"} for r in rows]
    assert summarize_rows(old)["d"].consistent() and summarize_rows(old)["d"].expected_sentences() is None
