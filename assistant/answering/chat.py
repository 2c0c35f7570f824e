"""The Assistant facade: validate, condense follow-ups, retrieve, answer, verify, stream."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from assistant.answering.citations import ContextItem, number_context, verify
from assistant.answering.conversation import Question, resolve
from assistant.answering.extractive import Draft, ExtractiveAnswerer
from assistant.answering.phrases import Phrases
from assistant.config import Settings
from assistant.errors import InputError, LLMError
from assistant.text.languages import CORE_LANGUAGES, KNOWN_LANGUAGES, detect_language
from assistant.text.references import TREATIES, ArticleRef
from assistant.types import KINDS, Answer, Filters, Hit, StreamEvent, Turn

log = logging.getLogger(__name__)
MODES = ("extractive", "llm")
_TOKEN_PIECES = 4  # the extractive answer is streamed in a few pieces so clients render progressively


class Searcher(Protocol):
    """What the facade needs from retrieval (assistant.retrieval.retriever.Retriever)."""

    def search(self, question: str, filters: Filters = ..., k: int | None = None,
               refs: Sequence[ArticleRef] | None = None) -> list[Hit]: ...


class Generator(Protocol):
    """What the facade needs from a generative answerer (assistant.answering.llm.LLMAnswerer)."""

    def stream(self, question: str, language: str, items: Sequence[ContextItem],
               history: Sequence[Turn] = ()) -> Iterator[str]: ...

    def condense(self, question: str, history: Sequence[Turn], scope: str = "") -> str: ...


class Assistant:
    """Answers questions from the ingested materials, with verified citations."""

    def __init__(self, retriever: Searcher, extractive: ExtractiveAnswerer, settings: Settings,
                 phrases: Phrases, llm: Generator | None = None,
                 detect: Callable[[str], str] = detect_language,
                 closers: Sequence[Callable[[], None]] = ()) -> None:
        self.retriever, self.extractive, self.settings = retriever, extractive, settings
        self.phrases, self.llm, self.detect = phrases, llm, detect
        self._closers = list(closers)

    def close(self) -> None:
        """Stop what the assistant started (a local LLM server); safe to call twice."""
        while self._closers:
            self._closers.pop()()

    def answer(self, question: str, history: Sequence[Turn] = (), filters: Filters = Filters(),
               mode: str | None = None, k: int | None = None) -> Answer:
        """The whole answer at once (the last event of `stream`)."""
        final: Answer | None = None
        for event in self.stream(question, history, filters, mode, k):
            if event.kind == "final":
                final = event.answer
        assert final is not None  # stream always ends with a final event
        return final

    def stream(self, question: str, history: Sequence[Turn] = (), filters: Filters = Filters(),
               mode: str | None = None, k: int | None = None) -> Iterator[StreamEvent]:
        """Yield token events, then the verified citations, then the final Answer."""
        started = time.perf_counter()
        question = question.strip()
        mode = self._validate(question, filters, mode, k)
        history = [t for t in history if t.content.strip()][-self.settings.history_turns :]
        language = self.detect(question)
        timings: dict[str, float] = {}

        t0 = time.perf_counter()
        asked = self._condense(question, history, mode, language)
        standalone = asked.standalone
        timings["condense"] = _ms(t0)
        t0 = time.perf_counter()
        hits = self.retriever.search(standalone, filters, k, refs=asked.refs)
        timings["retrieve"] = _ms(t0)
        items = number_context(hits)

        t0 = time.perf_counter()
        notice = ""
        draft: Draft | None = None
        if mode == "llm" and self.llm is None:
            notice = self.phrases.get(language, "no_llm")
        elif mode == "llm" and self.llm is not None and not self.extractive.below_threshold(items):
            streamed: list[str] = []
            try:
                # the model starts from the passages that answer, in the order the extractive answer uses
                ordered = self.extractive.evidence_order(asked, items)
                for piece in self.llm.stream(standalone, language, ordered, history):
                    streamed.append(piece)
                    yield StreamEvent(kind="token", text=piece)
                text, cites = verify("".join(streamed), ordered)
                if cites:
                    draft = Draft(text=text.strip(), citations=tuple(cites), abstained=False)
                else:
                    notice = self.phrases.get(language, "fallback_notice")
            except LLMError as exc:
                log.warning("LLM answer failed, falling back to the extractive answer: %s", exc)
                notice = self.phrases.get(language, "fallback_notice")
            if draft is None:
                # subtle: tokens already sent are superseded; clients show the final answer
                yield StreamEvent(kind="token", text="\n\n")
        if draft is None:
            draft = self.extractive.answer(asked, language, items)
            used = "extractive"
            for piece in _pieces(draft.text):
                yield StreamEvent(kind="token", text=piece)
        else:
            used = "llm"
        timings["answer"] = _ms(t0)
        yield StreamEvent(kind="citations", citations=draft.citations)
        timings["total"] = _ms(started)
        yield StreamEvent(kind="final", answer=Answer(
            question=question, language=language, answer=draft.text, abstained=draft.abstained, mode=used,
            citations=draft.citations, retrieved=tuple((h.chunk.chunk_id, h.score) for h in hits),
            timings_ms=timings, standalone_question=standalone if standalone != question else "",
            notice=notice,
        ))

    def _validate(self, question: str, filters: Filters, mode: str | None, k: int | None) -> str:
        if not question:
            raise InputError("The question is empty: type a question about the conventions.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InputError(f"The question has {len(question)} characters, more than the limit of {limit}: "
                             "shorten it.")
        unknown_kinds = [x for x in filters.kinds if x not in KINDS]
        if unknown_kinds:
            raise InputError(f"Unknown document kind {', '.join(unknown_kinds)}: "
                             f"use one of {', '.join(KINDS)}.")
        unknown_langs = [x for x in filters.languages if x not in KNOWN_LANGUAGES]
        if unknown_langs:
            raise InputError(f"Unknown language filter {', '.join(unknown_langs)}: "
                             f"use ISO 639-1 codes such as {', '.join(CORE_LANGUAGES)}.")
        if k is not None and k <= 0:
            raise InputError(f"k must be greater than 0. Currently, k is {k}.")
        chosen = mode or self.settings.mode
        if chosen not in MODES:
            raise InputError(f"Answer mode {chosen!r} is unknown: use one of {', '.join(MODES)}.")
        return chosen

    def _condense(self, question: str, history: Sequence[Turn], mode: str, language: str) -> Question:
        """The question with the treaty, article and topic of earlier turns in scope."""
        names = {t: self.phrases.get(language, f"treaty_{t}") for t in TREATIES}
        asked = resolve(question, history, names)
        if asked.is_followup and mode == "llm" and self.llm is not None:
            # the model rewrites the words; the scope it is given is the same one the offline rewrite keeps
            named = [self.phrases.get("en", f"treaty_{asked.treaty}")] if asked.treaty else []
            scope = ", ".join(named + [f"Article {r.article}" for r in asked.refs])
            rewritten = self.llm.condense(question, history, scope)
            return Question(question, rewritten, asked.context, asked.refs, asked.treaty)
        return asked


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def _pieces(text: str) -> list[str]:
    """Split text into a few pieces at spaces; joined they give the text back exactly."""
    size = max(1, len(text) // _TOKEN_PIECES)
    out, start = [], 0
    while start < len(text):
        end = text.find(" ", start + size)
        end = len(text) if end < 0 else end + 1
        out.append(text[start:end])
        start = end
    return out
