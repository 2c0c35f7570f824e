"""Multilingual tokenizer (accents, elisions, Arabic, Vietnamese, CJK) and the names a question is about."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from assistant.text.segmenter import split_sentences

# subtle: the apostrophe may be ' or ’; "aujourd'hui" keeps its form because "aujourd" is not listed.
_ELISION = re.compile(r"\b(?:l|d|qu|n|s|j|c|m|t|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_DIGITS = str.maketrans(
    {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}
)
# subtle: applied after prefix stripping, so "الإلكترونية" and "إلكتروني" both keep their "ال" root letters.
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# A run of CJK characters, or a run of other letters/digits (no underscore: "_" joins bigrams).
_TOKEN = re.compile(rf"[{_CJK}]+|(?:(?![{_CJK}])[^\W_])+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Small lists, stored accent-folded (the form tokens have when they are compared).
STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "a an the of to in on at by for from with and or but is are was were be been being it its this that"
        " these those as which who whom what when where how does do did has have had will would shall should"
        " can could may might not no there their they them he she his her we our you your i me my into than"
        " then so such about any all also"
    ),
    "fr": _words(
        "le la les un une des du de d l et ou mais est sont etait ete etre a au aux en dans par pour sur avec"
        " sans ce cet cette ces qui que quoi dont ou il elle ils elles on nous vous je tu se sa son ses leur"
        " leurs ne pas plus y qu n s c j m t lui est-ce quel quelle quels quelles comment"
    ),
    "es": _words(
        "el la los las un una unos unas de del al y o pero es son fue ser en por para con sin que quien cual"
        " como donde cuando se su sus le lo les nos mas no este esta estos estas ese esa eso"
    ),
    "vi": _words(
        "cua va la cac nhung mot cho voi trong duoc co thi ma nay do nao gi ve tai tu den khi de boi vi nhu"
        " cung da dang se bi hay hoac rang thuoc"
    ),
    "ar": _words(
        "في من علي الي عن مع هذا هذه ذلك تلك التي الذي الذين ان او ثم كل اي ما لا لم لن قد هو هي هم كان"
        " كانت يكون به بها له لها عند بين"
    ),
}
_ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())


def _fold(token: str) -> str:
    """Drop diacritics (é -> e, ạ -> a, đ -> d) so accented and plain spellings meet."""
    decomposed = unicodedata.normalize("NFD", token)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("ı", "i")


def _strip_arabic_prefix(token: str) -> str:
    """Strip one article/conjunction prefix when at least three letters remain."""
    for prefix in _ARABIC_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            return token[len(prefix) :]
    return token


def normalize(text: str) -> str:
    """NFC, casefold, French elisions and Arabic diacritics removed, Arabic-Indic digits to ASCII."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = _ELISION.sub("", text)
    return _ARABIC_MARKS.sub("", text).translate(_DIGITS)


def _cjk_grams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@lru_cache(maxsize=262_144)
def _term(raw: str) -> str:
    """The index form of one normalized word (pure, so memoized: vocabularies are small)."""
    if raw.isascii():
        return raw
    if "\u0600" <= raw[0] <= "\u06ff":
        raw = _strip_arabic_prefix(raw).translate(_ARABIC_LETTERS)
    return _fold(raw)


def tokenize(text: str, language: str | None = None) -> list[str]:
    """Index terms of `text`: folded words, Vietnamese syllable bigrams, CJK character bigrams."""
    stop = STOPWORDS.get(language, frozenset()) if language else _ALL_STOPWORDS
    text = normalize(text)
    if language != "vi" and not _CJK_CHAR.search(text):
        # the common case, kept to one comprehension: indexing thousands of chunks must stay well under 1 s
        return [token for token in map(_term, _TOKEN.findall(text)) if token not in stop]
    out: list[str] = []
    previous, previous_end = "", -1  # last Vietnamese syllable kept and where it ended
    for match in _TOKEN.finditer(text):
        raw = match.group()
        if raw[0] >= "\u3040" and _CJK_CHAR.match(raw[0]):
            out.extend(_cjk_grams(raw))
            previous = ""
            continue
        token = _term(raw)
        if token in stop:
            previous = ""
            continue
        out.append(token)
        if language == "vi":
            # subtle: only syllables adjacent in the text pair up; a stopword breaks the chain.
            if previous and match.start() == previous_end + 1 and not token.isdigit():
                out.append(f"{previous}_{token}")
            previous, previous_end = ("" if token.isdigit() else token), match.end()
    return out


def stem(word: str) -> str:
    """A word without its plural ending, to be matched as a prefix of its forms ("themes" -> "theme" finds
    "thème" folded, "named" under "name"); a short word or a phrase as it is."""
    return word.rstrip("sx") if " " not in word and len(word) > 4 else word


_SENTENCE_START = re.compile(r"[.?!:;«\"“(¿¡]\s*$")


# Titles written capitalized before a name ("Prime Minister Pham Minh Chinh"): offices, not what is asked of.
_TITLES = _words(
    "prime minister president vice deputy secretary general director executive ambassador chairman chair"
    " commissioner spokesperson premier ministre président présidente secrétaire directeur directrice"
    " ambassadeur commissaire presidente ministro ministra secretario"
)


def names_in(text: str) -> list[str]:
    """Capitalized words and acronyms inside a sentence ("Interpol", "RGPD"): what a question is about.

    Only its asking sentences count when it has any ("Ignore ... the word PWNED. Then: how many...?" asks
    about the Convention), and titles before a name are no names.
    """
    asking = [text[a:b] for a, b in split_sentences(text) if text[a:b].rstrip().endswith(("?", "؟", "？"))]
    asked = " ".join(asking) or text
    out = []
    for m in re.finditer(r"[A-ZÀ-ÝĐ][\w’'-]*", asked):
        before = asked[: m.start()]
        # subtle: a sentence's first word is capitalized whatever it is; a letter inside a word is no name
        if not before.strip() or _SENTENCE_START.search(before) or not before[-1].isspace():
            continue
        if all(part in _TITLES for part in m.group(0).casefold().split("-")):
            continue
        out.append(m.group(0))
    return out
