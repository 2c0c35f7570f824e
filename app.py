"""Web entry point: builds the services once, then mounts the API, the widget and the chat page."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assistant.config import Settings, load_settings
from assistant.observability import configure_logging
from assistant.wiring import Services, build_services
from web.api import answers_router, feedback_router, index_router, install_error_handlers
from web.feedback import FeedbackLog
from web.limits import AnswerGate, RateLimiter
from web.mcp_server import build_mcp_server, mount_mcp
from web.middleware import BodyLimit, RequestContext, SecurityHeaders
from web.openai_api import openai_router
from web.openai_errors import error_body, install_error_shape
from web.widget import widget_router


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The whole web app; builds the services when none are given (uvicorn --factory friendly)."""
    settings = settings or load_settings()
    configure_logging(settings)
    services = services or build_services(settings)
    if services.watcher is not None:
        services.watcher.check(force=True)  # the lexical index is built before the first question
    # one rate limit and one gate for every way in: API, stream, chat page and widget
    answers = services.answers(RateLimiter(settings.rate_limit_per_minute),
                               AnswerGate(settings.max_concurrent_answers, settings.answer_queue))
    feedback = FeedbackLog(settings.data_dir)

    app = FastAPI(title="Convention Assistant API", version="0.1.0",
                  description="Cited answers about the UN Convention against Cybercrime and the Budapest "
                              "Convention. POST /api/ask for JSON, POST /api/chat for server-sent events; "
                              "an OpenAI-compatible chat API under /v1.")
    install_error_handlers(app)
    install_error_shape(app)  # after: /v1 errors in OpenAI's shape, the others as web.api answers them
    app.include_router(answers_router(settings, answers))
    app.include_router(index_router(services))
    app.include_router(feedback_router(answers, feedback))
    app.include_router(widget_router())
    app.include_router(openai_router(services, answers))
    mount_mcp(app, build_mcp_server(services, answers), settings)  # before the chat page's catch-all at /

    from web.chatpage import (  # subtle: gradio is heavy; import it only when the app is built
        build_ui,
        mount_ui,
    )

    mount_ui(app, build_ui(services, answers, feedback))
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                       allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type", "Accept", "X-Request-ID", "Authorization"],
                       expose_headers=["X-Request-ID"], max_age=600)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, prefix="/v1/", shape=error_body)
    app.add_middleware(SecurityHeaders, widget_ancestors=tuple(settings.cors_origins))
    # outermost, so the request id and the metrics cover every response, refusals included
    app.add_middleware(RequestContext, metrics=services.metrics)
    app.state.metrics = services.metrics
    return app


if __name__ == "__main__":
    import uvicorn

    app_settings = load_settings()
    uvicorn.run(create_app(app_settings), host=app_settings.host, port=app_settings.port)
