"""Structure-aware chunking: worked examples, the real corpus, and invariants as property tests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_loaders import load_file, make_pdf
from test_structure import AR, ES, FR, VI  # the worked examples, shared with the parser tests

from assistant.answering.citations import citation_for, number_context
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.text.segmenter import sentence_bounds
from assistant.types import Chunk, DocMeta, Document, Hit
from ingest.chunking import chunk_document
from ingest.structure import article_numbers, parse_structure


def words(text: str) -> int:
    """Whitespace token count: the unit tests' tokenizer."""
    return len(text.split())


def _doc(text: str, title: str = "Model Convention", outlet: str = "", pages: tuple = ()) -> Document:
    meta = DocMeta(doc_id="doc1", source="corpus/x.txt", title=title, language="en", kind="treaty",
                   outlet=outlet)
    return Document(meta=meta, text=text, pages=pages)


def _corpus_doc(path: Path) -> Document:
    """A corpus file as the loader hands it over: header fields as metadata, the body as text."""
    header, body = path.read_text(encoding="utf-8").split("\n---\n", 1)
    fields = dict(line.split(": ", 1) for line in header.splitlines() if ": " in line)
    meta = DocMeta(doc_id=path.stem[:16], source=path.name, title=fields.get("TITLE", ""),
                   language=fields.get("LANGUAGE", ""), kind="other", outlet=fields.get("OUTLET/AUTHOR", ""))
    return Document(meta=meta, text=body)


def _regions(text: str) -> list[tuple[int, int]]:
    """Where chunks come from: runs of lines between headings in a legal text, else the whole text."""
    blocks = parse_structure(text)
    if len(article_numbers(blocks)) < 2:
        return [(0, len(text))]
    runs: list[tuple[int, int]] = []
    for prev, block in zip([None, *blocks], blocks, strict=False):
        if block.kind == "heading":
            continue
        if prev is not None and prev.kind != "heading" and runs:
            runs[-1] = (runs[-1][0], block.end)
        else:
            runs.append((block.start, block.end))
    return runs


def _check_invariants(doc: Document, chunks: list[Chunk], max_tokens: int) -> None:
    """What every chunking must satisfy: verbatim slices, order, ids, size, whole sentences."""
    assert [c.position for c in chunks] == list(range(len(chunks)))
    sentences = [span for start, end in _regions(doc.text) for span in sentence_bounds(doc.text, start, end)]
    bounds = {s for s, _ in sentences} | {e for _, e in sentences}
    for prev, chunk in zip([None, *chunks], chunks, strict=False):
        assert chunk.text and chunk.text == doc.text[chunk.char_start : chunk.char_end]
        assert chunk.text == chunk.text.strip()
        key = f"{doc.meta.doc_id}|{chunk.position}|{chunk.text}"
        assert chunk.chunk_id == hashlib.sha256(key.encode()).hexdigest()[:32]
        assert chunk.heading not in chunk.text or not chunk.heading
        if prev is not None:
            assert prev.char_start < chunk.char_start and prev.char_end < chunk.char_end
        if words(chunk.text) > max_tokens:
            assert len(chunk.text.split()) == 1, "only a single unsplittable word may exceed the budget"
        for edge in (chunk.char_start, chunk.char_end):
            if edge not in bounds:  # cut inside a sentence: allowed only when that sentence is too long
                s, e = next((s, e) for s, e in sentences if s <= edge <= e)
                assert words(doc.text[s:e]) > max_tokens


def test_french_worked_example_locators_and_headings() -> None:
    chunks = chunk_document(_doc(FR), words, 200, 20)
    assert [c.locator for c in chunks] == [
        "Preamble", "Chapter I, Article 1",
        "Chapter II, Section 1, Article 2", "Chapter II, Section 1, Article 3"]
    two = chunks[2]
    assert (two.chapter, two.section, two.article, two.paragraph) == ("II", "1", "2", "")
    assert two.text.startswith("1. Chaque État") and two.text.endswith("mesures de sécurité.")
    assert two.heading == ("Model Convention — Chapter II, Section 1, Article 2 — Accès illégal "
                           "(Incriminations; Infractions contre les données)")
    assert "Article 2" not in two.text
    _check_invariants(_doc(FR), chunks, 200)


def test_small_budget_splits_articles_at_paragraphs() -> None:
    chunks = chunk_document(_doc(FR), words, 16, 0)
    article_two = [c for c in chunks if c.article == "2"]
    assert [c.locator for c in article_two] == [
        "Chapter II, Section 1, Article 2(1)", "Chapter II, Section 1, Article 2(2)"]
    assert [c.paragraph for c in article_two] == ["1", "2"]
    _check_invariants(_doc(FR), chunks, 16)


