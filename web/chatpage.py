"""The Gradio chat page: streamed answers in the reader's language, clickable citations, feedback, admin."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr
from fastapi import FastAPI

from assistant.answering.service import AnswerService, AskRequest
from assistant.config import Settings
from assistant.errors import Busy, InputError, RateLimited, StoreUnavailable
from assistant.text.languages import CORE_LANGUAGES
from assistant.types import Answer, Filters, Turn
from assistant.wiring import Services
from web.admin import admin_tab
from web.feedback import FeedbackLog
from web.markup import CITE_FRAGMENT, as_text, cited_markdown, source_choice, source_html, status_line
from web.schemas import citations_json
from web.strings import STRINGS, text, ui_language
from web.wording import Wording

log = logging.getLogger(__name__)
LANGUAGE_CHOICES = list(CORE_LANGUAGES)
KIND_CHOICES = ["treaty", "press", "other"]
CSS = """
.ca-source mark { background: #fde68a; color: inherit; }
.ca-source .ca-chunk { white-space: pre-wrap; border-left: 3px solid #94a3b8; padding-left: .6em; }
.ca-source dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em .8em; }
"""


# subtle: the page's words come from our Python, not from gr.I18n: Gradio's frontend takes its locale
# from the browser alone (no override from the URL or the page) and only among the locales Gradio ships,
# which lack Vietnamese. One Radio holds the page language: the load event sets it (?lang=, else the
# browser's Accept-Language), its .input re-words every component with gr.update, and every event reads
# it, so the status line, the panel and the error sentences follow the reader's choice too.
READ_LANG = "(lang, ...rest) => [new URLSearchParams(location.search).get('lang') || '', ...rest]"
MARK_LANG = "(lang) => { document.documentElement.lang = lang; }"
REMEMBER_LANG = """(lang, ...rest) => {
  document.documentElement.lang = lang;
  const url = new URL(location.href);  // a reload or a shared link keeps the chosen language
  url.searchParams.set("lang", lang);
  history.replaceState(null, "", url);
  return [lang, ...rest];
}"""
# subtle: a citation marker is a link to #ca-cite-N built by cited_markdown, and this one delegated
# listener (capture phase: before the chatbot's own handlers, and it survives Gradio re-rendering the
# messages) turns its click into a click on choice N of #ca-sources, so the panel opens through the same
# event as a direct click and no HTML of ours is ever mixed into the sanitized answer.
PAGE_JS = "() => {\n  const prefix = " + json.dumps(CITE_FRAGMENT) + ";\n" + """\
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest(`#ca-chat a[href^="${prefix}"]`);
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const n = link.getAttribute("href").slice(prefix.length);
    const choice = document.querySelector(`#ca-sources input[type=radio][value="${CSS.escape(n)}"]`);
    if (!choice) return;
    if (!choice.checked) choice.click();
    document.getElementById("ca-panel")?.scrollIntoView({block: "nearest", behavior: "smooth"});
  }, true);
}"""


def _examples(lang: str) -> list[list[str]]:
    return [[text(lang, f"example_{i}")] for i in range(1, 5)]


def _accept_language(request: gr.Request | None) -> str:
    headers = getattr(request, "headers", None) or {}
    return str(headers.get("accept-language", ""))


class _Chat:
    """The chat page's event handlers; each reads the page language from the language selector."""

    def __init__(self, services: Services, answers: AnswerService, feedback: FeedbackLog,
                 wording: Wording) -> None:
        self.settings, self.store = services.settings, services.store
        self.answers, self.feedback, self.wording = answers, feedback, wording

    def settle(self, chat: list[dict[str, Any]], turns: list[dict[str, Any]], question: str,
               answer: Answer, lang: str) -> tuple[Any, ...]:
        """The outputs once an answer is final: linked markers, its sources, the status line."""
        cites = citations_json(answer.citations)
        if turns and turns[-1]["index"] < len(chat):
            # the sources list holds the latest answer's citations only, so older markers stop being links
            chat[turns[-1]["index"]] = {"role": "assistant", "content": as_text(turns[-1]["answer"])}
        chat[-1] = {"role": "assistant", "content": cited_markdown(answer.answer, (c["n"] for c in cites))}
        turns = [*turns, {"question": question, "answer": answer.answer, "citations": cites,
                          "index": len(chat) - 1, "mode": answer.mode, "notice": answer.notice}]
        choices = [(source_choice(c), str(c["n"])) for c in cites]
        return (chat, turns[-self.settings.history_turns :], gr.update(choices=choices, value=None),
                status_line(lang, answer.mode, answer.notice), text(lang, "no_source"), "")

    async def respond(self, question: str, chat: list[dict[str, Any]], turns: list[dict[str, Any]],
                      languages: list[str], kinds: list[str], mode: str, lang: str,
                      request: gr.Request):  # type: ignore[no-untyped-def]
        """Stream one answer through the answer service into the chat."""
        question = (question or "").strip()[: self.settings.max_question_chars]
        if not question:
            yield chat, turns, gr.update(), gr.update(), gr.update(), question
            return
        history: list[Turn] = []
        for turn in turns:
            history += [Turn("user", turn["question"]), Turn("assistant", turn["answer"])]
        chat = [*chat, {"role": "user", "content": as_text(question)}, {"role": "assistant", "content": ""}]
        yield chat, turns, gr.update(), gr.update(), gr.update(), ""
        asked = AskRequest(question, tuple(history), Filters(languages=tuple(languages or ()),
                                                              kinds=tuple(kinds or ())), mode or None,
                           client=request.client.host if request and request.client else "unknown")
        streamed = ""
        try:
            admission = await self.answers.admit(asked)
            async for event in self.answers.run(admission):
                if event.kind == "token":
                    streamed += event.text
                    chat[-1] = {"role": "assistant", "content": as_text(streamed)}
                    yield chat, turns, gr.update(), gr.update(), gr.update(), ""
                elif event.kind == "final" and event.answer is not None:
                    yield self.settle(chat, turns, question, event.answer, lang)
        except RateLimited as exc:
            chat[-1] = {"role": "assistant", "content": as_text(text(lang, "err_rate",
                                                                     seconds=exc.retry_after))}
            yield chat, turns, gr.update(choices=[], value=None), "", gr.update(), ""
        except Exception as exc:  # counted and logged by the service; the reader gets one sentence
            key = ("err_busy" if isinstance(exc, Busy) else "err_store" if isinstance(exc, StoreUnavailable)
                   else "err_input" if isinstance(exc, InputError) else "err_internal")
            chat[-1] = {"role": "assistant", "content": as_text(text(lang, key))}
            yield chat, turns, gr.update(choices=[], value=None), "", gr.update(), ""

    def show_source(self, picked: str | None, turns: list[dict[str, Any]], lang: str) -> str:
        """The panel of the picked citation of the latest answer."""
        if not picked or not turns:
            return text(lang, "no_source")
        cite = next((c for c in turns[-1]["citations"] if str(c["n"]) == picked), None)
        if cite is None:
            return text(lang, "no_source")
        found = self.store.get_chunks([cite["chunk_id"]])
        return source_html(cite, found[0][0].text if found else "", lang)

    def reword(self, lang: str, turns: list[dict[str, Any]], picked: str | None) -> list[Any]:
        """The selector, every worded component, the status line and the panel in `lang`."""
        lang = ui_language(lang or "")
        last = turns[-1] if turns else None
        return [gr.update(value=lang, label=text(lang, "ui_language")), *self.wording.updates(lang),
                status_line(lang, last["mode"], last["notice"]) if last else "",
                self.show_source(picked, turns, lang) if last else ""]

    def start(self, asked: str, turns: list[dict[str, Any]], picked: str | None,
              request: gr.Request) -> list[Any]:
        """On page load: ?lang= (read by READ_LANG in the browser), else the browser's languages."""
        return self.reword(ui_language(f"{asked or ''},{_accept_language(request)}"), turns, picked)

    def vote(self, turns: list[dict[str, Any]], data: gr.LikeData) -> None:
        """Record a thumbs up or down on an answer."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = next((t for t in turns if t.get("index") == index), None)
        if turn is None:
            return
        rating = "up" if data.liked is True or data.liked == "Like" else "down"
        self.feedback.record(rating, turn["question"], turn["answer"], turn["citations"], source="ui")


@dataclass
class _Parts:
    """The components the chat page's events read and write."""

    page_lang: gr.Radio
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    clear: gr.Button
    status: gr.Markdown
    filters: list[Any]  # document languages, kinds, answer mode
    sources: gr.Radio
    panel: gr.HTML


