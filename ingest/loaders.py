"""Find inputs (files, folders, URLs) and load each one as a Document with its metadata."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.text.languages import detect_language
from assistant.types import DocMeta, Document
from ingest.dates import normalize_date
from ingest.fetch import fetch
from ingest.formats import Extracted, extract_docx, extract_html, extract_pdf, extract_text
from ingest.webpage import extract_web_page

log = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf", ".docx": "docx",
}  # fmt: skip
# a folder's own documentation describes the collection; ingesting it would make it evidence
_FOLDER_DOCS = re.compile(r"^(readme|manifest|license|licence|changelog)(\.[a-z]+)?$", re.I)


@dataclass(frozen=True)
class SourceRef:
    """One input to load: its stable name and where to read it."""

    source: str  # relative to the parent of the input root, POSIX form; or the URL
    location: str  # absolute path or URL


@dataclass(frozen=True)
class Skipped:
    """An input that will not be loaded, and why."""

    source: str
    reason: str


def doc_id_for(source: str) -> str:
    """Stable document id: the first 16 hex digits of sha256(source)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def discover(inputs: Sequence[str]) -> tuple[list[SourceRef], list[Skipped]]:
    """Expand files, folders (recursive, sorted, hidden skipped) and URLs into SourceRefs."""
    refs: list[SourceRef] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()

    def add(ref: SourceRef) -> None:
        if ref.source not in seen:
            seen.add(ref.source)
            refs.append(ref)

    for given in inputs:
        if _is_url(given):
            add(SourceRef(source=given, location=given))
            continue
        # subtle: abspath, not resolve(): a symlinked corpus keeps the name the user sees
        root = Path(os.path.abspath(given))
        if not root.exists():
            skipped.append(
                Skipped(
                    given,
                    f"no such file or folder: {given}; check the path (relative to the current folder).",
                )
            )
            continue
        if root.is_file():
            candidates = [root]
        else:
            candidates = sorted(
                p
                for p in root.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )
        for path in candidates:
            source = PurePosixPath(*path.relative_to(root.parent).parts).as_posix()
            ext = path.suffix.lower()
            if ext not in SUPPORTED_EXTENSIONS:
                shown = ext or "(none)"
                reason = f"unsupported file type {shown}: convert it to PDF, DOCX, HTML, Markdown or text"
                skipped.append(Skipped(source, reason))
            elif path != root and _FOLDER_DOCS.match(path.name):
                skipped.append(
                    Skipped(
                        source,
                        "folder documentation, not a source document; name the file itself to ingest it",
                    )
                )
            else:
                add(SourceRef(source=source, location=str(path)))
    return refs, skipped


# --- metadata -----------------------------------------------------------------------------------

_ARTICLE_HEADING = re.compile(
    r"^(?:Article|Artículo|Articolo|Artigo|Artikel|Điều|Статья|المادة)\s+(\d+|premier|[IVXLC]+)\b[^\n]{0,100}$"
    r"|^第[一二三四五六七八九十百零〇\d]+条",
    re.M | re.I,
)
_TREATY_TEXT = re.compile(
    r"\b(treaty|convention|protocol|legal|arabic|english|french|spanish|russian|chinese)\s+text\b|texte\s+(intégral|officiel)"
    r"|^(treaty|convention|protocol)$",
    re.I,
)
_PRESS_TYPE = re.compile(r"\b(press|presse|news|báo|wire|media|agence|journal)\b", re.I)
_URL_IN_TEXT = re.compile(r"https?://[^\s)\]>\"']+")


def _kind(folders: Sequence[str], header: dict[str, str], text: str, fetched_html: bool) -> str:
    """treaty | press | other, from the folder, the header, the body and where it came from."""
    lowered = {f.lower() for f in folders}
    if "texts" in lowered:
        return "treaty"
    if lowered & {"press", "digests"}:
        return "press"
    doc_type = header.get("DOC_TYPE", "")
    if _TREATY_TEXT.search(doc_type) or _TREATY_TEXT.search(header.get("TITLE", "")):
        return "treaty"
    if _PRESS_TYPE.search(doc_type):
        return "press"
    articles = {m.group(1).lower() for m in _ARTICLE_HEADING.finditer(text) if m.group(1)}
    articles |= {m.group(0) for m in _ARTICLE_HEADING.finditer(text) if not m.group(1)}
    if len(articles) >= 3:
        return "treaty"
    if fetched_html or any(k in header for k in ("OUTLET", "AUTHOR", "OUTLET/AUTHOR", "URL")):
        return "press"
    return "other"


