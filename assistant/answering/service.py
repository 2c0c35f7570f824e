"""AnswerService: the one path from a question to an answer, for every entry point.

The JSON API, the event stream, the chat page, the widget, the CLI and the MCP tools all ask through it,
so the rate limit, the bound on concurrent answers, the index sync, the metrics and the answer log are
applied once. Searches for passages alone (the MCP search tool, the LangChain retriever) take the same way.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import anyio

from assistant.errors import AssistantError, ConfigError, InputError, RateLimited, StoreUnavailable
from assistant.observability import Metrics, answer_log_fields
from assistant.types import Answer, Filters, Hit, StreamEvent, Turn

log = logging.getLogger(__name__)


class Answerer(Protocol):
    """What the service needs from the Assistant (assistant.answering.chat.Assistant)."""

    def stream(self, question: str, history: Sequence[Turn] = ..., filters: Filters = ...,
               mode: str | None = None, k: int | None = None) -> Iterator[StreamEvent]: ...


class Searcher(Protocol):
    """What a search needs from the retriever (assistant.retrieval.retriever.Retriever)."""

    def search(self, question: str, filters: Filters = ..., k: int | None = None) -> list[Hit]: ...


class Limiter(Protocol):
    """A per-client rate limit: `take` returns 0.0 when allowed, else the seconds to wait."""

    def take(self, key: str) -> float: ...


class Gate(Protocol):
    """A bound on concurrent answers: `enter` waits for a slot or raises Busy, `leave` gives it back."""

    async def enter(self) -> None: ...

    def leave(self) -> None: ...


class Syncer(Protocol):
    """Keeps the retriever in step with a shared index (assistant.index.visibility.IndexWatcher)."""

    def check(self, force: bool = False) -> bool: ...


@dataclass(frozen=True)
class AskRequest:
    """One question as an entry point received it."""

    question: str
    history: tuple[Turn, ...] = ()
    filters: Filters = field(default_factory=Filters)
    mode: str | None = None
    k: int | None = None
    client: str = "local"  # whom the rate limit counts: an IP address, an API key, "cli"


class Admission:
    """A granted answer slot; `release` is safe to call more than once."""

    def __init__(self, request: AskRequest, release: Callable[[], None]) -> None:
        self.request = request
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        """Give the slot back (idempotent)."""
        if self._release is not None:
            done, self._release = self._release, None
            done()


class AnswerService:
    """Admits a request (rate limit, gate), syncs the index, answers, and counts and logs the answer."""

    def __init__(self, assistant: Answerer, *, default_mode: str, log_questions: bool = False,
                 metrics: Metrics | None = None, limiter: Limiter | None = None, gate: Gate | None = None,
                 watcher: Syncer | None = None, retriever: Searcher | None = None) -> None:
        self.assistant, self.default_mode, self.log_questions = assistant, default_mode, log_questions
        self.metrics, self.limiter, self.gate, self.watcher = metrics, limiter, gate, watcher
        self.retriever = retriever

    def throttle(self, client: str) -> None:
        """Spend one of the client's rate-limit tokens; raises RateLimited when none is left."""
        if self.limiter is not None:
            wait = self.limiter.take(client)
            if wait > 0:
                raise RateLimited(max(1, math.ceil(wait)))

    async def admit(self, request: AskRequest) -> Admission:
        """Spend one rate-limit token and take an answer slot; raises RateLimited or Busy."""
        self.throttle(request.client)
        if self.gate is None:
            return Admission(request, lambda: None)
        gate = self.gate
        await gate.enter()
        return Admission(request, gate.leave)

    async def run(self, admission: Admission) -> AsyncIterator[StreamEvent]:
        """The answer's events (tokens, citations, final); the slot is released when they end."""
        request = admission.request
        try:
            if self.watcher is not None:
                await anyio.to_thread.run_sync(self.watcher.check)
            events = self.assistant.stream(request.question, list(request.history), request.filters,
                                           request.mode, request.k)
            while (event := await anyio.to_thread.run_sync(next, events, None)) is not None:
                if event.kind == "final" and event.answer is not None:
                    self._record(event.answer, request)
                yield event
        except Exception as exc:
            self.count_failure(exc)
            raise
        finally:
            admission.release()

    async def final(self, admission: Admission) -> Answer:
        """The whole answer of an admitted request (`run` to its end)."""
        answer: Answer | None = None
        async for event in self.run(admission):
            if event.kind == "final":
                answer = event.answer
        assert answer is not None  # the assistant's stream always ends with a final event
        return answer

    async def ask(self, request: AskRequest) -> Answer:
        """The whole answer at once."""
        return await self.final(await self.admit(request))

    def ask_now(self, request: AskRequest) -> Answer:
        """`ask` for callers without an event loop (the CLI)."""
        return anyio.run(self.ask, request)

    async def search(self, request: AskRequest) -> list[Hit]:
        """The passages the answers would be built from, best first, under the same limits as a question."""
        admission = await self.admit(request)
        try:
            return await anyio.to_thread.run_sync(self._retrieve, request)
        finally:
            admission.release()

    def search_now(self, request: AskRequest) -> list[Hit]:
        """`search` for callers without an event loop (the LangChain retriever); rate limited, not gated."""
        self.throttle(request.client)
        return self._retrieve(request)

    def _retrieve(self, request: AskRequest) -> list[Hit]:
        if self.retriever is None:
            raise ConfigError("Searching needs this project's index: build the services with build_services.")
        started = time.perf_counter()
        try:
            if self.watcher is not None:
                self.watcher.check()
            hits = self.retriever.search(request.question, request.filters, request.k)
        except Exception as exc:
            self.count_failure(exc)
            raise
        elapsed_ms = round(1000 * (time.perf_counter() - started), 1)
        fields: dict[str, object] = {"event": "search", "ms": elapsed_ms,
                                     "retrieved_ids": [hit.chunk.chunk_id for hit in hits]}
        if self.log_questions:
            fields["question"] = request.question[:300]
        log.info("searched", extra=fields)
        return hits

    def _record(self, answer: Answer, request: AskRequest) -> None:
        requested = request.mode or self.default_mode
        if self.metrics is not None:
            self.metrics.observe_answer(answer, requested)
        log.info("answered", extra=answer_log_fields(answer, requested, self.log_questions))

    def count_failure(self, exc: BaseException) -> str:
        """Count one failed answer by kind (input, index, internal) and log it; returns the kind."""
        kind = failure_kind(exc)
        if kind == "index":
            log.error("index unavailable: %s", exc)
        elif kind == "internal" and isinstance(exc, AssistantError):
            log.error("answer failed: %s", exc)
        elif kind == "internal":
            log.error("unexpected failure while answering", exc_info=exc)
        if self.metrics is not None:
            self.metrics.errors.labels(kind).inc()
        return kind


def failure_kind(exc: BaseException) -> str:
    """What kind of failure an exception is: input (the request), index (the store is down), internal."""
    if isinstance(exc, InputError):
        return "input"
    if isinstance(exc, StoreUnavailable):
        return "index"
    return "internal"
