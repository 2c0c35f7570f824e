"""The generative answerer: any OpenAI-compatible chat model, prompted with numbered sources, streamed."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from assistant.answering.citations import ContextItem
from assistant.answering.prompts import PromptLibrary
from assistant.config import Settings
from assistant.errors import AssistantError, LLMError
from assistant.text.languages import language_name
from assistant.text.sanitize import StreamSanitizer, ThinkStripper, strip_think
from assistant.types import Turn

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["LLMAnswerer", "build_chat_model", "format_sources", "source_urls"]

log = logging.getLogger(__name__)

# History is context, not evidence: each earlier message is cut to this many characters.
_TURN_CHARS = 800
_CONDENSE_MAX_TOKENS = 96
_MARKER = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_EMPTY = "The language model returned an empty answer; try again, or use the extractive mode."
_LEADS = re.compile(r"^(?:standalone question|question|rewritten question)\s*:\s*", re.IGNORECASE)


def build_chat_model(settings: Settings, base_url: str | None = None) -> BaseChatModel | None:
    """A streaming ChatOpenAI for settings.llm_base_url (or `base_url`), or None when no endpoint is set."""
    url = base_url or settings.llm_base_url
    if not url:
        return None
    from langchain_openai import ChatOpenAI  # subtle: heavy import, only paid when an LLM is configured

    # local servers ignore the key, but the client refuses to start without one
    key = settings.llm_api_key.get_secret_value() or "not-needed"
    return ChatOpenAI(
        base_url=url,
        model=settings.llm_model or "local",
        api_key=key,  # type: ignore[arg-type]
        timeout=settings.llm_timeout_s,
        max_tokens=settings.llm_max_tokens,  # type: ignore[call-arg]
        temperature=0,
        streaming=True,
        max_retries=1,
    )


def _attr(value: str) -> str:
    return html.escape(" ".join(value.split()), quote=True)


def _body(text: str) -> str:
    # subtle: escaping every "<" means no document can write "</source>" and close its own delimiter.
    return text.replace("<", "&lt;").replace(">", "&gt;")


def format_sources(items: Sequence[ContextItem]) -> str:
    """The numbered context: one <source n=.. title=.. locator=.. language=..>text</source> per item."""
    blocks = []
    for item in items:
        chunk, doc = item.hit.chunk, item.hit.doc
        blocks.append(
            f'<source n="{item.n}" title="{_attr(doc.title)}" locator="{_attr(chunk.locator)}"'
            f' language="{_attr(doc.language)}">\n{_body(chunk.text.strip())}\n</source>'
        )
    return "\n".join(blocks)


def source_urls(items: Sequence[ContextItem]) -> list[str]:
    """The links an answer may contain: the URL of every source it was given."""
    urls = []
    for item in items:
        doc = item.hit.doc
        urls.append(doc.url)
        if doc.source.startswith(("http://", "https://")):
            urls.append(doc.source)
    return [u for u in dict.fromkeys(urls) if u]


def _content(message: Any) -> str:
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    # some providers send a list of typed parts; only text parts are the answer
    parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content or ()]
    return "".join(p for p in parts if isinstance(p, str))


def _to_llm_error(exc: Exception, settings: Settings, where: str) -> LLMError:
    """One sentence for the user; the provider's own message goes to the log only."""
    log.warning("LLM %s failed: %s: %s", where, type(exc).__name__, exc)
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return LLMError(
            f"The language model did not answer within {settings.llm_timeout_s:g} s; "
            "try again, or raise CA_LLM_TIMEOUT_S or use the extractive mode."
        )
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return LLMError(
            "The language model server cannot be reached; check that it is running and CA_LLM_BASE_URL."
        )
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return LLMError("The language model server refused the API key; check CA_LLM_API_KEY.")
    if isinstance(exc, openai.NotFoundError):
        return LLMError(
            "The language model server does not know this model or path; "
            "check CA_LLM_MODEL and CA_LLM_BASE_URL."
        )
    if isinstance(exc, openai.RateLimitError):
        return LLMError("The language model server is rate-limiting requests; wait a moment and try again.")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(
            f"The language model server failed with HTTP {exc.status_code}; "
            "try again later or use the extractive mode."
        )
    return LLMError(
        "The language model server sent a reply that is not a valid chat completion; "
        "check that CA_LLM_BASE_URL points to an OpenAI-compatible /v1 endpoint."
    )


