"""The Assistant facade's logic with fakes passed through constructors: validation, LLM fallback, events."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from fakes import HashEmbedder

from assistant.answering.chat import Assistant
from assistant.answering.citations import ContextItem
from assistant.answering.conversation import is_followup, resolve
from assistant.answering.cues import answer_cue
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.phrases import load_phrases
from assistant.config import PROJECT_ROOT, Settings
from assistant.errors import InputError, LLMError
from assistant.models.profiles import Calibration
from assistant.text.references import ArticleRef
from assistant.types import Chunk, DocMeta, Filters, Hit, Turn
from web.schemas import answer_json

PASSAGES = [
    ("d1", "The Convention enters into force 90 days after the 40th ratification. It has 68 articles."),
    ("d2", "Seventy-two states signed the Convention in Hanoi over two days. Viet Nam hosted the ceremony."),
]


class ListRetriever:
    """Returns fixed hits and records the questions it was asked."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits, self.asked = hits, []  # type: ignore[var-annotated]

    def search(self, question: str, filters: Filters = Filters(), k: int | None = None,
               refs: Sequence[ArticleRef] | None = None) -> list[Hit]:
        self.asked.append(question)
        return self.hits[: k or len(self.hits)]


class ScriptedLLM:
    """Streams a fixed reply, or raises LLMError when the reply is None."""

    def stream(self, question: str, language: str, items: Sequence[ContextItem],
               history: Sequence[Turn] = ()) -> Iterator[str]:
        if self.reply is None:
            raise LLMError("The model endpoint timed out after 60 s; try again or use extractive mode.")
        self.given = list(items)
        yield from (self.reply[i : i + 7] for i in range(0, len(self.reply), 7))

    def __init__(self, reply: str | None) -> None:  # noqa: D107
        self.reply, self.scopes = reply, []  # type: ignore[var-annotated]
        self.given: list[ContextItem] = []

    def condense(self, question: str, history: Sequence[Turn], scope: str = "") -> str:
        self.scopes.append(scope)
        return f"standalone: {question}"


def _hits() -> list[Hit]:
    out = []
    for i, (doc_id, text) in enumerate(PASSAGES):
        chunk = Chunk(chunk_id=f"c{i}", doc_id=doc_id, position=0, text=text, locator="")
        doc = DocMeta(doc_id=doc_id, source=f"corpus/{doc_id}.txt", title=f"Doc {doc_id}", language="en",
                      kind="press", url=f"https://example.org/{doc_id}")
        out.append(Hit(chunk=chunk, doc=doc, score=1.0 - i / 10, dense_score=0.9 - i / 10))
    return out


@pytest.fixture
def build(make_settings: Callable[..., Settings]) -> Callable[..., Assistant]:
    def make(llm: ScriptedLLM | None = None, **overrides: object) -> Assistant:
        settings = make_settings(**overrides)
        phrases = load_phrases(PROJECT_ROOT / "prompts")
        extractive = ExtractiveAnswerer(HashEmbedder(), phrases, Calibration(abstain_threshold=0.5))
        return Assistant(ListRetriever(_hits()), extractive, settings, phrases, llm=llm,
                         detect=lambda text: "fr" if "quand" in text.lower() else "en")
    return make


def test_llm_answer_is_verified_and_dangling_markers_dropped(build: Callable[..., Assistant]) -> None:
    reply = 'It enters into force "90 days after the 40th ratification" [1]. It was signed by 72 states [5].'
    answer = build(ScriptedLLM(reply)).answer("When does it enter into force?", mode="llm")
    assert answer.mode == "llm" and not answer.notice
    assert answer.answer == ('It enters into force "90 days after the 40th ratification" [1]. '
                             "It was signed by 72 states.")
    assert [(c.n, c.quote) for c in answer.citations] == [(1, "90 days after the 40th ratification")]


@pytest.mark.parametrize("reply", ["It enters into force soon [4].", None])
def test_llm_without_valid_citation_or_failing_falls_back(
    build: Callable[..., Assistant], reply: str | None
) -> None:
    answer = build(ScriptedLLM(reply)).answer("Quand entre-t-elle en vigueur ?", mode="llm")
    assert answer.mode == "extractive"
    assert answer.notice.startswith("La réponse du modèle")
    assert answer.citations and all(c.quote in PASSAGES[c.n - 1][1] for c in answer.citations)


