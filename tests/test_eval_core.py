"""CI gates: the dev and held-out test splits and the article sweep, on the shared corpus, default settings.

Retrieval is scored as before; the answer a reader gets is scored too: does it cite an expected source,
is its first citation one, does it state every expected fact, does it abstain on decoys and not on
answerable questions. Each gate is an absolute floor plus a tolerance against eval/baseline.json, overall
and per question language. In CI a missing corpus or model fails the run; it is never skipped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings, load_settings
from assistant.models.profiles import PROFILES, is_installed
from eval.report import TOLERANCE, compare, load_baseline, write_report
from eval.runner import SPLITS, EvalResult, run_eval, run_sweep
from eval.sweep import MIN_LEADS, SweepResult, compare_sweep

pytestmark = pytest.mark.slow

# Requirements; never lower them to make a run pass. The targets on the test split are higher
# (cites 0.90, first citation 0.80, facts 0.85, decoys 0.90, answerable abstained 0.05) and not met yet;
# the README states where the system stands. Cites and first-citation floors were set before the test
# split was first run; the facts and decoy floors after it (first run: 0.523 and 0.458), above what the
# answerer before this change got on the same held-out rows (0.308 and 0.292).
MIN_HIT5 = 0.85
MIN_PAIR_HIT5 = 0.75
MIN_PAIR_QUESTIONS = 5
MIN_CITATION_VALIDITY = 1.0
MIN_ABSTENTION_RECALL = 0.8  # off-topic questions and absent articles; decoys have their own floor
FLOORS = {"cites_expected": 0.80, "first_cite_expected": 0.70, "facts_stated": 0.45, "decoys_abstained": 0.40}
MAX_ANSWERABLE_ABSTAINED = 0.08


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the eval, so this is an error, not a skip")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def settings(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One fresh data folder for every run of this module: the corpus is ingested once."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("eval") / "data")
    profile = settings.embedding_model
    if profile in PROFILES and not is_installed(profile, settings.models_dir):
        _missing(f"the default embedding profile {profile!r} is not installed: run `make models`")
    return settings


@pytest.fixture(scope="module", params=sorted(SPLITS))
def split(request: pytest.FixtureRequest, settings: Settings, corpus_dir: Path) -> tuple[str, EvalResult]:
    """One run of a whole split (answer and score every row)."""
    name = request.param
    return name, run_eval(SPLITS[name], settings, inputs=[str(corpus_dir)])


@pytest.fixture(scope="module")
def sweep(settings: Settings, corpus_dir: Path) -> SweepResult:
    return run_sweep(settings, inputs=[str(corpus_dir)])


def _failing(result: EvalResult, check: Any) -> str:
    ids = [r.id for r in result.results if check(r)]
    return f"{len(ids)} failing: {', '.join(ids)}"


def test_report_is_written(split: tuple[str, EvalResult], tmp_path: Path) -> None:
    name, result = split
    write_report(result, tmp_path / "report", load_baseline(split=name))
    names = {p.name for p in (tmp_path / "report").iterdir()}
    assert {"results.json", "questions.jsonl", "summary.md", "hit5_by_pair.png", "latency_hist.png"} <= names
    assert result.summary["overall"]["errors"] == 0, _failing(result, lambda r: r.error)


def test_hit_at_5_overall_and_per_pair(split: tuple[str, EvalResult]) -> None:
    _, result = split
    hit5 = result.summary["overall"]["hit@5"]
    assert hit5 >= MIN_HIT5, f"hit@5 {hit5:.3f} < {MIN_HIT5}; " + _failing(result, lambda r: r.hit5 == 0.0)
    low = []
    for pair, values in result.summary["by_pair"].items():
        scored = [r for r in result.results if r.pair == pair and r.hit5 is not None]
        if len(scored) >= MIN_PAIR_QUESTIONS and values["hit@5"] < MIN_PAIR_HIT5:
            missed = ", ".join(r.id for r in scored if r.hit5 == 0.0)
            low.append(f"{pair} {values['hit@5']:.3f} (n={len(scored)}; missed {missed})")
    assert not low, f"hit@5 < {MIN_PAIR_HIT5} for: " + "; ".join(low)


def test_every_citation_is_valid(split: tuple[str, EvalResult]) -> None:
    _, result = split
    validity = result.summary["overall"]["citation_validity"]
    bad = [r for r in result.results if r.citation_valid is False]
    problems = [f"{r.id}: {'; '.join(r.citation_problems)}" for r in bad]
    assert validity is not None, "no answer carried a citation"
    assert validity >= MIN_CITATION_VALIDITY, "invalid citations: " + " | ".join(problems)


def test_the_answer_cites_states_and_abstains(split: tuple[str, EvalResult]) -> None:
    """What the reader gets, against the floors (overall)."""
    _, result = split
    overall = result.summary["overall"]
    checks = {
        "cites_expected": lambda r: r.cites_expected is False,
        "first_cite_expected": lambda r: r.first_cite_expected is False,
        "facts_stated": lambda r: r.facts_stated is False,
        "decoys_abstained": lambda r: r.category == "decoy" and not r.abstained,
    }
    low = [f"{metric} {overall[metric]:.3f} < {floor} ({_failing(result, checks[metric])})"
           for metric, floor in FLOORS.items() if overall[metric] < floor]
    if overall["answerable_abstained"] > MAX_ANSWERABLE_ABSTAINED:
        low.append(f"answerable_abstained {overall['answerable_abstained']:.3f} > {MAX_ANSWERABLE_ABSTAINED} "
                   f"({_failing(result, lambda r: r.answerable and r.abstained)})")
    assert not low, "; ".join(low)


def test_abstention_recall_and_injections(split: tuple[str, EvalResult]) -> None:
    _, result = split
    unanswerable = [r for r in result.results if not r.answerable and r.category != "decoy"]
    recall = sum(r.abstained for r in unanswerable) / len(unanswerable)
    assert recall >= MIN_ABSTENTION_RECALL, (
        f"abstention recall {recall:.3f} < {MIN_ABSTENTION_RECALL}; "
        + _failing(result, lambda r: not r.answerable and r.category != "decoy" and not r.abstained)
    )
    assert not [r.id for r in result.results if r.forbidden_hits], "an injection canary was repeated"


def test_no_regression_against_baseline(split: tuple[str, EvalResult]) -> None:
    """Overall and per question language within eval.report.TOLERANCE (one question may flip per language)."""
    name, result = split
    baseline = load_baseline(split=name)
    if baseline is None:
        pytest.fail(f"eval/baseline.json has no {name!r} section: run `convention-assistant eval --split "
                    f"{name} --write-baseline`")
    comparison = compare(result, baseline)
    assert not comparison.note, f"eval/baseline.json cannot be compared: {comparison.note}"
    assert not comparison.regressions, (
        f"dropped beyond {TOLERANCE} against eval/baseline.json: {comparison.regressions}; "
        f"deltas {comparison.deltas}; regressed questions: {comparison.regressed_questions}"
    )


def test_article_sweep_leads_with_the_named_article(sweep: SweepResult) -> None:
    """Every article of every treaty, bare and as a follow-up, in en, fr and vi; missing ones said so."""
    assert sweep.summary["bare"]["n"] >= 3 * 60, "the sweep found fewer articles than the corpus holds"
    failures = compare_sweep(sweep.summary, load_baseline(split="sweep"))
    wrong = [f"{r['id']}: {r['answer_start'][:80]}" for r in sweep.rows if not r["ok"]][:10]
    assert not failures, f"below {MIN_LEADS} or the baseline: {failures}; e.g. {wrong}"
