"""Web entry point: FastAPI app with the Gradio chat, the HTTP API (JSON and SSE) and the widget."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.answering.chat import answer_to_json
from assistant.config import Settings, load_settings
from assistant.errors import AssistantError, InputError, StoreUnavailable
from assistant.index.visibility import IndexView, IndexWatcher
from assistant.observability import Metrics, RequestContext, answer_log_fields, configure_logging
from assistant.text.languages import CORE_LANGUAGES, OTHER_LANGUAGES, detect_language
from assistant.types import Filters, Turn
from web.feedback import FeedbackLog
from web.limits import AnswerGate, Busy, RateLimiter, retry_after
from web.middleware import BodyLimit, SecurityHeaders
from web.strings import UI_LANGUAGES, text, ui_language

log = logging.getLogger(__name__)
WIDGET_DIR = Path(__file__).resolve().parent / "widget"
_DOC_ID = re.compile(r"^[0-9a-f]{8,64}$")
KNOWN_LANGUAGES = frozenset(CORE_LANGUAGES + OTHER_LANGUAGES)


class TurnIn(BaseModel):
    """One earlier exchange."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class FiltersIn(BaseModel):
    """Retrieval filters; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")
    languages: list[str] = Field(default_factory=list, max_length=10)
    kinds: list[Literal["treaty", "press", "other"]] = Field(default_factory=list, max_length=3)
    sources: list[str] = Field(default_factory=list, max_length=10)
    date_from: str = Field(default="", pattern=r"^(\d{4}(-\d{2}(-\d{2})?)?)?$")
    date_to: str = Field(default="", pattern=r"^(\d{4}(-\d{2}(-\d{2})?)?)?$")

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        # subtle: checked here, not only by the Assistant, so /api/chat refuses before its stream starts
        unknown = [code for code in value if code not in KNOWN_LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language {', '.join(unknown)[:60]}; use ISO 639-1 codes such as "
                             f"{', '.join(CORE_LANGUAGES)}")
        return value

    def to_filters(self) -> Filters:
        """The retrieval Filters."""
        return Filters(languages=tuple(self.languages), kinds=tuple(self.kinds),
                       sources=tuple(s[:200] for s in self.sources), date_from=self.date_from,
                       date_to=self.date_to)


class AskIn(BaseModel):
    """A question with its conversation, filters and answer mode."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=20_000)
    history: list[TurnIn] = Field(default_factory=list, max_length=40)
    filters: FiltersIn = Field(default_factory=lambda: FiltersIn())
    mode: Literal["extractive", "llm"] | None = None
    k: int | None = Field(default=None, ge=1, le=30)


class FeedbackIn(BaseModel):
    """A thumbs up or down on one answer."""

    model_config = ConfigDict(extra="forbid")
    rating: Literal["up", "down"]
    question: str = Field(max_length=20_000)
    answer: str = Field(max_length=50_000)
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=30)
    comment: str = Field(default="", max_length=2_000)


class Refused(Exception):
    """A request the API turns down with a status and a localized sentence."""

    def __init__(self, status: int, key: str, headers: dict[str, str] | None = None, **values: object):
        super().__init__(key)
        self.status, self.key, self.headers, self.values = status, key, headers or {}, values


