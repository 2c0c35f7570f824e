"""What a question asks for (a figure, a date, a disputed quantity) and which sentences hold it."""

from __future__ import annotations

import re

# Quantities the sources disagree on, and how each language names the counted thing.
QUANTITIES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    # key: (question mentions it, a sentence states it: number then the noun)
    "articles": (
        re.compile(r"articles?|artículos?|điều|стат[ьеяий]|ماد|مواد|条", re.I),
        re.compile(r"(\d+)\s+(?:articles|artículos|điều(?: khoản)?|стат[ьеяий]+|مادة|条)", re.I),
    ),
    "signatories": (
        re.compile(r"sign|ký|firm|подпис|وقع|签", re.I),
        re.compile(
            r"((?:nearly|almost|more than|over|about|gần|hơn|khoảng|plus de|près de|presque|quelque)\s+)?"
            r"(\d+)\s+(?:\w+\s+)?(?:countries|states|nations|signatories|pays|États|quốc gia|nước|países)",
            re.I,
        ),
    ),
}

# Questions asking for a figure; a conflict is only worth showing for these.
HOW_MANY = re.compile(r"how many|how much|number of|combien|nombre de|bao nhiêu|mấy|cu[aá]nt[oa]s"
                      r"|n[uú]mero de|сколько|число|كم|عدد|多少|几", re.I)
# Questions asking for a date or a delay.
WHEN = re.compile(r"\bwhen\b|what date|which year|how long|\bquand\b|quelle date|quelle année"
                  r"|combien de temps|khi nào|bao giờ|ngày nào|năm nào|bao lâu|cu[aá]ndo|qu[eé] fecha"
                  r"|когда|какого числа|متى|何时|什么时候|哪一年|哪天|多久", re.I)
# A figure: digits or a number word (press and treaties spell out "ninety days", "seventy-two states").
FIGURE = re.compile(r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty"
                    r"|sixty|seventy|eighty|ninety|hundred|deux|trois|quatre|cinq|dix|vingt|trente"
                    r"|quarante|cinquante|soixante|cent|dos|tres|cuatro|cinco|diez|veinte|treinta"
                    r"|cuarenta|cincuenta|sesenta|setenta|ochenta|noventa|cien|bốn|mươi|mười|trăm)\b"
                    r"|[二三四五六七八九十百]", re.I)
# A date or a delay: a year, a month name, "day(s)" in our languages.
DATE = re.compile(r"\b(?:19|20)\d\d\b|\b\d{1,2}/\d{1,2}\b"
                  r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janv|févr|avr|mai|juil|août"
                  r"|déc|ene|abr|ago|dic)[a-zéû]*\b|tháng|ngày|\bdays?\b|\bjours?\b|\bdías?\b"
                  r"|январ|феврал|март|апрел|ма[яй]|июн|июл|август|сентябр|октябр|ноябр|декабр|дн[еяи]"
                  r"|يوم|أيام|\d+\s*[年月日天]", re.I)


def answer_cue(question: str) -> re.Pattern[str] | None:
    """The pattern a sentence answering `question` should contain (a date or a figure), or None."""
    if WHEN.search(question):
        return DATE
    if HOW_MANY.search(question):
        return FIGURE
    return None