@pytest.mark.parametrize(("text", "expected"), [
    (VI, ["Chapter I, Article 1", "Chapter II, Section 1, Article 7"]),
    (AR, ["Preamble", "Chapter I, Article 1", "Chapter II, Section 1, Article 7"]),
    (ES, ["Chapter II, Section 2, Article 16", "Chapter II, Section 2, Article 17"]),
])
def test_worked_examples_in_vi_ar_es(text: str, expected: list[str]) -> None:
    chunks = chunk_document(_doc(text), words, 200, 20)
    assert [c.locator for c in chunks if c.locator != "Preamble" or "Preamble" in expected] == expected
    _check_invariants(_doc(text), chunks, 200)


def test_paragraph_ranges_and_overlap_within_one_article() -> None:
    sentences = " ".join(f"Sentence number {n} of the second paragraph." for n in range(1, 9))
    text = (f"Article 1\n\nTitle one\n\n1. First paragraph is short.\n2. {sentences}\n3. Third paragraph.\n\n"
            "Article 2\n\nAnother article here.")
    chunks = chunk_document(_doc(text), words, 20, 7)
    one = [c for c in chunks if c.article == "1"]
    assert one[0].locator == "Article 1(1)-(2)"
    assert one[-1].locator == "Article 1(2)-(3)"
    # the next chunk of a split paragraph repeats its last sentence (7 words fit the overlap)
    for prev, nxt in zip(one, one[1:], strict=False):
        last_sentence = prev.text.rsplit("paragraph.", 2)[-2].split(". ")[-1] + "paragraph."
        assert nxt.text.startswith(last_sentence.strip())
    assert chunks[-1].text == "Another article here." and chunks[-1].locator == "Article 2"
    _check_invariants(_doc(text), chunks, 20)


def test_press_paragraphs_pages_and_heading() -> None:
    paras = [f"Paragraph {n} says something. It ends here." for n in range(1, 6)]
    text = "\n\n".join(paras)
    pages = ((1, 0), (2, text.index("Paragraph 3")))
    chunks = chunk_document(_doc(text, title="Guterres in Hanoi", outlet="VNA", pages=pages), words, 14, 0)
    assert [c.locator for c in chunks] == ["¶ 1-2, p. 1", "¶ 3-4, p. 2", "¶ 5, p. 2"]
    assert [c.page for c in chunks] == [1, 2, 2]
    assert chunks[0].heading == "Guterres in Hanoi — VNA"
    assert chunks[0].text == text[: text.index("\n\nParagraph 3")]


def test_pdf_locators_name_the_page_once(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    press, treaty = tmp_path / "press.pdf", tmp_path / "treaty.pdf"
    press.write_bytes(make_pdf([["Guterres spoke in Hanoi.", "He urged states to sign."],
                                ["The treaty opens for signature.", "Seventy-two states signed it."]]))
    treaty.write_bytes(make_pdf([["Article 1", "Use of terms", "1. Data means any data.", "Article 2",
                                  "Illegal access", "1. Each Party shall adopt measures."],
                                 ["2. A Party may require dishonest intent.", "Article 3", "Final clause"]]))
    locators = {}
    for path, budget in ((press, 10), (press, 40), (treaty, 40)):
        doc = load_file(path, make_settings())
        chunks = chunk_document(doc, words, budget, 0)
        items = number_context([Hit(chunk=c, doc=doc.meta, score=1.0) for c in chunks])
        cited = [citation_for(item, item.hit.chunk.text[:8]).locator for item in items]
        assert cited == [c.locator for c in chunks]  # the citation says where the chunk says, once
        assert all(doc.meta.title == c.heading.split(" — ")[0] and ", p" not in c.heading for c in chunks)
        locators[path.stem, budget] = cited
    assert locators["press", 10] == ["¶ 1, p. 1", "¶ 2, p. 2"]
    assert locators["press", 40] == ["¶ 1-2, pp. 1-2"]
    assert locators["treaty", 40] == ["Article 1, p. 1", "Article 2, pp. 1-2"]


def test_invalid_budgets_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="max_tokens"):
        chunk_document(_doc("Text."), words, 0, 0)
    with pytest.raises(ConfigError, match="overlap"):
        chunk_document(_doc("Text."), words, 10, 10)


