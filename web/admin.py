"""The chat page's admin tab: upload files or URLs behind the admin token and see the ingest summary."""

from __future__ import annotations

import hmac
import shutil
from pathlib import Path

import gradio as gr

from assistant.errors import AssistantError
from assistant.index.store import ChunkStore
from assistant.wiring import Services
from web.markup import as_text
from web.strings import text
from web.wording import Wording


def admin_tab(services: Services, wording: Wording, page_lang: gr.Radio) -> None:
    """The admin tab, worded in the page language; the ingest syncs the index for the next question."""
    settings = services.settings
    secret = settings.admin_token.get_secret_value()

    def allowed(token: str) -> bool:
        return hmac.compare_digest((token or "").encode(), secret.encode())

    def unlock(token: str, lang: str):  # type: ignore[no-untyped-def]
        ok = allowed(token)
        return gr.update(visible=ok), ("" if ok else text(lang, "bad_token"))

    def run(token: str, files: list[str] | None, urls: str, lang: str) -> tuple[str, str]:
        if not allowed(token):
            return text(lang, "bad_token"), ""
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
            return as_text(text(lang, "err_internal")), ""
        store = services.store
        try:
            summary = ingest(inputs, settings, services.embedder, store)
            if services.watcher is not None:
                services.watcher.check(force=True)  # the next question, from any page, sees the new documents
        except AssistantError as exc:
            return as_text(str(exc)), ""
        skipped = "\n".join(f"- {as_text(s.source)}: {as_text(s.reason)}" for s in summary.skipped)
        report = text(lang, "ingest_report", added=summary.added, updated=summary.updated,
                      unchanged=summary.unchanged, chunks=summary.chunks_written,
                      seconds=f"{summary.seconds:.1f}")
        counts = text(lang, "index_counts", documents=len(store.doc_states()), chunks=store.count(),
                      collection=store.collection_name)
        return f"{report}\n{skipped}", counts

    with wording.make(gr.Tab, {"label": "admin_tab"}, elem_id="ca-admin"):
        token = wording.make(gr.Textbox, {"label": "admin_token"}, type="password", elem_id="ca-admin-token")
        unlock_btn = wording.make(gr.Button, {"value": "unlock"}, elem_id="ca-unlock")
        message = gr.Markdown(elem_id="ca-admin-message")
        with gr.Column(visible=False) as tools:
            files = wording.make(gr.File, {"label": "upload"}, file_count="multiple", type="filepath",
                                 elem_id="ca-admin-files")
            urls = wording.make(gr.Textbox, {"label": "urls"}, lines=3)
            go = wording.make(gr.Button, {"value": "ingest"}, variant="primary", elem_id="ca-ingest")
            report = gr.Markdown(elem_id="ca-admin-report")
            state = wording.make(gr.Markdown, {"label": "status"}, elem_id="ca-admin-state")
        unlock_btn.click(unlock, [token, page_lang], [tools, message])
        go.click(run, [token, files, urls, page_lang], [report, state], concurrency_limit=1)
