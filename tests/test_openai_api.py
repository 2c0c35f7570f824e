"""The OpenAI-compatible /v1 API on a real uvicorn server, driven by the official `openai` client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fakes import CITE, GatedAssistant
from loopback import serve

from app import create_app
from assistant.config import Settings
from assistant.errors import LLMError, StoreUnavailable
from assistant.types import Answer, StreamEvent, Turn
from web.openai_schemas import ChatIn, sources_text, without_sources


def client_for(base: str, key: str = "unused", retries: int = 0) -> openai.OpenAI:
    """The official client pointed at our /v1 (no retries: a refusal is what a test looks at)."""
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=retries, timeout=120)


def ask(client: openai.OpenAI, question: str, model: str = "convention-assistant", **more: Any) -> Any:
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}],
                                          **more)


def streamed(client: openai.OpenAI, messages: list[dict[str, Any]],
             model: str = "convention-assistant") -> tuple[str, list[Any]]:
    """The joined content deltas of a streamed answer, and every chunk."""
    chunks = list(client.chat.completions.create(model=model, messages=messages,  # type: ignore[arg-type]
                                                 stream=True, stream_options={"include_usage": True}))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return content, chunks


# --- pure logic: the conversation and the sources list --------------------------------------------


def test_messages_become_question_and_history() -> None:
    answer = Answer(question="q", language="en", answer="Within 90 days [1].", abstained=False,
                    mode="extractive", citations=(CITE,))
    earlier = "Within 90 days [1]." + sources_text(answer, "Sources")
    assert sources_text(answer, "Sources") == ("\n\nSources:\n- [1] X — Article 1 — “90 days” — "
                                               "https://example.org/x")
    body = ChatIn.model_validate({"model": "convention-assistant", "messages": [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": [{"type": "text", "text": "When does it"},
                                     {"type": "text", "text": "apply?"}]},
        {"role": "assistant", "content": earlier},
        {"role": "developer", "content": "Answer in verse."},
        {"role": "user", "content": "And Article 17?"},
    ]})
    assert body.conversation() == ("And Article 17?", (Turn("user", "When does it\n\napply?"),
                                                       Turn("assistant", "Within 90 days [1].")))
    article = replace(CITE, quote="Each Party shall adopt\nsuch measures " * 20)
    long = sources_text(replace(answer, citations=(article,)), "Sources")
    assert long.startswith("\n\nSources:\n- [1] X — Article 1 — “Each Party shall adopt such measures Each")
    assert long.endswith(" …” — https://example.org/x") and len(long) < 340
    assert without_sources("Nguồn trích dẫn [1].\n\nNguồn:\n- [1] X") == "Nguồn trích dẫn [1]."
    unanswered = ChatIn.model_validate({"model": "m", "messages": [{"role": "user", "content": "Hi?"},
                                                                   {"role": "assistant", "content": "Yes."}]})
    assert unanswered.conversation() is None


# --- the API's own logic, around a fake assistant ------------------------------------------------


@pytest.mark.slow
def test_models_are_listed_and_looked_up(fake_server: Callable[..., Any]) -> None:
    base, _ = fake_server()
    client = client_for(base)
    assert [m.id for m in client.models.list()] == ["convention-assistant", "convention-assistant-extractive"]
    assert client.models.retrieve("convention-assistant-extractive").owned_by == "convention-assistant"
    with pytest.raises(openai.NotFoundError) as missing:  # no LLM is configured, so no -llm model
        client.models.retrieve("convention-assistant-llm")
    assert missing.value.code == "model_not_found"
    assert "convention-assistant-extractive" in missing.value.message
    with pytest.raises(openai.NotFoundError) as elsewhere:
        client.completions.create(model="convention-assistant", prompt="Hi")
    assert elsewhere.value.code == "unknown_url" and "POST /v1/chat/completions" in elsewhere.value.message


@pytest.mark.slow
def test_answer_carries_sources_and_citations_and_history_reaches_the_assistant(
        fake_server: Callable[..., Any]) -> None:
    base, assistant = fake_server()
    client = client_for(base)
    first = ask(client, "When does it enter into force?")
    message = first.choices[0].message
    assert message.content == ("It enters into force after 90 days [1].\n\nSources:\n"
                               "- [1] X — Article 1 — “90 days” — https://example.org/x")
    assert message.model_extra["citations"] == [{
        "n": 1, "doc_id": "0123456789abcdef", "chunk_id": "c1", "source": "corpus/x.txt", "title": "X",
        "language": "en", "locator": "Article 1", "quote": "90 days", "url": "https://example.org/x",
        "outlet": "", "date": "", "kind": ""}]
    assert first.choices[0].finish_reason == "stop" and first.model == "convention-assistant"
    assert first.usage is not None and first.usage.completion_tokens == (len(message.content) + 3) // 4
    follow_up = [{"role": "system", "content": "Ignored."},
                 {"role": "user", "content": "When does it enter into force?"},
                 {"role": "assistant", "content": message.content},
                 {"role": "user", "content": [{"type": "text", "text": "And Article 17?"}]}]
    content, chunks = streamed(client, follow_up, model="convention-assistant-extractive")
    assert content == message.content
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens > 0
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-2].choices[0].delta.model_extra["citations"] == message.model_extra["citations"]
    question, history, _ = assistant.asked[-1]
    assert question == "And Article 17?"
    assert history == [Turn("user", "When does it enter into force?"),
                       Turn("assistant", "It enters into force after 90 days [1].")]
    assert assistant.modes == [None, "extractive"]  # the model chose the mode; the plain one is CA_MODE's


class SupersededAssistant(GatedAssistant):
    """Streams a model's sentence that verification then drops, as the LLM answerer can."""

    def stream(self, question: str, *args: Any, **kwargs: Any) -> Iterator[StreamEvent]:
        yield StreamEvent(kind="token", text="The model says 30 days.")
        yield StreamEvent(kind="token", text="\n\n")
        yield from super().stream(question, *args, **kwargs)


