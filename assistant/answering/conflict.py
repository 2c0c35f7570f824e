"""Disagreements between sources on a figure the question asks for (68 vs 71 articles; 65 vs 72 signed)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.citations import ContextItem
from assistant.answering.cues import HOW_MANY
from assistant.text.segmenter import split_sentences

# A sentence that forecasts a figure ("sources expected about 30-36 countries to sign") reports no count.
FORECAST = re.compile(r"\b(?:expect\w*|forecast\w*|predict\w*|anticipat\w*|projected|likely to|attendu\w*"
                      r"|prévu\w*|devrai\w*|dự kiến|dự báo|se espera\w*|previst\w*|ожида\w*"
                      r"|прогноз\w*|متوقع|预计)", re.I)


@dataclass(frozen=True)
class Quantity:
    """A count the sources may disagree on: how a question names it, how a sentence states it."""

    name: str
    asked: re.Pattern[str]  # the counted thing or act, in a question or a sentence
    stated: re.Pattern[str]  # a number then the noun; the number is the first all-digit group
    counted: re.Pattern[str]  # the noun alone ("countries", "điều")
    reported: re.Pattern[str]  # a sentence that states the count and forecasts nothing

    def counts(self, question: str) -> bool:
        """Whether `question` asks for this count: it names the act or thing and the counted noun."""
        return bool(HOW_MANY.search(question) and self.asked.search(question)
                    and self.counted.search(question))


def quantity(name: str, asked: Sequence[str], counted: Sequence[str], approximately: Sequence[str] = (),
             between_except: Sequence[str] | None = None) -> Quantity:
    """A Quantity from word lists (regular-expression fragments, matched ignoring case).

    `approximately`: words that may come before the number and belong to the side ("more than 60
    countries"); `between_except`: when given, one other word may stand between the number and the noun
    ("65 Asian countries"), unless it is one of these ("193 member States" counts no signatories).
    """
    before = rf"((?:{'|'.join(approximately)})\s+)?" if approximately else ""
    between = ""
    if between_except is not None:
        unless = f"(?!{'|'.join(between_except)})" if between_except else ""
        between = rf"(?:{unless}\w+\s+)?"
    stated = before + r"(\d+)\s+" + between + f"(?:{'|'.join(counted)})"
    reported = rf"^(?![\s\S]*(?:{FORECAST.pattern}))[\s\S]*?(?:{stated})"
    return Quantity(name, re.compile("|".join(asked), re.I), re.compile(stated, re.I),
                    re.compile("|".join(counted), re.I), re.compile(reported, re.I))


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved passage, by its offsets in the chunk (so a quote stays verbatim)."""

    item: ContextItem
    start: int
    end: int

    @property
    def text(self) -> str:
        """The sentence as it stands in the chunk."""
        return self.item.hit.chunk.text[self.start : self.end]


def all_sentences(items: Sequence[ContextItem]) -> list[Sentence]:
    """Every sentence of every retrieved chunk, in rank order (a regex scan: no embedding needed)."""
    out: list[Sentence] = []
    for item in items:
        out.extend(Sentence(item, s, e) for s, e in split_sentences(item.hit.chunk.text))
    return out


def conflict_sides(question: str, first: Sequence[Sentence], sentences: Sequence[Sentence],
                   quantities: Sequence[Quantity]) -> list[tuple[str, Sentence]]:
    """Sides of a disagreement on a quantity the question asks about, one sentence per distinct value.

    `first` (the answer's own sentences) are looked at before the rest; one figure per document.
    """
    if not HOW_MANY.search(question):
        return []
    # every retrieved sentence may hold a side: the question already names the quantity
    relevant: list[Sentence] = list(first) + [c for c in sentences if c not in first]
    for counted in quantities:
        asked, stated = counted.asked, counted.stated
        if not asked.search(question):
            continue
        sides: dict[str, tuple[str, Sentence]] = {}
        docs: set[str] = set()
        for cand in relevant:
            if cand.item.hit.doc.doc_id in docs:
                continue  # one figure per document: a source may give a day-1 and a final count
            if not asked.search(cand.text) or FORECAST.search(cand.text):
                continue  # "more than 100 countries attended" is no count of signatories, nor a forecast
            # subtle: "representatives of more than 100 countries attended and 65 countries signed": the
            # figure nearest to the counted act is the side, not the first one in the sentence
            verbs = [v.start() for v in asked.finditer(cand.text)]
            found = sorted(stated.finditer(cand.text), key=lambda m: min(abs(m.start() - v) for v in verbs))
            for m in found[:1]:
                number = next(g for g in m.groups() if g and g.strip().isdigit())
                if number not in sides:
                    sides[number] = (m.group(0), cand)
                    docs.add(cand.item.hit.doc.doc_id)
        if len(sides) >= 2:
            return list(sides.values())[:4]
    return []
