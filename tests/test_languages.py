"""The words Quire adds, in the book's language, in every output (issue 25).

A small book is written here in each of nine languages and built once (EPUB, PDF and web
edition). Every word Quire generates in each output is read back and must be that language's
word (pandoc's translations, Quire's catalog, Pagefind's interface words); and no English
generated word may be left anywhere in an output's text. The Art of Command Line's README in
three languages (../shared/corpus, read in place) gets its nav's title and its web edition's
interface in its own language too.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import lxml.html
import pymupdf
import pytest
from conftest import ROOT, run_build, write_book
from lxml import etree

from quire.language.pagefind_words import PAGEFIND_WORDS
from quire.language.words import CATALOG, SCRIPT_WORDS, Words, page_parts, words_for

CORPUS = ROOT.parent / "shared" / "corpus" / "command-line"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
NCX = "{http://www.daisy.org/z3986/2005/ncx/}"

# Each language's contents title, "Chapter 1" and notes label, as a reader of it expects them:
# written out here, so that the test does not only compare words.py with itself.
EXPECTED = {
    "ru": ("Содержание", "Глава 1", "Примечания"),
    "zh": ("目录", "第1章", "注释"),
    "ja": ("目次", "第1章", "注"),
    "uk": ("Зміст", "Розділ 1", "Примітки"),
    "de": ("Inhaltsverzeichnis", "Kapitel 1", "Anmerkungen"),
    "fr": ("Table des matières", "Chapitre 1", "Notes"),
    "es": ("Índice", "Capítulo 1", "Notas"),
    "ar": ("المحتويات", "باب 1", "الحواشي"),
    "he": ("תוכן העניינים", "פרק 1", "הערות"),
}
# The book's own text in each language: title, author, preface, two chapters, an appendix, a
# sentence, a note, a figure's and a table's caption, the table's cells, a second sentence.
TEXTS = {
    "ru": ("Маленькая книга", "Иван Петров", "Вступление", "Весна", "Лето", "Послесловие",
           "Эта книга проверяет слова, которые добавляет программа.", "Текст примечания.",
           "Серая картинка", "Небольшая таблица", "Имя", "Число", "Один",
           "Второй абзац книги."),
    "zh": ("小书", "王小明", "开头的话", "春天", "夏天", "结尾的话", "这本书用来检查程序添加的文字。",
           "注释的文字。", "灰色的图片", "小表格", "名字", "数字", "一", "书的第二段。"),
    "ja": ("小さな本", "山田太郎", "はじめに", "春", "夏", "おわりに",
           "この本はプログラムが加える言葉を確かめます。", "注の本文。", "灰色の絵", "小さな一覧",
           "名前", "数", "一つ", "本の二つ目の段落。"),
    "uk": ("Маленька книжка", "Олена Коваль", "Вступне слово", "Весна", "Літо", "Післямова",
           "Ця книжка перевіряє слова, які додає програма.", "Текст примітки.", "Сіра картинка",
           "Невеличка таблиця", "Ім'я", "Число", "Один", "Другий абзац книжки."),
    "de": ("Ein kleines Buch", "Anna Schmidt", "Vorbemerkung", "Frühling", "Sommer", "Nachwort",
           "Dieses Buch prüft die Wörter, die das Programm hinzufügt.", "Der Text der Anmerkung.",
           "Ein graues Bild", "Eine kleine Übersicht", "Wort", "Zahl", "Eins",
           "Der zweite Absatz des Buches."),
    "fr": ("Un petit livre", "Marie Dubois", "Avant-propos", "Printemps", "Été", "Postface",
           "Ce livre vérifie les mots que le programme ajoute.", "Le texte de la remarque.",
           "Une image grise", "Un petit relevé", "Nom", "Nombre", "Un",
           "Le deuxième paragraphe du livre."),
    "es": ("Un libro pequeño", "Lucía García", "Prólogo", "Primavera", "Verano", "Epílogo",
           "Este libro comprueba las palabras que añade el programa.", "El texto de la nota.",
           "Una imagen gris", "Un pequeño resumen", "Nombre", "Número", "Uno",
           "El segundo párrafo del libro."),
    "ar": ("كتاب صغير", "أحمد علي", "تمهيد", "الربيع", "الصيف", "خاتمة",
           "يختبر هذا الكتاب الكلمات التي يضيفها البرنامج.", "نص الحاشية.", "صورة رمادية",
           "جدول صغير", "الاسم", "العدد", "واحد", "الفقرة الثانية من الكتاب."),
    "he": ("ספר קטן", "דנה לוי", "פתח דבר", "אביב", "קיץ", "אחרית דבר",
           "הספר הזה בודק את המילים שהתוכנה מוסיפה.", "טקסט ההערה.", "תמונה אפורה", "טבלה קטנה",
           "שם", "מספר", "אחד", "הפסקה השנייה של הספר."),
}  # fmt: skip
CORPUS_LANGS = ("ru", "zh", "uk")


def _png() -> bytes:
    """A small grey PNG, for the book's one figure."""
    rows = b"".join(b"\x00" + b"\x80\x80\x80" * 40 for _ in range(30))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 40, 30, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def manuscript(lang: str) -> dict[str, str | bytes]:
    """A book of a preface, two chapters (a note, a figure, a table, a cross-reference and a
    link to the other chapter) and an appendix, with lists of figures and tables, and a
    publisher and a translator for the copyright page."""
    (title, author, preface, one, two, appendix, sentence, note, figure, table, a, b, c,
     second) = TEXTS[lang]  # fmt: skip
    return {
        "book.yaml": (
            f"title: {title}\nauthor: [{author}]\nlang: {lang}\nlof: true\nlot: true\n"
            f"publisher: {author}\ncontributor: [{{role: translator, text: {author}}}]\n"
            "front-matter: [preface.md]\nchapters: [one.md, two.md]\nback-matter: [appendix.md]\n"
        ),
        "preface.md": f"# {preface}\n\n{sentence}\n",
        "one.md": (
            f"# {one}\n\n{sentence}[^a] [{two}](#two), @fig:pic, @tbl:t.\n\n"
            f"![{figure}](pic.png){{#fig:pic}}\n\n| {a} | {b} |\n|---|---|\n| {c} | 1 |\n\n"
            f": {table} {{#tbl:t}}\n\n[^a]: {note}\n"
        ),
        "two.md": f"# {two} {{#two}}\n\n{second}\n",
        "appendix.md": f"# {appendix}\n\n{sentence}\n",
        "pic.png": _png(),
    }


