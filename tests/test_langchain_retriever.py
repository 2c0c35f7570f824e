"""ConventionRetriever against a real index: LangChain's standard retriever tests, metadata, filters, LCEL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda
from langchain_tests.integration_tests import RetrieversIntegrationTests
from pydantic import ValidationError
from small_index import index_files

from assistant.answering.service import AnswerService
from assistant.config import Settings
from assistant.errors import InputError
from assistant.index.store import ChunkStore
from assistant.langchain import ConventionRetriever
from assistant.models.embeddings import Embedder
from assistant.types import Filters

HANOI = "How many countries signed the convention in Hanoi?"
METADATA = {"source", "title", "locator", "language", "url", "doc_id", "chunk_id", "score"}

# subtle: the standard suite's one async test runs under anyio's plugin, marked here, so this module
# needs no asyncio_mode setting that would change how the rest of the suite is collected
pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path, small_embedder: Embedder) -> Settings:
    """Settings of a real index of three corpus files (small model, temp dir)."""
    return index_files(tmp_path_factory.mktemp("langchain") / "data", corpus_dir, small_embedder)


@pytest.fixture(scope="module")
def service(indexed: Settings) -> AnswerService:
    """The answer service over that index, as from_settings builds it."""
    return ConventionRetriever.from_settings(indexed).service


class TestStandardRetriever(RetrieversIntegrationTests):
    """langchain-tests' retriever suite: k in the constructor and per call, invoke and ainvoke."""

    @pytest.fixture(autouse=True)
    def _real_index(self, service: AnswerService) -> None:
        self.service = service

    @property
    def retriever_constructor(self) -> type[ConventionRetriever]:
        return ConventionRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"service": self.service}

    @property
    def retriever_query_example(self) -> str:
        return HANOI


def test_documents_carry_the_chunk_and_where_it_comes_from(service: AnswerService, indexed: Settings,
                                                           small_embedder: Embedder) -> None:
    docs = ConventionRetriever(service=service, k=3).invoke(HANOI)
    assert len(docs) == 3 and all(set(doc.metadata) == METADATA for doc in docs)
    assert "65 nations" in docs[0].page_content and docs[0].metadata["language"] == "en"
    scores = [doc.metadata["score"] for doc in docs]
    assert scores == sorted(scores, reverse=True)
    store = ChunkStore(indexed, small_embedder)
    stored = {chunk.chunk_id: (chunk, meta) for chunk, meta in store.iter_chunks()}
    for doc in docs:
        chunk, meta = stored[doc.metadata["chunk_id"]]
        assert doc.id == chunk.chunk_id and doc.page_content == chunk.text
        assert doc.metadata["locator"] == chunk.locator and doc.metadata["url"] == meta.url


def test_filters_from_the_constructor_or_the_call(service: AnswerService) -> None:
    french = ConventionRetriever(service=service, filters={"languages": ["fr"]})
    assert french.filters == Filters(languages=("fr",))
    assert {doc.metadata["language"] for doc in french.invoke(HANOI)} == {"fr"}
    vietnamese = french.invoke(HANOI, filters=Filters(languages=("vi",)))
    assert vietnamese and {doc.metadata["language"] for doc in vietnamese} == {"vi"}


def test_in_an_lcel_chain(service: AnswerService) -> None:
    def numbered(docs: list[Document]) -> str:
        return "\n".join(f"[{n}] {d.metadata['title']} ({d.metadata['locator']}): {d.page_content[:60]}"
                         for n, d in enumerate(docs, start=1))

    chain = ConventionRetriever(service=service, k=2) | RunnableLambda(numbered)
    context = chain.invoke(HANOI)
    assert context.startswith("[1] Sixty-five nations sign first treaty") and "\n[2] " in context
    french = "Combien de pays ont signé ?"
    assert chain.batch([HANOI, french]) == [context, chain.invoke(french)]


def test_bad_k_is_one_clear_error(service: AnswerService) -> None:
    with pytest.raises(ValidationError, match="k\n  Input should be greater than or equal to 1"):
        ConventionRetriever(service=service, k=0)
    with pytest.raises(InputError, match=r"^k must be greater than 0\. Currently, k is 0\.$"):
        ConventionRetriever(service=service).invoke(HANOI, k=0)
