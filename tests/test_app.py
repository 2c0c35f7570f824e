"""The web API on a real uvicorn server on loopback: answers, SSE, limits, errors, headers, feedback."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import GatedAssistant
from loopback import serve

from app import create_app
from assistant.config import Settings
from assistant.errors import LLMError, StoreUnavailable
from assistant.types import Filters, Turn
from web.feedback import FeedbackLog
from web.limits import AnswerGate, Busy, RateLimiter


def sse_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """Parse a text/event-stream body into (event, data) pairs."""
    events = []
    for block in response.text.split("\n\n"):
        lines = block.strip().splitlines()
        if not lines:
            continue
        name = next(line[6:].strip() for line in lines if line.startswith("event:"))
        data = "\n".join(line[5:].lstrip() for line in lines if line.startswith("data:"))
        events.append((name, json.loads(data)))
    return events


# --- the API's own logic, around a fake assistant ------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(fake_server: Callable[..., Any]) -> None:
    base, _ = fake_server(rate_limit_per_minute=2)
    codes = [httpx.post(f"{base}/api/ask", json={"question": "When?"}, timeout=30) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert int(codes[2].headers["retry-after"]) >= 1
    assert "Too many questions" in codes[2].json()["error"]


def test_chat_page_and_api_share_the_rate_limit_and_the_metrics(fake_server: Callable[..., Any]) -> None:
    from gradio_client import Client

    base, assistant = fake_server(rate_limit_per_minute=2)
    page = Client(f"{base}/", verbose=False)  # the chat page's own endpoint, as the browser calls it
    chat, *_ = page.predict("When does it enter into force?", [], [], [], "extractive", api_name="/respond")
    assert "90 days" in chat[-1]["content"][0]["text"]
    assert httpx.post(f"{base}/api/ask", json={"question": "When?"}, timeout=30).status_code == 200
    refused = httpx.post(f"{base}/api/ask", json={"question": "When?"}, timeout=30)
    assert refused.status_code == 429  # the page's question spent a token of the same bucket
    chat, *_ = page.predict("And now?", [], [], [], "extractive", api_name="/respond")
    assert "Too many questions" in chat[-1]["content"][0]["text"]  # and the page is refused in turn
    assert len(assistant.asked) == 2
    scraped = httpx.get(f"{base}/metrics", timeout=30).text
    assert 'ca_answers_total{mode="extractive"} 2.0' in scraped  # both answers counted, page and API


def test_busy_beyond_slots_and_queue_answers_503(fake_server: Callable[..., Any]) -> None:
    assistant = GatedAssistant(released=False)
    base, _ = fake_server(assistant, max_concurrent_answers=1, answer_queue=0)
    results: list[httpx.Response] = []
    first = threading.Thread(target=lambda: results.append(
        httpx.post(f"{base}/api/ask", json={"question": "When?"}, timeout=30)))
    first.start()
    assert assistant.entered.acquire(timeout=20)  # the only slot is taken
    busy = httpx.post(f"{base}/api/chat", json={"question": "And now?"}, timeout=30)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
    assert "busy" in busy.json()["error"]
    assistant.release.set()
    first.join(timeout=30)
    assert results[0].status_code == 200
    after = httpx.post(f"{base}/api/ask", json={"question": "Again?"}, timeout=30)
    assert after.status_code == 200  # the slot was given back


@pytest.mark.parametrize(("body", "field"), [
    ({"question": "x" * 61}, "question"),
    ({"question": ""}, "question"),
    ({"question": "ok", "filters": {"language": ["fr"]}}, "filters.language"),
    ({"question": "ok", "filters": {"kinds": ["blog"]}}, "filters.kinds.0"),
    ({"question": "ok", "filters": {"date_from": "yesterday"}}, "filters.date_from"),
    ({"question": "ok", "history": [{"role": "system", "content": "x"}]}, "history.0.role"),
    ({"question": "ok", "mode": "magic"}, "mode"),
    ({"question": "ok", "colour": "red"}, "colour"),
])
def test_invalid_bodies_get_422_naming_the_field(fake_server: Callable[..., Any], body: dict[str, Any],
                                                 field: str) -> None:
    base, assistant = fake_server(max_question_chars=60)
    for path in ("/api/ask", "/api/chat"):
        response = httpx.post(f"{base}{path}", json=body, timeout=30)
        assert response.status_code == 422, response.text
        assert field in response.json()["error"] and response.json()["error"].endswith(".")
    assert assistant.asked == []


def test_history_and_filters_reach_the_assistant(fake_server: Callable[..., Any]) -> None:
    base, assistant = fake_server()
    body = {"question": "And in French?", "history": [{"role": "user", "content": "When?"},
                                                      {"role": "assistant", "content": "In 2026."}],
            "filters": {"languages": ["fr"], "kinds": ["press"], "date_from": "2025-10"}}
    assert httpx.post(f"{base}/api/ask", json=body, timeout=30).status_code == 200
    question, history, filters = assistant.asked[0]
    assert history == [Turn("user", "When?"), Turn("assistant", "In 2026.")]
    assert filters == Filters(languages=("fr",), kinds=("press",), date_from="2025-10")


def test_errors_are_one_sentence_in_the_users_language(fake_server: Callable[..., Any]) -> None:
    base, _ = fake_server(GatedAssistant(error=StoreUnavailable("chroma at /secret/path is down")))
    down = httpx.post(f"{base}/api/ask", json={"question": "Quand la convention entre-t-elle en vigueur ?"},
                      timeout=30)
    assert down.status_code == 503
    assert down.json() == {"error": "L'index des documents est indisponible pour le moment : "
                                    "réessayez dans une minute."}
    base, _ = fake_server(GatedAssistant(error=LLMError("provider said: secret stack trace")))
    failed = httpx.post(f"{base}/api/chat", json={"question": "When does it enter into force?"}, timeout=30)
    assert failed.status_code == 200
    [(name, data)] = sse_events(failed)
    assert name == "error" and "secret" not in data["error"]
    assert data["error"].startswith("The assistant could not answer")
    missing = httpx.get(f"{base}/api/documents/ffffffffffffffff", headers={"accept-language": "vi"})
    assert missing.status_code == 404 and missing.json()["error"].startswith("Không có tài liệu")


def test_security_headers_and_cors_allowlist(fake_server: Callable[..., Any]) -> None:
    portal = "http://portal.example"
    base, _ = fake_server(cors_origins=(portal,), admin_token="s3cret")
    widget = httpx.get(f"{base}/widget", timeout=30)
    assert widget.status_code == 200 and "/widget/embed.js" in widget.text
    assert f"frame-ancestors 'self' {portal}" in widget.headers["content-security-policy"]
    assert "x-frame-options" not in widget.headers
    page = httpx.get(f"{base}/", timeout=30)
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    preflight = {"origin": portal, "access-control-request-method": "POST",
                 "access-control-request-headers": "content-type"}
    allowed = httpx.options(f"{base}/api/chat", headers=preflight, timeout=30)
    assert allowed.headers.get("access-control-allow-origin") == portal
    denied = httpx.options(f"{base}/api/chat", headers={**preflight, "origin": "http://evil.example"})
    assert "access-control-allow-origin" not in denied.headers
    script = httpx.get(f"{base}/widget/embed.js", timeout=30)
    assert script.headers["content-type"].startswith("text/javascript") and len(script.content) < 15_000
    assert httpx.get(f"{base}/openapi.json", timeout=30).json()["paths"]["/api/ask"]
    assert '"ca-admin"' in httpx.get(f"{base}/config", timeout=30).text  # built since a token is set


def test_rate_limiter_refills_and_gate_queues() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a")] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(30.0)
    assert limiter.take("b") == 0.0  # per client
    now[0] = 30.0
    assert limiter.take("a") == 0.0

    async def scenario() -> list[str]:
        gate, log = AnswerGate(limit=1, queue=1), []
        await gate.enter()
        waiting = asyncio.create_task(gate.enter())
        await asyncio.sleep(0)
        with pytest.raises(Busy):
            await gate.enter()
        log.append(f"queued={waiting.done()}")
        gate.leave()
        await waiting
        log.append(f"admitted={gate.admitted}")
        gate.leave()
        return log

    assert asyncio.run(scenario()) == ["queued=False", "admitted=1"]


# --- the real assistant: small model, real Chroma on tmp_path, corpus files ingested ----------------

FILES = ("digests/06_en_un_news_via_wam_65_nations_sign.txt",
         "digests/35_fr_boursorama_afp_plus_de_60_pays.txt",
         "digests/22_vi_thanhnien_le_ky_cong_uoc_ha_noi.txt")


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path,
         small_embedder: Any) -> Iterator[tuple[str, Settings]]:
    """A real app over three corpus files, served on loopback: (base URL, settings)."""
    from assistant.config import load_settings
    from assistant.index.store import ChunkStore
    from ingest.pipeline import ingest

    settings = load_settings(data_dir=tmp_path_factory.mktemp("web") / "data", embedding_model="small")
    summary = ingest([str(corpus_dir / f) for f in FILES], settings, small_embedder,
                     ChunkStore(settings, small_embedder))
    assert summary.added == len(FILES)
    with serve(create_app(settings)) as base:
        yield base, settings


@pytest.mark.slow
def test_health_reports_the_index(real: tuple[str, Settings]) -> None:
    real_server = real[0]
    health = httpx.get(f"{real_server}/api/health", timeout=30).json()
    assert health["status"] == "ok" and health["index_loaded"] is True
    assert health["documents"] == 3 and health["chunks"] >= 3
    assert health["model"] == "small" and health["mode"] == "extractive"


@pytest.mark.slow
def test_ask_returns_cited_answer_and_documents_resolve(real: tuple[str, Settings]) -> None:
    real_server = real[0]
    response = httpx.post(f"{real_server}/api/ask", timeout=120,
                          json={"question": "How many countries signed the convention in Hanoi?"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["mode"] == "extractive" and not answer["abstained"] and answer["citations"]
    cite = answer["citations"][0]
    assert f"[{cite['n']}]" in answer["answer"]
    doc = httpx.get(f"{real_server}/api/documents/{cite['doc_id']}", timeout=30).json()
    assert doc["title"] == cite["title"] and doc["chunks"]
    assert any(cite["quote"] in chunk["text"] for chunk in doc["chunks"])


@pytest.mark.slow
def test_chat_streams_tokens_then_citations_then_final(real: tuple[str, Settings]) -> None:
    real_server = real[0]
    response = httpx.post(f"{real_server}/api/chat", timeout=120,
                          json={"question": "Combien de pays ont signé la convention à Hanoï ?"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "final"] and set(names[:-2]) == {"token"} and len(names) > 3
    final = events[-1][1]
    assert "".join(data["text"] for name, data in events if name == "token") == final["answer"]
    assert [c["n"] for c in events[-2][1]["citations"]] == [c["n"] for c in final["citations"]]
    assert final["language"] == "fr" and final["citations"]


@pytest.mark.slow
def test_feedback_is_stored_as_jsonl(real: tuple[str, Settings]) -> None:
    real_server, settings = real
    body = {"rating": "down", "question": "When?", "answer": "Soon [1].", "citations": [{"n": 1}]}
    response = httpx.post(f"{real_server}/api/feedback", json=body, headers={"accept-language": "fr"})
    assert response.status_code == 201 and response.json()["message"] == "Merci pour votre avis."
    assert httpx.post(f"{real_server}/api/feedback", json={**body, "rating": "meh"}).status_code == 422
    [row] = FeedbackLog(settings.data_dir).read()
    assert row["rating"] == "down" and row["citations"] == [{"n": 1}] and row["via"] == "api"
