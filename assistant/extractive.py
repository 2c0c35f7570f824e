"""The offline answerer: picks the source sentences closest to the question, shows conflicts, abstains."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.citations import ContextItem, citation_for
from assistant.cues import HOW_MANY, QUANTITIES, answer_cue
from assistant.embeddings import Embedder
from assistant.followup import own_part
from assistant.lexical import tokenize
from assistant.phrases import Phrases
from assistant.references import UNCC, parse_article_refs, treaty_of
from assistant.sentences import split_sentences
from assistant.types import Citation

log = logging.getLogger(__name__)

# Calibrated on the shared corpus (see tests/test_extractive.py): the best chunk's cosine similarity
# below which the materials do not answer the question. 0 in Settings means "use this table".
DEFAULT_ABSTAIN = {"multilingual-e5-small": 0.80, "multilingual-e5-base": 0.80, "embeddinggemma-300m": 0.40}
FALLBACK_ABSTAIN = 0.5
# How far below the threshold the best *sentence* may be when its chunk passed: a sentence is a shorter
# text than a chunk, and EmbeddingGemma scores it lower (measured on the core set: an answerable French
# question with chunk 0.489 had its best sentence at 0.331).
SENTENCE_MARGIN = {"embeddinggemma-300m": 0.10}
UNCC_ARTICLES_PRESENT = 15  # only Articles 1-15 of the UN Convention are in the corpus
MIN_SENTENCE_CHARS = 25  # shorter sentences are headings or fragments, not answers


def quotable_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences the answerer may quote (the pipeline embeds exactly these at ingest)."""
    return [
        (start, end) for start, end in split_sentences(text)
        if end - start >= MIN_SENTENCE_CHARS and not text[start:end].endswith(":")
    ]


class SentenceVectors(Protocol):
    """Where precomputed sentence vectors come from (assistant.store.ChunkStore)."""

    def sentence_vectors(
        self, chunk_ids: Sequence[str]
    ) -> Mapping[str, Sequence[tuple[int, int, Sequence[float]]]]: ...


CUE_BONUS = 0.05  # a sentence with the kind of fact asked for beats a near-equal one without it
# a sentence of the very article the question names beats press sentences that only mention it
ARTICLE_BONUS = 0.10


