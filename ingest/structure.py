"""Legal structure parser: chapters, sections, articles and numbered paragraphs, with character spans."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from assistant.text.references import chinese_number

BlockKind = Literal["preamble", "heading", "body", "closing"]
Level = Literal["chapter", "section", "title", "article"]


@dataclass(frozen=True)
class Block:
    """One non-empty line of a text with the structure it belongs to; text[start:end] is the line."""

    kind: BlockKind
    start: int
    end: int
    chapter: str = ""
    chapter_title: str = ""
    section: str = ""
    section_title: str = ""
    article: str = ""
    article_title: str = ""
    paragraph: str = ""


_KEYWORDS: dict[Level, tuple[str, ...]] = {
    "chapter": ("chapter", "chapitre", "chương", "capítulo", "capitulo", "глава", "الفصل", "الباب"),
    "section": ("section", "sección", "seccion", "mục", "раздел", "الفرع"),
    "title": ("title", "titre", "título"),
    "article": ("article", "artículo", "articulo", "điều", "статья", "المادة"),
}
_LEVEL_OF = {kw: level for level, kws in _KEYWORDS.items() for kw in kws}
_KW = "|".join(sorted(_LEVEL_OF, key=len, reverse=True))

# Arabic ordinals, masculine (chapters) and feminine (articles); "عشر/عشرة" after one adds ten.
_AR_ORDINALS = {
    "الأول": 1, "الاول": 1, "الأولى": 1, "الاولى": 1, "الحادي": 1, "الحادية": 1,
    "الثاني": 2, "الثانية": 2, "الثالث": 3, "الثالثة": 3, "الرابع": 4, "الرابعة": 4,
    "الخامس": 5, "الخامسة": 5, "السادس": 6, "السادسة": 6, "السابع": 7, "السابعة": 7,
    "الثامن": 8, "الثامنة": 8, "التاسع": 9, "التاسعة": 9, "العاشر": 10, "العاشرة": 10,
}
_AR_ORD = "|".join(sorted(_AR_ORDINALS, key=len, reverse=True))
_WORD_ONE = {"premier", "première", "primero", "primera", "1er", "1re", "1º", "1°"}

# subtle: roman numerals are matched case-sensitively, or "Section civil" would be Section CIVIL.
_NUM = (
    rf"(?P<num>\d+(?:er|re|º|°)?|premier|première|primero|primera|(?-i:[IVXLCDM]+)"
    rf"|(?:{_AR_ORD})(?:\s+عشرة?)?)"
)
_SEP = r"[.:\-–—]"
_HEADING = re.compile(
    rf"^(?P<kw>{_KW})\s+{_NUM}(?:\s*{_SEP}\s*(?P<title>.*)|\s+(?P<bare>\S.*))?$", re.IGNORECASE
)
_ZH_HEADING = re.compile(
    r"^第(?P<num>[〇零一二两三四五六七八九十百\d]+)(?P<kw>章|节|節|条|條)(?:[\s　]+(?P<title>.+))?$"
)
_ZH_LEVEL: dict[str, Level] = {
    "章": "chapter", "节": "section", "節": "section", "条": "article", "條": "article",
}

# Numbered paragraphs: "1. ", "1 Each", "(1)", "1)", "1 - ", "١." ; lettered items stay in their paragraph.
_PARAGRAPH = re.compile(
    r"^(?:\((?P<p1>\d{1,3})\)|(?P<p2>\d{1,3})(?:\s?[.)]|\s*[-–—](?=\s))(?=\s|$)|(?P<p3>\d{1,3})\s+(?=\w))"
)
_CLOSING = re.compile(
    r"^(?:in witness whereof|done at|en foi de quoi|fait à|en fe de lo cual|hecho en|в удостоверение чего"
    r"|совершено в|وإثباتا لذلك|حررت في|为此|下列签署)",
    re.IGNORECASE,
)
_TITLE_END = ".;:,،؛"
_ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
          (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def to_roman(n: int) -> str:
    """Roman numeral of a positive integer."""
    out = []
    for value, letters in _ROMAN:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def normalize_number(raw: str, level: Level) -> str:
    """Normalized heading number: digits for articles, roman or digits as written for chapters."""
    raw = raw.strip()
    digits = re.match(r"\d+", raw)
    if digits:
        return str(int(digits.group()))  # subtle: int() also reads Arabic-Indic digits ("١٦" -> 16)
    if raw.casefold() in _WORD_ONE:
        value = 1
    elif raw.split()[0] in _AR_ORDINALS:
        parts = raw.split()
        value = _AR_ORDINALS[parts[0]] + (10 if len(parts) > 1 else 0)
    else:
        return raw.upper()  # a roman numeral, kept as written
    # numbers written as words: chapters read best in roman ("Chapter II"), articles in digits
    return str(value) if level == "article" else to_roman(value)


@dataclass(frozen=True)
class Heading:
    """A recognized heading line: its level, normalized number and inline title, if any."""

    level: Level
    number: str
    title: str
    title_at: int = 0  # offset of the title in the line


def parse_heading(line: str) -> Heading | None:
    """The heading on this stripped line, or None when the line is text (even if it cites an article)."""
    zh = _ZH_HEADING.match(line)
    if zh:
        level = _ZH_LEVEL[zh.group("kw")]
        value = chinese_number(zh.group("num"))
        number = to_roman(value) if level == "chapter" and not zh.group("num").isdigit() else str(value)
        return Heading(level, number, (zh.group("title") or "").strip(), max(zh.start("title"), 0))
    m = _HEADING.match(line)
    if not m:
        return None
    bare = m.group("bare")
    if bare is not None and not (bare[0].isupper() and _looks_like_title(bare)):
        # "Article 16 shall apply ...", "المادة 17 من": a sentence; a title without separator is capitalized
        return None
    level = _LEVEL_OF[m.group("kw").casefold()]
    if level == "title" and m.group("kw").islower():
        return None  # "title 2 of ..." in running text; real title headings are capitalized
    title = (m.group("title") or bare or "").strip()
    title_at = m.start("title") if m.group("title") is not None else m.start("bare")
    return Heading(level, normalize_number(m.group("num"), level), title, max(title_at, 0))


def _looks_like_title(text: str) -> bool:
    """A short capitalized phrase without final punctuation: a heading's title, not a sentence."""
    text = text.strip()
    return bool(text) and len(text) <= 120 and not text[0].islower() and text[-1] not in _TITLE_END


