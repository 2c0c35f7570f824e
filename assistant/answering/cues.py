"""What a question asks for (a figure, a date, a person, a definition...) and which sentences hold it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.text.tokenizer import stem

# Questions asking for a figure; a conflict is only worth showing for these.
HOW_MANY = re.compile(r"how many|how much|number of|combien|nombre de|bao nhiêu|mấy|cu[aá]nt[oa]s"
                      r"|n[uú]mero de|сколько|число|كم|عدد|多少|几", re.I)
# Questions asking for a date or a delay; the second kind asks how long, and a delay answers it.
WHEN = re.compile(r"\bwhen\b|what date|which year|how long|\bquand\b|quelle date|quelle année"
                  r"|combien de temps|khi nào|bao giờ|ngày nào|năm nào|bao lâu|cu[aá]ndo|qu[eé] fecha"
                  r"|когда|какого числа|متى|何时|什么时候|哪一年|哪天|多久", re.I)
HOW_LONG = re.compile(r"how long|combien de temps|bao lâu|cu[aá]nto tiempo|сколько времени|多久|كم من الوقت"
                      r"|durée|duration|thời hạn", re.I)
# A figure: digits or a number word (press and treaties spell out "ninety days", "seventy-two states"); not
# the number of a reference ("STCE n° 224", "ETS 185", "Article 16", "resolution 74/247") nor a year ...
_REFERENCE = "".join(rf"(?<!{w} )" for w in ("n°", "no.", "ets", "stce", "article", "art.", "điều", "المادة",
                                             "tháng", "paragraph", "paragraphe", "para.", "khoản",
                                             "párrafo", "الفقرة", "chapter", "chapitre", "chương"))
_MONTHS = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
           r"|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|enero"
           r"|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)\b"
           r"|tháng|январ|феврал|март|апрел|ма[яй]|июн|июл|август|сентябр|октябр|ноябр|декабр")
# ... nor the day or month of a date ("17 November 2021", "1er décembre", "25 tháng 10")
FIGURE = re.compile(_REFERENCE + r"(?<![\d/.,°])(?!(?:19|20)\d\d(?!\d))\d+(?![\d/])"
                    r"(?!(?:er)?\s+(?:" + _MONTHS + r"))"
                    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty"
                    r"|sixty|seventy|eighty|ninety|hundred|deux|trois|quatre|cinq|dix|vingt|trente"
                    r"|quarante|cinquante|soixante|cent|dos|tres|cuatro|cinco|diez|veinte|treinta"
                    r"|cuarenta|cincuenta|sesenta|setenta|ochenta|noventa|cien|bốn|mươi|mười|trăm)\b"
                    r"|[二三四五六七八九十百]", re.I)
# A date: a year, a month name, a day of a month ("25/10"), a day counted from an event; and a delay
# ("days", "months" in our languages).
DATE = re.compile(r"\b(?:19|20)\d\d\b|\b\d{1,2}/\d{1,2}\b"
                  # subtle: a month's whole name, or its abbreviation next to a day ("Oct. 25", "3 déc."):
                  # "Marc", "declare" and "maintain" begin like months, and "may" is mostly a modal
                  r"|\b(?!may\b)" + _MONTHS + r"|\bmay\s+\d|\d\s+may\b"
                  r"|\b(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|janv|févr|avr|juil|déc)\.?\s*\d"
                  r"|\d\s*(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|janv|févr|avr|juil|déc)\b"
                  r"|ngày \d"
                  # ... or one said from another event ("on the ninetieth day after", "90 jours après")
                  r"|\b(?:days?|months?) (?:after|following|from)\b|\b(?:jours?|mois) (?:après|suivant)"
                  r"|\bd[ií]as? despu[eé]s|ngày thứ|ngày (?:sau|kể từ)|sau \d+ ngày|يوما? من|يوما? بعد"
                  r"|\d+\s*[年月日]", re.I)
# subtle: "during the two-day event" gives no date of signature; a delay answers only "how long"
DELAY = re.compile(DATE.pattern + r"|\bdays?\b|\bjours?\b|\bdías?\b|ngày|\bmonths?\b|\bmois\b|\bmes(?:es)?\b"
                   r"|\byears?\b|\bans?\b|\baños?\b|năm|дн[еяи]|месяц|يوم|أيام|شهر|\d+\s*天", re.I)
# Questions asking what something cost, and sentences that state a sum of money.
COST = re.compile(r"\bcost|\bbudget|\bprice|\bspen[dt]|\bfund(?:ing|ed)\b|\bcoût|\bcoûté|\bprix\b|chi phí"
                  r"|kinh phí|ngân sách|\btốn\b|\bcost[oó]|presupuesto|\bprecio|تكلف|ميزاني|стоим|бюджет"
                  r"|花费|预算",
                  re.I)
MONEY = re.compile(r"[$€£¥₫]|\b(?:USD|EUR|VND|CHF|GBP)\b|\b(?:dollars?|euros?|francs?|pounds|dólares|đồng"
                   r"|tỷ|triệu)\b|دولار|يورو|руб|доллар|евро|美元|欧元", re.I)


# Questions asking what a treaty is for, and sentences that state an aim ("to prevent and combat...").
# Words that name an aim, in a question ("what are its aims?") and in a sentence that states one.
_AIMS = (r"\bpurposes?\b|\baims?\b|\bgoals?\b|\bobjectives?\b|\bobjectifs?\b|mục đích|mục tiêu|\bnhằm\b"
         r"|propósito|\bobjetivos?\b|الغرض|أغراض|цел[ьи]|目的|宗旨")
PURPOSE_Q = re.compile(_AIMS + r"|what is .{1,40} for\s*\?|\bà quoi sert|\ble but\b|để làm gì|\bpara qué\b"
                       r"|\bfinalidad|هدف|أهداف|назначени", re.I)
PURPOSE = re.compile(_AIMS + r"|\bto (?:prevent|combat|promote|strengthen|facilitate|fight)\b"
                     r"|\bpour (?:but|objet)\b|\bvise à\b|\bvisant à\b"
                     r"|\b(?:prévenir|combattre|lutter|renforcer|promouvoir)\b"
                     r"|phòng ngừa|ngăn chặn|đấu tranh|tăng cường|thúc đẩy|prevenir|combatir"
                     r"|تهدف|منع|مكافحة|تعزيز", re.I)


# Capitalized pairs that name places, bodies and treaties, not people.
_NOT_PEOPLE = (r"(?:Viet Nam|Việt Nam|United|European|General Assembly|Human Rights|Council|Convention"
               r"|Security"
               r"|New York|Hanoi|Hà Nội|Budapest|Second Additional|Additional Protocol|Ad Hoc|Member States"
               r"|Nations Unies|Liên Hợp|Liên hợp|Công ước|Access Now|Electronic Frontier)\b")
# Questions asking for a person, and what a sentence naming one looks like: a title or office, or two
# capitalized words inside the sentence ("Lương Tam Quang", "Ghada Waly").
WHO = re.compile(r"^\s*(?:and\s+)?who\b|\bwho (?:signed|said|is|was|chairs|leads|heads)|\bqui\b|\bai\b"
                 r"|\bquién|\bкто\b|\bمن\b|谁", re.I)
PERSON = re.compile(
    r"\b(?:President|Prime Minister|Minister|Secretary[- ]General|Executive Director|Director|Ambassador"
    r"|Commissioner|Spokesperson|Deputy|Mr|Ms|Mrs|Dr|Chủ tịch|Thủ tướng|Bộ trưởng|Thứ trưởng|Tổng Thư ký"
    r"|Đại sứ|Đại tướng|ông|bà|président|présidente|ministre|secrétaire général|directeur|directrice"
    r"|ambassadeur|commissaire|M\.|Mme|presidente|ministro|ministra|secretario general)\b"
    r"|(?<=\w[ ,])(?!" + _NOT_PEOPLE + r")[A-ZĐ][\w'’-]+ [A-ZĐ][\w'’-]+|رئيس|وزير|الأمين العام",
)
# Questions asking what something is, and sentences that define.
# subtle: "what is the scope of...", "chủ đề của ... là gì" and "what are its criticisms" ask no definition
WHAT_IS = re.compile(r"\bwhat (?:is|are) (?:an?\b|meant by)|\bwhat does .{1,40} mean\b|\bdefine[sd]?\b"
                     r"|\bdefinition of\b|qu['’]est-ce qu['’](?:un|une|on)\b|que (?:signifie|désigne)"
                     r"|\bdéfini[tes]*\b|^(?!.*\bcủa\b).*\blà gì\b|định nghĩa|\bqué es (?:un|una)\b"
                     r"|\bdefinici[oó]n de\b|\bdefinid[oa]s?\b"
                     r"|что такое|ما المقصود|تعريف|什么是", re.I)
DEFINES = re.compile(r"\bmeans?\b|\bis defined\b|\brefers? to\b|\bdefin|désigne|s'entend|\bsignifie"
                     r"|được hiểu|có nghĩa|là\b|định nghĩa|se entiende|significa|يقصد|يعني|означает|是指",
                     re.I)
# Questions on what a text allows, requires or forbids, and sentences that state an obligation or a power.
MODAL_Q = re.compile(r"\b(?:may|must|can|shall)\b|\b(?:allow|require|oblige|permit|forbid|prohibit)\w*"
                     r"|\bpeut|\bdoi[tv]"
                     r"|autoris|oblig|interdi|\bcó được\b|\bphải\b|cho phép|cấm|bắt buộc|\bpuede|\bdebe"
                     r"|permit|prohib|может|должн|يجوز|يجب", re.I)
MODAL = re.compile(r"\b(?:shall|may|must|is required|are required|is entitled|may not|shall not)\b|\bpeut\b"
                   r"|\bdoi[tv]ent?\b|\bphải\b|\bđược\b|\bcó thể\b|\bpuede\b|\bdeberá\b|\bdebe\b"
                   r"|يجوز|يجب|تعتمد|على كل دولة|должн|может", re.I)
# A page's heading ("Tường thuật phiên ký..."), a photo caption ("...công lý số- Ảnh 5."): they say nothing.
CAPTION = re.compile(r"^\s*(?:tường thuật|toàn văn)\b|^\s*(?:photo|video|ảnh)\s*:"
                     r"|[-–—:]\s*(?:ảnh|hình|photo|image|video)\s*\d*\.?\s*$", re.I)
# Sentences that describe a document instead of saying what it says: never the lead when a text answers.
META = re.compile(
    r"^\s*(?:(?:it|this page|the page|the article|the statement|the report|the text|the post|the piece"
    r"|the letter|the story)\s+)?(?:explains|describes|summari[sz]es|lists|presents|outlines|reports|covers"
    r"|notes|introduces|recounts|quotes|argues|gives|sets out|details|cites|mentions|recalls)\b"
    r"|^\s*(?:(?:il|elle|l'article|la page|le texte|cet article|ce texte)\s+)?(?:explique|décrit|résume"
    r"|présente|rapporte|cite|évoque|mentionne|renvoie|rappelle)\b"
    r"|^\s*(?:bài(?: viết| báo)?|trang|văn bản)\s+(?:nêu|giới thiệu|trình bày|tóm tắt|mô tả|cho biết)"
    r"|" + CAPTION.pattern,
    re.I,
)


# The acts of a treaty's life a "when" question may ask the date of: a date of another act does not answer
# it ("adopted on 24 December 2024" answers no question on entry into force).
EVENTS = (
    re.compile(r"enter(?:s|ed|ing)? into force|entry into force|en vigueur|hiệu lực|en vigor|вступ\w* в силу"
               r"|حيز النفاذ|生效", re.I),
    re.compile(r"\badopt|adopté|adoptée|thông qua|\baprob|approuv|принят|اعتمد|通过", re.I),
    re.compile(r"ratif|phê chuẩn|ратиф|صدق|批准", re.I),
    re.compile(r"\bsign|signé|signat|\bký\b|ký kết|mở ký|\bfirm|подпис|وقع|签署", re.I),
)


# ... and a sentence that gives a date of that act
_EVENT_DATES = tuple((event, re.compile(rf"^(?=[\s\S]*(?:{event.pattern}))[\s\S]*?(?:{DATE.pattern})", re.I))
                     for event in EVENTS)


def event_date(question: str) -> re.Pattern[str] | None:
    """For "when was it adopted / will it enter into force", a date said of that act; else None."""
    if not WHEN.search(question) or HOW_LONG.search(question):
        return None
    return next((dated for event, dated in _EVENT_DATES if event.search(question)), None)


# The noun a "how many" question counts, after its asking words ("how many hours", "combien d'États", "bao
# nhiêu đại biểu"), or before them in Vietnamese ("Dân số Hà Nội là bao nhiêu?")
_COUNTED_NOUN = (
    re.compile(r"\bhow (?:many|much) (?!of\b|the\b)(\w+)", re.I),
    re.compile(r"\bcombien (?:de |d['’])(\w+)", re.I),
    re.compile(r"\bcu[aá]nt[oa]s? (\w+)", re.I),
    re.compile(r"\b(?:bao nhiêu|mấy) (\w+(?: \w+)?)", re.I),
    re.compile(r"^\s*(\w+ \w+)\b.*\blà bao nhiêu\s*\??\s*$", re.I),
)
# nouns that count anyone or anything: the figure's own noun ("2,500 delegates") says more
_ANYONE = frozenset({"people", "persons", "personnes", "gens", "người", "personas", "times", "fois", "lần",
                     "veces"})
_FIGURE_NEAR = 40  # characters between a figure and the noun it counts ("more than 420 hours of formal")


def counted_noun(question: str, synonyms: Sequence[re.Pattern[str]] = ()) -> re.Pattern[str] | None:
    """For "how many X", a sentence (in the question's language) that gives a figure near X; else None.

    `synonyms`: nouns counted alike ("countries", "States", "nations"): a question on one takes any.
    """
    noun = next((m.group(1) for p in _COUNTED_NOUN if (m := p.search(question))), None)
    if noun is None or noun.casefold() in _ANYONE:
        return None
    word = re.escape(stem(noun))
    same = next((p.pattern for p in synonyms if p.fullmatch(noun)), rf"\b{word}\w*")
    near = rf"[\s\S]{{0,{_FIGURE_NEAR}}}"
    return re.compile(rf"(?:{FIGURE.pattern}){near}(?:{same})|(?:{same}){near}(?:{FIGURE.pattern})", re.I)


# "What is the theme of...", "Quel est le thème de...": the attribute asked of something, which a sentence
# in the question's language names when it gives it ("on the theme...") and omits when it is about
# something else ("What is the population of Hanoi?" answered with "three clear messages")
_ATTRIBUTE = (
    re.compile(r"\bwhat(?: is|'s| was| are| were) (?:the|its|their) (\w+)(?: \w+)? (?:of|for|in|at|on)\b",
               re.I),
    re.compile(r"\bquel(?:le)?s? (?:est|était|sont|étaient|sera) (?:le |la |les |l['’])(\w+)", re.I),
    re.compile(r"\bcu[aá]l(?:es)? (?:es|era|fue|son) (?:el |la |los |las )(\w+)", re.I),
    re.compile(r"^\s*(\w+ \w+) (?:của|ở|tại) .*\blà gì\b", re.I),
)
# attributes said in other words than their name: "what is HRW's position?" is answered by "HRW argues..."
_SAID_OTHERWISE = frozenset({
    "position", "view", "views", "opinion", "stance", "role", "relationship", "difference", "purpose",
    "aim", "goal", "scope", "status", "significance", "importance", "impact", "effect", "content", "meaning",
    "reason", "response", "reaction", "answer", "point", "avis", "rôle", "différence", "objectif", "but",
    "portée", "contenu", "sens", "raison", "réponse", "réaction", "posición", "opinión", "papel",
    "diferencia", "objetivo", "contenido", "razón", "respuesta", "quan điểm", "vai trò", "nội dung",
    "ý nghĩa", "mục đích", "lý do", "phản ứng"})


def attribute_noun(question: str) -> str | None:
    """The attribute "what is the X of Y" asks of Y ("population", "thème", "chủ đề"); None when the
    question asks none, or one a sentence gives in other words ("position", "purpose")."""
    noun = next((m.group(1) for p in _ATTRIBUTE if (m := p.search(question))), None)
    return None if noun is None or noun.casefold() in _SAID_OTHERWISE else noun


def attribute_asked(question: str) -> re.Pattern[str] | None:
    """For "what is the X of Y", a sentence naming X (a sentence in the question's language); else None."""
    noun = attribute_noun(question)
    if noun is None:
        return None
    return re.compile(rf"\b{re.escape(stem(noun))}", re.I)


def answer_cue(question: str) -> re.Pattern[str] | None:
    """The pattern a sentence answering `question` should contain (a date, a figure, a person...), or None."""
    if COST.search(question):
        return MONEY
    if HOW_LONG.search(question):
        return DELAY
    if WHEN.search(question):
        return DATE
    if HOW_MANY.search(question):
        return FIGURE
    if WHO.search(question):
        return PERSON
    if PURPOSE_Q.search(question):
        return PURPOSE
    if WHAT_IS.search(question):
        return DEFINES
    if MODAL_Q.search(question):
        return MODAL
    return None
