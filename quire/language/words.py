"""The words Quire adds to a book (Contents, Chapter 3, Figure, Notes, Search…), in its language.

Pandoc ships translations of the words its own writers add (`translations/<lang>.yaml`, read
with `--print-default-data-file` from the pandoc that reads the book): they are the first
source. The words pandoc's writers never need (Notes, Close note, Download…) come from the
catalog below, for the languages of pandoc's translations that Quire can vouch for; the search
box's words (Search, "3 results", "Search failed") from Pagefind's own interface translations
(pagefind_words.py), which Pagefind's readers keep for 40-odd languages. A
language is looked up from the most to the least specific tag (`pt-BR`, then `pt`), then in
English; a language with no entry of its own is reported once, and its words stay English.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml

from quire.errors import BuildError, warn
from quire.language.pagefind_words import PAGEFIND_WORDS

if TYPE_CHECKING:
    from quire.load.config import BookConfig

# Pandoc names Chinese by script; a tag without one is read as the script its region writes.
CHINESE = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-tw": "zh-Hant",
           "zh-hk": "zh-Hant", "zh-mo": "zh-Hant"}  # fmt: skip
# The words the outputs use (pandoc's translations have more, for writers Quire has not).
PANDOC_USED = ("Contents", "Chapter", "Figure", "Table", "ListOfFigures", "ListOfTables",
               "Page", "Index")  # fmt: skip
# Pagefind names Chinese by region, as pandoc's file names do not.
PAGEFIND_TAGS = {"zh-Hans": "zh-cn", "zh-Hant": "zh-tw"}
# Languages whose chapter number goes inside a pattern rather than after the word.
CHAPTER_PATTERNS = {"zh": "第{n}{word}", "ja": "第{n}{word}", "ko": "제{n}{word}"}
# Likewise a page's number ("page 7", 第7页, 7頁).
PAGE_PATTERNS = {"zh": "第{n}{word}", "ja": "{n}{word}", "ko": "{n}{word}"}
# Words no pandoc writer adds, so its translations lack them: Quire's own catalog.
CATALOG: dict[str, dict[str, str]] = {
    "en": {"Notes": "Notes", "Note": "Note {n}", "Search": "Search", "Find": "Find",
           "CloseNote": "Close note", "Previous": "Previous", "Next": "Next",
           "Pager": "Previous and next", "Download": "Download the {name}",
           "Downloads": "Downloads", "PageCount": "{n} pages", "ReadHere": "Read it here",
           "SkipToText": "Skip to the text", "Cover": "Cover", "TitlePage": "Title page",
           "Landmarks": "Landmarks", "StartOfContent": "Start of content",
           "BackMatter": "Back matter", "PageList": "Pages", "Theme": "Theme", "Menu": "Menu",
           "PublishedBy": "Published by {name}", "EditedBy": "Edited by {name}",
           "TranslatedBy": "Translated by {name}", "IllustratedBy": "Illustrations by {name}",
           "PhotographsBy": "Photographs by {name}", "DesignedBy": "Designed by {name}",
           "ReadBy": "Read by {name}"},
    "ru": {"Notes": "Примечания", "Note": "Примечание {n}", "Search": "Поиск", "Find": "Найти",
           "CloseNote": "Закрыть примечание", "Previous": "Назад", "Next": "Далее",
           "Pager": "Назад и далее", "Download": "Скачать {name}",
           "Downloads": "Файлы для скачивания", "PageCount": "{n} с.",
           "ReadHere": "Читать здесь", "SkipToText": "Перейти к тексту", "Cover": "Обложка",
           "TitlePage": "Титульный лист", "Landmarks": "Ориентиры",
           "StartOfContent": "Начало текста", "BackMatter": "Заключительная часть",
           "PageList": "Страницы", "Theme": "Тема", "Menu": "Меню",
           "PublishedBy": "Издательство: {name}", "EditedBy": "Редактор: {name}",
           "TranslatedBy": "Перевод: {name}", "IllustratedBy": "Иллюстрации: {name}",
           "PhotographsBy": "Фотографии: {name}", "DesignedBy": "Оформление: {name}",
           "ReadBy": "Читает: {name}"},
    "uk": {"Notes": "Примітки", "Note": "Примітка {n}", "Search": "Пошук", "Find": "Знайти",
           "CloseNote": "Закрити примітку", "Previous": "Назад", "Next": "Далі",
           "Pager": "Назад і далі", "Download": "Завантажити {name}",
           "Downloads": "Файли для завантаження", "PageCount": "{n} с.",
           "ReadHere": "Читати тут", "SkipToText": "Перейти до тексту", "Cover": "Обкладинка",
           "TitlePage": "Титульна сторінка", "Landmarks": "Орієнтири",
           "StartOfContent": "Початок тексту", "BackMatter": "Заключна частина",
           "PageList": "Сторінки", "Theme": "Тема", "Menu": "Меню",
           "PublishedBy": "Видавництво: {name}", "EditedBy": "Редактор: {name}",
           "TranslatedBy": "Переклад: {name}", "IllustratedBy": "Ілюстрації: {name}",
           "PhotographsBy": "Фотографії: {name}", "DesignedBy": "Оформлення: {name}",
           "ReadBy": "Читає: {name}"},
    "de": {"Notes": "Anmerkungen", "Note": "Anmerkung {n}", "Search": "Suche", "Find": "Finden",
           "CloseNote": "Anmerkung schließen", "Previous": "Zurück", "Next": "Weiter",
           "Pager": "Zurück und weiter", "Download": "{name} herunterladen",
           "Downloads": "Downloads", "PageCount": "{n} Seiten", "ReadHere": "Hier lesen",
           "SkipToText": "Zum Text springen", "Cover": "Umschlag", "TitlePage": "Titelseite",
           "Landmarks": "Orientierungspunkte", "StartOfContent": "Beginn des Textes",
           "BackMatter": "Nachspann", "PageList": "Seiten", "Theme": "Design", "Menu": "Menü",
           "PublishedBy": "Verlag: {name}", "EditedBy": "Herausgegeben von {name}",
           "TranslatedBy": "Übersetzt von {name}", "IllustratedBy": "Illustrationen: {name}",
           "PhotographsBy": "Fotografien: {name}", "DesignedBy": "Gestaltung: {name}",
           "ReadBy": "Gelesen von {name}"},
    "fr": {"Notes": "Notes", "Note": "Note {n}", "Search": "Recherche", "Find": "Chercher",
           "CloseNote": "Fermer la note", "Previous": "Précédent", "Next": "Suivant",
           "Pager": "Précédent et suivant", "Download": "Télécharger le {name}",
           "Downloads": "Téléchargements", "PageCount": "{n} pages", "ReadHere": "Lire ici",
           "SkipToText": "Aller au texte", "Cover": "Couverture", "TitlePage": "Page de titre",
           "Landmarks": "Repères", "StartOfContent": "Début du texte",
           "BackMatter": "Pages de fin", "PageList": "Pages", "Theme": "Thème", "Menu": "Menu",
           "PublishedBy": "Publié par {name}", "EditedBy": "Sous la direction de {name}",
           "TranslatedBy": "Traduit par {name}", "IllustratedBy": "Illustrations : {name}",
           "PhotographsBy": "Photographies : {name}", "DesignedBy": "Conception : {name}",
           "ReadBy": "Lu par {name}"},
    "es": {"Notes": "Notas", "Note": "Nota {n}", "Search": "Búsqueda", "Find": "Buscar",
           "CloseNote": "Cerrar nota", "Previous": "Anterior", "Next": "Siguiente",
           "Pager": "Anterior y siguiente", "Download": "Descargar el {name}",
           "Downloads": "Descargas", "PageCount": "{n} páginas", "ReadHere": "Leer aquí",
           "SkipToText": "Ir al texto", "Cover": "Cubierta", "TitlePage": "Portada",
           "Landmarks": "Puntos de referencia", "StartOfContent": "Inicio del texto",
           "BackMatter": "Material final", "PageList": "Páginas", "Theme": "Tema",
           "Menu": "Menú",
           "PublishedBy": "Publicado por {name}", "EditedBy": "Edición de {name}",
           "TranslatedBy": "Traducción de {name}", "IllustratedBy": "Ilustraciones de {name}",
           "PhotographsBy": "Fotografías de {name}", "DesignedBy": "Diseño de {name}",
           "ReadBy": "Leído por {name}"},
    "pt": {"Notes": "Notas", "Note": "Nota {n}", "Search": "Pesquisa", "Find": "Procurar",
           "CloseNote": "Fechar nota", "Previous": "Anterior", "Next": "Seguinte",
           "Pager": "Anterior e seguinte", "Download": "Descarregar o {name}",
           "Downloads": "Transferências", "PageCount": "{n} páginas", "ReadHere": "Ler aqui",
           "SkipToText": "Ir para o texto", "Cover": "Capa", "TitlePage": "Folha de rosto",
           "Landmarks": "Pontos de referência", "StartOfContent": "Início do texto",
           "BackMatter": "Parte final", "PageList": "Páginas", "Theme": "Tema", "Menu": "Menu",
           "PublishedBy": "Publicado por {name}", "EditedBy": "Edição de {name}",
           "TranslatedBy": "Tradução de {name}", "IllustratedBy": "Ilustrações de {name}",
           "PhotographsBy": "Fotografias de {name}", "DesignedBy": "Design de {name}",
           "ReadBy": "Lido por {name}"},
    "pt-BR": {"Next": "Próximo", "Pager": "Anterior e próximo", "Download": "Baixar o {name}",
              "Downloads": "Downloads"},
    "zh-Hans": {"Notes": "注释", "Note": "注释 {n}", "Search": "搜索", "Find": "查找",
                "CloseNote": "关闭注释", "Previous": "上一章", "Next": "下一章",
                "Pager": "上一章和下一章", "Download": "下载 {name}", "Downloads": "下载",
                "PageCount": "{n} 页", "ReadHere": "在线阅读", "SkipToText": "跳到正文",
                "Cover": "封面", "TitlePage": "扉页", "Landmarks": "导航",
                "StartOfContent": "正文开始", "BackMatter": "书末部分", "PageList": "页码",
                "Theme": "主题", "Menu": "菜单",
                "PublishedBy": "出版：{name}", "EditedBy": "编辑：{name}", "TranslatedBy": "翻译：{name}",
                "IllustratedBy": "插图：{name}", "PhotographsBy": "摄影：{name}",
                "DesignedBy": "设计：{name}", "ReadBy": "朗读：{name}"},
    "zh-Hant": {"Notes": "註釋", "Note": "註釋 {n}", "Search": "搜尋", "Find": "尋找",
                "CloseNote": "關閉註釋", "Previous": "上一章", "Next": "下一章",
                "Pager": "上一章和下一章", "Download": "下載 {name}", "Downloads": "下載",
                "PageCount": "{n} 頁", "ReadHere": "線上閱讀", "SkipToText": "跳到正文",
                "Cover": "封面", "TitlePage": "扉頁", "Landmarks": "導覽",
                "StartOfContent": "正文開始", "BackMatter": "書末部分", "PageList": "頁碼",
                "Theme": "主題", "Menu": "選單",
                "PublishedBy": "出版：{name}", "EditedBy": "編輯：{name}", "TranslatedBy": "翻譯：{name}",
                "IllustratedBy": "插圖：{name}", "PhotographsBy": "攝影：{name}",
                "DesignedBy": "設計：{name}", "ReadBy": "朗讀：{name}"},
    "ja": {"Notes": "注", "Note": "注 {n}", "Search": "検索", "Find": "検索する",
           "CloseNote": "注を閉じる", "Previous": "前へ", "Next": "次へ", "Pager": "前へと次へ",
           "Download": "{name} をダウンロード", "Downloads": "ダウンロード",
           "PageCount": "{n} ページ", "ReadHere": "ここで読む", "SkipToText": "本文へ移動",
           "Cover": "表紙", "TitlePage": "扉", "Landmarks": "ランドマーク",
           "StartOfContent": "本文の開始", "BackMatter": "後付け", "PageList": "ページ",
           "Theme": "テーマ", "Menu": "メニュー",
           "PublishedBy": "発行：{name}", "EditedBy": "編集：{name}", "TranslatedBy": "翻訳：{name}",
           "IllustratedBy": "挿絵：{name}", "PhotographsBy": "写真：{name}",
           "DesignedBy": "デザイン：{name}", "ReadBy": "朗読：{name}"},
    "ko": {"Notes": "주", "Note": "주 {n}", "Search": "검색", "Find": "찾기", "CloseNote": "주 닫기",
           "Previous": "이전", "Next": "다음", "Pager": "이전과 다음",
           "Download": "{name} 내려받기", "Downloads": "내려받기", "PageCount": "{n}쪽",
           "ReadHere": "여기서 읽기", "SkipToText": "본문으로 건너뛰기", "Cover": "표지",
           "TitlePage": "속표지", "Landmarks": "랜드마크", "StartOfContent": "본문 시작",
           "BackMatter": "책 뒷부분", "PageList": "페이지", "Theme": "테마", "Menu": "메뉴",
           "PublishedBy": "펴낸곳: {name}", "EditedBy": "엮은이: {name}",
           "TranslatedBy": "옮긴이: {name}", "IllustratedBy": "그림: {name}",
           "PhotographsBy": "사진: {name}", "DesignedBy": "디자인: {name}", "ReadBy": "낭독: {name}"},
    "ar": {"Notes": "الحواشي", "Note": "الحاشية {n}", "Search": "بحث", "Find": "ابحث",
           "CloseNote": "إغلاق الحاشية", "Previous": "السابق", "Next": "التالي",
           "Pager": "السابق والتالي", "Download": "تنزيل {name}", "Downloads": "التنزيلات",
           "PageCount": "{n} صفحة", "ReadHere": "اقرأه هنا", "SkipToText": "انتقل إلى النص",
           "Cover": "الغلاف", "TitlePage": "صفحة العنوان", "Landmarks": "معالم",
           "StartOfContent": "بداية النص", "BackMatter": "الملحقات الختامية",
           "PageList": "الصفحات", "Theme": "السمة", "Menu": "القائمة",
           "PublishedBy": "نشر: {name}", "EditedBy": "تحرير: {name}",
           "TranslatedBy": "ترجمة: {name}", "IllustratedBy": "رسوم: {name}",
           "PhotographsBy": "تصوير: {name}", "DesignedBy": "تصميم: {name}",
           "ReadBy": "قراءة: {name}"},
    "he": {"Notes": "הערות", "Note": "הערה {n}", "Search": "חיפוש", "Find": "חפש",
           "CloseNote": "סגירת ההערה", "Previous": "הקודם", "Next": "הבא",
           "Pager": "הקודם והבא", "Download": "הורדת {name}", "Downloads": "הורדות",
           "PageCount": "{n} עמודים", "ReadHere": "קריאה כאן", "SkipToText": "דילוג לטקסט",
           "Cover": "כריכה", "TitlePage": "שער", "Landmarks": "ציוני דרך",
           "StartOfContent": "תחילת הטקסט", "BackMatter": "סוף הספר", "PageList": "עמודים",
           "Theme": "ערכת נושא", "Menu": "תפריט",
           "PublishedBy": "הוצאה לאור: {name}", "EditedBy": "עריכה: {name}",
           "TranslatedBy": "תרגום: {name}", "IllustratedBy": "איורים: {name}",
           "PhotographsBy": "צילומים: {name}", "DesignedBy": "עיצוב: {name}",
           "ReadBy": "קריאה: {name}"},
}  # fmt: skip
# Every word the outputs use, in the order a warning names them.
USED = (*PANDOC_USED, *CATALOG["en"], *PAGEFIND_WORDS["en"])


@dataclass(frozen=True)
class Words:
    """The generated words of one book: pandoc's translations, then Quire's catalog."""

    lang: str  # the book's language tag, as its settings give it
    terms: dict[str, str] = field(default_factory=dict)
    found: tuple[str, ...] = ()  # the tags whose entries were found, most specific first
    english: tuple[str, ...] = ()  # words Quire uses that the language lacks: English's stand

    def __getitem__(self, key: str) -> str:
        return self.terms[key]

    def chapter(self, number: int | str) -> str:
        """ "Chapter 3" as the language writes it (第3章, 제3장, Глава 3)."""
        pattern = CHAPTER_PATTERNS.get(_primary(self.lang), "{word} {n}")
        return pattern.format(word=self.terms["Chapter"], n=number)

    def page(self, number: int | str) -> str:
        """ "page 7" as the language writes it (第7页, 7頁, с. 7)."""
        pattern = PAGE_PATTERNS.get(_primary(self.lang), "{word} {n}")
        return pattern.format(word=self.terms["Page"], n=number)

    def download(self, name: str) -> str:
        """ "Download the EPUB" with the format's name in its place."""
        return self.terms["Download"].format(name=name)

    @property
    def own(self) -> bool:
        """True if the language has entries of its own (not only English's)."""
        return any(_primary(tag) != "en" for tag in self.found) or _primary(self.lang) == "en"


