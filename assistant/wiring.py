"""build_assistant: the one place that builds the concrete objects, once, and hands them down."""

from __future__ import annotations

import logging

from assistant.answering.chat import Assistant
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.llm import LLMAnswerer, build_chat_model
from assistant.answering.phrases import load_phrases, load_quantities
from assistant.answering.prompts import PromptLibrary
from assistant.config import Settings
from assistant.index.store import ChunkStore
from assistant.index.visibility import IndexView
from assistant.models.embeddings import load_embedder
from assistant.models.profiles import calibration_for
from assistant.retrieval.retriever import Retriever

log = logging.getLogger(__name__)


def build_assistant(settings: Settings) -> Assistant:
    """Embedder, store, retriever, extractive answerer and, when configured, the LLM answerer."""
    embedder = load_embedder(settings)
    store = ChunkStore(settings, embedder)
    # subtle: the retriever sees the store through a view that hides documents an ingest job is still
    # writing; the app syncs the view (assistant.index.visibility.IndexWatcher) every few seconds.
    view = IndexView(store, settings.index_refresh_s)
    calibration = calibration_for(embedder.name, settings)
    retriever = Retriever(view, embedder, settings, calibration=calibration)  # type: ignore[arg-type]
    phrases = load_phrases(settings.prompts_dir)
    extractive = ExtractiveAnswerer(embedder, phrases, calibration, sentences=store,
                                    held=retriever.articles, unknown=retriever.unknown_names,
                                    quantities=load_quantities(settings.prompts_dir))
    llm: LLMAnswerer | None = None
    closers = []
    if settings.mode == "llm" or settings.llm_base_url or settings.llm_gguf_path:
        base_url = settings.llm_base_url or None
        if not base_url and settings.llm_gguf_path:
            from assistant.models.local_llm import LocalGGUFServer  # subtle: only load llama.cpp when asked

            server = LocalGGUFServer(settings.llm_gguf_path, settings.llm_gguf_ctx, settings.llm_gguf_threads)
            base_url = server.start()
            closers.append(server.stop)
        chat_model = build_chat_model(settings, base_url)
        if chat_model is not None:
            llm = LLMAnswerer(chat_model, PromptLibrary(settings.prompts_dir), settings)
        else:
            log.warning("mode is llm but no LLM endpoint is set (CA_LLM_BASE_URL, CA_LLM_GGUF_PATH)")
    return Assistant(retriever, extractive, settings, phrases, llm=llm, closers=closers)