def paragraph_number(line: str) -> int | None:
    """The paragraph number a line starts with ("1.", "(2)", "3 Each", "١ -"), or None."""
    m = _PARAGRAPH.match(line)
    if not m:
        return None
    if m.group("p3") is not None:
        nxt = line[m.end()] if m.end() < len(line) else ""
        if not nxt or nxt.islower() or nxt.isdigit():
            return None  # "25 countries" or "3 4": a number, not a paragraph
    return int(next(g for g in (m.group("p1"), m.group("p2"), m.group("p3")) if g is not None))


def _lines(text: str) -> list[tuple[int, int]]:
    """Spans of the non-empty lines of `text`, stripped of surrounding whitespace."""
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def parse_structure(text: str) -> list[Block]:
    """Every non-empty line of `text` as a Block carrying its chapter, section, article and paragraph."""
    blocks: list[Block] = []
    state = Block("preamble", 0, 0)
    pending_title: Level | None = None  # a heading without inline title: its title may be the next line
    seen_article = False
    seen_heading = False
    last_paragraph = 0
    for start, end in _lines(text):
        line = text[start:end]
        heading = parse_heading(line)
        run_on = heading is not None and heading.title and not _looks_like_title(heading.title)
        if heading is not None:
            if run_on:  # "Article 16. Each Party shall ...": the text after the number is body, keep it
                heading = replace(heading, title="")
            state = _enter(state, heading)
            seen_article = seen_article or heading.level == "article"
            seen_heading = True
            last_paragraph = 0
            pending_title = None if heading.title or run_on else heading.level
            if not run_on:
                blocks.append(replace(state, kind="heading", start=start, end=end))
                continue
            body_start = start + heading.title_at
            heading_end = _strip_end(text, start, body_start)
            blocks.append(replace(state, kind="heading", start=start, end=heading_end))
            start, line = body_start, text[body_start:end]
        number = paragraph_number(line) if state.article else None
        if pending_title is not None and number is None and _looks_like_title(line) and len(line) <= 200:
            state = _with_title(state, pending_title, line)
            pending_title = None
            blocks.append(replace(state, kind="heading", start=start, end=end))
            continue
        pending_title = None
        # subtle: paragraph numbers only count when they follow on, so a stray "25 October" is not ¶ 25
        if number is not None and last_paragraph < number <= last_paragraph + 3:
            last_paragraph = number
            state = replace(state, paragraph=str(number))
        if seen_article and _CLOSING.match(line):
            state = Block("closing", 0, 0, chapter=state.chapter, chapter_title=state.chapter_title)
        kind: BlockKind = state.kind if state.kind == "closing" else ("body" if seen_heading else "preamble")
        blocks.append(replace(state, kind=kind, start=start, end=end))
    return blocks


def _strip_end(text: str, start: int, end: int) -> int:
    """End of text[start:end] without trailing whitespace."""
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _enter(state: Block, heading: Heading) -> Block:
    """The structure after a heading: a chapter resets its sections and articles, and so on down."""
    if heading.level == "chapter":
        return Block("body", 0, 0, chapter=heading.number, chapter_title=heading.title)
    base = replace(state, kind="body", article="", article_title="", paragraph="")
    if heading.level == "section":
        return replace(base, section=heading.number, section_title=heading.title)
    if heading.level == "title":
        return base
    return replace(base, article=heading.number, article_title=heading.title)


def _with_title(state: Block, level: Level, title: str) -> Block:
    """The structure with the title of the last heading filled in from the line after it."""
    if level == "chapter":
        return replace(state, chapter_title=title)
    if level == "section":
        return replace(state, section_title=title)
    if level == "article":
        return replace(state, article_title=title)
    return state


def article_numbers(blocks: list[Block]) -> list[str]:
    """The article numbers in the order their headings appear."""
    seen: list[str] = []
    for block in blocks:
        if block.kind == "heading" and block.article and (not seen or seen[-1] != block.article):
            seen.append(block.article)
    return seen
