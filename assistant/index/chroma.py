"""The Chroma connection: an embedded folder or a server, and chromadb's failures as our errors.

The only module that imports chromadb; assistant/index/store.py builds on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import chromadb
import httpx
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from assistant.config import Settings
from assistant.errors import StoreError, StoreUnavailable

COSINE: CreateCollectionConfiguration = {"hnsw": {"space": "cosine"}}  # chunks and sentences alike


def connect(settings: Settings) -> Any:
    """An HTTP client when a server URL is set, else an embedded client on the data folder."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not settings.chroma_url:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    url = urlsplit(settings.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise StoreError(
            f"The index server URL {settings.chroma_url!r} is invalid: "
            "set CA_CHROMA_URL like http://127.0.0.1:8000."
        )
    ssl = url.scheme == "https"
    port = url.port or (443 if ssl else 8000)
    timeout = httpx.Timeout(settings.chroma_timeout_s)
    # subtle: chromadb's HTTP client is built with timeout=None and no setting changes it, and its
    # constructor already talks to the server; ask for a heartbeat first, bounded, so a hung server
    # fails here, then bound every later request on the client's own httpx session.
    httpx.get(f"{url.scheme}://{url.netloc}/api/v2/heartbeat", timeout=timeout)
    client = chromadb.HttpClient(host=url.hostname, port=port, ssl=ssl, settings=chroma_settings)
    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):
        raise StoreError(
            "This chromadb version hides its HTTP session, so requests to the index server cannot be "
            "given a timeout: install chromadb 1.5, the version this release is tested with."
        )
    session.timeout = timeout
    return client


@contextmanager
def guarded(url: str, location: str, timeout_s: float) -> Iterator[None]:
    """Translate chromadb and transport failures into our errors, one sentence each."""
    try:
        yield
    except StoreError:
        raise
    except httpx.TimeoutException as exc:
        raise StoreUnavailable(
            f"The index server at {url} did not answer within {timeout_s:g} s: check that it "
            "is healthy, or raise CA_CHROMA_TIMEOUT_S."
        ) from exc
    except (httpx.TransportError, ConnectionError) as exc:
        raise _unavailable(url, location) from exc
    except ValueError as exc:
        if "could not connect" in str(exc).lower():
            raise _unavailable(url, location) from exc
        raise StoreError(f"The index rejected a request ({exc}): check the data, or re-ingest.") from exc
    except (ChromaError, httpx.HTTPError, OSError, RuntimeError) as exc:
        raise StoreError(
            f"The index at {location} failed ({type(exc).__name__}: {exc}): "
            "check the folder or server, then retry."
        ) from exc


def _unavailable(url: str, location: str) -> StoreUnavailable:
    if url:
        return StoreUnavailable(
            f"The index server at {url} is unreachable: start it or fix CA_CHROMA_URL."
        )
    return StoreUnavailable(f"The index at {location} cannot be opened: check the folder.")
