"""Security headers on every response: CSP compatible with Gradio, nosniff, referrer policy, framing rules."""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class BodyLimit:
    """Pure ASGI middleware: refuse API request bodies over max_bytes with 413 before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int, prefix: str = "/api/") -> None:
        self.app, self.max_bytes, self.prefix = app, max_bytes, prefix

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": f"The request body is larger than {self.max_bytes} bytes: send a "
                                    "shorter question and history."}).encode()
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