@pytest.mark.slow
def test_llm_tokens_are_held_until_the_answer_is_verified(fake_server: Callable[..., Any]) -> None:
    base, _ = fake_server(SupersededAssistant(), mode="llm")
    client = client_for(base)
    whole = ask(client, "When does it enter into force?").choices[0].message.content
    content, chunks = streamed(client, [{"role": "user", "content": "When does it enter into force?"}])
    assert content == whole and "30 days" not in content
    assert content.startswith("It enters into force after 90 days [1].\n\nSources:\n- [1] X")


@pytest.mark.parametrize(("messages", "extra", "param", "says"), [
    ([{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}], {}, "messages",
     "the last message must be the user's question"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}], {},
     "messages.0.content", "only text parts are understood"),
    ([{"role": "tool", "content": "42", "tool_call_id": "t1"}], {}, "messages.0.role", "Input should be"),
    ([{"role": "user", "content": "x" * 61}], {}, "messages", "the question has more than 60 characters"),
    ([{"role": "user", "content": "?!"}], {}, "messages", "the question has no words"),
    ([], {}, "messages", "at least 1 item"),
    ([{"role": "user", "content": "When?"}], {"n": 2}, "n", "less than or equal to 1"),
])
@pytest.mark.slow
def test_bad_requests_get_400_with_a_sentence_naming_the_param(
        fake_server: Callable[..., Any], messages: list[dict[str, Any]], extra: dict[str, Any], param: str,
        says: str) -> None:
    base, assistant = fake_server(max_question_chars=60)
    with pytest.raises(openai.BadRequestError) as refused:
        client_for(base).chat.completions.create(model="convention-assistant", messages=messages,
                                                 **extra)  # type: ignore[call-overload]
    error = refused.value
    assert error.status_code == 400 and error.param == param and error.type == "invalid_request_error"
    assert says in error.message and error.message.endswith("fix it and send it again.")
    assert assistant.asked == []


