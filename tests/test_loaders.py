"""Loaders: discovery, every format, the corpus header, bad inputs and URLs on a loopback server."""

from __future__ import annotations

import contextlib
import hashlib
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
import pytest
from loopback import Routes, serve_routes
from pypdf import PdfWriter

from assistant.config import Settings
from assistant.errors import IngestError
from ingest.loaders import SourceRef, discover, doc_id_for, load, normalize_date

SettingsFactory = Callable[..., Settings]


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF, one Helvetica text line per string; an empty list is a page without text."""
    objs: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for i, lines in enumerate(pages):
        page_id, content_id = 4 + 2 * i, 5 + 2 * i
        kids.append(b"%d 0 R" % page_id)
        ops = ["BT /F1 12 Tf 14 TL 72 720 Td"] + [f"({line}) Tj T*" for line in lines] + ["ET"]
        stream = "\n".join(ops).encode("latin-1") if lines else b""
        objs[content_id] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
        objs[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_id
        )
    objs[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    out, offsets = bytearray(b"%PDF-1.4\n"), {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, objs[num])
    xref, size = len(out), max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def load_file(path: Path, settings: Settings):  # type: ignore[no-untyped-def]
    refs, skipped = discover([str(path)])
    assert not skipped and len(refs) == 1
    return load(refs[0], settings)


# --- discovery ----------------------------------------------------------------------------------


def test_discover_walks_folders_sorted_and_names_sources_from_the_parent(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    (root / "b").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "b" / "z.md").write_text("# Z\n\nbody")
    (root / "a.txt").write_text("text")
    (root / ".hidden.txt").write_text("no")
    (root / ".git" / "x.txt").write_text("no")
    (root / "image.png").write_bytes(b"\x89PNG")
    (root / "README.md").write_text("about the folder")
    refs, skipped = discover(
        [str(root), str(root / "a.txt"), str(tmp_path / "missing"), "https://example.org/p"]
    )
    assert [r.source for r in refs] == ["docs/a.txt", "docs/b/z.md", "a.txt", "https://example.org/p"]
    assert refs[0].location == str(root / "a.txt")
    reasons = {s.source: s.reason for s in skipped}
    expected = "unsupported file type .png: convert it to PDF, DOCX, HTML, Markdown or text"
    assert reasons["docs/image.png"] == expected
    assert "folder documentation" in reasons["docs/README.md"]
    assert "no such file or folder" in reasons[str(tmp_path / "missing")]
    assert "check the path" in reasons[str(tmp_path / "missing")]


def test_discover_corpus_gives_stable_names(corpus_dir: Path) -> None:
    refs, skipped = discover([str(corpus_dir)])
    assert len(refs) == 60
    assert refs[0].source == "corpus/digests/01_en_un_sg_statement_adoption_sgsm22505.txt"
    assert {s.source for s in skipped} == {"corpus/MANIFEST.tsv", "corpus/README.md"}
    assert doc_id_for(refs[0].source) == hashlib.sha256(refs[0].source.encode()).hexdigest()[:16]


# --- the corpus header --------------------------------------------------------------------------


def test_corpus_treaty_header_is_metadata_not_body(corpus_dir: Path, make_settings: SettingsFactory) -> None:
    path = corpus_dir / "texts" / "coe_budapest_convention_ets185_en.txt"
    doc = load_file(path, make_settings())
    meta = doc.meta
    assert meta.source == "coe_budapest_convention_ets185_en.txt"
    assert meta.title.startswith("Convention on Cybercrime (Budapest Convention)")
    assert (meta.language, meta.kind, meta.date) == ("en", "treaty", "2001-11-23")
    assert meta.url == "https://rm.coe.int/1680081561"  # found in SOURCE
    assert meta.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    extra = dict(meta.extra)
    assert extra["COMPLETENESS"].startswith("whole English text")
    assert extra["DATE"].startswith("opened for signature Budapest")
    assert "LICENCE" in extra and "TITLE" not in extra
    assert doc.text.startswith("Convention on Cybercrime\n\nPreamble")
    assert "COMPLETENESS:" not in doc.text and "\n---\n" not in doc.text
    assert "\nArticle 16\n" in doc.text  # line structure kept for the structure parser


def test_corpus_press_and_arabic_headers(corpus_dir: Path, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    refs, _ = discover([str(corpus_dir)])
    by_name = {r.source.rsplit("/", 1)[-1]: r for r in refs}
    digest = load(by_name["27_vi_cand_cong_uoc_ha_noi_uy_tin.txt"], settings).meta
    assert digest.source == "corpus/digests/27_vi_cand_cong_uoc_ha_noi_uy_tin.txt"
    assert (digest.language, digest.kind, digest.date) == ("vi", "press", "2025-10-30")
    assert digest.outlet == "Công an Nhân dân (cand.com.vn)"
    assert digest.url.startswith("https://amp.cand.com.vn/")
    assert dict(digest.extra)["VIEWPOINT"].startswith("chính phủ Việt Nam")
    arabic = load(by_name["uncc_articles_01-15_ar.txt"], settings)
    assert (arabic.meta.language, arabic.meta.kind, arabic.meta.date) == ("ar", "treaty", "2024-12-24")
    assert arabic.text.startswith("اتفاقية الأمم المتحدة لمكافحة الجريمة السيبرانية\nالمادة 1: بيان الغرض")
    assert "\n\n\n" not in arabic.text


def test_every_corpus_file_loads_with_header_fields(corpus_dir: Path, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    refs, _ = discover([str(corpus_dir)])
    for ref in refs:
        doc = load(ref, settings)
        raw = Path(ref.location).read_text(encoding="utf-8")
        header = dict(line.split(": ", 1) for line in raw.split("\n---\n", 1)[0].split("\n"))
        assert doc.meta.title == header["TITLE"]
        assert doc.meta.language == header["LANGUAGE"]
        assert doc.meta.url == header.get("URL", doc.meta.url)
        assert doc.meta.kind == ("treaty" if "/texts/" in ref.source else "press")
        assert doc.meta.date[:4].isdigit(), ref.source
        assert not doc.text.startswith("TITLE:") and doc.text == doc.text.strip()


# --- formats ------------------------------------------------------------------------------------


def test_markdown_without_header_and_a_treaty_by_its_articles(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    md = tmp_path / "note.md"
    md.write_text("# Ma note\n\nUn **texte** avec un [lien](http://x.org).\n\n\n\nLa suite  du   texte.\n")
    doc = load_file(md, make_settings())
    assert doc.meta.title == "Ma note"
    assert doc.text == "Ma note\n\nUn texte avec un lien.\n\nLa suite du texte."
    assert (doc.meta.language, doc.meta.kind, doc.meta.url, doc.meta.extra) == ("fr", "other", "", ())
    treaty = tmp_path / "loi.txt"
    treaty.write_text(
        "Loi type\n\nArticle premier\nObjet.\n\nArticle 2\nDéfinitions.\n\nArticle 3\nPortée.\n"
    )
    doc = load_file(treaty, make_settings())
    assert (doc.meta.title, doc.meta.kind, doc.meta.language) == ("Loi type", "treaty", "fr")


def test_latin1_and_cp1252_files_are_decoded(tmp_path: Path, make_settings: SettingsFactory) -> None:
    text = "Protection des données à caractère personnel : l’État garantit la sécurité."
    path = tmp_path / "latin.txt"
    path.write_bytes(text.replace("’", "'").encode("latin-1"))
    assert load_file(path, make_settings()).text == text.replace("’", "'")
    path.write_bytes(text.encode("cp1252"))
    doc = load_file(path, make_settings())
    assert doc.text == text and doc.meta.language == "fr"
    assert doc.meta.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_text_is_nfc_with_paragraphs_kept(tmp_path: Path, make_settings: SettingsFactory) -> None:
    path = tmp_path / "nfd.txt"
    path.write_bytes(
        "\ufeffĐie\u0302\u0300u 1\r\nCa\u0301c bên\u00a0cam kết.  \r\n\r\n\r\n\tĐiều 2\r\n".encode()
    )
    doc = load_file(path, make_settings())
    assert doc.text == "Điều 1\nCác bên cam kết.\n\nĐiều 2"


def test_pdf_text_per_page_with_offsets(tmp_path: Path, make_settings: SettingsFactory) -> None:
    path = tmp_path / "treaty.pdf"
    path.write_bytes(
        make_pdf([["Article 1", "Definitions (here)."], [], ["Article 2", "Scope."], ["Article 3", "End."]])
    )
    doc = load_file(path, make_settings())
    assert [p for p, _ in doc.pages] == [1, 3, 4]  # page 2 has no text
    assert doc.text[doc.pages[1][1] :].startswith("Article 2\nScope.")
    assert doc.text[doc.pages[2][1] :] == "Article 3\nEnd."
    assert doc.text.startswith("Article 1\nDefinitions (here).\n\nArticle 2")
    assert (doc.meta.kind, doc.meta.title) == ("treaty", "Article 1")


def test_docx_paragraphs_and_tables(tmp_path: Path, make_settings: SettingsFactory) -> None:
    document = docx.Document()
    document.add_heading("Rapport sur la Convention", level=0)
    document.add_paragraph("La Convention a été signée à Hanoï par soixante-douze États.")
    table = document.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "Pays", (0, 1): "Date", (1, 0): "Viet Nam", (1, 1): "25 octobre"}.items():
        table.cell(r, c).text = value
    document.add_paragraph("Fin du rapport.")
    path = tmp_path / "rapport.docx"
    document.save(str(path))
    doc = load_file(path, make_settings())
    assert doc.meta.title == "Rapport sur la Convention"
    assert doc.text == (
        "Rapport sur la Convention\n\nLa Convention a été signée à Hanoï par soixante-douze États.\n\n"
        "Pays | Date\nViet Nam | 25 octobre\n\nFin du rapport."
    )
    assert (doc.meta.language, doc.meta.kind) == ("fr", "other")


HTML = """<!doctype html><html lang="en"><head><title>Fallback title</title>
<meta property="og:title" content="States sign the Convention">
<meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2025-10-25T09:00:00+07:00">
<style>p {color: red}</style><script>var x = "Article 99";</script></head>
<body><nav>Home | World</nav><article><h1>States sign the Convention</h1>
<p>Seventy-two States signed the
   Convention in Hanoi&nbsp;on Saturday.</p><p>Cafe\u0301 talks followed.<br>Then a dinner.</p>
