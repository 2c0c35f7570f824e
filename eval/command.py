"""`convention-assistant eval`: run a split (or the article sweep), print it, compare with the baseline."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.config import Settings
from assistant.errors import InputError
from eval.gates import Gate, failed, gates_markdown, split_gates, sweep_gates
from eval.junit import Case, junit_xml, split_suites, sweep_suites
from eval.report import (
    BASELINE,
    compare,
    load_baseline,
    make_baseline,
    save_baseline,
    summary_markdown,
    table,
    write_report,
)
from eval.runner import SPLITS, run_eval, run_sweep


def _progress_bars() -> tuple[Any, dict[str, Any]]:
    from tqdm import tqdm  # noqa: PLC0415

    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=f"{stage:<16}", file=sys.stderr, leave=False)
        bars[stage].total = total
        bars[stage].update(done - bars[stage].n)

    return progress, bars


def _write(path: str, text: str | None, what: str) -> None:
    """Write a CI file, creating its folder (text None: only make sure it can be written), or raise
    InputError naming the path."""
    target = Path(path)
    try:
        if target.is_dir():
            raise IsADirectoryError(21, "it is a folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        if text is not None:
            target.write_text(text, encoding="utf-8")
    except OSError as exc:
        blocked = isinstance(exc, FileExistsError | NotADirectoryError)
        reason = "a file stands where its folder should be" if blocked else exc.strerror or str(exc)
        raise InputError(f"Cannot write the {what} to {path} ({reason}); "
                         "give a path in a folder you can write to.") from None


_WHAT = {"junit": "JUnit report", "markdown": "Markdown summary"}


def _ci_files(args: argparse.Namespace, suites: dict[str, list[Case]], markdown: str) -> None:
    """--junit and --markdown: the JUnit XML and the job-summary Markdown of this run."""
    if args.junit:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        _write(args.junit, junit_xml(suites, timestamp=stamp), _WHAT["junit"])
    if args.markdown:
        _write(args.markdown, markdown, _WHAT["markdown"])


def _status(gates: list[Gate]) -> int:
    """1 when a gate failed, each failed gate said on one stderr line; else 0."""
    for gate in failed(gates):
        print(f"error: gate {gate.name} failed: {gate.detail}", file=sys.stderr)
    return 1 if failed(gates) else 0


def _sweep(args: argparse.Namespace, settings: Settings, baseline_path: Path) -> int:
    progress, bars = _progress_bars()
    try:
        result = run_sweep(settings, inputs=args.input, progress=None if args.json else progress)
    finally:
        for bar in bars.values():
            bar.close()
    gates = sweep_gates(result.summary, load_baseline(baseline_path, "sweep"))
    failures = [g.detail for g in failed(gates)]
    if args.write_baseline:
        save_baseline({"summary": result.summary}, "sweep", baseline_path)
    if args.json:
        print(json.dumps({"summary": result.summary, "failures": failures}, ensure_ascii=False, indent=2))
    else:
        print(table(result.summary, "form/language", ("n", "ok")))
        for row in result.rows:
            if not row["ok"]:
                print(f"- {row['id']}: {row['question']} -> {row['answer_start'][:100]}")
    wrong = "\n".join(f"- {r['id']}: {r['question']} -> {r['answer_start'][:100]}"
                      for r in result.rows if not r["ok"])
    markdown = "\n\n".join(["# Article sweep", table(result.summary, "form/language", ("n", "ok")),
                            gates_markdown(gates), "## Not led with the article\n\n" + (wrong or "none")])
    _ci_files(args, sweep_suites(result.rows, gates), markdown + "\n")
    return _status(gates)


def _print_run(args: argparse.Namespace, result: Any, comparison: Any, split: str,
               baseline_path: Path) -> None:
    if args.json:
        out = {"summary": result.summary, "ablations": result.ablations, "judge": result.judge,
               "deltas": comparison.deltas, "regressions": comparison.regressions,
               "regressed_questions": comparison.regressed_questions}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
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


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """The eval subcommand; exit status 1 when a gate failed."""
    baseline_path = Path(args.baseline) if args.baseline else BASELINE
    for option, what in _WHAT.items():
        if getattr(args, option):
            _write(getattr(args, option), None, what)  # before minutes of answering, not after
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
    gates = split_gates(result, baseline)
    if args.write_baseline:
        save_baseline(make_baseline(result), split, baseline_path)
    _print_run(args, result, comparison, split, baseline_path)
    suite = Path(args.set).stem if args.set else split
    _ci_files(args, split_suites(suite, result.results, gates),
              summary_markdown(result, comparison) + "\n" + gates_markdown(gates))
    return _status(gates)
