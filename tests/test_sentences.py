"""Sentence spans in the corpus languages: chunk boundaries, and the quotable sentences cut from them."""

from __future__ import annotations

from assistant.text.segmenter import quotable_sentences, sentence_bounds, split_clauses, split_sentences


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_bounds(text)]


def _quotable(text: str) -> list[str]:
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
    assert sentence_bounds(text) == [(2, 26), (28, 45)]


def test_clauses_of_a_long_sentence() -> None:
    text = "Considering the aim; Recognising the value, and Convinced of the need: to act"
    assert [text[s:e] for s, e in split_clauses(text, 0, len(text))] == [
        "Considering the aim;", "Recognising the value,", "and Convinced of the need:", "to act"]


def test_quotable_sentences_are_bounds_cut_at_lines_semicolons_and_paragraph_numbers() -> None:
    text = ("1. Each Party shall adopt\nsuch measures as may be necessary:\na) to preserve data; and\n"
            "- \u201cb) to disclose it.\u201d\n2. The decision is taken under Article 20.d. of the Statute.")
    assert _sentences(text)[0] == "1. Each Party shall adopt\nsuch measures as may be necessary:"
    assert _quotable(text) == [
        "1.", "Each Party shall adopt", "such measures as may be necessary:", "a) to preserve data;", "and",
        "b) to disclose it.", "2.", "The decision is taken under Article 20.d. of the Statute.",
    ]
    assert [text[s:e] for s, e in quotable_sentences(text)] == [
        "The decision is taken under Article 20.d. of the Statute."]


def test_a_lower_case_letter_before_a_period_is_not_an_initial() -> None:
    assert _quotable("It warns of governments such as Viet Nam's. It singles out: Article 35.") == [
        "It warns of governments such as Viet Nam's.", "It singles out: Article 35."]
    assert _quotable("Signed by J. Smith, etc. and others.") == ["Signed by J. Smith, etc. and others."]


def test_a_clause_that_continues_a_sentence_is_widened_to_the_sentence_and_a_list_item_is_not() -> None:
    from assistant.text.segmenter import widen_fragment

    text = ('- "In many countries, merely speaking freely; expressing a nonconforming identity; or '
            'protesting peacefully can constitute a serious criminal offense."\nNext line.')
    spans = quotable_sentences(text)
    fragment = next(s for s in spans if text[s[0]:s[1]].startswith("or protesting"))
    start, end = widen_fragment(text, *fragment)
    assert text[start:end].startswith("In many countries, merely speaking freely;")
    assert text[start:end].endswith("criminal offense.")
    items = "Cấu trúc theo chương: quy định chung; hợp tác quốc tế (Điều 35-52); phòng ngừa (Điều 53)."
    item = next(s for s in quotable_sentences(items) if items[s[0]:s[1]].startswith("hợp tác"))
    assert widen_fragment(items, *item) == item
