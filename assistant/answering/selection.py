"""Which sentences make the answer: the lead that answers, then close ones from other documents."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answering.conflict import Sentence
from assistant.answering.cues import CAPTION
from assistant.text.tokenizer import tokenize

LEAD_MARGIN = 0.12  # how far below the best a sentence that carries the asked fact may be and still lead
CLOSE = 0.2  # sentences this close to the lead may join it
WIDE = 0.3  # ... this close for viewpoints and comparisons, where the other side matters


@dataclass(frozen=True)
class Candidate(Sentence):
    """A sentence of a retrieved passage with its score and what it carries."""

    score: float = 0.0
    cosine: float = 0.0
    cue: bool = False
    meta: bool = False


def _viewpoint(cand: Candidate) -> str:
    return dict(cand.item.hit.doc.extra).get("VIEWPOINT", cand.item.hit.doc.doc_id)


def pick(candidates: list[Candidate], max_picks: int, wide: bool = False,
          language: str = "") -> list[Candidate]:
    """The lead that answers, then other documents close to it, never repeating: first a passage in the
    reader's language when the lead is in another, then other viewpoints, then other documents."""
    best = candidates[0].score
    # subtle: a sentence that carries the fact asked for and says it (not "it explains...") leads when one
    # is near the top; the margin is the cue's and the meta penalty's own size, so it never reaches far
    # ... else the best ("Il cite l'article 64 (... 31 décembre 2026)"), unless it is a caption, which never
    # leads while any sentence says something
    lead = next((c for c in candidates if c.cue and not c.meta and c.score >= best - LEAD_MARGIN),
                next((c for c in candidates if not CAPTION.search(c.text)), candidates[0]))
    margin = WIDE if wide else CLOSE
    close = [c for c in candidates
             if c is not lead and c.score >= lead.score - margin and c.cue and not c.meta]
    picks = [lead]
    rules = ["other_view", "other_doc"]
    if language and lead.item.hit.doc.language != language:
        rules.insert(0, "reader_language")
    for rule in rules:
        for cand in close:
            if len(picks) >= max_picks:
                break
            if cand in picks or any(p.item.hit.doc.doc_id == cand.item.hit.doc.doc_id for p in picks):
                continue
            if rule == "other_view" and any(_viewpoint(p) == _viewpoint(cand) for p in picks):
                continue
            if rule == "reader_language" and (cand.item.hit.doc.language != language or len(picks) > 1):
                continue
            if any(_similar(cand.text, p.text) for p in picks):
                continue
            picks.append(cand)
    # then the next best sentences near the lead, from any document: the fact asked for often sits in the
    # sentence after the one that names the question's subject
    for cand in candidates:
        if len(picks) >= max_picks:
            break
        if cand in picks or cand.meta or not cand.cue or cand.score < lead.score - margin:
            continue
        if not any(_similar(cand.text, p.text) for p in picks):
            picks.append(cand)
    return picks


def _similar(a: str, b: str) -> bool:
    """True when most words of the shorter sentence are in the other: it repeats it (often paraphrased)."""
    ta, tb = set(tokenize(a)), set(tokenize(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) >= 0.7
