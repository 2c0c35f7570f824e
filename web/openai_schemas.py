"""The OpenAI-compatible API's shapes: chat requests as clients send them, completions, chunks, models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from assistant.answering.citations import source_line
from assistant.types import Answer, Turn
from web.schemas import CitationOut
from web.strings import STRINGS

MODEL = "convention-assistant"
# model id -> answer mode (None: the server's CA_MODE); the -llm model is listed only when an LLM is set up
MODEL_MODES: dict[str, str | None] = {MODEL: None, f"{MODEL}-extractive": "extractive", f"{MODEL}-llm": "llm"}
MAX_TURNS = 40  # earlier messages kept as history, as /api/ask's `history` (the assistant reads fewer)
_MAX_CHARS = 20_000  # one message, as one /api/ask question or turn
_QUOTE_CHARS = 240  # longer quotes are shortened in the sources list; `citations` has them whole
_HEADINGS = tuple(sorted({row["sources_heading"] for row in STRINGS.values()}))


def model_ids(llm_ready: bool) -> list[str]:
    """The models this server offers: the assistant, its extractive mode, its LLM mode when configured."""
    return [name for name, mode in MODEL_MODES.items() if mode != "llm" or llm_ready]


class MessageIn(BaseModel):
    """One chat message; the content is a string or a list of text parts. Other keys are ignored."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]] | None = None

    @field_validator("content")
    @classmethod
    def _text_only(cls, value: str | list[dict[str, Any]] | None) -> str | list[dict[str, Any]] | None:
        if isinstance(value, list):
            for part in value:
                if part.get("type") != "text" or not isinstance(part.get("text"), str):
                    raise ValueError(f"only text parts are understood, not {str(part.get('type'))[:30]!r}: "
                                     "send the question as text")
        if len(cls.joined(value)) > _MAX_CHARS:
            raise ValueError(f"more than {_MAX_CHARS} characters")
        return value

    @staticmethod
    def joined(content: str | list[dict[str, Any]] | None) -> str:
        """The text of a content: the string, or its text parts joined by blank lines."""
        if content is None:
            return ""
        if isinstance(content, str):
            return content
        return "\n\n".join(str(part["text"]) for part in content)

    def text(self) -> str:
        """This message's text."""
        return self.joined(self.content)


class StreamOptionsIn(BaseModel):
    """`stream_options`: only `include_usage` is acted on."""

    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatIn(BaseModel):
    """A chat completion request; sampling knobs (temperature, max_tokens, stop...) are ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str = Field(min_length=1, max_length=200)
    messages: list[MessageIn] = Field(min_length=1, max_length=500)
    stream: bool | None = False
    stream_options: StreamOptionsIn | None = None
    n: int | None = Field(default=None, ge=1, le=1)

    def conversation(self) -> tuple[str, tuple[Turn, ...]] | None:
        """The last user message and the earlier user and assistant turns; None unless the user spoke last.

        System and developer messages are left out: the assistant answers only from its documents.
        """
        spoken = [m for m in self.messages if m.role in ("user", "assistant")]
        if not spoken or spoken[-1].role != "user":
            return None
        turns = tuple(Turn("user" if m.role == "user" else "assistant",
                           m.text() if m.role == "user" else without_sources(m.text()))
                      for m in spoken[:-1])
        return spoken[-1].text(), turns[-MAX_TURNS:]

    @property
    def include_usage(self) -> bool:
        """Whether a streamed answer ends with a usage chunk."""
        return self.stream_options is not None and self.stream_options.include_usage


def sources_text(answer: Answer, heading: str) -> str:
    """What follows the answer in the message: the notice, if any, then the numbered sources."""
    parts = [f"\n\n({answer.notice})"] if answer.notice else []
    if answer.citations:
        lines = (f"- {source_line(c, _QUOTE_CHARS)}" for c in answer.citations)
        parts.append(f"\n\n{heading}:\n" + "\n".join(lines))
    return "".join(parts)


def without_sources(content: str) -> str:
    """An earlier assistant message without the sources list this API appended to it."""
    cuts = [content.find(f"\n\n{heading}:\n- [") for heading in _HEADINGS]
    found = [cut for cut in cuts if cut >= 0]
    return content[: min(found)] if found else content


def token_estimate(text: str) -> int:
    """A rough token count: characters / 4, rounded up (no model tokenizer is involved)."""
    return (len(text) + 3) // 4


class ModelOut(BaseModel):
    """One model in /v1/models."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = MODEL


class ModelListOut(BaseModel):
    """GET /v1/models."""

    object: Literal["list"] = "list"
    data: list[ModelOut]


class UsageOut(BaseModel):
    """Estimated counts (token_estimate), not a tokenizer's."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, prompt: Sequence[str], completion: str) -> UsageOut:
        """The estimate for the texts read (question and history) and the text written."""
        asked, said = sum(token_estimate(t) for t in prompt), token_estimate(completion)
        return cls(prompt_tokens=asked, completion_tokens=said, total_tokens=asked + said)


class MessageOut(BaseModel):
    """The answer message: text with [n] markers and a sources list, plus `citations` (extension)."""

    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[CitationOut]


class ChoiceOut(BaseModel):
    """The one choice of a completion."""

    index: int = 0
    message: MessageOut
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class CompletionOut(BaseModel):
    """A whole chat completion (stream false)."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChoiceOut]
    usage: UsageOut


class DeltaOut(BaseModel):
    """A piece of the message; `citations` (extension) arrives with the last chunk."""

    role: Literal["assistant"] | None = None
    content: str | None = None
    citations: list[CitationOut] | None = None


class ChunkChoiceOut(BaseModel):
    """The one choice of a streamed chunk."""

    index: int = 0
    delta: DeltaOut
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None

    @field_serializer("delta")
    def _only_set(self, delta: DeltaOut) -> dict[str, Any]:
        return delta.model_dump(exclude_none=True)


class ChunkOut(BaseModel):
    """One `data:` line of a streamed completion."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoiceOut]
    usage: UsageOut | None = None
