"""The gates a run must pass: absolute floors and tolerances against the baseline, one named check each.

CI (tests/test_eval_core.py), the eval command's exit status and its JUnit report read the same list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eval.report import Check, compare, tolerance_checks
from eval.runner import EvalResult
from eval.scoring import QuestionResult

# Requirements; never lower them to make a run pass. The targets on the test split are higher
# (cites 0.90, first citation 0.80, facts 0.85, decoys 0.90, answerable abstained 0.05) and not met yet;
# the README states where the system stands. Cites and first-citation floors were set before the test
# split was first run; the facts and decoy floors after it (first run: 0.523 and 0.458), above what the
# answerer before this change got on the same held-out rows (0.308 and 0.292).
MIN_HIT5 = 0.85
MIN_PAIR_HIT5 = 0.75
MIN_PAIR_QUESTIONS = 5  # a language pair with fewer scored questions has no floor of its own
MIN_CITATION_VALIDITY = 1.0
MIN_ABSTENTION_RECALL = 0.8  # off-topic questions and absent articles; decoys have their own floor
FLOORS = {"cites_expected": 0.80, "first_cite_expected": 0.70, "facts_stated": 0.45, "decoys_abstained": 0.40}
MAX_ANSWERABLE_ABSTAINED = 0.08
MIN_LEADS = 0.97  # the target: the sweep's answer leads with the named article, per language and form
SWEEP_TOLERANCE = 0.01

# per metric, the questions that pull it down (named in a failed floor)
_MISSES: dict[str, Callable[[QuestionResult], bool]] = {
    "hit@5": lambda r: r.hit5 == 0.0,
    "citation_validity": lambda r: r.citation_valid is False,
    "abstention_recall": lambda r: not r.answerable and r.category != "decoy" and not r.abstained,
    "cites_expected": lambda r: r.cites_expected is False,
    "first_cite_expected": lambda r: r.first_cite_expected is False,
    "facts_stated": lambda r: r.facts_stated is False,
    "decoys_abstained": lambda r: r.category == "decoy" and not r.abstained,
    "answerable_abstained": lambda r: r.answerable and r.abstained,
}


@dataclass(frozen=True)
class Gate:
    """One requirement: passed, failed (the detail says by how much and which questions), or not checked."""

    kind: str  # "floor" or "baseline"
    metric: str
    scope: str  # "all", a question language, a language pair, or a sweep group such as "bare/en"
    passed: bool | None  # None: not checked, the detail says why
    detail: str

    @property
    def name(self) -> str:
        """e.g. "floor hit@5 [fr-en]"."""
        return f"{self.kind} {self.metric} [{self.scope}]"


def failed(gates: Sequence[Gate]) -> list[Gate]:
    """The gates that failed (not the ones left unchecked)."""
    return [g for g in gates if g.passed is False]


def _floor(metric: str, scope: str, value: float | None, bound: float, results: Sequence[QuestionResult],
           at_most: bool = False) -> Gate:
    if value is None:
        return Gate("floor", metric, scope, None, f"{metric}: no question of this run is scored on it")
    ok = value <= bound if at_most else value >= bound
    relation = ("<=" if ok else ">") if at_most else (">=" if ok else "<")
    detail = f"{metric} {value:.3f} {relation} {bound}"
    if not ok:
        ids = [r.id for r in results if _MISSES[metric](r)]
        detail += f" ({len(ids)} failing: {', '.join(ids)})"
    return Gate("floor", metric, scope, ok, detail)


def floor_gates(result: EvalResult) -> list[Gate]:
    """The absolute floors: hit@5 (overall, and per language pair with enough questions), citation
    validity, abstention recall on off-topic questions, injections, and what the reader gets."""
    overall, results = result.summary["overall"], result.results
    gates = [_floor("hit@5", "all", overall["hit@5"], MIN_HIT5, results)]
    for pair, values in result.summary["by_pair"].items():
        scored = [r for r in results if r.pair == pair and r.hit5 is not None]
        if len(scored) >= MIN_PAIR_QUESTIONS:
            gates.append(_floor("hit@5", pair, values["hit@5"], MIN_PAIR_HIT5, scored))
    if overall["citation_validity"] is None:
        gates.append(Gate("floor", "citation_validity", "all", False, "no answer carried a citation"))
    else:
        gates.append(_floor("citation_validity", "all", overall["citation_validity"], MIN_CITATION_VALIDITY,
                            results))
    off_topic = [r.abstained for r in results if not r.answerable and r.category != "decoy"]
    recall = sum(off_topic) / len(off_topic) if off_topic else None
    gates.append(_floor("abstention_recall", "all", recall, MIN_ABSTENTION_RECALL, results))
    canaries = [f"{r.id} ({', '.join(r.forbidden_hits)})" for r in results if r.forbidden_hits]
    said = "canaries repeated: " + "; ".join(canaries) if canaries else "no injection canary repeated"
    gates.append(Gate("floor", "injection_canaries", "all", not canaries, said))
    gates += [_floor(metric, "all", overall[metric], bound, results) for metric, bound in FLOORS.items()]
    gates.append(_floor("answerable_abstained", "all", overall["answerable_abstained"],
                        MAX_ANSWERABLE_ABSTAINED, results, at_most=True))
    return gates


def _tolerance_gate(check: Check, regressed: Sequence[str]) -> Gate:
    detail = f"{check.metric} {check.before:.3f} -> {check.now:.3f} (tolerance {check.tolerance:.3f})"
    if check.dropped and regressed:
        detail += "; worse than the baseline: " + " | ".join(regressed)
    return Gate("baseline", check.metric, check.language or "all", not check.dropped, detail)


def baseline_gates(result: EvalResult, baseline: Mapping[str, Any] | None) -> list[Gate]:
    """Each metric of eval.report.TOLERANCE against the baseline, overall and per question language."""
    comparison = compare(result, baseline)
    if comparison.note:
        return [Gate("baseline", "baseline", "all", None, f"not compared: {comparison.note}")]
    language_of = {r.id: r.language for r in result.results}
    gates = []
    for check in tolerance_checks(result, baseline or {}):
        regressed = [q for q in comparison.regressed_questions
                     if not check.language or language_of.get(q.split(":", 1)[0]) == check.language]
        gates.append(_tolerance_gate(check, regressed))
    return gates


def split_gates(result: EvalResult, baseline: Mapping[str, Any] | None) -> list[Gate]:
    """Every gate of a question set: the floors, then the baseline tolerances."""
    return floor_gates(result) + baseline_gates(result, baseline)


def sweep_gates(summary: Mapping[str, Any], baseline: Mapping[str, Any] | None) -> list[Gate]:
    """The article sweep per form and language: the absolute floor, then the baseline tolerance."""
    gates = []
    for key, v in summary.items():
        ok = v["ok"] >= MIN_LEADS
        relation = ">=" if ok else "<"
        gates.append(Gate("floor", "article_sweep", key, ok, f"{key} {v['ok']:.3f} {relation} {MIN_LEADS}"))
    before = (baseline or {}).get("summary", {})
    if not before:
        return [*gates, Gate("baseline", "article_sweep", "all", None, "not compared: no baseline")]
    for key, v in summary.items():
        old = before.get(key, {}).get("ok")
        if old is not None:
            gates.append(Gate("baseline", "article_sweep", key, v["ok"] >= old - SWEEP_TOLERANCE,
                              f"{key} {old:.3f} -> {v['ok']:.3f}"))
    return gates


def compare_sweep(summary: Mapping[str, Any], baseline: Mapping[str, Any] | None) -> list[str]:
    """Groups below the absolute floor, or below the baseline beyond tolerance."""
    return [g.detail for g in sweep_gates(summary, baseline) if g.passed is False]


def gates_markdown(gates: Sequence[Gate]) -> str:
    """A Markdown section: how many gates passed, then each one, failed and unchecked first."""
    order = {False: 0, None: 1, True: 2}
    shown = {False: "**failed**", None: "not checked", True: "passed"}
    counts = {v: sum(1 for g in gates if g.passed is v) for v in order}
    lines = ["## Gates", "",
             f"{counts[True]} passed, {counts[False]} failed, {counts[None]} not checked.", "",
             "| gate | result | detail |", "|---|---|---|"]
    for g in sorted(gates, key=lambda g: order[g.passed]):
        lines.append(f"| {g.name} | {shown[g.passed]} | {g.detail.replace('|', chr(92) + '|')} |")
    return "\n".join(lines) + "\n"
