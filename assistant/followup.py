"""Deterministic follow-up rewriting: carry the earlier question's treaty, subject and article."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.references import parse_article_refs
from assistant.types import Turn

# Words that make a question lean on the previous one (pronouns, "and ...", "what about ...").
_LEANING = re.compile(
    r"^\s*(?:and|what about|how about|et|mais|y|pero|và|còn|thế còn|а|и|و|那|还有)\b"
    r"|\b(?:it|its|they|them|this one|that one|the same|il|elle|celle-ci|celui-ci|ce texte|le même"
    r"|lo|la misma|ella|nó|họ|chúng|điều đó|văn bản đó|thì sao|она|он|её|его|это)\b|它|其|呢",
    re.IGNORECASE,
)
# Named subjects: a question naming one stands on its own.
_SUBJECT = re.compile(
    r"budapest|hanoi|hanoï|hà nội|united nations|nations unies|naciones unidas|liên hợp quốc|\bUN\b|\bONU\b"
    r"|\bUNCC\b|protocol|protocole|protocolo|nghị định thư|конвенц|ООН|اتفاقية|الأمم المتحدة|公约|联合国",
    re.IGNORECASE,
)
_ARTICLE_PHRASE = re.compile(
    r"(?:\b(?:articles?|arts?\.|artículos?|điều|статья|статьи|статье)\s*\d+(?:\s*\(\d+\))?|المادة\s*\d+"
    r"|第\s*\d+\s*条)",
    re.IGNORECASE,
)
_SHORT_WORDS = 7


def is_followup(question: str) -> bool:
    """True when the question cannot stand alone: short, leaning on "it"/"and", or naming no treaty."""
    words = question.split()
    if _SUBJECT.search(question) and not re.match(r"^\s*(?:and|et|y|và|còn|а|и)\b", question, re.I):
        return False
    has_article = bool(parse_article_refs(question))
    return len(words) <= _SHORT_WORDS or has_article or bool(_LEANING.search(question))


def rewrite_followup(question: str, history: Sequence[Turn]) -> str:
    """The question made standalone with the last earlier user question as context, or unchanged."""
    earlier = [t.content.strip() for t in history if t.role == "user" and t.content.strip()]
    if not earlier or not is_followup(question):
        return question
    # the most recent earlier question that names a subject is the one the follow-up leans on
    context = next((q for q in reversed(earlier) if _SUBJECT.search(q)), earlier[-1])
    if parse_article_refs(question):
        # subtle: the new article replaces the old one; keeping both would retrieve the old text
        context = _ARTICLE_PHRASE.sub("", context)
        context = re.sub(r"\s{2,}", " ", context).strip()
    return f"{question.strip()} ({context})"


def own_part(standalone: str) -> str:
    """The user's own words of a question made by `rewrite_followup` (the part before the context)."""
    # subtle: the first " (" when the text ends with ")": the earlier question may hold parentheses too,
    # and the user's question words come first anyway
    head, sep, _ = standalone.partition(" (")
    return head if sep and standalone.endswith(")") and head else standalone
