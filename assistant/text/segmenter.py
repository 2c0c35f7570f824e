"""A small multilingual sentence splitter that returns character offsets (so quotes stay verbatim)."""

from __future__ import annotations

import re

# Terminators: Latin/Cyrillic/Vietnamese ". ! ?", Arabic "؟ ۔", CJK "。！？".
_CJK_END = "。！？"
_END = ".!?؟۔;" + _CJK_END
# subtle: a period after these words does not end a sentence ("Art. 16", "e.g. the", "No. 185").
_ABBREVIATIONS = frozenset({
    "art", "arts", "no", "nos", "p", "pp", "para", "paras", "e.g", "i.e", "etc", "cf", "vs", "mr", "mrs",
    "ms", "dr", "st", "ets", "cets", "ch", "sect", "al", "approx", "fig", "vol", "ed", "eds", "op", "inc",
    "ltd", "co", "jr", "sr", "u.s", "u.n", "u.k",
})
MIN_SENTENCE_CHARS = 25  # shorter sentences are headings or fragments, not answers
_CLOSERS = "\"'”’»)]》」』"
_BULLET = re.compile(r"[-*•–]\s+")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation or a single letter, not a sentence."""
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].casefold()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split one line text[start:end] at sentence terminators."""
    spans: list[tuple[int, int]] = []
    begin = start
    i = start
    while i < end:
        ch = text[i]
        if ch in _END:
            j = i + 1
            while j < end and (text[j] in _END or text[j] in _CLOSERS):
                j += 1
            at_break = j >= end or text[j].isspace() or ch in _CJK_END
            if ch == "." and at_break and _is_abbreviation(text, i):
                at_break = False
            # "16.2" or "1.5 million": a period inside a number is not an end
            if ch == "." and j < end and text[j].isdigit():
                at_break = False
            if at_break:
                spans.append((begin, j))
                begin = j
            i = j
            continue
        i += 1
    spans.append((begin, end))
    return spans


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of `text`, stripped of surrounding whitespace, bullets and quotes."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        line_end = pos + len(line.rstrip("\r\n"))
        for s, e in _split_line(text, pos, line_end):
            s, e = _trim(text, s, e)
            if e > s:
                spans.append((s, e))
        pos += len(line)
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop whitespace, a leading bullet and a pair of enclosing quotation marks."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    bullet = _BULLET.match(text, start, end)
    if bullet and bullet.end() < end:
        start = bullet.end()
    pairs = {'"': '"', "“": "”", "«": "»", "„": "“", "'": "'"}
    if end - start >= 2 and text[start] in pairs and text[end - 1] == pairs[text[start]]:
        start, end = start + 1, end - 1
    elif end - start >= 2 and text[start] in pairs and pairs[text[start]] not in text[start + 1 : end]:
        start += 1  # a quote opened in this sentence and closed in a later one
    elif end - start >= 2 and text[end - 1] in '"”»' and not any(c in text[start : end - 1] for c in '"“«'):
        end -= 1  # the closing quote of a quotation that began in an earlier sentence
    return start, end


def quotable_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences an answer may quote (the pipeline embeds exactly these at ingest)."""
    return [
        (start, end) for start, end in split_sentences(text)
        if end - start >= MIN_SENTENCE_CHARS and not text[start:end].endswith(":")
    ]
