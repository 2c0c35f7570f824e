"""The Gradio chat page: streamed answers, a clickable source panel, filters, feedback and an admin tab."""

from __future__ import annotations

import hmac
import html
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI

from assistant.answering.service import AnswerService, AskRequest
from assistant.errors import AssistantError, Busy, InputError, RateLimited, StoreUnavailable
from assistant.index.store import ChunkStore
from assistant.types import Filters, Turn
from assistant.wiring import Services
from web.feedback import FeedbackLog
from web.schemas import citations_json
from web.strings import EXAMPLES, STRINGS, text, ui_language

log = logging.getLogger(__name__)
LANGUAGE_CHOICES = ["en", "fr", "vi", "ar", "es", "ru", "zh"]
KIND_CHOICES = ["treaty", "press", "other"]
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark
CSS = """
.ca-source mark { background: #fde68a; color: inherit; }
.ca-source .ca-chunk { white-space: pre-wrap; border-left: 3px solid #94a3b8; padding-left: .6em; }
.ca-source dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em .8em; }
"""


def as_text(value: str) -> str:
    """Markdown that displays `value` literally: no HTML, links, images, emphasis or math can form."""
    # subtle: CommonMark lets a backslash escape any ASCII punctuation, and marked's autolinker needs an
    # unbroken "http://" or "www.", so escaping every mark turns all constructs into plain characters.
    return _PUNCT.sub(r"\\\1", value)


def _safe_url(url: str) -> str:
    return url if re.match(r"^https?://[^\s\"'<>]+$", url or "") else ""


