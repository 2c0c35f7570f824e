"""The OpenAI-compatible API: GET /v1/models and POST /v1/chat/completions, answered by the AnswerService.

Every question is admitted, answered, counted and logged exactly as /api/ask's; what differs is the shape:
OpenAI's completions and chunks, citations both in the text and in a `citations` field, and OpenAI's error
shape on /v1 paths (web.openai_errors; the /api error shape is unchanged).
"""

# subtle: no `from __future__ import annotations` here: FastAPI reads the routes' annotations at run time,
# and `Client` (the key check as a dependency) is local to openai_router.
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from assistant.answering.service import Admission, AnswerService, AskRequest, failure_kind
from assistant.observability import REQUEST_ID
from assistant.types import Answer
from assistant.wiring import Services
from web.api import FAILURES, Refused, admit, question_problem, reader_language
from web.openai_errors import error_body, key_check, openai_status
from web.openai_schemas import (
    MODEL_MODES,
    ChatIn,
    ChoiceOut,
    ChunkChoiceOut,
    ChunkOut,
    CompletionOut,
    DeltaOut,
    MessageOut,
    ModelListOut,
    ModelOut,
    UsageOut,
    model_ids,
    sources_text,
)
from web.schemas import CitationOut
from web.strings import text

log = logging.getLogger(__name__)
_KEEPALIVE_S = 15.0  # while an LLM answer is held back for verification, an SSE comment this often


# --- answers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What the whole completion and each chunk of one answer share."""

    id: str
    created: int
    model: str
    prompt: tuple[str, ...]  # the texts read (question and history), for the usage estimate

    def content(self, answer: Answer) -> tuple[str, list[CitationOut]]:
        """The message text (answer, notice, sources list) and the citations field."""
        trailer = sources_text(answer, text(answer.language, "sources_heading"))
        return answer.answer + trailer, [CitationOut.of(c) for c in answer.citations]

    def whole(self, answer: Answer) -> CompletionOut:
        """The completion of a non-streamed request."""
        content, citations = self.content(answer)
        return CompletionOut(id=self.id, created=self.created, model=self.model,
                             choices=[ChoiceOut(message=MessageOut(content=content, citations=citations))],
                             usage=UsageOut.of(self.prompt, content))

    def chunk(self, delta: DeltaOut | None, finish: bool = False, usage: str | None = None) -> bytes:
        """One `data:` line: a delta (finishing the answer if `finish`), or the usage of `usage` alone."""
        finish_reason: Literal["stop"] | None = "stop" if finish else None
        choices = [] if delta is None else [ChunkChoiceOut(delta=delta, finish_reason=finish_reason)]
        out = ChunkOut(id=self.id, created=self.created, model=self.model, choices=choices,
                       usage=None if usage is None else UsageOut.of(self.prompt, usage))
        return _sse(out.model_dump())


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def asked_of(body: ChatIn, client: str, max_chars: int) -> AskRequest:
    """The service's request for a chat body: the last user message, the earlier turns, the model's mode."""
    said = body.conversation()
    if said is None:
        raise Refused(400, "err_validation", where="messages", what="the last message must be the user's "
                      "question", param="messages")
    question, history = said
    problem = question_problem(question, max_chars)
    if problem:
        raise Refused(400, "err_validation", where="messages", what=f"the question has {problem}",
                      param="messages")
    return AskRequest(question, history, mode=MODEL_MODES[body.model], client=client)


def _failure(lang: str, exc: Exception) -> tuple[int, dict[str, Any]]:
    """Status and OpenAI error body of a failure while answering (the service has counted and logged it)."""
    status, key = FAILURES[failure_kind(exc)]
    message = str(exc) if key == "err_input" else text(lang, key)  # our own sentence, never a provider's
    return openai_status(status), error_body(message, key)


async def _whole(answers: AnswerService, admission: Admission, reply: Reply, lang: str) -> Response:
    try:
        answer = await answers.final(admission)
    except Exception as exc:  # translated to one sentence; the traceback goes to the log
        status, payload = _failure(lang, exc)
        return JSONResponse(payload, status_code=status)
    return JSONResponse(reply.whole(answer).model_dump())


