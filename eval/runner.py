"""Run an evaluation set through the real assistant on an ingested corpus, plus retrieval ablations."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.answering.chat import Assistant
from assistant.config import PROJECT_ROOT, Settings
from assistant.errors import AssistantError, ConfigError, InputError
from assistant.index.store import ChunkStore
from assistant.models.embeddings import Embedder, load_embedder
from assistant.models.profiles import PROFILES, calibration_for, is_installed
from assistant.retrieval.retriever import Retriever
from assistant.text.languages import detect_language
from assistant.text.references import treaty_of
from assistant.types import Answer
from eval import metrics as m
from eval import sweep as sw
from eval.dataset import EvalRow, load_set
from eval.scoring import (
    ChunkInfo,
    QuestionResult,
    failed,
    retrieval_result,
    score_answer,
    summarize,
)
from ingest.pipeline import ingest

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
Mode = Literal["hybrid", "dense", "lexical"]
SPLITS = {
    "dev": PROJECT_ROOT / "eval" / "sets" / "dev.jsonl",  # tuned on
    "test": PROJECT_ROOT / "eval" / "sets" / "test.jsonl",  # held out: written before tuning, never tuned on
}
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
ABLATION_K = 10


@dataclass
class EvalResult:
    """The outcome of one evaluation run: per-question results, their summary and the ablations."""

    set_path: str
    config: dict[str, Any]
    results: list[QuestionResult]
    summary: dict[str, Any]
    ablations: dict[str, Any] = field(default_factory=dict)
    judge: dict[str, Any] = field(default_factory=dict)
    ingest: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Everything as plain JSON types (results.json)."""
        return {
            "set": self.set_path, "config": self.config, "summary": self.summary,
            "ablations": self.ablations, "judge": self.judge, "ingest": self.ingest,
            "questions": [{**asdict(r), "pair": r.pair} for r in self.results],
        }


@dataclass
class _Index:
    """The ingested corpus as the scorer sees it."""

    embedder: Embedder
    store: ChunkStore
    doc_languages: dict[str, str]  # source -> language
    ingest: dict[str, Any]


def _open_index(
    settings: Settings, inputs: Sequence[str], progress: Progress | None,
    embedder: Embedder | None = None, store: ChunkStore | None = None,
) -> _Index:
    """Bring the embedder's collection up to date with the inputs (unchanged files are skipped)."""
    embedder = embedder or load_embedder(settings)
    store = store or ChunkStore(settings, embedder)

    def on_progress(stage: str, done: int, total: int) -> None:
        if progress:
            progress(f"ingest {stage}", done, total)

    summary = ingest(inputs, settings, embedder, store, on_progress=on_progress)
    languages = {doc.source: doc.language for _, doc in store.iter_chunks()}
    return _Index(
        embedder, store, languages,
        {"added": summary.added, "updated": summary.updated, "unchanged": summary.unchanged,
         "documents": len(languages), "chunks": store.count(), "seconds": round(summary.seconds, 1),
         "skipped": [f"{s.source}: {s.reason}" for s in summary.skipped]},
    )


def _chunk_infos(store: ChunkStore, chunk_ids: Sequence[str]) -> dict[str, ChunkInfo]:
    """Stored text and source of each chunk id (citations are checked against these, not the answer)."""
    wanted = list(dict.fromkeys(chunk_ids))
    if not wanted:
        return {}
    return {c.chunk_id: ChunkInfo(d.source, c.text, d.language) for c, d in store.get_chunks(wanted)}


def _answer_all(
    rows: Sequence[EvalRow], answer: Callable[[EvalRow], Answer], index: _Index, progress: Progress | None
) -> tuple[list[QuestionResult], dict[str, str]]:
    """Ask every question once; returns the results and, per id, the query retrieval actually used."""
    results: list[QuestionResult] = []
    queries: dict[str, str] = {}
    for i, row in enumerate(rows, start=1):
        started = time.perf_counter()
        try:
            ans = answer(row)
        except AssistantError as exc:
            logger.warning("question %s failed: %s", row.id, exc)
            ms = (time.perf_counter() - started) * 1000
            results.append(failed(row, index.doc_languages, str(exc), ms))
            queries[row.id] = row.question
        else:
            ms = (time.perf_counter() - started) * 1000
            ids = [cid for cid, _ in ans.retrieved] + [c.chunk_id for c in ans.citations]
            chunks = _chunk_infos(index.store, ids)
            results.append(score_answer(row, ans, ms, chunks, index.doc_languages, detect_language))
            queries[row.id] = ans.standalone_question or row.question
        if progress:
            progress("questions", i, len(rows))
    return results, queries


@contextmanager
def _opened(settings: Settings, inputs: Sequence[str] | None,
            progress: Progress | None) -> Iterator[tuple[Assistant, _Index]]:
    """The real assistant, its index brought up to date with the inputs (default: the corpus); closed
    when done."""
    from assistant.wiring import build_services  # noqa: PLC0415 (builds models: only when a run starts)

    inputs = list(inputs) if inputs else [str(DEFAULT_CORPUS)]
    missing = [p for p in inputs if "://" not in p and not Path(p).exists()]
    if missing:
        raise InputError(
            f"Cannot evaluate: the input {missing[0]} does not exist; pass --input or add ../shared/corpus."
        )
    services = build_services(settings)
    try:
        # subtle: reuse the services' own embedder and store, so the model is loaded once
        store = services.store
        if not isinstance(store, ChunkStore) or services.embedder is None or services.watcher is None:
            raise ConfigError("Cannot evaluate: the services were not built over this project's own index; "
                              "build them with assistant.wiring.build_services.")
        index = _open_index(settings, inputs, progress, services.embedder, store)
        services.watcher.check(force=True)
        assert isinstance(services.assistant, Assistant)
        yield services.assistant, index
    finally:
        services.close()


