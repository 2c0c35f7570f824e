"""The HTTP API: /api/ask (JSON), /api/chat (server-sent events), health, documents, feedback, metrics."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.answering.service import Admission, AnswerService, AskRequest, failure_kind
from assistant.config import Settings
from assistant.errors import Busy, RateLimited, StoreUnavailable
from assistant.text.languages import UI_LANGUAGES, detect_language
from assistant.wiring import DocumentStore, Services
from web.feedback import FeedbackLog
from web.schemas import AnswerOut, AskIn, DocumentOut, FeedbackIn, answer_json, citations_json
from web.strings import text, ui_language

log = logging.getLogger(__name__)
_DOC_ID = re.compile(r"^[0-9a-f]{8,64}$")


class Refused(Exception):
    """A request the API turns down with a status and a localized sentence."""

    def __init__(self, status: int, key: str, headers: dict[str, str] | None = None, **values: object):
        super().__init__(key)
        self.status, self.key, self.headers, self.values = status, key, headers or {}, values


def reader_language(request: Request | None, question: str = "") -> str:
    """The reader's interface language: the question's language when it is one, else the browser's."""
    if question:
        detected = detect_language(question)
        if detected in UI_LANGUAGES:
            return detected
    return ui_language(request.headers.get("accept-language", "") if request is not None else "")


def first_problem(exc: RequestValidationError) -> tuple[str, str]:
    """Where and what the first problem of an invalid body is: ("history.0.role", "Input should be...")."""
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return where, str(first.get("msg", "invalid"))