@pytest.mark.slow
def test_keys_guard_v1_only(fake_server: Callable[..., Any]) -> None:
    base, assistant = fake_server(api_keys="alpha, beta")
    with pytest.raises(openai.AuthenticationError) as wrong:
        ask(client_for(base, key="gamma"), "When?")
    assert wrong.value.code == "invalid_api_key" and "CA_API_KEYS" in wrong.value.message
    assert wrong.value.response.headers["www-authenticate"] == "Bearer"
    with pytest.raises(openai.AuthenticationError):
        ask(client_for(base, key="beta"), "When?", extra_headers={"Authorization": openai.omit})
    with pytest.raises(openai.AuthenticationError):
        client_for(base, key="alph").models.list()
    assert assistant.asked == []
    assert "90 days" in ask(client_for(base, key="beta"), "When?").choices[0].message.content
    assert len(client_for(base, key="alpha").models.list().data) == 2
    # the chat page and the widget cannot hold a secret: /api stays as it was
    assert httpx.post(f"{base}/api/ask", json={"question": "When?"}, timeout=30).status_code == 200


@pytest.mark.slow
def test_v1_shares_the_rate_limit_with_api(fake_server: Callable[..., Any]) -> None:
    base, assistant = fake_server(rate_limit_per_minute=2)
    assert httpx.post(f"{base}/api/ask", json={"question": "When?"}, timeout=30).status_code == 200
    ask(client_for(base), "When?")
    with pytest.raises(openai.RateLimitError) as limited:
        ask(client_for(base), "When?", stream=True)
    assert limited.value.code == "rate_limit_exceeded" and "wait" in limited.value.message
    assert int(limited.value.response.headers["retry-after"]) >= 1
    api = httpx.post(f"{base}/api/ask", json={"question": "When?"}, timeout=30)
    assert api.status_code == 429 and isinstance(api.json()["error"], str)  # /api keeps its shape
    assert len(assistant.asked) == 2
    scraped = httpx.get(f"{base}/metrics", timeout=30).text
    assert 'ca_answers_total{mode="extractive"} 2.0' in scraped
    assert 'route="/v1/chat/completions",status="429"' in scraped


@pytest.mark.slow
def test_busy_answers_503(fake_server: Callable[..., Any]) -> None:
    assistant = GatedAssistant(released=False)
    base, _ = fake_server(assistant, max_concurrent_answers=1, answer_queue=0)
    first = threading.Thread(target=lambda: ask(client_for(base), "When?"))
    first.start()
    assert assistant.entered.acquire(timeout=20)  # the only slot is taken
    with pytest.raises(openai.InternalServerError) as busy:
        ask(client_for(base), "And now?")
    assert busy.value.status_code == 503 and busy.value.code == "server_busy"
    assert busy.value.response.headers["retry-after"] == "5"
    assistant.release.set()
    first.join(timeout=30)
    assert ask(client_for(base), "Again?").choices[0].finish_reason == "stop"  # the slot was given back


@pytest.mark.slow
def test_failures_are_one_sentence_never_the_providers(fake_server: Callable[..., Any]) -> None:
    base, _ = fake_server(GatedAssistant(error=LLMError("provider said: secret stack trace")))
    with pytest.raises(openai.APIError) as in_band:  # the stream had started: the error arrives in it
        list(ask(client_for(base), "When does it enter into force?", stream=True))
    assert in_band.value.message.startswith("The assistant could not answer")
    assert "secret" not in in_band.value.message
    with pytest.raises(openai.InternalServerError) as whole:
        ask(client_for(base), "When does it enter into force?")
    assert whole.value.status_code == 500 and "secret" not in whole.value.message
    base, _ = fake_server(GatedAssistant(error=StoreUnavailable("chroma at /secret/path is down")))
    with pytest.raises(openai.InternalServerError) as down:
        ask(client_for(base), "Quand la convention entre-t-elle en vigueur ?")
    assert down.value.status_code == 503 and down.value.code == "index_unavailable"
    assert down.value.body["message"] == (  # type: ignore[index]
        "L'index des documents est indisponible pour le moment : réessayez dans une minute.")


