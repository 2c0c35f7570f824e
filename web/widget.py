"""The embeddable widget: its script, an example page, and the inline page a portal frames."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from web.strings import text, ui_language

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"


def widget_router() -> APIRouter:
    """/widget (the page a portal frames), /widget/embed.js and /widget/example.html."""
    router = APIRouter(include_in_schema=False)

    @router.get("/widget/embed.js")
    async def embed_js() -> FileResponse:
        return FileResponse(WIDGET_DIR / "embed.js", media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=300",
                                     "Cross-Origin-Resource-Policy": "cross-origin"})

    @router.get("/widget/example.html")
    async def widget_example() -> FileResponse:
        return FileResponse(WIDGET_DIR / "example.html", media_type="text/html")

    @router.get("/widget")
    async def widget_page(request: Request) -> HTMLResponse:
        lang = ui_language(request.query_params.get("lang", "") or request.headers.get("accept-language", ""))
        title = text(lang, "title")
        return HTMLResponse(
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            '<body style="margin:0">'
            f'<script src="/widget/embed.js" data-mode="inline" data-lang="{lang}" data-title="{title}">'
            "</script></body></html>")

    return router
