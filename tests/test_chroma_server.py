"""Server mode: a real `chroma run` on loopback; ingest and search through it, then lose it."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.errors import StoreUnavailable
from assistant.index.store import ChunkStore
from assistant.types import Filters
from ingest.pipeline import ingest

pytestmark = pytest.mark.slow

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path):
    """A Chroma server on a free loopback port with its data in tmp_path; yields (url, process)."""
    if not CHROMA.exists():
        pytest.skip("the chroma console script is not installed beside this Python")
    port = free_port()
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chroma run did not answer its heartbeat within 60 s")
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_ingest_and_search_through_a_server_then_lose_it(
    tmp_path, chroma_server, corpus_dir, small_embedder, make_settings
) -> None:
    url, proc = chroma_server
    src = tmp_path / "src"
    src.mkdir()
    for name in ("35_fr_boursorama_afp_plus_de_60_pays.txt", "12_en_coe_24_7_network_page.txt"):
        shutil.copy(corpus_dir / "digests" / name, src)
    settings = make_settings(embedding_model="small", chroma_url=url)
    store = ChunkStore(settings, small_embedder)
    assert store.location == url

    first = ingest([str(src)], settings, small_embedder, store)
    assert first.added == 2 and store.count() == first.chunks_written > 0
    assert not settings.chroma_dir.exists()  # nothing embedded locally: the server holds it all
    again = ingest([str(src)], settings, small_embedder, store)
    assert (again.unchanged, again.embedded_chunks) == (2, 0)

    query = small_embedder.embed_batch(["24/7 network of contact points"], "query")[0]
    hits = store.nearest_ids(query, k=3)
    assert hits and all(-1.0 <= score <= 1.0 for _, score in hits)
    assert store.get_chunks([hits[0][0]])[0][1].source == "src/12_en_coe_24_7_network_page.txt"
    only_fr = store.nearest_ids(query, k=3, filters=Filters(languages=("fr",)))
    assert {doc.language for _, doc in store.get_chunks([cid for cid, _ in only_fr])} == {"fr"}

    proc.terminate()
    proc.wait(timeout=30)
    with pytest.raises(StoreUnavailable, match=rf"The index server at {url} is unreachable: start it"):
        store.count()
    with pytest.raises(StoreUnavailable, match="fix CA_CHROMA_URL"):
        ChunkStore(settings, small_embedder)


def test_nothing_listening_is_unavailable(make_settings, small_embedder) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailable, match=f"The index server at {url} is unreachable"):
        ChunkStore(make_settings(embedding_model="small", chroma_url=url), small_embedder)


@pytest.fixture
def hung_server():
    """A loopback TCP server that accepts connections and never answers; yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)  # held open, never read from nor written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_hung_server_fails_within_the_timeout(hung_server, make_settings, small_embedder) -> None:
    settings = make_settings(embedding_model="small", chroma_url=hung_server, chroma_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=rf"The index server at {hung_server} did not answer within 1"):
        ChunkStore(settings, small_embedder)
    assert time.monotonic() - started < 5


def test_a_server_that_hangs_later_fails_within_the_timeout(
    chroma_server, make_settings, small_embedder
) -> None:
    url, proc = chroma_server
    store = ChunkStore(make_settings(embedding_model="small", chroma_url=url, chroma_timeout_s=1.0),
                       small_embedder)  # fmt: skip
    assert store.count() == 0
    proc.send_signal(signal.SIGSTOP)  # alive, connection accepted by the kernel, never answering
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="did not answer within 1"):
            store.count()
        assert time.monotonic() - started < 5
    finally:
        proc.send_signal(signal.SIGCONT)
