"""The offline answerer: the passage that answers first, in the fewest cited sentences; or abstention."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answering import articles as art
from assistant.answering.authors import author_names, by_named_author
from assistant.answering.citations import ContextItem, citation_for
from assistant.answering.conflict import Quantity, all_sentences, conflict_sides
from assistant.answering.conversation import Question, resolve
from assistant.answering.cues import (
    META,
    answer_cue,
    attribute_asked,
    attribute_noun,
    counted_noun,
    event_date,
)
from assistant.answering.phrases import Phrases
from assistant.answering.selection import Candidate, pick
from assistant.answering.vectors import SentenceVectorLookup, SentenceVectors
from assistant.models.embeddings import Embedder
from assistant.models.profiles import Calibration
from assistant.text.languages import detect_language
from assistant.text.references import ArticleRef, treaties_named
from assistant.text.segmenter import MIN_SENTENCE_CHARS, quotable_sentences, split_sentences, widen_fragment
from assistant.text.tokenizer import tokenize
from assistant.types import Citation

log = logging.getLogger(__name__)

# Sentence score = cosine + OVERLAP * word overlap + rank prior + cue + article - meta (tuned on dev only).
OVERLAP = 0.05
# subtle: retrieval ranks passages better than one sentence's cosine does (dev: first citation expected
# 0.70 -> 0.78 from 0.06 to 0.35), so the best-ranked passages' sentences start well ahead
RANK_PRIOR = 0.35  # the 1st passage's sentences get all of it, the 6th's a sixth
CUE_BONUS = 0.15  # a sentence with the kind of fact asked for (a date, a figure, a person...) ...
CUE_PENALTY = 0.15  # ... and one without it, when the question asks for one
ARTICLE_BONUS = 0.10  # a sentence of the very article the question names beats press sentences about it
META_PENALTY = 0.08  # "It explains...": describes a document instead of saying what it says
# a sentence of the document whose author the question names ("what does HRW criticise?"); dev: first
# citation expected 0.810 -> 0.826, facts stated 0.769 -> 0.785 (0.1: no change, 0.4: facts 0.777)
AUTHOR_BONUS = 0.3
OTHER_TREATY_PENALTY = 0.15  # ... and one of another treaty than the one asked of, as much as a missing cue
_SIDES = re.compile(r"compar|differ|versus|\bvs\.?\b|khác|so với|critic|criti|chỉ trích|view|opinion|avis"
                    r"|position|quan điểm|concern|inquiét|lo ngại|opini[oó]n|diferencia|مقارنة|رأي", re.I)


@dataclass(frozen=True)
class Draft:
    """An answer's text with its citations, before the facade adds timings and metadata."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool


_Span = tuple[ContextItem, int, int]  # a sentence of the item's chunk: (item, start, end)


