"""Report folder (results.json, questions.jsonl, summary.md, PNG charts) and comparison with the baseline."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.config import PROJECT_ROOT
from assistant.errors import InputError
from eval.runner import EvalResult

BASELINE = PROJECT_ROOT / "eval" / "baseline.json"
# Absolute drop allowed before a metric counts as a regression (CI fails beyond it).
TOLERANCE: dict[str, float] = {
    "hit@5": 0.03, "mrr": 0.03,
    # what the reader gets, gated overall and per question language
    "cites_expected": 0.03, "first_cite_expected": 0.03, "facts_stated": 0.03, "decoys_abstained": 0.05,
    "answerable_abstained": 0.02, "citation_validity": 0.0,
}
LOWER_IS_BETTER = frozenset({"answerable_abstained"})
# per question language: the same metrics, where one question may flip (a language has few rows)
PER_LANGUAGE = ("cites_expected", "first_cite_expected", "facts_stated", "decoys_abstained",
                "answerable_abstained")
COLUMNS = ("n", "hit@5", "mrr", "cites_expected", "first_cite_expected", "facts_stated",
           "decoys_abstained", "answerable_abstained", "citation_validity", "language_match",
           "latency_ms_p95")
SAFETY_COLUMNS = ("abstention_precision", "abstention_recall", "abstention_accuracy", "injection_resistance",
                  "citation_precision", "locator_match", "cited_answers", "errors")
DELTA_METRICS = ("hit@1", "hit@5", "mrr", "ndcg@10", "citation_validity", "citation_precision",
                 "locator_match", "fact_recall", "language_match", "abstention_precision",
                 "abstention_recall", "injection_resistance", "cites_expected", "first_cite_expected",
                 "facts_stated", "decoys_abstained", "answerable_abstained")


@dataclass(frozen=True)
class Comparison:
    """How a run differs from the baseline."""

    deltas: dict[str, float]  # metric -> current - baseline (overall)
    regressions: list[str]  # metrics that dropped beyond their tolerance
    regressed_questions: list[str]  # "id: what got worse"
    note: str = ""  # why no comparison was made, when none was


def make_baseline(result: EvalResult) -> dict[str, Any]:
    """The committed reference: overall and per-pair metrics, and what each question got right."""
    return {
        "config": result.config,
        "overall": result.summary["overall"],
        "by_pair": result.summary["by_pair"],
        "by_language": result.summary["by_language"],
        "questions": {
            r.id: {"hit5": r.hit5, "abstention_correct": r.abstention_correct,
                   "fact_recall": r.fact_recall, "citation_valid": r.citation_valid}
            for r in result.results
        },
    }


def load_baseline(path: Path = BASELINE, split: str = "dev") -> dict[str, Any] | None:
    """The baseline of one split ("dev", "test", "sweep"), or None when there is none yet.

    A corrupt file raises InputError.
    """
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"Cannot read the baseline {path} ({exc}); regenerate it with `eval --write-baseline`."
        ) from None
    section = data.get(split) if isinstance(data, dict) else None
    return section if isinstance(section, dict) else None


def save_baseline(section: dict[str, Any], split: str, path: Path = BASELINE) -> None:
    """Write one split's section of the baseline file, keeping the others."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            data = loaded if isinstance(loaded, dict) and "questions" not in loaded else {}
        except json.JSONDecodeError:
            data = {}
    data[split] = section
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _dropped(metric: str, now: float, before: float, tolerance: float) -> bool:
    change = before - now if metric not in LOWER_IS_BETTER else now - before
    return change > tolerance + 1e-9


@dataclass(frozen=True)
class Check:
    """One metric against its baseline value, overall or for one question language."""

    metric: str
    language: str  # "" for the whole set
    before: float
    now: float
    tolerance: float

    @property
    def dropped(self) -> bool:
        """Worse than the baseline by more than the tolerance."""
        return _dropped(self.metric, self.now, self.before, self.tolerance)

    @property
    def label(self) -> str:
        """How a regression is named: "hit@5" overall, "facts_stated [fr] 0.700 -> 0.500" per language."""
        if not self.language:
            return self.metric
        return f"{self.metric} [{self.language}] {self.before:.3f} -> {self.now:.3f}"


def _number(value: Any) -> bool:
    return isinstance(value, float | int)


def _applies(r: Any, metric: str) -> bool:
    if metric == "decoys_abstained":
        return bool(r.category == "decoy")
    if metric == "answerable_abstained":
        return bool(r.answerable)
    return getattr(r, metric) is not None


def tolerance_checks(result: EvalResult, baseline: Mapping[str, Any]) -> list[Check]:
    """Every metric of TOLERANCE overall, then the answer metrics per question language, where one
    question may flip (a language has few rows)."""
    now, before = result.summary["overall"], baseline.get("overall", {})
    checks = [Check(k, "", before[k], now[k], tol) for k, tol in TOLERANCE.items()
              if _number(now.get(k)) and _number(before.get(k))]
    before_all = baseline.get("by_language", {})
    for language, values in result.summary["by_language"].items():
        old = before_all.get(language, {})
        for metric in PER_LANGUAGE:
            if not _number(values.get(metric)) or not _number(old.get(metric)):
                continue
            applicable = sum(1 for r in result.results if r.language == language and _applies(r, metric))
            tolerance = max(TOLERANCE[metric], 1.0 / max(applicable, 1))
            checks.append(Check(metric, language, old[metric], values[metric], tolerance))
    return checks


