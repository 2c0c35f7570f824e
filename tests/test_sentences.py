"""Sentence spans used as chunk boundaries, in the corpus languages."""

from __future__ import annotations

from ingest.sentences import split_clauses, split_sentences


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_english_abbreviations_and_numbers() -> None:
    text = "See Art. 16 and No. 185, e.g. the U.S. position. Article 16.2 applies. It is p. 4 of 5! Done?"
    assert _sentences(text) == [
        "See Art. 16 and No. 185, e.g. the U.S. position.",
        "Article 16.2 applies.",
        "It is p. 4 of 5!",
        "Done?",
    ]


def test_french_guillemets_and_spaced_question_marks() -> None:
    text = "M. Guterres a déclaré : « La Convention est un pilier. » Pourquoi ? « Parce que » dit-il. Fin."
    assert _sentences(text) == [
        "M. Guterres a déclaré : « La Convention est un pilier. »",
        "Pourquoi ?",
        "« Parce que » dit-il.",
        "Fin.",
    ]


def test_vietnamese_and_arabic() -> None:
    assert _sentences("Công ước có 71 điều. TP. Hồ Chí Minh tham dự. Gần 70 nước ký!") == [
        "Công ước có 71 điều.", "TP. Hồ Chí Minh tham dự.", "Gần 70 nước ký!"]
    assert _sentences("ما هو الغرض؟ تشجيع التعاون الدولي. وتعزيز القدرات، وخصوصا للبلدان النامية.") == [
        "ما هو الغرض؟", "تشجيع التعاون الدولي.", "وتعزيز القدرات، وخصوصا للبلدان النامية."]


def test_numbered_lists_and_hard_wraps() -> None:
    text = ("1. Each Party shall adopt\nsuch measures as may be necessary:\na) to preserve data;\n"
            "b) to disclose it.\n3.\na)Each Party may reserve.")
    assert _sentences(text) == [
        "1. Each Party shall adopt\nsuch measures as may be necessary:",
        "a) to preserve data;",
        "b) to disclose it.",
        "3.\na)Each Party may reserve.",
    ]


def test_blank_lines_always_end_a_sentence_and_spans_are_stripped() -> None:
    text = "  A title without a period\n\nBody starts here.  "
    assert split_sentences(text) == [(2, 26), (28, 45)]


def test_clauses_of_a_long_sentence() -> None:
    text = "Considering the aim; Recognising the value, and Convinced of the need: to act"
    assert [text[s:e] for s, e in split_clauses(text, 0, len(text))] == [
        "Considering the aim;", "Recognising the value,", "and Convinced of the need:", "to act"]