@dataclass(frozen=True)
class Draft:
    """An answer's text with its citations, before the facade adds timings and metadata."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool


_Span = tuple[ContextItem, int, int]  # a sentence of the item's chunk: (item, start, end)


@dataclass(frozen=True)
class _Candidate:
    item: ContextItem
    text: str
    score: float
    cosine: float


class ExtractiveAnswerer:
    """Answer by quoting 2-4 source sentences, each cited; say when sources disagree or say nothing."""

    def __init__(self, embedder: Embedder, phrases: Phrases, abstain_threshold: float = 0.0,
                 max_chunks: int = 6, max_sentences: int = 160, max_picks: int = 3,
                 sentences: SentenceVectors | None = None) -> None:
        if max_picks <= 0 or max_chunks <= 0 or max_sentences <= 0:
            raise ValueError("max_picks, max_chunks and max_sentences must be greater than 0.")
        self.embedder = embedder
        self.sentences = sentences
        self._fallback_logged = False
        self.phrases = phrases
        self.threshold = abstain_threshold or DEFAULT_ABSTAIN.get(embedder.name, FALLBACK_ABSTAIN)
        self.max_chunks, self.max_sentences, self.max_picks = max_chunks, max_sentences, max_picks
        self.sentence_margin = SENTENCE_MARGIN.get(embedder.name, 0.05)

    def answer(self, question: str, language: str, items: Sequence[ContextItem]) -> Draft:
        """Compose a cited answer from `items` in the question's language, or abstain."""
        missing = _missing_uncc_article(question, items)
        if self.below_threshold(items):
            return self.abstain(language, items, missing)
        if missing:
            # subtle: press sentences near "Article 40" are not its text; never let them pass for it
            return self.abstain(language, items, missing)
        candidates = self._score(question, language, items)
        if not candidates or candidates[0].cosine < self.threshold - self.sentence_margin:
            return self.abstain(language, items, missing)
        picks = _pick(candidates, self.max_picks)
        intro = [self.phrases.get(language, "uncc_partial", article=missing)] if missing else []
        intro.append(self.phrases.get(language, "lead_in"))
        cited: dict[int, Citation] = {}
        quotes = []
        for cand in picks:
            quotes.append(f"{cand.text} [{cand.item.n}]")
            cited.setdefault(cand.item.n, citation_for(cand.item, cand.text))
        # subtle: the lead-in gets a line of its own, so the answer's own words (in the question's
        # language) are not read together with quotes in the sources' languages
        text = " ".join(intro) + "\n" + " ".join(quotes)
        conflict = _conflict(question, picks, _all_sentences(items))
        if conflict:
            sides = []
            for value, cand in conflict:
                sides.append(f"{value} [{cand.item.n}]")
                cited.setdefault(cand.item.n, citation_for(cand.item, cand.text))
            text += "\n\n" + self.phrases.get(language, "conflict", values="; ".join(sides))
        return Draft(text=text, citations=tuple(cited[n] for n in sorted(cited)), abstained=False)

    def below_threshold(self, items: Sequence[ContextItem]) -> bool:
        """True when even the closest passage is too far from the question to answer it."""
        best = max((i.hit.dense_score for i in items if i.hit.dense_score is not None), default=0.0)
        log.debug("best dense score %.3f, threshold %.3f", best, self.threshold)
        return not items or best < self.threshold

    def abstain(self, language: str, items: Sequence[ContextItem], missing_article: str = "") -> Draft:
        """The 'materials do not say' answer, citing the closest passages so a reader can check."""
        text = self.phrases.get(language, "abstain")
        if missing_article:
            text = self.phrases.get(language, "uncc_partial", article=missing_article) + " " + text
        closest = [citation_for(i, _first_sentence(i.hit.chunk.text)) for i in items[:3]]
        return Draft(text=text, citations=tuple(closest), abstained=True)

    def _score(self, question: str, language: str, items: Sequence[ContextItem]) -> list[_Candidate]:
        """Sentences of the top chunks, scored by embedding similarity, word overlap and chunk rank."""
        pool: list[_Span] = []
        for item in items[: self.max_chunks]:
            pool.extend((item, start, end) for start, end in quotable_sentences(item.hit.chunk.text))
        # round-robin over chunks so the cap keeps sentences from every top chunk
        pool = _round_robin(pool)[: self.max_sentences]
        if not pool:
            return []
        svecs = self._sentence_vectors(pool)
        # subtle: the same query prompt as retrieval, so cosines compare with dense_score; the embedder
        # caches the retriever's vector of this very question, so this costs nothing
        qvec = self.embedder.embed_batch([question], "query")[0]
        q_terms = set(tokenize(question, language))
        named = {(ref.article, ref.treaty) for ref in parse_article_refs(own_part(question))}
        # subtle: a follow-up's appended context keeps its own question word ("When was ...?")
        cue = answer_cue(own_part(question))
        out = []
        for (item, start, end), vec in zip(pool, svecs, strict=True):
            sentence = item.hit.chunk.text[start:end]
            cosine = sum(a * b for a, b in zip(qvec, vec, strict=True))
            terms = set(tokenize(sentence, item.hit.doc.language))
            overlap = len(q_terms & terms) / len(q_terms) if q_terms else 0.0
            score = cosine + 0.15 * overlap + 0.03 / item.n
            if cue is not None and cue.search(sentence):
                score += CUE_BONUS
            if _names_article(named, item):
                score += ARTICLE_BONUS
            out.append(_Candidate(item, sentence, score, cosine))
        return sorted(out, key=lambda c: c.score, reverse=True)

    def _sentence_vectors(self, pool: Sequence[_Span]) -> list[Sequence[float]]:
        """Vectors of the pool's sentences: stored at ingest, embedded now only for those not stored."""
        stored: dict[tuple[str, int, int], Sequence[float]] = {}
        if self.sentences is not None:
            chunk_ids = list(dict.fromkeys(item.hit.chunk.chunk_id for item, _, _ in pool))
            for chunk_id, rows in self.sentences.sentence_vectors(chunk_ids).items():
                stored.update(((chunk_id, start, end), vec) for start, end, vec in rows)
        keys = [(item.hit.chunk.chunk_id, start, end) for item, start, end in pool]
        missing = [i for i, key in enumerate(keys) if key not in stored]
        if missing:
            if not self._fallback_logged:
                self._fallback_logged = True
                log.warning("%d sentences have no stored vector (an index from before sentence vectors?): "
                            "embedding them per answer; re-ingest with --prune to speed answers up",
                            len(missing))
            texts = [pool[i][0].hit.chunk.text[pool[i][1] : pool[i][2]] for i in missing]
            fresh = self.embedder.embed_batch(texts, "document")
            stored.update((keys[i], vec) for i, vec in zip(missing, fresh, strict=True))
        return [stored[key] for key in keys]


