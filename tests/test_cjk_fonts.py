"""Japanese, traditional Chinese and Korean books are set in their own Noto Serif CJK face.

Han unification gives one code point to characters each region draws in its own form, and the
simplified Chinese face (subset to GB 2312) has neither kana's full repertoire nor 図, 頁, 錄 or
Hangul. A small book in each of the three languages, written here, is built once (PDF and
EPUB, and the web edition for Japanese): no character may be reported missing, the PDF's
glyphs for the book's text must come from the language's face and none may be .notdef, and
the EPUB must embed that face with the characters in its cmap.
"""

from __future__ import annotations

import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymupdf
import pytest
from conftest import ROOT, run_build, write_book
from fontTools.ttLib import TTFont

from quire.render.epub.fonts import obfuscate, obfuscation_key

FONTS_DIR = ROOT / "styles" / "fonts"

# Per language: the face's name in the PDF (WeasyPrint's), the EPUB file's name, and the book's
# text (written for this test), with characters GB 2312 lacks (図 頁 錄 臺 쪽 and Hangul).
BOOKS = {
    "ja": (
        "Noto-Serif-CJK-JP",
        "NotoSerifCJKjp-JIS0208-Regular.ttf",
        "小さな図鑑",
        "この本の図は三枚です。次の頁に地図があります。\n\n"
        "ひらがなとカタカナ、それに漢字で書かれた短い文章です。",
    ),
    "zh-Hant": (
        "Noto-Serif-CJK-TC",
        "NotoSerifCJKtc-Big5L1-Regular.ttf",
        "臺灣小記",
        "這本書的目錄在前面。每一頁都有圖與說明。\n\n臺北的雨下了三天，我們在書店裡讀舊書。",
    ),
    "ko": (
        "Noto-Serif-CJK-KR",
        "NotoSerifCJKkr-KSX1001-Regular.ttf",
        "작은 책",
        "이 책은 세 쪽으로 되어 있습니다. 다음 쪽에 그림이 있습니다.\n\n"
        "한글로 쓴 짧은 글을 읽어 보세요.",
    ),
}


def _book(folder: Path, lang: str) -> Path:
    """A two-chapter book in `lang`, its first chapter long enough for running heads."""
    _, _, title, text = BOOKS[lang]
    first, second = text.split("\n\n")
    first = "\n\n".join([first] * 30)
    return write_book(
        folder,
        {
            "book.yaml": f"title: {title}\nauthor: [Quire]\nlang: {lang}\n"
            "embed-fonts: true\nchapters: [one.md, two.md]\n",
            "one.md": f"# {title}\n\n{first}\n",
            "two.md": f"# {second[:4]}\n\n{second}\n",
        },
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Each book built once (PDF and EPUB; ja also its web edition): lang → (out, stderr)."""

    def one(lang: str) -> tuple[str, tuple[Path, str]]:
        root = tmp_path_factory.mktemp(f"cjk-{lang}")
        source, out = _book(root / "book", lang), root / "out"
        formats = ("--to", "pdf", "--to", "epub") + (("--to", "html") if lang == "ja" else ())
        result = run_build(source, out, *formats, env={"QUIRE_WORKERS": "1"})
        assert result.returncode == 0, result.stderr
        return lang, (out, result.stdout + result.stderr)

    with ThreadPoolExecutor(3) as pool:
        return dict(pool.map(one, BOOKS))


def _only(out: Path, name: str, deep: bool = False) -> Path:
    """The one output file whose name ends with `name`: in `out`, or with `deep` in the web
    edition's folder too (not in the build's cache)."""
    found = out.rglob(f"*{name}") if deep else out.glob(f"*{name}")
    (path,) = [p for p in found if ".quire-cache" not in p.parts]
    return path


@pytest.mark.parametrize("lang", BOOKS)
def test_no_character_is_missing(built: dict, lang: str) -> None:
    _, log = built[lang]
    assert "no font has" not in log, log


@pytest.mark.parametrize("lang", BOOKS)
def test_pdf_sets_the_text_in_the_language_face(built: dict, lang: str) -> None:
    prefix, _, title, text = BOOKS[lang]
    wanted = {c for c in title + text if ord(c) > 0x2E80}
    seen: set[str] = set()
    with pymupdf.open(_only(built[lang][0], ".pdf")) as pdf:
        for page in pdf:
            for trace in page.get_texttrace():
                for char in trace["chars"]:
                    if chr(char[0]) not in wanted:
                        continue
                    seen.add(chr(char[0]))
                    # The face of the book's region draws it, and not with its .notdef.
                    assert trace["font"].split("+")[-1].startswith(prefix), (chr(char[0]), trace)
                    assert char[1] != 0, f"{chr(char[0])!r} drawn as .notdef"
    assert seen == wanted


@pytest.mark.parametrize("lang", BOOKS)
def test_epub_embeds_the_language_face(built: dict, lang: str) -> None:
    prefix, name, title, text = BOOKS[lang]
    with zipfile.ZipFile(_only(built[lang][0], ".epub")) as epub:
        opf = epub.read("EPUB/package.opf").decode("utf-8")
        uid = re.search(r'unique-identifier="([^"]+)"', opf)[1]
        identifier = re.search(rf'<dc:identifier id="{uid}"[^>]*>([^<]+)<', opf)[1]
        data = obfuscate(epub.read(f"EPUB/fonts/{name}"), obfuscation_key(identifier))
        css = epub.read("EPUB/styles/fonts.css").decode("utf-8")
    cmap = TTFont(io.BytesIO(data)).getBestCmap()
    assert {c for c in title + text if ord(c) > 0x2E80} <= {chr(c) for c in cmap}
    # The book's language names its face first among the CJK faces.
    stack = re.search(rf":lang\({re.escape(lang)}\) {{ font-family: ([^;]+);", css)[1]
    assert stack.split(", ")[1] == f'"Noto Serif CJK {prefix[-2:].upper()}"'


def test_web_edition_serves_the_japanese_face(built: dict) -> None:
    out, _ = built["ja"]
    assert _only(out, "NotoSerifCJKjp-JIS0208-Regular.woff2", deep=True).stat().st_size > 0
    css = _only(out, "fonts.css", deep=True).read_text(encoding="utf-8")
    assert ':lang(ja) { font-family: "Charis SIL", "Noto Serif CJK JP"' in css


def test_regions_of_language_tags() -> None:
    from quire.fonts import cjk_region

    cases = {"ja": "JP", "ja-JP": "JP", "ko": "KR", "zh-Hant": "TC", "zh-TW": "TC",
             "zh_HK": "TC", "zh": "SC", "zh-Hans": "SC", "zh-CN": "SC", "en": "SC", None: "SC"}  # fmt: skip
    assert {tag: cjk_region(tag) for tag in cases} == cases


def test_other_languages_keep_sc_first_then_the_others() -> None:
    from quire.fonts import load_fonts

    fonts = load_fonts(FONTS_DIR)
    expected = tuple(f"Noto Serif CJK {r}" for r in ("SC", "JP", "TC", "KR"))
    assert fonts.for_language("en").cjk_families() == expected
    assert fonts.for_language("ko").cjk_families()[0] == "Noto Serif CJK KR"
    # Every shipped CJK face draws what its language needs beyond GB 2312.
    for lang, (_, _, title, text) in BOOKS.items():
        face = fonts.for_language(lang)
        assert face.family(face.cjk_families()[0]).uncovered(title + text) == []