class LLMAnswerer:
    """Writes cited answers from numbered sources with a chat model; output stripped of images and links."""

    def __init__(self, chat_model: BaseChatModel, prompts: PromptLibrary, settings: Settings) -> None:
        self.chat_model = chat_model
        self.prompts = prompts
        self.settings = settings

    def messages(
        self, question: str, language: str, items: Sequence[ContextItem], history: Sequence[Turn] = ()
    ) -> list[BaseMessage]:
        """The chat messages sent for one answer: system rules, bounded history, sources and question."""
        name = language_name(language)
        out: list[BaseMessage] = [SystemMessage(self.prompts.render("system", language=name).strip())]
        for turn in self._recent(history):
            # subtle: old [n] markers point to old sources; left in, they would be copied onto new ones.
            text = _MARKER.sub("", turn.content)[:_TURN_CHARS].strip()
            out.append(HumanMessage(text) if turn.role == "user" else AIMessage(text))
        sources = format_sources(items)
        prompt = self.prompts.render("answer", sources=sources, question=question, language=name)
        out.append(HumanMessage(prompt.strip()))
        return out

    def stream(
        self, question: str, language: str, items: Sequence[ContextItem], history: Sequence[Turn] = ()
    ) -> Iterator[str]:
        """Yield the answer as it is generated, already cleaned; LLMError if the model fails."""
        messages = self.messages(question, language, items, history)
        think, clean = ThinkStripper(), StreamSanitizer(source_urls(items))
        shown = False
        try:
            for chunk in self.chat_model.stream(messages):
                piece = clean.feed(think.feed(_content(chunk)))
                if piece:
                    shown = shown or bool(piece.strip())
                    yield piece
        except AssistantError:
            raise
        except Exception as exc:  # the provider's errors vary; each becomes one clear LLMError
            raise _to_llm_error(exc, self.settings, "stream") from None
        tail = clean.feed(think.flush()) + clean.flush()
        if tail.strip() or shown:
            yield tail
        else:
            # an endpoint that sends no chunks (or only reasoning) gives nothing to verify
            raise LLMError(_EMPTY)

    def condense(self, question: str, history: Sequence[Turn], scope: str = "") -> str:
        """The follow-up rewritten as a standalone question; the question unchanged if that fails."""
        recent = self._recent(history)
        if not recent:
            return question
        who = {"user": "User", "assistant": "Assistant"}
        lines = [f"{who[t.role]}: {_MARKER.sub('', t.content)[:_TURN_CHARS].strip()}" for t in recent]
        try:
            prompt = self.prompts.render("condense", history="\n".join(lines), question=question,
                                         scope=scope or "(none named)")
            reply = self.chat_model.invoke([HumanMessage(prompt)], max_tokens=_CONDENSE_MAX_TOKENS)
        except Exception as exc:  # condensing is an optimisation: answer the question as asked
            log.warning("condense failed, using the question as asked: %s: %s", type(exc).__name__, exc)
            return question
        rewritten = _first_line(strip_think(_content(reply)))
        if not rewritten or len(rewritten) > max(4 * len(question), 400):
            log.info("condense gave an unusable rewrite %r; using the question as asked", rewritten[:80])
            return question
        return rewritten

    def _recent(self, history: Sequence[Turn]) -> list[Turn]:
        return [t for t in history if t.content.strip()][-self.settings.history_turns :]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = _LEADS.sub("", line.strip()).strip().strip('"“”«»').strip()
        if line:
            return line
    return ""
