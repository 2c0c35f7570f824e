"""HTTP middleware: security headers (CSP compatible with Gradio), the body limit, request ids and metrics."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.observability import REQUEST_ID, Metrics, new_request_id

log = logging.getLogger(__name__)

# subtle: Gradio's page boots from an inline config script and compiles some components at run time,
# so scripts need 'unsafe-inline' and 'unsafe-eval'; what keeps documents inert is that they are always
# rendered as text, and img-src/connect-src 'self' stop a slipped-through tag from reaching other hosts.
_BASE = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
         "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
         "connect-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; object-src 'none'; "
         "base-uri 'self'; form-action 'self'")
# FastAPI's /docs loads Swagger UI from a CDN
_DOCS = _BASE.replace("script-src 'self'", "script-src 'self' https://cdn.jsdelivr.net").replace(
    "style-src 'self'", "style-src 'self' https://cdn.jsdelivr.net").replace(
    "img-src 'self'", "img-src 'self' https://fastapi.tiangolo.com")


def csp_for(path: str, widget_ancestors: Sequence[str]) -> str:
    """The Content-Security-Policy of a page: only /widget may be framed, by the allowed origins."""
    if path == "/widget" or path.startswith("/widget/"):
        ancestors = " ".join(["'self'", *widget_ancestors])
        return f"{_BASE}; frame-ancestors {ancestors}"
    policy = _DOCS if path in ("/docs", "/redoc") else _BASE
    return f"{policy}; frame-ancestors 'self'"


class SecurityHeaders:
    """Pure ASGI middleware (works with streamed responses) adding the security headers."""

    def __init__(self, app: ASGIApp, widget_ancestors: Sequence[str] = ()) -> None:
        self.app = app
        self.widget_ancestors = tuple(widget_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"strict-origin-when-cross-origin",
                    b"content-security-policy": csp_for(path, self.widget_ancestors).encode(),
                }
                if not path.startswith("/widget"):
                    extra[b"x-frame-options"] = b"SAMEORIGIN"
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(sentence: str) -> dict[str, Any]:
    return {"error": sentence}


class BodyLimit:
    """Pure ASGI middleware: refuse API request bodies over max_bytes with 413 before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int, prefix: str = "/api/",
                 shape: Callable[[str], dict[str, Any]] = _error) -> None:
        self.app, self.max_bytes, self.prefix, self.shape = app, max_bytes, prefix, shape

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(self.shape(f"The request body is larger than {self.max_bytes} bytes: send a "
                                     "shorter question and history.")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # subtle: only the JSON API; the admin page uploads documents (CA_MAX_FILE_MB) through Gradio
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._refuse(send)
                return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            # a chunked body with no Content-Length grew past the limit while being read
            if not started:
                await self._refuse(send)


class _TooLarge(Exception):
    """A streamed request body went past the limit."""


def route_label(scope: Scope) -> str:
    """A bounded label for the route: the matched path template, 'ui' for the chat page, else 'other'."""
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    if isinstance(path, str) and path:
        return path
    raw = str(scope.get("path", ""))
    if raw.startswith(("/api/", "/v1/", "/widget")) or raw == "/metrics":
        return "other"
    return "ui"


class RequestContext:
    """Pure ASGI middleware: request id in and out, one access log line, request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                offered = value.decode("latin-1")
        request_id = new_request_id(offered)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_label(scope)
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            if route.startswith(("/api/", "/v1/")):
                log.info("%s %s -> %d", scope.get("method", ""), route, status,
                         extra={"event": "request", "route": route, "status": status,
                                "ms": round(seconds * 1000, 1)})
            REQUEST_ID.reset(token)
