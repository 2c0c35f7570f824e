"""Make model output safe to display: no reasoning blocks, images, HTML or links other than source URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"

_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# a link target may hold one level of parentheses, as in javascript:alert(1)
_TARGET = r"(?:[^()\s<>]|\([^()\s]*\))*"
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\](?:\(\s*<?" + _TARGET + r">?(?:\s+\"[^\"\n]*\")?\s*\)?|\[[^\]\n]*\])")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?(" + _TARGET + r")>?(?:\s+\"[^\"\n]*\")?\s*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*(?:>|\Z)")
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"'`\])]+", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"\b(?:javascript|data|vbscript):[^\s)\]]*", re.IGNORECASE)
_TAG_START = re.compile(r"<[A-Za-z/!]")
_SPACES = re.compile(r"(?<=\S)[ \t]{2,}(?=\S)")
_CJK_RANGES = (("\u3000", "\u303f"), ("\u3400", "\u9fff"), ("\uff00", "\uffef"))  # punctuation, ideographs
_TRAILING_PUNCT = ".,;:!?"
# a stream may hold back at most this much text while waiting for a construct to close
_MAX_HOLD = 1500


def strip_think(text: str) -> str:
    """Remove <think>...</think> reasoning blocks (and a dangling close tag's preamble)."""
    text = _THINK_BLOCK.sub("", text)
    # subtle: some chat templates open the block in the prompt, so only the close tag reaches us.
    lower = text.lower()
    if THINK_CLOSE in lower:
        text = text[lower.rindex(THINK_CLOSE) + len(THINK_CLOSE) :]
    return text


def _norm_url(url: str) -> str:
    return url.rstrip(_TRAILING_PUNCT).rstrip("/").lower()


def _clean(text: str, allowed: frozenset[str]) -> str:
    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        return match.group(0) if _norm_url(url) in allowed else label

    def bare_url(match: re.Match[str]) -> str:
        url = match.group(0)
        core = url.rstrip(_TRAILING_PUNCT)
        tail = url[len(core) :]
        return url if _norm_url(core) in allowed else tail

    text = _HTML_COMMENT.sub("", text)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(link, text)
    text = _HTML_TAG.sub("", text)
    text = _SCRIPT_URL.sub("", text)
    # links kept above are re-checked here, so an allowed label cannot smuggle another URL
    text = _URL.sub(bare_url, text)
    return _SPACES.sub(" ", text)


def sanitize_answer(text: str, allowed_urls: Iterable[str] = ()) -> str:
    """Remove reasoning blocks, markdown images, raw HTML and every URL that is not an allowed source URL."""
    allowed = frozenset(_norm_url(u) for u in allowed_urls if u)
    return _clean(strip_think(text), allowed).strip()


class ThinkStripper:
    """Streaming form of strip_think: feed pieces, get the text outside <think> blocks."""

    def __init__(self) -> None:
        self._buf = ""
        self._inside = False

    def feed(self, piece: str) -> str:
        """Text that is certainly outside a reasoning block, given one more piece."""
        self._buf += piece
        out: list[str] = []
        while True:
            if self._inside:
                end = self._buf.lower().find(THINK_CLOSE)
                if end < 0:
                    self._buf = self._buf[-(len(THINK_CLOSE) - 1) :]
                    break
                self._buf, self._inside = self._buf[end + len(THINK_CLOSE) :].lstrip(), False
                continue
            start = self._buf.lower().find(THINK_OPEN)
            if start >= 0:
                out.append(self._buf[:start])
                self._buf, self._inside = self._buf[start + len(THINK_OPEN) :], True
                continue
            hold = _partial_suffix(self._buf, THINK_OPEN)
            out.append(self._buf[: len(self._buf) - hold])
            self._buf = self._buf[len(self._buf) - hold :]
            break
        return "".join(out)

    def flush(self) -> str:
        """The held-back rest at the end of the stream (an unclosed block is dropped)."""
        rest, self._buf = ("" if self._inside else self._buf), ""
        return rest


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest end of `text` that starts `marker` (case-insensitive)."""
    lower = text.lower()
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(lower[-size:]):
            return size
    return 0


class StreamSanitizer:
    """Streaming form of sanitize_answer: releases text only at whitespace outside any open construct."""

    def __init__(self, allowed_urls: Iterable[str] = ()) -> None:
        self._allowed = frozenset(_norm_url(u) for u in allowed_urls if u)
        self._buf = ""
        self._after_space = True  # nothing shown yet: leading spaces are dropped too

    def feed(self, piece: str) -> str:
        """The cleaned text that can be shown now; the rest waits for more pieces."""
        self._buf += piece
        cut = _safe_cut(self._buf)
        if cut == 0 and len(self._buf) > _MAX_HOLD:
            cut = len(self._buf)
        ready, self._buf = self._buf[:cut], self._buf[cut:]
        return self._emit(ready)

    def flush(self) -> str:
        """The cleaned rest at the end of the stream."""
        ready, self._buf = self._buf, ""
        return self._emit(ready).rstrip()

    def _emit(self, ready: str) -> str:
        text = _clean(ready, self._allowed) if ready else ""
        # subtle: a removed construct leaves spaces on both sides, split across pieces.
        if self._after_space:
            text = text.lstrip(" \t")
        if text:
            self._after_space = text[-1].isspace()
        return text


def _is_break(ch: str) -> bool:
    # subtle: Chinese has no spaces; without CJK breaks a zh answer would arrive in one piece at the end
    return ch.isspace() or any(lo <= ch <= hi for lo, hi in _CJK_RANGES)


def _safe_cut(text: str) -> int:
    """End of the longest prefix that ends in a break (space, CJK) and leaves no tag, bracket or link open."""
    for i in range(len(text) - 1, -1, -1):
        if _is_break(text[i]) and not _is_open(text[: i + 1]):
            return i + 1
    return 0


def _is_open(head: str) -> bool:
    """Whether `head` ends inside an HTML tag or comment, a [bracket] or a markdown link target."""
    tag = max((m.start() for m in _TAG_START.finditer(head)), default=-1)
    return (
        tag > head.rfind(">")
        or head.rfind("[") > head.rfind("]")
        or head.rfind("](") > head.rfind(")")
    )
