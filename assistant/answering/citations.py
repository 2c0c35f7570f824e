"""Numbered context, citation markers [n] and quote verification: no citation is taken on trust."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.text.segmenter import split_sentences
from assistant.text.tokenizer import tokenize
from assistant.types import Citation, Hit

_QUOTE_MAP = str.maketrans({"’": "'", "‘": "'", "‚": "'", "‛": "'", "`": "'", "“": '"', "”": '"',
                            "„": '"', "«": '"', "»": '"', "‟": '"', "–": "-", "—": "-", "‑": "-"})
_INVISIBLE = {"\u00ad", "\u200b", "\u200c", "\u200d", "\ufeff"}
_MARKER = re.compile(r"\s?\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# Quoted spans an answer may contain: "...", “...”, «...», „...“ (at least 3 characters inside).
_QUOTED = re.compile(r'"([^"]{3,}?)"|“([^”]{3,}?)”|«\s?([^»]{3,}?)\s?»|„([^“”]{3,}?)[“”]')
_EDGE_PUNCT = " \t\n.,;:…'\"-"
_CLAIM_END = ".!?؟。！？"


@dataclass(frozen=True)
class ContextItem:
    """One numbered passage shown to the answerer: marker [n] refers to `hit`."""

    n: int
    hit: Hit


def number_context(hits: Sequence[Hit]) -> list[ContextItem]:
    """Number the hits from 1 in their ranked order."""
    return [ContextItem(n=i, hit=hit) for i, hit in enumerate(hits, start=1)]


def _normalize_with_map(text: str) -> tuple[str, list[int]]:
    """The normalized text and, for each of its characters, the index it came from in `text`."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch in _INVISIBLE:
            continue
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                origin.append(i)
            continue
        for piece in unicodedata.normalize("NFC", ch).casefold().translate(_QUOTE_MAP):
            out.append(piece)
            origin.append(i)
    if out and out[-1] == " ":
        out.pop()
        origin.pop()
    return "".join(out), origin


def normalize_for_match(text: str) -> str:
    """NFC, casefold, one kind of quote and dash, no soft hyphens, single spaces, stripped."""
    return _normalize_with_map(unicodedata.normalize("NFC", text))[0]


def locate_quote(quote: str, chunk_text: str) -> tuple[int, int] | None:
    """Offsets in `chunk_text` of the passage that matches `quote` after normalization, or None."""
    needle = normalize_for_match(quote).strip(_EDGE_PUNCT)
    if len(needle) < 3:
        return None
    hay, origin = _normalize_with_map(chunk_text)
    at = hay.find(needle)
    if at < 0:
        return None
    return origin[at], origin[at + len(needle) - 1] + 1


def best_sentence(claim: str, chunk_text: str) -> str:
    """The chunk sentence that best overlaps `claim` (always a substring of `chunk_text`)."""
    spans = split_sentences(chunk_text) or [(0, len(chunk_text))]
    want = set(tokenize(claim))
    best, best_score = spans[0], -1.0
    for start, end in spans:
        have = set(tokenize(chunk_text[start:end]))
        # subtle: prefer real sentences over headings ("SUMMARY:") when nothing overlaps
        score = len(want & have) / (1 + len(have)) ** 0.5 + (0.01 if len(have) >= 5 else 0.0)
        if score > best_score:
            best, best_score = (start, end), score
    return chunk_text[best[0] : best[1]]


def citation_for(item: ContextItem, quote: str) -> Citation:
    """A Citation of `item` whose quote is `quote` (the caller guarantees it is in the chunk)."""
    chunk, doc = item.hit.chunk, item.hit.doc
    return Citation(
        n=item.n, doc_id=doc.doc_id, source=doc.source, title=doc.title, language=doc.language,
        locator=chunk.locator, quote=quote, url=doc.url, chunk_id=chunk.chunk_id,
        outlet=doc.outlet, date=doc.date, kind=doc.kind,
    )