def _names_article(named: set[tuple[str, str]], item: ContextItem) -> bool:
    """Whether the item's chunk is an article the question names (in the treaty it names, if any)."""
    article = item.hit.chunk.article
    if not article or not named:
        return False
    return any(a == article and (not treaty or treaty == treaty_of(item.hit.doc)) for a, treaty in named)


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


def _pick(candidates: list[_Candidate], max_picks: int) -> list[_Candidate]:
    """The best sentences, one per document first, close enough to the best and not repeating it."""
    best = candidates[0].score
    close = [c for c in candidates if c.score >= best - 0.06]
    picks: list[_Candidate] = []
    for one_per_doc in (True, False):
        for cand in close:
            if len(picks) >= max_picks:
                break
            if cand in picks or (one_per_doc and any(p.item.hit.doc.doc_id == cand.item.hit.doc.doc_id
                                                     for p in picks)):
                continue
            if any(_similar(cand.text, p.text) for p in picks):
                continue
            picks.append(cand)
    return picks[: max(2, len(picks))] if picks else candidates[:1]


def _similar(a: str, b: str) -> bool:
    """True when most words of the shorter sentence are in the other: it repeats it (often paraphrased)."""
    ta, tb = set(tokenize(a)), set(tokenize(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) >= 0.7


def _all_sentences(items: Sequence[ContextItem]) -> list[_Candidate]:
    """Every sentence of every retrieved chunk, in rank order (a regex scan: no embedding needed)."""
    out: list[_Candidate] = []
    for item in items:
        text = item.hit.chunk.text
        out.extend(_Candidate(item, text[s:e], 0.0, 0.0) for s, e in split_sentences(text))
    return out


def _conflict(question: str, picks: list[_Candidate],
              candidates: list[_Candidate]) -> list[tuple[str, _Candidate]]:
    """Sides of a disagreement on a quantity the question asks about, one sentence per distinct value."""
    # every retrieved sentence may hold a side: the question already names the quantity
    relevant = picks + [c for c in candidates if c not in picks]
    if not HOW_MANY.search(question):
        return []
    for asked, stated in QUANTITIES.values():
        if not asked.search(question):
            continue
        sides: dict[str, tuple[str, _Candidate]] = {}
        docs: set[str] = set()
        for cand in relevant:
            if cand.item.hit.doc.doc_id in docs:
                continue  # one figure per document: a source may give a day-1 and a final count
            for m in stated.finditer(cand.text):
                number = next(g for g in m.groups() if g and g.strip().isdigit())
                if number not in sides:
                    sides[number] = (m.group(0), cand)
                    docs.add(cand.item.hit.doc.doc_id)
                    break
        if len(sides) >= 2:
            return list(sides.values())[:4]
    return []


def _missing_uncc_article(question: str, items: Sequence[ContextItem]) -> str:
    """The UN Convention article asked about whose text is not in the materials, or ""."""
    for ref in parse_article_refs(question):
        if ref.treaty == UNCC and ref.article.isdigit() and int(ref.article) > UNCC_ARTICLES_PRESENT:
            has_text = any(i.hit.chunk.article == ref.article and treaty_of(i.hit.doc) == UNCC for i in items)
            if not has_text:
                return ref.article
    return ""


def _first_sentence(text: str) -> str:
    spans = [s for s in split_sentences(text) if s[1] - s[0] >= MIN_SENTENCE_CHARS] or split_sentences(text)
    return text[spans[0][0] : spans[0][1]] if spans else text
