"""The MCP tools through the official `mcp` client: over stdio (`cli.py mcp`) and over HTTP at /mcp."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fakes import EmptyStore, GatedAssistant
from loopback import serve
from mcp import Client, StdioServerParameters
from small_index import index_files

from app import create_app
from assistant.config import Settings
from assistant.models.embeddings import Embedder
from assistant.wiring import Services
from web.schemas import AnswerOut, DocumentOut, PassageOut

REPO = Path(__file__).resolve().parent.parent
HANOI = "How many countries signed the convention in Hanoi?"
TOOLS = {"ask", "search", "get_document"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path, small_embedder: Embedder) -> Settings:
    """Settings of a real index of three corpus files (small model, temp dir)."""
    return index_files(tmp_path_factory.mktemp("mcp") / "data", corpus_dir, small_embedder)


@pytest.fixture(scope="module")
def web(indexed: Settings) -> Iterator[str]:
    """The real app over that index, served on loopback: its base URL."""
    with serve(create_app(indexed)) as base:
        yield base


def stdio_server(settings: Settings) -> StdioServerParameters:
    """`cli.py mcp` of this checkout, in a child process, over the given index."""
    env = {"PYTHONPATH": str(REPO), "CA_DATA_DIR": str(settings.data_dir), "CA_EMBEDDING_MODEL": "small",
           "CA_MODELS_DIR": str(settings.models_dir), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return StdioServerParameters(command=sys.executable, args=["-m", "cli", "mcp"], env=env, cwd=REPO)


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A successful tool call's structured result."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def refusal(client: Client, tool: str, **arguments: Any) -> str:
    """A failed tool call's one-line message."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    [content] = result.content
    assert content.type == "text" and "\n" not in content.text
    return content.text


# --- the checks, the same over both transports ---------------------------------------------------------


async def check_tools(client: Client) -> None:
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == TOOLS
    for tool in listed.values():
        assert tool.description and tool.description.count(". ") == 0 and len(tool.description) < 250
    assert listed["ask"].input_schema["required"] == ["question"]
    assert set(listed["ask"].input_schema["properties"]) == {"question", "history", "filters"}
    assert set(listed["search"].input_schema["properties"]) == {"question", "k", "filters"}
    assert listed["get_document"].input_schema["required"] == ["doc_id"]
    output = listed["ask"].output_schema
    assert output is not None and set(output["properties"]) == set(AnswerOut.model_fields)


async def check_search(client: Client, doc_ids: set[str]) -> list[dict[str, Any]]:
    passages = (await call(client, "search", question=HANOI, k=3))["passages"]
    assert len(passages) == 3 and {p["doc_id"] for p in passages} <= doc_ids
    assert set(passages[0]) == set(PassageOut.model_fields)
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)
    assert "65 nations" in passages[0]["text"]  # the English report of the signing ranks first
    french = (await call(client, "search", question=HANOI, filters={"languages": ["fr"]}))["passages"]
    assert french and {p["language"] for p in french} == {"fr"}
    return passages


async def check_documents(client: Client, passages: list[dict[str, Any]]) -> None:
    for passage in passages:
        document = await call(client, "get_document", doc_id=passage["doc_id"])
        assert set(document) == set(DocumentOut.model_fields) and document["title"] == passage["title"]
        positions = [chunk["position"] for chunk in document["chunks"]]
        assert positions == sorted(positions)
        [chunk] = [c for c in document["chunks"] if c["chunk_id"] == passage["chunk_id"]]
        assert chunk["text"] == passage["text"]
    unknown = await refusal(client, "get_document", doc_id="0123456789abcdef")
    assert "No document with id '0123456789abcdef'" in unknown and "search" in unknown


async def check_ask(client: Client) -> dict[str, Any]:
    answer = await call(client, "ask", question=HANOI)
    assert set(answer) == set(AnswerOut.model_fields)
    assert answer["mode"] == "extractive" and not answer["abstained"] and answer["citations"]
    for cite in answer["citations"]:
        assert f"[{cite['n']}]" in answer["answer"]
        document = await call(client, "get_document", doc_id=cite["doc_id"])
        [chunk] = [c for c in document["chunks"] if c["chunk_id"] == cite["chunk_id"]]
        assert cite["quote"] in chunk["text"]
    follow_up = await call(client, "ask", question="And in France?", filters={"languages": ["fr"]},
                           history=[{"role": "user", "content": HANOI}])
    assert HANOI in follow_up["standalone_question"]  # the history reached the conversation state
    assert follow_up["citations"] and {c["language"] for c in follow_up["citations"]} == {"fr"}
    return answer


