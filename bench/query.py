"""Query benchmark: retrieval and extractive-answer latency, and hit@5 against a naive LangChain baseline.

Usage: .venv/bin/python bench/query.py [--profile small] [--dtype float32] [--corpus ../shared/corpus]
       [--data-dir DIR] [--no-baseline] [--rankings OUT.json]
The baseline: whole files split by RecursiveCharacterTextSplitter(1000, 200), same embedding model,
dense top-5, in its own Chroma collection in a temp folder (needs the bench extra: pip install -e
'.[bench]'). Both are scored on the 25 questions below and on the evaluation set's single-turn
answerable questions (`--set`), top 5 passages each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# (question, substrings of expected source files): en/fr/vi questions, answers often in another language
QUESTIONS: list[tuple[str, list[str]]] = [
    ("What does Article 16 of the Budapest Convention say?", ["coe_budapest_convention_ets185"]),
    ("Que prévoit l'article 2 de la Convention des Nations unies ?", ["uncc_articles_01-15_ar"]),
    ("Điều 16 Công ước Budapest quy định gì?", ["coe_budapest_convention_ets185"]),
    ("What is the purpose of the Additional Protocol on racism and xenophobia?", ["coe_additional_protocol"]),
    (
        "Quel est l'objet de l'article 1 de la Convention des Nations unies contre la cybercriminalité ?",
        ["uncc_articles_01-15_ar"],
    ),
    (
        "How many articles does the UN convention have?",
        ["25_en_c4ir", "30_en_vovworld", "22_vi_thanhnien", "24_vi_vietnamnet", "26_vi_antoanthongtin"],
    ),
    (
        "Combien de pays ont signé la convention à Hanoï ?",
        ["35_fr_boursorama", "32_fr_lecourrier", "06_en_un_news", "37_en_newshour", "23_vi_nld"],
    ),
    (
        "Có bao nhiêu quốc gia đã ký Công ước Hà Nội?",
        ["23_vi_nld", "22_vi_thanhnien", "06_en_un_news", "35_fr_boursorama", "27_vi_cand"],
    ),
    ("How many hours of formal negotiations did the Convention take?", ["09_en_unodc_waly"]),
    ("Combien d'heures de négociations formelles la convention a-t-elle demandé ?", ["09_en_unodc_waly"]),
    ("Bao nhiêu người là nạn nhân của tội phạm mạng năm 2023 theo Hội đồng châu Âu?", ["11_en_coe_dsg"]),
    ("When was the Second Additional Protocol opened for signature?", ["13_en_coe_second", "14_fr_eurlex"]),
    (
        "Quand le deuxième protocole additionnel a-t-il été ouvert à la signature ?",
        ["13_en_coe_second", "14_fr_eurlex"],
    ),
    ("What was the vote on the 2019 General Assembly resolution on cybercrime?", ["20_en_unga_2019"]),
    (
        "Nghị quyết năm 2019 của Đại hội đồng về tội phạm mạng được thông qua với bao nhiêu phiếu thuận?",
        ["20_en_unga_2019"],
    ),
    (
        "Did the United States and Canada sign the convention in Hanoi?",
        ["37_en_newshour", "39_en_therecord", "50_en_hellbound"],
    ),
    (
        "Les États-Unis ont-ils signé la convention à Hanoï ?",
        ["37_en_newshour", "39_en_therecord", "50_en_hellbound"],
    ),
    (
        "Why do human rights groups criticise the surveillance provisions?",
        ["47_en_eff", "42_en_hrw", "40_en_eff", "46_en_accessnow"],
    ),
    (
        "Pourquoi Human Rights Watch critique-t-elle le Vietnam comme hôte du traité ?",
        ["42_en_hrw", "43_vi_hrw"],
    ),
    (
        "Which technology companies criticised the treaty's risks for security researchers?",
        ["45_en_tech_accord"],
    ),
    (
        "Những công ty công nghệ nào chỉ trích công ước vì rủi ro cho các nhà nghiên cứu bảo mật?",
        ["45_en_tech_accord", "36_fr_actualites24"],
    ),
    (
        "How many of the Convention's provisions overlap with UNTOC and UNCAC?",
        ["24_vi_vietnamnet", "25_en_c4ir"],
    ),
    (
        "When does the Convention enter into force?",
        ["39_en_therecord", "03_en_untc", "04_en_unodc", "52_fr_dbfbruxelles", "56_fr_lecourrier"],
    ),
    (
        "À quelle condition l'UE peut-elle signer la Convention des Nations unies ?",
        ["53_fr_lemondeinformatique", "15_en_eu_council"],
    ),
    (
        "Công ước có thể biến an ninh mạng thành giám sát mạng không?",
        ["44_vi_luatkhoa", "43_vi_hrw", "42_en_hrw", "47_en_eff"],
    ),
]


def _hit(sources: list[str], expected: list[str]) -> bool:
    return any(e in s for s in sources for e in expected)


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _baseline(corpus: Path, embedder: object, folder: Path) -> object:
    """Naive RAG: whole files, 1000/200 character chunks, one dense collection."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document

    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError:
        sys.exit("error: the naive baseline needs the bench extra: pip install -e '.[bench]', "
                 "or pass --no-baseline.")

    from assistant.models.embeddings import LangchainEmbeddings

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    docs = [
        Document(page_content=part, metadata={"source": str(path.relative_to(corpus.parent))})
        for path in sorted(corpus.rglob("*.txt"))
        for part in splitter.split_text(path.read_text("utf-8"))
    ]
    store = Chroma(
        collection_name="baseline",
        embedding_function=LangchainEmbeddings(embedder),  # type: ignore[arg-type]
        persist_directory=str(folder),
        collection_configuration={"hnsw": {"space": "cosine"}},
    )
    store.add_documents(docs)
    return store