def _layout(wording: Wording, settings: Settings) -> _Parts:
    """The header with the language selector, and the chat tab; words registered in `wording`."""
    first = wording.first
    with gr.Row(equal_height=False):
        with gr.Column(scale=4):
            wording.add(gr.Markdown("# " + text(first, "title")),
                        lambda lang: {"value": "# " + text(lang, "title")})
            wording.make(gr.Markdown, {"value": "subtitle"})
        # each language under its own name, all in sight: a reader finds theirs without reading ours
        page_lang = gr.Radio([(text(code, "language_name"), code) for code in STRINGS], value=first,
                             label=text(first, "ui_language"), elem_id="ca-lang", scale=1)
    with wording.make(gr.Tab, {"label": "chat_tab"}, elem_id="ca-chat-tab"), gr.Row():
        with gr.Column(scale=3):
            chatbot = wording.make(gr.Chatbot, {"label": "title"}, height=460, sanitize_html=True,
                                   allow_tags=False, render_markdown=True, latex_delimiters=[],
                                   feedback_options=("Like", "Dislike"), elem_id="ca-chat")
            box = wording.make(gr.Textbox, {"label": "question", "placeholder": "placeholder"}, lines=2,
                               max_length=settings.max_question_chars, elem_id="ca-question")
            with gr.Row():
                send = wording.make(gr.Button, {"value": "send"}, variant="primary", elem_id="ca-send")
                clear = wording.make(gr.Button, {"value": "clear"}, elem_id="ca-clear")
            status = gr.Markdown(elem_id="ca-status")
            examples = gr.Examples(_examples(first), inputs=box, label=text(first, "examples"))
            wording.add(examples.dataset, lambda lang: {"samples": _examples(lang),
                                                        "label": text(lang, "examples")})
            with wording.make(gr.Accordion, {"label": "filters"}, open=False):
                filters = [wording.make(gr.CheckboxGroup, {"label": "languages"}, choices=LANGUAGE_CHOICES),
                           wording.make(gr.CheckboxGroup, {"label": "kinds"}, choices=KIND_CHOICES),
                           wording.make(gr.Radio, {"label": "mode"}, choices=["extractive", "llm"],
                                        value=settings.mode)]
        with gr.Column(scale=2):
            sources = wording.make(gr.Radio, {"label": "sources"}, choices=[], elem_id="ca-sources")
            panel = wording.make(gr.HTML, {"label": "source_panel"}, elem_id="ca-panel")
    return _Parts(page_lang, chatbot, box, send, clear, status, filters, sources, panel)