async def exercise(client: Client, doc_ids: set[str]) -> dict[str, Any]:
    """Every check in one session; returns the answer to HANOI."""
    await check_tools(client)
    await check_documents(client, await check_search(client, doc_ids))
    return await check_ask(client)


def indexed_doc_ids(settings: Settings, embedder: Embedder) -> set[str]:
    from assistant.index.store import ChunkStore

    return set(ChunkStore(settings, embedder).doc_states())


# --- over stdio: a child process started as an MCP client would ---------------------------------------


def test_stdio_server_answers_searches_and_fetches(indexed: Settings, small_embedder: Embedder) -> None:
    doc_ids = indexed_doc_ids(indexed, small_embedder)

    async def session() -> dict[str, Any]:
        async with Client(stdio_server(indexed), read_timeout_seconds=300) as client:
            return await exercise(client, doc_ids)

    answer = anyio.run(session)
    assert answer["question"] == HANOI


# --- over streamable HTTP, mounted in the web app ------------------------------------------------------


def answers_counted(web: str) -> float:
    """The app's count of extractive answers, from /metrics."""
    scraped = httpx.get(f"{web}/metrics", timeout=30).text
    found = re.search(r'^ca_answers_total\{mode="extractive"\} (\S+)$', scraped, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_http_endpoint_answers_as_the_json_api(web: str, indexed: Settings, small_embedder: Embedder) -> None:
    doc_ids = indexed_doc_ids(indexed, small_embedder)
    before = answers_counted(web)

    async def session() -> dict[str, Any]:
        async with Client(f"{web}/mcp") as client:
            return await exercise(client, doc_ids)

    answer = anyio.run(session)
    assert answers_counted(web) == before + 2  # the MCP answers went through the API's answer service
    api = httpx.post(f"{web}/api/ask", json={"question": HANOI}, timeout=120).json()
    for key in ("answer", "citations", "retrieved", "language", "abstained"):
        assert answer[key] == api[key]


@pytest.mark.parametrize(("tool", "arguments", "field"), [
    ("search", {"question": HANOI, "k": 0}, "(k: "),
    ("search", {"question": HANOI, "filters": {"languages": ["xx"]}}, "(filters.languages: "),
    ("ask", {"question": HANOI, "filters": {"language": ["fr"]}}, "(filters.language: "),
    ("ask", {"question": HANOI, "history": [{"role": "system", "content": "x"}]}, "(history.0.role: "),
    ("ask", {"question": "?!"}, "(question: no words)"),
    ("ask", {}, "(question: "),
])
def test_bad_arguments_get_one_line_naming_the_field(web: str, tool: str, arguments: dict[str, Any],
                                                     field: str) -> None:
    async def session() -> str:
        async with Client(f"{web}/mcp") as client:
            return await refusal(client, tool, **arguments)

    message = anyio.run(session)
    assert message.startswith(f"Error executing tool {tool}: The request is invalid {field}")
    assert message.endswith("fix it and send it again.")


def test_mcp_and_the_api_share_the_rate_limit(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(embedding_model="small", rate_limit_per_minute=2)
    with serve(create_app(settings, Services(settings, GatedAssistant(), EmptyStore()))) as base:
        assert httpx.post(f"{base}/api/ask", json={"question": "When?"}, timeout=30).status_code == 200

        async def session() -> tuple[dict[str, Any], str]:
            async with Client(f"{base}/mcp") as client:
                answered = await call(client, "ask", question="When?")
                return answered, await refusal(client, "ask", question="When?")

        answered, refused = anyio.run(session)
    assert answered["answer"] == "It enters into force after 90 days [1]."
    assert refused.startswith("Error executing tool ask: Too many questions from your address: wait ")


def test_http_endpoint_refuses_a_foreign_host_header(web: str) -> None:
    # DNS rebinding: a page on another name that resolves to 127.0.0.1 must not reach the tools
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Host": "attacker.example", "Accept": "application/json, text/event-stream"}
    refused = httpx.post(f"{web}/mcp", json=body, headers=headers, timeout=30)
    assert refused.status_code in (400, 403, 421)
    assert httpx.get(f"{web}/api/health", timeout=30).status_code == 200
