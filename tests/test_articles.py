"""Article lookups as pure logic: which passages are the article, what is quoted, what is said missing."""

from __future__ import annotations

from assistant.answering import articles as art
from assistant.answering.citations import ContextItem
from assistant.text.references import ArticleRef
from assistant.types import Chunk, Citation, DocMeta, Hit

BUDAPEST = DocMeta(doc_id="b", source="corpus/texts/coe_budapest_convention_ets185_en.txt",
                   title="Convention on Cybercrime (Budapest Convention), ETS No. 185", language="en",
                   kind="treaty")
PRESS = DocMeta(doc_id="p", source="corpus/digests/12_fr_press.txt", title="La presse", language="fr",
                kind="press")
ART16 = ("1. Each Party shall adopt such measures as may be necessary to enable the expeditious preservation "
         "of specified computer data.\n2. Where a Party gives effect to paragraph 1 above, it shall oblige "
         "that "
         "person to preserve the data for up to a maximum of ninety days.\n3. Each Party shall keep the "
         "undertaking confidential for the period provided for by its domestic law.")


def _item(n: int, doc: DocMeta, text: str, article: str = "", position: int = 0) -> ContextItem:
    chunk = Chunk(chunk_id=f"c{n}", doc_id=doc.doc_id, position=position, text=text, article=article,
                  locator=f"Article {article}" if article else "¶ 1")
    return ContextItem(n=n, hit=Hit(chunk=chunk, doc=doc, score=1.0 / n, dense_score=0.5))


def test_the_named_article_of_the_named_treaty_is_found_in_document_order() -> None:
    items = [_item(1, PRESS, "L'article 16 de la Convention de Budapest prévoit une conservation rapide."),
             _item(2, BUDAPEST, ART16, "16", position=22),
             _item(3, BUDAPEST, "Other text.", "17", position=23)]
    found = art.find_article([ArticleRef("16", "", "budapest")], items)
    assert found is not None and [i.n for i in found.items] == [2] and found.treaty == "budapest"
    assert art.find_article([ArticleRef("16", "", "uncc")], items) is None  # another treaty's Article 16


def test_a_bare_lookup_quotes_the_article_from_its_opening_with_paragraph_numbers() -> None:
    found = art.find_article([ArticleRef("16")], [_item(1, BUDAPEST, ART16, "16")])
    assert found is not None
    cited: dict[int, Citation] = {}
    text = art.quote_spans(art.article_spans(found), cited)
    assert text.startswith("1. Each Party shall adopt") and "ninety days" in text and text.endswith("[1]")
    assert cited[1].quote in ART16  # the citation quotes the article verbatim


def test_a_paragraph_reference_starts_at_that_paragraph() -> None:
    found = art.find_article([ArticleRef("16", "2")], [_item(1, BUDAPEST, ART16, "16")])
    assert found is not None
    text = art.quote_spans(art.article_spans(found), {})
    assert text.startswith("2. Where a Party gives effect")


def test_the_sentence_that_answers_joins_the_opening_in_article_order() -> None:
    """Past the quoting budget, the sentence that answers a narrower question is still quoted."""
    filler = " ".join(f"The Party shall also consider measure number {i} with due care." for i in range(25))
    text = f"1. Each Party shall adopt measures.\n2. {filler}\n3. The preservation shall last sixty days."
    found = art.find_article([ArticleRef("29")], [_item(1, BUDAPEST, text, "29")])
    assert found is not None
    last = text.index("3. The preservation")
    opening = art.article_spans(found)
    assert not any(s <= last + 3 < e for _, s, e in opening)  # beyond the budget when nothing is asked
    spans = art.article_spans(found, best=[(1, last + 3, len(text))])
    assert [s for _, s, _ in spans] == sorted(s for _, s, _ in spans)
    assert any(s <= last + 3 < e for _, s, e in spans)
    assert art.quote_spans(spans, {}).startswith("1. Each Party shall adopt measures.")


def test_other_documents_count_as_mentions_only_when_they_name_the_treaty() -> None:
    items = [_item(1, BUDAPEST, ART16, "16"),
             _item(2, PRESS, "Elle est fondée sur l'article 16 du TFUE et adoptée après approbation."),
             _item(3, PRESS, "L'article 16 de la Convention de Budapest prévoit une conservation rapide.")]
    found = art.find_article([ArticleRef("16", "", "budapest")], items)
    assert found is not None
    assert [item.n for item, _, _ in art.mentions(found, items, "fr")] == [3]


def test_missing_articles_come_from_what_the_index_holds() -> None:
    held = {"uncc": {str(n) for n in range(1, 16)}, "budapest": {str(n) for n in range(1, 49)}}
    missing = art.missing_article([ArticleRef("40", "", "uncc")], lambda t: held.get(t, set()))
    assert missing is not None and missing[0].article == "40"
    assert art.held_range(missing[1]) == "1-15"
    assert art.missing_article([ArticleRef("16", "", "budapest")], lambda t: held.get(t, set())) is None
    assert art.missing_article([ArticleRef("40")], lambda t: held.get(t, set())) is None  # no treaty named
    assert art.held_range({"1", "2", "3", "7", "9", "10"}) == "1-3, 7, 9-10"


def test_bare_lookups_are_told_from_narrower_questions() -> None:
    assert art.is_bare_lookup("What does Article 16 of the Budapest Convention say?")
    assert art.is_bare_lookup("Que dit l'article 16 de la Convention de Budapest ?")
    assert art.is_bare_lookup("Điều 16 của Công ước Budapest quy định gì?")
    assert art.is_bare_lookup("ما نص المادة 7 من اتفاقية الأمم المتحدة لمكافحة الجريمة السيبرانية؟")
    assert not art.is_bare_lookup("How does Article 9 of the Budapest Convention define a minor?")
