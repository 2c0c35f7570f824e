"""Hybrid retrieval: pure fusion/diversity logic on plain data, then the real corpus with the real model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.errors import InputError
from assistant.retrieval.fusion import convex, diversify, interleave, rrf
from assistant.retrieval.retriever import Retriever, article_matches, doc_matches, parse_article_refs
from assistant.text.references import BUDAPEST, PROTOCOL, UNCC, ArticleRef, treaty_of
from assistant.types import Chunk, DocMeta, Filters, Hit

# --- pure logic ---------------------------------------------------------------------------------


def _doc(
    doc_id: str,
    *,
    source: str = "",
    title: str = "",
    language: str = "en",
    kind: str = "press",
    date: str = "",
) -> DocMeta:
    return DocMeta(doc_id, source or f"corpus/{doc_id}.txt", title or doc_id, language, kind, date=date)


def _hit(chunk_id: str, doc: DocMeta, text: str, score: float, article: str = "") -> Hit:
    return Hit(Chunk(chunk_id, doc.doc_id, 0, text, article=article), doc, score)


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = rrf([["a", "b"], ["b", "c"]], k=60)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert max(fused, key=fused.__getitem__) == "b"


def test_convex_fusion_keeps_score_gaps_that_ranks_lose() -> None:
    # "far" is far ahead on meaning and unknown to BM25; "mid" is second on both lists
    dense = [("far", 0.62), ("mid", 0.41), ("low", 0.40)]
    lexical = [("noise", 3.0), ("mid", 2.9)]
    fused = convex(dense, lexical, dense_weight=0.7)
    assert max(fused, key=fused.__getitem__) == "far"
    assert fused["far"] == pytest.approx(0.7)
    assert fused["mid"] == pytest.approx(0.7 * 0.01 / 0.22 + 0.3 * 2.9 / 3.0)
    assert fused["noise"] == pytest.approx(0.3)
    ranked = rrf([[i for i, _ in dense], [i for i, _ in lexical]], 60)
    assert max(ranked, key=ranked.__getitem__) == "mid"  # rank fusion lets the middling one win
    # one list alone takes the whole weight, so single-mode scores stay in [0, 1]
    assert convex(dense, [], 0.7)["far"] == pytest.approx(1.0)
    assert convex([], lexical, 0.7) == {"noise": 1.0, "mid": pytest.approx(2.9 / 3.0)}
    assert convex([("only", 0.3)], [], 0.7) == {"only": 0.0}
    assert convex([], [], 0.7) == {}


def test_interleave_gives_each_list_its_turn() -> None:
    en = [("en1", 9.0), ("en2", 8.0), ("en3", 7.0)]
    vi = [("vi1", 2.0), ("vi2", 1.0)]
    assert [i for i, _ in interleave([en, vi], 10)] == ["en1", "vi1", "en2", "vi2", "en3"]
    assert [i for i, _ in interleave([en, vi], 3)] == ["en1", "vi1", "en2"]
    assert interleave([], 5) == []


def test_diversify_caps_per_document_but_not_article_matches() -> None:
    a, b = _doc("a"), _doc("b")
    texts = [f"distinct passage number {i} about topic {i * 7}" for i in range(4)]
    hits = [_hit(f"a{i}", a, text, 1 - i / 10) for i, text in enumerate(texts)]
    hits.append(_hit("b0", b, "another document entirely", 0.1))
    kept = diversify(hits, k=10, per_doc_cap=2)
    assert [h.chunk.chunk_id for h in kept] == ["a0", "a1", "b0"]
    kept = diversify(hits, k=10, per_doc_cap=2, exempt={"a2", "a3"})
    assert [h.chunk.chunk_id for h in kept] == ["a0", "a1", "a2", "a3", "b0"]
    assert len(diversify(hits, k=2, per_doc_cap=5)) == 2


def test_diversify_collapses_near_duplicates_keeping_the_best() -> None:
    fact = "Sixty-five countries signed the convention in Hanoi on 25 October 2025"
    hits = [
        _hit("x", _doc("d1"), fact + " according to UN News", 0.9),
        _hit("y", _doc("d2"), fact + " says the AFP wire", 0.8),
        _hit("z", _doc("d3"), "Human rights groups criticised the treaty's surveillance powers", 0.7),
    ]
    assert [h.chunk.chunk_id for h in diversify(hits, k=5, per_doc_cap=2)] == ["x", "z"]


def test_doc_matches_every_filter() -> None:
    doc = _doc("d", language="fr", kind="press", source="corpus/digests/35_fr_afp.txt", date="2025-10-25")
    assert doc_matches(doc, Filters())
    assert doc_matches(doc, Filters(languages=("fr", "vi"), kinds=("press",), sources=("35_FR",)))
    assert not doc_matches(doc, Filters(languages=("en",)))
    assert not doc_matches(doc, Filters(kinds=("treaty",)))
    assert not doc_matches(doc, Filters(sources=("budapest",)))
    assert doc_matches(doc, Filters(date_from="2025-10", date_to="2025-10-25"))
    assert not doc_matches(doc, Filters(date_from="2025-10-26"))
    assert not doc_matches(doc, Filters(date_to="2024"))
    assert not doc_matches(_doc("u", date="page as stored"), Filters(date_from="2000"))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does Article 16 of the Budapest Convention say?", [ArticleRef("16", "", BUDAPEST)]),
        ("art. 16(2)", [ArticleRef("16", "2", "")]),
        ("Art 16, paragraph 3 of ETS 185", [ArticleRef("16", "3", BUDAPEST)]),
        ("Que prévoit l'article 2 de la Convention des Nations unies ?", [ArticleRef("2", "", UNCC)]),
        ("Que dit l’article premier ?", [ArticleRef("1", "", "")]),
        ("Điều 16 Công ước Budapest quy định gì?", [ArticleRef("16", "", BUDAPEST)]),
        ("khoản 2 Điều 16 Công ước Hà Nội", [ArticleRef("16", "2", UNCC)]),
        ("ماذا تنص المادة ١٦ من اتفاقية الأمم المتحدة؟", [ArticleRef("16", "", UNCC)]),
        ("المادة 2", [ArticleRef("2", "", "")]),
        ("¿Qué dice el Artículo 16 de la ONU?", [ArticleRef("16", "", UNCC)]),
        ("Что говорит статья 16 Конвенции ООН?", [ArticleRef("16", "", UNCC)]),
        ("第16条", [ArticleRef("16", "", "")]),
        ("联合国公约第十六条", [ArticleRef("16", "", UNCC)]),
        ("Article 3 of the Additional Protocol (ETS 189)", [ArticleRef("3", "", PROTOCOL)]),
        ("How many articles does the UN convention have?", []),
        ("Un article de presse dit que 60 pays ont signé", []),  # French "un": not the UN
    ],
)
def test_parse_article_refs(question: str, expected: list[ArticleRef]) -> None:
    assert parse_article_refs(question) == expected


def test_two_references_each_take_the_nearest_treaty() -> None:
    refs = parse_article_refs("Compare Article 2 of the Budapest Convention with Article 7 of the UN one")
    assert refs == [ArticleRef("2", "", BUDAPEST), ArticleRef("7", "", UNCC)]


def test_treaty_of_documents() -> None:
    budapest = _doc("b", title="Convention on Cybercrime (Budapest Convention), CoE ETS No. 185")
    assert treaty_of(budapest) == BUDAPEST
    assert treaty_of(_doc("p", source="texts/coe_additional_protocol_ets189_xenophobia_en.txt")) == PROTOCOL
    assert treaty_of(_doc("u", title="اتفاقية الأمم المتحدة لمكافحة الجريمة السيبرانية")) == UNCC
    assert treaty_of(_doc("n", title="EFF: the draft dangerously expands surveillance")) == ""


def test_article_matches_respect_treaty_and_paragraph() -> None:
    budapest = _doc("b", title="Budapest Convention")
    uncc = _doc("u", title="UN Convention against Cybercrime")
    chunks = {
        "b16": (Chunk("b16", "b", 0, "t", article="16", paragraph="1"), budapest),
        "b16p2": (Chunk("b16p2", "b", 1, "t", article="16", paragraph="2"), budapest),
        "u16": (Chunk("u16", "u", 0, "t", article="16"), uncc),
    }
    by_article = {"16": ["b16", "b16p2", "u16"]}
    found = article_matches([ArticleRef("16", "2", BUDAPEST)], chunks, by_article)
    assert found == {"b16": 1.0, "b16p2": 1.25}
    assert set(article_matches([ArticleRef("16")], chunks, by_article)) == {"b16", "b16p2", "u16"}
    assert article_matches([ArticleRef("99")], chunks, by_article) == {}


# --- the real corpus, the real small model, a real Chroma on disk -------------------------------


@pytest.fixture(scope="module")
def retriever(
    corpus_dir: Path, small_embedder: object, tmp_path_factory: pytest.TempPathFactory
) -> Retriever:
    """The shared corpus ingested once into a Chroma folder under a temp directory."""
    from assistant.index.store import ChunkStore
    from ingest.pipeline import ingest

    settings = load_settings(embedding_model="small", data_dir=tmp_path_factory.mktemp("retrieval") / "data")
    store = ChunkStore(settings, small_embedder)  # type: ignore[arg-type]
    summary = ingest([str(corpus_dir)], settings, small_embedder, store)  # type: ignore[arg-type]
    assert summary.chunks_written > 100
    return Retriever(store, small_embedder, settings)  # type: ignore[arg-type]


def _sources(hits: Sequence[Hit], k: int = 5) -> list[str]:
    return [h.doc.source.rsplit("/", 1)[-1] for h in hits[:k]]


def _hit_at(hits: Sequence[Hit], expected: Sequence[str], k: int = 5) -> bool:
    return any(e in s for s in _sources(hits, k) for e in expected)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Vietnamese question, answer in a French or English digest
        pytest.param(
            "Có bao nhiêu công ty đã tẩy chay lễ ký Công ước Hà Nội?",
            ["36_fr_actualites24", "39_en_therecord"],
            # known gap: "tẩy chay" (boycott) shares no token with the French digest and the small model
            # ranks Vietnamese ceremony reports above it; strict, so a fix shows up as XPASS.
            marks=pytest.mark.xfail(strict=True, reason="vi->fr paraphrase beyond the small model"),
        ),
        ("Bao nhiêu người là nạn nhân của tội phạm mạng năm 2023 theo Hội đồng châu Âu?", ["11_en_coe_dsg"]),
        # French question over English documents
        ("Quelles organisations de défense des droits humains ont demandé aux États de ne pas signer ?",
         ["40_en_eff", "41_en_joint_statement", "46_en_accessnow", "42_en_hrw", "47_en_eff"]),
        # English question answered only in a Vietnamese digest
        ("How many of the Convention's provisions overlap with UNTOC and UNCAC according to VietNamNet?",
         ["24_vi_vietnamnet"]),
    ],
)
def test_cross_lingual_questions(retriever: Retriever, question: str, expected: list[str]) -> None:
    hits = retriever.search(question)
    assert _hit_at(hits, expected), _sources(hits)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "source", "article"),
    [
        ("What does Article 16 of the Budapest Convention say?", "coe_budapest_convention_ets185", "16"),
        ("Que prévoit l'article 2 de la Convention des Nations unies ?", "uncc_articles_01-15_ar", "2"),
        ("Điều 16 Công ước Budapest quy định gì?", "coe_budapest_convention_ets185", "16"),
        ("ما الذي تنص عليه المادة ٧ من اتفاقية الأمم المتحدة؟", "uncc_articles_01-15_ar", "7"),
        ("Article 3 of the Additional Protocol", "coe_additional_protocol_ets189", "3"),
    ],
)
def test_article_lookups_put_the_article_first(
    retriever: Retriever, question: str, source: str, article: str
) -> None:
    top = retriever.search(question)[0]
    assert source in top.doc.source and top.chunk.article == article, (top.doc.source, top.chunk.locator)


@pytest.mark.slow
def test_conflict_question_retrieves_both_counts(retriever: Retriever) -> None:
    hits = retriever.search("How many articles does the UN convention have?", k=8)
    texts = " ".join(h.chunk.text for h in hits)
    assert "71" in texts and "68" in texts, _sources(hits, 8)


@pytest.mark.slow
def test_per_document_cap_and_no_near_duplicates(retriever: Retriever) -> None:
    hits = retriever.search("Secrétaire général de l'ONU Guterres convention de Hanoï pilier", k=10)
    per_doc: dict[str, int] = {}
    for hit in hits:
        per_doc[hit.doc.doc_id] = per_doc.get(hit.doc.doc_id, 0) + 1
    assert max(per_doc.values()) <= retriever.settings.per_doc_cap
    assert len({h.chunk.chunk_id for h in hits}) == len(hits) == 10
    assert all(h.dense_rank or h.lexical_rank for h in hits)


@pytest.mark.slow
def test_filters_restrict_every_hit(retriever: Retriever) -> None:
    hits = retriever.search("Convention de Hanoï signature", Filters(languages=("vi",)))
    assert hits and all(h.doc.language == "vi" for h in hits)
    hits = retriever.search("Article 16 preservation", Filters(kinds=("treaty",)))
    assert hits and all(h.doc.kind == "treaty" for h in hits)
    hits = retriever.search("signature", Filters(sources=("digests/35_fr",)))
    assert hits and all("35_fr" in h.doc.source for h in hits)
    december = Filters(date_from="2024-12", date_to="2024-12-31")
    hits = retriever.search("adoption by the General Assembly", december)
    assert hits and all(h.doc.date.startswith("2024-12") for h in hits)
    # an article reference outside the filter is not forced in
    hits = retriever.search("Article 16 of the Budapest Convention", Filters(kinds=("press",)))
    assert all(h.doc.kind == "press" for h in hits)


@pytest.mark.slow
def test_language_centering_lets_other_languages_compete(retriever: Retriever) -> None:
    # a Vietnamese question whose answer is in French and English press: without centering the
    # Vietnamese ceremony reports fill the dense list
    question = "Những công ty công nghệ nào chỉ trích công ước vì rủi ro cho các nhà nghiên cứu bảo mật?"
    raw = retriever.settings.model_copy(update={"language_centering": 0.0, "fusion": "convex"})
    centered = retriever.settings.model_copy(update={"language_centering": 0.5, "fusion": "convex"})
    store, embedder = retriever.store, retriever.embedder

    def other_languages(settings: object) -> int:
        hits = Retriever(store, embedder, settings, mode="hybrid").search(question, k=10)  # type: ignore[arg-type]
        return sum(h.doc.language != "vi" for h in hits)

    assert other_languages(centered) > other_languages(raw)


@pytest.mark.slow
def test_rank_fusion_is_still_selectable(retriever: Retriever) -> None:
    settings = retriever.settings.model_copy(update={"fusion": "rrf"})
    rrf_retriever = Retriever(retriever.store, retriever.embedder, settings)
    top = rrf_retriever.search("Điều 16 Công ước Budapest quy định gì?")[0]
    assert "coe_budapest_convention_ets185" in top.doc.source and top.chunk.article == "16"
    hits = rrf_retriever.search("When was the Convention adopted by the General Assembly?", k=5)
    assert hits and all(0 < h.score <= 2 / 61 + 1e-9 for h in hits)


@pytest.mark.slow
def test_modes_scores_and_validation(retriever: Retriever) -> None:
    question = "When was the Convention adopted by the General Assembly?"
    hybrid = retriever.search(question, k=5)
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)
    assert any(h.dense_score is not None and 0 < h.dense_score <= 1 for h in hybrid)
    store, embedder, settings = retriever.store, retriever.embedder, retriever.settings
    dense = Retriever(store, embedder, settings, mode="dense").search(question)
    assert dense and all(h.lexical_rank is None and h.dense_rank for h in dense)
    lexical = Retriever(store, embedder, settings, mode="lexical").search(question)
    assert lexical and all(h.dense_rank is None and h.lexical_rank for h in lexical)
    assert retriever.search("   ") == []
    with pytest.raises(InputError, match="k must be greater than 0"):
        retriever.search(question, k=0)
    with pytest.raises(InputError, match="mode"):
        Retriever(store, embedder, settings, mode="fuzzy")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "value"), [("dense_weight", 1.5), ("language_centering", -0.1), ("fusion", "max")]
)
def test_fusion_settings_are_checked(name: str, value: object) -> None:
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match=f"Invalid setting {name}.*CA_{name.upper()}"):
        load_settings(**{name: value})