def _language(request: Request, question: str = "") -> str:
    """The user's interface language: the question's language when it is one, else the browser's."""
    if question:
        detected = detect_language(question)
        if detected in UI_LANGUAGES:
            return detected
    return ui_language(request.headers.get("accept-language", ""))


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def create_app(settings: Settings | None = None, assistant: Any = None, *, store: Any = None) -> FastAPI:
    """The whole web app; builds the assistant once when none is given (uvicorn --factory friendly)."""
    settings = settings or load_settings()
    configure_logging(settings)
    if assistant is None:
        from assistant.wiring import build_assistant

        assistant = build_assistant(settings)
    metrics = Metrics()
    retriever = getattr(assistant, "retriever", None)
    if store is None:
        store = getattr(retriever, "store", None)
    watcher: IndexWatcher | None = None
    if isinstance(store, IndexView) and retriever is not None:
        # subtle: several app processes share one index server; each rebuilds its lexical index from it at
        # start and again whenever an ingest job finished a document (checked every index_refresh_s).
        watcher = IndexWatcher(store, retriever.refresh, metrics.index_refreshes.inc)
        watcher.check(force=True)
        store = store.store  # health and documents ask the server itself
    limiter = RateLimiter(settings.rate_limit_per_minute)
    gate = AnswerGate(settings.max_concurrent_answers, settings.answer_queue)
    feedback = FeedbackLog(settings.data_dir)

    app = FastAPI(title="Convention Assistant API", version="0.1.0",
                  description="Cited answers about the UN Convention against Cybercrime and the Budapest "
                              "Convention. POST /api/ask for JSON, POST /api/chat for server-sent events.")

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        sentence = text(_language(request), exc.key, **exc.values)
        return JSONResponse({"error": sentence}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        sentence = text(_language(request), "err_validation", where=where, what=first.get("msg", "invalid"))
        return JSONResponse({"error": sentence, "field": where}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # e.g. a body JSON cannot parse (too deeply nested): the same one-sentence shape as every refusal
        what = str(exc.detail).rstrip(".") or "invalid"
        sentence = text(_language(request), "err_validation", where="body", what=what)
        return JSONResponse({"error": sentence}, status_code=exc.status_code, headers=exc.headers)

    def throttle(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        wait = limiter.take(client)
        if wait > 0:
            seconds = retry_after(wait)
            raise Refused(429, "err_rate", {"Retry-After": str(seconds)}, seconds=seconds)

    def check(body: AskIn) -> None:
        if len(body.question.strip()) > settings.max_question_chars:
            raise Refused(422, "err_validation", where="question",
                          what=f"more than {settings.max_question_chars} characters")
        if not any(ch.isalnum() for ch in body.question):
            raise Refused(422, "err_validation", where="question", what="no words")

    def failure(request: Request, question: str, exc: Exception) -> tuple[int, dict[str, Any]]:
        """Status and body for an error while answering; details go to the log only."""
        lang = _language(request, question)
        if isinstance(exc, InputError):
            metrics.errors.labels("input").inc()
            return 422, {"error": text(lang, "err_input"), "detail": str(exc)}
        if isinstance(exc, StoreUnavailable):
            metrics.errors.labels("index").inc()
            log.error("index unavailable: %s", exc)
            return 503, {"error": text(lang, "err_store")}
        metrics.errors.labels("internal").inc()
        if isinstance(exc, AssistantError):
            log.error("answer failed: %s", exc)
        else:
            log.exception("unexpected failure while answering", exc_info=exc)
        return 500, {"error": text(lang, "err_internal")}

    def record(answer: Any, body: AskIn) -> None:
        """Metrics and one structured log line per answer (no question text if log_questions is off)."""
        requested = body.mode or settings.mode
        metrics.observe_answer(answer, requested)
        log.info("answered", extra=answer_log_fields(answer, requested, settings.log_questions))

    async def enter() -> None:
        try:
            await gate.enter()
        except Busy:
            raise Refused(503, "err_busy", {"Retry-After": "5"}) from None

    async def sync_index() -> None:
        if watcher is not None:
            await run_in_threadpool(watcher.check)

    def arguments(body: AskIn) -> dict[str, Any]:
        return {"question": body.question, "history": [Turn(t.role, t.content) for t in body.history],
                "filters": body.filters.to_filters(), "mode": body.mode, "k": body.k}

    @app.post("/api/ask", tags=["answers"])
    async def ask(body: AskIn, request: Request) -> JSONResponse:
        """Answer a question; returns the answer JSON (answer, citations, mode, timings...)."""
        throttle(request)
        check(body)
        await enter()
        try:
            await sync_index()
            answer = await run_in_threadpool(assistant.answer, **arguments(body))
        except Exception as exc:  # translated to one sentence; the traceback goes to the log
            status, payload = failure(request, body.question, exc)
            return JSONResponse(payload, status_code=status)
        finally:
            gate.leave()
        record(answer, body)
        return JSONResponse(answer_to_json(answer))

    @app.post("/api/chat", tags=["answers"], response_class=StreamingResponse)
    async def chat(body: AskIn, request: Request) -> StreamingResponse:
        """Stream an answer as server-sent events: token*, citations, final (or error)."""
        throttle(request)
        check(body)
        await enter()
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                gate.leave()

        async def events() -> AsyncIterator[bytes]:
            try:
                await sync_index()
                async for event in iterate_in_threadpool(assistant.stream(**arguments(body))):
                    if event.kind == "token":
                        yield _sse("token", {"text": event.text})
                    elif event.kind == "citations":
                        yield _sse("citations", {"citations": [asdict(c) for c in event.citations]})
                    elif event.answer is not None:
                        record(event.answer, body)
                        yield _sse("final", answer_to_json(event.answer))
            except Exception as exc:  # the stream has started: report in-band
                _, payload = failure(request, body.question, exc)
                yield _sse("error", payload)
            finally:
                release()

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        # subtle: the background task frees the slot even if the body was never iterated
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers,
                                 background=BackgroundTask(release))

    @app.get("/api/health", tags=["service"])
    async def health() -> JSONResponse:
        """Whether the index is loaded, with document and chunk counts, the model and the answer mode."""
        try:
            chunks = await run_in_threadpool(store.count) if store is not None else 0
            docs = len(await run_in_threadpool(store.doc_states)) if store is not None else 0
        except StoreUnavailable as exc:
            log.error("health: %s", exc)
            return JSONResponse({"status": "unavailable", "index_loaded": False}, status_code=503)
        return JSONResponse({
            "status": "ok", "index_loaded": chunks > 0, "documents": docs, "chunks": chunks,
            "model": settings.embedding_model, "collection": getattr(store, "collection_name", ""),
            "mode": settings.mode, "llm": getattr(assistant, "llm", None) is not None,
        })

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    @app.get("/api/documents/{doc_id}", tags=["documents"])
    async def document(doc_id: str, request: Request) -> JSONResponse:
        """Metadata and chunks of one indexed source (the doc_id of a citation)."""
        found = await run_in_threadpool(store.get_doc, doc_id) if _DOC_ID.match(doc_id) else None
        if found is None:
            raise Refused(404, "err_not_found", doc_id=doc_id[:64])
        meta, chunks = found
        return JSONResponse({
            "doc_id": meta.doc_id, "source": meta.source, "title": meta.title, "language": meta.language,
            "kind": meta.kind, "outlet": meta.outlet, "date": meta.date, "url": meta.url,
            "chunks": [{"chunk_id": c.chunk_id, "position": c.position, "locator": c.locator, "text": c.text,
                        "page": c.page, "char_start": c.char_start, "char_end": c.char_end} for c in chunks],
        })

    @app.post("/api/feedback", tags=["feedback"], status_code=201)
    async def give_feedback(body: FeedbackIn, request: Request) -> JSONResponse:
        """Store a thumbs up or down with the question, the answer and its citations."""
        throttle(request)
        await run_in_threadpool(feedback.record, body.rating, body.question, body.answer, body.citations,
                                body.comment)
        return JSONResponse({"stored": True, "message": text(_language(request), "thanks")}, status_code=201)

    @app.get("/widget/embed.js", include_in_schema=False)
    async def embed_js() -> FileResponse:
        return FileResponse(WIDGET_DIR / "embed.js", media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=300",
                                     "Cross-Origin-Resource-Policy": "cross-origin"})

    @app.get("/widget/example.html", include_in_schema=False)
    async def widget_example() -> FileResponse:
        return FileResponse(WIDGET_DIR / "example.html", media_type="text/html")

    @app.get("/widget", include_in_schema=False)
    async def widget_page(request: Request) -> HTMLResponse:
        lang = ui_language(request.query_params.get("lang", "") or request.headers.get("accept-language", ""))
        title = text(lang, "title")
        return HTMLResponse(
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            '<body style="margin:0">'
            f'<script src="/widget/embed.js" data-mode="inline" data-lang="{lang}" data-title="{title}">'
            "</script></body></html>")

    from web.chatpage import (  # subtle: gradio is heavy; import it only when the app is built
        build_ui,
        mount_ui,
    )

    mount_ui(app, build_ui(settings, assistant, store, feedback))
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                       allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type", "Accept", "X-Request-ID"],
                       expose_headers=["X-Request-ID"], max_age=600)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, widget_ancestors=tuple(settings.cors_origins))
    # outermost, so the request id and the metrics cover every response, refusals included
    app.add_middleware(RequestContext, metrics=metrics)
    app.state.metrics = metrics
    return app


if __name__ == "__main__":
    import uvicorn

    app_settings = load_settings()
    uvicorn.run(create_app(app_settings), host=app_settings.host, port=app_settings.port)