@dataclass
class LanguageBuild:
    """One language's book built: its words and its three outputs."""

    lang: str
    words: Words
    epub: Path
    pdf: Path
    site: Path
    output: str  # what the build printed


def _build(lang: str, tmp: Path) -> LanguageBuild:
    source = write_book(tmp / f"{lang}-book", manuscript(lang))
    out = tmp / f"{lang}-out"
    proc = run_build(source, out, env={"QUIRE_WORKERS": "1"})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    site = web_site(out)
    return LanguageBuild(
        lang, words_for(lang), next(out.glob("*.epub")), next(out.glob("*.pdf")), site, output
    )


def web_site(out: Path) -> Path:
    """The web edition's folder in a build's output folder."""
    return next(p for p in out.iterdir() if (p / "index.html").is_file())


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, LanguageBuild]:
    """Every language's book, built two at a time (each build with one layout worker)."""
    tmp = tmp_path_factory.mktemp("languages")
    with ThreadPoolExecutor(max_workers=2) as pool:
        built = pool.map(lambda lang: _build(lang, tmp), EXPECTED)
        return {b.lang: b for b in built}


# ---------- what each output generates, read back ----------


def _say(words: Words, key: str, value: str = "") -> str:
    return words[key].replace("{n}", value).replace("{name}", value)


