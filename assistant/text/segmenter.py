"""Sentences in the corpus languages as character offsets, so chunks and quotes stay verbatim.

One set of rules, two views: `sentence_bounds` keeps every character of a sentence (closing quotes,
bullets, list numbers) and joins hard-wrapped lines, because chunks start and end there;
`split_sentences` cuts those sentences further at line breaks and semicolons and trims bullets and
enclosing quotes, because answers quote them and sentence vectors embed them.
"""

from __future__ import annotations

import re

# Terminators: Latin/Cyrillic/Vietnamese ". ! ? …", Arabic "؟ ۔", CJK "。！？".
_CJK_END = "。！？"
_END = ".!?…؟۔" + _CJK_END
_CLOSERS = "\"'”’»)]》」』"
_LINE_END = _END + _CLOSERS + ":;؛"
# subtle: a period after these words does not end a sentence ("Art. 16", "No. 185", "TP. Hồ Chí Minh").
_ABBREVIATIONS = frozenset({
    "art", "arts", "no", "nos", "nr", "p", "pp", "para", "paras", "e.g", "i.e", "etc", "cf", "vs", "mr",
    "mrs", "ms", "dr", "st", "ets", "cets", "ch", "sect", "al", "approx", "fig", "vol", "ed", "eds", "op",
    "inc", "ltd", "co", "jr", "sr", "prof", "gen", "gov", "dept", "mme", "mlle", "env", "ibid", "jan", "feb",
    "aug", "sept", "oct", "nov", "dec", "tp", "ts", "ths", "pgs", "gs", "ст", "г", "т.е",
})
MIN_SENTENCE_CHARS = 25  # shorter sentences are headings or fragments, not answers
# A line that starts a list item or a numbered paragraph begins a new sentence even after no punctuation.
_ITEM_START = re.compile(
    r"[ \t]*(?:[-–—•*]\s|\(?\d{1,3}[.)]|\d{1,3}\s+[-–—]\s|\(\w{1,4}\)|\w{1,2}\)|['‘’]\d{1,2}['‘’])"
)
_BLANK_REST = re.compile(r"\s*$|[ \t\r\f\v]*\n")
_MARKER_ONLY = re.compile(r"\(?(?:\d{1,3}|[ivxIVX]{1,4}|\w)[.)]?")
_WORD = re.compile(r"\S+")
_CLAUSE = re.compile(r"[;:,،؛，；：、](?=\s)|[，；：、]")
# Where a sentence is cut further for quoting: a quote never spans lines, each list item ("a) ...;") is
# a quote of its own, and a paragraph's number ("2.") is not part of the quote (articles put it back).
_QUOTE_CUT = re.compile(r"\n|;[" + re.escape(_END + _CLOSERS) + r";]*(?=\s|$)|(?m:^[ \t]*\d+\.(?=\s))")
# a clause that goes on from the one before it: a lower-case conjunction or relative pronoun
_CONTINUES = re.compile(r"(?:or|and|but|nor|which|who|whose|while|whereas|ou|et|mais|ni|dont|qui"
                        r"|hoặc|và|nhưng|mà|o|y|pero|sino|или|и|но|а)\s")
