"""OpenAI's error shape on /v1 paths, and the optional bearer keys (CA_API_KEYS) of the /v1 routes.

Refusals (web.api.Refused), invalid bodies and HTTP errors on /v1 answer {"error": {"message", "type",
"param", "code"}} with OpenAI's status codes; on every other path the handlers web.api installed answer.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from web.api import Refused, client_key, first_problem, reader_language
from web.strings import text

PREFIX = "/v1/"
# the sentence key of a refusal -> OpenAI's error type and code
_KINDS: dict[str, tuple[str, str | None]] = {
    "err_validation": ("invalid_request_error", None),
    "err_input": ("invalid_request_error", None),
    "err_key": ("invalid_request_error", "invalid_api_key"),
    "err_model": ("invalid_request_error", "model_not_found"),
    "err_route": ("invalid_request_error", "unknown_url"),
    "err_rate": ("rate_limit_error", "rate_limit_exceeded"),
    "err_busy": ("server_error", "server_busy"),
    "err_store": ("server_error", "index_unavailable"),
    "err_internal": ("server_error", None),
}


def error_body(message: str, key: str = "err_validation", param: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape for a sentence and the key it was rendered from."""
    kind, code = _KINDS.get(key, ("invalid_request_error", None))
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def openai_status(status: int) -> int:
    """The status OpenAI uses for ours: 400 for every invalid request."""
    return 400 if status == 422 else status


def install_error_shape(app: FastAPI) -> None:
    """Refusals, invalid bodies and HTTP errors on /v1 paths in OpenAI's shape; call after web.api's."""
    _on_v1(app, Refused, _refused)
    _on_v1(app, RequestValidationError, _invalid)
    _on_v1(app, StarletteHTTPException, _http_error)


def _on_v1(app: FastAPI, exc_class: type[Exception], handle: Callable[[Request, Any], Response]) -> None:
    fallback = app.exception_handlers[exc_class]

    async def dispatch(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(PREFIX):
            return handle(request, exc)
        response = fallback(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(exc_class, dispatch)


def _refused(request: Request, exc: Refused) -> Response:
    sentence = text(reader_language(request), exc.key, **exc.values)
    param = exc.values.get("param")
    return JSONResponse(error_body(sentence, exc.key, str(param) if param else None),
                        status_code=openai_status(exc.status), headers=exc.headers)


def _invalid(request: Request, exc: RequestValidationError) -> Response:
    where, what = first_problem(exc)
    sentence = text(reader_language(request), "err_validation", where=where, what=what)
    return JSONResponse(error_body(sentence, param=where), status_code=400)


def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    what = str(exc.detail).rstrip(".") or "invalid"
    sentence = text(reader_language(request), "err_validation", where="body", what=what)
    return JSONResponse(error_body(sentence), status_code=openai_status(exc.status_code), headers=exc.headers)


def key_check(keys: Sequence[str]) -> Callable[[Request], str]:
    """A dependency: whom the rate limit counts (a key when keys are set, else the address), or 401."""
    # subtle: digests have one length, so compare_digest leaks neither a key's content nor its length
    digests = [hashlib.sha256(key.encode()).digest() for key in keys]

    def identify(request: Request) -> str:
        if not digests:
            return client_key(request)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        offered = hashlib.sha256(given.strip().encode()).digest()
        matches = [hmac.compare_digest(offered, digest) for digest in digests]  # all of them, no early exit
        if scheme.lower() != "bearer" or not any(matches):
            raise Refused(401, "err_key", {"WWW-Authenticate": "Bearer"})
        return f"key{matches.index(True) + 1}"

    return identify
