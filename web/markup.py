"""Safe markup for the chat page: answers as inert text with linked citation markers, and source panels."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from web.strings import text

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark
# a marker as as_text leaves it: "\[2\]" or a group "\[1\, 2\]"
_ESCAPED_MARKER = re.compile(r"\\\[([0-9]+(?:\s*\\[,;]\s*[0-9]+)*)\\\]")
_FIELDS = (("field_title", "title"), ("field_outlet", "outlet"), ("field_kind", "kind"),
           ("field_date", "date"), ("field_language", "language"), ("field_where", "locator"),
           ("field_source", "source"))
CITE_FRAGMENT = "#ca-cite-"  # the page script opens source N when a link to #ca-cite-N is clicked


def as_text(value: str) -> str:
    """Markdown that displays `value` literally: no HTML, links, images, emphasis or math can form."""
    # subtle: CommonMark lets a backslash escape any ASCII punctuation, and marked's autolinker needs an
    # unbroken "http://" or "www.", so escaping every mark turns all constructs into plain characters.
    return _PUNCT.sub(r"\\\1", value)


def cited_markdown(answer: str, cited: Iterable[int]) -> str:
    """`as_text(answer)` whose markers of the `cited` numbers are links to #ca-cite-N."""
    # subtle: links are added only after escaping, where as_text left an escaped marker; every "[" in
    # its output is escaped, so a match is always a whole marker, and the link's text (digits and
    # brackets) and its href (#ca-cite- and an int) are ours: document text still cannot form a link.
    numbers = {int(n) for n in cited}

    def link(n: str, label: str) -> str:
        return f"[{label}]({CITE_FRAGMENT}{int(n)})" if int(n) in numbers else label

    def marker(found: re.Match[str]) -> str:
        group = found[1]
        if group.isdigit():  # "[2]": the whole marker is the link, a target large enough to tap
            return link(group, found[0])
        return r"\[" + re.sub(r"[0-9]+", lambda d: link(d[0], d[0]), group) + r"\]"

    return _ESCAPED_MARKER.sub(marker, as_text(answer))


def status_line(lang: str, mode: str, notice: str = "") -> str:
    """The line under the chat: which answer mode answered, and the assistant's notice if any."""
    line = f"**{text(lang, 'mode')}:** {as_text(mode)}"
    return f"{line} — {as_text(notice)}" if notice else line


def source_choice(citation: dict[str, Any]) -> str:
    """The label of one citation in the sources list."""
    where = f" — {citation['locator']}" if citation.get("locator") else ""
    return f"[{citation['n']}] {citation.get('title', '')[:90]}{where}"


def _safe_url(url: str) -> str:
    return url if re.match(r"^https?://[^\s\"'<>]+$", url or "") else ""


def source_html(citation: dict[str, Any], chunk_text: str, lang: str) -> str:
    """The side panel of one citation, built from escaped text only; the quote is highlighted."""
    esc = html.escape
    quote = citation.get("quote", "")
    at = chunk_text.find(quote) if quote else -1
    if at < 0 and quote:
        at = chunk_text.lower().find(quote.lower())
    if at >= 0:
        body = (esc(chunk_text[:at]) + "<mark>" + esc(chunk_text[at : at + len(quote)]) + "</mark>"
                + esc(chunk_text[at + len(quote) :]))
    else:
        body = "<mark>" + esc(quote) + "</mark>" + ("<br><br>" + esc(chunk_text) if chunk_text else "")
    rows = [(text(lang, key), citation.get(field, "")) for key, field in _FIELDS]
    details = "".join(f"<dt>{esc(k)}</dt><dd>{esc(str(v))}</dd>" for k, v in rows if v)
    url = _safe_url(citation.get("url", ""))
    link = (f'<p><a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f'{esc(text(lang, "open_original"))}</a></p>' if url else "")
    n = int(citation.get("n", 0))
    return (f'<div class="ca-source" data-n="{n}"><h3>[{n}] {esc(citation.get("title", ""))}</h3>'
            f'<dl>{details}</dl><div class="ca-chunk">{body}</div>{link}</div>')
