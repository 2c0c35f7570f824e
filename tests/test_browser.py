"""Real Chromium on the chat page and the embedded widget: answers, clickable citations, inert documents."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from loopback import serve

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PLANTED = """TITLE: Planted page about the mascot
LANGUAGE: en
DATE: 2025-10-25
URL: {portal}/original-article
---
At the Hanoi signing ceremony the official mascot was a zebra named Quokkazebra \
<img src="{portal}/trap/img.png" onerror="window.__pwned=1"> <script>window.__pwned=1</script> \
![tracker]({portal}/trap/md.png) and it greeted every delegation.
"""
MASCOT = "What was the name of the zebra mascot at the Hanoi signing ceremony?"
UPLOADED = """TITLE: Notes from the Lisbon capacity-building week
LANGUAGE: en
DATE: 2025-11-03
URL: https://example.org/lisbon-week
---
During the Lisbon capacity-building week on the Convention, the organisers introduced a mascot: an owl \
named Pelvantor, who handed every participant a workshop badge.
"""
ADMIN_TOKEN = "browser-test-admin-token"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class Portal(ThreadingHTTPServer):
    """A second origin: serves the example portal page and records every request path."""

    page = b""
    seen: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: Portal

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.seen.append(self.path)
        body = self.server.page if self.path.startswith("/example.html") else b"not here"
        self.send_response(200 if body == self.server.page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Site:
    base: str
    portal: Portal
    portal_url: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path, small_embedder: Any) -> Iterator[Site]:
    """The real app over two corpus files and a planted hostile document, plus a portal on another port."""
    from app import create_app
    from assistant.config import load_settings
    from assistant.index.store import ChunkStore
    from ingest.pipeline import ingest

    portal = Portal(("127.0.0.1", 0), _Handler)
    portal.seen = []
    portal_url = f"http://127.0.0.1:{portal.server_address[1]}"
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    root = tmp_path_factory.mktemp("browser")
    planted = root / "planted_mascot.txt"
    planted.write_text(PLANTED.format(portal=portal_url), encoding="utf-8")
    settings = load_settings(data_dir=root / "data", embedding_model="small", cors_origins=(portal_url,))
    files = [str(corpus_dir / "digests/06_en_un_news_via_wam_65_nations_sign.txt"),
             str(corpus_dir / "digests/35_fr_boursorama_afp_plus_de_60_pays.txt"), str(planted)]
    ingest(files, settings, small_embedder, ChunkStore(settings, small_embedder))
    with serve(create_app(settings)) as base:
        example = (Path(__file__).resolve().parent.parent / "widget" / "example.html").read_text("utf-8")
        portal.page = example.replace("http://127.0.0.1:7860", base).encode()
        yield Site(base, portal, portal_url)
    portal.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(headless=True, executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _ask_in_chat(page: Any, base: str, question: str) -> None:
    page.goto(f"{base}/", wait_until="load")
    _ask(page, question)


def _ask(page: Any, question: str) -> None:
    page.locator("#ca-question textarea").fill(question, timeout=60_000)
    page.locator("#ca-send").click()
    page.locator("#ca-sources input[type=radio]").first.wait_for(timeout=120_000)


def test_chat_page_answers_and_opens_the_cited_source(site: Site, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(locale="fr-FR")
    _ask_in_chat(page, site.base, "Combien de pays ont signé la convention à Hanoï ?")
    chat = page.locator("#ca-chat").inner_text()
    assert "[1]" in chat
    assert "Sources de la dernière réponse" in page.content()  # interface strings follow the browser
    page.locator("#ca-sources label").first.click()
    mark = page.locator("#ca-panel mark")
    mark.wait_for(timeout=30_000)
    assert mark.inner_text().strip()
    link = page.locator("#ca-panel a")
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert link.get_attribute("href").startswith("http")
    page.screenshot(path=str(ARTIFACTS / "chat_page.png"), full_page=True)
    page.close()


def test_planted_document_is_shown_as_text_and_never_runs(site: Site, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    _ask_in_chat(page, site.base, MASCOT)
    chat = page.locator("#ca-chat").inner_text()
    assert "Quokkazebra" in chat and "<script>window.__pwned=1</script>" in chat  # shown, as text
    labels = page.locator("#ca-sources label")
    shown = []
    for i in range(labels.count()):  # open every cited source, the planted one among them
        labels.nth(i).click()
        page.locator("#ca-panel mark").wait_for(timeout=30_000)
        page.wait_for_timeout(300)
        shown.append(page.locator("#ca-panel").inner_text())
    assert any("onerror=" in panel and "![tracker]" in panel for panel in shown)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#ca-chat img, #ca-panel img, #ca-panel script").count() == 0
    links = page.locator("#ca-chat a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links and all(href.startswith("#ca-cite-") for href in links)  # only our citation markers
    assert not [url for url in requested if "/trap/" in url]
    assert not [path for path in site.portal.seen if path.startswith("/trap/")]
    page.screenshot(path=str(ARTIFACTS / "planted_document.png"), full_page=True)
    page.close()


def test_widget_on_another_origin_streams_a_cited_answer(site: Site, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page()
    page.goto(f"{site.portal_url}/example.html", wait_until="load")
    bubble = page.locator("[data-convention-assistant] button.bubble")
    bubble.click(timeout=60_000)
    box = page.locator("[data-convention-assistant] textarea")
    assert page.evaluate("document.activeElement.shadowRoot?.activeElement?.tagName") == "TEXTAREA"
    box.fill(MASCOT)
    box.press("Enter")
    links = page.locator("[data-convention-assistant] .cites a")
    links.first.wait_for(timeout=120_000)
    answer = page.locator("[data-convention-assistant] .msg.bot").last.inner_text()
    assert "Quokkazebra" in answer and "[1]" in answer and "<script>" in answer
    assert links.first.get_attribute("rel") == "noopener noreferrer nofollow"
    assert links.first.get_attribute("href").startswith(("http://", "https://"))
    assert page.evaluate("window.__pwned") is None
    assert not [path for path in site.portal.seen if path.startswith("/trap/")]
    # the portal's CSS cannot reach inside the widget
    font = page.locator("[data-convention-assistant] .msg.bot").last.evaluate(
        "el => getComputedStyle(el).fontFamily")
    assert "Georgia" not in font
    page.screenshot(path=str(ARTIFACTS / "widget_example.png"))
    box.press("Escape")
    assert page.locator("[data-convention-assistant] section.panel").is_hidden()
    page.close()


def test_page_language_comes_from_the_url_and_the_selector_switches_it(site: Site, browser: Any) -> None:
    from web.strings import text

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(locale="en-US")  # the URL wins over the browser's language
    page.goto(f"{site.base}/?lang=vi", wait_until="load")
    page.get_by_text(text("vi", "question"), exact=True).wait_for(timeout=60_000)
    assert page.locator("#ca-lang input:checked").get_attribute("value") == "vi"
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert text("vi", "example_3") in page.locator("body").inner_text()
    page.locator("#ca-lang label", has_text="Français").click()
    page.get_by_text(text("fr", "question"), exact=True).wait_for(timeout=30_000)
    assert page.get_by_role("tab", name=text("fr", "chat_tab")).count() == 1
    assert "lang=fr" in page.url  # a reload keeps the reader's choice
    _ask(page, "Combien de pays ont signé la convention à Hanoï ?")
    assert text("fr", "mode") in page.locator("#ca-status").inner_text()
    assert page.locator("#ca-panel").inner_text().strip() == text("fr", "no_source")
    assert text("vi", "question") not in page.locator("body").inner_text()
    page.screenshot(path=str(ARTIFACTS / "page_language.png"), full_page=True)
    page.close()


def test_clicking_a_citation_marker_opens_that_source(site: Site, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page()
    _ask_in_chat(page, site.base, "How many countries signed the convention in Hanoi?")
    marker = page.locator('#ca-chat a[href="#ca-cite-1"]').first
    assert marker.inner_text() == "[1]"
    assert page.locator("#ca-panel mark").count() == 0
    marker.click()
    page.locator("#ca-panel mark").wait_for(timeout=30_000)
    assert page.locator("#ca-panel .ca-source").get_attribute("data-n") == "1"
    assert page.locator("#ca-panel mark").inner_text().strip()
    assert page.locator('#ca-sources input[value="1"]').is_checked()
    assert "#ca-cite" not in page.url  # the click opened the panel instead of following the link
    page.screenshot(path=str(ARTIFACTS / "citation_marker.png"), full_page=True)
    answers = page.locator("#ca-chat [data-testid=bot]")
    _ask(page, "When does the convention enter into force?")
    answers.nth(1).locator('a[href^="#ca-cite-"]').first.wait_for(timeout=30_000)
    assert answers.nth(0).locator("a").count() == 0  # the panel lists the latest answer's sources only
    page.close()


@pytest.fixture
def admin_site(tmp_path: Path, corpus_dir: Path, small_embedder: Any) -> Iterator[str]:
    """The real app with an admin token, over one corpus file."""
    from app import create_app
    from assistant.config import load_settings
    from assistant.index.store import ChunkStore
    from ingest.pipeline import ingest

    settings = load_settings(data_dir=tmp_path / "data", embedding_model="small", admin_token=ADMIN_TOKEN)
    ingest([str(corpus_dir / "digests/06_en_un_news_via_wam_65_nations_sign.txt")], settings,
           small_embedder, ChunkStore(settings, small_embedder))
    with serve(create_app(settings)) as base:
        yield base


def test_admin_ingest_is_seen_by_the_next_chat_question(admin_site: str, browser: Any,
                                                        tmp_path: Path) -> None:
    from web.strings import text

    ARTIFACTS.mkdir(exist_ok=True)
    upload = tmp_path / "lisbon_week_mascot.txt"
    upload.write_text(UPLOADED, encoding="utf-8")
    page = browser.new_page()
    page.goto(f"{admin_site}/", wait_until="load")
    page.get_by_role("tab", name=text("en", "admin_tab")).click(timeout=60_000)
    page.locator("#ca-admin-token input").fill(ADMIN_TOKEN)
    page.locator("#ca-unlock").click()
    page.locator("#ca-admin-files input[type=file]").set_input_files(str(upload), timeout=30_000)
    page.locator("#ca-admin-files").get_by_text(upload.name).wait_for(timeout=30_000)
    page.locator("#ca-ingest").click()
    page.locator("#ca-admin-report").get_by_text("added 1").wait_for(timeout=120_000)
    page.get_by_role("tab", name=text("en", "chat_tab")).click()
    _ask(page, "What was the name of the owl mascot at the Lisbon capacity-building week?")
    assert "Pelvantor" in page.locator("#ca-chat").inner_text()
    assert "Notes from the Lisbon capacity-building week" in page.locator("#ca-sources").inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin_ingest.png"), full_page=True)
    page.close()
