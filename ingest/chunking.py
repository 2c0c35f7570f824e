"""Structure-aware chunking in model tokens: one chunk per article when it fits, paragraphs for prose."""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.errors import ConfigError
from assistant.text.segmenter import sentence_bounds, split_clauses, split_words
from assistant.types import Chunk, Document
from ingest.structure import Block, article_numbers, parse_structure

CountTokens = Callable[[str], int]
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v\u00a0]*\n\s*")


@dataclass(frozen=True)
class _Para:
    """A paragraph of a unit: its number ("" when unnumbered) and span."""

    number: str
    start: int
    end: int


@dataclass(frozen=True)
class _Unit:
    """Text that chunks never straddle: one article, the preamble, or the whole of a prose text."""

    paras: tuple[_Para, ...]
    first: Block | None = None  # the structure of a legal unit; None for prose


@dataclass(frozen=True)
class _Atom:
    """The smallest piece a chunk is built of: a sentence, or a clause of an over-long sentence."""

    start: int
    end: int
    tokens: int
    para: int  # index in the unit's paras


def chunk_document(
    doc: Document, count_tokens: CountTokens, max_tokens: int, overlap_tokens: int
) -> list[Chunk]:
    """Cut a document into chunks of at most max_tokens, following its legal structure when it has one."""
    if max_tokens <= 0:
        raise ConfigError(f"Chunking needs max_tokens greater than 0. Currently, it is {max_tokens}.")
    if not 0 <= overlap_tokens < max_tokens:
        raise ConfigError(
            f"Chunk overlap must be between 0 and the chunk size ({max_tokens}). "
            f"Currently, it is {overlap_tokens}."
        )
    blocks = parse_structure(doc.text)
    legal = len(article_numbers(blocks)) >= 2
    units = _legal_units(blocks) if legal else [_prose_unit(doc.text)]
    chunks: list[Chunk] = []
    for unit in units:
        packer = _Packer(doc.text, count_tokens, max_tokens, overlap_tokens)
        for start, end, paras in packer.pack(unit):
            chunks.append(_make_chunk(doc, len(chunks), start, end, unit, paras))
    return chunks


def _legal_units(blocks: list[Block]) -> list[_Unit]:
    """Group the non-heading lines into units (article, preamble, closing) and numbered paragraphs."""
    units: list[_Unit] = []
    current: list[Block] = []

    def close() -> None:
        if current:
            paras: list[_Para] = []
            for block in current:
                if paras and paras[-1].number == block.paragraph:
                    paras[-1] = _Para(block.paragraph, paras[-1].start, block.end)
                else:
                    paras.append(_Para(block.paragraph, block.start, block.end))
            units.append(_Unit(tuple(paras), current[0]))
            current.clear()

    for block in blocks:
        if block.kind == "heading" or (current and (block.kind, block.article) != (current[0].kind,
                                                                                    current[0].article)):
            close()
        if block.kind != "heading":
            current.append(block)
    close()
    return units


def _prose_unit(text: str) -> _Unit:
    """The whole text as one unit whose paragraphs are separated by blank lines."""
    paras: list[_Para] = []
    begin = 0
    for m in [*_BLANK_LINE.finditer(text), None]:
        stop = m.start() if m else len(text)
        a, b = begin, stop
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            paras.append(_Para(str(len(paras) + 1), a, b))
        begin = m.end() if m else len(text)
    return _Unit(tuple(paras))


