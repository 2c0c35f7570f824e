"""Text extraction per format: bytes in, normalized body text and metadata hints out."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from assistant.errors import IngestError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Extracted:
    """The body of one input and what its format says about it; empty strings mean unknown."""

    text: str
    pages: tuple[tuple[int, int], ...] = ()
    header: tuple[tuple[str, str], ...] = ()  # corpus `KEY: value` lines, in order
    title: str = ""
    outlet: str = ""
    date: str = ""
    language: str = ""
    url: str = ""


# --- text normalization -------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))  # soft hyphen, zero widths, BOM
_SPACES = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_RUN = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """NFC, one space between words, no trailing spaces; lines and blank-line paragraph breaks kept."""
    # subtle: \u200c/\u200d matter in some Indic and Persian words, but not in our languages,
    # and leaving them in breaks exact quote matching.
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n")


def decode_text(raw: bytes, what: str, charset: str = "") -> str:
    """Decode text: declared charset, UTF-8 (BOM or not), UTF-16 with BOM, else cp1252, else Latin-1."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise IngestError(f"{what}: invalid UTF-16 text; re-save it as UTF-8.") from None
    if b"\x00" in raw[:8192]:
        raise IngestError(
            f"{what}: binary content (NUL bytes) in a text file; convert it to PDF, DOCX, HTML or text."
        )
    for encoding in ([charset] if charset else []) + ["utf-8-sig", "cp1252", "latin-1"]:
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if encoding in ("cp1252", "latin-1"):
            # subtle: Latin-1 decodes any bytes, so binary junk must be caught by its control characters
            controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
            if controls > max(2, len(text) // 100):
                raise IngestError(
                    f"{what}: binary content in a text file; convert it to PDF, DOCX, HTML or text."
                )
            log.info("%s is not UTF-8; decoded as %s", what, encoding)
        return text
    # unreachable in practice: latin-1 decodes any bytes
    raise IngestError(f"{what}: the text cannot be decoded; re-save it as UTF-8.")


# --- plain text and Markdown, with the corpus header --------------------------------------------

_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_/ -]{0,40}):\s?(.*)$")
_HEADER_KEYS = frozenset(
    {"TITLE", "LANGUAGE", "DATE", "URL", "SOURCE", "OUTLET", "AUTHOR", "OUTLET/AUTHOR", "DOC_TYPE"}
)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


def split_header(text: str) -> tuple[list[tuple[str, str]], str]:
    """Split `KEY: value` lines ending with a `---` line from the body; no header -> ([], text)."""
    lines = text.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":  # Markdown front matter: --- / key: value / ---
        start = 1
    header: list[tuple[str, str]] = []
    for i in range(start, min(len(lines), start + 60)):
        line = lines[i].strip()
        if line == "---":
            if any(key in _HEADER_KEYS for key, _ in header):
                return header, "\n".join(lines[i + 1 :])
            break
        if not line:
            continue
        match = _HEADER_LINE.match(line)
        if not match:
            break
        header.append((match.group(1).strip().upper(), match.group(2).strip()))
    return [], text


def _strip_markdown(text: str) -> str:
    """Markdown markup out, words and line structure in (quotes must read as prose)."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links keep their words
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    return "\n".join(_MD_HEADING.sub(r"\1", line) for line in text.split("\n"))


def extract_text(raw: bytes, what: str, markdown: bool, charset: str = "") -> Extracted:
    """Plain text or Markdown; a corpus header becomes metadata, never body."""
    text = decode_text(raw, what, charset)
    header, body = split_header(text.replace("\r\n", "\n").replace("\r", "\n"))
    title = ""
    if markdown:
        for line in body.split("\n"):
            match = _MD_HEADING.match(line)
            if match:
                title = match.group(1).strip()
                break
        body = _strip_markdown(body)
    return Extracted(text=normalize_text(body), header=tuple(header), title=title)


# --- HTML ---------------------------------------------------------------------------------------

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "nav",
    "footer",
    "aside",
    "form",
    "button",
)
_BLOCK_TAGS = (
    "p", "div", "section", "article", "main", "header", "blockquote", "pre", "table", "ul", "ol", "dl",
    "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "address", "hr",
)  # fmt: skip
_LINE_TAGS = ("br", "li", "tr", "dt", "dd", "caption")


def _meta(soup: Any, *names: str) -> str:
    """The first non-empty <meta name|property=...> content among `names`."""
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        content = tag.get("content") if tag else None
        if isinstance(content, str) and content.strip():
            return content.strip()
    return ""


def _main_content(soup: Any) -> Any:
    """The element holding the page's own text: the longest <article>/<main>, unless it is a teaser."""
    body = soup.body or soup
    candidates = soup.find_all(("article", "main"))
    if not candidates:
        return body
    best = max(candidates, key=lambda tag: len(tag.get_text(" ", strip=True)))
    # subtle: a page listing related stories has small <article>s; the story itself is then in body
    if len(best.get_text(" ", strip=True)) < 0.3 * len(body.get_text(" ", strip=True)):
        return body
    return best


