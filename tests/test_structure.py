"""Legal structure parser: worked examples per language and the real treaty texts of the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.structure import Block, article_numbers, paragraph_number, parse_heading, parse_structure

FR = """Convention type sur la cybercriminalité

Les États parties à la présente Convention, Considérant l'article 16 du Pacte,

Chapitre premier – Dispositions générales

Article premier
Objet

La présente Convention a pour objet de prévenir la cybercriminalité.

Chapitre II
Incriminations

Section 1 – Infractions contre les données

Article 2 – Accès illégal

1. Chaque État Partie adopte les mesures législatives nécessaires.
2. Un État Partie peut exiger que l'infraction soit commise en violation de mesures de sécurité.

Article 3 : Interception illégale

Chaque État Partie adopte les mesures nécessaires, conformément à l'article 2.
"""

VI = """Công ước mẫu

Chương I
NHỮNG QUY ĐỊNH CHUNG

Điều 1. Phạm vi điều chỉnh
Công ước này quy định việc phòng, chống tội phạm mạng.

Chương II
HÌNH SỰ HÓA

Mục 1. Các tội xâm phạm dữ liệu

Điều 7. Truy cập trái phép
1. Mỗi Quốc gia thành viên thông qua các biện pháp lập pháp cần thiết.
2. Quốc gia thành viên có thể yêu cầu hành vi được thực hiện với ý định không trung thực.
"""

AR = """اتفاقية نموذجية

الفصل الأول: أحكام عامة
المادة ١: بيان الغرض
أغراض هذه الاتفاقية هي:
(أ) تشجيع التدابير الرامية إلى منع الجريمة السيبرانية؛

الفصل الثاني
التجريم
الفرع 1
المادة 7
الوصول غير المشروع
١ - تعتمد كل دولة طرف ما قد يلزم من تدابير تشريعية.
٢ - يجوز للدولة الطرف أن تشترط أن يكون الفعل قد ارتكب بنية غير نزيهة وفقا للمادة 16.
"""

ES = """Convención modelo

Capítulo II
Medidas que deberán adoptarse a nivel nacional

Sección 2
Derecho procesal

Artículo 16. Conservación rápida de datos informáticos almacenados
1. Cada Parte adoptará las medidas legislativas que resulten necesarias.
2. Cuando una Parte aplique lo dispuesto en el párrafo 1, adoptará las medidas necesarias.

