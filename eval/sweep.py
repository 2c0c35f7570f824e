"""The article sweep: every article of every treaty in the index, bare and as a follow-up, per language."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.text.languages import UI_LANGUAGES
from assistant.text.render import render
from assistant.types import Answer, Chunk, DocMeta, Turn
from eval import metrics as m

# How a reader asks for an article, bare and as a follow-up, in each UI language.
QUESTIONS: dict[str, tuple[str, str]] = {
    "en": ("What does Article {n} of {treaty} say?", "And Article {n}?"),
    "fr": ("Que dit l'article {n} de {treaty} ?", "Et l'article {n} ?"),
    "vi": ("Điều {n} của {treaty} quy định gì?", "Còn Điều {n} thì sao?"),
}
# How a reader names each treaty (references.py's keys).
TREATIES: dict[str, dict[str, str]] = {
    "en": {"budapest": "the Budapest Convention", "uncc": "the UN Convention against Cybercrime",
           "protocol": "the Additional Protocol to the Convention on Cybercrime"},
    "fr": {"budapest": "la Convention de Budapest",
           "uncc": "la Convention des Nations unies contre la cybercriminalité",
           "protocol": "le Protocole additionnel à la Convention sur la cybercriminalité"},
    "vi": {"budapest": "Công ước Budapest", "uncc": "Công ước Liên Hợp Quốc về chống tội phạm mạng",
           "protocol": "Nghị định thư bổ sung của Công ước về tội phạm mạng"},
}
MISSING_PROBES = 2  # articles past the last one held, per treaty and language: must be said missing


@dataclass(frozen=True)
class SweepRow:
    """One article question: bare, as a follow-up, or about an article the materials lack."""

    id: str
    language: str
    form: str  # "bare", "followup" or "missing"
    treaty: str
    article: str
    source: str  # the treaty document's source
    question: str
    history: tuple[Turn, ...] = ()


@dataclass
class SweepResult:
    """Per-row outcomes and their summary by language and form."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def treaty_articles(chunks: Iterable[tuple[Chunk, DocMeta]], treaty_of: Callable[[DocMeta], str],
                    ) -> dict[tuple[str, str], set[str]]:
    """(treaty, source) -> article numbers, read from the index."""
    found: dict[tuple[str, str], set[str]] = {}
    for chunk, doc in chunks:
        treaty = treaty_of(doc)
        if treaty and doc.kind == "treaty" and chunk.article.isdigit():
            found.setdefault((treaty, doc.source), set()).add(chunk.article)
    return found


def sweep_rows(articles: dict[tuple[str, str], set[str]],
               languages: Sequence[str] = UI_LANGUAGES) -> list[SweepRow]:
    """Every article bare and as a follow-up (after a question on a neighbouring article), per language."""
    rows: list[SweepRow] = []
    for (treaty, source), held in sorted(articles.items()):
        numbers = sorted(held, key=int)
        for language in languages:
            bare, follow = QUESTIONS[language]
            name = TREATIES[language][treaty]
            for i, n in enumerate(numbers):
                rows.append(SweepRow(f"{treaty}-{n}-{language}-bare", language, "bare", treaty, n, source,
                                     render(bare, {"n": n, "treaty": name})))
                before = numbers[i - 1] if i else numbers[min(1, len(numbers) - 1)]
                asked_before = render(bare, {"n": before, "treaty": name})
                history = (Turn("user", asked_before), Turn("assistant", "..."))
                rows.append(SweepRow(f"{treaty}-{n}-{language}-followup", language, "followup", treaty, n,
                                     source, render(follow, {"n": n}), history))
            last = int(numbers[-1])
            for extra in range(1, MISSING_PROBES + 1):
                n = str(last + extra * 7)
                rows.append(SweepRow(f"{treaty}-{n}-{language}-missing", language, "missing", treaty, n,
                                     source, render(bare, {"n": n, "treaty": name})))
    return rows


def leads_with_article(row: SweepRow, answer: Answer) -> bool:
    """The answer's first citation is the treaty's own text of that article (not a press line about it)."""
    if answer.abstained:
        return False
    cited = {c.n: c for c in answer.citations}
    first = next((cited[n] for n in m.markers(answer.answer) if n in cited), None)
    return first is not None and first.source == row.source and m.article_number(first.locator) == row.article


def said_missing(row: SweepRow, answer: Answer) -> bool:
    """An article the materials lack: the answer abstains and names the article it cannot quote."""
    return answer.abstained and row.article in answer.answer


def score(rows: Sequence[SweepRow], answers: Sequence[Answer]) -> SweepResult:
    """Per row ok/not ok; the summary gives the share of ok rows per language and form."""
    result = SweepResult()
    groups: dict[str, list[bool]] = {}
    for row, answer in zip(rows, answers, strict=True):
        ok = said_missing(row, answer) if row.form == "missing" else leads_with_article(row, answer)
        first_line = answer.answer.splitlines()[0] if answer.answer else ""
        result.rows.append({"id": row.id, "ok": ok, "question": row.question, "answer_start": first_line,
                            "ms": answer.timings_ms.get("total"), "language": row.language,
                            "form": row.form, "treaty": row.treaty, "article": row.article})
        for key in (f"{row.form}", f"{row.form}/{row.language}"):
            groups.setdefault(key, []).append(ok)
    result.summary = {key: {"n": len(v), "ok": sum(v) / len(v)} for key, v in sorted(groups.items())}
    return result