def _eval_set_hits(path: Path, retriever: object, baseline: object) -> tuple[int, int, int] | None:
    """(questions, ours, baseline) hit@5 over an eval set's single-turn answerable questions."""
    from eval.dataset import load_set

    if baseline is None or not path.exists():
        return None
    rows = [r for r in load_set(path) if r.expected_sources and not r.history]
    ours = theirs = 0
    for row in rows:
        found = retriever.search(row.question, k=5)  # type: ignore[attr-defined]
        naive = baseline.similarity_search(row.question, k=5)  # type: ignore[attr-defined]
        ours += _hit([h.doc.source for h in found], list(row.expected_sources))
        theirs += _hit([d.metadata["source"] for d in naive], list(row.expected_sources))
    return len(rows), ours, theirs


def _measure(retriever: Any, assistant: Any, baseline: Any) -> tuple[
        dict[str, list[float]], dict[str, int], list[tuple[str, bool, bool]], dict[str, list[str]]]:
    """Time each bench question through embedding, retrieval, answer and the baseline; score hit@5."""
    timings: dict[str, list[float]] = {"embed": [], "retrieval": [], "answer": [], "baseline": []}
    hits = {"hybrid": 0, "baseline": 0}
    rows = []
    rankings: dict[str, list[str]] = {}
    for question, expected in QUESTIONS:
        # subtle: the embedder caches query vectors, so the model's cost is measured once, up front,
        # and every later step (ours and the baseline's) reuses the cached vector on equal terms.
        t0 = time.perf_counter()
        retriever.embedder.embed_batch([question], "query")
        t1 = time.perf_counter()
        found = retriever.search(question, k=5)
        t2 = time.perf_counter()
        assistant.answer(question)
        t3 = time.perf_counter()
        naive = [] if baseline is None else baseline.similarity_search(question, k=5)  # type: ignore[attr-defined]
        t4 = time.perf_counter()
        rankings[question] = [h.chunk.chunk_id for h in found]
        timings["embed"].append((t1 - t0) * 1000)
        timings["retrieval"].append((t2 - t1) * 1000)
        timings["answer"].append((t3 - t2) * 1000)
        timings["baseline"].append((t4 - t3) * 1000)
        ours = _hit([h.doc.source for h in found], expected)
        theirs = _hit([d.metadata["source"] for d in naive], expected)
        hits["hybrid"] += ours
        hits["baseline"] += theirs
        rows.append((question, ours, theirs))
    return timings, hits, rows, rankings


