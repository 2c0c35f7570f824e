"""Observability: request ids, structured (JSON) logs and Prometheus metrics on a per-app registry."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from assistant.config import Settings
from assistant.types import Answer

log = logging.getLogger(__name__)

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_HANDLER_TAG = "_convention_assistant_handler"
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def new_request_id(offered: str = "") -> str:
    """The client's X-Request-ID when it is a sane token, else a fresh random one."""
    return offered if _CLIENT_ID.match(offered or "") else uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id (or '-' outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Send INFO logs of the app and the assistant to stderr (JSON if settings.log_json); idempotent."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if settings.log_json:
        handler.setFormatter(JsonFormatter())
    else:
        text_format = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        handler.setFormatter(logging.Formatter(text_format))
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_TAG, True)
    for name in ("app", "web", "assistant", "ingest"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_TAG, False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # subtle: without this, the CLI's root handler would print every line a second time
        logger.propagate = False
    return handler


class Metrics:
    """The app's Prometheus metrics, in a registry of its own (two apps in one process never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("ca_http_requests", "HTTP requests by route and status", ["route", "status"],
                                registry=r)
        self.latency = Histogram("ca_http_request_seconds", "HTTP request latency by route", ["route"],
                                 buckets=_STAGE_BUCKETS, registry=r)
        self.errors = Counter("ca_errors", "Failed answers by kind (index, llm, input, internal)", ["kind"],
                              registry=r)
        self.answers = Counter("ca_answers", "Answers by mode used", ["mode"], registry=r)
        self.stage = Histogram("ca_answer_stage_seconds", "Time spent per answer stage", ["stage"],
                               buckets=_STAGE_BUCKETS, registry=r)
        self.abstentions = Counter("ca_abstentions", "Answers that abstained for lack of evidence",
                                   registry=r)
        self.fallbacks = Counter("ca_llm_fallbacks", "LLM answers replaced by the extractive answer",
                                 registry=r)
        self.index_refreshes = Counter("ca_index_refreshes", "Lexical index rebuilds after the store changed",
                                       registry=r)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def observe_answer(self, answer: Answer, requested_mode: str) -> None:
        """Count one answer: mode used, abstention, fallback, and its stage timings."""
        self.answers.labels(answer.mode).inc()
        if answer.abstained:
            self.abstentions.inc()
        if requested_mode == "llm" and answer.mode != "llm":
            self.fallbacks.inc()
        for stage, ms in answer.timings_ms.items():
            self.stage.labels(stage).observe(ms / 1000)


def answer_log_fields(answer: Answer, requested_mode: str, log_questions: bool) -> dict[str, Any]:
    """The structured fields of one answer's log line; the question only when the privacy setting allows."""
    fields: dict[str, Any] = {
        "event": "answer",
        "language": answer.language,
        "mode": answer.mode,
        "requested_mode": requested_mode,
        "abstained": answer.abstained,
        "fallback": requested_mode == "llm" and answer.mode != "llm",
        "timings_ms": dict(answer.timings_ms),
        "retrieved_ids": [cid for cid, _ in answer.retrieved],
        "cited_ids": [c.chunk_id for c in answer.citations],
    }
    if log_questions:
        fields["question"] = answer.question[:300]
    return fields
