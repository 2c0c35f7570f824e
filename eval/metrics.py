"""Deterministic evaluation metrics: pure functions over rankings, answers and citations."""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence

from assistant.text.references import parse_article_refs

# Straight and curly quotes, dashes and spaces that differ between a source and a model's copy of it.
_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2033": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u200b": "",
    }
)
_SPACES = re.compile(r"\s+")
# "2.000", "2,500", "2 500" -> "2000": thousands separators differ by language.
_THOUSANDS = re.compile(r"(?<=\d)[.,\s](?=\d{3}(?!\d))")
_MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|\u2026)\s*")


def normalize(text: str) -> str:
    """NFKC, folded quotes/dashes/spaces, thousands separators removed, casefolded, collapsed whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    text = _THOUSANDS.sub("", text)
    return _SPACES.sub(" ", text).strip().casefold()


def _contains(haystack_norm: str, needle: str) -> bool:
    """Whole-token containment for numbers ("40" must not match "400"), substring for words."""
    n = normalize(needle)
    if not n:
        return False
    pattern = re.escape(n)
    if n[0].isdigit():
        pattern = r"(?<!\d)" + pattern
    if n[-1].isdigit():
        pattern += r"(?!\d)"
    return re.search(pattern, haystack_norm) is not None


# --- retrieval ---------------------------------------------------------------------------------


def is_relevant(source: str, expected_sources: Sequence[str]) -> bool:
    """A document is relevant when its source contains any expected substring."""
    return any(s and s in source for s in expected_sources)


def dedupe(ranked_sources: Iterable[str]) -> list[str]:
    """Document sources in first-seen rank order (several chunks of one document count once)."""
    seen: dict[str, None] = {}
    for s in ranked_sources:
        seen.setdefault(s, None)
    return list(seen)


def hit_at(ranked_docs: Sequence[str], expected: Sequence[str], k: int) -> float:
    """1.0 when a relevant document is among the first k, else 0.0."""
    return 1.0 if any(is_relevant(d, expected) for d in ranked_docs[:k]) else 0.0


def reciprocal_rank(ranked_docs: Sequence[str], expected: Sequence[str]) -> float:
    """1/rank of the first relevant document, 0.0 when none is retrieved."""
    for i, d in enumerate(ranked_docs, start=1):
        if is_relevant(d, expected):
            return 1.0 / i
    return 0.0


def ndcg_at(ranked_docs: Sequence[str], expected: Sequence[str], k: int, n_relevant: int) -> float:
    """Binary-relevance nDCG@k; n_relevant is how many relevant documents exist in the index."""
    gains = [1.0 if is_relevant(d, expected) else 0.0 for d in ranked_docs[:k]]
    dcg = sum(g / math.log2(i + 1) for i, g in enumerate(gains, start=1))
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, n_relevant) + 1))
    return dcg / ideal if ideal else 0.0


# --- answers -----------------------------------------------------------------------------------


def facts_missing(answer: str, facts: Sequence[str]) -> list[str]:
    """The expected facts the answer does not state; "a|b" accepts either form."""
    text = normalize(answer)
    return [f for f in facts if not any(_contains(text, alt) for alt in f.split("|"))]


def fact_recall(answer: str, facts: Sequence[str]) -> float | None:
    """Share of expected facts found in the answer; "a|b" accepts either form; None when no facts."""
    if not facts:
        return None
    return (len(facts) - len(facts_missing(answer, facts))) / len(facts)


def facts_stated(answer: str, facts: Sequence[str]) -> bool | None:
    """Whether every expected fact is in the answer (the reader gets all of it); None when no facts."""
    recall = fact_recall(answer, facts)
    return None if recall is None else recall == 1.0


def first_cited(answer: str, cited: Mapping[int, str]) -> str | None:
    """The source of the first marker in the answer text that has a citation (what a reader checks first)."""
    for n in markers(answer):
        if n in cited:
            return cited[n]
    return None


def forbidden_found(answer: str, forbidden: Sequence[str]) -> list[str]:
    """The injected canary strings that the answer repeats."""
    text = normalize(answer)
    return [f for f in forbidden if _contains(text, f)]


def markers(text: str) -> list[int]:
    """Citation marker numbers [n] in the order they appear."""
    return [int(n) for group in _MARKER.findall(text) for n in re.split(r"\s*[,;]\s*", group)]


def quote_in_text(quote: str, text: str) -> bool:
    """True when every piece of the quote (split on ellipses) occurs, in order, in the text."""
    hay = normalize(text)
    pos = 0
    pieces = [normalize(p).strip(" \"'") for p in _ELLIPSIS.split(quote)]
    pieces = [p for p in pieces if p]
    if not pieces:
        return False
    for piece in pieces:
        found = hay.find(piece, pos)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


def citation_validity(
    answer: str, citations: Sequence[tuple[int, str, str]], chunk_texts: Mapping[str, str]
) -> tuple[bool, list[str]]:
    """Every marker resolves to a citation and every (n, chunk_id, quote) quote occurs in its chunk.

    Returns (valid, problems); problems name each failure for the report.
    """
    problems: list[str] = []
    numbers = {n for n, _, _ in citations}
    for m in sorted(set(markers(answer))):
        if m not in numbers:
            problems.append(f"marker [{m}] has no citation")
    for n, chunk_id, quote in citations:
        text = chunk_texts.get(chunk_id)
        if text is None:
            problems.append(f"citation [{n}] points to chunk {chunk_id} that is not in the store")
        elif not quote_in_text(quote, text):
            problems.append(f"citation [{n}] quote is not in chunk {chunk_id}")
    return not problems, problems


def citation_precision(cited_sources: Sequence[str], expected: Sequence[str]) -> float | None:
    """Share of distinct cited documents that are expected sources; None without citations."""
    docs = dedupe(cited_sources)
    if not docs or not expected:
        return None
    return sum(1 for d in docs if is_relevant(d, expected)) / len(docs)


def article_number(locator: str) -> str | None:
    """The article number a locator names ("Chapter II, Article 16(2)" -> "16"), if any."""
    refs = parse_article_refs(unicodedata.normalize("NFKC", locator))
    return refs[0].article if refs else None


def locator_match(cited_locators: Sequence[str], expected_locators: Sequence[str]) -> float | None:
    """Share of expected locators named by some citation (same article number, else same text)."""
    if not expected_locators:
        return None
    cited_numbers = {article_number(c) for c in cited_locators} - {None}
    cited_norm = [normalize(c) for c in cited_locators]
    hits = 0
    for exp in expected_locators:
        number = article_number(exp)
        # subtle: compare numbers when there is one, so "Article 2" never matches "Article 29"
        if number in cited_numbers if number is not None else any(normalize(exp) in c for c in cited_norm):
            hits += 1
    return hits / len(expected_locators)


def lead_in(answer: str) -> str:
    """The answer's first non-empty line without citation markers: what language detection reads."""
    for line in answer.splitlines():
        clean = _MARKER.sub("", line).strip()
        if clean:
            return clean
    return ""


def language_match(answer: str, question_language: str, detect: Callable[[str], str]) -> bool | None:
    """Whether the answer's lead-in is in the question's language; None for an empty answer."""
    first = lead_in(answer)
    if not first:
        return None
    return detect(first) == question_language


# --- abstention and aggregation ----------------------------------------------------------------


def abstention_scores(pairs: Sequence[tuple[bool, bool]]) -> dict[str, float | None]:
    """Precision and recall of abstaining; each pair is (should_abstain, did_abstain)."""
    tp = sum(1 for should, did in pairs if should and did)
    fp = sum(1 for should, did in pairs if not should and did)
    fn = sum(1 for should, did in pairs if should and not did)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return {"abstention_precision": precision, "abstention_recall": recall}


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that are not None (booleans count as 0/1); None when there are none."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    index = min(max(int(round(q)) - 1, 0), 98)
    return cuts[index]
