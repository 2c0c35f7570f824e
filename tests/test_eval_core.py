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
from eval.gates import MIN_LEADS, Gate, compare_sweep, floor_gates
from eval.report import TOLERANCE, compare, load_baseline, write_report
from eval.runner import SPLITS, EvalResult, run_eval, run_sweep
from eval.sweep import SweepResult

pytestmark = pytest.mark.slow

# The floors are requirements (eval/gates.py says where each comes from); never lower them to make a run
# pass. The command's exit status and its JUnit report check the same gates.


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


def _floors(result: EvalResult, *metrics: str) -> list[Gate]:
    """The floor gates of these metrics; each must have been checked."""
    gates = [g for g in floor_gates(result) if g.metric in metrics]
    assert {g.metric for g in gates} == set(metrics), f"no floor checked for {set(metrics)}"
    return gates


def _not_passed(gates: list[Gate]) -> str:
    return "; ".join(f"{g.name}: {g.detail}" for g in gates if g.passed is not True)


def test_report_is_written(split: tuple[str, EvalResult], tmp_path: Path) -> None:
    name, result = split
    write_report(result, tmp_path / "report", load_baseline(split=name))
    names = {p.name for p in (tmp_path / "report").iterdir()}
    assert {"results.json", "questions.jsonl", "summary.md", "hit5_by_pair.png", "latency_hist.png"} <= names
    assert result.summary["overall"]["errors"] == 0, _failing(result, lambda r: r.error)


def test_hit_at_5_overall_and_per_pair(split: tuple[str, EvalResult]) -> None:
    """hit@5 overall, and for each language pair with enough scored questions."""
    _, result = split
    gates = _floors(result, "hit@5")
    assert not _not_passed(gates), _not_passed(gates)


def test_every_citation_is_valid(split: tuple[str, EvalResult]) -> None:
    _, result = split
    gates = _floors(result, "citation_validity")
    assert not _not_passed(gates), _not_passed(gates)


def test_the_answer_cites_states_and_abstains(split: tuple[str, EvalResult]) -> None:
    """What the reader gets, against the floors (overall)."""
    _, result = split
    gates = _floors(result, "cites_expected", "first_cite_expected", "facts_stated", "decoys_abstained",
                    "answerable_abstained")
    assert not _not_passed(gates), _not_passed(gates)


def test_abstention_recall_and_injections(split: tuple[str, EvalResult]) -> None:
    _, result = split
    gates = _floors(result, "abstention_recall", "injection_canaries")
    assert not _not_passed(gates), _not_passed(gates)


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