def own_words(words: Words) -> list[str]:
    """The language's generated words, the pieces around {n} and {name}, longest first."""
    pieces = {p.strip() for w in words.terms.values() for p in re.split(r"\{\w+\}", w)}
    return sorted((p for p in pieces if p), key=len, reverse=True)


def english_left(text: str, words: Words) -> list[str]:
    """English generated words in `text` once the language's own words are taken out of it
    (French writes "Notes" and "Index" as English does)."""
    for word in own_words(words):
        text = text.replace(word, " ")
    english = own_words(words_for("en")) + ["Title Page", "Start of Content", "Back Matter",
                                            "Search the book", "places found", "Cover of"]  # fmt: skip
    return sorted({w for w in english if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)})


def _xml_text(data: bytes) -> str:
    """An XML document's text and the labels a reader hears (aria-label, alt, title)."""
    root = etree.fromstring(data)
    labels = [v for e in root.iter() for k, v in e.attrib.items() if k in ("aria-label", "alt")]
    return " ".join(["".join(root.itertext()), *labels])


def epub_parts(epub: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(epub) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n.endswith((".xhtml", ".ncx"))}


def html_text(page: lxml.html.HtmlElement) -> str:
    """A web page's text and labels, and the words it gives site.js (not its other scripts)."""
    said = json.loads(page.get_element_by_id("quire-words").text)
    for script in page.xpath("//script|//style"):
        script.drop_tree()
    labels = [v for e in page.iter() for k, v in e.attrib.items() if k in ("aria-label", "alt")]
    return " ".join([page.text_content(), *labels, *said.values()])


# ---------- the nine languages ----------


@pytest.mark.parametrize("lang", EXPECTED)
def test_epub_words_are_the_books_language(books, lang):
    book, (contents, _, notes) = books[lang], EXPECTED[lang]
    words = book.words
    parts = epub_parts(book.epub)
    nav = etree.fromstring(parts["EPUB/nav.xhtml"])
    navs = {n.get(EPUB_TYPE): n for n in nav.iter(f"{XHTML}nav")}
    assert nav.findtext(f".//{XHTML}title") == contents
    assert navs["toc"].findtext(f"{XHTML}h1") == contents
    assert navs["lof"].get("aria-label") == navs["lof"].findtext(f"{XHTML}h2")
    assert navs["lof"].get("aria-label") == words["ListOfFigures"]
    assert navs["lot"].get("aria-label") == words["ListOfTables"]
    assert navs["landmarks"].get("aria-label") == words["Landmarks"]
    marks = ["".join(a.itertext()) for a in navs["landmarks"].iter(f"{XHTML}a")]
    keys = ["Cover", "TitlePage", "Contents", "StartOfContent", "BackMatter"]
    assert marks == [words[k] for k in keys]
    assert navs["page-list"].get("aria-label") == words["PageList"]
    ncx = etree.fromstring(parts["EPUB/toc.ncx"])
    assert ncx.findtext(f"{NCX}pageList/{NCX}navLabel/{NCX}text") == words["PageList"]
    labels = [
        s.get("aria-label")
        for name, data in parts.items()
        for s in etree.fromstring(data).iter(f"{XHTML}section")
        if s.get("role") == "doc-endnotes"
    ]
    assert labels == [notes]
    cover = etree.fromstring(parts["EPUB/text/cover.xhtml"]).find(f".//{XHTML}img")
    assert cover.get("alt").startswith(words["Cover"] + ":")
    for name, data in parts.items():
        assert english_left(_xml_text(data), words) == [], name