class _Packer:
    """Greedy packing of atoms into chunks: cut at a paragraph end when it leaves the chunk half full."""

    def __init__(self, text: str, count_tokens: CountTokens, max_tokens: int, overlap_tokens: int) -> None:
        self.text = text
        self.count = count_tokens
        self.max = max_tokens
        self.overlap = overlap_tokens
        # subtle: tokenizers add special tokens to every call; count them once per chunk, not per sentence
        self.base = max(count_tokens(""), 0)

    def _tokens(self, start: int, end: int) -> int:
        return max(self.count(self.text[start:end]) - self.base, 0)

    def atoms(self, unit: _Unit) -> list[_Atom]:
        """Sentences of each paragraph; a sentence over the budget is cut at clauses, then words."""
        out: list[_Atom] = []
        budget = self.max - self.base
        for index, para in enumerate(unit.paras):
            for s, e in sentence_bounds(self.text, para.start, para.end):
                tokens = self._tokens(s, e)
                if tokens <= budget:
                    out.append(_Atom(s, e, tokens, index))
                    continue
                for cs, ce in split_clauses(self.text, s, e):
                    ctokens = self._tokens(cs, ce)
                    if ctokens <= budget:
                        out.append(_Atom(cs, ce, ctokens, index))
                    else:
                        out.extend(_Atom(ws, we, self._tokens(ws, we), index)
                                   for ws, we in split_words(self.text, cs, ce))
        return out

    def pack(self, unit: _Unit) -> list[tuple[int, int, tuple[_Para, ...]]]:
        """(start, end, paragraphs) of each chunk of the unit, in order."""
        atoms = self.atoms(unit)
        budget = self.max - self.base
        pieces: list[tuple[int, int, tuple[_Para, ...]]] = []
        i, prev_start = 0, -1
        while i < len(atoms):
            first = self._overlap_start(atoms, i, prev_start)
            total = sum(a.tokens for a in atoms[first : i + 1])
            j = i
            while j + 1 < len(atoms) and total + atoms[j + 1].tokens <= budget:
                j += 1
                total += atoms[j].tokens
            if j + 1 < len(atoms):
                j = self._prefer_paragraph_end(atoms, first, i, j)
            while True:  # the sum of sentence counts is an estimate: check the real slice
                if self._tokens(atoms[first].start, atoms[j].end) <= budget:
                    break
                if j > i:
                    j -= 1
                elif first < i:
                    first = i
                else:
                    break  # one unsplittable word run: kept whole, over budget
            paras = tuple(unit.paras[atoms[first].para : atoms[j].para + 1])
            pieces.append((atoms[first].start, atoms[j].end, paras))
            prev_start = first
            i = j + 1
        return pieces

    def _overlap_start(self, atoms: list[_Atom], i: int, prev_start: int) -> int:
        """Index of the first atom to repeat from the previous chunk: same paragraph, within overlap."""
        first, used = i, 0
        budget = self.max - self.base - atoms[i].tokens if i < len(atoms) else 0
        while (first - 1 > prev_start and atoms[first - 1].para == atoms[i].para
               and used + atoms[first - 1].tokens <= min(self.overlap, budget)):
            first -= 1
            used += atoms[first].tokens
        return first if prev_start >= 0 else i

    def _prefer_paragraph_end(self, atoms: list[_Atom], first: int, i: int, j: int) -> int:
        """The last paragraph end in atoms[i..j] if the chunk stays at least half full, else j."""
        if atoms[j].para != atoms[j + 1].para:
            return j
        for m in range(j - 1, i - 1, -1):
            if atoms[m].para != atoms[m + 1].para:
                if sum(a.tokens for a in atoms[first : m + 1]) * 2 >= self.max:
                    return m
                break
        return j


def _make_chunk(doc: Document, position: int, start: int, end: int, unit: _Unit,
                paras: tuple[_Para, ...]) -> Chunk:
    """A Chunk with its id, locator (pages included), structure fields, heading and page."""
    text = doc.text[start:end]
    page, last_page = _page_at(doc, start), _page_at(doc, max(end - 1, start))
    numbers = [p.number for p in paras if p.number]
    paragraph = numbers[0] if len(set(numbers)) == 1 else (f"{numbers[0]}-{numbers[-1]}" if numbers else "")
    block = unit.first
    if block is None:
        locator = f"¶ {paragraph}" if paragraph else ""
        heading = " — ".join(p for p in (doc.meta.title, doc.meta.outlet) if p)
        chapter = section = article = ""
    else:
        if (start, end) == (unit.paras[0].start, unit.paras[-1].end):
            paragraph = ""  # the whole article: "Article 16", not "Article 16(1)-(4)"
        locator = _legal_locator(block, paragraph)
        chapter, section, article = block.chapter, block.section, block.article
        heading = " — ".join(p for p in (doc.meta.title, locator, block.article_title) if p)
        context = "; ".join(_tame(t) for t in (block.chapter_title, block.section_title) if t)
        if context:
            heading = f"{heading} ({context})"
    # subtle: the page goes in the locator, not the heading, so the embedded text does not depend on it
    if page is not None:
        pages = f"p. {page}" if last_page == page else f"pp. {page}-{last_page}"
        locator = f"{locator}, {pages}" if locator else pages
    digest = hashlib.sha256(f"{doc.meta.doc_id}|{position}|{text}".encode()).hexdigest()[:32]
    return Chunk(
        chunk_id=digest, doc_id=doc.meta.doc_id, position=position, text=text, heading=heading,
        locator=locator, chapter=chapter, section=section, article=article, paragraph=paragraph,
        page=page, char_start=start, char_end=end,
    )


def _legal_locator(block: Block, paragraph: str) -> str:
    """"Chapter II, Section 2, Article 16(2)", "Article 16(2)-(3)", "Preamble"."""
    if block.kind == "preamble":
        return "Preamble"
    parts = []
    if block.chapter:
        parts.append(f"Chapter {block.chapter}")
    if block.section:
        parts.append(f"Section {block.section}")
    if block.kind == "closing":
        parts.append("Closing clause")
    elif block.article:
        first, _, last = paragraph.partition("-")
        marks = f"({first})" + (f"-({last})" if last else "") if paragraph else ""
        parts.append(f"Article {block.article}{marks}")
    return ", ".join(parts)


def _tame(title: str) -> str:
    """An all-capitals title in sentence case ("USE OF TERMS" -> "Use of terms"), others unchanged."""
    return title.capitalize() if title.isupper() else title


def _page_at(doc: Document, offset: int) -> int | None:
    """The page holding character `offset`, when the document has page offsets (PDF)."""
    if not doc.pages:
        return None
    starts = [start for _, start in doc.pages]
    index = bisect.bisect_right(starts, offset) - 1
    return doc.pages[max(index, 0)][0]