def retrieval_only(
    rows: Sequence[EvalRow], retriever: Retriever, index: _Index, queries: dict[str, str],
    label: str, progress: Progress | None = None,
) -> dict[str, Any]:
    """hit@1/hit@5/MRR/nDCG@10 of one retriever, overall and per language pair (no answering)."""
    results: list[QuestionResult] = []
    for i, row in enumerate([r for r in rows if r.expected_sources], start=1):
        started = time.perf_counter()
        hits = retriever.search(queries.get(row.id, row.question), k=ABLATION_K)
        ms = (time.perf_counter() - started) * 1000
        docs = m.dedupe(h.doc.source for h in hits)
        results.append(retrieval_result(row, docs, index.doc_languages, ms))
        if progress:
            progress(label, i, len(rows))
    keep = ("n", "hit@1", "hit@5", "mrr", "ndcg@10", "latency_ms_mean", "latency_ms_p95")
    summary = summarize(results)
    return {
        "overall": {k: summary["overall"][k] for k in keep},
        "by_pair": {p: {k: v[k] for k in keep} for p, v in summary["by_pair"].items()},
        "per_question": {r.id: r.hit5 for r in results},
    }


def _judge_status(settings: Settings) -> dict[str, Any]:
    """LLM-judged metrics need an endpoint; without one they are skipped, never counted as passed."""
    if settings.llm_base_url or settings.llm_gguf_path:
        reason = "an LLM endpoint is configured but no judge metric is defined yet"
    else:
        reason = "no LLM endpoint configured (set CA_LLM_BASE_URL for judge metrics)"
    return {"status": "skipped", "reason": reason}


def run_eval(
    set_path: Path,
    settings: Settings,
    *,
    retrieval_modes: Sequence[Mode] = ("hybrid",),
    profiles: Sequence[str] | None = None,
    progress: Progress | None = None,
    inputs: Sequence[str] | None = None,
) -> EvalResult:
    """Ingest the corpus if needed, answer every question of the set, score it, run the ablations."""
    rows = load_set(Path(set_path))
    inputs = list(inputs) if inputs else [str(DEFAULT_CORPUS)]
    with _opened(settings, inputs, progress) as (assistant, index):

        def answer(row: EvalRow) -> Answer:
            return assistant.answer(row.question, history=row.turns())

        results, queries = _answer_all(rows, answer, index, progress)
    ablations: dict[str, Any] = {"retrieval": {}, "profiles": {}}
    for mode in retrieval_modes:
        retriever = Retriever(index.store, index.embedder, settings, mode=mode,
                              calibration=calibration_for(index.embedder.name, settings))
        label = f"ablation {mode}"
        ablations["retrieval"][mode] = retrieval_only(rows, retriever, index, queries, label, progress)
    for name in profiles or ():
        if name not in PROFILES or not is_installed(name, settings.models_dir):
            ablations["profiles"][name] = {"status": "skipped", "reason": f"profile {name} is not installed"}
            continue
        other = settings.model_copy(update={"embedding_model": name})
        other_index = _open_index(other, inputs, progress)
        retriever = Retriever(other_index.store, other_index.embedder, other, mode="hybrid",
                              calibration=calibration_for(other_index.embedder.name, other))
        label = f"profile {name}"
        ablations["profiles"][name] = retrieval_only(rows, retriever, other_index, queries, label, progress)
    config = {
        "embedding_model": settings.embedding_model, "answer_mode": settings.mode, "top_k": settings.top_k,
        "candidates": settings.candidates, "chunk_tokens": settings.chunk_tokens,
        "fusion": settings.fusion, "dense_weight": settings.dense_weight,
        "language_centering": settings.language_centering,
        "collection": index.store.collection_name,
        # relative to the project, so a committed baseline names no machine's folders
        "inputs": [p if "://" in p else os.path.relpath(p, PROJECT_ROOT) for p in inputs],
    }
    return EvalResult(
        set_path=str(set_path), config=config, results=results, summary=summarize(results),
        ablations=ablations, judge=_judge_status(settings), ingest=index.ingest,
    )


def run_sweep(settings: Settings, *, inputs: Sequence[str] | None = None,
              progress: Progress | None = None) -> sw.SweepResult:
    """Every article of every treaty in the index, asked bare and as a follow-up in each UI language."""
    with _opened(settings, inputs, progress) as (assistant, index):
        rows = sw.sweep_rows(sw.treaty_articles(index.store.iter_chunks(), treaty_of))
        answers: list[Answer] = []
        for i, row in enumerate(rows, start=1):
            answers.append(assistant.answer(row.question, history=row.history))
            if progress:
                progress("sweep", i, len(rows))
    return sw.score(rows, answers)
