"""Web pages fetched by URL: the article's text, title, date and outlet with trafilatura (dates by htmldate,
or read from the page's dateline in any of our languages); the whole-page extractor when trafilatura
finds no main text."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from assistant.errors import IngestError
from ingest.dates import normalize_date
from ingest.formats import Extracted, extract_html, normalize_text

log = logging.getLogger(__name__)

# Reader comments under names trafilatura's own rules miss ("box-comment", "commentaires", "binh-luan").
_COMMENT_BOX = re.compile(
    r"(?:^|[\s_-])(?:comments?|commentaires?|comentarios?|binh-?luan|y-?kien)(?:$|[\s_-])", re.I
)
# Where a page shows its date as text: bylines, date and time elements, the article's meta line.
_DATELINE = re.compile(
    r"(?:^|[\s_-])(?:date|time|byline|dateline|publi|posted|meta|auteur|author|fecha|ngay)", re.I
)
_DATELINE_MAX = 200  # characters; a longer element is prose that mentions dates, not a dateline
_SURE = 10  # len("YYYY-MM-DD"): a dateline must give the day
# htmldate reads markup only (meta tags, JSON-LD, <time datetime>, the address): its free-text search
# reads "© 2025" in a footer as 1 January 2025
_DATE_PARAMS = {"extensive_search": False, "original_date": True}
_BREAK = "\ue000"
_HOST = re.compile(r"https?://(?:www\.|w[0-9]+\.)?([^/]+)", re.I)  # how trafilatura names a site by its URL


def _flat(element: Any) -> str:
    """An element's text on one line."""
    return " ".join("".join(element.itertext()).split())


def _classes(element: Any) -> str:
    return " ".join(str(element.get(name, "")) for name in ("class", "id", "itemprop"))


def _is_comment_box(element: Any) -> bool:
    """A reader-comment section; never the story's own container (a body or an article may carry a
    class such as "comments-open")."""
    return (isinstance(element.tag, str) and element.tag not in ("html", "body", "main", "article")
            and bool(_COMMENT_BOX.search(_classes(element)))
            and element.find(".//h1") is None and element.find(".//main") is None)


def _drop_comment_boxes(tree: Any) -> None:
    for box in [el for el in tree.iter() if _is_comment_box(el)]:
        box.drop_tree()  # a box inside one already dropped leaves a detached tree: harmless


def _is_dateline(element: Any) -> bool:
    if not isinstance(element.tag, str):
        return False
    return element.tag == "time" or bool(_DATELINE.search(_classes(element)))


def _dated(element: Any) -> str:
    """The element's text when it is short and gives a full date, else ""."""
    text = _flat(element)
    return text if len(text) <= _DATELINE_MAX and len(normalize_date(text)) == _SURE else ""


def take_dateline(tree: Any) -> str:
    """The page's first dateline with a full date, as written ("Thứ Ba, 1 tháng 12 năm 2026 - 08:30"),
    taken out of the page: it is a byline, not the story. The innermost dated element is what is kept,
    so the author stays out when the date has an element of its own."""
    for element in tree.iter():
        if _is_dateline(element) and (text := _dated(element)):
            inner = next((t for d in element.iterdescendants() if _is_dateline(d) and (t := _dated(d))), "")
            # subtle: a bare <time> or a dateline inside a paragraph is part of a sentence; it stays
            if element.tag != "time" and next(element.iterancestors("p"), None) is None:
                element.drop_tree()
            return inner or text
    return ""


def _blocks(body: Any) -> str:
    """trafilatura's body as our text: a blank line between blocks, a line per list item, table row
    and <br>."""
    for br in body.iter("lb"):
        # subtle: a private-use character survives the whitespace folding, then becomes the line break
        br.tail = _BREAK + (br.tail or "")
    blocks = []
    for element in body:
        if element.tag == "list":
            lines = [_flat(item) for item in element.findall("item")]
        elif element.tag == "table":
            lines = [" ".join(_flat(cell) for cell in row.iter("cell")) for row in element.iter("row")]
        else:
            lines = [part.strip() for part in _flat(element).split(_BREAK)]
        blocks.append("\n".join(line for line in lines if line))
    return normalize_text("\n\n".join(b for b in blocks if b))


def _outlet(sitename: str | None, *urls: str | None) -> str:
    """The site's name as the page gives it; "" when trafilatura only made it from the address."""
    if not sitename:
        return ""
    made_up = {m.group(1).lower() for u in urls if u and (m := _HOST.match(u))}
    return "" if sitename.lower() in made_up else sitename


def _extract(tree: Any, url: str) -> Any:
    """trafilatura's document, or None when it finds no main text (or cannot read the page)."""
    import trafilatura  # noqa: PLC0415 (heavy: only when a page is ingested)
    from lxml.etree import LxmlError  # noqa: PLC0415

    try:
        return trafilatura.bare_extraction(
            tree, url=url or None, with_metadata=True, include_comments=False, favor_precision=True,
            date_extraction_params=dict(_DATE_PARAMS),
        )
    except (ValueError, TypeError, LxmlError) as exc:
        log.warning("%s: trafilatura failed (%s); reading the whole page", url, type(exc).__name__)
        return None


def extract_web_page(raw: bytes, what: str, url: str = "", charset: str = "") -> Extracted:
    """A fetched HTML page: the article's text and metadata (the loader normalizes the date, in any of our
    languages); the whole-page extractor (formats.extract_html) reads the text when trafilatura finds none."""
    from bs4 import UnicodeDammit  # noqa: PLC0415
    from lxml.html import tostring  # noqa: PLC0415
    from trafilatura import load_html  # noqa: PLC0415

    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(f"{what}: binary content served as an HTML page (compressed or an image?); "
                          "download the file and ingest it by its own type.")
    # subtle: decoded here (declared charset, then <meta charset>, then a guess), so trafilatura never
    # sees bytes: it would also unpack gzip or brotli ones, past the fetch's size limit
    markup = UnicodeDammit(raw, [charset] if charset else [], is_html=True).unicode_markup or ""
    tree = load_html(markup) if markup.strip() else None
    if tree is None:
        return extract_html(raw, what, charset)
    _drop_comment_boxes(tree)
    shown = take_dateline(tree)
    found = _extract(tree, url)
    body = found.body if found is not None else None
    # a headline alone is not a story (a photo page whose text is all in captions gives just that)
    if body is None or not any(element.tag != "head" and _flat(element) for element in body):
        log.info("%s: no main text found; reading the whole page", what)
        # the page without its comments and dateline; trafilatura's metadata still wins where it has some
        page = extract_html(tostring(tree, encoding="utf-8"), what, "utf-8")
        if found is None:
            return replace(page, date=page.date or shown)
        return replace(page, title=found.title or page.title,
                       outlet=_outlet(found.sitename, url, found.url) or page.outlet,
                       date=found.date or page.date or shown)
    lang = str(tree.get("lang") or "")
    return Extracted(
        text=_blocks(body), title=found.title or "", outlet=_outlet(found.sitename, url, found.url),
        date=found.date or shown, language=lang.split("-")[0].lower(), url=found.url or "",
    )