def source_line(citation: Citation, max_quote: int | None = None) -> str:
    """A citation as one line a reader can check: "[n] title — locator — “quote” — link".

    The quote is on one line (a quoted article keeps its line breaks in the answer JSON only), and cut at a
    word before `max_quote` characters, with an ellipsis, when given and longer.
    """
    quote = " ".join(citation.quote.split())
    if max_quote is not None and len(quote) > max_quote:
        cut = quote.rfind(" ", 0, max_quote)
        quote = quote[: cut if cut > 0 else max_quote] + " …"
    where = " — ".join(x for x in (citation.title, citation.locator, f"“{quote}”", citation.url) if x)
    return f"[{citation.n}] {where}"


def _marker_numbers(group: str) -> list[int]:
    return [int(x) for x in re.split(r"\s*[,;]\s*", group.strip())]


def _verify_claim(claim: str, by_n: dict[int, ContextItem],
                  found: dict[int, Citation]) -> str:
    """Clean one sentence: drop dangling markers, fake quotes and markers left without support."""
    markers = list(_MARKER.finditer(claim))
    valid_at = [[n for n in _marker_numbers(m.group(1)) if n in by_n] for m in markers]
    failed: set[tuple[int, int]] = set()  # (marker index, n) whose attached quote was not found
    quoted: dict[int, str] = {}  # n -> verified quote from this claim
    unquote: list[tuple[int, int]] = []  # spans of fake quotes whose marks are dropped
    for q in _QUOTED.finditer(claim):
        inner = next(g for g in q.groups() if g is not None)
        # a quote belongs to the nearest marker after it, or else the last marker before it
        after = [i for i, m in enumerate(markers) if m.start() >= q.end()]
        attached = after[0] if after else (len(markers) - 1 if markers else None)
        candidates = [n for ns in valid_at for n in ns]
        if attached is not None:
            candidates = valid_at[attached] + [n for n in candidates if n not in valid_at[attached]]
        hit_n = None
        for n in candidates:
            span = locate_quote(inner, by_n[n].hit.chunk.text)
            if span is not None:
                hit_n = n
                quoted.setdefault(n, by_n[n].hit.chunk.text[span[0] : span[1]])
                break
        if hit_n is None:
            unquote.append(q.span())
            if attached is not None:
                failed.update((attached, n) for n in valid_at[attached])
    # rebuild the claim from the end so earlier offsets stay valid
    edits: list[tuple[int, int, str]] = []
    plain = _MARKER.sub(" ", claim)
    for i, m in enumerate(markers):
        keep = [n for n in valid_at[i] if (i, n) not in failed or n in quoted]
        edits.append((m.start(), m.end(), (" [" + ", ".join(str(n) for n in keep) + "]") if keep else ""))
        for n in keep:
            if n not in found:
                quote = quoted.get(n) or best_sentence(plain, by_n[n].hit.chunk.text)
                found[n] = citation_for(by_n[n], quote)
    for start, end in unquote:
        edits.append((start, start + 1, ""))
        edits.append((end - 1, end, ""))
    for start, end, new in sorted(edits, reverse=True):
        claim = claim[:start] + new + claim[end:]
    return claim


def verify(text: str, items: Sequence[ContextItem]) -> tuple[str, list[Citation]]:
    """Keep only markers that point to an item and quotes found in that item; return text and citations."""
    by_n = {item.n: item for item in items}
    found: dict[int, Citation] = {}
    out: list[str] = []
    pos = 0
    for start, end in _claim_spans(text):
        out.append(text[pos:start])
        out.append(_verify_claim(text[start:end], by_n, found))
        pos = end
    out.append(text[pos:])
    return "".join(out), [found[n] for n in sorted(found)]


def _claim_spans(text: str) -> list[tuple[int, int]]:
    """Contiguous claim spans: a sentence never ends inside a quotation, and keeps its trailing markers."""
    spans: list[tuple[int, int]] = []
    start, depth, i = 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            depth = 0 if depth else 1
        elif ch in "“«„":
            depth += 1
        elif ch in "”»" and depth:
            depth -= 1
        elif depth == 0 and (ch == "\n" or ch in _CLAIM_END and (i + 1 == len(text) or text[i + 1].isspace()
                                                                  or text[i + 1] == "[" or ch in "。！？")):
            end = i + 1
            trailing = _MARKER.match(text, end)
            while trailing is not None:
                end = trailing.end()
                trailing = _MARKER.match(text, end)
            spans.append((start, end))
            start, depth, i = end, 0, end
            continue
        i += 1
    if start < len(text):
        spans.append((start, len(text)))
    return spans