def build_ui(services: Services, answers: AnswerService, feedback: FeedbackLog) -> gr.Blocks:
    """The chat page (and the admin tab when CA_ADMIN_TOKEN is set); it answers through `answers`."""
    wording = Wording()
    chat = _Chat(services, answers, feedback, wording)
    with gr.Blocks(title="Convention Assistant", fill_width=True) as ui:
        parts = _layout(wording, services.settings)
        turns = gr.State([])
        if services.settings.admin_token.get_secret_value():
            admin_tab(services, wording, parts.page_lang)
        outputs = [parts.chatbot, turns, parts.sources, parts.status, parts.panel, parts.box]
        inputs = [parts.box, parts.chatbot, turns, *parts.filters, parts.page_lang]
        # subtle: no Gradio queue limit of its own; the answer service's gate bounds concurrent answers
        parts.send.click(chat.respond, inputs, outputs, concurrency_limit=None)
        parts.box.submit(chat.respond, inputs, outputs, concurrency_limit=None)
        parts.clear.click(lambda: ([], [], gr.update(choices=[], value=None), "", ""), None,
                          [parts.chatbot, turns, parts.sources, parts.status, parts.panel])
        parts.sources.change(chat.show_source, [parts.sources, turns, parts.page_lang], parts.panel)
        parts.chatbot.like(chat.vote, [turns], None)
        # after the admin tab, so its components are worded too
        worded = [parts.page_lang, *wording.blocks, parts.status, parts.panel]
        state = [parts.page_lang, turns, parts.sources]
        # subtle: preprocess=False, since READ_LANG hands the selector the raw ?lang= text (or ""), which
        # the Radio would refuse as not one of its choices; start() only passes it to ui_language
        ui.load(chat.start, state, worded, js=READ_LANG, preprocess=False, concurrency_limit=None).then(
            None, [parts.page_lang], None, js=MARK_LANG)
        parts.page_lang.input(chat.reword, state, worded, js=REMEMBER_LANG, concurrency_limit=None)
    return ui


def mount_ui(app: FastAPI, ui: gr.Blocks) -> None:
    """Serve the chat page at / with a theme that needs no web fonts (the page works offline)."""
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    gr.mount_gradio_app(app, ui, path="/", theme=theme, css=CSS, js=PAGE_JS, footer_links=["api"],
                        show_error=False)