def test_budapest_articles_never_straddled(corpus_dir: Path) -> None:
    doc = _corpus_doc(corpus_dir / "texts" / "coe_budapest_convention_ets185_en.txt")
    for budget in (320, 60):
        chunks = chunk_document(doc, words, budget, 40)
        _check_invariants(doc, chunks, budget)
        headings = [b.start for b in parse_structure(doc.text) if b.kind == "heading"]
        assert not any(c.char_start < h < c.char_end for c in chunks for h in headings)
        sixteen = [c for c in chunks if c.article == "16"]
        assert sixteen and all(c.locator.startswith("Chapter II, Section 2, Article 16") for c in sixteen)
        assert all("Expedited preservation of stored computer data" in c.heading for c in sixteen)
        assert {c.article for c in chunks if c.article} == {str(n) for n in range(1, 49)}
    whole = chunk_document(doc, words, 320, 40)
    assert [c.locator for c in whole if c.article == "16"] == ["Chapter II, Section 2, Article 16"]
    assert whole[0].locator == "Preamble"


def test_arabic_un_convention_chunks(corpus_dir: Path) -> None:
    doc = _corpus_doc(corpus_dir / "texts" / "uncc_articles_01-15_ar.txt")
    chunks = chunk_document(doc, words, 120, 20)
    _check_invariants(doc, chunks, 120)
    assert {c.article for c in chunks if c.article} == {str(n) for n in range(1, 16)}
    assert any(c.locator == "Chapter II, Article 7" for c in chunks)


def test_press_digests_chunk_by_paragraphs(corpus_dir: Path) -> None:
    paths = sorted((corpus_dir / "digests").glob("*.txt")) + sorted((corpus_dir / "press").glob("*.txt"))
    for path in paths:
        doc = _corpus_doc(path)
        chunks = chunk_document(doc, words, 120, 20)
        _check_invariants(doc, chunks, 120)
        assert all(c.locator.startswith("¶ ") and not c.article for c in chunks), path.name
        assert chunks[0].heading.startswith(doc.meta.title)


# --- property tests on random texts ----------------------------------------------------------------

_WORD = st.sampled_from(["data", "Party", "shall", "adopt", "measures", "Art.", "e.g.", "No.", "«loi»",
                         "computer", "systems", "người", "الدول", "12", "in", "of", "a)", "x" * 30])
_SENTENCE = st.builds(lambda w, end: " ".join(w).capitalize() + end,
                      st.lists(_WORD, min_size=1, max_size=30), st.sampled_from([".", "?", "!", ";", ""]))
_PARAGRAPH = st.builds(lambda s, sep, n: (f"{n}. " if n else "") + sep.join(s),
                       st.lists(_SENTENCE, min_size=1, max_size=6), st.sampled_from([" ", "\n", " "]),
                       st.integers(0, 4))
_PART = st.one_of(_PARAGRAPH, _PARAGRAPH, st.builds(lambda n: f"Article {n}", st.integers(1, 60)),
                  st.builds(lambda n: f"CHAPTER {n}", st.sampled_from(["I", "II", "III"])))
_TEXT = st.builds(lambda parts: "\n\n".join(parts), st.lists(_PART, min_size=1, max_size=14))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, max_tokens=st.integers(3, 60), overlap=st.integers(0, 10))
def test_chunk_invariants_hold_on_random_texts(text: str, max_tokens: int, overlap: int) -> None:
    overlap = min(overlap, max_tokens - 1)
    doc = _doc(text)
    chunks = chunk_document(doc, words, max_tokens, overlap)
    _check_invariants(doc, chunks, max_tokens)
    again = chunk_document(doc, words, max_tokens, overlap)
    assert [c.chunk_id for c in again] == [c.chunk_id for c in chunks]
    covered = " ".join(doc.text[c.char_start : c.char_end] for c in chunks).split()
    blocks = parse_structure(text)
    legal = len(article_numbers(blocks)) >= 2
    body = [b for b in blocks if b.kind != "heading" or not legal]
    body_words = {w for b in body for w in text[b.start : b.end].split()}
    assert body_words <= set(covered), "every word of the body is in some chunk"
    if legal:
        headings = [b.start for b in blocks if b.kind == "heading"]
        assert not any(c.char_start < h < c.char_end for c in chunks for h in headings)


@pytest.mark.slow
def test_real_tokenizer_budget(corpus_dir: Path, small_embedder) -> None:  # type: ignore[no-untyped-def]
    doc = _corpus_doc(corpus_dir / "texts" / "coe_budapest_convention_ets185_en.txt")
    chunks = chunk_document(doc, small_embedder.count_tokens, 320, 40)
    assert all(small_embedder.count_tokens(c.text) <= 320 for c in chunks)
    assert len(chunks) >= 48
