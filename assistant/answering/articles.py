"""Article lookups: the named article's own text first, in order; an article the materials lack, said so."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answering.citations import ContextItem, citation_for
from assistant.answering.phrases import Phrases
from assistant.text.references import (
    BUDAPEST,
    PROTOCOL,
    ArticleRef,
    parse_article_refs,
    treaties_named,
    treaty_of,
)
from assistant.text.segmenter import quotable_sentences, split_sentences
from assistant.text.tokenizer import tokenize
from assistant.types import Citation

ARTICLE_CHARS = 1000  # how much of an article is quoted in order before the answer moves on
MAX_MENTIONS = 2  # passages of other documents on the same article, after its text

Held = Callable[[str], set[str]]  # treaty -> the article numbers whose text is in the index


@dataclass(frozen=True)
class ArticleText:
    """The passages of one article of one treaty among the retrieved items, in document order."""

    ref: ArticleRef
    treaty: str
    items: tuple[ContextItem, ...]

    @property
    def language(self) -> str:
        """The language the article's text is in."""
        return self.items[0].hit.doc.language


_NUMBERING = re.compile(r"^\(?[\w\u0600-\u06ff]{1,3}[.)]?\s*[-–]?$")


def article_sentences(text: str) -> list[tuple[int, int]]:
    """An article's sentences, list introductions ("... the following:") included; a paragraph's number
    ("2.") stays with the sentence it opens."""
    out: list[tuple[int, int]] = []
    pending: int | None = None
    for start, end in split_sentences(text):
        if _NUMBERING.match(text[start:end]):
            pending = start if pending is None else pending
            continue
        out.append((start if pending is None else pending, end))
        pending = None
    return out


# Words of a bare article lookup ("what does Article 16 of the Budapest Convention say?"), through the
# same tokenizer as the question (stopwords dropped, accents folded, Arabic prefixes stripped).
_LOOKUP_WORDS = frozenset(tokenize("""
say says said require requires provide provides stipulate stipulates state states set sets out mean
means text content contents article articles convention conventions treaty budapest united nations
cybercrime against additional protocol ets 185 189 what does read reads exactly quote
dit dire prévoit dispose énonce contenu convention cybercriminalité unies onu protocole additionnel
quoi stipule
Điều Công ước Liên Hợp Quốc về chống tội phạm mạng Nghị định thư bổ sung quy định gì nội dung
là thì sao còn của và
dice establece dispone artículo convenio convención naciones unidas ciberdelincuencia protocolo adicional
ماذا تنص نص المادة اتفاقية الأمم المتحدة لمكافحة مكافحة الجريمة السيبرانية بودابست
"""))


def is_bare_lookup(question: str) -> bool:
    """True when the question only names an article ("Que dit l'article 16 ?"), asking nothing narrower."""
    return all(t in _LOOKUP_WORDS or t.isdigit() for t in tokenize(question))


def find_article(refs: Sequence[ArticleRef], items: Sequence[ContextItem]) -> ArticleText | None:
    """The first named article whose own text was retrieved (the best-ranked treaty if none is named)."""
    for ref in refs:
        matching = [
            i for i in items
            if i.hit.chunk.article == ref.article and treaty_of(i.hit.doc)
            and (not ref.treaty or treaty_of(i.hit.doc) == ref.treaty)
        ]
        if not matching:
            continue
        doc_id = matching[0].hit.doc.doc_id  # the best-ranked document holding that article
        own = sorted((i for i in matching if i.hit.doc.doc_id == doc_id), key=lambda i: i.hit.chunk.position)
        if ref.paragraph:
            # subtle: a paragraph chunk when the structure parser cut one; else the whole article stays
            exact = [i for i in own if i.hit.chunk.paragraph == ref.paragraph]
            own = exact or own
        return ArticleText(ref, treaty_of(own[0].hit.doc), tuple(own))
    return None


def missing_article(refs: Sequence[ArticleRef], held: Held | None) -> tuple[ArticleRef, set[str]] | None:
    """A named article of a named treaty whose text the index does not hold, with what it does hold."""
    if held is None:
        return None
    for ref in refs:
        if not ref.treaty:
            continue
        have = held(ref.treaty)
        if have and ref.article not in have:
            return ref, have
    return None


