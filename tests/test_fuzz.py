"""Fuzzing loaders, structure parser and chunker: random and truncated inputs never crash or hang."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document as WordDocument
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_loaders import make_pdf

from assistant.errors import IngestError
from assistant.types import DocMeta, Document
from ingest.chunking import chunk_document
from ingest.formats import extract_docx, extract_html, extract_pdf, extract_text
from ingest.structure import parse_structure

# subtle: a deadline per example is the "no hang" check; generous because two CPUs are shared
FUZZ = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
REAL_FILES = sorted(CORPUS.glob("texts/*.txt")) + sorted(CORPUS.glob("digests/0*.txt"))[:4]


def sample_pdf() -> bytes:
    return make_pdf([["Article 1", "Use of terms", "1. For the purposes of this Convention:"],
                     ["Article 2", "(a) computer system means any device"], []])


def sample_docx() -> bytes:
    doc = WordDocument()
    doc.add_heading("Chapter I - General provisions", level=1)
    doc.add_paragraph("Article 1. Statement of purpose")
    doc.add_paragraph("1. The purposes of this Convention are to promote cooperation.")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "State", "Signed"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def survives(extract, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    """The only failure an extractor may raise is an IngestError with a one-line message."""
    try:
        extracted = extract(raw)
    except IngestError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(extracted.text, str)


EXTRACTORS = {
    "text": lambda raw: extract_text(raw, "fuzz.txt", markdown=False),
    "markdown": lambda raw: extract_text(raw, "fuzz.md", markdown=True),
    "html": lambda raw: extract_html(raw, "fuzz.html"),
    "pdf": lambda raw: extract_pdf(raw, "fuzz.pdf"),
    "docx": lambda raw: extract_docx(raw, "fuzz.docx"),
}


@pytest.mark.parametrize("kind", list(EXTRACTORS))
@FUZZ
@given(raw=st.binary(max_size=4096))
def test_extractors_on_random_bytes(kind: str, raw: bytes) -> None:
    survives(EXTRACTORS[kind], raw)


@pytest.mark.parametrize(("kind", "make"), [("pdf", sample_pdf), ("docx", sample_docx)])
@FUZZ
@given(data=st.data())
def test_truncated_and_corrupted_pdf_and_docx(kind: str, make, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    raw = bytearray(make())
    cut = data.draw(st.integers(0, len(raw)), label="cut")
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), max_size=8))
    for at, value in flips:
        raw[at] = value
    survives(EXTRACTORS[kind], bytes(raw[:cut]))


@pytest.mark.skipif(not REAL_FILES, reason="the shared corpus is not beside this checkout")
@FUZZ
@given(data=st.data())
def test_truncated_corpus_files_load_parse_and_chunk(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(REAL_FILES), label="file")
    raw = path.read_bytes()
    start = data.draw(st.integers(0, len(raw)), label="start")
    piece = raw[start : start + data.draw(st.integers(0, 6000), label="length")]  # may split a UTF-8 char
    for kind in ("text", "html"):
        survives(EXTRACTORS[kind], piece)
    try:
        extracted = extract_text(piece, path.name, markdown=False)
    except IngestError:
        return
    check_chunks(extracted.text)


legal_lines = st.sampled_from([
    "Chapter II", "CHAPTER III. PROCEDURAL MEASURES", "Section 2", "Article 16", "Article premier",
    "Điều 5", "Chương I", "المادة 3", "Artículo 12", "Статья 7", "第十二条", "1.", "2. ", "(a)", "",
    "Article 99999999999999999999", "Article", "1. The Parties shall adopt such measures.",
])
legal_text = st.lists(legal_lines | st.text(max_size=60), max_size=40).map("\n".join)


def check_chunks(text: str) -> None:
    """Structure and chunks of any text: every chunk is the exact slice of the text its offsets name."""
    parse_structure(text)
    meta = DocMeta(doc_id="f" * 16, source="fuzz.txt", title="Fuzz", language="en", kind="other")
    chunks = chunk_document(Document(meta=meta, text=text), lambda s: len(s.split()), 40, 8)
    for chunk in chunks:
        assert chunk.text == text[chunk.char_start : chunk.char_end]


@FUZZ
@given(text=legal_text | st.text(max_size=2000))
def test_structure_parser_and_chunker_on_random_legal_text(text: str) -> None:
    check_chunks(text)


def test_docx_with_a_damaged_deflate_stream_is_a_one_line_error() -> None:
    # regression: a zeroed byte inside a compressed part used to escape as zlib.error
    raw = bytearray(sample_docx())
    raw[495] = 0
    with pytest.raises(IngestError, match="corrupt or unreadable DOCX"):
        extract_docx(bytes(raw), "damaged.docx")
