"""Citation markers and quote verification on hand-made hits (pure logic, no model)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.answering.citations import (
    ContextItem,
    citation_for,
    locate_quote,
    normalize_for_match,
    number_context,
    verify,
)
from assistant.text.segmenter import split_sentences
from assistant.types import Chunk, DocMeta, Hit

TEXTS = [
    "The Convention has 68 articles. It was signed in Hanoi on 25 October 2025.",
    "Seventy-two states signed it over two days. The U.S. did not sign at Hanoi.",
    "Il entre en vigueur le quatre-vingt-dixième jour après le dépôt du quarantième instrument.",
]


def _hit(n: int, text: str, page: int | None = None) -> Hit:
    locator = "Article 65(1)" if page is None else f"Article 65(1), p. {page}"  # as the chunker writes it
    chunk = Chunk(chunk_id=f"c{n}", doc_id=f"d{n}", position=0, text=text, locator=locator, page=page)
    doc = DocMeta(doc_id=f"d{n}", source=f"corpus/doc{n}.txt", title=f"Title {n}", language="en",
                  kind="press", outlet="Outlet", date="2025-10-25", url=f"https://example.org/{n}")
    return Hit(chunk=chunk, doc=doc, score=1.0 / n, dense_score=0.8)


def _items() -> list[ContextItem]:
    return number_context([_hit(i, t) for i, t in enumerate(TEXTS, start=1)])


def test_number_context_counts_from_one() -> None:
    items = _items()
    assert [i.n for i in items] == [1, 2, 3]
    assert items[1].hit.chunk.chunk_id == "c2"


def test_dangling_marker_is_removed_and_valid_one_kept() -> None:
    text, cites = verify("It has 68 articles [1]. It was signed by many [7].", _items())
    assert text == "It has 68 articles [1]. It was signed by many."
    assert [c.n for c in cites] == [1]
    assert cites[0].quote == "The Convention has 68 articles."


def test_multi_marker_forms_are_parsed_and_filtered() -> None:
    text, cites = verify("Signed by 72 states [2, 9]. Entry into force [3][4]. Both [1; 2].", _items())
    assert text == "Signed by 72 states [2]. Entry into force [3]. Both [1, 2]."
    assert [c.n for c in cites] == [1, 2, 3]


def test_fake_quote_loses_marks_and_marker() -> None:
    text, cites = verify('The treaty says "every state must ban encryption" [1].', _items())
    assert text == "The treaty says every state must ban encryption."
    assert cites == []


def test_quote_with_curly_quotes_case_and_whitespace_is_verified() -> None:
    answer = "Per the report, “seventy-two  STATES signed\nit” [2]."
    text, cites = verify(answer, _items())
    assert "[2]" in text
    assert cites[0].quote == "Seventy-two states signed it"
    assert cites[0].quote in TEXTS[1]


def test_guillemets_and_apostrophes_are_normalized() -> None:
    items = number_context([_hit(1, "L’accord entre en vigueur après le dépôt.")])
    text, cites = verify("Selon le texte, « l'accord entre en vigueur » [1].", items)
    assert text.endswith("[1].")
    assert cites[0].quote == "L’accord entre en vigueur"


def test_quote_found_in_another_marker_of_the_same_claim() -> None:
    text, cites = verify('Reports say "The U.S. did not sign" [1, 2].', _items())
    assert "[1, 2]" in text
    by_n = {c.n: c for c in cites}
    assert by_n[2].quote == "The U.S. did not sign"


def test_citation_fields_and_page() -> None:
    item = ContextItem(n=4, hit=_hit(4, "Some text here.", page=12))
    cite = citation_for(item, "Some text")
    assert (cite.n, cite.title, cite.outlet, cite.kind) == (4, "Title 4", "Outlet", "press")
    assert cite.url == "https://example.org/4"
    assert cite.locator == "Article 65(1), p. 12"
    assert cite.source == "corpus/doc4.txt" and cite.date == "2025-10-25" and cite.chunk_id == "c4"


def test_normalize_for_match() -> None:
    assert normalize_for_match("  «Soft\u00adhyphen»  ’x’ \n Y ") == "\"softhyphen\" 'x' y"


def test_locate_quote_maps_back_to_original_offsets() -> None:
    chunk = "Le « délai » de\u00a090 jours."
    span = locate_quote("DÉLAI » de 90", chunk)
    assert span is not None and chunk[span[0]:span[1]] == "délai » de\u00a090"


def test_sentence_splitter_keeps_abbreviations_and_cjk() -> None:
    text = "Art. 16 of ETS No. 185 applies. Second one!\n- \"A quoted bullet.\"\n公约已签署。第二句！"
    got = [text[s:e] for s, e in split_sentences(text)]
    assert got == ["Art. 16 of ETS No. 185 applies.", "Second one!", "A quoted bullet.",
                   "公约已签署。", "第二句！"]


_fragment = st.sampled_from(TEXTS + ["invented", "68 articles", "signed it", "[1]", "[2, 5]", "[3][0]",
                                     '"', "“", "”", "«", "»", ". ", " ", "\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_fragment, max_size=14))
def test_no_citation_quote_outside_its_chunk(parts: list[str]) -> None:
    items = _items()
    by_n = {i.n: i for i in items}
    text, cites = verify("".join(parts), items)
    for cite in cites:
        assert cite.quote and cite.quote in by_n[cite.n].hit.chunk.text
        assert f"{cite.n}" in text
    assert len({c.n for c in cites}) == len(cites)


def test_a_caption_never_leads_while_a_sentence_says_something() -> None:
    from assistant.answering.selection import Candidate, pick

    caption = "Công ước Hà Nội là trụ cột giúp thiết lập lại công lý số- Ảnh 10."
    said = "The Convention has 68 articles."
    items = number_context([_hit(1, caption), _hit(2, said)])
    candidates = [Candidate(items[0], 0, len(caption), score=0.9, cue=True, meta=True),
                  Candidate(items[1], 0, len(said), score=0.6, cue=False, meta=False)]
    assert pick(candidates, 3)[0].text == said