def _primary(tag: str) -> str:
    return tag.split("-")[0].lower()


def candidates(lang: str) -> list[str]:
    """The tags to look a language up by, most specific first, English last: pt-BR, pt, en."""
    parts = (lang or "en").replace("_", "-").split("-")
    tags = ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]
    chinese = [CHINESE[t.lower()] for t in tags if t.lower() in CHINESE]
    ordered = [*chinese[:1], *tags, "en"]
    return list(dict.fromkeys(t if "-" not in t else _case(t) for t in ordered))


def _case(tag: str) -> str:
    """pt-br → pt-BR, zh-hans → zh-Hans, as pandoc's file names are."""
    head, *rest = tag.split("-")
    return "-".join([head.lower(), *(p.upper() if len(p) == 2 else p.title() for p in rest)])


@functools.lru_cache(maxsize=16)
def pandoc_translations(tag: str) -> dict[str, str]:
    """Pandoc's translation of its writers' words into one language tag, or {} if none."""
    from quire.parse.pandoc import run_captured

    try:
        text, _ = run_captured(["--print-default-data-file", f"translations/{tag}.yaml"], "", None)
    except BuildError:
        return {}  # pandoc has no file for this tag
    data = yaml.safe_load(text)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


@functools.lru_cache(maxsize=16)
def words_for(lang: str) -> Words:
    """The generated words for a language: each looked up from its most specific tag down."""
    terms: dict[str, str] = {}
    found: list[str] = []
    english = set(USED)
    for tag in reversed(candidates(lang)):  # English first, the most specific last (it wins)
        pagefind = PAGEFIND_WORDS.get(PAGEFIND_TAGS.get(tag, tag.lower()), {})
        own = {**pandoc_translations(tag), **CATALOG.get(tag, {}), **pagefind}
        if own:
            found.insert(0, tag)
        terms.update(own)
        if _primary(tag) != "en" or _primary(lang or "en") == "en":
            english -= set(own)
    return Words(lang or "en", terms, tuple(found), tuple(k for k in USED if k in english))


