"""Dates in free text, in the assistant's languages, as ISO (YYYY, YYYY-MM or YYYY-MM-DD)."""

from __future__ import annotations

import re
from datetime import date

# Month names per language, January to December; a name in two languages must mean the same month.
_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "jan feb mar apr may jun jul aug sep oct nov dec",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
    "janv févr mars avr mai juin juil août sept oct nov déc",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "ene feb mar abr may jun jul ago sep oct nov dic",
    # Russian: genitive (the form dates use), then nominative
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь",
    # Arabic: Egyptian and Gulf names, with hamza and without, then the Levantine ones
    "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر",
    "يناير فبراير مارس ابريل مايو يونيه يوليه اغسطس سبتمبر اكتوبر نوفمبر ديسمبر",
    "كانون_الثاني شباط آذار نيسان أيار حزيران تموز آب أيلول تشرين_الأول تشرين_الثاني كانون_الأول",
)


def _months() -> dict[str, int]:
    months: dict[str, int] = {}
    for names in _MONTH_NAMES:
        for number, name in enumerate(names.split(), start=1):
            if months.setdefault(name.replace("_", " "), number) != number:
                raise ValueError(f"the month name {name!r} stands for two months")
    return months


_MONTHS = _months()
_YEAR = r"((?:19|20)\d\d)"
# a month name: a word, or the two-word Levantine names ("كانون الأول")
_MONTH = r"([^\W\d_]+(?: (?:الثاني|الأول))?)"
_ISO_DATE = re.compile(r"\b((?:19|20)\d\d)(?:-(\d\d)(?:-(\d\d))?)?(?!\d)")
# "23 November 2001", "1er décembre 2026", "1 de diciembre de 2026", "1 декабря 2026 г.", "26 ديسمبر 2025"
_DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}})(?:er|º|°)?\.?\s+(?:de\s+)?{_MONTH}\.?,?\s+(?:de\s+|del\s+)?{_YEAR}\b"
)
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\.?\s+(\d{{1,2}}),?\s+{_YEAR}\b")
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\.?\s+(?:de\s+)?{_YEAR}\b")
_NUMERIC_DMY = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-]((?:19|20)\d\d)\b")
# "1 tháng 12 năm 2026", "ngày 1 tháng 12, 2026", "tháng 12 năm 2026", "tháng 12/2026"
_VI_DATE = re.compile(rf"\b(?:(\d{{1,2}})\s+)?tháng\s+(\d{{1,2}})(?:\s*,|\s+năm|\s*/)\s*{_YEAR}\b", re.I)
# "2026年12月1日", "2026 年 12 月"
_CJK_DATE = re.compile(rf"{_YEAR}\s*年\s*(\d{{1,2}})\s*月(?:\s*(\d{{1,2}})\s*日)?")
# Arabic-Indic and Persian digits read as ASCII ones (same length: match positions are unchanged)
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


def _iso(year: str, month: int, day: int | None = None) -> str | None:
    """YYYY-MM or YYYY-MM-DD, or None when no calendar has that day ("31 February")."""
    try:
        date(int(year), month, day or 1)
    except ValueError:
        return None
    return f"{year}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def _candidates(value: str) -> list[tuple[int, str | None]]:
    """(position, ISO date or None) for every date form found in `value`."""
    found: list[tuple[int, str | None]] = []
    for m in _ISO_DATE.finditer(value):
        found.append((m.start(), "-".join(g for g in m.groups() if g)))
    for m in _DAY_MONTH_YEAR.finditer(value):
        month = _MONTHS.get(m.group(2).lower())
        found.append((m.start(), _iso(m.group(3), month, int(m.group(1))) if month else None))
    for m in _MONTH_DAY_YEAR.finditer(value):
        month = _MONTHS.get(m.group(1).lower())
        found.append((m.start(), _iso(m.group(3), month, int(m.group(2))) if month else None))
    for m in _MONTH_YEAR.finditer(value):
        month = _MONTHS.get(m.group(1).lower())
        found.append((m.start(), _iso(m.group(2), month) if month else None))
    for m in _NUMERIC_DMY.finditer(value):
        found.append((m.start(), _iso(m.group(3), int(m.group(2)), int(m.group(1)))))
    for m in _VI_DATE.finditer(value):
        day = int(m.group(1)) if m.group(1) else None
        found.append((m.start(), _iso(m.group(3), int(m.group(2)), day)))
    for m in _CJK_DATE.finditer(value):
        day = int(m.group(3)) if m.group(3) else None
        found.append((m.start(), _iso(m.group(1), int(m.group(2)), day)))
    return found


def normalize_date(value: str) -> str:
    """An ISO date (YYYY, YYYY-MM or YYYY-MM-DD) from free text such as '23 November 2001',
    '1er décembre 2026', '1 tháng 12 năm 2026', '26 ديسمبر 2025' or '2026年12月1日'; '' if none."""
    value = value.translate(_DIGITS)
    # the earliest date mentioned is the document's ("2025 (before ... 17 July 2025)" is 2025);
    # at the same position the more precise form wins
    candidates = [(at, iso) for at, iso in _candidates(value) if iso]
    if not candidates:
        return ""
    return min(candidates, key=lambda c: (c[0], -len(c[1])))[1]
