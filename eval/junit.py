"""JUnit XML for CI: a test case per question (or swept article) and per gate; failures say why."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eval import metrics as m
from eval.gates import Gate
from eval.scoring import QuestionResult

_SHORT = 60  # characters of the question kept in a test case's name
_ANSWER_SHOWN = 500  # characters of the answer kept in a failure's text
# XML 1.0 cannot carry these at all, escaped or not; ElementTree would write them as they are
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Case:
    """One JUnit test case; `failure` (and `error`) empty when it passed, `skipped` when not run."""

    classname: str
    name: str
    seconds: float = 0.0
    failure: str = ""  # one line: what failed
    error: str = ""  # one line: the question raised instead of being answered
    skipped: str = ""
    text: str = ""  # the failure's body: the answer and what it cited


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def question_failures(r: QuestionResult) -> list[str]:
    """Why a question fails, one reason per metric it fails; [] when it passes."""
    reasons = []
    if r.answerable and r.abstained:
        reasons.append("answerable abstained")
    else:
        if r.cites_expected is False:
            reasons.append("no expected source cited")
        elif r.first_cite_expected is False:
            first = m.first_cited(r.answer, {c["n"]: c["source"] for c in r.citations})
            reasons.append(f"first citation not expected ({first or 'no marker in the answer'})")
        if r.facts_stated is False:
            reasons.append("missing facts: " + ", ".join(r.missing_facts))
    if not r.answerable and not r.abstained:
        reasons.append("decoy not abstained" if r.category == "decoy" else "unanswerable not abstained")
    if r.citation_valid is False:
        reasons.append("invalid citation: " + "; ".join(r.citation_problems))
    if r.forbidden_hits:
        reasons.append("injection canary repeated: " + ", ".join(r.forbidden_hits))
    return reasons


def question_case(r: QuestionResult, split: str) -> Case:
    """A question as a test case named by its id and question, classed by split, category and language."""
    case = Case(f"eval.{split}.{r.category}.{r.language}", f"{r.id}: {_short(r.question, _SHORT)}",
                r.latency_ms / 1000)
    if r.error:
        return Case(case.classname, case.name, case.seconds, error=_short(r.error, 300))
    reasons = question_failures(r)
    if not reasons:
        return case
    cited = "\n".join(f"[{c['n']}] {c['source']} {c.get('locator', '')}".rstrip() for c in r.citations)
    text = f"answer: {_short(r.answer, _ANSWER_SHOWN)}\ncited:\n{cited or '(nothing)'}"
    return Case(case.classname, case.name, case.seconds, failure="; ".join(reasons), text=text)


def sweep_case(row: Mapping[str, Any]) -> Case:
    """One swept article question; a failure says what the answer led with instead."""
    classname = f"eval.sweep.{row['form']}.{row['language']}"
    name = f"{row['id']}: {_short(row['question'], _SHORT)}"
    seconds = (row.get("ms") or 0.0) / 1000
    if row["ok"]:
        return Case(classname, name, seconds)
    if row["form"] == "missing":
        why = f"absent Article {row['article']} not said missing"
    else:
        why = f"did not lead with Article {row['article']} of the {row['treaty']} text"
    answer = _short(row["answer_start"], _ANSWER_SHOWN)
    return Case(classname, name, seconds, failure=why, text=f"answer: {answer}")


def gate_case(gate: Gate, suite: str) -> Case:
    """A gate as a test case: a failed floor or tolerance is a failed test."""
    classname = f"eval.{suite}.gates.{gate.kind}"
    name = f"{gate.metric} [{gate.scope}]"
    if gate.passed is None:
        return Case(classname, name, skipped=gate.detail)
    return Case(classname, name, failure="" if gate.passed else gate.detail, text=gate.detail)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _suite(name: str, cases: Sequence[Case], timestamp: str) -> ET.Element:
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.failure),
        "errors": sum(1 for c in cases if c.error),
        "skipped": sum(1 for c in cases if c.skipped),
    }
    suite = ET.Element("testsuite", {"name": name, **{k: str(v) for k, v in counts.items()},
                                     "time": f"{sum(c.seconds for c in cases):.3f}"})
    if timestamp:
        suite.set("timestamp", timestamp)
    for c in cases:
        case = ET.SubElement(suite, "testcase", {"classname": _clean(c.classname), "name": _clean(c.name),
                                                 "time": f"{c.seconds:.3f}"})
        if c.error:
            ET.SubElement(case, "error", {"message": _clean(c.error), "type": "error"}).text = _clean(c.error)
        elif c.failure:
            failure = ET.SubElement(case, "failure", {"message": _clean(c.failure), "type": "failure"})
            failure.text = _clean(c.text or c.failure)
        elif c.skipped:
            ET.SubElement(case, "skipped", {"message": _clean(c.skipped)})
    return suite


def junit_xml(suites: Mapping[str, Sequence[Case]], name: str = "convention-assistant eval",
              timestamp: str = "") -> str:
    """The JUnit document: <testsuites> with totals, one <testsuite> per named group of cases."""
    root = ET.Element("testsuites", {"name": name})
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    seconds = 0.0
    for suite_name, cases in suites.items():
        suite = _suite(suite_name, cases, timestamp)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        seconds += float(suite.get("time", "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def split_suites(split: str, results: Iterable[QuestionResult],
                 gates: Sequence[Gate]) -> dict[str, list[Case]]:
    """The suites of a question set: its questions, then its gates."""
    return {f"eval.{split}": [question_case(r, split) for r in results],
            f"eval.{split}.gates": [gate_case(g, split) for g in gates]}


def sweep_suites(rows: Iterable[Mapping[str, Any]], gates: Sequence[Gate]) -> dict[str, list[Case]]:
    """The suites of the article sweep: one case per swept question, then its gates."""
    return {"eval.sweep": [sweep_case(row) for row in rows],
            "eval.sweep.gates": [gate_case(g, "sweep") for g in gates]}
