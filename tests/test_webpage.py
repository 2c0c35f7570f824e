"""Press pages ingested by URL from a real HTTP server on loopback: the article kept, the boilerplate out,
title, date (ISO, from meta tags or a dateline in the page's language) and outlet right; the whole-page
extractor when trafilatura finds no story."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loopback import Routes, serve_routes

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.types import Document
from ingest.dates import normalize_date
from ingest.loaders import SourceRef, load

PAGES = Path(__file__).resolve().parent / "pages"
SettingsFactory = Callable[..., Settings]


def _french_page_in_cp1252() -> bytes:
    """The French page as an older site serves it: windows-1252, said only by its <meta>."""
    html = (PAGES / "fr_courrier_mekong.html").read_text(encoding="utf-8")
    return html.replace('<meta charset="utf-8">', '<meta charset="windows-1252">').encode("cp1252")


class _Pages(Routes):
    pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """A news site on 127.0.0.1: the pages in tests/pages, served as real sites serve them."""
    utf8 = "text/html; charset=utf-8"
    _Pages.routes = {
        "/world/un-treaty-hanoi": (200, utf8, (PAGES / "en_harbour_times.html").read_bytes()),
        "/numerique/convention-onu": (200, "text/html", _french_page_in_cp1252()),
        "/phap-luat/phe-chuan-cong-uoc.html": (200, "text/html", (PAGES / "vi_tin_ha_noi.html").read_bytes()),
        "/tech/uae-convention": (200, utf8, (PAGES / "ar_akhbar_alkhalij.html").read_bytes()),
        "/pictures/signing-day": (200, utf8, (PAGES / "en_photo_story.html").read_bytes()),
        # the same page without its headline: trafilatura finds nothing at all
        "/pictures/captions": (200, utf8, re.sub(rb"<h1>.*?</h1>", b"",
                                                 (PAGES / "en_photo_story.html").read_bytes())),
        # compressed bytes without Content-Encoding: never unpacked past the size limit
        "/bomb.html": (200, "text/html", gzip.compress(b"<p>" + b"inflated " * 2_000_000 + b"</p>")),
    }
    with serve_routes(_Pages) as url:
        yield url


def _load(site: str, path: str, make_settings: SettingsFactory) -> Document:
    url = site + path
    return load(SourceRef(url, url), make_settings())


def _absent(text: str, *phrases: str) -> list[str]:
    """The phrases that are (wrongly) in the text."""
    return [p for p in phrases if p in text]


def test_english_article_with_meta_tags(site: str, make_settings: SettingsFactory) -> None:
    doc = _load(site, "/world/un-treaty-hanoi", make_settings)
    meta = doc.meta
    assert (meta.title, meta.outlet, meta.date, meta.language, meta.kind) == (
        "UN cybercrime treaty opens for signature in Hanoi", "Harbour Times", "2025-10-25", "en", "press")
    assert meta.url == site + "/world/un-treaty-hanoi" and meta.extra == ()  # the date was ISO already
    assert doc.text.startswith("UN cybercrime treaty opens for signature in Hanoi\n\nSeventy-two states")
    assert "ninety days after the fortieth instrument of ratification" in doc.text
    assert not _absent(doc.text, "cookies", "Accept all", "Subscribe for $1", "Business", "› World",
                       "Related stories", "Vietnam prepares", "reader42", "ransomware gangs", "Most read",
                       "All rights reserved", "Privacy policy", "morning briefing", "Share on X",
                       "Jane Marlow")


def test_french_article_dated_only_in_its_byline(site: str, make_settings: SettingsFactory) -> None:
    doc = _load(site, "/numerique/convention-onu", make_settings)
    meta = doc.meta
    assert (meta.title, meta.outlet, meta.date, meta.language) == (
        "Cybercriminalité : la convention de l'ONU divise les défenseurs des libertés",
        "Le Courrier du Mékong", "2026-12-01", "fr")
    # the dateline's wording is kept beside the ISO date, as for a corpus header's date
    assert dict(meta.extra)["DATE"].startswith("Par Claire Dubois — Publié le 1er décembre 2026")
    assert doc.text.startswith("Un an après sa signature à Hanoï")
    assert "« Nous avons besoin d'outils communs, mais pas au prix des libertés », résume" in doc.text
    assert not _absent(doc.text, "Publié le", "cookies", "Je m'abonne", "Publicité", "Partager",
                       "À lire aussi", "vingt-cinq ans", "Marc_75", "surveiller les journalistes",
                       "Mentions légales", "Tous droits réservés")


def test_vietnamese_article_with_comments_and_a_text_date(site: str, make_settings: SettingsFactory) -> None:
    doc = _load(site, "/phap-luat/phe-chuan-cong-uoc.html", make_settings)
    meta = doc.meta
    assert (meta.title, meta.outlet, meta.date, meta.language) == (
        "Việt Nam hoàn tất thủ tục phê chuẩn Công ước Hà Nội", "Báo Tin Hà Nội", "2026-12-01", "vi")
    assert dict(meta.extra)["DATE"] == "Thứ Ba, 1 tháng 12 năm 2026 - 08:30 (GMT+7)"
    assert doc.text.startswith("Quốc hội đã thông qua nghị quyết phê chuẩn Công ước")
    assert "sau chín mươi ngày kể từ ngày văn kiện phê chuẩn thứ bốn mươi" in doc.text
    # reader comments sit in a "box-comment" that trafilatura's own rules do not know
    assert not _absent(doc.text, "Rất cần thiết", "Mong sớm có hướng dẫn", "Ý kiến bạn đọc", "cookie",
                       "Thời sự", "Tin liên quan", "Cảnh báo lừa đảo", "Từ khóa", "Giấy phép", "Minh Anh")


def test_arabic_article_with_arabic_indic_digits(site: str, make_settings: SettingsFactory) -> None:
    doc = _load(site, "/tech/uae-convention", make_settings)
    meta = doc.meta
    assert (meta.outlet, meta.date, meta.language) == ("أخبار الخليج اليوم", "2025-12-26", "ar")
    assert meta.title == "الإمارات تدرس الانضمام إلى اتفاقية الأمم المتحدة لمكافحة الجرائم الإلكترونية"
    assert "بعد تسعين يوما من إيداع الصك الأربعين للتصديق" in doc.text
    assert not _absent(doc.text, "ملفات تعريف الارتباط", "الرئيسية", "أخبار ذات صلة", "خطوة مهمة",
                       "جميع الحقوق محفوظة", "سارة المنصوري")


CAPTIONS = (
    "Delegates queue at the National Convention Centre before the first signatures of the UN Convention "
    "against Cybercrime on Saturday morning.\n\n"
    "The Secretary-General opens the ceremony; officials say seventy-two states signed over the two days."
    "\n\nRights groups hold a vigil outside the venue, warning that the treaty may be used against "
    "journalists."
)


@pytest.mark.parametrize(("path", "title", "text"), [
    # trafilatura finds the headline alone: its title stands
    ("/pictures/signing-day", "In pictures: signing day in Hanoi",
     "In pictures: signing day in Hanoi\n\n" + CAPTIONS),
    # trafilatura finds nothing at all: the page's <title>
    ("/pictures/captions", "In pictures: signing day in Hanoi | Harbour Times", CAPTIONS),
])
def test_photo_page_falls_back_to_the_whole_page(site: str, make_settings: SettingsFactory,
                                                 caplog: pytest.LogCaptureFixture, path: str, title: str,
                                                 text: str) -> None:
    """Its text is all in captions, so the whole-page extractor reads the page: still without navigation,
    banner, footer and the dateline, which gives the date."""
    with caplog.at_level("INFO", logger="ingest.webpage"):
        doc = _load(site, path, make_settings)
    assert "no main text found; reading the whole page" in caplog.text
    meta = doc.meta
    assert (meta.title, meta.outlet, meta.date, meta.kind) == (title, "Harbour Times", "2025-10-26", "press")
    assert doc.text == text


def test_compressed_bytes_are_refused_not_unpacked(site: str, make_settings: SettingsFactory) -> None:
    with pytest.raises(IngestError, match="binary content served as an HTML page") as info:
        _load(site, "/bomb.html", make_settings)
    assert str(info.value).startswith(site + "/bomb.html: ") and "\n" not in str(info.value)


@pytest.mark.parametrize(("written", "iso"), [
    ("Published 25 October 2025, 09:30", "2025-10-25"),
    ("Publié le 1er décembre 2026 à 10h15, mis à jour le 2 décembre 2026", "2026-12-01"),
    ("Thứ Ba, 1 tháng 12 năm 2026 - 08:30 (GMT+7)", "2026-12-01"),
    ("Cập nhật ngày 1 tháng 12, 2026", "2026-12-01"),
    ("tháng 12/2026", "2026-12"),
    ("نشر في: ٢٦ ديسمبر ٢٠٢٥ - ١٠:٣٠ ص", "2025-12-26"),
    ("26 ديسمبر 2025", "2025-12-26"),
    ("1 كانون الأول 2025", "2025-12-01"),
    ("Publicado el 1 de diciembre de 2026", "2026-12-01"),
    ("diciembre de 2026", "2026-12"),
    ("Опубликовано 1 декабря 2026 г., 10:15", "2026-12-01"),
    ("发布时间：2026年12月1日 10:15", "2026-12-01"),
    ("Dec. 1, 2026", "2026-12-01"),
    ("31 February 2026", "2026-02"),  # no such day: the month stands
    ("le 35 mars", ""),
])
def test_dates_in_every_language(written: str, iso: str) -> None:
    assert normalize_date(written) == iso
