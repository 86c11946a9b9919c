"""The words Quire adds, in the book's language: pandoc's translations, then Quire's catalog."""

from __future__ import annotations

import pytest

from quire.language.words import CATALOG, candidates, words_for


@pytest.mark.parametrize(
    ("lang", "contents", "chapter", "notes"),
    [
        ("ru", "Содержание", "Глава 3", "Примечания"),
        ("uk", "Зміст", "Розділ 3", "Примітки"),
        ("zh", "目录", "第3章", "注释"),
        ("zh-TW", "目錄", "第3章", "註釋"),
        ("ja", "目次", "第3章", "注"),
        ("ko", "차례", "제3장", "주"),
        ("de", "Inhaltsverzeichnis", "Kapitel 3", "Anmerkungen"),
        ("fr", "Table des matières", "Chapitre 3", "Notes"),
        ("es", "Índice", "Capítulo 3", "Notas"),
        ("ar", "المحتويات", "باب 3", "الحواشي"),
        ("he", "תוכן העניינים", "פרק 3", "הערות"),
        ("en-GB", "Contents", "Chapter 3", "Notes"),
    ],
)
def test_generated_words_are_in_the_books_language(lang, contents, chapter, notes):
    words = words_for(lang)
    assert (words["Contents"], words.chapter(3), words["Notes"]) == (contents, chapter, notes)
    assert words.own


def test_a_regional_tag_falls_back_to_its_language_then_english():
    assert candidates("pt-BR") == ["pt-BR", "pt", "en"]
    brazil = words_for("pt-BR")
    assert brazil.download("EPUB") == "Baixar o EPUB"  # pt-BR's own word
    assert brazil["Previous"] == "Anterior"  # from pt
    assert words_for("de-AT")["Chapter"] == "Kapitel"


def test_a_language_without_entries_keeps_english_and_says_so():
    words = words_for("tlh")
    assert words["Contents"] == "Contents" and words.chapter(2) == "Chapter 2"
    assert not words.own


def test_every_catalog_language_has_every_word():
    english = set(CATALOG["en"])
    for lang, entries in CATALOG.items():
        if "-" not in lang or lang.startswith("zh"):
            assert set(entries) == english, lang


@pytest.mark.expect_warnings
def test_a_language_missing_some_words_says_which_stay_english(caplog):
    from quire.language.words import book_words
    from quire.load.config import BookConfig

    italian = book_words(BookConfig(lang="it"))  # pandoc's and Pagefind's words, not Quire's
    assert italian["Contents"] == "Indice" and italian["Search"] != "Search"
    assert italian["CloseNote"] == "Close note" and "CloseNote" in italian.english
    assert "Quire lacks" in caplog.text and "Close note" in caplog.text
    caplog.clear()
    assert not book_words(BookConfig(lang="ru")).english
    assert "Quire" not in caplog.text