def source_html(citation: dict[str, Any], chunk_text: str, lang: str) -> str:
    """The side panel of one citation, built from escaped text only; the quote is highlighted."""
    esc = html.escape
    quote = citation.get("quote", "")
    at = chunk_text.find(quote) if quote else -1
    if at < 0 and quote:
        at = chunk_text.lower().find(quote.lower())
    if at >= 0:
        body = (esc(chunk_text[:at]) + "<mark>" + esc(chunk_text[at : at + len(quote)]) + "</mark>"
                + esc(chunk_text[at + len(quote) :]))
    else:
        body = "<mark>" + esc(quote) + "</mark>" + ("<br><br>" + esc(chunk_text) if chunk_text else "")
    rows = [("Title", citation.get("title", "")), ("Outlet", citation.get("outlet", "")),
            ("Kind", citation.get("kind", "")), ("Date", citation.get("date", "")),
            ("Language", citation.get("language", "")), ("Where", citation.get("locator", "")),
            ("Source", citation.get("source", ""))]
    details = "".join(f"<dt>{esc(k)}</dt><dd>{esc(str(v))}</dd>" for k, v in rows if v)
    url = _safe_url(citation.get("url", ""))
    link = (f'<p><a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f'{esc(text(lang, "open_original"))}</a></p>' if url else "")
    return (f'<div class="ca-source" data-n="{int(citation.get("n", 0))}"><h3>[{int(citation.get("n", 0))}] '
            f'{esc(citation.get("title", ""))}</h3><dl>{details}</dl>'
            f'<div class="ca-chunk">{body}</div>{link}</div>')


def _choice(c: dict[str, Any]) -> str:
    where = f" — {c['locator']}" if c.get("locator") else ""
    return f"[{c['n']}] {c.get('title', '')[:90]}{where}"


def build_ui(services: Services, answers: AnswerService, feedback: FeedbackLog) -> gr.Blocks:
    """The chat page (and the admin tab when CA_ADMIN_TOKEN is set); it answers through `answers`."""
    settings, store = services.settings, services.store
    i18n = gr.I18n(**STRINGS)

    def lang_of(request: gr.Request | None) -> str:
        headers = getattr(request, "headers", None) or {}
        return ui_language(headers.get("accept-language", ""))

    async def respond(question: str, chat: list[dict[str, Any]], turns: list[dict[str, Any]],
                      languages: list[str], kinds: list[str], mode: str, request: gr.Request):  # type: ignore[no-untyped-def]
        question = (question or "").strip()[: settings.max_question_chars]
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
            admission = await answers.admit(asked)
            async for event in answers.run(admission):
                if event.kind == "token":
                    streamed += event.text
                    chat[-1] = {"role": "assistant", "content": as_text(streamed)}
                    yield chat, turns, gr.update(), gr.update(), gr.update(), ""
                elif event.kind == "final" and event.answer is not None:
                    answer = event.answer
                    cites = citations_json(answer.citations)
                    chat[-1] = {"role": "assistant", "content": as_text(answer.answer)}
                    turns = [*turns, {"question": question, "answer": answer.answer, "citations": cites,
                                      "index": len(chat) - 1}][-settings.history_turns :]
                    status = f"**{text(lang_of(request), 'mode')}:** {as_text(answer.mode)}"
                    if answer.notice:
                        status += f" — {as_text(answer.notice)}"
                    choices = [(_choice(c), str(c["n"])) for c in cites]
                    yield (chat, turns, gr.update(choices=choices, value=None), status,
                           text(lang_of(request), "no_source"), "")
        except RateLimited as exc:
            chat[-1] = {"role": "assistant", "content": as_text(text(lang_of(request), "err_rate",
                                                                     seconds=exc.retry_after))}
            yield chat, turns, gr.update(choices=[], value=None), "", gr.update(), ""
        except Exception as exc:  # counted and logged by the service; the reader gets one sentence
            key = ("err_busy" if isinstance(exc, Busy) else "err_store" if isinstance(exc, StoreUnavailable)
                   else "err_input" if isinstance(exc, InputError) else "err_internal")
            chat[-1] = {"role": "assistant", "content": as_text(text(lang_of(request), key))}
            yield chat, turns, gr.update(choices=[], value=None), "", gr.update(), ""

    def show_source(picked: str | None, turns: list[dict[str, Any]], request: gr.Request) -> str:
        lang = lang_of(request)
        if not picked or not turns:
            return text(lang, "no_source")
        cite = next((c for c in turns[-1]["citations"] if str(c["n"]) == picked), None)
        if cite is None:
            return text(lang, "no_source")
        found = store.get_chunks([cite["chunk_id"]])
        return source_html(cite, found[0][0].text if found else "", lang)

    def vote(turns: list[dict[str, Any]], data: gr.LikeData) -> None:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = next((t for t in turns if t.get("index") == index), None)
        if turn is None:
            return
        rating = "up" if data.liked is True or data.liked == "Like" else "down"
        feedback.record(rating, turn["question"], turn["answer"], turn["citations"], source="ui")

    with gr.Blocks(title="Convention Assistant", fill_width=True) as ui:
        gr.Markdown("# Convention Assistant")
        gr.Markdown(i18n("subtitle"))
        with gr.Tab(i18n("chat_tab")), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label=i18n("title"), height=460, sanitize_html=True, allow_tags=False,
                                     render_markdown=True, latex_delimiters=[],
                                     feedback_options=("Like", "Dislike"), elem_id="ca-chat")
                box = gr.Textbox(label=i18n("question"), placeholder=i18n("placeholder"), lines=2,
                                 max_length=settings.max_question_chars, elem_id="ca-question")
                with gr.Row():
                    send = gr.Button(i18n("send"), variant="primary", elem_id="ca-send")
                    clear = gr.Button(i18n("clear"), elem_id="ca-clear")
                status = gr.Markdown(elem_id="ca-status")
                gr.Examples(list(EXAMPLES), inputs=box, label=i18n("examples"))
                with gr.Accordion(i18n("filters"), open=False):
                    languages = gr.CheckboxGroup(LANGUAGE_CHOICES, label=i18n("languages"))
                    kinds = gr.CheckboxGroup(KIND_CHOICES, label=i18n("kinds"))
                    mode = gr.Radio(["extractive", "llm"], value=settings.mode, label=i18n("mode"))
            with gr.Column(scale=2):
                sources = gr.Radio([], label=i18n("sources"), elem_id="ca-sources")
                panel = gr.HTML(elem_id="ca-panel", label=i18n("source_panel"))
        turns = gr.State([])
        outputs = [chatbot, turns, sources, status, panel, box]
        inputs = [box, chatbot, turns, languages, kinds, mode]
        # subtle: no Gradio queue limit of its own; the answer service's gate bounds concurrent answers
        send.click(respond, inputs, outputs, concurrency_limit=None)
        box.submit(respond, inputs, outputs, concurrency_limit=None)
        clear.click(lambda: ([], [], gr.update(choices=[], value=None), "", ""), None,
                    [chatbot, turns, sources, status, panel])
        sources.change(show_source, [sources, turns], panel)
        chatbot.like(vote, [turns], None)
        if settings.admin_token.get_secret_value():
            _admin_tab(services, i18n)
    return ui


