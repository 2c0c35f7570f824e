"""Plain data shared by every stage: documents, chunks, hits, citations, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

KINDS: tuple[str, ...] = ("treaty", "press", "other")


@dataclass(frozen=True)
class DocMeta:
    """Document metadata, stored with every chunk of the document."""

    doc_id: str  # stable: derived from `source`
    source: str  # path or URL exactly as ingested
    title: str
    language: str  # ISO 639-1 (en, fr, vi, ar, es, ru, zh...)
    kind: str  # one of KINDS
    outlet: str = ""
    date: str = ""
    url: str = ""  # link a reader can open (URL header, or the source URL)
    content_hash: str = ""  # sha256 of the raw bytes
    extra: tuple[tuple[str, str], ...] = ()  # other header fields (VIEWPOINT, COMPLETENESS...)


@dataclass(frozen=True)
class Document:
    """One loaded source: metadata and its body text (NFC, never the header)."""

    meta: DocMeta
    text: str
    pages: tuple[tuple[int, int], ...] = ()  # (page number, char offset where it starts), PDFs


@dataclass(frozen=True)
class Chunk:
    """A passage of one document, stamped with its place in the legal structure."""

    chunk_id: str  # derived from doc_id, position and text; never random
    doc_id: str
    position: int  # 0-based order within the document
    text: str  # the quotable passage, a substring of Document.text
    heading: str = ""  # context shown to the embedder: title, chapter, article heading
    locator: str = ""  # human form, e.g. "Chapter II, Section 2, Article 16(2)"
    chapter: str = ""  # "II"
    section: str = ""  # "2"
    article: str = ""  # "16" (normalized number, "1" for "Article premier")
    paragraph: str = ""  # "2"
    page: int | None = None
    char_start: int = 0  # offsets of `text` in Document.text
    char_end: int = 0

    def embed_text(self) -> str:
        """The text that is embedded and indexed: heading as context, then the passage."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval; empty tuples mean no restriction."""

    languages: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # substrings of Document.source
    date_from: str = ""  # ISO date prefix, inclusive
    date_to: str = ""


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its document metadata and scores."""

    chunk: Chunk
    doc: DocMeta
    score: float  # fused score, higher is better
    dense_score: float | None = None  # cosine similarity, if found by dense search
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    """A verified pointer from an answer to a passage a reader can check."""

    n: int  # the marker number [n] used in the answer
    doc_id: str
    source: str
    title: str
    language: str
    locator: str
    quote: str  # occurs verbatim (after normalization) in the chunk
    url: str
    chunk_id: str
    outlet: str = ""
    date: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Answer:
    """What the assistant says, with everything needed to check it."""

    question: str
    language: str
    answer: str
    abstained: bool
    mode: str  # "extractive" or "llm"
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[tuple[str, float], ...] = ()  # ranked (chunk_id, score)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""  # the follow-up rewritten, when history was used
    notice: str = ""  # e.g. "the model's answer had no valid citation; showing the extractive answer"


@dataclass(frozen=True)
class StreamEvent:
    """One event of a streamed answer: tokens first, then the citations, then the final Answer."""

    kind: Literal["token", "citations", "final"]
    text: str = ""  # kind == "token"
    citations: tuple[Citation, ...] = ()  # kind == "citations"
    answer: Answer | None = None  # kind == "final"