<ul><li>First point</li><li>Second point</li></ul></article><footer>Copyright</footer></body></html>"""


def test_html_main_text_and_meta(tmp_path: Path, make_settings: SettingsFactory) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    doc = load_file(path, make_settings())
    assert doc.text == (
        "States sign the Convention\n\nSeventy-two States signed the Convention in Hanoi on Saturday.\n\n"
        "Café talks followed.\nThen a dinner.\n\nFirst point\nSecond point"
    )
    meta = doc.meta
    assert (meta.title, meta.outlet, meta.date, meta.language) == (
        "States sign the Convention", "Example News", "2025-10-25", "en",
    )  # fmt: skip
    assert meta.kind == "other"  # a saved page is not press by itself; a fetched one is


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n \t\n", "empty"),
        ("binary.txt", b"abc\x00\x01\x02\x00" * 50, "binary"),
        ("latin-junk.txt", bytes(range(0x80, 0x100)) + bytes(range(1, 9)) * 20, "binary"),
        ("header-only.txt", b"TITLE: x\nLANGUAGE: en\n---\n\n", "no text after the header"),
        ("corrupt.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "corrupt or unreadable PDF"),
        ("scanned.pdf", make_pdf([[], []]), "scanned PDF without text layer: OCR it first"),
        ("corrupt.docx", b"PK\x03\x04 not really a zip", "corrupt or unreadable DOCX"),
        ("empty.html", b"<html><body><script>x()</script></body></html>", "no visible text"),
    ],
)
def test_bad_inputs_raise_one_line_ingest_errors(
    tmp_path: Path, make_settings: SettingsFactory, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message) as info:
        load_file(path, make_settings())
    assert "\n" not in str(info.value) and str(info.value).startswith(name)


def test_password_protected_pdf(tmp_path: Path, make_settings: SettingsFactory) -> None:
    writer = PdfWriter(clone_from=io.BytesIO(make_pdf([["Secret words."]])))
    writer.encrypt(user_password="pw", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(IngestError, match="password-protected; save an unprotected copy"):
        load_file(path, make_settings())


def test_markdown_front_matter_is_a_header(tmp_path: Path, make_settings: SettingsFactory) -> None:
    path = tmp_path / "post.md"
    path.write_text(
        "---\ntitle: Notes\nlanguage: en\nurl: https://x.org/notes\ntags: a, b\n---\n\n# Notes\n\nBody.\n"
    )
    doc = load_file(path, make_settings())
    assert (doc.meta.title, doc.meta.language, doc.meta.url) == ("Notes", "en", "https://x.org/notes")
    assert (doc.meta.kind, doc.meta.extra, doc.text) == ("press", (("TAGS", "a, b"),), "Notes\n\nBody.")


def test_html_teasers_do_not_hide_the_story(tmp_path: Path, make_settings: SettingsFactory) -> None:
    story = "The Convention was opened for signature in Hanoi. " * 10
    teasers = "".join(f"<article><a href='/{i}'>Related story {i}</a></article>" for i in range(3))
    path = tmp_path / "story.htm"
    path.write_text(f"<html><body><h1>Hanoi</h1><div><p>{story}</p></div>{teasers}</body></html>")
    text = load_file(path, make_settings()).text
    assert text.startswith("Hanoi\n\nThe Convention was opened") and "Related story 2" in text


def test_file_over_the_size_limit(tmp_path: Path, make_settings: SettingsFactory) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000)
    with pytest.raises(IngestError, match="over the 0.001 MB limit"):
        load_file(path, make_settings(max_file_mb=0.001))


def test_normalize_date_from_free_text() -> None:
    assert normalize_date("2025-10-25/26") == "2025-10-25"
    assert (
        normalize_date("opened for signature Budapest, 23 November 2001; in force 1 July 2004")
        == "2001-11-23"
    )
    assert normalize_date("2025 (before the October signing; related letters dated 17 July 2025)") == "2025"
    assert normalize_date("État au : 16-11-2025") == "2025-11-16"
    assert normalize_date("le 1er juillet 2004") == "2004-07-01"
    assert normalize_date("October 25, 2025") == "2025-10-25"
    assert normalize_date("2025-10-25T09:00:00Z") == "2025-10-25"
    assert normalize_date("undated") == ""


# --- URLs against a real loopback server --------------------------------------------------------


class _Handler(Routes):
    """Fixed pages, plus a slow answer, a trickle of bytes and a redirect."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/slow":
            time.sleep(1.5)
        if self.path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "100")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            return
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/page")
            self.end_headers()
            return
        super().do_GET()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving fixed pages."""
    _Handler.routes = {
        "/page": (200, "text/html; charset=utf-8", HTML.encode()),
        "/doc.pdf": (200, "application/pdf", make_pdf([["Article 1", "Text."]])),
        "/blob.pdf": (200, "application/octet-stream", make_pdf([["Plain words only."]])),
        "/big": (200, "text/plain", b"x" * 5000),
        "/image": (200, "image/png", b"\x89PNG\r\n"),
        "/bare": (200, "text/html", b"<html><body><p>Just words.</p></body></html>"),
        "/slow": (200, "text/plain", b"late"),
    }
    with serve_routes(_Handler) as url:
        yield url


def test_url_html_page_is_press_with_its_link(server: str, make_settings: SettingsFactory) -> None:
    url = f"{server}/moved"  # redirected to /page
    refs, _ = discover([url])
    doc = load(refs[0], make_settings())
    assert (doc.meta.source, doc.meta.url, doc.meta.doc_id) == (url, url, doc_id_for(url))
    assert (doc.meta.kind, doc.meta.title, doc.meta.outlet) == (
        "press",
        "States sign the Convention",
        "Example News",
    )
    # trafilatura's blocks give the same text as the whole-page extractor on this page (see above)
    assert doc.text == (
        "States sign the Convention\n\nSeventy-two States signed the Convention in Hanoi on Saturday.\n\n"
        "Café talks followed.\nThen a dinner.\n\nFirst point\nSecond point"
    )
    assert doc.meta.content_hash == hashlib.sha256(HTML.encode()).hexdigest()
    bare = f"{server}/bare"  # no site name in the page: the host stands in for the outlet
    assert load(SourceRef(bare, bare), make_settings()).meta.outlet == "127.0.0.1"


def test_url_pdf_by_type_and_by_extension(server: str, make_settings: SettingsFactory) -> None:
    doc = load(SourceRef(f"{server}/doc.pdf", f"{server}/doc.pdf"), make_settings())
    assert doc.text == "Article 1\nText." and doc.pages == ((1, 0),)
    blob = load(SourceRef(f"{server}/blob.pdf", f"{server}/blob.pdf"), make_settings())
    assert blob.text == "Plain words only." and blob.meta.kind == "other"


@pytest.mark.parametrize(
    ("path", "overrides", "message"),
    [
        ("/missing", {}, "answered HTTP 404"),
        ("/slow", {"url_timeout_s": 0.3}, "no answer within 0.3 s"),
        ("/trickle", {"url_timeout_s": 0.3}, "no answer within 0.3 s"),
        ("/big", {"max_file_mb": 0.001}, "larger than 0.001 MB"),
        ("/image", {}, "unsupported content type image/png"),
    ],
)
def test_url_failures(
    server: str, make_settings: SettingsFactory, path: str, overrides: dict[str, float], message: str
) -> None:
    url = server + path
    with pytest.raises(IngestError, match=message) as info:
        load(SourceRef(url, url), make_settings(**overrides))
    assert str(info.value).startswith(url) and "\n" not in str(info.value)
