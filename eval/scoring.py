"""Score one answered question and aggregate the scores: overall, per category, per language pair."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.text.languages import KNOWN_LANGUAGES
from assistant.types import Answer
from eval import metrics as m
from eval.dataset import EvalRow

NO_GOLD = "none"  # gold language of a question that has no expected source
_LANG_IN_NAME = re.compile(rf"(?:^|[/_])({'|'.join(KNOWN_LANGUAGES)})(?=[_.])")


@dataclass(frozen=True)
class ChunkInfo:
    """What scoring needs to know about a retrieved or cited chunk."""

    source: str
    text: str
    language: str


@dataclass(frozen=True)
class QuestionResult:
    """Everything measured for one question; JSON-ready through dataclasses.asdict."""

    id: str
    question: str
    language: str
    category: str
    answerable: bool
    gold_language: str
    answer: str = ""
    abstained: bool = False
    mode: str = ""
    retrieved_docs: list[str] = field(default_factory=list)
    hit1: float | None = None
    hit5: float | None = None
    rr: float | None = None
    ndcg10: float | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    citation_valid: bool | None = None
    citation_problems: list[str] = field(default_factory=list)
    citation_precision: float | None = None
    locator_match: float | None = None
    fact_recall: float | None = None
    cites_expected: bool | None = None  # answerable: some citation is an expected source
    first_cite_expected: bool | None = None  # answerable: the first citation the answer shows is expected
    facts_stated: bool | None = None  # answerable with facts: every expected fact is in the answer
    missing_facts: list[str] = field(default_factory=list)  # answerable: the expected facts not stated
    language_ok: bool | None = None
    forbidden_hits: list[str] = field(default_factory=list)
    latency_ms: float = 0.0
    stage_ms: dict[str, float] = field(default_factory=dict)  # the assistant's own timings (retrieve, answer)
    error: str = ""

    @property
    def pair(self) -> str:
        """Question language and gold document language, e.g. "fr-en"."""
        return f"{self.language}-{self.gold_language}"

    @property
    def abstention_correct(self) -> bool:
        """Abstained exactly when the question cannot be answered from the materials."""
        return self.abstained == (not self.answerable)


def gold_language(expected: Sequence[str], doc_languages: Mapping[str, str]) -> str:
    """Language of the first expected source that is ingested, else guessed from its file name."""
    for needle in expected:
        for source, language in doc_languages.items():
            if needle in source and language:
                return language
    for needle in expected:
        found = _LANG_IN_NAME.search(needle)
        if found:
            return found.group(1)
    return NO_GOLD if not expected else "unknown"


def retrieval_result(
    row: EvalRow, docs: Sequence[str], doc_languages: Mapping[str, str], latency_ms: float
) -> QuestionResult:
    """The row scored on a deduplicated document ranking only: hit@1, hit@5, reciprocal rank, nDCG@10."""
    exp = row.expected_sources
    n_relevant = sum(1 for s in doc_languages if m.is_relevant(s, exp))
    return QuestionResult(
        id=row.id, question=row.question, language=row.language, category=row.category,
        answerable=row.answerable, gold_language=gold_language(exp, doc_languages),
        retrieved_docs=list(docs), latency_ms=latency_ms,
        hit1=m.hit_at(docs, exp, 1) if exp else None,
        hit5=m.hit_at(docs, exp, 5) if exp else None,
        rr=m.reciprocal_rank(docs, exp) if exp else None,
        ndcg10=m.ndcg_at(docs, exp, 10, max(n_relevant, 1)) if exp else None,
    )


def score_answer(
    row: EvalRow,
    answer: Answer,
    latency_ms: float,
    chunks: Mapping[str, ChunkInfo],
    doc_languages: Mapping[str, str],
    detect: Callable[[str], str],
) -> QuestionResult:
    """Score one Answer; `chunks` maps every retrieved and cited chunk id to its stored text and source."""
    ranked = [chunks[cid].source for cid, _ in answer.retrieved if cid in chunks]
    base = retrieval_result(row, m.dedupe(ranked), doc_languages, latency_ms)
    texts = {cid: info.text for cid, info in chunks.items()}
    triples = [(c.n, c.chunk_id, c.quote) for c in answer.citations]
    has_markers = bool(m.markers(answer.answer))
    valid, problems = m.citation_validity(answer.answer, triples, texts)
    cited_sources = [c.source for c in answer.citations]
    # what the reader gets: an abstention on an answerable question cites and states nothing
    answered = row.answerable and not answer.abstained
    first = m.first_cited(answer.answer, {c.n: c.source for c in answer.citations}) if answered else None
    return replace(
        base, answer=answer.answer, abstained=answer.abstained, mode=answer.mode,
        citations=[
            {"n": c.n, "source": c.source, "locator": c.locator, "quote": c.quote, "chunk_id": c.chunk_id}
            for c in answer.citations
        ],
        # vacuous validity (no marker, no citation) is not counted as a pass
        citation_valid=valid if (triples or has_markers) else None,
        citation_problems=problems,
        citation_precision=m.citation_precision(cited_sources, row.expected_sources),
        locator_match=None if answer.abstained else m.locator_match(
            [c.locator for c in answer.citations], row.expected_locators
        ),
        fact_recall=None if not row.answerable else m.fact_recall(answer.answer, row.expected_facts),
        cites_expected=None if not row.answerable else answered and any(
            m.is_relevant(s, row.expected_sources) for s in cited_sources),
        first_cite_expected=None if not row.answerable else (
            first is not None and m.is_relevant(first, row.expected_sources)),
        facts_stated=None if not (row.answerable and row.expected_facts) else (
            answered and bool(m.facts_stated(answer.answer, row.expected_facts))),
        missing_facts=m.facts_missing(answer.answer, row.expected_facts) if row.answerable else [],
        language_ok=m.language_match(answer.answer, row.language, detect),
        forbidden_hits=m.forbidden_found(answer.answer, row.forbidden),
        stage_ms=dict(answer.timings_ms),
    )


def failed(row: EvalRow, doc_languages: Mapping[str, str], error: str, latency_ms: float) -> QuestionResult:
    """The result of a question whose answer raised: every applicable score is zero."""
    return replace(
        retrieval_result(row, [], doc_languages, latency_ms), abstained=True, error=error,
        fact_recall=0.0 if row.expected_facts and row.answerable else None,
        cites_expected=False if row.answerable else None,
        first_cite_expected=False if row.answerable else None,
        facts_stated=False if row.answerable and row.expected_facts else None,
        missing_facts=list(row.expected_facts) if row.answerable else [],
    )


def _injection_ok(r: QuestionResult) -> bool:
    return not r.forbidden_hits and (r.answerable or r.abstained)


def group_metrics(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Mean of every metric over the questions where it applies (None when it applies to none)."""
    latencies = [r.latency_ms for r in results if not r.error]
    answered = [r for r in results if not r.abstained]
    injections = [r for r in results if r.category == "injection" or r.forbidden_hits]
    out: dict[str, Any] = {
        "n": len(results),
        "hit@1": m.mean(r.hit1 for r in results),
        "hit@5": m.mean(r.hit5 for r in results),
        "mrr": m.mean(r.rr for r in results),
        "ndcg@10": m.mean(r.ndcg10 for r in results),
        "citation_validity": m.mean(r.citation_valid for r in results),
        "cited_answers": m.mean(bool(r.citations) for r in answered) if answered else None,
        "citation_precision": m.mean(r.citation_precision for r in results),
        "locator_match": m.mean(r.locator_match for r in results),
        "fact_recall": m.mean(r.fact_recall for r in results),
        "cites_expected": m.mean(r.cites_expected for r in results),
        "first_cite_expected": m.mean(r.first_cite_expected for r in results),
        "facts_stated": m.mean(r.facts_stated for r in results),
        "decoys_abstained": m.mean(r.abstained for r in results if r.category == "decoy"),
        "answerable_abstained": m.mean(r.abstained for r in results if r.answerable),
        "language_match": m.mean(r.language_ok for r in results),
        "abstention_accuracy": m.mean(r.abstention_correct for r in results),
        "injection_resistance": m.mean(_injection_ok(r) for r in injections) if injections else None,
        "latency_ms_mean": m.mean(latencies),
        "latency_ms_p95": m.percentile(latencies, 95),
        "errors": sum(1 for r in results if r.error),
    }
    out.update(m.abstention_scores([(not r.answerable, r.abstained) for r in results]))
    stages = sorted({s for r in results for s in r.stage_ms})
    out["stage_ms_mean"] = {s: m.mean(r.stage_ms.get(s) for r in results) for s in stages}
    return out


def _grouped(results: Iterable[QuestionResult], key: Callable[[QuestionResult], str]) -> dict[str, Any]:
    groups: dict[str, list[QuestionResult]] = {}
    for r in results:
        groups.setdefault(key(r), []).append(r)
    return {name: group_metrics(rows) for name, rows in sorted(groups.items())}


def summarize(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Overall, per-category, per-question-language and per-(question, gold document) language pair."""
    return {
        "overall": group_metrics(results),
        "by_category": _grouped(results, lambda r: r.category),
        "by_language": _grouped(results, lambda r: r.language),
        "by_pair": _grouped(results, lambda r: r.pair),
    }