def _admin_tab(services: Services, i18n: gr.I18n) -> None:
    """Upload files or URLs and see the ingest summary, behind the admin token."""
    settings = services.settings
    secret = settings.admin_token.get_secret_value()

    def allowed(token: str) -> bool:
        return hmac.compare_digest((token or "").encode(), secret.encode())

    def unlock(token: str, request: gr.Request):  # type: ignore[no-untyped-def]
        ok = allowed(token)
        return gr.update(visible=ok), ("" if ok else text(ui_language(request.headers.get(
            "accept-language", "")), "bad_token"))

    def run(token: str, files: list[str] | None, urls: str) -> tuple[str, str]:
        if not allowed(token):
            return text("en", "bad_token"), ""
        from ingest.pipeline import ingest

        uploads = settings.data_dir / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        inputs = []
        for name in files or []:
            # keep a copy: Gradio's upload cache is temporary, and the file name becomes the source name
            target = uploads / Path(name).name
            shutil.copyfile(name, target)
            inputs.append(str(target))
        inputs += [u.strip() for u in (urls or "").splitlines() if u.strip()]
        if services.embedder is None or not isinstance(services.store, ChunkStore):
            return as_text(text("en", "err_internal")), ""
        store = services.store
        try:
            summary = ingest(inputs, settings, services.embedder, store)
            if services.watcher is not None:
                services.watcher.check(force=True)  # the next question, from any page, sees the new documents
        except AssistantError as exc:
            return as_text(str(exc)), ""
        skipped = "\n".join(f"- {as_text(s.source)}: {as_text(s.reason)}" for s in summary.skipped)
        report = (f"added {summary.added}, updated {summary.updated}, unchanged {summary.unchanged}, "
                  f"chunks written {summary.chunks_written}, {summary.seconds:.1f} s\n{skipped}")
        counts = f"{len(store.doc_states())} documents, {store.count()} chunks ({store.collection_name})"
        return report, counts

    with gr.Tab(i18n("admin_tab")):
        token = gr.Textbox(label=i18n("admin_token"), type="password")
        unlock_btn = gr.Button(i18n("unlock"))
        message = gr.Markdown()
        with gr.Column(visible=False) as tools:
            files = gr.File(label=i18n("upload"), file_count="multiple", type="filepath")
            urls = gr.Textbox(label=i18n("urls"), lines=3)
            go = gr.Button(i18n("ingest"), variant="primary")
            report = gr.Markdown()
            state = gr.Markdown(label=i18n("status"))
        unlock_btn.click(unlock, [token], [tools, message])
        go.click(run, [token, files, urls], [report, state], concurrency_limit=1)


def mount_ui(app: FastAPI, ui: gr.Blocks) -> None:
    """Serve the chat page at / with a theme that needs no web fonts (the page works offline)."""
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    i18n = gr.I18n(**STRINGS)
    gr.mount_gradio_app(app, ui, path="/", i18n=i18n, theme=theme, css=CSS, footer_links=["api"],
                        show_error=False)