def article_spans(article: ArticleText, best: Sequence[tuple[int, int, int]] = ()
                  ) -> list[tuple[ContextItem, int, int]]:
    """The article's sentences in order: its opening, then the sentences that answer the question best.

    `best` lists (n, start, end) of the article's sentences that answer best, best first; the quote keeps
    the article's order and stays within ARTICLE_CHARS (at least one sentence).
    """
    spans: list[tuple[ContextItem, int, int]] = []
    for item in article.items:
        text = item.hit.chunk.text
        found = article_sentences(text)
        if article.ref.paragraph and not item.hit.chunk.paragraph:
            # a whole-article chunk: start at "2." when paragraph 2 is asked for
            marker = f"{article.ref.paragraph}."
            starts = [s for s in found if text[s[0] : s[0] + len(marker) + 1].strip() == marker]
            if starts:
                found = [s for s in found if s[0] >= starts[0][0]]
        spans.extend((item, s, e) for s, e in found)
    # the article in order from its opening, as far as the budget goes ...
    chosen: list[int] = []
    size = 0
    for i, (_, start, end) in enumerate(spans):
        if chosen and size + (end - start) > ARTICLE_CHARS:
            break
        chosen.append(i)
        size += end - start
    # ... and the sentence that answers the question best, wherever it is ("sixty days" in paragraph 7)
    for n, bs, be in best[:1]:  # empty for a bare lookup
        chosen += [i for i, (item, s, e) in enumerate(spans) if item.n == n and s <= bs and be <= e]
    return [spans[i] for i in sorted(set(chosen))]


def mentions(article: ArticleText, items: Sequence[ContextItem], language: str,
             ) -> list[tuple[ContextItem, int, int]]:
    """Sentences of other documents that name the same article, the reader's language first."""
    own_docs = {i.hit.doc.doc_id for i in article.items}
    found: list[tuple[int, tuple[ContextItem, int, int]]] = []
    for item in items:
        if item.hit.doc.doc_id in own_docs or treaty_of(item.hit.doc):
            continue
        text = item.hit.chunk.text
        for start, end in quotable_sentences(text):
            # subtle: the sentence itself must name the treaty: "l'article 16 du TFUE" is another text
            refs = parse_article_refs(text[start:end])
            if any(r.article == article.ref.article and r.treaty == article.treaty for r in refs):
                found.append((0 if item.hit.doc.language == language else 1, (item, start, end)))
                break  # one sentence per passage
    found.sort(key=lambda f: f[0])
    return [span for _, span in found[:MAX_MENTIONS]]


def quote_spans(spans: Sequence[tuple[ContextItem, int, int]], cited: dict[int, Citation]) -> str:
    """The spans as answer text, each passage's run of sentences followed by its marker [n]."""
    parts: list[str] = []
    run: list[str] = []
    for index, (item, start, end) in enumerate(spans):
        run.append(" ".join(item.hit.chunk.text[start:end].split()))
        if item.n not in cited:
            # the citation quotes the contiguous run of this passage that the answer quotes
            last = max(e for i, _, e in spans if i.n == item.n)
            first = min(s for i, s, _ in spans if i.n == item.n)
            cited[item.n] = citation_for(item, item.hit.chunk.text[first:last])
        nxt = spans[index + 1][0].n if index + 1 < len(spans) else None
        if nxt != item.n:
            parts.append(" ".join(run) + f" [{item.n}]")
            run = []
    return "\n".join(parts)


def held_range(articles: set[str]) -> str:
    """Article numbers as ranges: {"1", "2", "3", "7"} -> "1-3, 7"."""
    numbers = sorted(int(a) for a in articles if a.isdigit())
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def treaty_name(phrases: Phrases, language: str, treaty: str) -> str:
    """The treaty's name in the reader's language."""
    return phrases.get(language, f"treaty_{treaty}") if treaty else ""


def names_article(named: set[tuple[str, str]], item: ContextItem) -> bool:
    """Whether the item's chunk is an article the question names (in the treaty it names, if any)."""
    article = item.hit.chunk.article
    if not article or not named:
        return False
    return any(a == article and (not treaty or treaty == treaty_of(item.hit.doc)) for a, treaty in named)


def other_treaty(asked: set[str], item: ContextItem, sentence: str) -> bool:
    """Whether the sentence is of, or names only, treaties the question does not name (it names some)."""
    if not asked:
        return False
    if asked & {BUDAPEST, PROTOCOL}:
        asked = asked | {BUDAPEST, PROTOCOL}  # the Additional Protocol supplements the Budapest Convention
    own = treaty_of(item.hit.doc) if item.hit.doc.kind == "treaty" else ""
    said = {own} if own else set(treaties_named(sentence))
    return bool(said) and not said & asked