@pytest.mark.slow
def test_oversized_and_unparsable_bodies(fake_server: Callable[..., Any]) -> None:
    base, _ = fake_server(max_body_bytes=2_000)
    with pytest.raises(openai.APIStatusError) as large:
        ask(client_for(base), "When? " * 500)
    assert large.value.status_code == 413 and "larger than 2000 bytes" in large.value.message
    broken = httpx.post(f"{base}/v1/chat/completions", content=b"{not json", timeout=30,
                        headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["type"] == "invalid_request_error"
    assert httpx.post(f"{base}/api/ask", json={"question": 1}, timeout=30).json()["field"] == "question"


# --- the real assistant: small model, real Chroma on tmp_path, two treaties that share article numbers ---

TREATIES = ("texts/coe_budapest_convention_ets185_en.txt",
            "texts/coe_additional_protocol_ets189_xenophobia_en.txt")
BUDAPEST = "Convention on Cybercrime (Budapest Convention)"
PROTOCOL = "Additional Protocol to the Convention on Cybercrime"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path, small_embedder: Any) -> Iterator[str]:
    """A real app over the Budapest Convention and its Additional Protocol, served on loopback."""
    from assistant.config import load_settings
    from assistant.index.store import ChunkStore
    from ingest.pipeline import ingest

    settings: Settings = load_settings(data_dir=tmp_path_factory.mktemp("openai") / "data",
                                       embedding_model="small")
    summary = ingest([str(corpus_dir / f) for f in TREATIES], settings, small_embedder,
                     ChunkStore(settings, small_embedder))
    assert summary.added == len(TREATIES)
    with serve(create_app(settings)) as base:
        yield base


@pytest.mark.slow
def test_real_answer_streamed_equals_whole_and_quotes_are_in_the_cited_chunks(real: str) -> None:
    client = client_for(real)
    question = "What does Article 16 of the Budapest Convention require?"
    whole = ask(client, question).choices[0].message
    content, chunks = streamed(client, [{"role": "user", "content": question}])
    assert content == whole.content and len(chunks) > 4
    citations = whole.model_extra["citations"]
    assert citations and chunks[-2].choices[0].delta.model_extra["citations"] == citations
    answer, _, sources = whole.content.partition("\n\nSources:\n")
    assert "[1]" in answer and sources.count("\n- [") == len(citations) - 1
    for cite in citations:
        assert cite["title"].startswith(BUDAPEST) and "Article 16" in cite["locator"]
        quote_start = " ".join(cite["quote"].split())[:100]
        assert f"- [{cite['n']}] {cite['title']} — {cite['locator']} — “{quote_start}" in sources
        doc = httpx.get(f"{real}/api/documents/{cite['doc_id']}", timeout=30).json()
        [chunk] = [c for c in doc["chunks"] if c["chunk_id"] == cite["chunk_id"]]
        assert cite["quote"] in chunk["text"]


@pytest.mark.slow
def test_real_follow_up_uses_the_history(real: str) -> None:
    client = client_for(real)

    def cited(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        reply = client.chat.completions.create(model="convention-assistant-extractive",
                                               messages=messages)  # type: ignore[arg-type]
        return list(reply.choices[0].message.model_extra["citations"])

    earlier = "What does Article 16 of the Budapest Convention require?"
    said = ask(client, earlier).choices[0].message.content
    after_16 = cited([{"role": "user", "content": earlier}, {"role": "assistant", "content": said},
                      {"role": "user", "content": "And Article 17?"}])
    assert after_16
    assert all(c["title"].startswith(BUDAPEST) and "Article 17" in c["locator"] for c in after_16)
    # the same words mean another treaty's article when the conversation was about that treaty
    protocol = "What does Article 3 of the Additional Protocol on racism and xenophobia require?"
    alone = cited([{"role": "user", "content": "And Article 5?"}])
    followed = cited([{"role": "user", "content": protocol}, {"role": "user", "content": "And Article 5?"}])
    assert alone and all(c["title"].startswith(BUDAPEST) for c in alone)
    assert followed and all(c["title"].startswith(PROTOCOL) and "Article 5" in c["locator"] for c in followed)