def _first_line(text: str) -> str:
    line = next((ln for ln in text.split("\n") if ln.strip()), "")
    return line if len(line) <= 200 else line[:197].rsplit(" ", 1)[0] + "..."


def _language(header_value: str, hint: str, text: str) -> str:
    """Header LANGUAGE if given; else the body's language (a page's lang attribute only for short bodies)."""
    if header_value:
        return re.split(r"[-_\s,;]", header_value.strip().lower())[0]
    # subtle: CMS templates often keep lang="en" on translated pages; a long body knows better
    if hint and len(text) < 200:
        return hint
    return detect_language(text, default=hint or "en")


def build_meta(
    source: str, raw: bytes, extracted: Extracted, fetched_html: bool, fetched_url: str = ""
) -> DocMeta:
    """DocMeta from the extracted body, its header and hints; header fields win over hints."""
    header = dict(extracted.header)
    used = {"TITLE", "LANGUAGE", "DATE", "URL", "OUTLET", "AUTHOR", "OUTLET/AUTHOR"}
    extra = [(k, v) for k, v in extracted.header if k not in used]
    raw_date = header.get("DATE", "") or extracted.date
    date = normalize_date(raw_date)
    if raw_date and date != raw_date.strip():
        # keep the wording ("opened for signature ..."); `date` is the ISO form filters compare
        extra.append(("DATE", raw_date))
    source_url = _URL_IN_TEXT.search(header.get("SOURCE", ""))
    url = (
        header.get("URL", "")
        or (source_url.group(0).rstrip(".,;") if source_url else "")
        or fetched_url
        or extracted.url
    )
    folders = PurePosixPath(source).parts[:-1] if not _is_url(source) else ()
    return DocMeta(
        doc_id=doc_id_for(source),
        source=source,
        title=header.get("TITLE", "")
        or extracted.title
        or _first_line(extracted.text)
        or PurePosixPath(source).name,
        language=_language(header.get("LANGUAGE", ""), extracted.language, extracted.text),
        kind=_kind(folders, header, extracted.text, fetched_html),
        outlet=header.get("OUTLET/AUTHOR", "")
        or header.get("OUTLET", "")
        or header.get("AUTHOR", "")
        or extracted.outlet
        or (urlsplit(fetched_url).hostname or "" if fetched_html else ""),
        date=date,
        url=url,
        content_hash=hashlib.sha256(raw).hexdigest(),
        extra=tuple(extra),
    )


# --- loading ------------------------------------------------------------------------------------


def _extract(fmt: str, raw: bytes, what: str, charset: str = "", url: str = "") -> Extracted:
    """The body and hints of one input; an HTML page fetched from `url` goes through trafilatura."""
    if not raw.strip():
        raise IngestError(f"{what}: the file is empty; remove it or add text.")
    if fmt == "pdf":
        return extract_pdf(raw, what)
    if fmt == "docx":
        return extract_docx(raw, what)
    if fmt == "html" and url:
        return extract_web_page(raw, what, url, charset)
    if fmt == "html":
        return extract_html(raw, what, charset)
    return extract_text(raw, what, markdown=fmt == "md", charset=charset)


def load(ref: SourceRef, settings: Settings) -> Document:
    """Read and parse one input into a Document (NFC body, never the header), or raise IngestError."""
    if _is_url(ref.location):
        fetched = fetch(ref.location, settings)
        extracted = _extract(fetched.fmt, fetched.raw, ref.source, fetched.charset, url=fetched.url)
        meta = build_meta(ref.source, fetched.raw, extracted, fetched.fmt == "html", fetched_url=ref.location)
    else:
        path = Path(ref.location)
        fmt = SUPPORTED_EXTENSIONS.get(path.suffix.lower())
        if fmt is None:
            raise IngestError(
                f"{ref.source}: unsupported file type {path.suffix}: "
                "convert it to PDF, DOCX, HTML, Markdown or text."
            )
        try:
            size = path.stat().st_size
            if size > settings.max_file_mb * 1024 * 1024:
                raise IngestError(
                    f"{ref.source}: {size / 1048576:.1f} MB is over the {settings.max_file_mb:g} MB limit; "
                    "split the file or raise CA_MAX_FILE_MB."
                )
            raw = path.read_bytes()
        except OSError as exc:
            raise IngestError(
                f"{ref.source}: cannot be read ({exc.strerror}); check that it exists and is readable."
            ) from None
        extracted = _extract(fmt, raw, ref.source)
        meta = build_meta(ref.source, raw, extracted, fetched_html=False)
    if not extracted.text.strip():
        raise IngestError(f"{ref.source}: no text after the header; add the body or remove the file.")
    return Document(meta=meta, text=extracted.text, pages=extracted.pages)
