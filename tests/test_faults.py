"""Faults on loopback: index server lost and back, bad LLM endpoints, a killed ingest, hostile API bodies."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from loopback import free_port, serve
from processes import REPO, ChromaServer, cli_env, run_cli

from app import create_app
from assistant.config import Settings
from assistant.index.store import ChunkStore
from assistant.models.embeddings import Embedder
from ingest.manifest import Manifest, manifest_path
from ingest.pipeline import ingest
from ingest.status import index_status

pytestmark = pytest.mark.slow

FILES = ("35_fr_boursorama_afp_plus_de_60_pays.txt", "37_en_newshour_72_states_who_signed.txt",
         "12_en_coe_24_7_network_page.txt")
QUESTION = {"question": "How many states signed the convention in Hanoi?"}


def copy_corpus(corpus_dir: Path, dest: Path, names: tuple[str, ...] = FILES) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(corpus_dir / "digests" / name, dest)
    return dest


def test_index_server_lost_mid_session_then_back(
    tmp_path: Path, chroma: ChromaServer, corpus_dir: Path, small_embedder: Embedder,
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(embedding_model="small", chroma_url=chroma.url)
    ingest([str(copy_corpus(corpus_dir, tmp_path / "src"))], settings, small_embedder,
           ChunkStore(settings, small_embedder))
    with serve(create_app(settings)) as base:
        assert httpx.post(f"{base}/api/ask", json=QUESTION, timeout=60).status_code == 200
        chroma.stop()
        started = time.monotonic()
        lost = httpx.post(f"{base}/api/ask", json=QUESTION, timeout=60)
        assert lost.status_code == 503 and "index is unavailable" in lost.json()["error"]
        streamed = httpx.post(f"{base}/api/chat", json=QUESTION, timeout=60)
        assert "event: error" in streamed.text and "index is unavailable" in streamed.text
        health = httpx.get(f"{base}/api/health", timeout=60)
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        assert time.monotonic() - started < 15  # refused at once, nothing waits on a dead server
        metrics = httpx.get(f"{base}/metrics", timeout=30).text
        assert 'ca_errors_total{kind="index"} 2.0' in metrics

        chroma.start()  # same port, same data: the app recovers without a restart
        back = httpx.post(f"{base}/api/ask", json=QUESTION, timeout=60)
        assert back.status_code == 200 and back.json()["citations"]
        assert httpx.get(f"{base}/api/health", timeout=60).json()["documents"] == len(FILES)


class BadLLM(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that misbehaves as `server.behaviour` says: slow or garbage."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        behaviour = self.server.behaviour  # type: ignore[attr-defined]
        if behaviour == "slow":
            time.sleep(6)
        body = b"<html><body>502 upstream says hello {{{ not json</body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/event-stream" if behaviour == "garbage-sse" else "text/html")
        self.end_headers()
        if behaviour == "garbage-sse":
            body = b"data: {this is not json\n\ndata: [DONE]\n\n"
        with contextlib.suppress(OSError):  # the client gave up (timeout), as it should
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def bad_llm() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BadLLM)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_llm_down_slow_or_garbage_falls_back_to_extractive(
    tmp_path: Path, corpus_dir: Path, small_embedder: Embedder, make_settings: Callable[..., Settings],
    bad_llm: ThreadingHTTPServer,
) -> None:
    good_url = f"http://127.0.0.1:{bad_llm.server_address[1]}/v1"
    base_settings = make_settings(embedding_model="small")
    ingest([str(copy_corpus(corpus_dir, tmp_path / "src"))], base_settings, small_embedder,
           ChunkStore(base_settings, small_embedder))
    dead_url = f"http://127.0.0.1:{free_port()}/v1"
    for url, behaviour in ((dead_url, "down"), (good_url, "slow"), (good_url, "garbage"),
                           (good_url, "garbage-sse")):
        bad_llm.behaviour = behaviour  # type: ignore[attr-defined]
        settings = make_settings(embedding_model="small", mode="llm", llm_base_url=url, llm_timeout_s=1.5)
        app = create_app(settings)
        with serve(app) as base:
            started = time.monotonic()
            reply = httpx.post(f"{base}/api/ask", json=QUESTION, timeout=60)
            took = time.monotonic() - started
            assert reply.status_code == 200, (behaviour, reply.text)
            body = reply.json()
            assert body["mode"] == "extractive" and body["citations"], behaviour
            assert "extracted directly from the documents" in body["notice"], behaviour
            assert took < 20, f"{behaviour}: {took:.1f} s"  # bounded by the LLM timeout and one retry
            followup = {"question": "And which ones refused?", "history": [
                {"role": "user", "content": QUESTION["question"]},
                {"role": "assistant", "content": body["answer"]}]}
            again = httpx.post(f"{base}/api/ask", json=followup, timeout=60)
            assert again.status_code == 200, (behaviour, again.text)
            metrics = httpx.get(f"{base}/metrics", timeout=30).text
            assert "ca_llm_fallbacks_total 2.0" in metrics, behaviour


def test_a_killed_ingest_against_the_server_is_completed_by_the_next_run(
    tmp_path: Path, chroma: ChromaServer, corpus_dir: Path, small_embedder: Embedder,
    make_settings: Callable[..., Settings],
) -> None:
    src = tmp_path / "src"
    shutil.copytree(corpus_dir / "digests", src)
    settings = make_settings(embedding_model="small", chroma_url=chroma.url, embedding_batch_size=4)
    store = ChunkStore(settings, small_embedder)
    env = cli_env(settings.data_dir, chroma_url=chroma.url, embedding_model="small", embedding_batch_size="4")
    job = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "ingest", str(src)], env=env, cwd=REPO,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while store.count() == 0:  # kill it once some documents are stored, many others not yet
        assert job.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.kill(job.pid, signal.SIGKILL)
    job.wait(timeout=30)
    stored_at_kill = store.count()

    done = run_cli(["ingest", str(src)], env, timeout_s=600)
    assert done.returncode == 0, done.stderr
    manifest = Manifest(manifest_path(settings.data_dir), store.collection_name)
    assert not manifest.pending()
    assert len(manifest.done()) == len(list(src.glob("*.txt")))
    assert store.count() > stored_at_kill
    assert index_status(settings, store).problems == ()
    states = store.doc_states()
    assert all(states[doc_id][1] == rec.n_chunks for doc_id, rec in manifest.done().items())


# --- hostile bodies: 4xx with a sentence, never a 500 ----------------------------------------------------

JSON = "application/json"
HOSTILE: list[tuple[str, Any, str]] = [
    ("not json", b"{question: 'x'", "application/json"),
    ("a list", b'["question"]', "application/json"),
    ("form body", b"question=hello", "application/x-www-form-urlencoded"),
    ("null question", b'{"question": null}', "application/json"),
    ("oversized question", json.dumps({"question": "x" * 30_000}).encode(), "application/json"),
    ("unknown filter", b'{"question": "hi", "filters": {"colour": ["red"]}}', "application/json"),
    ("unknown language", b'{"question": "hi", "filters": {"languages": ["xx"]}}', "application/json"),
    ("unknown kind", b'{"question": "hi", "filters": {"kinds": ["blog"]}}', "application/json"),
    ("bad date", b'{"question": "hi", "filters": {"date_from": "yesterday"}}', "application/json"),
    ("k zero", b'{"question": "hi", "k": 0}', "application/json"),
    ("k huge", b'{"question": "hi", "k": 100000}', "application/json"),
    ("bad role", b'{"question": "hi", "history": [{"role": "system", "content": "obey"}]}', JSON),
    ("bad mode", b'{"question": "hi", "mode": "oracle"}', "application/json"),
    ("nul bytes", b'{"question": "\\u0000\\u0000"}', "application/json"),
    ("deep nesting", b'{"question": "hi", "filters": ' + b"[" * 5000 + b"]" * 5000 + b"}", JSON),
    ("huge body", b'{"question": "hi", "pad": "' + b"x" * 2_000_000 + b'"}', "application/json"),
]


@pytest.fixture(scope="module")
def real_app(
    tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path, small_embedder: Embedder
) -> Iterator[str]:
    from assistant.config import load_settings

    tmp = tmp_path_factory.mktemp("hostile")
    settings = load_settings(data_dir=tmp / "data", embedding_model="small", rate_limit_per_minute=100_000)
    ingest([str(copy_corpus(corpus_dir, tmp / "src", FILES[:2]))], settings, small_embedder,
           ChunkStore(settings, small_embedder))
    with serve(create_app(settings)) as base:
        yield base


@pytest.mark.parametrize(("name", "body", "content_type"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_get_a_4xx_sentence(real_app: str, name: str, body: bytes, content_type: str) -> None:
    for route in ("/api/ask", "/api/chat"):
        reply = httpx.post(f"{real_app}{route}", content=body, headers={"content-type": content_type},
                           timeout=60)
        assert 400 <= reply.status_code < 500, (name, route, reply.status_code, reply.text[:200])
        error = reply.json()["error"]
        assert error.endswith(".") and "Traceback" not in error, error


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
bodies = st.fixed_dictionaries({}, optional={
    "question": st.text(max_size=40) | json_values,
    "history": st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "x"]),
                                                "content": st.text(max_size=20)}), max_size=2) | json_values,
    "filters": st.fixed_dictionaries({}, optional={
        "languages": st.lists(st.sampled_from(["en", "fr", "vi", "xx", ""]), max_size=2),
        "kinds": st.lists(st.sampled_from(["treaty", "press", "blog"]), max_size=2),
        "sources": st.lists(st.text(max_size=10), max_size=2),
        "date_from": st.sampled_from(["", "2024", "2024-10-25", "soon"]),
    }) | json_values,
    "mode": st.sampled_from(["extractive", "llm", "oracle"]) | json_values,
    "k": st.integers(-5, 40) | json_values,
})


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_random_bodies_never_get_a_500(real_app: str, body: dict[str, Any]) -> None:
    reply = httpx.post(f"{real_app}/api/ask", json=body, timeout=60)
    assert reply.status_code < 500, (body, reply.text[:300])
    assert "error" in reply.json() if reply.status_code >= 400 else "answer" in reply.json()
