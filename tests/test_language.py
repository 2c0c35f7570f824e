"""Language detection: short questions in every supported language, and every corpus document."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.text.languages import (
    CORE_LANGUAGES,
    OTHER_LANGUAGES,
    UI_LANGUAGES,
    detect_language,
    language_name,
)

QUESTIONS = {
    "en": [
        "Who signed it?",
        "What does Article 16 say?",
        "When does the convention enter into force?",
        "How many countries signed the Hanoi Convention?",
        "Is the US a signatory?",
        "Why did NGOs oppose the treaty?",
        "And then?",
    ],
    "fr": [
        "Qui a signé la convention ?",
        "Qui a signé ?",
        "Combien de pays ont signé ?",
        "Que dit l'article 5 ?",
        "Quand entre-t-elle en vigueur ?",
        "Le Canada a-t-il signé ?",
        "Pourquoi ?",
    ],
    "vi": [
        "Điều 16 nói gì?",
        "Ai đã ký công ước?",
        "Có bao nhiêu quốc gia ký Công ước Hà Nội?",
        "Công ước có hiệu lực khi nào?",
        "Việt Nam đóng vai trò gì?",
    ],
    "es": [
        "¿Cuántos artículos tiene?",
        "¿Quién firmó la convención?",
        "¿Cuándo entra en vigor?",
        "Qué critican las ONG",
    ],
    "ar": ["ما هي المادة 5؟", "من وقع على الاتفاقية؟", "متى تدخل الاتفاقية حيز النفاذ؟"],
    "ru": ["Что говорит статья 16?", "Кто подписал конвенцию?", "Когда конвенция вступает в силу?"],
    "zh": ["第十六条说了什么？", "谁签署了公约？", "公约何时生效？"],
}
CASES = [(lang, q) for lang, questions in QUESTIONS.items() for q in questions]


@pytest.mark.parametrize(("expected", "question"), CASES)
def test_short_questions(expected: str, question: str) -> None:
    assert detect_language(question) == expected


@pytest.mark.parametrize("text", ["", "   ", "123 ?", "OK", "Article 5"])
def test_no_evidence_gives_the_default(text: str) -> None:
    assert detect_language(text, default="fr") == "fr"


def test_decomposed_vietnamese_is_normalized_first() -> None:
    assert detect_language("Ai đa\u0303 ky\u0301 công ươ\u0301c?") == "vi"


def test_every_corpus_body_matches_its_language_header(corpus_dir: Path) -> None:
    files = sorted(p for p in corpus_dir.rglob("*.txt"))
    assert len(files) == 60
    for path in files:
        header, body = path.read_text(encoding="utf-8").split("\n---\n", 1)
        declared = next(line.split(": ", 1)[1] for line in header.split("\n") if line.startswith("LANGUAGE:"))
        assert detect_language(body) == declared, path.name
        # the title alone is a short text too, except where it mixes two languages on purpose
        title = next(line.split(": ", 1)[1] for line in header.split("\n") if line.startswith("TITLE:"))
        if "(" not in title:
            assert detect_language(title) == declared, title


def test_the_registry_is_what_every_language_table_covers() -> None:
    from assistant.answering.phrases import load_phrases
    from assistant.config import PROJECT_ROOT
    from eval import sweep
    from web.strings import STRINGS

    assert UI_LANGUAGES == ("en", "fr", "vi") and set(UI_LANGUAGES) <= set(CORE_LANGUAGES)
    assert set(STRINGS) == set(UI_LANGUAGES)  # the interface speaks exactly its languages
    assert set(sweep.QUESTIONS) == set(sweep.TREATIES) == set(UI_LANGUAGES)  # the eval asks in each
    phrases = load_phrases(PROJECT_ROOT / "prompts")
    assert set(phrases.table) >= set(CORE_LANGUAGES)  # every served language has its phrase row
    assert not set(CORE_LANGUAGES) & set(OTHER_LANGUAGES)
    assert [language_name(c) for c in ("fr", "zh", "de")] == ["French", "Chinese", "de"]
