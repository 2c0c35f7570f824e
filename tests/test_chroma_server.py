"""Server mode: a real `chroma run` on loopback; ingest and search through it, then lose it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.errors import StoreUnavailable
from assistant.store import ChunkStore
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
    hits = store.dense_search(query, k=3)
    assert hits and all(-1.0 <= score <= 1.0 for _, _, score in hits)
    assert hits[0][1].source == "src/12_en_coe_24_7_network_page.txt"
    only_fr = store.dense_search(query, k=3, filters=Filters(languages=("fr",)))
    assert {doc.language for _, doc, _ in only_fr} == {"fr"}

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
