"""Article references in questions ("Article 16(2)", "Điều 16", "المادة ١٦", "第16条") and treaty names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.types import DocMeta

BUDAPEST, UNCC, PROTOCOL = "budapest", "uncc", "protocol"
TREATIES = (BUDAPEST, UNCC, PROTOCOL)

_ARABIC_DIGITS = str.maketrans(
    {chr(0x0660 + i): str(i) for i in range(10)}
    | {chr(0x06F0 + i): str(i) for i in range(10)}
    | {"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه"}
)
_FIRST = r"premier|première|first|primero|primera|primo"
_PARA = (
    r"(?:\s*\((?P<p1>\d+)\)"
    r"|,?\s*(?:paragraph|para\.?|paragraphe|alinéa|par\.|§|párrafo|apartado|khoản|пункт|п\.)\s*(?P<p2>\d+))?"
)
_ARTICLE_PATTERNS = [
    # Latin-script languages: "Article 16", "art. 16(2)", "l'article premier", "Artículo 16", "Artikel 16"
    re.compile(rf"\b(?:articles?|arts?\.?|artículos?|articulos?|artikel|articolo)\s*(?P<a>\d+|{_FIRST})\b{_PARA}"),
    # Vietnamese: "Điều 16", "khoản 2 Điều 16"
    re.compile(r"(?:khoản\s*(?P<p1>\d+)\s*(?:của\s*)?)?\bđiều\s*(?P<a>\d+)\b(?:\s*khoản\s*(?P<p2>\d+))?"),
    # Arabic: "المادة 16", after digits and alef/ta marbuta are unified
    re.compile(r"(?:ال)?ماده\s*(?P<a>\d+)"),
    # Russian: "статья 16", "статье 16", "ст. 16"
    re.compile(rf"\b(?:стать[яиеюёй]|ст\.)\s*(?P<a>\d+){_PARA}"),
    # Chinese: "第16条", "第十六条"
    re.compile(r"第\s*(?P<a>\d+|[一二三四五六七八九十百]+)\s*条"),
]
# Treaty names as they appear in questions (matched on casefolded, Arabic-normalized text).
_TREATY_NAMES: list[tuple[str, re.Pattern[str]]] = [
    (PROTOCOL, re.compile(r"additional protocol|protocole additionnel|protocolo adicional"
                          r"|ets\s*(?:no\.?\s*)?189|nghị định thư|протокол")),
    (BUDAPEST, re.compile(r"budapest|ets\s*(?:no\.?\s*)?185|council of europe|conseil de l'europe"
                          r"|consejo de europa|hội đồng châu âu|будапешт|布达佩斯|بودابست")),
    (UNCC, re.compile(r"\buncc\b|united nations|nations unies|naciones unidas|\bonu\b|hanoi|hanoï"
                      r"|hà nội|liên hợp quốc|\blhq\b|الامم المتحده|\bоон\b"
                      r"|организаци[а-я]* объединенных наций|联合国|河内")),
]
# How a document names its treaty: title and source (file name or URL).
_DOC_TREATY: list[tuple[str, re.Pattern[str]]] = [
    (PROTOCOL, re.compile(r"additional protocol|ets\s*(?:no\.?\s*)?189|ets189")),
    (BUDAPEST, re.compile(r"budapest|ets\s*(?:no\.?\s*)?185|ets185")),
    (UNCC, re.compile(r"united nations convention against cybercrime|un convention against cybercrime|uncc"
                      r"|الامم المتحده")),
]
_CN_DIGITS = {ch: i for i, ch in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}


@dataclass(frozen=True)
class ArticleRef:
    """An article (and maybe paragraph) a question points at, with the treaty it names, if any."""

    article: str  # normalized number: "16", "1" for "article premier"
    paragraph: str = ""
    treaty: str = ""  # BUDAPEST, UNCC, PROTOCOL or "" when the question names none


@dataclass(frozen=True)
class ArticleSpan:
    """Where an article reference sits in a text (NFC offsets), and where its number is."""

    start: int
    end: int
    number_start: int
    number_end: int
    ref: ArticleRef


def _normalize(text: str) -> str:
    # subtle: Vietnamese "Điều" must stay composed (NFC) for the patterns; casefold keeps "đ". A letter
    # whose casefold is longer ("ß") stays as it is, so offsets in the result are offsets in the NFC text.
    nfc = unicodedata.normalize("NFC", text)
    folded = nfc.casefold()
    if len(folded) != len(nfc):  # rare, and the per-letter fold is 100 times slower: only when needed
        folded = "".join(f if len(f := ch.casefold()) == 1 else ch for ch in nfc)
    return folded.translate(_ARABIC_DIGITS).replace("’", "'")


def chinese_number(text: str) -> int:
    """Value of a Chinese numeral below 1000 (十六 -> 16, 二十 -> 20) or of plain digits."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for ch in text:
        if ch == "百":
            total += (digit or 1) * 100
            digit = 0
        elif ch == "十":
            total += (digit or 1) * 10
            digit = 0
        else:
            digit = _CN_DIGITS.get(ch, 0)
    return total + digit


def _article_number(raw: str) -> str:
    if raw.isdigit():
        return str(int(raw))
    if re.fullmatch(_FIRST, raw):
        return "1"
    return str(chinese_number(raw))


_UN_ACRONYM = re.compile(r"\bUN\b")  # case-sensitive: French and Spanish "un" is an article


def _treaty_mentions(original: str, norm: str) -> list[tuple[int, str]]:
    found = [(m.start(), treaty) for treaty, rx in _TREATY_NAMES for m in rx.finditer(norm)]
    found += [(m.start(), UNCC) for m in _UN_ACRONYM.finditer(original)]
    return sorted(found)


def treaties_named(text: str) -> list[str]:
    """The treaties a text names, in the order it names them, each once."""
    norm = _normalize(text)
    mentions = _treaty_mentions(unicodedata.normalize("NFC", text), norm)
    return list(dict.fromkeys(treaty for _, treaty in mentions))


def article_spans(text: str) -> list[ArticleSpan]:
    """Every article reference in a text, in order, each tied to the treaty named nearest to it."""
    norm = _normalize(text)
    mentions = _treaty_mentions(unicodedata.normalize("NFC", text), norm)
    spans: list[ArticleSpan] = []
    for pattern in _ARTICLE_PATTERNS:
        for m in pattern.finditer(norm):
            groups = m.groupdict()
            article = _article_number(groups["a"])
            if article == "0":
                continue
            paragraph = groups.get("p1") or groups.get("p2") or ""
            # the nearest named treaty wins; "Article 16 of the Budapest Convention" and
            # "Budapest Convention, Article 16" both resolve.
            treaty = min(mentions, key=lambda tm: abs(tm[0] - m.start()))[1] if mentions else ""
            ref = ArticleRef(article, str(int(paragraph)) if paragraph else "", treaty)
            spans.append(ArticleSpan(m.start(), m.end(), m.start("a"), m.end("a"), ref))
    return sorted(spans, key=lambda s: s.start)


def parse_article_refs(text: str) -> list[ArticleRef]:
    """Article references in a question, each once, in the order the text names them."""
    return list(dict.fromkeys(span.ref for span in article_spans(text)))


def treaty_of(doc: DocMeta) -> str:
    """Which treaty a document is the text of, judged from its title and source, or ""."""
    haystack = _normalize(f"{doc.title} {doc.source}")
    for treaty, rx in _DOC_TREATY:
        if rx.search(haystack):
            return treaty
    return ""