async def _chunks(answers: AnswerService, admission: Admission, reply: Reply, live: bool, usage: bool,
                  lang: str) -> AsyncIterator[bytes]:
    """The chunks of one answer: the role, the answer's tokens (when `live`), the rest, the citations."""
    yield reply.chunk(DeltaOut(role="assistant", content=""))
    sent, quiet_since = "", time.monotonic()
    try:
        async for event in answers.run(admission):
            if event.kind == "token" and live:
                sent += event.text
                yield reply.chunk(DeltaOut(content=event.text))
            elif event.kind == "token" and time.monotonic() - quiet_since > _KEEPALIVE_S:
                quiet_since = time.monotonic()
                yield b": the answer is sent once its citations are verified\n\n"
            elif event.kind == "final" and event.answer is not None:
                content, citations = reply.content(event.answer)
                yield reply.chunk(DeltaOut(content=_rest(content, sent)))
                yield reply.chunk(DeltaOut(citations=citations), finish=True)
                if usage:
                    yield reply.chunk(None, usage=content)
    except Exception as exc:  # the stream has started: report in-band, as OpenAI does
        yield _sse(_failure(lang, exc)[1])
    yield b"data: [DONE]\n\n"


def _rest(content: str, sent: str) -> str:
    """What the client still needs so that the deltas join to `content`."""
    if content.startswith(sent):
        return content[len(sent):]
    log.warning("streamed tokens are not the start of the final answer; sending the answer after them")
    return "\n\n" + content


# --- routes -------------------------------------------------------------------------------------------


def openai_router(services: Services, answers: AnswerService) -> APIRouter:
    """/v1/models, /v1/models/{id} and /v1/chat/completions; other /v1 paths get OpenAI's 404."""
    settings, offered, created = services.settings, model_ids(services.llm_ready), int(time.time())
    Client = Annotated[str, Depends(key_check(settings.api_key_list))]
    router = APIRouter(prefix="/v1", tags=["openai"])

    def known(model: str) -> str:
        if model not in offered:
            raise Refused(404, "err_model", model=repr(model[:80]), models=", ".join(offered), param="model")
        return model

    @router.get("/models", response_model=ModelListOut)
    async def models(client: Client) -> ModelListOut:
        """The assistant as models: convention-assistant (CA_MODE), -extractive, -llm when an LLM is set."""
        return ModelListOut(data=[ModelOut(id=model, created=created) for model in offered])

    @router.get("/models/{model_id}", response_model=ModelOut)
    async def model(model_id: str, client: Client) -> ModelOut:
        """One model, or 404 model_not_found."""
        return ModelOut(id=known(model_id), created=created)

    @router.post("/chat/completions", response_model=CompletionOut)
    async def chat_completions(body: ChatIn, request: Request, client: Client) -> Response:
        """Answer the last user message; earlier turns are the history. `stream: true` for SSE chunks."""
        known(body.model)
        asked = asked_of(body, client, settings.max_question_chars)
        admission = await admit(answers, asked)
        reply = Reply(f"chatcmpl-{REQUEST_ID.get()}", int(time.time()), body.model,
                      (asked.question, *(t.content for t in asked.history)))
        lang = reader_language(request, asked.question)
        if not body.stream:
            return await _whole(answers, admission, reply, lang)
        # subtle: an LLM's tokens are unverified, so they are held back and the checked answer is sent whole
        live = (asked.mode or settings.mode) == "extractive"
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(_chunks(answers, admission, reply, live, body.include_usage, lang),
                                 media_type="text/event-stream", headers=headers,
                                 background=BackgroundTask(admission.release))

    everything = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @router.api_route("/{path:path}", methods=everything, include_in_schema=False)
    async def unknown(path: str) -> Response:
        raise Refused(404, "err_route", path=f"/v1/{path}"[:100])

    return router
