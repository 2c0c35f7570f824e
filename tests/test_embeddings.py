"""The Embedder: real small model (cross-lingual sanity, prompts, tokens), errors, adapter, fake."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fakes import HashEmbedder  # tests/ is on sys.path (pytest rootdir conftest)

from assistant.config import load_settings
from assistant.errors import ModelError
from assistant.models import profiles as models
from assistant.models.embeddings import Embedder, LangchainEmbeddings, LazyEmbedder, load_embedder

SAME_EN = "The Convention on Cybercrime was opened for signature in Budapest on 23 November 2001."
SAME_FR = "La Convention sur la cybercriminalité a été ouverte à la signature à Budapest le 23 novembre 2001."
SAME_VI = "Công ước về tội phạm mạng được mở để ký tại Budapest ngày 23 tháng 11 năm 2001."
UNRELATED = "Bananas are a good source of potassium and grow in tropical climates."


def _cos(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


@pytest.mark.slow
def test_small_vectors_are_unit_and_sized(small_embedder: Embedder) -> None:
    assert isinstance(small_embedder, Embedder)
    assert small_embedder.name == "multilingual-e5-small"
    assert small_embedder.dim == 384
    vectors = small_embedder.embed_batch([SAME_EN, "", "Điều 16"], "document")
    assert [len(v) for v in vectors] == [384, 384, 384]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert small_embedder.embed_batch([], "query") == []


@pytest.mark.slow
def test_small_is_cross_lingual(small_embedder: Embedder) -> None:
    en, fr, vi, other = small_embedder.embed_batch([SAME_EN, SAME_FR, SAME_VI, UNRELATED], "document")
    assert _cos(en, fr) > _cos(en, other) + 0.1
    assert _cos(en, vi) > _cos(en, other) + 0.1
    assert _cos(fr, vi) > _cos(fr, other) + 0.1
    # a French question finds the English and Vietnamese passages before the unrelated one
    (question,) = small_embedder.embed_batch(
        ["Quand la Convention de Budapest a-t-elle été ouverte à la signature ?"], "query"
    )
    assert min(_cos(question, en), _cos(question, vi)) > _cos(question, other)


@pytest.mark.slow
def test_prompts_are_applied(small_embedder: Embedder) -> None:
    (as_query,) = small_embedder.embed_batch([SAME_EN], "query")
    (as_document,) = small_embedder.embed_batch([SAME_EN], "document")
    assert _cos(as_query, as_document) < 0.999  # "query: " vs "passage: " prefixes
    (again,) = small_embedder.embed_batch([SAME_EN], "query")
    assert np.allclose(as_query, again, atol=1e-6)


@pytest.mark.slow
def test_nfc_and_nfd_inputs_embed_alike(small_embedder: Embedder) -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", SAME_VI)
    assert nfd != SAME_VI
    a, b = small_embedder.embed_batch([SAME_VI, nfd], "document")
    assert np.allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_count_tokens_uses_the_model_tokenizer(small_embedder: Embedder) -> None:
    assert small_embedder.count_tokens("") == 0
    assert small_embedder.count_tokens("Hello world, convention") == 4  # ▁Hello ▁world , ▁convention
    # Vietnamese and Arabic split into more pieces than whitespace words
    assert small_embedder.count_tokens(SAME_VI) >= len(SAME_VI.split())


@pytest.mark.slow
def test_langchain_adapter_uses_query_and_document_prompts(small_embedder: Embedder) -> None:
    adapter = LangchainEmbeddings(small_embedder)
    assert np.allclose(
        adapter.embed_query(SAME_EN), small_embedder.embed_batch([SAME_EN], "query")[0], atol=1e-6
    )
    assert np.allclose(
        adapter.embed_documents([SAME_EN])[0], small_embedder.embed_batch([SAME_EN], "document")[0], atol=1e-6
    )


@pytest.mark.slow
def test_bfloat16_ranks_like_float32(small_embedder: Embedder) -> None:
    bf16 = load_embedder(load_settings(embedding_model="small", embedding_dtype="bfloat16"))
    assert bf16.name == small_embedder.name  # same vector space: one collection
    en, fr, other = bf16.embed_batch([SAME_EN, SAME_FR, UNRELATED], "document")
    assert _cos(en, fr) > _cos(en, other)
    ref = small_embedder.embed_batch([SAME_EN], "document")[0]
    assert _cos(en, ref) > 0.98


@pytest.mark.slow
def test_a_folder_without_saved_prompts_gets_none(tmp_path: Path) -> None:
    settings = load_settings()
    if not models.is_installed("small", settings.models_dir):
        pytest.skip("the small profile is not installed (run `convention-assistant models install small`)")
    # a path (not a profile name) to a folder without saved prompts: no prefixes, name from the folder
    source = models.model_path("small", settings.models_dir)
    plain = tmp_path / "My E5 Copy"
    plain.mkdir()
    for item in source.iterdir():
        (plain / item.name).symlink_to(item)
    (plain / "config_sentence_transformers.json").unlink()
    (plain / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {}}))
    bare = load_embedder(load_settings(embedding_model=str(plain)))
    assert bare.name == "my-e5-copy"
    assert bare.prompts == {"query": "", "document": ""}  # type: ignore[attr-defined]
    q, d = bare.embed_batch([SAME_EN], "query")[0], bare.embed_batch([SAME_EN], "document")[0]
    assert np.allclose(q, d, atol=1e-6)


def test_profile_not_installed_is_one_clear_sentence(tmp_path: Path) -> None:
    settings = load_settings(embedding_model="quality", models_dir=tmp_path)
    expected = (
        f"Embedding profile 'quality' is not installed in {tmp_path}: "
        "run `convention-assistant models install quality`."
    )
    with pytest.raises(ModelError) as caught:
        load_embedder(settings)
    assert str(caught.value) == expected


def test_broken_profile_folder_says_so(tmp_path: Path) -> None:
    folder = models.model_path("small", tmp_path)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"'small' is incomplete or corrupt in .*models install small"):
        load_embedder(load_settings(embedding_model="small", models_dir=tmp_path))


def test_folder_that_is_not_a_model_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(
        ModelError, match=r"^The embedding model at folder .* cannot be loaded offline"
    ) as caught:
        load_embedder(load_settings(embedding_model=str(tmp_path)))
    assert caught.value.__cause__ is None and "\n" not in str(caught.value)


def test_hub_id_without_network_is_one_sentence() -> None:
    with pytest.raises(ModelError, match=r"^The embedding model at model id 'someone/not-cached-model'"):
        load_embedder(load_settings(embedding_model="someone/not-cached-model"))


@pytest.mark.slow
def test_quality_profile_if_installed() -> None:
    settings = load_settings(embedding_model="quality")
    if not models.is_installed("quality", settings.models_dir):
        pytest.skip(
            "the quality profile is not installed (run `convention-assistant models install quality`)"
        )
    embedder = load_embedder(settings)
    assert (embedder.name, embedder.dim) == ("embeddinggemma-300m", 768)
    assert embedder.prompts["query"].startswith("task: search result")  # type: ignore[attr-defined]
    en, fr, vi, other = embedder.embed_batch([SAME_EN, SAME_FR, SAME_VI, UNRELATED], "document")
    assert min(_cos(en, fr), _cos(en, vi)) > _cos(en, other) + 0.1
    assert embedder.count_tokens("Hello world") > 0


def test_hash_embedder_is_deterministic_and_unit() -> None:
    fake = HashEmbedder(dim=64)
    assert isinstance(fake, Embedder)
    a, b, c, empty = fake.embed_batch(
        ["data retention order", "Data retention ORDER", "bananas", ""], "document"
    )
    assert a == b and a != c
    assert np.isclose(np.linalg.norm(a), 1.0) and np.isclose(np.linalg.norm(empty), 1.0)
    assert fake.count_tokens("two  words\n") == 2
    assert HashEmbedder(dim=64).embed_batch(["x"], "query") == fake.embed_batch(["x"], "query")


def test_lazy_embedder_loads_once_and_only_to_embed_or_count() -> None:
    loads: list[HashEmbedder] = []

    def load() -> HashEmbedder:
        loads.append(HashEmbedder(dim=16))
        return loads[-1]

    lazy = LazyEmbedder("hash-embedder-16", 16, load)
    assert isinstance(lazy, Embedder) and not lazy.loaded
    assert lazy.embed_batch([], "document") == [] and not loads
    assert lazy.embed_batch(["x"], "query") == HashEmbedder(dim=16).embed_batch(["x"], "query")
    assert lazy.count_tokens("two words") == 2 and len(loads) == 1 and lazy.loaded
    wrong = LazyEmbedder("hash-embedder-16", 32, load)
    with pytest.raises(ModelError, match="loaded as hash-embedder-16 \\(16 dims\\), not the expected"):
        wrong.count_tokens("x")


def test_lazy_profile_is_named_and_sized_without_loading(tmp_path: Path) -> None:
    settings = load_settings(embedding_model="small")
    if not models.is_installed("small", settings.models_dir):
        pytest.skip("the small profile is not installed (run `convention-assistant models install small`)")
    lazy = load_embedder(settings, lazy=True)
    assert isinstance(lazy, LazyEmbedder) and not lazy.loaded
    assert (lazy.name, lazy.dim) == ("multilingual-e5-small", 384)
    with pytest.raises(ModelError, match="is not installed"):  # a missing model still fails at once
        load_embedder(load_settings(embedding_model="small", models_dir=tmp_path), lazy=True)


@pytest.mark.slow
def test_query_vectors_are_cached_documents_are_not(small_embedder: Embedder) -> None:
    question = "Who signed the Hanoi Convention for Viet Nam? (cache test)"
    hits = small_embedder.cache_hits  # type: ignore[attr-defined]
    first = small_embedder.embed_batch([question], "query")[0]
    again = small_embedder.embed_batch([question, "another question (cache test)"], "query")
    assert small_embedder.cache_hits == hits + 1  # type: ignore[attr-defined]
    assert again[0] == first and again[1] != first
    again[0][0] += 1.0  # a caller mutating its vector does not change the cached one
    assert small_embedder.embed_batch([question], "query")[0] == first
    small_embedder.embed_batch([question, question], "document")
    assert small_embedder.cache_hits == hits + 2  # type: ignore[attr-defined]


@pytest.mark.slow
def test_query_cache_is_bounded(small_embedder: Embedder) -> None:
    from assistant.models.embeddings import SentenceTransformerEmbedder

    assert isinstance(small_embedder, SentenceTransformerEmbedder)
    many = [f"q{i}" for i in range(small_embedder._query_cache + 5)]
    vectors = small_embedder.embed_batch(many, "query")  # one encode call: tiny texts, fast
    assert len(vectors) == len(many) and len(small_embedder._queries) == small_embedder._query_cache
    assert "q0" not in small_embedder._queries and many[-1] in small_embedder._queries
    with pytest.raises(ValueError, match="query_cache must be 0 or more"):
        SentenceTransformerEmbedder("unused", "x", query_cache=-1)
