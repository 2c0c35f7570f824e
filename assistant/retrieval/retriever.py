"""Hybrid retrieval: dense + BM25 (fused in assistant/retrieval/fusion.py), article references, filters."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from assistant.config import Settings
from assistant.errors import InputError
from assistant.index.lexical import BM25Index
from assistant.index.rows import date_bound, date_num
from assistant.models.profiles import Calibration
from assistant.retrieval.fusion import convex, diversify, interleave, rrf
from assistant.text.languages import detect_language
from assistant.text.references import ArticleRef, parse_article_refs, treaty_of
from assistant.text.tokenizer import names_in, stem, tokenize
from assistant.types import Chunk, DocMeta, Filters, Hit

if TYPE_CHECKING:
    from assistant.index.visibility import VectorStore
    from assistant.models.embeddings import Embedder

__all__ = ["Retriever", "parse_article_refs", "ArticleRef", "doc_matches", "article_matches"]

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical")
# subtle: dense search fetches more than it ranks so that lexical-only hits usually get a cosine too.
DENSE_OVERFETCH = 3
SENTENCE_CANDIDATES = 200


def doc_matches(doc: DocMeta, filters: Filters) -> bool:
    """Whether a document passes the filters (same rules as the store's `where`)."""
    if filters.languages and doc.language not in filters.languages:
        return False
    if filters.kinds and doc.kind not in filters.kinds:
        return False
    if filters.sources and not any(s.lower() in doc.source.lower() for s in filters.sources):
        return False
    if filters.date_from or filters.date_to:
        num = date_num(doc.date)
        if num == 0:
            return False
        if filters.date_from and num < date_bound(filters.date_from):
            return False
        if filters.date_to and num > date_bound(filters.date_to, upper=True):
            return False
    return True


def article_matches(
    refs: Sequence[ArticleRef],
    chunks: Mapping[str, tuple[Chunk, DocMeta]],
    by_article: Mapping[str, list[str]],
) -> dict[str, float]:
    """chunk_id -> strength (1.0, or 1.25 when the paragraph matches too) for chunks a reference names."""
    found: dict[str, float] = {}
    for ref in refs:
        for chunk_id in by_article.get(ref.article, ()):
            chunk, doc = chunks[chunk_id]
            if ref.treaty and treaty_of(doc) != ref.treaty:
                continue
            strength = 1.25 if ref.paragraph and chunk.paragraph == ref.paragraph else 1.0
            found[chunk_id] = max(found.get(chunk_id, 0.0), strength)
    return found


class Retriever:
    """Finds the passages that answer a question, across languages, with fused and diverse results."""

    def __init__(
        self, store: VectorStore, embedder: Embedder, settings: Settings, mode: Mode = "hybrid",
        calibration: Calibration = Calibration(),
    ) -> None:
        if mode not in MODES:
            raise InputError(f"Retrieval mode {mode!r} is unknown: use one of {', '.join(MODES)}.")
        self.store, self.embedder, self.settings, self.mode = store, embedder, settings, mode
        self.calibration = calibration  # the embedding model's (assistant.models.profiles.calibration_for)
        self._index: BM25Index | None = None
        self._chunks: dict[str, tuple[Chunk, DocMeta]] = {}
        self._by_article: dict[str, list[str]] = {}
        self._by_language: dict[str, set[str]] = {}
        self._centroids: dict[str, np.ndarray] = {}
        self._held: dict[str, set[str]] = {}  # treaty -> article numbers whose text is indexed
        self._indexed = -1  # store.count() when the lexical index was built

    def refresh(self) -> None:
        """Rebuild the lexical index and the article map from every chunk in the store."""
        chunks = {chunk.chunk_id: (chunk, doc) for chunk, doc in self.store.iter_chunks()}
        by_article: dict[str, list[str]] = {}
        by_language: dict[str, set[str]] = {}
        held: dict[str, set[str]] = {}
        for chunk_id, (chunk, doc) in chunks.items():
            by_language.setdefault(doc.language, set()).add(chunk_id)
            if chunk.article:
                by_article.setdefault(chunk.article, []).append(chunk_id)
                if treaty := treaty_of(doc):
                    held.setdefault(treaty, set()).add(chunk.article)
        self._index = BM25Index(
            (cid, chunk.embed_text(), doc.language) for cid, (chunk, doc) in chunks.items()
        )
        self._chunks, self._by_article, self._by_language = chunks, by_article, by_language
        self._centroids = {
            language: np.asarray(mean, dtype=np.float32)
            for language, mean in self.store.language_centroids().items()
        }
        self._held = held
        self._indexed = len(chunks)
        logger.info("lexical index rebuilt: %d chunks, %d articles", len(chunks), len(by_article))

    def unknown_names(self, question: str) -> list[str]:
        """Names and acronyms of the question that no indexed passage holds ("Interpol", "RGPD").

        Only for a question in a language the index has passages in: a Spanish question over no Spanish
        passage names "Convención" and "Asamblea", which are unknown only as words.
        """
        index = self._ensure_index()
        if detect_language(question) not in self._by_language:
            return []
        unknown = []
        for name in names_in(question):
            terms = [t for t in tokenize(name) if len(t) >= 3]  # "Interpol's" -> "interpol"
            # subtle: "État" is asked, "États" indexed: a plural or singular of a known word is known
            if terms and not any(index.known(f) for t in terms for f in (t, t + "s", t.removesuffix("s"))):
                unknown.append(name)
        return unknown

    def says(self, words: str, language: str) -> bool:
        """Whether passages in `language` hold `words` ("population", "chủ đề") or a word they begin;
        True for a language the index has no passage in, where nothing can be told."""
        index = self._ensure_index()
        if language not in self._by_language:
            return True
        terms = tokenize(words, language)
        # a Vietnamese word of two syllables is their pair ("chu_de"), not "chu" or "de" alone
        terms = [t for t in terms if "_" in t] or terms
        # ... and any word it begins ("name" is said "named", "thème" "thèmes")
        return not terms or any(index.known_prefix(stem(t), language) for t in terms)

    def articles(self, treaty: str) -> set[str]:
        """The article numbers of `treaty` whose text is in the index (a corpus fact, not a constant)."""
        self._ensure_index()
        return self._held.get(treaty, set())

    def _ensure_index(self) -> BM25Index:
        # a cheap count tells whether an ingest ran since the last build
        if self._index is None or self.store.count() != self._indexed:
            self.refresh()
        assert self._index is not None
        return self._index

    def _dense_candidates(
        self, query_vector: Sequence[float], n: int, filters: Filters
    ) -> list[tuple[str, float]]:
        """Nearest chunk ids with cosines: in hybrid mode n per language, so a language the model
        ranks low still competes. Rows come from the lexical index's copy, not from the store."""
        languages = filters.languages or tuple(sorted(self._by_language))
        if self.mode != "hybrid" or len(languages) <= 1:
            return self.store.nearest_ids(query_vector, n * DENSE_OVERFETCH, filters)
        found: list[tuple[str, float]] = []
        for language in languages:
            only = dataclasses.replace(filters, languages=(language,))
            found += self.store.nearest_ids(query_vector, n, only)
        return found

    def _with_sentences(
        self,
        query_vector: Sequence[float],
        cosines: dict[str, float],
        filters: Filters,
    ) -> dict[str, float]:
        """Chunk scores that also count each chunk's best sentence (a long chunk's one answering line).

        Chunks found only through a sentence join `cosines`, with their own chunk cosine.
        """
        weight = self.calibration.sentence_weight
        if weight == 0:
            return dict(cosines)
        allowed = self._allowed(filters)
        doc_ids = None if allowed is None else sorted({self._chunks[cid][0].doc_id for cid in allowed})
        best: dict[str, float] = {}
        for chunk_id, cosine in self.store.sentence_search(query_vector, SENTENCE_CANDIDATES, doc_ids):
            if chunk_id in self._chunks and (allowed is None or chunk_id in allowed):
                best[chunk_id] = max(best.get(chunk_id, -1.0), cosine)
        unseen = [c for c in best if c not in cosines]
        for chunk_id, cosine in self.store.chunk_cosines(query_vector, unseen).items():
            cosines[chunk_id] = cosine
        return {
            cid: (1 - weight) * cosine + weight * best[cid] if cid in best else cosine
            for cid, cosine in cosines.items()
        }

    def _language_offsets(self, query_vector: Sequence[float]) -> dict[str, float]:
        """language -> what to take off a chunk's cosine: the centering share of the language mean."""
        weight = self.settings.language_centering
        if weight == 0 or not self._centroids:
            return {}
        query = np.asarray(query_vector, dtype=np.float32)
        return {language: weight * float(query @ mean) for language, mean in self._centroids.items()}

    def _lexical(self, question: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        """BM25 ranking: one over all chunks for convex fusion, per language interleaved for RRF."""
        assert self._index is not None
        language = detect_language(question)
        allowed = self._allowed(filters)
        if self.settings.fusion == "convex":
            # BM25 meets another language only through shared names and numbers, so those hits score
            # low against the best same-language match and weigh little once scores are normalized.
            return self._index.search(question, n, allowed, language=language)
        # subtle: ranks carry no score, so in RRF one ranking would be all same-language hits; each
        # language ranks its own chunks and they are interleaved.
        per_language = [
            self._index.search(question, n, ids if allowed is None else ids & allowed, language=language)
            for ids in self._by_language.values()
        ]
        return interleave(per_language, n)

    def _allowed(self, filters: Filters) -> set[str] | None:
        if filters == Filters():
            return None
        return {cid for cid, (_, doc) in self._chunks.items() if doc_matches(doc, filters)}

    def _dense(self, question: str, n: int,
               filters: Filters) -> tuple[dict[str, float], list[tuple[str, float]]]:
        """(raw cosines, the n best by adjusted dense score) of the chunks the index holds."""
        query_vector = self.embedder.embed_batch([question], "query")[0]
        cosines: dict[str, float] = {}
        for chunk_id, cosine in self._dense_candidates(query_vector, n, filters):
            # subtle: an id the index has not seen yet (an ingest finished a moment ago) waits for
            # the next refresh rather than appearing without its text
            if chunk_id in self._chunks and doc_matches(self._chunks[chunk_id][1], filters):
                cosines[chunk_id] = cosine
        adjusted = cosines
        if self.mode == "hybrid":
            adjusted = self._with_sentences(query_vector, cosines, filters)
            # subtle: the model scores same-language pairs ~0.07 higher, so a French question would
            # only see French passages. Language-mean centering takes that share out: each chunk
            # loses a part of the question's similarity to its language's mean vector.
            offsets = self._language_offsets(query_vector)
            adjusted = {
                cid: score - offsets.get(self._chunks[cid][1].language, 0.0)
                for cid, score in adjusted.items()
            }
        return cosines, sorted(adjusted.items(), key=lambda item: (-item[1], item[0]))[:n]

    def search(self, question: str, filters: Filters = Filters(), k: int | None = None,
               refs: Sequence[ArticleRef] | None = None) -> list[Hit]:
        """The top k passages for a question, best first; `refs`: the articles in scope (default: parsed)."""
        k = self.settings.top_k if k is None else k
        if k <= 0:
            raise InputError(f"k must be greater than 0. Currently, k is {k}.")
        if not question.strip():
            return []
        self._ensure_index()
        n = self.settings.candidates
        cosines: dict[str, float] = {}
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []

        if self.mode != "lexical":
            cosines, dense = self._dense(question, n, filters)
        if self.mode != "dense":
            lexical = self._lexical(question, n, filters)

        if self.settings.fusion == "convex":
            scores, ceiling = convex(dense, lexical, self.settings.dense_weight), 1.0
        else:
            scores = rrf([[cid for cid, _ in r] for r in (dense, lexical) if r], self.settings.rrf_k)
            ceiling = 2.0 / (self.settings.rrf_k + 1)
        dense_ranks = {cid: rank for rank, (cid, _) in enumerate(dense, start=1)}
        lexical_ranks = {cid: rank for rank, (cid, _) in enumerate(lexical, start=1)}
        exempt: set[str] = set()
        if self.mode == "hybrid":
            # article references are first-class: the named article joins the list even if neither
            # search found it, above anything found only by similarity (the best fused score possible).
            boost = ceiling
            in_scope = parse_article_refs(question) if refs is None else refs
            named = article_matches(in_scope, self._chunks, self._by_article)
            for cid, strength in named.items():
                if doc_matches(self._chunks[cid][1], filters):
                    scores[cid] = scores.get(cid, 0.0) + boost * strength
                    exempt.add(cid)

        ordered = sorted(scores, key=lambda cid: (-scores[cid], cid))
        hits = [
            Hit(chunk=c, doc=d, score=scores[cid], dense_score=cosines.get(cid),
                dense_rank=dense_ranks.get(cid), lexical_rank=lexical_ranks.get(cid))
            for cid in ordered
            for c, d in [self._chunks[cid]]
        ]
        return diversify(hits, k, self.settings.per_doc_cap, exempt)