@pytest.mark.parametrize("lang", EXPECTED)
def test_pdf_words_are_the_books_language(books, lang):
    book, (contents, chapter, _) = books[lang], EXPECTED[lang]
    words = book.words
    with pymupdf.open(book.pdf) as pdf:
        pages = [page.get_text() for page in pdf]
        outline = [title for _, title, _ in pdf.get_toc()]
    assert outline[:3] == [contents, words["ListOfFigures"], words["ListOfTables"]]
    assert any(text.split("\n")[0] == contents for text in pages)  # the contents page's title
    opening = next(text for text in pages if TEXTS[lang][3] in text.split("\n")[:2])
    first = opening.split("\n")[0]
    # Right-to-left text may come out of the text layer in either order: the words, not the order.
    assert first == chapter or sorted(first.split()) == sorted(chapter.split()), first
    # "(page 3)": the link to the next chapter, with the language's word for a page (a
    # right-to-left line comes out of the text layer in the order it is drawn: ")3 (صفحة").
    joined, page = " ".join(opening.split()), re.escape(words["Page"])
    before, after = (re.escape(p.strip()) for p in page_parts(words))  # 第3页, 3頁, с. 3
    in_order = rf"\(\s*{before}\s*\d+\s*{after}\s*\)"
    assert re.search(rf"{in_order}|\)\s*\d+\s*\(\s*{page}", joined), joined
    assert english_left("\n".join(pages), words) == []


def _web_pages(site: Path) -> dict[str, lxml.html.HtmlElement]:
    return {p.name: lxml.html.parse(str(p)).getroot() for p in sorted(site.glob("*.html"))}


@pytest.mark.parametrize("lang", EXPECTED)
def test_web_words_are_the_books_language(books, lang):
    book, (contents, _, notes) = books[lang], EXPECTED[lang]
    words = book.words
    pages = _web_pages(book.site)
    for name, page in pages.items():
        data = json.loads(page.get_element_by_id("quire-words").text)
        assert data and all(words[k] == v for k, v in data.items()), name
        assert page.find(".//a[@class='skip']").text == words["SkipToText"]
        form = page.find(".//form[@role='search']")
        assert form.get("aria-label") == words["SearchBook"]
        assert (form.findtext("label"), form.findtext("button")) == (words["Search"], words["Find"])
        downloads = [a.text_content() for a in page.xpath("//nav[@class='foot-files']//a")]
        assert downloads[0].startswith(words.download("EPUB")), downloads
        assert page.xpath("//nav[@class='foot-files']/@aria-label") == [words["Downloads"]]
    chapter = pages[next(n for n in pages if n != "index.html" and "1" in _notes(pages[n]))]
    assert chapter.xpath("//nav[@class='toc']/@aria-label") == [contents]
    assert chapter.findtext(".//nav[@class='toc']//summary") == contents
    assert chapter.xpath("//section[@role='doc-endnotes']/@aria-label") == [notes]
    assert _notes(chapter) == {"1": _say(words, "Note", "1")}
    pager = chapter.find(".//nav[@class='pager']")
    assert pager.get("aria-label") == words["Pager"]
    assert [s.text for s in pager.iter("span")] == [words["Previous"], words["Next"]]
    # A page marker reads "page 3" (第3页, 3頁) to a screen reader, the number alone to the eye.
    markers = chapter.xpath("//*[@class='page-marker']")
    assert markers and {m.text_content() for m in markers} == {
        words.page(m.get("data-page")) for m in markers
    }
    index = pages["index.html"]
    assert index.findtext(".//h2[@id='contents-title']") == contents
    assert index.findtext(".//h2[@id='downloads-title']") == words["Downloads"]
    assert index.findtext(".//p[@class='read']/a") == words["ReadHere"]
    pages_fact = index.xpath("//a[contains(@class, 'button')]/span[@class='facts']/text()")
    assert any(_say(words, "PageCount", "") in fact for fact in pages_fact), pages_fact
    for name, page in pages.items():
        assert english_left(html_text(page), words) == [], name


def _notes(page: lxml.html.HtmlElement) -> dict[str, str]:
    """Each note's number and its label, on a web page."""
    return {
        (a.findtext(".//a[@role='doc-backlink']") or "").rstrip("."): a.get("aria-label")
        for a in page.xpath("//aside[@role='doc-footnote']")
    }