def extract_html(raw: bytes, what: str, charset: str = "") -> Extracted:
    """HTML page: visible text of the main content by blocks; title, outlet, date, lang from meta."""
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(raw, "lxml", from_encoding=charset or None)
    title = _meta(soup, "og:title", "twitter:title", "dc.title", "DC.title")
    if not title and soup.title and soup.title.string:
        title = soup.title.string.strip()
    outlet = _meta(soup, "og:site_name", "publisher", "author", "article:author", "dc.publisher")
    date = _meta(soup, "article:published_time", "datePublished", "date", "dc.date", "DC.date", "pubdate")
    if not date:
        time_tag = soup.find("time", attrs={"datetime": True})
        date = str(time_tag["datetime"]) if time_tag else ""
    html_tag = soup.find("html")
    lang = str(html_tag.get("lang") or "") if html_tag else ""
    canonical = soup.find("link", attrs={"rel": "canonical"})
    url = _meta(soup, "og:url") or (str(canonical.get("href") or "") if canonical else "")

    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    root = _main_content(soup)
    # subtle: line breaks inside HTML source are just spaces; only block tags break lines
    for string in list(root.find_all(string=True)):
        if not string.find_parent("pre") and type(string) is NavigableString:
            string.replace_with(re.sub(r"\s+", " ", str(string)))
    for tag in root.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.append("\n\n")
    for tag in root.find_all(_LINE_TAGS):
        tag.insert_before("\n")
    for tag in root.find_all(("td", "th")):
        tag.append(" ")
    text = normalize_text(root.get_text())
    if not text:
        raise IngestError(
            f"{what}: the HTML page has no visible text; save the page after it has loaded, or as PDF."
        )
    return Extracted(
        text=text, title=title, outlet=outlet, date=date, language=lang.split("-")[0].lower(), url=url
    )


# --- PDF ----------------------------------------------------------------------------------------


def extract_pdf(raw: bytes, what: str) -> Extracted:
    """PDF with a text layer: text per page, and where each page starts in the joined text."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(f"{what}: the PDF is password-protected; save an unprotected copy first.")
        page_texts = [normalize_text(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except IngestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, AttributeError, IndexError) as exc:
        raise IngestError(
            f"{what}: corrupt or unreadable PDF ({type(exc).__name__}); re-export it as PDF."
        ) from None
    parts: list[str] = []
    pages: list[tuple[int, int]] = []
    offset = 0
    for number, page_text in enumerate(page_texts, start=1):
        if not page_text:
            continue
        if parts:
            offset += 2  # the blank line joining pages
        pages.append((number, offset))
        parts.append(page_text)
        offset += len(page_text)
    if not parts:
        raise IngestError(f"{what}: scanned PDF without text layer: OCR it first.")
    title = str(info.title or "").strip() if info else ""
    title = re.sub(r"^Microsoft Word - ", "", title)
    if title.lower() in ("untitled", "title"):
        title = ""
    # subtle: PDF and DOCX "author" fields hold whoever saved the file, not a publisher: not an outlet
    return Extracted(text="\n\n".join(parts), pages=tuple(pages), title=title)


# --- DOCX ---------------------------------------------------------------------------------------


def extract_docx(raw: bytes, what: str) -> Extracted:
    """Word document: paragraphs and tables in reading order, one block per paragraph."""
    import zipfile
    import zlib

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(raw))
    # subtle: a damaged deflate stream raises zlib.error and damaged XML an lxml SyntaxError subclass
    except (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError, KeyError, ValueError, OSError) as exc:
        raise IngestError(
            f"{what}: corrupt or unreadable DOCX ({type(exc).__name__}); re-save it from Word."
        ) from None
    blocks: list[str] = []
    title = ""
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
            if paragraph.text.strip() and not title and style in ("title", "heading 1"):
                title = paragraph.text.strip()
            blocks.append(paragraph.text)
        elif tag == "tbl":
            rows = []
            for row in Table(element, document).rows:
                cells = list(dict.fromkeys(cell.text.strip() for cell in row.cells))  # merged cells repeat
                rows.append(" | ".join(c for c in cells if c))
            blocks.append("\n".join(r for r in rows if r))
    text = normalize_text("\n\n".join(b for b in blocks if b.strip()))
    if not text:
        raise IngestError(f"{what}: the DOCX document has no text.")
    props = document.core_properties
    return Extracted(text=text, title=(props.title or "").strip() or title)
