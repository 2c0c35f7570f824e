"""Fetch one http(s) URL for ingestion: redirects followed, size capped, content type checked."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import httpx

from assistant.config import Settings
from assistant.errors import IngestError

log = logging.getLogger(__name__)

USER_AGENT = "convention-assistant/0.1 (document ingestion)"

# content type -> the format we parse it as
CONTENT_TYPES: dict[str, str] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
# httpx's timeout bounds each read; a server trickling bytes is bounded by this many timeouts in all
_TOTAL_BUDGET = 4
# servers that cannot tell: trust the address's extension instead
_GENERIC_TYPES = ("application/octet-stream", "binary/octet-stream", "")


@dataclass(frozen=True)
class Fetched:
    """The body of a fetched URL and how to parse it."""

    url: str  # after redirects
    raw: bytes
    fmt: str  # "html" | "pdf" | "txt" | "md" | "docx"
    charset: str = ""


def _format_for(content_type: str, url: str) -> str | None:
    """The format a content type (or, for generic types, the URL's extension) stands for."""
    mime = content_type.split(";")[0].strip().lower()
    if mime in CONTENT_TYPES:
        return CONTENT_TYPES[mime]
    if mime in _GENERIC_TYPES:
        path = httpx.URL(url).path.lower()
        for ext, fmt in (
            (".pdf", "pdf"),
            (".docx", "docx"),
            (".html", "html"),
            (".htm", "html"),
            (".txt", "txt"),
            (".md", "md"),
        ):
            if path.endswith(ext):
                return fmt
    return None


def fetch(url: str, settings: Settings) -> Fetched:
    """GET `url` within settings.url_timeout_s and settings.max_file_mb, or raise IngestError."""
    limit = int(settings.max_file_mb * 1024 * 1024)
    timeout = settings.url_timeout_s
    try:
        client = httpx.Client(follow_redirects=True, timeout=timeout, headers={"User-Agent": USER_AGENT})
        with client, client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise IngestError(
                    f"{url}: the server answered HTTP {response.status_code}; "
                    "check the address or download the page yourself."
                )
            content_type = response.headers.get("content-type", "")
            final_url = str(response.url)
            fmt = _format_for(content_type, final_url)
            if fmt is None:
                raise IngestError(
                    f"{url}: unsupported content type {content_type.split(';')[0] or 'unknown'}; "
                    "only HTML, PDF, DOCX, Markdown and plain text pages can be ingested."
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_big(url, settings)
            chunks: list[bytes] = []
            size = 0
            deadline = time.monotonic() + _TOTAL_BUDGET * timeout
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise _too_big(url, settings)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("download budget exceeded")
                chunks.append(chunk)
            charset = response.charset_encoding or ""
    except httpx.TimeoutException:
        raise IngestError(
            f"{url}: no answer within {timeout:g} s; try again later or raise CA_URL_TIMEOUT_S."
        ) from None
    except httpx.TooManyRedirects:
        raise IngestError(
            f"{url}: too many redirects; open it in a browser and ingest the final address."
        ) from None
    except httpx.HTTPError as exc:
        raise IngestError(
            f"{url}: cannot be fetched ({type(exc).__name__}); check the address and the network."
        ) from None
    log.info("fetched %s (%d bytes, %s)", final_url, size, fmt)
    return Fetched(url=final_url, raw=b"".join(chunks), fmt=fmt, charset=charset)


def _too_big(url: str, settings: Settings) -> IngestError:
    return IngestError(
        f"{url}: larger than {settings.max_file_mb:g} MB; download and split it, or raise CA_MAX_FILE_MB."
    )
