"""`convention-assistant eval`: run a split (or the article sweep), print it, compare with the baseline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal

from assistant.config import Settings
from eval.report import BASELINE, compare, load_baseline, make_baseline, save_baseline, table, write_report
from eval.runner import SPLITS, run_eval, run_sweep
from eval.sweep import MIN_LEADS, compare_sweep


def _progress_bars() -> tuple[Any, dict[str, Any]]:
    from tqdm import tqdm  # noqa: PLC0415

    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=f"{stage:<16}", file=sys.stderr, leave=False)
        bars[stage].total = total
        bars[stage].update(done - bars[stage].n)

    return progress, bars


def _sweep(args: argparse.Namespace, settings: Settings, baseline_path: Path) -> int:
    progress, bars = _progress_bars()
    try:
        result = run_sweep(settings, inputs=args.input, progress=None if args.json else progress)
    finally:
        for bar in bars.values():
            bar.close()
    failures = compare_sweep(result.summary, load_baseline(baseline_path, "sweep"))
    if args.write_baseline:
        save_baseline({"summary": result.summary}, "sweep", baseline_path)
    if args.json:
        print(json.dumps({"summary": result.summary, "failures": failures}, ensure_ascii=False, indent=2))
    else:
        print(table(result.summary, "form/language", ("n", "ok")))
        for row in result.rows:
            if not row["ok"]:
                print(f"- {row['id']}: {row['question']} -> {row['answer_start'][:100]}")
    if failures:
        print(f"error: article sweep below {MIN_LEADS} or the baseline: {'; '.join(failures)}",
              file=sys.stderr)
        return 1
    return 0


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """The eval subcommand; exit status 1 when a gate failed."""
    baseline_path = Path(args.baseline) if args.baseline else BASELINE
    if args.sweep:
        return _sweep(args, settings, baseline_path)
    split = "custom" if args.set else args.split
    modes: tuple[Literal["hybrid", "dense", "lexical"], ...] = (
        ("hybrid", "dense", "lexical") if args.ablations else ("hybrid",)
    )
    progress, bars = _progress_bars()
    try:
        result = run_eval(
            Path(args.set or SPLITS[args.split]), settings, retrieval_modes=modes,
            profiles=("small", "quality") if args.ablations else None,
            progress=None if args.json else progress, inputs=args.input,
        )
    finally:
        for bar in bars.values():
            bar.close()
    baseline = load_baseline(baseline_path, split)
    if args.report:
        comparison = write_report(result, Path(args.report), baseline)
    else:
        comparison = compare(result, baseline)
    if args.write_baseline:
        save_baseline(make_baseline(result), split, baseline_path)
    if args.json:
        out = {"summary": result.summary, "ablations": result.ablations, "judge": result.judge,
               "deltas": comparison.deltas, "regressions": comparison.regressions,
               "regressed_questions": comparison.regressed_questions}
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(table({"all": result.summary["overall"]}, split))
        print()
        print(table(result.summary["by_language"], "question language"))
        print()
        print(table(result.summary["by_pair"], "pair"))
        print(f"\njudge metrics: {result.judge['status']} ({result.judge['reason']})")
        if comparison.deltas:
            print("vs baseline: " + ", ".join(f"{k} {v:+.3f}" for k, v in comparison.deltas.items()))
            print("regressed questions: " + (", ".join(comparison.regressed_questions) or "none"))
        else:
            print(f"not compared with {baseline_path}: {comparison.note}")
        if args.report:
            print(f"report: {args.report}/summary.md")
    if comparison.regressions:
        names = ", ".join(comparison.regressions)
        print(f"error: {names} dropped beyond tolerance against the baseline.", file=sys.stderr)
        return 1
    return 0