def test_llm_mode_without_model_says_so(build: Callable[..., Assistant]) -> None:
    answer = build(None).answer("When does the convention enter into force?", mode="llm")
    assert answer.mode == "extractive" and "No language model" in answer.notice


def test_stream_order_and_tokens_rebuild_the_answer(build: Callable[..., Assistant]) -> None:
    events = list(build(None).stream("When does the convention enter into force?"))
    kinds = [e.kind for e in events]
    assert kinds[-2:] == ["citations", "final"] and set(kinds[:-2]) == {"token"} and len(kinds) > 3
    final = events[-1].answer
    assert final is not None and "".join(e.text for e in events[:-2]) == final.answer
    assert events[-2].citations == final.citations
    assert set(final.timings_ms) == {"condense", "retrieve", "answer", "total"}


@pytest.mark.parametrize("filters, message", [
    (Filters(kinds=("blog",)), "Unknown document kind blog"),
    (Filters(languages=("xx",)), "Unknown language filter xx"),
])
def test_unknown_filters_are_rejected(
    build: Callable[..., Assistant], filters: Filters, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        build(None).answer("What is it?", filters=filters)


def test_long_and_empty_questions_are_rejected(build: Callable[..., Assistant]) -> None:
    assistant = build(None, max_question_chars=20)
    with pytest.raises(InputError, match="more than the limit of 20"):
        assistant.answer("x" * 21)
    with pytest.raises(InputError, match="empty"):
        assistant.answer("   ")
    with pytest.raises(InputError, match="mode"):
        assistant.answer("ok?", mode="poetry")


def test_history_is_bounded_and_followup_condensed(build: Callable[..., Assistant]) -> None:
    assistant = build(ScriptedLLM("It has 68 articles [1]."), history_turns=2)
    history = [Turn("user", "When was the UN Convention signed in Hanoi?"), Turn("assistant", "In 2025 [1].")]
    answer = assistant.answer("and who signed it?", history=history)
    # a person asked of its own: the treaty of the earlier turn stays, its question about a date goes
    assert answer.standalone_question == "and who signed it? (the UN Convention against Cybercrime)"
    llm = assistant.llm
    answer = assistant.answer("and Article 17?", history=[Turn("user", "What does Article 16 of the Budapest "
                                                                 "Convention say?")], mode="llm")
    assert answer.standalone_question == "standalone: and Article 17?"
    # the model's rewrite is given the same scope the offline rewrite keeps
    assert llm.scopes[-1] == "the Budapest Convention, Article 17"  # type: ignore[union-attr]


def test_llm_gets_the_named_article_first(make_settings: Callable[..., Settings]) -> None:
    """LLM mode starts from the passages that answer: the named article's text first, renumbered from 1."""
    treaty = DocMeta(doc_id="t", source="corpus/coe_budapest_convention_ets185_en.txt",
                     title="Convention on Cybercrime (Budapest Convention)", language="en", kind="treaty")
    article = Hit(chunk=Chunk(chunk_id="a16", doc_id="t", position=22, article="16", locator="Article 16",
                              text="Each Party shall enable the expeditious preservation of stored data."),
                  doc=treaty, score=0.5, dense_score=0.6)
    hits = [*_hits(), article]
    llm = ScriptedLLM("It requires expeditious preservation [1].")
    phrases = load_phrases(PROJECT_ROOT / "prompts")
    extractive = ExtractiveAnswerer(HashEmbedder(), phrases, Calibration(abstain_threshold=0.5))
    assistant = Assistant(ListRetriever(hits), extractive, make_settings(), phrases, llm=llm)
    answer = assistant.answer("What does Article 16 of the Budapest Convention require?", mode="llm")
    assert llm.given[0].n == 1 and llm.given[0].hit.chunk.chunk_id == "a16"
    assert answer.mode == "llm" and answer.citations[0].chunk_id == "a16"


def test_answer_json_has_the_documented_fields(build: Callable[..., Assistant]) -> None:
    data = answer_json(build(None).answer("How many articles does the convention have?"))
    assert set(data) == {"question", "language", "answer", "abstained", "mode", "citations", "retrieved",
                         "timings_ms", "notice", "standalone_question"}
    assert set(data["citations"][0]) == {"n", "doc_id", "chunk_id", "source", "title", "language", "locator",
                                         "quote", "url", "outlet", "date", "kind"}
    assert data["retrieved"][0] == {"chunk_id": "c0", "score": 1.0}


@pytest.mark.parametrize("question, previous, expected", [
    ("And Article 17?", "What does Article 16 of the Budapest Convention require?",
     "What does Article 17 of the Budapest Convention require?"),
    ("et l'article 17 ?", "Que dit l'article 16 de la Convention de Budapest ?",
     "Que dit l'article 17 de la Convention de Budapest ?"),
    ("còn Điều 17 thì sao?", "Điều 16 của Công ước Budapest quy định gì?",
     "Điều 17 của Công ước Budapest quy định gì?"),
    ("and what does Article 17(2) add?", "What does Article 16 of the Budapest Convention say?",
     "and what does Article 17(2) add? What does Article 17(2) of the Budapest Convention say?"),
    ("what about the EU?", "Who signed the UN Convention in Hanoi?",
     "what about the EU? Who signed the UN Convention in Hanoi?"),
    ("Who signed the Budapest Convention first?", "When was the UN Convention signed?",
     "Who signed the Budapest Convention first?"),
])
def test_followup_keeps_treaty_article_and_topic(question: str, previous: str, expected: str) -> None:
    history = [Turn("user", previous), Turn("assistant", "An answer [1].")]
    assert resolve(question, history).standalone == expected


NAMES = {"uncc": "the UN Convention against Cybercrime", "budapest": "the Budapest Convention"}


@pytest.mark.parametrize("question, previous, expected", [
    # a date, a figure or a person asked of its own: the earlier treaty stays, the earlier question's words go
    ("Et quand entrera-t-elle en vigueur ?", "Combien de pays ont signé la Convention à Hanoï ?",
     "Et quand entrera-t-elle en vigueur ? (the UN Convention against Cybercrime)"),
    ("còn khi nào có hiệu lực?", "Bao nhiêu quốc gia đã ký Công ước Hà Nội?",
     "còn khi nào có hiệu lực? (the UN Convention against Cybercrime)"),
    # nothing of its own ("and when?"), or pointing back ("that definition"): the earlier question stays
    ("And when?", "How many countries signed the UN Convention?",
     "And when? How many countries signed the UN Convention?"),
    ("Who criticises that definition?", "How does the UN Convention define a serious crime?",
     "Who criticises that definition? How does the UN Convention define a serious crime?"),
    ("what about the EU?", "Who signed the UN Convention in Hanoi?",
     "what about the EU? Who signed the UN Convention in Hanoi?"),
])
def test_a_followup_asking_its_own_question_keeps_the_treaty_not_the_earlier_words(
        question: str, previous: str, expected: str) -> None:
    history = [Turn("user", previous), Turn("assistant", "An answer [1].")]
    assert resolve(question, history, NAMES).standalone == expected


def test_followup_state_is_typed() -> None:
    """The article in scope travels as data, with the treaty of the earlier turn; no string to parse back."""
    earlier = [Turn("user", "Que prévoit l'article 16 de la Convention de Budapest ?")]
    asked = resolve("Et l'article 17 ?", earlier)
    assert asked.is_followup and asked.original == "Et l'article 17 ?" and asked.treaty == "budapest"
    assert asked.refs == (ArticleRef("17", "", "budapest"),)
    # a follow-up without an article of its own keeps the earlier one in scope
    asked = resolve("and what does it require?", [Turn("user", "What does Article 16 of the Budapest "
                                                              "Convention say?")])
    assert asked.refs == (ArticleRef("16", "", "budapest"),)
    alone = resolve("Who signed the UN Convention?", [Turn("user", "What is Article 16 of Budapest?")])
    assert not alone.is_followup and alone.treaty == "uncc"


def test_is_followup() -> None:
    assert is_followup("and who signed it for Viet Nam?")
    assert not is_followup("How many states signed the UN Convention against Cybercrime in Hanoi in 2025?")


def test_phrases_are_complete_for_every_language(tmp_path: Path) -> None:
    phrases = load_phrases(PROJECT_ROOT / "prompts")
    assert set(phrases.table) >= {"en", "fr", "vi", "ar", "es", "ru", "zh"}
    (tmp_path / "extractive_phrases.json").write_text('{"en": {"lead_in": "x"}}', encoding="utf-8")
    from assistant.errors import PromptError
    with pytest.raises(PromptError, match="Missing phrases for 'en'.*conflict"):
        load_phrases(tmp_path)


def test_quantity_word_lists_are_validated(tmp_path: Path) -> None:
    from assistant.answering.phrases import load_quantities
    from assistant.errors import PromptError

    path = tmp_path / "quantities.json"
    for body, error in [
        ('{"articles": {"asked": ["articles?"]}}', "Missing key 'counted' of quantity 'articles' in "),
        ('{"articles": {"asked": ["x"], "counted": "articles"}}', "The key 'counted' .* list of words"),
        ('{"articles": {"asked": ["x"], "counted": ["y"], "before": ["z"]}}', "Unknown key 'before'"),
        ('{"articles": {"asked": ["(x"], "counted": ["y"]}}', "no valid pattern"),
        ('["articles"]', "must map each quantity"),
        ("{", "Cannot read the quantity word lists"),
    ]:
        path.write_text(body, encoding="utf-8")
        with pytest.raises(PromptError, match=error) as caught:
            load_quantities(tmp_path)
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_extractive_lead_in_has_its_own_line(build: Callable[..., Assistant]) -> None:
    # the lead-in is in the question's language; the quotes below it are in the sources' languages
    # (the fake detector says "fr" for "quand"; the hashed-words embedder needs the passage's words)
    answer = build(None).answer("Quand: the Convention enters into force 90 days after ratification?")
    lead_in, _, quotes = answer.answer.partition("\n")
    assert lead_in == "D'après les documents :" and "[1]" in quotes


@pytest.mark.parametrize("question, sentence, holds", [
    ("How many articles does it have?", "It has 68 articles.", True),
    ("¿Cuántos artículos tiene la Convención?", "Seventy-two states signed.", True),
    ("How many states signed?", "Viet Nam hosted the ceremony.", False),
    ("Quand la Convention entre-t-elle en vigueur ?", "90 days after the 40th ratification.", True),
    ("Khi nào Công ước có hiệu lực?", "Công ước được ký ngày 25 tháng 10.", True),
    ("When was it adopted?", "It was adopted by consensus.", False),
    # the number of a reference, a year, a date's day are no counts
    ("Combien d'États l'ont ratifié ?", "Le protocole (STCE n° 224) date du 17 novembre 2021.", False),
    ("How many states voted for resolution 74/247?", "Resolution 74/247 was adopted in 2019.", False),
    ("Bao nhiêu nước đã ký?", "Lễ ký diễn ra ngày 25 tháng 10 năm 2025 theo Điều 64.", False),
    ("How many states signed?", "72 countries signed, 64 of them on 25 October.", True),
    ("Combien d'États l'ont ratifié ?", "Elle est fondée sur l'article 82, paragraphe 1, du TFUE.", False),
    # "when" wants a date, not a duration nor a word that begins like a month; "how long" takes a duration
    ("When was it signed?", "72 countries signed during the two-day event.", False),
    ("When was it signed?", "Ambassador Marc Knapper would attend the signing in December.", True),
    ("When was it signed?", "Ambassador Marc Knapper would declare that he may attend the signing.", False),
    ("How long may the data be preserved?", "Up to a maximum of ninety days.", True),
    ("Combien de temps dure la conservation ?", "Pendant 90 jours au plus.", True),
    # a cost wants a sum of money, not any figure
    ("¿Cuánto costó organizar la ceremonia?", "72 países firmaron en dos días.", False),
    ("How much did the ceremony cost?", "The host spent USD 2 million on it.", True),
    ("Lễ ký tốn bao nhiêu kinh phí?", "Kinh phí tổ chức là 50 tỷ đồng.", True),
    # what a treaty is for wants an aim, not its size
    ("À quoi sert la convention de l'ONU ?", "Composée de neuf chapitres et 71 articles.", False),
    ("À quoi sert la convention de l'ONU ?", "Elle propose une approche pour prévenir la fraude.", True),
    ("Công ước Hà Nội nhằm mục đích gì?", "Công ước nhằm phòng ngừa và chống tội phạm mạng.", True),
    ("What is the recipe for pho?", "The Convention has 68 articles.", None),
])
def test_answer_cue(question: str, sentence: str, holds: bool | None) -> None:
    cue = answer_cue(question)
    if holds is None:  # the question asks for no kind of fact
        assert cue is None
        return
    assert cue is not None and bool(cue.search(sentence)) is holds


def test_answer_cue_reads_the_users_words_of_a_followup() -> None:
    assert answer_cue("Who signed it?") is not None
    asked = resolve("and who signed it?", [Turn("user", "When was the UN Convention signed?")])
    assert asked.original == "and who signed it?" and answer_cue(asked.original) is answer_cue("who signed?")
    assert answer_cue("Did Canada sign?") is None  # "can" inside "Canada" asks nothing


@pytest.mark.parametrize("question, sentence, holds", [
    ("Who signed for Viet Nam?", "Đại tướng Lương Tam Quang, Bộ trưởng Bộ Công an, ký thay mặt.", True),
    ("Who signed for Viet Nam?", "He presented Viet Nam as the Convention's first signatory.", False),
    ("What is a serious crime?", "'Serious crime' means conduct punishable by at least four years.", True),
    ("May a Party refuse assistance?", "A Party may refuse assistance if the request concerns a political "
                                       "offence.", True),
])
def test_cues_of_what_the_question_asks(question: str, sentence: str, holds: bool) -> None:
    cue = answer_cue(question)
    assert cue is not None and bool(cue.search(sentence)) is holds


def test_conflict_sides_are_the_figures_of_the_counted_act() -> None:
    """Attendance and "13 member States" are not counts of signatories; the figure nearest "signed" is."""
    from assistant.answering.citations import number_context
    from assistant.answering.conflict import all_sentences, conflict_sides
    from assistant.answering.phrases import load_quantities

    items = number_context([
        _press_hit("en", "a", "Representatives of more than 100 countries attended and 65 countries "
                              "signed it."),
        _press_hit("en", "b", "The EU signed together with 13 member States."),
        _press_hit("en", "c", "In all, 72 countries signed it over two days."),
        _press_hit("en", "d", "Sources expected about 36 countries to sign in Hanoi."),  # a forecast
    ])
    quantities = load_quantities(PROJECT_ROOT / "prompts")
    sides = conflict_sides("How many countries signed the Convention?", [], all_sentences(items), quantities)
    assert [value for value, _ in sides] == ["65 countries", "72 countries"]


@pytest.mark.parametrize("question, counts", [
    ("How many countries signed the Convention?", True),
    ("Có bao nhiêu quốc gia đã ký Công ước Hà Nội?", True),
    ("How many delegates attended the signing ceremony?", False),  # no counted noun: any figure will do
    ("Who signed for Viet Nam?", False),
])
def test_a_question_asks_for_a_known_count_only_when_it_names_the_act_and_the_noun(
        question: str, counts: bool) -> None:
    from assistant.answering.phrases import load_quantities

    signatories = next(q for q in load_quantities(PROJECT_ROOT / "prompts") if q.name == "signatories")
    assert signatories.counts(question) is counts


@pytest.mark.parametrize("sentence, reports", [
    ("72 countries signed over the two days.", True),
    ("Công ước được 72 nước ký trong hai ngày.", True),
    ("Sources expected about 30-36 countries to sign in Hanoi.", False),
    ("Dự kiến khoảng 60 nước sẽ ký.", False),
])
def test_a_forecast_reports_no_count(sentence: str, reports: bool) -> None:
    from assistant.answering.phrases import load_quantities

    signatories = next(q for q in load_quantities(PROJECT_ROOT / "prompts") if q.name == "signatories")
    assert bool(signatories.reported.search(sentence)) is reports


def test_a_count_of_signatories_is_not_answered_by_a_count_of_articles(
        make_settings: Callable[..., Settings]) -> None:
    """"9 chapters, 71 articles" carries a figure, not the figure asked for: the count of countries leads."""
    from assistant.answering.citations import number_context
    from assistant.answering.phrases import load_quantities

    question = "Có bao nhiêu quốc gia đã ký Công ước Hà Nội?"
    items = number_context([
        _press_hit("vi", "a", "Công ước Hà Nội gồm 9 chương, 71 điều, là kết quả của gần 5 năm "
                              "thương lượng."),
        _press_hit("vi", "b", "Công ước được 72 nước ký trong hai ngày, 64 nước ký ngay trong phiên chính."),
    ])
    answerer = ExtractiveAnswerer(HashEmbedder(), load_phrases(PROJECT_ROOT / "prompts"),
                                  Calibration(abstain_threshold=0.0, sentence_margin=2.0),
                                  quantities=load_quantities(PROJECT_ROOT / "prompts"))
    draft = answerer.answer(question, "vi", items)
    assert not draft.abstained
    assert draft.text.splitlines()[1].startswith("Công ước được 72 nước ký")


@pytest.mark.parametrize("sentence", [
    "Tổng Thư ký Liên Hợp Quốc: Công ước Hà Nội là trụ cột giúp thiết lập lại công lý số- Ảnh 5.",
    "Tường thuật phiên ký sáng 25/10/2025.",
    "It explains the general provisions chapter.",
])
def test_captions_headings_and_descriptions_are_meta(sentence: str) -> None:
    from assistant.answering.cues import META

    assert META.search(sentence)


@pytest.mark.parametrize("sentence", [
    "Hình phạt tù tối thiểu là bốn năm.",
    "Ảnh hưởng của Công ước đến quyền riêng tư là lớn.",
    "The photo shows the delegates.",
])
def test_sentences_that_say_something_are_not_meta(sentence: str) -> None:
    from assistant.answering.cues import META

    assert not META.search(sentence)


@pytest.mark.parametrize("question, sentence, holds", [
    ("When does the UN Convention enter into force?", "It was adopted on 24 December 2024.", False),
    ("When does the UN Convention enter into force?", "It enters into force on the ninetieth day after the "
                                                      "fortieth ratification.", True),
    ("Quand entrera-t-elle en vigueur ?", "Il entrera en vigueur 90 jours après le 40e instrument.", True),
    ("Công ước được thông qua khi nào?", "Công ước có hiệu lực sau 90 ngày.", False),
    ("Khi nào Công ước có hiệu lực?", "Công ước có hiệu lực vào ngày thứ chín mươi sau khi văn kiện thứ bốn "
                                     "mươi được nộp.", True),
    ("Khi nào Công ước có hiệu lực?", "Công ước có hiệu lực sau 90 ngày kể từ khi nộp văn kiện.", True),
])
def test_a_when_question_about_an_act_wants_the_date_of_that_act(question: str, sentence: str,
                                                                  holds: bool) -> None:
    from assistant.answering.cues import event_date

    cue = event_date(question)
    assert cue is not None and bool(cue.search(sentence)) is holds


def test_a_sentence_about_another_treaty_does_not_lead() -> None:
    """Budapest's entry into force answers no question on the UN Convention's."""
    from assistant.answering.citations import number_context

    question = "Quand la Convention des Nations Unies entre-t-elle en vigueur ?"
    items = number_context([
        _press_hit("fr", "a", "La Convention de Budapest est entrée en vigueur le 1er juillet 2004."),
        _press_hit("fr", "b", "Elle entrera en vigueur 90 jours après le 40e instrument, selon les "
                              "Nations Unies."),
    ])
    answerer = ExtractiveAnswerer(HashEmbedder(), load_phrases(PROJECT_ROOT / "prompts"),
                                  Calibration(abstain_threshold=0.0, sentence_margin=2.0))
    draft = answerer.answer(question, "fr", items)
    assert draft.text.splitlines()[1].startswith("Elle entrera en vigueur 90 jours")
    assert "Budapest" not in draft.text


def _press_hit(language: str, doc_id: str, text: str) -> Hit:
    """A retrieved press passage of one chunk, close to the question (dense score 0.9)."""
    doc = DocMeta(doc_id=doc_id, source=f"{doc_id}.txt", title=doc_id, language=language, kind="press")
    return Hit(chunk=Chunk(chunk_id=doc_id, doc_id=doc_id, position=0, text=text), doc=doc, score=1.0,
               dense_score=0.9)


@pytest.mark.parametrize("question, outlet, title, named", [
    ("What are Human Rights Watch's main criticisms?", "Human Rights Watch (reprinted)", "A treaty", True),
    ("¿Por qué critica HRW la Convención?", "Coalition statement (HRW, Access Now, EFF et al.)", "x", True),
    ("Why did EFF urge governments not to sign?", "Electronic Frontier Foundation (Deeplinks)", "x", True),
    ("Combien d'heures selon Ghada Waly ?", "UNODC", "Remarks by Ghada Waly at the signing", True),
    # the treaty, the UN and the host country are every document's topic, nobody's authorship
    ("What does the UN Convention say?", "UN News", "The UN Convention", False),
    ("Who signed for Viet Nam?", "Viet Nam News", "Viet Nam signs", False),
    ("Did Canada sign?", "Canada Gazette", "Canada", False),  # a lone word is an author only as an acronym
])
def test_a_document_by_whom_the_question_names(question: str, outlet: str, title: str, named: bool) -> None:
    from assistant.answering.authors import author_names, by_named_author

    doc = DocMeta(doc_id="d", source="s", title=title, language="en", kind="press", outlet=outlet)
    assert by_named_author(author_names(question), doc) is named


@pytest.mark.parametrize("question, sentence, holds", [
    ("Dân số Hà Nội là bao nhiêu?", "Công ước Hà Nội gồm 9 chương, 71 điều.", False),
    ("Bao nhiêu đại biểu đã tham dự?", "Hơn 2.000 đại biểu từ khoảng 110 quốc gia tham dự.", True),
    ("How many hours of formal negotiations were there?", "More than 420 hours of formal talks.", True),
    ("Combien d'États ont ratifié le protocole ?", "Fondée sur l'article 82, paragraphe 1, du TFUE.", False),
    # nouns counted alike: a question on countries takes States
    ("How many countries signed?", "72 States signed in Hanoi.", True),
])
def test_a_how_many_question_wants_a_figure_of_what_it_counts(question: str, sentence: str,
                                                               holds: bool) -> None:
    from assistant.answering.conflict import quantity
    from assistant.answering.cues import counted_noun

    countries = quantity("signatories", ["sign"], ["countries", "states", "pays", "États"])
    cue = counted_noun(question, [countries.counted])
    assert cue is not None and bool(cue.search(sentence)) is holds


def test_how_many_people_counts_anyone() -> None:
    from assistant.answering.cues import counted_noun

    assert counted_noun("How many people were victims in 2023?") is None


@pytest.mark.parametrize("question, noun", [
    ("What is the population of Hanoi?", "population"),
    ("Quel était le thème de la cérémonie ?", "thème"),
    ("Chủ đề của Lễ mở ký Công ước Hà Nội là gì?", "Chủ đề"),
    ("¿Cuál es el presupuesto de la ONUDC?", "presupuesto"),
    # said in other words than its name ("HRW argues..."), or no attribute asked
    ("What is the position of Human Rights Watch on the Convention?", None),
    ("What does Article 16 require?", None),
])
def test_the_attribute_a_question_asks(question: str, noun: str | None) -> None:
    from assistant.answering.cues import attribute_asked, attribute_noun

    assert attribute_noun(question) == noun
    if noun is not None:
        cue = attribute_asked(question)
        assert cue is not None and cue.search(f"It gives the {noun.lower()} of the event.")
