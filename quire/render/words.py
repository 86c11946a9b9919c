"""The words Quire adds to a book (Contents, Chapter 3, Figure, Notes, Search…), in its language.

Pandoc ships translations of the words its own writers add (`translations/<lang>.yaml`, read
with `--print-default-data-file` from the pandoc that reads the book): they are the first
source. The words pandoc's writers never need (Notes, Search, Close note, Download…) come
from the catalog below, for the languages of pandoc's translations that Quire can vouch for. A
language is looked up from the most to the least specific tag (`pt-BR`, then `pt`), then in
English; a language with no entry of its own is reported once, and its words stay English.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import yaml

from quire.errors import BuildError

# Pandoc names Chinese by script; a tag without one is read as the script its region writes.
CHINESE = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-tw": "zh-Hant",
           "zh-hk": "zh-Hant", "zh-mo": "zh-Hant"}  # fmt: skip
# Languages whose chapter number goes inside a pattern rather than after the word.
CHAPTER_PATTERNS = {"zh": "第{n}{word}", "ja": "第{n}{word}", "ko": "제{n}{word}"}
# Words no pandoc writer adds, so its translations lack them: Quire's own catalog.
CATALOG: dict[str, dict[str, str]] = {
    "en": {"Notes": "Notes", "Search": "Search", "Find": "Find", "CloseNote": "Close note",
           "Previous": "Previous", "Next": "Next", "Download": "Download the {name}",
           "Cover": "Cover", "TitlePage": "Title page", "Landmarks": "Landmarks",
           "PageList": "Pages", "Theme": "Theme", "Menu": "Menu"},
    "ru": {"Notes": "Примечания", "Search": "Поиск", "Find": "Найти",
           "CloseNote": "Закрыть примечание", "Previous": "Назад", "Next": "Далее",
           "Download": "Скачать {name}", "Cover": "Обложка", "TitlePage": "Титульный лист",
           "Landmarks": "Ориентиры", "PageList": "Страницы", "Theme": "Тема", "Menu": "Меню"},
    "uk": {"Notes": "Примітки", "Search": "Пошук", "Find": "Знайти",
           "CloseNote": "Закрити примітку", "Previous": "Назад", "Next": "Далі",
           "Download": "Завантажити {name}", "Cover": "Обкладинка",
           "TitlePage": "Титульна сторінка", "Landmarks": "Орієнтири", "PageList": "Сторінки",
           "Theme": "Тема", "Menu": "Меню"},
    "de": {"Notes": "Anmerkungen", "Search": "Suche", "Find": "Finden",
           "CloseNote": "Anmerkung schließen", "Previous": "Zurück", "Next": "Weiter",
           "Download": "{name} herunterladen", "Cover": "Umschlag", "TitlePage": "Titelseite",
           "Landmarks": "Orientierungspunkte", "PageList": "Seiten", "Theme": "Design",
           "Menu": "Menü"},
    "fr": {"Notes": "Notes", "Search": "Recherche", "Find": "Chercher",
           "CloseNote": "Fermer la note", "Previous": "Précédent", "Next": "Suivant",
           "Download": "Télécharger le {name}", "Cover": "Couverture",
           "TitlePage": "Page de titre", "Landmarks": "Repères", "PageList": "Pages",
           "Theme": "Thème", "Menu": "Menu"},
    "es": {"Notes": "Notas", "Search": "Búsqueda", "Find": "Buscar", "CloseNote": "Cerrar nota",
           "Previous": "Anterior", "Next": "Siguiente", "Download": "Descargar el {name}",
           "Cover": "Cubierta", "TitlePage": "Portada", "Landmarks": "Puntos de referencia",
           "PageList": "Páginas", "Theme": "Tema", "Menu": "Menú"},
    "pt": {"Notes": "Notas", "Search": "Pesquisa", "Find": "Procurar", "CloseNote": "Fechar nota",
           "Previous": "Anterior", "Next": "Seguinte", "Download": "Descarregar o {name}",
           "Cover": "Capa", "TitlePage": "Folha de rosto", "Landmarks": "Pontos de referência",
           "PageList": "Páginas", "Theme": "Tema", "Menu": "Menu"},
    "pt-BR": {"Next": "Próximo", "Download": "Baixar o {name}"},
    "zh-Hans": {"Notes": "注释", "Search": "搜索", "Find": "查找", "CloseNote": "关闭注释",
                "Previous": "上一章", "Next": "下一章", "Download": "下载 {name}",
                "Cover": "封面", "TitlePage": "扉页", "Landmarks": "导航", "PageList": "页码",
                "Theme": "主题", "Menu": "菜单"},
    "zh-Hant": {"Notes": "註釋", "Search": "搜尋", "Find": "尋找", "CloseNote": "關閉註釋",
                "Previous": "上一章", "Next": "下一章", "Download": "下載 {name}",
                "Cover": "封面", "TitlePage": "扉頁", "Landmarks": "導覽", "PageList": "頁碼",
                "Theme": "主題", "Menu": "選單"},
    "ja": {"Notes": "注", "Search": "検索", "Find": "検索する", "CloseNote": "注を閉じる",
           "Previous": "前へ", "Next": "次へ", "Download": "{name} をダウンロード",
           "Cover": "表紙", "TitlePage": "扉", "Landmarks": "ランドマーク", "PageList": "ページ",
           "Theme": "テーマ", "Menu": "メニュー"},
    "ko": {"Notes": "주", "Search": "검색", "Find": "찾기", "CloseNote": "주 닫기",
           "Previous": "이전", "Next": "다음", "Download": "{name} 내려받기", "Cover": "표지",
           "TitlePage": "속표지", "Landmarks": "랜드마크", "PageList": "페이지",
           "Theme": "테마", "Menu": "메뉴"},
    "ar": {"Notes": "الحواشي", "Search": "بحث", "Find": "ابحث", "CloseNote": "إغلاق الحاشية",
           "Previous": "السابق", "Next": "التالي", "Download": "تنزيل {name}",
           "Cover": "الغلاف", "TitlePage": "صفحة العنوان", "Landmarks": "معالم",
           "PageList": "الصفحات", "Theme": "السمة", "Menu": "القائمة"},
    "he": {"Notes": "הערות", "Search": "חיפוש", "Find": "חפש", "CloseNote": "סגירת ההערה",
           "Previous": "הקודם", "Next": "הבא", "Download": "הורדת {name}", "Cover": "כריכה",
           "TitlePage": "שער", "Landmarks": "ציוני דרך", "PageList": "עמודים",
           "Theme": "ערכת נושא", "Menu": "תפריט"},
}  # fmt: skip


@dataclass(frozen=True)
class Words:
    """The generated words of one book: pandoc's translations, then Quire's catalog."""

    lang: str  # the book's language tag, as its settings give it
    terms: dict[str, str] = field(default_factory=dict)
    found: tuple[str, ...] = ()  # the tags whose entries were found, most specific first

    def __getitem__(self, key: str) -> str:
        return self.terms[key]

    def chapter(self, number: int | str) -> str:
        """ "Chapter 3" as the language writes it (第3章, 제3장, Глава 3)."""
        pattern = CHAPTER_PATTERNS.get(_primary(self.lang), "{word} {n}")
        return pattern.format(word=self.terms["Chapter"], n=number)

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
    from quire.pandoc import run_captured

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
    for tag in reversed(candidates(lang)):  # English first, the most specific last (it wins)
        own = {**pandoc_translations(tag), **CATALOG.get(tag, {})}
        if own:
            found.insert(0, tag)
        terms.update(own)
    return Words(lang or "en", terms, tuple(found))
