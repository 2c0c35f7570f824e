"""Observability: request ids in and out, JSON logs without question text, Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from fakes import EmptyStore
from loopback import serve

from app import create_app
from assistant.config import Settings
from assistant.observability import (
    REQUEST_ID,
    JsonFormatter,
    Metrics,
    answer_log_fields,
    configure_logging,
    new_request_id,
)
from assistant.types import Answer, Citation, Filters, StreamEvent
from assistant.wiring import Services

QUESTION = "Quel est le délai d'entrée en vigueur de la convention secrète-xyz ?"
CITE = Citation(n=1, doc_id="0123456789abcdef", source="corpus/x.txt", title="X", language="fr",
                locator="Article 65", quote="90 jours", url="https://example.org/x", chunk_id="chunk-a")


def make_answer(question: str, mode: str = "extractive", abstained: bool = False) -> Answer:
    return Answer(question=question, language="fr", answer="Après 90 jours [1].", abstained=abstained,
                  mode=mode, citations=(CITE,), retrieved=(("chunk-a", 0.9), ("chunk-b", 0.5)),
                  timings_ms={"retrieve": 12.5, "answer": 30.0, "total": 45.0},
                  notice="fallback" if mode == "extractive" else "")


class FallbackAssistant:
    """Fake Assistant for the API's logic: always answers extractively (as after an LLM fallback)."""

    llm = None

    def stream(self, question: str, history: Any = (), filters: Filters = Filters(), mode: str | None = None,
               k: int | None = None) -> Iterator[StreamEvent]:
        answer = make_answer(question)
        yield StreamEvent(kind="token", text=answer.answer)
        yield StreamEvent(kind="citations", citations=answer.citations)
        yield StreamEvent(kind="final", answer=answer)

    def answer(self, question: str, history: Any = (), filters: Filters = Filters(), mode: str | None = None,
               k: int | None = None) -> Answer:
        return make_answer(question)

    def close(self) -> None:
        pass


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if head.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_two_apps_have_separate_registries_and_count_answers() -> None:
    first, second = Metrics(), Metrics()
    first.observe_answer(make_answer("q", mode="extractive", abstained=True), requested_mode="llm")
    first.observe_answer(make_answer("q", mode="llm"), requested_mode="llm")
    text = first.render()[0].decode()
    assert metric(text, "ca_abstentions_total") == 1
    assert metric(text, "ca_llm_fallbacks_total") == 1
    assert metric(text, "ca_answers_total", mode="llm") == 1
    assert metric(text, "ca_answer_stage_seconds_count", stage="retrieve") == 2
    assert metric(second.render()[0].decode(), "ca_abstentions_total") == 0


def test_json_lines_carry_the_request_id_and_fields() -> None:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "answered", (), None)
    record.__dict__.update(answer_log_fields(make_answer(QUESTION), "llm", log_questions=False))
    token = REQUEST_ID.set("req-42")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["request_id"] == "req-42" and line["message"] == "answered"
    assert line["fallback"] is True and line["cited_ids"] == ["chunk-a"]
    assert line["retrieved_ids"] == ["chunk-a", "chunk-b"] and line["timings_ms"]["retrieve"] == 12.5
    assert "question" not in line
    assert answer_log_fields(make_answer(QUESTION), "extractive", log_questions=True)["question"] == QUESTION


def test_request_ids_offered_by_clients_are_kept_only_when_sane() -> None:
    assert new_request_id("abc-123") == "abc-123"
    for hostile in ("", "a b", "x" * 65, "id\nInjected: yes", '"quoted"'):
        assert re.fullmatch(r"[0-9a-f]{32}", new_request_id(hostile))


def test_api_request_ids_logs_and_metrics(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(embedding_model="small", log_json=True, log_questions=False, mode="llm")
    app = create_app(settings, Services(settings, FallbackAssistant(), EmptyStore()))
    logs = io.StringIO()
    configure_logging(settings, stream=logs)  # the same handler setup as create_app, read back here
    with serve(app) as base:
        kept = httpx.post(f"{base}/api/ask", json={"question": QUESTION},
                          headers={"X-Request-ID": "portal-7f3a"}, timeout=30)
        assert kept.status_code == 200 and kept.headers["x-request-id"] == "portal-7f3a"
        fresh = httpx.post(f"{base}/api/chat", json={"question": QUESTION}, timeout=30)
        assert fresh.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
        refused = httpx.post(f"{base}/api/ask", json={"question": QUESTION, "filters": {"colour": ["red"]}},
                             timeout=30)
        assert refused.status_code == 422 and refused.headers["x-request-id"]
        scraped = httpx.get(f"{base}/metrics", timeout=30)
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert metric(text, "ca_http_requests_total", route="/api/ask", status="200") == 1
    assert metric(text, "ca_http_requests_total", route="/api/chat", status="200") == 1
    assert metric(text, "ca_http_requests_total", route="/api/ask", status="422") == 1
    assert metric(text, "ca_http_request_seconds_count", route="/api/ask") == 2
    assert metric(text, "ca_llm_fallbacks_total") == 2  # llm was asked for, extractive answered
    assert metric(text, "ca_answers_total", mode="extractive") == 2

    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    answered = [line for line in lines if line.get("event") == "answer"]
    assert len(answered) == 2
    assert answered[0]["request_id"] == "portal-7f3a"
    assert answered[1]["request_id"] == fresh.headers["x-request-id"]
    assert {a["language"] for a in answered} == {"fr"} and all(a["fallback"] for a in answered)
    assert all(a["cited_ids"] == ["chunk-a"] and "retrieve" in a["timings_ms"] for a in answered)
    requests = [line for line in lines if line.get("event") == "request"]
    assert [(r["route"], r["status"]) for r in requests] == [
        ("/api/ask", 200), ("/api/chat", 200), ("/api/ask", 422)]
    assert "secrète-xyz" not in logs.getvalue()  # log_questions=False: no question text anywhere