def _print_report(profile: str, dtype: str, load_start: float, rows: list[tuple[str, bool, bool]],
                  hits: dict[str, int], timings: dict[str, list[float]], eval_hits: Any,
                  set_path: Path) -> None:
    """The bench's table: each question, hit@5 of both pipelines, and latency percentiles."""
    n = len(QUESTIONS)
    print(f"\nprofile {profile} ({dtype}), {n} questions (en/fr/vi), "
          f"cpu threads: {os.cpu_count()}, load average {load_start:.1f} -> {os.getloadavg()[0]:.1f}")
    for question, ours, theirs in rows:
        print(f"  {'+' if ours else '-'}{'+' if theirs else '-'}  {question[:90]}")
    print(
        f"\nhit@5   hybrid {hits['hybrid']}/{n} = {hits['hybrid'] / n:.2f}   "
        f"naive baseline {hits['baseline']}/{n} = {hits['baseline'] / n:.2f}"
    )
    if eval_hits:
        n_set, ours_set, theirs_set = eval_hits
        print(
            f"hit@5 on {set_path.name} ({n_set} single-turn answerable questions)   "
            f"hybrid {ours_set}/{n_set} = {ours_set / n_set:.3f}   "
            f"naive baseline {theirs_set}/{n_set} = {theirs_set / n_set:.3f}"
        )
    labels = {
        "embed": "query embedding",
        "retrieval": "retrieval (cached q)",
        "answer": "extractive answer",
        "baseline": "baseline (cached q)",
    }
    for name, label in labels.items():
        median, p95 = _percentiles(timings[name])
        print(f"{label:22s} median {median:7.1f} ms   p95 {p95:7.1f} ms")
    print("a full retrieval = query embedding + retrieval; a full answer = query embedding + answer")


def main() -> int:
    """Run the benchmark and print a table."""
    from assistant.config import load_settings
    from assistant.index.store import ChunkStore
    from assistant.wiring import build_services
    from ingest.pipeline import ingest

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="small")
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus"))
    parser.add_argument("--data-dir", help="reuse an index folder (default: a fresh temp folder)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), help="default: CA_EMBEDDING_DTYPE")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline (saves an embed)")
    parser.add_argument("--rankings", help="write each question's top-5 chunk ids there (compare two runs)")
    parser.add_argument("--set", default=str(REPO / "eval" / "sets" / "dev.jsonl"),
                        help="evaluation set also scored for hit@5 against the baseline")
    args = parser.parse_args()
    corpus = Path(args.corpus).resolve()

    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        settings = load_settings(
            embedding_model=args.profile, embedding_dtype=args.dtype,
            data_dir=args.data_dir or Path(tmp) / "data",
        )
        services = build_services(settings)
        assistant, retriever, store = services.assistant, services.retriever, services.store
        assert retriever is not None and isinstance(store, ChunkStore)  # the wiring builds our own index
        started = time.perf_counter()
        summary = ingest([str(corpus)], settings, retriever.embedder, store)
        print(
            f"index: {store.count()} chunks ({summary.embedded_chunks} embedded now) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        retriever.search("warm-up")  # builds the lexical index and warms the model

        baseline = None if args.no_baseline else _baseline(corpus, retriever.embedder, Path(tmp) / "baseline")
        load_start = os.getloadavg()[0]
        timings, hits, rows, rankings = _measure(retriever, assistant, baseline)
        eval_hits = _eval_set_hits(Path(args.set), retriever, baseline)

    if args.rankings:
        Path(args.rankings).write_text(json.dumps(rankings, ensure_ascii=False, indent=1), encoding="utf-8")
    _print_report(args.profile, settings.embedding_dtype, load_start, rows, hits, timings, eval_hits,
                  Path(args.set))
    return 0


if __name__ == "__main__":
    sys.exit(main())
