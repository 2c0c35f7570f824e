"""Conversation state: a follow-up made standalone, keeping the treaty, article and topic of earlier turns."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from assistant.answering.cues import HOW_MANY, WHEN, WHO
from assistant.text.references import ArticleRef, article_spans, parse_article_refs, treaties_named
from assistant.text.tokenizer import tokenize
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
_STARTS_WITH_AND = re.compile(r"^\s*(?:and|et|y|và|còn|а|и)\b", re.IGNORECASE)
# A follow-up that asks for a date, a figure or a person of its own ("and when does it enter into force?"),
# unless it points back at what the earlier question was about ("who criticises that definition?").
_OWN_ASK = (WHEN, HOW_MANY, WHO)
_POINTS_BACK = re.compile(r"\b(?:that|this|these|those|ce|cet|cette|ces|ese|esa|este|esta|đó|này|ấy)\b", re.I)
_SHORT_WORDS = 7
_BARE_WORDS = 2  # "et l'article 17 ?", "còn Điều 17 thì sao?": no words to keep beside the article


@dataclass(frozen=True)
class Question:
    """A question as the answerer needs it: the user's words, a standalone form, and what is in scope."""

    original: str  # what the user typed
    standalone: str  # understandable without the conversation; what retrieval searches for
    context: str = ""  # the earlier question a follow-up leans on ("" when it stands alone)
    refs: tuple[ArticleRef, ...] = ()  # articles in scope, each with its treaty resolved
    treaty: str = ""  # the treaty in scope: named by the question, else by the conversation

    @property
    def is_followup(self) -> bool:
        """True when earlier turns completed this question."""
        return bool(self.context)


def is_followup(question: str) -> bool:
    """True when the question cannot stand alone: short, leaning on "it"/"and", or naming no treaty."""
    words = question.split()
    if _SUBJECT.search(question) and not _STARTS_WITH_AND.match(question):
        return False
    has_article = bool(parse_article_refs(question))
    return len(words) <= _SHORT_WORDS or has_article or bool(_LEANING.search(question))


def _scope(text: str) -> str:
    named = treaties_named(text)
    return named[0] if named else ""


def resolve(question: str, history: Sequence[Turn] = (), names: Mapping[str, str] | None = None) -> Question:
    """The question with its scope; a follow-up gets the earlier question's treaty, article and topic.

    `names`: each treaty's name in the reader's language, for a follow-up that asks a question of its own.
    """
    question = question.strip()
    own_refs = tuple(parse_article_refs(question))
    own_treaty = _scope(question)
    earlier = [t.content.strip() for t in history if t.role == "user" and t.content.strip()]
    if not earlier or not is_followup(question):
        treaty = own_treaty or next((r.treaty for r in own_refs if r.treaty), "")
        return Question(question, question, refs=own_refs, treaty=treaty)
    # the most recent earlier question that names a subject is the one the follow-up leans on
    context = next((q for q in reversed(earlier) if _SUBJECT.search(q)), earlier[-1])
    treaty = own_treaty or next((t for q in reversed(earlier) for t in treaties_named(q)), "")
    if own_refs:
        refs = tuple(r if r.treaty else replace(r, treaty=treaty) for r in own_refs)
        standalone = _with_article(context, question, refs[0])
        if len(_LEANING.sub(" ", _without_articles(question)).split()) > _BARE_WORDS:
            standalone = f"{question} {standalone}"  # the user's own words say more than "and Article 17?"
        return Question(question, standalone, context, refs, treaty)
    # no article of its own: the earlier question's articles stay in scope ("and what does it require?")
    refs = tuple(r if r.treaty else replace(r, treaty=treaty) for r in parse_article_refs(context))
    if names and names.get(treaty) and not refs and _asks_its_own(question):
        # subtle: "and when does it enter into force?" after "how many countries signed?" asks its own
        # question of the earlier treaty; the earlier question's words would steer the answer back to them
        return Question(question, f"{question} ({names[treaty]})", context, refs, treaty)
    return Question(question, f"{question} {context}", context, refs, treaty)


def _asks_its_own(question: str) -> bool:
    """A date, figure or person asked of something the question names itself ("and when?" names nothing)."""
    asks = [p for p in _OWN_ASK if p.search(question)]
    if not asks or _POINTS_BACK.search(question):
        return False
    rest = _LEANING.sub(" ", asks[0].sub(" ", question))
    return bool(tokenize(rest))


def _without_articles(text: str) -> str:
    """The text with its article references blanked out."""
    text = unicodedata.normalize("NFC", text)
    for span in reversed(article_spans(text)):
        text = text[: span.start] + " " + text[span.end :]
    return text


def _with_article(context: str, question: str, ref: ArticleRef) -> str:
    """The earlier question asked of the new article ("What does Article 16 ..." -> "... Article 17 ...")."""
    context = unicodedata.normalize("NFC", context)
    spans = article_spans(context)
    if not spans:
        return f"{question} {context}"
    first = spans[0]
    # the reference's words before its number stay ("l'article", "Điều"); its paragraph goes
    new = context[first.start : first.number_start] + ref.article
    if ref.paragraph:
        new += f"({ref.paragraph})"
    rest = _without_articles(context[first.end :])  # other articles of the earlier question go
    return re.sub(r"\s{2,}", " ", context[: first.start] + new + rest).strip()
