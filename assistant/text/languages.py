"""The languages the assistant knows (the one registry) and their detection: script rules, then py3langid."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Language:
    """A language by its ISO 639-1 code: whether the assistant serves it, and in what it is shown."""

    code: str
    script: str  # the writing system detection routes by ("latin", "arabic", "cyrillic", "han"...)
    core: bool = False  # served: phrases, filters and examples cover it, and detection favours it
    ui: bool = False  # the web interface has its strings
    # the English name prompts use (small models follow "French" better than "fr"); a language that is
    # only recognized has none and is named by its code
    name: str = ""


LANGUAGES: tuple[Language, ...] = (
    Language("en", "latin", core=True, ui=True, name="English"),
    Language("fr", "latin", core=True, ui=True, name="French"),
    Language("vi", "latin", core=True, ui=True, name="Vietnamese"),
    Language("ar", "arabic", core=True, name="Arabic"),
    Language("es", "latin", core=True, name="Spanish"),
    Language("ru", "cyrillic", core=True, name="Russian"),
    Language("zh", "han", core=True, name="Chinese"),
    # languages a user may plausibly write in: recognized, but never favoured
    *(Language(code, "latin") for code in ("de", "it", "pt", "nl", "pl", "tr")),
    Language("uk", "cyrillic"), Language("ja", "kana"), Language("ko", "hangul"), Language("el", "greek"),
    Language("he", "hebrew"), Language("hi", "devanagari"),
)
# The languages the assistant serves; detection prefers them when the evidence is thin.
CORE_LANGUAGES: tuple[str, ...] = tuple(lang.code for lang in LANGUAGES if lang.core)
OTHER_LANGUAGES: tuple[str, ...] = tuple(lang.code for lang in LANGUAGES if not lang.core)
KNOWN_LANGUAGES: tuple[str, ...] = CORE_LANGUAGES + OTHER_LANGUAGES  # what a language filter may name
UI_LANGUAGES: tuple[str, ...] = tuple(lang.code for lang in LANGUAGES if lang.ui)
_NAMES = {lang.code: lang.name for lang in LANGUAGES if lang.name}
_LATIN_LANGUAGES = tuple(lang.code for lang in LANGUAGES if lang.script == "latin")


def language_name(code: str) -> str:
    """The English name of an ISO 639-1 code, or the code itself when it has none."""
    return _NAMES.get(code, code)
_CORE_PRIOR = 4.0  # how much more likely a core language is, a priori, than another one
_MIN_PROB = 0.2  # below this, py3langid is guessing ("OK", "Article 5"): keep the caller's default
# Typography that short questions give away: Spanish opening marks, French space before "?".
_HINTS: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(r"[¿¡ñÑ]"), "es", 4.0),
    (re.compile(r"\w \?|«\s|\s»"), "fr", 2.0),
)

# Letters only Vietnamese uses among the languages above (â, ê, ô are shared with French).
_VI_LETTERS = frozenset("ăđơưĂĐƠƯ") | frozenset(chr(c) for c in range(0x1EA0, 0x1EFA))
_UK_LETTERS = frozenset("іїєґІЇЄҐ")
_VI_SHARE = 0.04  # Vietnamese prose has ~15% such letters; a French text quoting a name has far fewer


def _script(ch: str) -> str:
    """The script of one letter, coarse: enough to route detection."""
    c = ord(ch)
    if c < 0x250 or 0x1E00 <= c <= 0x1EFF:
        return "latin"
    if 0x0600 <= c <= 0x08FF or 0xFB50 <= c <= 0xFDFF or 0xFE70 <= c <= 0xFEFF:
        return "arabic"
    if 0x0400 <= c <= 0x052F:
        return "cyrillic"
    if 0x3040 <= c <= 0x30FF:
        return "kana"
    if 0xAC00 <= c <= 0xD7AF or 0x1100 <= c <= 0x11FF:
        return "hangul"
    if 0x4E00 <= c <= 0x9FFF or 0x3400 <= c <= 0x4DBF or 0xF900 <= c <= 0xFAFF or c >= 0x20000:
        return "han"
    if 0x0370 <= c <= 0x03FF:
        return "greek"
    if 0x0590 <= c <= 0x05FF:
        return "hebrew"
    if 0x0900 <= c <= 0x097F:
        return "devanagari"
    return "other"


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    """The py3langid model, loaded on first use (about 0.7 s), restricted to our languages."""
    # subtle: cached per process on purpose; the model is read-only data, and loading it per
    # question would cost more than answering.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(KNOWN_LANGUAGES))
    return identifier


def _classify(text: str, candidates: tuple[str, ...], default: str) -> str:
    """The most probable candidate by py3langid, with core languages favoured."""
    ranked = [(lang, prob) for lang, prob in _identifier().rank(text) if lang in candidates]
    if not ranked or ranked[0][1] < _MIN_PROB:
        return default
    boost = {lang: factor for pattern, lang, factor in _HINTS if pattern.search(text)}
    scored = [
        (prob * (_CORE_PRIOR if lang in CORE_LANGUAGES else 1.0) * boost.get(lang, 1.0), lang)
        for lang, prob in ranked
    ]
    best_score, best = max(scored)
    log.debug("langid on %r: %s (%.3f)", text[:40], best, best_score)
    return str(best)


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of `text`; `default` when there is nothing to judge (no letters)."""
    text = unicodedata.normalize("NFC", text)
    # documents: the first pages say enough, and scoring the whole of a long treaty is wasted work
    sample = text[:6000]
    scripts = Counter(_script(ch) for ch in sample if ch.isalpha())
    if not scripts:
        return default
    script, _ = scripts.most_common(1)[0]
    if script == "arabic":
        return "ar"
    if script == "cyrillic":
        return "uk" if any(ch in _UK_LETTERS for ch in sample) else "ru"
    if script == "kana" or (script == "han" and scripts["kana"]):
        return "ja"
    if script == "han":
        return "zh"
    if script == "hangul":
        return "ko"
    if script == "latin":
        latin = scripts["latin"]
        vi_letters = sum(1 for ch in sample if ch in _VI_LETTERS)
        if vi_letters and vi_letters / latin >= _VI_SHARE:
            return "vi"
        return _classify(sample, _LATIN_LANGUAGES, default)
    if script == "greek":
        return "el"
    if script == "hebrew":
        return "he"
    if script == "devanagari":
        return "hi"
    return default