def install_error_handlers(app: FastAPI) -> None:
    """Every refusal and invalid body becomes one sentence in the reader's language."""

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        sentence = text(reader_language(request), exc.key, **exc.values)
        return JSONResponse({"error": sentence}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        where, what = first_problem(exc)
        sentence = text(reader_language(request), "err_validation", where=where, what=what)
        return JSONResponse({"error": sentence, "field": where}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # e.g. a body JSON cannot parse (too deeply nested): the same one-sentence shape as every refusal
        what = str(exc.detail).rstrip(".") or "invalid"
        sentence = text(reader_language(request), "err_validation", where="body", what=what)
        return JSONResponse({"error": sentence}, status_code=exc.status_code, headers=exc.headers)


# failure kind (AnswerService) -> status and sentence key of an error while answering
FAILURES = {"input": (422, "err_input"), "index": (503, "err_store"), "internal": (500, "err_internal")}


def failure_body(lang: str, exc: Exception) -> tuple[int, dict[str, Any]]:
    """Status and body for an error while answering (the service has counted and logged it)."""
    kind = failure_kind(exc)
    status, key = FAILURES[kind]
    body: dict[str, Any] = {"error": text(lang, key)}
    if kind == "input":
        body["detail"] = str(exc)
    return status, body


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def client_key(request: Request) -> str:
    """Whom the rate limit counts for an HTTP request."""
    return request.client.host if request.client else "unknown"


def question_problem(question: str, max_chars: int) -> str:
    """Why no answer can come from this question ("more than N characters", "no words"), or ""."""
    if len(question.strip()) > max_chars:
        return f"more than {max_chars} characters"
    if not any(ch.isalnum() for ch in question):
        return "no words"
    return ""


def check_question(question: str, max_chars: int) -> None:
    """Refuses questions no answer can come from: too long, or without a word."""
    problem = question_problem(question, max_chars)
    if problem:
        raise Refused(422, "err_validation", where="question", what=problem)


def received(body: AskIn, request: Request, max_chars: int) -> AskRequest:
    """The service's request for a validated body; refuses questions no answer can come from."""
    check_question(body.question, max_chars)
    return AskRequest(body.question, body.turns(), body.filters.to_filters(), body.mode, body.k,
                      client=client_key(request))


def refusal(exc: RateLimited | Busy) -> Refused:
    """The refusal of a request the service did not admit: 429 rate limit, 503 busy."""
    if isinstance(exc, RateLimited):
        return Refused(429, "err_rate", {"Retry-After": str(exc.retry_after)}, seconds=exc.retry_after)
    return Refused(503, "err_busy", {"Retry-After": "5"})


async def admit(answers: AnswerService, asked: AskRequest) -> Admission:
    """An answer slot, or the refusal (429 rate limit, 503 busy) in the reader's language."""
    try:
        return await answers.admit(asked)
    except (RateLimited, Busy) as exc:
        raise refusal(exc) from None


def answers_router(settings: Settings, answers: AnswerService) -> APIRouter:
    """/api/ask and /api/chat, both answering through `answers`."""
    router = APIRouter()

    @router.post("/api/ask", tags=["answers"], response_model=AnswerOut)
    async def ask(body: AskIn, request: Request) -> JSONResponse:
        """Answer a question; returns the answer JSON (answer, citations, mode, timings...)."""
        admission = await admit(answers, received(body, request, settings.max_question_chars))
        try:
            answer = await answers.final(admission)
        except Exception as exc:  # translated to one sentence; the traceback goes to the log
            status, payload = failure_body(reader_language(request, body.question), exc)
            return JSONResponse(payload, status_code=status)
        return JSONResponse(answer_json(answer))

    @router.post("/api/chat", tags=["answers"], response_class=StreamingResponse)
    async def chat(body: AskIn, request: Request) -> StreamingResponse:
        """Stream an answer as server-sent events: token*, citations, final (or error)."""
        admission = await admit(answers, received(body, request, settings.max_question_chars))

        async def events() -> AsyncIterator[bytes]:
            try:
                async for event in answers.run(admission):
                    if event.kind == "token":
                        yield _sse("token", {"text": event.text})
                    elif event.kind == "citations":
                        yield _sse("citations", {"citations": citations_json(event.citations)})
                    elif event.answer is not None:
                        yield _sse("final", answer_json(event.answer))
            except Exception as exc:  # the stream has started: report in-band
                _, payload = failure_body(reader_language(request, body.question), exc)
                yield _sse("error", payload)

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        # subtle: the background task frees the slot even if the body was never iterated
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers,
                                 background=BackgroundTask(admission.release))

    return router


def index_router(services: Services) -> APIRouter:
    """/api/health, /api/documents/{doc_id} and /metrics: what the index and the service hold."""
    settings, store, metrics = services.settings, services.store, services.metrics
    router = APIRouter()

    @router.get("/api/health", tags=["service"])
    async def health() -> JSONResponse:
        """Whether the index is loaded, with document and chunk counts, the model and the answer mode."""
        try:
            chunks = await run_in_threadpool(store.count)
            docs = len(await run_in_threadpool(store.doc_states))
        except StoreUnavailable as exc:
            log.error("health: %s", exc)
            return JSONResponse({"status": "unavailable", "index_loaded": False}, status_code=503)
        return JSONResponse({
            "status": "ok", "index_loaded": chunks > 0, "documents": docs, "chunks": chunks,
            "model": settings.embedding_model, "collection": store.collection_name,
            "mode": settings.mode, "llm": services.llm_ready,
        })

    @router.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    @router.get("/api/documents/{doc_id}", tags=["documents"])
    async def document(doc_id: str) -> JSONResponse:
        """Metadata and chunks of one indexed source (the doc_id of a citation)."""
        found = await run_in_threadpool(find_document, store, doc_id)
        if found is None:
            raise Refused(404, "err_not_found", doc_id=doc_id[:64])
        return JSONResponse(found.model_dump())

    return router


def find_document(store: DocumentStore, doc_id: str) -> DocumentOut | None:
    """An indexed document with its chunks in order, or None for an id no document has."""
    found = store.get_doc(doc_id) if _DOC_ID.match(doc_id) else None
    return DocumentOut.of(*found) if found is not None else None


def feedback_router(answers: AnswerService, feedback: FeedbackLog) -> APIRouter:
    """/api/feedback: a thumbs up or down, under the same rate limit as questions."""
    router = APIRouter()

    @router.post("/api/feedback", tags=["feedback"], status_code=201)
    async def give_feedback(body: FeedbackIn, request: Request) -> JSONResponse:
        """Store a thumbs up or down with the question, the answer and its citations."""
        try:
            answers.throttle(client_key(request))
        except RateLimited as exc:
            raise refusal(exc) from None
        await run_in_threadpool(feedback.record, body.rating, body.question, body.answer, body.citations,
                                body.comment)
        return JSONResponse({"stored": True, "message": text(reader_language(request), "thanks")},
                            status_code=201)

    return router

