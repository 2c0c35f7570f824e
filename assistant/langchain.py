"""ConventionRetriever: the assistant's hybrid retrieval as a LangChain retriever, for other chains."""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field

from assistant.answering.service import AnswerService, AskRequest
from assistant.config import Settings, load_settings
from assistant.types import Filters, Hit

if TYPE_CHECKING:
    from assistant.wiring import Services


def to_document(hit: Hit) -> Document:
    """A retrieved passage as a LangChain Document: the chunk's text, and where it comes from."""
    metadata = {"source": hit.doc.source, "title": hit.doc.title, "locator": hit.chunk.locator,
                "language": hit.doc.language, "url": hit.doc.url, "doc_id": hit.doc.doc_id,
                "chunk_id": hit.chunk.chunk_id, "score": round(hit.score, 6)}
    return Document(page_content=hit.chunk.text, metadata=metadata, id=hit.chunk.chunk_id)


class ConventionRetriever(BaseRetriever):
    """The passages the assistant's answers are built from: dense + BM25, article references, filters.

    It searches through the answer service, so the index sync, the failure counts and the search log
    are the same as for the web's and the MCP server's searches. `k` and `filters` can also be given
    per call: `retriever.invoke("...", k=3, filters=Filters(languages=("fr",)))`.
    """

    service: AnswerService
    k: int = Field(default=8, ge=1, le=100, description="how many passages to return")
    filters: Filters = Field(default_factory=Filters, description="languages, kinds, sources, dates")

    @classmethod
    def from_services(cls, services: Services, k: int | None = None,
                      filters: Filters = Filters()) -> ConventionRetriever:
        """A retriever over already built services (k defaults to the settings' top_k)."""
        return cls(service=services.answers(), k=services.settings.top_k if k is None else k,
                   filters=filters)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, k: int | None = None,
                      filters: Filters = Filters()) -> ConventionRetriever:
        """A retriever over the index the settings name (default: the CA_* environment); loads the model."""
        from assistant.wiring import build_services  # subtle: wiring knows every concrete class; load it late

        settings = settings or load_settings()
        # a retriever never generates text: no LLM client, and no local model server started for one
        retrieval_only = settings.model_copy(update={"mode": "extractive", "llm_base_url": "",
                                                     "llm_gguf_path": ""})
        return cls.from_services(build_services(retrieval_only), k, filters)

    def _request(self, query: str, k: int | None, filters: Filters | None) -> AskRequest:
        return AskRequest(query, filters=self.filters if filters is None else filters,
                          k=self.k if k is None else k, client="langchain")

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None, filters: Filters | None = None) -> list[Document]:
        return [to_document(hit) for hit in self.service.search_now(self._request(query, k, filters))]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, k: int | None = None,
        filters: Filters | None = None,
    ) -> list[Document]:
        return [to_document(hit) for hit in await self.service.search(self._request(query, k, filters))]