_BULLET = re.compile(r"[-*•–]\s+")
_QUOTE_PAIRS = {'"': '"', "“": "”", "«": "»", "„": "“", "'": "'"}


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation, an initial or a list number."""
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot]
    if word.casefold() in _ABBREVIATIONS or (len(word) == 1 and word.isupper()) or "." in word:
        return True
    # "1." or "iv." opening a line is a list number, not the end of a sentence
    line_start = text.rfind("\n", 0, dot) + 1
    head = text[line_start:dot].strip().lstrip("(")
    return bool(head) and (head.isdigit() or re.fullmatch(r"[ivxlcIVXLC]{1,5}|[a-zA-Z]", head) is not None)


def _closes_sentence_at_newline(text: str, begin: int, nl: int, end: int) -> bool:
    """Whether the line break at `nl` ends the current sentence (a hard wrap inside one does not)."""
    line = text[max(begin, text.rfind("\n", begin, nl) + 1) : nl].strip()
    if not line or _MARKER_ONLY.fullmatch(line):
        return False  # "3." alone on a line: its paragraph follows on the next line
    if _BLANK_REST.match(text, nl + 1, end):
        return True  # a blank line, or the end of the span
    return line[-1] in _LINE_END or _ITEM_START.match(text, nl + 1, end) is not None


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_bounds(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end], stripped of whitespace only, in order, covering all its words."""
    end = len(text) if end is None else end
    cuts: list[int] = []
    begin, i = start, start
    while i < end:
        ch = text[i]
        if ch == "\n":
            if _closes_sentence_at_newline(text, begin, i, end):
                cuts.append(i)
                begin = i
            i += 1
            continue
        if ch not in _END:
            i += 1
            continue
        j = i + 1
        while j < end and (text[j] in _END or text[j] in _CLOSERS
                           or (text[j] in " \u00a0\u202f" and j + 1 < end and text[j + 1] == "»")):
            j += 1
        if ch in _CJK_END or _ends_sentence(text, i, j, end):
            cuts.append(j)
            begin = j
        i = j
    return _pieces(text, start, cuts, end)


def _ends_sentence(text: str, punct: int, after: int, end: int) -> bool:
    """Whether the terminator at `punct` (closers up to `after`) ends a sentence."""
    if after < end and not text[after].isspace():
        return False  # "16.2", "U.S.-led", "e.g.,"
    k = after
    while k < end and text[k].isspace():
        k += 1
    if k < end and text[k].islower():
        return False  # « Pourquoi ? » demanda-t-il / "e.g. the"
    return not (text[punct] == "." and _is_abbreviation(text, punct))


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of text[start:end] cut after clause punctuation (; : , ، ؛ ，), for over-long sentences."""
    cuts = [m.end() for m in _CLAUSE.finditer(text, start, end)]
    return _pieces(text, start, cuts, end)


def _pieces(text: str, start: int, cuts: list[int], end: int) -> list[tuple[int, int]]:
    """The non-empty, whitespace-trimmed spans between start, each cut and end."""
    spans = []
    for a, b in zip([start, *cuts], [*cuts, end], strict=True):
        a, b = _strip(text, a, b)
        if b > a:
            spans.append((a, b))
    return spans


def split_words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the whitespace-separated words of text[start:end]: the last resort for a run-on clause."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of `text`, one line at most, stripped of whitespace, bullets and quotes."""
    spans: list[tuple[int, int]] = []
    for start, end in sentence_bounds(text):
        cuts = [m.end() for m in _QUOTE_CUT.finditer(text, start, end)]
        for a, b in _pieces(text, start, cuts, end):
            a, b = _trim(text, a, b)
            if b > a:
                spans.append((a, b))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop a leading bullet and a pair of enclosing quotation marks (whitespace is already gone)."""
    bullet = _BULLET.match(text, start, end)
    if bullet and bullet.end() < end:
        start = bullet.end()
    pairs = _QUOTE_PAIRS
    if end - start >= 2 and text[start] in pairs and text[end - 1] == pairs[text[start]]:
        start, end = start + 1, end - 1
    elif end - start >= 2 and text[start] in pairs and pairs[text[start]] not in text[start + 1 : end]:
        start += 1  # a quote opened in this sentence and closed in a later one
    elif end - start >= 2 and text[end - 1] in '"”»' and not any(c in text[start : end - 1] for c in '"“«'):
        end -= 1  # the closing quote of a quotation that began in an earlier sentence
    return start, end


def widen_fragment(text: str, start: int, end: int) -> tuple[int, int]:
    """A quotable span that continues a sentence ("or protesting peacefully can...", cut at a ";"),
    widened back to the start of its sentence on the same line; any other span (a list item) as it is."""
    if not _CONTINUES.match(text, start, end):
        return start, end
    line = text.rfind("\n", 0, start) + 1
    begin = next((a for a, b in sentence_bounds(text, line, end) if a <= start < b), start)
    return _trim(text, begin, end)[0], end


def quotable_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences an answer may quote (the pipeline embeds exactly these at ingest)."""
    return [
        (start, end) for start, end in split_sentences(text)
        if end - start >= MIN_SENTENCE_CHARS and not text[start:end].endswith(":")
    ]
