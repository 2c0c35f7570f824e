"""Which documents a question names as their author ("what does Human Rights Watch criticise?")."""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.text.tokenizer import names_in, tokenize
from assistant.types import DocMeta

# Names of the treaties and of the UN itself: every document is about them, none is by them.
_NOT_AUTHORS = frozenset({"un", "onu", "lhq", "uno", "oon", "convention", "convencion", "protocol",
                          "protocole", "cong", "uoc", "budapest", "hanoi", "ha", "noi", "viet", "nam",
                          "vietnam"})  # as index terms: folded, lower case
_CAPITALIZED_RUN = re.compile(r"[A-ZÀ-ÝĐ][\w’'-]*(?:\s+(?:for|of|de|du|des|pour)?\s*[A-ZÀ-ÝĐ][\w’'-]*)*")
_MINOR = frozenset({"for", "of", "de", "du", "des", "pour", "the", "and"})


def author_names(question: str) -> tuple[tuple[str, ...], ...]:
    """The question's names that could be an author: runs of its names, each as index terms.

    "Human Rights Watch" is one name of three terms; "HRW" and "EFF" are names of one.
    """
    named = set(names_in(question))
    runs = []
    for m in _CAPITALIZED_RUN.finditer(question):
        words = [w for w in m.group(0).split() if w.lower() not in _MINOR]
        if not any(w in named for w in words):
            continue  # the question's first word, not a name
        words = [w for w in words if w in named]
        terms = tuple(t for w in words for t in tokenize(w) if t not in _NOT_AUTHORS)
        # a lone word names an author only as an acronym ("HRW"); "Canada" or "Waly" could be anyone's topic
        if len(terms) >= 2 or (len(words) == 1 and words[0].isupper() and len(words[0]) >= 2 and terms):
            runs.append(terms)
    return tuple(runs)


@lru_cache(maxsize=4096)
def _author_terms(outlet: str) -> frozenset[str]:
    """An outlet's index terms and the acronyms of its capitalized runs ("Human Rights Watch" -> "hrw")."""
    terms = set(tokenize(outlet))
    for m in _CAPITALIZED_RUN.finditer(outlet):
        words = [w for w in m.group(0).split() if w.lower() not in _MINOR]
        if len(words) >= 2:
            terms.add("".join(w[0] for w in words).lower())
    return frozenset(terms)


def by_named_author(names: tuple[tuple[str, ...], ...], doc: DocMeta) -> bool:
    """True when the document's outlet, author or title names one the question names ("Remarks by Ghada
    Waly", "Human Rights Watch")."""
    if not names:
        return False
    terms = _author_terms(f"{doc.outlet} ({doc.title})")
    return any(all(t in terms for t in name) for name in names)