Artículo 17. Conservación y revelación parcial rápidas de datos sobre el tráfico
Cada Parte adoptará las medidas necesarias.
"""


def _body_of(path: Path) -> str:
    """The body of a corpus file (what the loader hands over: the text after the KEY: value header)."""
    return path.read_text(encoding="utf-8").split("\n---\n", 1)[1]


def _first_body(blocks: list[Block], article: str) -> Block:
    return next(b for b in blocks if b.kind == "body" and b.article == article)


def test_french_chapters_articles_and_paragraphs() -> None:
    blocks = parse_structure(FR)
    assert article_numbers(blocks) == ["1", "2", "3"]
    one = _first_body(blocks, "1")
    assert (one.chapter, one.chapter_title, one.article_title) == ("I", "Dispositions générales", "Objet")
    two_body = [b for b in blocks if b.article == "2" and b.kind == "body"]
    paragraphs = [(b.paragraph, FR[b.start : b.end][:10]) for b in two_body]
    assert paragraphs == [("1", "1. Chaque "), ("2", "2. Un État")]
    two = _first_body(blocks, "2")
    assert (two.chapter, two.section, two.section_title, two.article_title) == (
        "II", "1", "Infractions contre les données", "Accès illégal")
    assert _first_body(blocks, "3").article_title == "Interception illégale"
    # the preamble cites "l'article 16" without being a heading
    assert [b.kind for b in blocks[:2]] == ["preamble", "preamble"]


def test_vietnamese_chuong_muc_dieu() -> None:
    blocks = parse_structure(VI)
    assert article_numbers(blocks) == ["1", "7"]
    seven = [b for b in blocks if b.article == "7" and b.kind == "body"]
    assert [b.paragraph for b in seven] == ["1", "2"]
    assert (seven[0].chapter, seven[0].chapter_title, seven[0].section) == ("II", "HÌNH SỰ HÓA", "1")
    assert seven[0].article_title == "Truy cập trái phép"
    assert _first_body(blocks, "1").article_title == "Phạm vi điều chỉnh"


def test_arabic_ordinals_indic_digits_and_titles_on_either_line() -> None:
    blocks = parse_structure(AR)
    assert article_numbers(blocks) == ["1", "7"]
    one = _first_body(blocks, "1")
    assert (one.chapter, one.chapter_title, one.article_title) == ("I", "أحكام عامة", "بيان الغرض")
    seven = [b for b in blocks if b.article == "7" and b.kind == "body"]
    assert (seven[0].chapter, seven[0].chapter_title, seven[0].section) == ("II", "التجريم", "1")
    assert seven[0].article_title == "الوصول غير المشروع"
    assert [b.paragraph for b in seven] == ["1", "2"]


def test_spanish_capitulo_seccion_articulo() -> None:
    blocks = parse_structure(ES)
    assert article_numbers(blocks) == ["16", "17"]
    sixteen = [b for b in blocks if b.article == "16" and b.kind == "body"]
    assert [b.paragraph for b in sixteen] == ["1", "2"]
    first = sixteen[0]
    assert (first.chapter, first.section, first.section_title) == ("II", "2", "Derecho procesal")
    assert sixteen[0].article_title == "Conservación rápida de datos informáticos almacenados"


@pytest.mark.parametrize(
    ("line", "level", "number", "title"),
    [
        ("CHAPTER III", "chapter", "III", ""),
        ("Article 16", "article", "16", ""),
        ("Article 1er", "article", "1", ""),
        ("Article 16 – Expedited preservation", "article", "16", "Expedited preservation"),
        ("ĐIỀU 16. Bảo quản nhanh", "article", "16", "Bảo quản nhanh"),
        ("المادة ١٦ - حفظ البيانات", "article", "16", "حفظ البيانات"),
        ("المادة الحادية عشرة", "article", "11", ""),
        ("الباب الثالث", "chapter", "III", ""),
        ("Статья 16. Оперативное обеспечение", "article", "16", "Оперативное обеспечение"),
        ("Глава II", "chapter", "II", ""),
        ("第十六条 快速保全", "article", "16", "快速保全"),
        ("第二章", "chapter", "II", ""),
        ("Sección 1", "section", "1", ""),
    ],
)
def test_headings_in_every_language(line: str, level: str, number: str, title: str) -> None:
    heading = parse_heading(line)
    assert heading is not None
    assert (heading.level, heading.number, heading.title) == (level, number, title)


@pytest.mark.parametrize(
    "line",
    [
        "Article 16 shall apply to stored data.",
        "in accordance with Article 16",
        "Article 2 through 11 of this Convention",
        "Section civil",
        "المادة 17 من هذه الاتفاقية",
        "title 2 of the code",
    ],
)
def test_references_in_sentences_are_not_headings(line: str) -> None:
    assert parse_heading(line) is None


def test_run_on_heading_keeps_its_text_as_body() -> None:
    text = "Article 1. Each Party shall adopt such measures as may be needed, in its own law.\nArticle 2\nT."
    blocks = parse_structure(text)
    assert [(b.kind, text[b.start : b.end][:14], b.article_title) for b in blocks[:2]] == [
        ("heading", "Article 1.", ""), ("body", "Each Party sha", "")]


def test_paragraph_markers() -> None:
    assert paragraph_number("1. Each Party") == 1
    assert paragraph_number("3.") == 3
    assert paragraph_number("(2) Where a Party") == 2
    assert paragraph_number("2 Such conditions") == 2
    assert paragraph_number("١ - تعتمد كل دولة") == 1
    assert paragraph_number("25 countries signed") is None
    assert paragraph_number("a) the criminal offences") is None


def test_stray_numbers_do_not_jump_paragraphs() -> None:
    text = "Article 1\n\n1. First.\n\n25 October is a date. It starts one.\n\n2. Second.\n\nArticle 2\n\nT."
    blocks = [b for b in parse_structure(text) if b.kind == "body" and b.article == "1"]
    assert [b.paragraph for b in blocks] == ["1", "1", "2"]


def test_budapest_convention_has_articles_1_to_48(corpus_dir: Path) -> None:
    text = _body_of(corpus_dir / "texts" / "coe_budapest_convention_ets185_en.txt")
    blocks = parse_structure(text)
    assert article_numbers(blocks) == [str(n) for n in range(1, 49)]
    sixteen = [b for b in blocks if b.article == "16" and b.kind == "body"]
    assert {(b.chapter, b.section) for b in sixteen} == {("II", "2")}
    assert [b.paragraph for b in sixteen] == ["1", "2", "3", "4"]
    assert sixteen[0].article_title == "Expedited preservation of stored computer data"
    assert sixteen[0].section_title == "PROCEDURAL LAW"
    # "TITLE 2" and its caption between Articles 15 and 16 are headings, not text of Article 15
    fifteen = [text[b.start : b.end] for b in blocks if b.article == "15" and b.kind == "body"]
    assert not any("EXPEDITED PRESERVATION" in line for line in fifteen)
    assert blocks[-1].kind == "closing"


def test_additional_protocol_has_articles_1_to_16(corpus_dir: Path) -> None:
    text = _body_of(corpus_dir / "texts" / "coe_additional_protocol_ets189_xenophobia_en.txt")
    assert article_numbers(parse_structure(text)) == [str(n) for n in range(1, 17)]


def test_arabic_un_convention_has_articles_1_to_15(corpus_dir: Path) -> None:
    text = _body_of(corpus_dir / "texts" / "uncc_articles_01-15_ar.txt")
    blocks = parse_structure(text)
    assert article_numbers(blocks) == [str(n) for n in range(1, 16)]
    seven = _first_body(blocks, "7")
    assert (seven.chapter, seven.chapter_title) == ("II", "التجريم")
    assert seven.article_title == "الوصول غير المشروع"
    assert [b.paragraph for b in blocks if b.article == "14" and b.paragraph][-1] == "5"


def test_press_text_has_no_articles(corpus_dir: Path) -> None:
    text = _body_of(corpus_dir / "press" / "fr_vietnamvn_guterres_convention_hanoi_pilier.txt")
    assert len(article_numbers(parse_structure(text))) < 2
