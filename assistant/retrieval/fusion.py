"""Fusion and diversity: pure functions over ranked lists and hits (no store, no model)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from assistant.text.tokenizer import tokenize
from assistant.types import Hit

NEAR_DUPLICATE_JACCARD = 0.6


def rrf(rankings: Iterable[Sequence[str]], k: int) -> dict[str, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings (rank from 1)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def convex(
    dense: Sequence[tuple[str, float]], lexical: Sequence[tuple[str, float]], dense_weight: float
) -> dict[str, float]:
    """Convex combination of scores in [0, 1]: dense min-max normalized, BM25 divided by its best.

    Unlike rank fusion it keeps how far apart the scores are: a passage far ahead on meaning is not
    overtaken by one that is middling on both lists (the common cross-lingual case, where BM25 only
    matches shared names and numbers).
    """
    fused: dict[str, float] = {}
    if dense:
        values = [score for _, score in dense]
        low, span = min(values), (max(values) - min(values)) or 1.0
        weight = dense_weight if lexical else 1.0
        for item, score in dense:
            fused[item] = weight * (score - low) / span
    if lexical:
        best = max(score for _, score in lexical) or 1.0
        weight = 1.0 - dense_weight if dense else 1.0
        for item, score in lexical:
            fused[item] = fused.get(item, 0.0) + weight * score / best
    return fused


def interleave(rankings: Sequence[Sequence[tuple[str, float]]], n: int) -> list[tuple[str, float]]:
    """Merge ranked (id, score) lists rank by rank (ties by higher score): each list gets a fair share."""
    merged = sorted(
        (rank, -score, item) for ranking in rankings for rank, (item, score) in enumerate(ranking)
    )
    seen: dict[str, float] = {}
    for _, negative, item in merged:
        seen.setdefault(item, -negative)
    return list(seen.items())[:n]


def jaccard(a: set[str], b: set[str]) -> float:
    """Token-set Jaccard similarity (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def diversify(hits: Sequence[Hit], k: int, per_doc_cap: int, exempt: Collection[str] = ()) -> list[Hit]:
    """Best-first selection of k hits: at most per_doc_cap per document, near-duplicates collapsed."""
    kept: list[Hit] = []
    kept_terms: list[set[str]] = []
    per_doc: dict[str, int] = {}
    for hit in hits:
        if len(kept) >= k:
            break
        is_exempt = hit.chunk.chunk_id in exempt
        if not is_exempt and per_doc.get(hit.doc.doc_id, 0) >= per_doc_cap:
            continue
        terms = set(tokenize(hit.chunk.text, hit.doc.language or None))
        # the same fact retold in several digests: keep only the best-ranked telling
        if any(jaccard(terms, other) >= NEAR_DUPLICATE_JACCARD for other in kept_terms):
            continue
        kept.append(hit)
        kept_terms.append(terms)
        per_doc[hit.doc.doc_id] = per_doc.get(hit.doc.doc_id, 0) + 1
    return kept
