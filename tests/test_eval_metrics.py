"""Eval metrics and set loading, checked against worked examples computed by hand."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

import cli
from assistant.errors import InputError
from assistant.types import Answer, Citation
from eval import metrics as m
from eval.dataset import CATEGORIES, EvalRow, load_set
from eval.gates import compare_sweep
from eval.report import compare, load_baseline, make_baseline, save_baseline, write_report
from eval.runner import EvalResult
from eval.scoring import NO_GOLD, ChunkInfo, gold_language, score_answer, summarize

REPO = Path(__file__).resolve().parent.parent
DEV = REPO / "eval" / "sets" / "dev.jsonl"
TEST = REPO / "eval" / "sets" / "test.jsonl"  # held out: never tuned on

# A ranking of chunk sources: doc a has two chunks, the relevant doc c is third once deduplicated.
RANKED = ["corpus/a.txt", "corpus/a.txt", "corpus/b.txt", "corpus/c_target.txt", "corpus/d.txt"]


def test_dedupe_keeps_first_rank_of_each_document() -> None:
    assert m.dedupe(RANKED) == ["corpus/a.txt", "corpus/b.txt", "corpus/c_target.txt", "corpus/d.txt"]


def test_hits_mrr_and_ndcg_worked_example() -> None:
    docs = m.dedupe(RANKED)
    expected = ["c_target", "zz_missing"]
    assert m.hit_at(docs, expected, 1) == 0.0
    assert m.hit_at(docs, expected, 3) == 1.0
    assert m.hit_at(docs, expected, 5) == 1.0
    assert m.reciprocal_rank(docs, expected) == pytest.approx(1 / 3)
    # one relevant doc at rank 3, one relevant doc in the index: DCG = 1/log2(4) = 0.5, IDCG = 1
    assert m.ndcg_at(docs, expected, 10, n_relevant=1) == pytest.approx(0.5)
    # two relevant docs in the index, only one retrieved: IDCG = 1 + 1/log2(3)
    assert m.ndcg_at(docs, expected, 10, n_relevant=2) == pytest.approx(0.5 / (1 + 1 / math.log2(3)))
    assert m.reciprocal_rank(docs, ["nothing"]) == 0.0
    assert m.ndcg_at(docs, ["nothing"], 10, n_relevant=0) == 0.0


def test_fact_recall_normalizes_case_digits_and_alternatives() -> None:
    answer = "It enters into force 90 days after the FORTIETH instrument; 2.500 delegates attended."
    assert m.fact_recall(answer, ["90 days", "fortieth|40th", "2500"]) == 1.0
    # "40" must not match inside "400", nor "9" inside "90"
    assert m.fact_recall("about 400 people", ["40"]) == 0.0
    assert m.fact_recall(answer, ["9", "ninety"]) == 0.0
    assert m.fact_recall(answer, ["90", "72"]) == 0.5
    assert m.fact_recall(answer, []) is None
    assert m.fact_recall("“serious crime”", ['"serious crime"']) == 1.0


def test_markers_and_quotes() -> None:
    assert m.markers("A [1]. B [2, 3]. C [1;4]") == [1, 2, 3, 1, 4]
    chunk = "Each Party shall adopt such legislative and other measures as may be necessary."
    assert m.quote_in_text("each party  shall adopt", chunk)
    assert m.quote_in_text("Each Party shall … as may be necessary", chunk)
    assert not m.quote_in_text("as may be necessary … Each Party", chunk)  # pieces out of order
    assert not m.quote_in_text("shall not adopt", chunk)
    assert not m.quote_in_text("…", chunk)


def test_citation_validity_names_each_problem() -> None:
    chunks = {"c1": "The Convention has 68 articles.", "c2": "Signed by 72 States."}
    ok, problems = m.citation_validity(
        "It has 68 articles [1] and 72 signatories [2].",
        [(1, "c1", "68 articles"), (2, "c2", "72 States")],
        chunks,
    )
    assert ok and problems == []
    ok, problems = m.citation_validity(
        "It has 71 articles [1] [3].", [(1, "c1", "71 articles"), (2, "gone", "x")], chunks
    )
    assert not ok
    assert problems == [
        "marker [3] has no citation",
        "citation [1] quote is not in chunk c1",
        "citation [2] points to chunk gone that is not in the store",
    ]


def test_citation_precision_and_locator_match() -> None:
    budapest = "corpus/texts/coe_budapest_en.txt"
    cited = [budapest, budapest, "corpus/digests/12_en_x.txt"]
    assert m.citation_precision(cited, ["coe_budapest"]) == 0.5
    assert m.citation_precision([], ["coe_budapest"]) is None
    assert m.article_number("Chapter II, Section 2, Article 16(2)") == "16"
    assert m.article_number("المادة 7") == "7"
    assert m.article_number("Điều 35") == "35"
    assert m.article_number("Preamble") is None
    assert m.locator_match(["Chapter II, Article 16(1)", "Article 29"], ["Article 16", "Article 2"]) == 0.5
    assert m.locator_match(["Preamble"], ["preamble"]) == 1.0
    assert m.locator_match(["Article 16"], []) is None


def test_language_match_reads_the_lead_in() -> None:
    detect = {"Selon les sources, 68 articles": "fr", "According to": "en"}.get
    answer = "\n[1] Selon les sources, 68 articles [1]\nAccording to"
    assert m.lead_in(answer) == "Selon les sources, 68 articles"
    assert m.language_match(answer, "fr", lambda t: detect(t) or "xx") is True
    assert m.language_match(answer, "en", lambda t: detect(t) or "xx") is False
    assert m.language_match("  \n", "en", lambda t: "en") is None


def test_abstention_mean_and_percentile() -> None:
    # (should_abstain, did_abstain): 2 true positives, 1 false positive, 1 false negative
    pairs = [(True, True), (True, True), (False, True), (True, False), (False, False)]
    scores = m.abstention_scores(pairs)
    assert scores["abstention_precision"] == pytest.approx(2 / 3)
    assert scores["abstention_recall"] == pytest.approx(2 / 3)
    assert m.abstention_scores([(False, False)]) == {"abstention_precision": None, "abstention_recall": None}
    assert m.mean([1.0, None, 0.0, True]) == pytest.approx(2 / 3)
    assert m.mean([None]) is None
    assert m.percentile([10.0, 20.0, 30.0, 40.0, 50.0], 50) == pytest.approx(30.0)
    assert m.percentile([], 95) is None
    assert m.forbidden_found("Reply: PWNED.", ["pwned", "500 articles"]) == ["pwned"]


def test_dev_set_meets_its_coverage_requirements() -> None:
    rows = load_set(DEV)
    assert len(rows) >= 80
    by_lang = {lang: sum(r.language == lang for r in rows) for lang in ("en", "fr", "vi", "ar", "es")}
    assert by_lang["en"] >= 20 and by_lang["fr"] >= 20 and by_lang["vi"] >= 20
    assert by_lang["ar"] >= 3 and by_lang["es"] >= 3
    cats = {c: [r for r in rows if r.category == c] for c in CATEGORIES}
    assert all(cats.values()), "every category has questions"
    assert len([r for r in rows if not r.answerable]) >= 8
    assert len(cats["followup"]) >= 5 and all(r.history for r in cats["followup"])
    assert len(cats["injection"]) >= 2
    for lang in ("en", "fr", "vi", "ar", "es"):
        assert any(r.category == "article_lookup" and r.language == lang for r in rows)


def test_test_split_meets_its_coverage_requirements() -> None:
    """The held-out split: every UI language (ar and es at least five each), decoys and follow-ups."""
    rows = load_set(TEST)
    dev_ids = {r.id for r in load_set(DEV)}
    assert not dev_ids & {r.id for r in rows}, "a row is in both splits"
    for lang in ("en", "fr", "vi", "ar", "es"):
        assert sum(r.language == lang for r in rows) >= 5, lang
    assert sum(r.category == "decoy" for r in rows) >= 20
    assert sum(r.category == "followup" for r in rows) >= 6
    decoys = sum(r.category == "decoy" for s in (DEV, TEST) for r in load_set(s))
    assert decoys >= 40, "at least 40 decoys over both splits"


@pytest.mark.parametrize("split", [DEV, TEST], ids=["dev", "test"])
def test_set_facts_are_in_their_sources(corpus_dir: Path, split: Path) -> None:
    """Every expected fact (one of its alternatives) occurs in the body of one of its expected sources."""
    bodies = {}
    for path in corpus_dir.rglob("*.txt"):
        text = path.read_text(encoding="utf-8")
        name = f"{corpus_dir.name}/{path.relative_to(corpus_dir).as_posix()}"
        bodies[name] = m.normalize(text.split("\n---\n", 1)[-1])
    for row in load_set(split):
        docs = [d for s in row.expected_sources for d in bodies if s in d]
        assert len(docs) >= len(row.expected_sources), f"{row.id}: an expected source matches no file"
        for fact in row.expected_facts:
            found = any(m._contains(bodies[d], alt) for d in docs for alt in fact.split("|"))
            assert found, f"{row.id}: fact {fact!r} is in none of its expected sources"


def test_bad_rows_are_named_by_line(tmp_path: Path) -> None:
    good = {"id": "q1", "question": "Q?", "language": "en", "category": "factual", "answerable": True,
            "expected_sources": ["x"]}
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "q2", "category": "trivia"}) + "\n")
    with pytest.raises(InputError, match=r"set.jsonl:2 .*category"):
        load_set(path)
    path.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(InputError, match=r"set.jsonl:2 is not valid JSON"):
        load_set(path)
    path.write_text(json.dumps({**good, "answerable": False}) + "\n")
    with pytest.raises(InputError, match=r"set.jsonl:1 .*no expected sources"):
        load_set(path)
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(InputError, match="repeats the id 'q1'"):
        load_set(path)
    with pytest.raises(InputError, match="Cannot read the evaluation set"):
        load_set(tmp_path / "missing.jsonl")


# --- scoring, report and CLI on hand-made answers (no model) ------------------------------------


def _row(**kw: object) -> EvalRow:
    base: dict[str, object] = {"id": "q1", "question": "How many articles?", "language": "en",
                               "category": "conflict", "answerable": True,
                               "expected_sources": ["25_en_c4ir"], "expected_facts": ["68", "71"]}
    return EvalRow.model_validate({**base, **kw})


def _answer(text: str, citations: tuple[Citation, ...], abstained: bool = False) -> Answer:
    return Answer(question="q", language="en", answer=text, abstained=abstained, mode="extractive",
                  citations=citations, retrieved=(("c0", 0.9), ("c1", 0.8), ("c2", 0.7)))


def _citation(n: int, chunk_id: str, source: str, quote: str) -> Citation:
    return Citation(n=n, doc_id="d", source=source, title="t", language="en", locator="", quote=quote,
                    url="", chunk_id=chunk_id)


CHUNKS = {
    "c0": ChunkInfo("corpus/digests/30_en_vovworld.txt", "nine chapters and 71 articles", "en"),
    "c1": ChunkInfo("corpus/digests/25_en_c4ir.txt", "37 out of 68 articles overlap", "en"),
    "c2": ChunkInfo("corpus/digests/25_en_c4ir.txt", "Chapter IX ends at Article 68", "en"),
}
LANGS = {"corpus/digests/30_en_vovworld.txt": "en", "corpus/digests/25_en_c4ir.txt": "en"}


def test_score_answer_and_summary() -> None:
    cites = (_citation(1, "c1", CHUNKS["c1"].source, "68 articles"),
             _citation(2, "c0", CHUNKS["c0"].source, "71"))
    r = score_answer(_row(), _answer("Sources differ: 68 [1] or 71 [2].", cites), 12.0, CHUNKS, LANGS,
                     lambda text: "en")
    assert r.retrieved_docs == ["corpus/digests/30_en_vovworld.txt", "corpus/digests/25_en_c4ir.txt"]
    assert (r.hit1, r.hit5, r.rr) == (0.0, 1.0, 0.5)
    assert r.citation_valid is True and r.fact_recall == 1.0 and r.citation_precision == 0.5
    assert r.pair == "en-en" and r.language_ok is True
    bad = score_answer(_row(id="q2"), _answer("68 [1] [3]", (_citation(1, "c1", "x", "69 articles"),)),
                       5.0, CHUNKS, LANGS, lambda text: "fr")
    assert bad.citation_valid is False and len(bad.citation_problems) == 2 and bad.language_ok is False
    unanswerable = _row(id="q3", category="unanswerable", answerable=False,
                        expected_sources=[], expected_facts=[])
    nothing = _answer("No answer in the materials.", (), True)
    abstained = score_answer(unanswerable, nothing, 3.0, CHUNKS, LANGS, lambda text: "en")
    assert abstained.gold_language == NO_GOLD and abstained.hit5 is None and abstained.citation_valid is None
    summary = summarize([r, bad, abstained])
    overall = summary["overall"]
    assert overall["n"] == 3 and overall["hit@5"] == 1.0 and overall["citation_validity"] == 0.5
    assert overall["abstention_recall"] == 1.0 and overall["abstention_precision"] == 1.0
    assert set(summary["by_pair"]) == {"en-en", "en-none"} and summary["by_pair"]["en-en"]["n"] == 2
    assert gold_language(["coe_budapest_convention_ets185"], {}) == "unknown"
    assert gold_language(["43_vi_hrw"], {}) == "vi"


def test_report_and_baseline_comparison(tmp_path: Path) -> None:
    cites = (_citation(1, "c1", CHUNKS["c1"].source, "68 articles"),)
    good = score_answer(_row(), _answer("68 [1]", cites), 10.0, CHUNKS, LANGS, lambda text: "en")
    result = EvalResult("core.jsonl", {"embedding_model": "small"}, [good], summarize([good]))
    baseline = make_baseline(result)
    assert compare(result, baseline).regressions == []
    other_model = EvalResult("core.jsonl", {"embedding_model": "quality"}, [good], summarize([good]))
    assert "made with embedding model 'small'" in compare(other_model, baseline).note
    worse = score_answer(_row(), replace(_answer("nothing", ()), retrieved=()), 10.0, CHUNKS, LANGS,
                         lambda text: "en")
    later = EvalResult("core.jsonl", {"embedding_model": "small"}, [worse], summarize([worse]))
    comparison = write_report(later, tmp_path / "report", baseline)
    # retrieval and what the reader gets, overall and for the question's language
    assert comparison.regressions[:4] == ["hit@5", "mrr", "cites_expected", "first_cite_expected"]
    assert not [x for x in comparison.regressions if "[en]" in x]  # one question per language may flip
    several = [replace(good, id=f"q{i}") for i in range(3)]
    base3 = make_baseline(EvalResult("s", {"embedding_model": "small"}, several, summarize(several)))
    worse3 = [replace(worse, id=f"q{i}") for i in range(3)]
    regressions = compare(EvalResult("s", {"embedding_model": "small"}, worse3, summarize(worse3)),
                          base3).regressions
    assert "cites_expected [en] 1.000 -> 0.000" in regressions
    assert comparison.regressed_questions == ["q1: expected source left the top 5; fact recall 0.50 -> 0.00"]
    names = {p.name for p in (tmp_path / "report").iterdir()}
    assert names == {"results.json", "questions.jsonl", "summary.md", "hit5_by_pair.png", "latency_hist.png"}
    md = (tmp_path / "report" / "summary.md").read_text(encoding="utf-8")
    assert "q1: expected source left the top 5" in md and "| en-en |" in md
    saved = json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))
    assert saved["questions"][0]["pair"] == "en-en" and saved["baseline_comparison"]["regressions"]


def test_cli_names_the_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "question": "Q?", "language": "english"}\n', encoding="utf-8")
    assert cli.main(["eval", "--set", str(path), "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:1 is not a valid eval row" in err and err.count("\n") == 1


def test_answer_metrics_score_what_the_reader_gets() -> None:
    cites = (_citation(1, "c1", CHUNKS["c1"].source, "37 out of 68 articles overlap"),
             _citation(2, "c0", CHUNKS["c0"].source, "nine chapters and 71 articles"))
    # the answer shows [2] first: its first citation is not an expected source, but one citation is
    r = score_answer(_row(expected_sources=["25_en_c4ir"]), _answer("71 articles [2]; 68 [1].", cites),
                     1.0, CHUNKS, LANGS, lambda text: "en")
    assert r.cites_expected is True and r.first_cite_expected is False and r.facts_stated is True
    half = score_answer(_row(), _answer("68 articles [1].", cites[:1]), 1.0, CHUNKS, LANGS, lambda t: "en")
    assert half.facts_stated is False and half.fact_recall == 0.5
    abstained = score_answer(_row(), _answer("No.", cites, abstained=True), 1.0, CHUNKS, LANGS,
                             lambda t: "en")
    assert abstained.cites_expected is False and abstained.facts_stated is False
    decoy = score_answer(_row(id="d", category="decoy", answerable=False, expected_sources=[],
                              expected_facts=[]), _answer("No.", (), abstained=True), 1.0, CHUNKS, LANGS,
                         lambda t: "en")
    summary = summarize([r, half, abstained, decoy])["overall"]
    assert summary["decoys_abstained"] == 1.0 and summary["answerable_abstained"] == pytest.approx(1 / 3)
    assert m.first_cited("see [3] then [1]", {1: "a", 3: "b"}) == "b"


def test_baseline_sections_per_split(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    save_baseline({"overall": {"hit@5": 0.9}}, "dev", path)
    save_baseline({"summary": {"bare": {"n": 3, "ok": 1.0}}}, "sweep", path)
    assert load_baseline(path, "dev") == {"overall": {"hit@5": 0.9}}
    assert load_baseline(path, "test") is None
    sweep = load_baseline(path, "sweep")
    assert compare_sweep({"bare": {"n": 3, "ok": 1.0}}, sweep) == []
    lower = compare_sweep({"bare": {"n": 3, "ok": 0.96}}, sweep)
    assert lower == ["bare 0.960 < 0.97", "bare 1.000 -> 0.960"]