def book_words(config: BookConfig) -> Words:
    """The book's generated words; a language without entries of its own is reported (once:
    the build's findings keep a warning once) and keeps English."""
    words = words_for(config.lang or "en")
    if not words.own:
        message = (
            f"Quire has no words for the language {config.lang!r}: the words it adds"
            " (Contents, Chapter, Notes, Search…) are in English"
        )
    elif words.english:
        named = ", ".join(words_for("en")[k] for k in words.english[:4])
        message = (
            f"Quire lacks {len(words.english)} of the words it adds in the language"
            f" {config.lang!r} ({named}…): those are in English"
        )
    else:
        return words
    warn(
        message,
        file=config.origin_of("lang"),
        line=config.line_of("lang"),
        hint="set `toc-title` for the contents' title; the other words stay English",
        group="languages Quire has no words for",
    )
    return words


def chapter_parts(words: Words) -> tuple[str, str]:
    """What comes before and after a chapter's number: ("Chapter ", ""), ("第", "章")."""
    before, _, after = words.chapter("\0").partition("\0")
    return before, after


def page_parts(words: Words) -> tuple[str, str]:
    """What comes before and after a page's number: ("page ", ""), ("第", "页")."""
    before, _, after = words.page("\0").partition("\0")
    return before, after


def print_words_css(words: Words) -> str:
    """The words print.css writes with generated content, as custom properties it reads with
    var() (its English is the fallback, and a book's own CSS may set them)."""
    before, after = chapter_parts(words)
    page_before, page_after = page_parts(words)
    values = {"--quire-chapter-before": before, "--quire-chapter-after": after,
              "--quire-page-before": page_before, "--quire-page-after": page_after}  # fmt: skip
    return ":root { " + " ".join(f"{k}: {css_string(v)};" for k, v in values.items()) + " }"


def css_string(text: str) -> str:
    """Text as a CSS string: quotes and backslashes escaped, line breaks as spaces, and `<`
    as CSS's escape (the string goes in a <style> element, which `</style>` would end)."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return '"' + quoted.replace("\n", " ") + '"'


# The words site.js says (a note's box, the search's results), given it by the page.
SCRIPT_WORDS = ("Note", "CloseNote", "NoResults", "OneResult", "ManyResults", "SearchFailed")


def script_words(words: Words) -> str:
    """The words site.js needs, as the JSON a page carries for it."""
    data = {key: words[key] for key in SCRIPT_WORDS}
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