class ExtractiveAnswerer:
    """Answer by quoting the source sentences that answer, each cited; show conflicts; or abstain."""

    def __init__(self, embedder: Embedder, phrases: Phrases, calibration: Calibration = Calibration(),
                 max_chunks: int = 6, max_sentences: int = 160, max_picks: int = 3,
                 sentences: SentenceVectors | None = None, held: art.Held | None = None,
                 unknown: Callable[[str], list[str]] | None = None,
                 says: Callable[[str, str], bool] | None = None,
                 quantities: Sequence[Quantity] = ()) -> None:
        if max_picks <= 0 or max_chunks <= 0 or max_sentences <= 0:
            raise ValueError("max_picks, max_chunks and max_sentences must be greater than 0.")
        self.embedder = embedder
        self.held = held  # which articles of each treaty the index holds: a corpus fact, looked up
        self.unknown = unknown  # the names of a question that no passage holds
        self.says = says  # whether passages in a language hold some words
        self.quantities = tuple(quantities)  # counts the sources may disagree on (none: no conflict shown)
        self._vectors = SentenceVectorLookup(embedder, sentences)
        self.phrases = phrases
        # where the embedding model's cosines mean "does not answer" (assistant.models.profiles)
        self.threshold, self.sentence_margin = calibration.abstain_threshold, calibration.sentence_margin
        self.max_chunks, self.max_sentences, self.max_picks = max_chunks, max_sentences, max_picks

    def answer(self, question: Question | str, language: str, items: Sequence[ContextItem]) -> Draft:
        """Compose a cited answer from `items` in the question's language, or abstain."""
        q = resolve(question) if isinstance(question, str) else question
        article = art.find_article(q.refs, items)
        if article is not None:
            return self._article_answer(q, language, items, article)
        missing = art.missing_article(q.refs, self.held)
        if missing is not None:
            # subtle: press sentences near "Article 40" are not its text; never let them pass for it
            return self._missing_answer(language, items, *missing)
        if self.below_threshold(items):
            return self.abstain(language, items)
        if self.unknown is not None and self.unknown(q.original):
            # subtle: "Interpol", "RGPD": a question about a name no passage holds shares only its other
            # words with the materials, and an answer would be about something else
            return self.abstain(language, items)
        attribute = attribute_noun(q.original)
        if attribute is not None and self.says is not None and not self.says(attribute, language):
            # subtle: "What is the population of Hanoi?": no passage in the reader's language names a
            # population, so the sentences about Hanoi that share the rest of the words answer nothing
            return self.abstain(language, items)
        candidates = self._score(q, items)
        if not candidates or max(c.cosine for c in candidates) < self.threshold - self.sentence_margin:
            return self.abstain(language, items)
        picks = pick(candidates, self.max_picks, wide=bool(_SIDES.search(q.original)), language=language)
        if not picks[0].cue:
            # the question asks for a date, a figure, a person...: no passage near the top carries one
            return self.abstain(language, items)

        cited: dict[int, Citation] = {}
        quotes = []
        for cand in picks:
            quotes.append(f"{cand.text} [{cand.item.n}]")
            cited.setdefault(cand.item.n, citation_for(cand.item, cand.text))
        # subtle: the lead-in gets a line of its own, so the answer's own words (in the question's
        # language) are not read together with quotes in the sources' languages
        text = self.phrases.get(language, "lead_in") + "\n" + " ".join(quotes)
        conflict = conflict_sides(q.original if not q.is_followup else q.standalone, picks,
                                  all_sentences(items), self.quantities)
        if conflict:
            sides = []
            for value, side in conflict:
                sides.append(f"{value} [{side.item.n}]")
                cited.setdefault(side.item.n, citation_for(side.item, side.text))
            text += "\n\n" + self.phrases.get(language, "conflict", values="; ".join(sides))
        return Draft(text=text, citations=tuple(cited[n] for n in sorted(cited)), abstained=False)

    def evidence_order(self, question: Question | str, items: Sequence[ContextItem]) -> list[ContextItem]:
        """The items renumbered in the order an answer would use them: named article, then best sentence."""
        q = resolve(question) if isinstance(question, str) else question
        article = art.find_article(q.refs, items)
        first = [i.n for i in article.items] if article else []
        best: dict[int, float] = {}
        for cand in self._score(q, items):
            best.setdefault(cand.item.n, cand.score)
        rest = sorted((i for i in items if i.n not in first), key=lambda i: (-best.get(i.n, -9.0), i.n))
        ordered = [i for n in first for i in items if i.n == n] + rest
        return [ContextItem(n=rank, hit=item.hit) for rank, item in enumerate(ordered, start=1)]

    def below_threshold(self, items: Sequence[ContextItem]) -> bool:
        """True when even the closest passage is too far from the question to answer it."""
        best = max((i.hit.dense_score for i in items if i.hit.dense_score is not None), default=0.0)
        log.debug("best dense score %.3f, threshold %.3f", best, self.threshold)
        return not items or best < self.threshold

    def abstain(self, language: str, items: Sequence[ContextItem], lead: str = "") -> Draft:
        """The 'materials do not say' answer, citing the closest passages so a reader can check."""
        text = self.phrases.get(language, "abstain")
        if lead:
            text = lead + " " + text
        closest = [citation_for(i, _first_sentence(i.hit.chunk.text)) for i in items[:3]]
        return Draft(text=text, citations=tuple(closest), abstained=True)

    def _article_answer(self, q: Question, language: str, items: Sequence[ContextItem],
                        article: art.ArticleText) -> Draft:
        """The article's own text in order, with its locator, then what other documents say about it."""
        number = article.ref.article + (f"({article.ref.paragraph})" if article.ref.paragraph else "")
        values = {
            "article": self.phrases.get(language, "article_word", number=number),
            "treaty": art.treaty_name(self.phrases, language, article.treaty),
            "source_language": self.phrases.get(language, f"lang_{article.language}")
            if f"lang_{article.language}" in self.phrases.table.get(language, {}) else article.language,
        }
        key = "article_lead" if article.language == language else "article_lead_foreign"
        best: list[tuple[int, int, int]] = []
        if not art.is_bare_lookup(q.standalone):
            # a narrower question ("for how long...?"): its best sentence of the article joins the opening
            best = [(c.item.n, c.start, c.end) for c in self._score(q, article.items)[:1]]
        cited: dict[int, Citation] = {}
        spans = art.article_spans(article, best)
        text = self.phrases.get(language, key, **values) + "\n" + art.quote_spans(spans, cited)
        others = art.mentions(article, items, language)
        if others:
            text += "\n\n" + self.phrases.get(language, "also_said") + "\n" + art.quote_spans(others, cited)
        return Draft(text=text, citations=tuple(cited[n] for n in sorted(cited)), abstained=False)

    def _missing_answer(self, language: str, items: Sequence[ContextItem], ref: ArticleRef,
                        held: set[str]) -> Draft:
        """Say the article's text is not in the materials; cite what they do say about it, if anything."""
        lead = self.phrases.get(language, "article_missing", article=ref.article, held=art.held_range(held),
                                treaty=art.treaty_name(self.phrases, language, ref.treaty))
        about = art.ArticleText(ref, ref.treaty, ())
        spans = art.mentions(about, items, language)
        if not spans:
            return self.abstain(language, items, lead)
        cited: dict[int, Citation] = {}
        text = lead + "\n\n" + self.phrases.get(language, "also_said") + "\n" + art.quote_spans(spans, cited)
        return Draft(text=text, citations=tuple(cited[n] for n in sorted(cited)), abstained=True)

    def _score(self, q: Question, items: Sequence[ContextItem]) -> list[Candidate]:
        """Sentences of the top chunks, scored by embedding similarity, word overlap, rank and fact kind."""
        pool: list[_Span] = []
        for item in items[: self.max_chunks]:
            pool.extend((item, start, end) for start, end in quotable_sentences(item.hit.chunk.text))
        # round-robin over chunks so the cap keeps sentences from every top chunk
        pool = _round_robin(pool)[: self.max_sentences]
        if not pool:
            return []
        svecs = self._vectors.vectors([(item.hit.chunk.chunk_id, start, end) for item, start, end in pool],
                                      [item.hit.chunk.text[start:end] for item, start, end in pool])
        # subtle: the same query text and prompt as retrieval, so the embedder's cache answers it
        qvec = self.embedder.embed_batch([q.standalone], "query")[0]
        q_terms = set(tokenize(q.standalone))
        named = {(ref.article, ref.treaty) for ref in q.refs}
        treaties = set(treaties_named(q.standalone))
        cue = self._cue(q)
        # subtle: "Dân số Hà Nội là bao nhiêu?" wants a figure of the population, not "9 chương, 71 điều",
        # and "what is the theme of..." a sentence naming the theme; checked only in the question's
        # language, the noun's translations being unknown here
        if cue is not None:
            noun = counted_noun(q.original, [c.counted for c in self.quantities])
        else:
            noun = attribute_asked(q.original)
        asked_in = detect_language(q.original)
        authors = author_names(q.standalone)
        out = []
        for (item, start, end), vec in zip(pool, svecs, strict=True):
            # scored as cut, quoted whole: "or protesting peacefully..." is no sentence to take alone
            start, end = widen_fragment(item.hit.chunk.text, start, end)
            sentence = item.hit.chunk.text[start:end]
            cosine = sum(a * b for a, b in zip(qvec, vec, strict=True))
            terms = set(tokenize(sentence, item.hit.doc.language))
            overlap = len(q_terms & terms) / len(q_terms) if q_terms else 0.0
            score = cosine + OVERLAP * overlap + RANK_PRIOR * (1 - (item.n - 1) / self.max_chunks)
            has_cue = cue is None or bool(cue.search(sentence))
            told = True  # whether the sentence is known to carry, or to lack, what is asked
            if has_cue and noun is not None:
                told = asked_in in (item.hit.doc.language, detect_language(sentence))
                has_cue = bool(noun.search(sentence)) if told else True
            if (cue is not None or noun is not None) and told:
                # ... a sentence in another language may carry it: neither bonus nor penalty
                score += CUE_BONUS if has_cue else -CUE_PENALTY
            if art.names_article(named, item):
                score += ARTICLE_BONUS
            if by_named_author(authors, item.hit.doc):
                score += AUTHOR_BONUS
            # subtle: a sentence about another treaty than the one asked of ("Budapest entered into force
            # on 1 July 2004" for a question on the UN Convention) says nothing of it, like a meta line
            other = art.other_treaty(treaties, item, sentence)
            meta = bool(META.search(sentence)) or other
            if meta:
                score -= OTHER_TREATY_PENALTY if other else META_PENALTY
            out.append(Candidate(item, start, end, score, cosine, has_cue, meta))
        return sorted(out, key=lambda c: c.score, reverse=True)

    def _cue(self, q: Question) -> re.Pattern[str] | None:
        """What the user's own words ask for; a bare follow-up ("and the EU?") asks what the earlier one did.

        A count the quantities know ("how many countries signed?") wants that count stated, not any figure:
        "9 chapters, 71 articles" answers no question about signatories.
        """
        for text in (q.original, q.context):
            cue = answer_cue(text) if text else None
            if cue is not None:
                counted = next((c.reported for c in self.quantities if c.counts(text)), None)
                return counted or event_date(text) or cue
        return None


def _round_robin(pool: list[_Span]) -> list[_Span]:
    """Interleave sentences chunk by chunk: 1st of each chunk, then 2nd of each, and so on."""
    by_item: dict[int, list[_Span]] = {}
    for entry in pool:
        by_item.setdefault(entry[0].n, []).append(entry)
    out: list[_Span] = []
    depth = 0
    while len(out) < len(pool):
        for entries in by_item.values():
            if depth < len(entries):
                out.append(entries[depth])
        depth += 1
    return out


def _first_sentence(text: str) -> str:
    spans = [s for s in split_sentences(text) if s[1] - s[0] >= MIN_SENTENCE_CHARS] or split_sentences(text)
    return text[spans[0][0] : spans[0][1]] if spans else text
