"""build_services: the one place that builds the concrete objects, once, and hands them down."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.answering.chat import Assistant
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.llm import LLMAnswerer, build_chat_model
from assistant.answering.phrases import load_phrases, load_quantities
from assistant.answering.prompts import PromptLibrary
from assistant.answering.service import AnswerService, Gate, Limiter
from assistant.config import Settings
from assistant.index.store import ChunkStore
from assistant.index.visibility import IndexView, IndexWatcher
from assistant.models.embeddings import Embedder, load_embedder
from assistant.models.profiles import calibration_for
from assistant.observability import Metrics
from assistant.retrieval.retriever import Retriever
from assistant.types import Answer, Chunk, DocMeta, Filters, StreamEvent, Turn

log = logging.getLogger(__name__)


class ChatAssistant(Protocol):
    """What entry points need from the assistant (assistant.answering.chat.Assistant)."""

    def stream(self, question: str, history: Sequence[Turn] = ..., filters: Filters = ...,
               mode: str | None = None, k: int | None = None) -> Iterator[StreamEvent]: ...

    def answer(self, question: str, history: Sequence[Turn] = ..., filters: Filters = ...,
               mode: str | None = None, k: int | None = None) -> Answer: ...

    def close(self) -> None: ...


class DocumentStore(Protocol):
    """What entry points read from the index directly: health counts, documents and cited chunks."""

    collection_name: str

    def count(self) -> int: ...

    def doc_states(self) -> dict[str, tuple[str, int]]: ...

    def get_doc(self, doc_id: str) -> tuple[DocMeta, list[Chunk]] | None: ...

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[tuple[Chunk, DocMeta]]: ...


@dataclass(frozen=True)
class Services:
    """Everything an entry point needs, built once: the assistant, the store it reads, its index sync.

    `embedder` and `watcher` are None when the assistant is not backed by this project's own index (a
    test's fake): then there is nothing to ingest into and nothing to sync.
    """

    settings: Settings
    assistant: ChatAssistant
    store: DocumentStore
    embedder: Embedder | None = None
    watcher: IndexWatcher | None = None
    retriever: Retriever | None = None
    metrics: Metrics = field(default_factory=Metrics)
    llm_ready: bool = False  # a generative model is plugged in

    def answers(self, limiter: Limiter | None = None, gate: Gate | None = None) -> AnswerService:
        """The answer service over this assistant; the web passes its rate limit and gate."""
        return AnswerService(self.assistant, default_mode=self.settings.mode,
                             log_questions=self.settings.log_questions, metrics=self.metrics,
                             limiter=limiter, gate=gate, watcher=self.watcher, retriever=self.retriever)

    def close(self) -> None:
        """Stop what the assistant started (a local LLM server)."""
        self.assistant.close()


def build_services(settings: Settings) -> Services:
    """Embedder, store, view, retriever, extractive answerer and, when configured, the LLM answerer."""
    embedder = load_embedder(settings)
    store = ChunkStore(settings, embedder)
    # subtle: the retriever sees the store through a view that hides documents an ingest job is still
    # writing; the answer service syncs the view through the watcher before each answer.
    view = IndexView(store, settings.index_refresh_s)
    calibration = calibration_for(embedder.name, settings)
    retriever = Retriever(view, embedder, settings, calibration=calibration)
    metrics = Metrics()
    watcher = IndexWatcher(view, retriever.refresh, metrics.index_refreshes.inc)
    phrases = load_phrases(settings.prompts_dir)
    extractive = ExtractiveAnswerer(embedder, phrases, calibration, sentences=store,
                                    held=retriever.articles, unknown=retriever.unknown_names,
                                    says=retriever.says, quantities=load_quantities(settings.prompts_dir))
    llm, closers = _llm(settings)
    assistant = Assistant(retriever, extractive, settings, phrases, llm=llm, closers=closers)
    return Services(settings, assistant, store, embedder, watcher, retriever, metrics, llm is not None)


def _llm(settings: Settings) -> tuple[LLMAnswerer | None, list[Callable[[], None]]]:
    """The LLM answerer when one is configured, and what stops a local server it started."""
    closers: list[Callable[[], None]] = []
    if not (settings.mode == "llm" or settings.llm_base_url or settings.llm_gguf_path):
        return None, closers
    base_url = settings.llm_base_url or None
    if not base_url and settings.llm_gguf_path:
        from assistant.models.local_llm import LocalGGUFServer  # subtle: only load llama.cpp when asked

        server = LocalGGUFServer(settings.llm_gguf_path, settings.llm_gguf_ctx, settings.llm_gguf_threads)
        base_url = server.start()
        closers.append(server.stop)
    chat_model = build_chat_model(settings, base_url)
    if chat_model is None:
        log.warning("mode is llm but no LLM endpoint is set (CA_LLM_BASE_URL, CA_LLM_GGUF_PATH)")
        return None, closers
    return LLMAnswerer(chat_model, PromptLibrary(settings.prompts_dir), settings), closers
