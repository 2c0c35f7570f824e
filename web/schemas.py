"""The API's request and answer shapes as pydantic models: validated input, one documented output."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.text.languages import CORE_LANGUAGES, KNOWN_LANGUAGES
from assistant.types import Answer, Chunk, Citation, DocMeta, Filters, Hit, Turn

_DATE = r"^(\d{4}(-\d{2}(-\d{2})?)?)?$"


class TurnIn(BaseModel):
    """One earlier exchange."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class FiltersIn(BaseModel):
    """Retrieval filters; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")
    languages: list[str] = Field(default_factory=list, max_length=10)
    kinds: list[Literal["treaty", "press", "other"]] = Field(default_factory=list, max_length=3)
    sources: list[str] = Field(default_factory=list, max_length=10)
    date_from: str = Field(default="", pattern=_DATE)
    date_to: str = Field(default="", pattern=_DATE)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        # subtle: checked here, not only by the Assistant, so /api/chat refuses before its stream starts
        unknown = [code for code in value if code not in KNOWN_LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language {', '.join(unknown)[:60]}; use ISO 639-1 codes such as "
                             f"{', '.join(CORE_LANGUAGES)}")
        return value

    def to_filters(self) -> Filters:
        """The retrieval Filters."""
        return Filters(languages=tuple(self.languages), kinds=tuple(self.kinds),
                       sources=tuple(s[:200] for s in self.sources), date_from=self.date_from,
                       date_to=self.date_to)


class AskIn(BaseModel):
    """A question with its conversation, filters and answer mode."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=20_000)
    history: list[TurnIn] = Field(default_factory=list, max_length=40)
    filters: FiltersIn = Field(default_factory=lambda: FiltersIn())
    mode: Literal["extractive", "llm"] | None = None
    k: int | None = Field(default=None, ge=1, le=30)

    def turns(self) -> tuple[Turn, ...]:
        """The history as Turns."""
        return tuple(Turn(t.role, t.content) for t in self.history)


class FeedbackIn(BaseModel):
    """A thumbs up or down on one answer."""

    model_config = ConfigDict(extra="forbid")
    rating: Literal["up", "down"]
    question: str = Field(max_length=20_000)
    answer: str = Field(max_length=50_000)
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=30)
    comment: str = Field(default="", max_length=2_000)


class CitationOut(BaseModel):
    """A verified citation: marker number, document, locator, the quoted passage and its link."""

    n: int
    doc_id: str
    chunk_id: str
    source: str
    title: str
    language: str
    locator: str
    quote: str
    url: str
    outlet: str
    date: str
    kind: str

    @classmethod
    def of(cls, c: Citation) -> CitationOut:
        """The output form of a Citation."""
        return cls(n=c.n, doc_id=c.doc_id, chunk_id=c.chunk_id, source=c.source, title=c.title,
                   language=c.language, locator=c.locator, quote=c.quote, url=c.url, outlet=c.outlet,
                   date=c.date, kind=c.kind)


class RetrievedOut(BaseModel):
    """One retrieved passage and its fused score."""

    chunk_id: str
    score: float


class AnswerOut(BaseModel):
    """The documented answer: the text with [n] markers, its citations, and how it was made."""

    question: str
    language: str
    answer: str
    abstained: bool
    mode: str
    citations: list[CitationOut]
    retrieved: list[RetrievedOut]
    timings_ms: dict[str, float]
    notice: str
    standalone_question: str

    @classmethod
    def of(cls, answer: Answer) -> AnswerOut:
        """The output form of an Answer."""
        return cls(question=answer.question, language=answer.language, answer=answer.answer,
                   abstained=answer.abstained, mode=answer.mode,
                   citations=[CitationOut.of(c) for c in answer.citations],
                   retrieved=[RetrievedOut(chunk_id=cid, score=round(score, 6))
                              for cid, score in answer.retrieved],
                   timings_ms=dict(answer.timings_ms), notice=answer.notice,
                   standalone_question=answer.standalone_question)


class PassageOut(BaseModel):
    """One passage a search found: its text, where it stands, its document and its fused score."""

    text: str
    locator: str
    title: str
    language: str
    url: str
    source: str
    doc_id: str
    chunk_id: str
    score: float

    @classmethod
    def of(cls, hit: Hit) -> PassageOut:
        """The output form of a Hit."""
        return cls(text=hit.chunk.text, locator=hit.chunk.locator, title=hit.doc.title,
                   language=hit.doc.language, url=hit.doc.url, source=hit.doc.source, doc_id=hit.doc.doc_id,
                   chunk_id=hit.chunk.chunk_id, score=round(hit.score, 6))


class SearchOut(BaseModel):
    """The passages found for a question, best first."""

    passages: list[PassageOut]


class ChunkOut(BaseModel):
    """One chunk of a document, in document order, with its offsets in the document's text."""

    chunk_id: str
    position: int
    locator: str
    text: str
    page: int | None
    char_start: int
    char_end: int


class DocumentOut(BaseModel):
    """An indexed source: its metadata and all its chunks in order."""

    doc_id: str
    source: str
    title: str
    language: str
    kind: str
    outlet: str
    date: str
    url: str
    chunks: list[ChunkOut]

    @classmethod
    def of(cls, meta: DocMeta, chunks: list[Chunk]) -> DocumentOut:
        """The output form of a document and its chunks."""
        return cls(doc_id=meta.doc_id, source=meta.source, title=meta.title, language=meta.language,
                   kind=meta.kind, outlet=meta.outlet, date=meta.date, url=meta.url,
                   chunks=[ChunkOut(chunk_id=c.chunk_id, position=c.position, locator=c.locator,
                                    text=c.text, page=c.page, char_start=c.char_start, char_end=c.char_end)
                           for c in chunks])


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer as the JSON the API, the stream's final event and the CLI's --json print."""
    return AnswerOut.of(answer).model_dump()


def citations_json(citations: tuple[Citation, ...]) -> list[dict[str, Any]]:
    """Citations in the same shape as inside an answer (the stream's citations event)."""
    return [CitationOut.of(c).model_dump() for c in citations]