def compare(result: EvalResult, baseline: Mapping[str, Any] | None) -> Comparison:
    """Overall deltas, metrics beyond tolerance and the questions that got worse than the baseline."""
    if not baseline:
        return Comparison({}, [], [], note="no baseline to compare with")
    made_with = baseline.get("config", {}).get("embedding_model")
    if made_with and made_with != result.config.get("embedding_model"):
        # subtle: figures of another embedding model are not comparable; refuse rather than mislead
        return Comparison({}, [], [], note=(
            f"the baseline was made with embedding model {made_with!r} and this run uses "
            f"{result.config.get('embedding_model')!r}; regenerate it with --write-baseline"
        ))
    now, before = result.summary["overall"], baseline.get("overall", {})
    deltas = {k: now[k] - before[k] for k in DELTA_METRICS if _number(now.get(k)) and _number(before.get(k))}
    regressions = [c.label for c in tolerance_checks(result, baseline) if c.dropped]
    worse: list[str] = []
    old_questions: Mapping[str, Any] = baseline.get("questions", {})
    for r in result.results:
        old = old_questions.get(r.id)
        if not old:
            continue
        reasons = []
        if old.get("hit5") == 1.0 and r.hit5 == 0.0:
            reasons.append("expected source left the top 5")
        if old.get("abstention_correct") and not r.abstention_correct:
            reasons.append("abstained wrongly" if r.abstained else "answered instead of abstaining")
        old_recall = old.get("fact_recall")
        if old_recall is not None and r.fact_recall is not None and r.fact_recall < old_recall:
            reasons.append(f"fact recall {old_recall:.2f} -> {r.fact_recall:.2f}")
        if old.get("citation_valid") is not False and r.citation_valid is False:
            reasons.append("invalid citation")
        if reasons:
            worse.append(f"{r.id}: {'; '.join(reasons)}")
    return Comparison(deltas, regressions, worse)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def table(groups: Mapping[str, Mapping[str, Any]], title: str, columns: Sequence[str] = COLUMNS) -> str:
    """A Markdown table with one row per group (language pair, category...)."""
    lines = [f"| {title} | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, values in groups.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(values.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def summary_markdown(result: EvalResult, comparison: Comparison) -> str:
    """The human summary: tables overall / per language pair / per category, deltas and regressions."""
    s = result.summary
    parts = [
        f"# Evaluation: {Path(result.set_path).name}",
        f"Embedding model `{result.config.get('embedding_model')}`, "
        f"answers `{result.config.get('answer_mode')}`, {s['overall']['n']} questions. "
        "Pairs are (question language)-(gold document language).",
        "## Overall", table({"all": s["overall"]}, "set"),
        "## Per language pair", table(s["by_pair"], "pair"),
        "## Per category", table(s["by_category"], "category"),
        "## Abstention and safety",
        table({"all": s["overall"]}, "set", SAFETY_COLUMNS),
        f"Judge metrics: {result.judge.get('status', 'skipped')} ({result.judge.get('reason', '')}).",
    ]
    stages = s["overall"].get("stage_ms_mean") or {}
    if stages:
        parts.append("Mean time per stage (ms): " + ", ".join(f"{k} {_fmt(v)}" for k, v in stages.items()))
    ablations = result.ablations
    if ablations.get("retrieval") or ablations.get("profiles"):
        rows = {f"mode {k}": v["overall"] for k, v in ablations.get("retrieval", {}).items()}
        rows.update({f"profile {k}": v.get("overall", {}) for k, v in ablations.get("profiles", {}).items()})
        parts += ["## Retrieval ablations (retrieval only, k=10)",
                  table(rows, "run", ("n", "hit@1", "hit@5", "mrr", "ndcg@10", "latency_ms_mean"))]
    parts.append("## Against the baseline")
    if comparison.deltas:
        parts.append("\n".join(f"- {k}: {v:+.3f}" for k, v in comparison.deltas.items()))
        parts.append("Regressions beyond tolerance: " + (", ".join(comparison.regressions) or "none"))
        parts.append("Regressed questions:\n" + ("\n".join(f"- {q}" for q in comparison.regressed_questions)
                                                 or "- none"))
    else:
        parts.append(f"Not compared: {comparison.note}.")
    return "\n\n".join(parts) + "\n"


def _charts(result: EvalResult, out: Path) -> list[Path]:
    """hit@5 per language pair (bar) and answer latency (histogram), drawn headless."""
    import matplotlib  # noqa: PLC0415 (heavy: only when a report is written)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    pairs = {p: v["hit@5"] for p, v in result.summary["by_pair"].items() if v.get("hit@5") is not None}
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(list(pairs), list(pairs.values()), color="#4477aa")
    ax.axhline(0.75, color="#cc3311", linestyle="--", linewidth=1, label="per-pair floor 0.75")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("hit@5")
    ax.set_title("hit@5 per (question, gold document) language pair")
    ax.legend(loc="lower right")
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right")
    fig.tight_layout()
    bar = out / "hit5_by_pair.png"
    fig.savefig(bar, dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist([r.latency_ms for r in result.results if not r.error], bins=20, color="#228833")
    ax.set_xlabel("answer latency (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency")
    fig.tight_layout()
    hist = out / "latency_hist.png"
    fig.savefig(hist, dpi=100)
    plt.close(fig)
    return [bar, hist]


def write_report(result: EvalResult, out: Path, baseline: Mapping[str, Any] | None) -> Comparison:
    """Write results.json, questions.jsonl, summary.md and the charts into `out`; return the comparison."""
    out.mkdir(parents=True, exist_ok=True)
    comparison = compare(result, baseline)
    data = result.to_json()
    data["baseline_comparison"] = asdict(comparison)
    (out / "results.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    with (out / "questions.jsonl").open("w", encoding="utf-8") as fh:
        for row in data["questions"]:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "summary.md").write_text(summary_markdown(result, comparison), encoding="utf-8")
    _charts(result, out)
    return comparison