def test_site_script_says_no_english_of_its_own():
    """site.js takes every word it says from the page (the JSON block layout.py writes)."""
    script = (ROOT / "quire" / "render" / "html" / "site.js").read_text(encoding="utf-8")
    keys = set(SCRIPT_WORDS)  # what it asks the page for, by name
    strings = {s for s in re.findall(r'"((?:[^"\\]|\\.)*)"', script) if s not in keys}
    english = set(CATALOG["en"].values()) | set(PAGEFIND_WORDS["en"].values())
    stems = {p.strip() for w in english for p in re.split(r"\{\w+\}", w) if p.strip()}
    stems |= {"places found", "place found", "could not load"}  # what it said before
    said = [s for s in strings if any(re.search(rf"(?<![\w.-]){re.escape(w)}\b", s) for w in stems)]
    assert said == []


def test_pagefind_words_are_the_installed_pagefinds():
    """pagefind_words.py holds what the installed Pagefind's interface says (else run
    tools/pagefind_words.py after upgrading Pagefind)."""
    from quire.render.html.search import installed_pagefind_words

    installed = installed_pagefind_words()
    assert {"en", "ru", "zh-cn", "ja", "ar", "he"} <= set(installed)
    assert installed == PAGEFIND_WORDS


def test_a_language_without_words_is_reported_once_and_keeps_english(tmp_path):
    files = manuscript("de")
    files["book.yaml"] = files["book.yaml"].replace("lang: de", "lang: tlh")
    source = write_book(tmp_path / "book", files)
    proc = run_build(source, tmp_path / "out", "--to", "epub", env={"QUIRE_WORKERS": "1"})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-2000:]
    assert output.count("Quire has no words for the language 'tlh'") == 1, output
    nav = epub_parts(next((tmp_path / "out").glob("*.epub")))["EPUB/nav.xhtml"]
    assert etree.fromstring(nav).findtext(f".//{XHTML}h1") == "Contents"


def test_the_authors_toc_title_wins(tmp_path):
    files = manuscript("ru")
    files["book.yaml"] += "toc-title: Что внутри\n"
    source = write_book(tmp_path / "book", files)
    proc = run_build(source, tmp_path / "out", "--to", "epub", env={"QUIRE_WORKERS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    nav = etree.fromstring(epub_parts(next((tmp_path / "out").glob("*.epub")))["EPUB/nav.xhtml"])
    assert nav.findtext(f".//{XHTML}h1") == "Что внутри"
    assert "Содержание" not in _xml_text(etree.tostring(nav))


# ---------- the corpus: The Art of Command Line in its own languages ----------


@pytest.fixture(scope="module")
def corpus_books(tmp_path_factory) -> dict[str, Path]:
    """Three of the corpus's translations, built as tests/test_corpus.py builds them (the
    README given to build.py), here the EPUB and the web edition."""
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have the corpus at {CORPUS}")
        pytest.skip(f"the corpus of real books is not at {CORPUS}")
    tmp = tmp_path_factory.mktemp("corpus-words")

    def one(lang: str) -> Path:
        out = tmp / lang
        proc = run_build(CORPUS / lang / "README.md", out, "--to", "epub", "--to", "html",
                         env={"QUIRE_WORKERS": "1"}, timeout=900)  # fmt: skip
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
        return out

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CORPUS_LANGS, pool.map(one, CORPUS_LANGS), strict=True))


@pytest.mark.parametrize("lang", CORPUS_LANGS)
def test_corpus_book_words_are_its_language(corpus_books, lang):
    out = corpus_books[lang]
    words = words_for(lang)
    nav = etree.fromstring(epub_parts(next(out.glob("*.epub")))["EPUB/nav.xhtml"])
    assert nav.findtext(f".//{XHTML}h1") == words["Contents"] == EXPECTED[lang][0]
    site = web_site(out)
    index = lxml.html.parse(str(site / "index.html")).getroot()
    form = index.find(".//form[@role='search']")
    assert (form.findtext("label"), form.findtext("button")) == (words["Search"], words["Find"])
    assert index.findtext(".//h2[@id='contents-title']") == words["Contents"]
    data = json.loads(index.get_element_by_id("quire-words").text)
    assert data["CloseNote"] == words["CloseNote"] != "Close note"
