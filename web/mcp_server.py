"""The Model Context Protocol server: ask, search and get_document, over stdio or streamable HTTP at /mcp.

Every tool goes through the answer service (limits, index sync, metrics, logs) or, for a document, the
same lookup as GET /api/documents/{doc_id}; answers and passages have the API's JSON shapes.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import FastAPI
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from pydantic import Field, ValidationError
from starlette.requests import Request

from assistant.answering.service import AnswerService, AskRequest
from assistant.config import Settings
from assistant.errors import Busy, RateLimited
from assistant.types import Turn
from assistant.wiring import Services, build_services
from web.api import (
    Refused,
    check_question,
    client_key,
    failure_body,
    find_document,
    reader_language,
    refusal,
)
from web.schemas import AnswerOut, DocumentOut, FiltersIn, PassageOut, SearchOut, TurnIn
from web.strings import text

NAME = "convention-assistant"
INSTRUCTIONS = ("Cited answers and source passages about the UN Convention against Cybercrime (Hanoi "
                "Convention), the Budapest Convention and their press coverage, in several languages.")
ASK = ("Answer a question about the UN Convention against Cybercrime, the Budapest Convention or their "
       "press coverage with a short answer whose [n] markers cite verified quotes from the indexed sources.")
SEARCH = ("Find the passages of the indexed treaty texts and press articles that best match a question "
          "(text, locator, title, doc_id, score), to read or quote the sources yourself.")
GET_DOCUMENT = ("Fetch one indexed document by the doc_id of a search passage or an ask citation: its "
                "metadata and all its chunks in document order.")
NOT_FOUND = ("No document with id {doc_id!r} is indexed: call search (or ask) and use the doc_id of one of "
             "its passages (or citations).")

Question = Annotated[str, Field(min_length=1, max_length=20_000, description="A question, in any language.")]
History = Annotated[list[TurnIn] | None, Field(max_length=40, description="Earlier turns, oldest first.")]
FiltersArg = Annotated[FiltersIn | None, Field(description="Only these languages, kinds, sources, dates.")]
K = Annotated[int | None, Field(ge=1, le=30, description="How many passages (default: the server's top_k).")]
DocId = Annotated[str, Field(min_length=1, max_length=200, description="A doc_id from search or ask.")]


class ConventionMCP(MCPServer):
    """The SDK's server, with argument errors as one sentence naming the field (as the API's 422s)."""

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Any, Any] | None = None) -> Any:
        """Call a tool; arguments that do not fit its input schema fail with one line, not pydantic's."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            first = cause.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "arguments"
            sentence = text("en", "err_validation", where=where, what=first["msg"])
            raise ToolError(f"Error executing tool {name}: {sentence}") from cause


def _client(ctx: Context[Any, Any]) -> str:
    """Whom the rate limit counts: the HTTP client's address (shared with the API), or the stdio peer."""
    request = ctx.request_context.request
    return client_key(request) if isinstance(request, Request) else "mcp"


def _refusal(exc: Exception, question: str) -> ToolError:
    """One sentence in the question's language for a refused or failed request (the service logged it)."""
    language = reader_language(None, question)
    if isinstance(exc, (RateLimited, Busy)):
        exc = refusal(exc)
    if isinstance(exc, Refused):
        return ToolError(text(language, exc.key, **exc.values))
    _, body = failure_body(language, exc)
    detail = f" ({body['detail']})" if body.get("detail") else ""
    return ToolError(f"{body['error']}{detail}")


def _asked(settings: Settings, ctx: Context[Any, Any], question: str, history: list[TurnIn] | None,
           filters: FiltersIn | None, k: int | None = None) -> AskRequest:
    """The service's request for a tool call; refuses questions no answer can come from."""
    try:
        check_question(question, settings.max_question_chars)
    except Refused as exc:
        raise _refusal(exc, question) from None
    turns = tuple(Turn(t.role, t.content) for t in history or ())
    return AskRequest(question, turns, (filters or FiltersIn()).to_filters(), None, k, client=_client(ctx))


def build_mcp_server(services: Services, answers: AnswerService) -> MCPServer:
    """The MCP server with its three tools, answering through `answers` and reading `services.store`."""
    settings, store = services.settings, services.store
    server = ConventionMCP(NAME, instructions=INSTRUCTIONS, version="0.1.0", log_level="WARNING")

    async def ask(ctx: Context, question: Question, history: History = None,
                  filters: FiltersArg = None) -> AnswerOut:
        asked = _asked(settings, ctx, question, history, filters)
        try:
            answer = await answers.ask(asked)
        except Exception as exc:  # one sentence for the model; the service counted and logged it
            raise _refusal(exc, question) from exc
        return AnswerOut.of(answer)

    async def search(ctx: Context, question: Question, k: K = None,
                     filters: FiltersArg = None) -> SearchOut:
        asked = _asked(settings, ctx, question, None, filters, k)
        try:
            hits = await answers.search(asked)
        except Exception as exc:  # as in ask
            raise _refusal(exc, question) from exc
        return SearchOut(passages=[PassageOut.of(hit) for hit in hits])

    async def get_document(doc_id: DocId) -> DocumentOut:
        try:
            found = await anyio.to_thread.run_sync(find_document, store, doc_id)
        except Exception as exc:  # the store is down: the API's 503 sentence
            raise _refusal(exc, "") from exc
        if found is None:
            raise ToolError(NOT_FOUND.format(doc_id=doc_id[:64]))
        return found

    server.add_tool(ask, description=ASK)
    server.add_tool(search, description=SEARCH)
    server.add_tool(get_document, description=GET_DOCUMENT)
    return server


def mount_mcp(app: FastAPI, server: MCPServer, settings: Settings) -> None:
    """Serve `server` over streamable HTTP at /mcp; its session manager runs inside the app's lifespan."""
    # subtle: stateless, so each POST stands alone and any app process behind a load balancer can answer
    # it; on a loopback host the SDK also refuses Host headers other than loopback (DNS rebinding).
    http = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                      host=settings.host, max_request_body_size=settings.max_body_bytes)
    app.router.routes.extend(http.routes)
    outer = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(parent: Any) -> AsyncIterator[Any]:
        async with outer(parent) as state, server.session_manager.run():
            yield state

    app.router.lifespan_context = lifespan


def serve_stdio(settings: Settings) -> None:
    """Serve the MCP tools over this process's stdin and stdout until the client closes them."""
    # subtle: stdout carries only the protocol, so whatever loading the model prints goes to stderr
    with contextlib.redirect_stdout(sys.stderr):
        services = build_services(settings)
        if services.watcher is not None:
            services.watcher.check(force=True)  # the lexical index is built before the first call
    try:
        build_mcp_server(services, services.answers()).run("stdio")
    finally:
        services.close()
