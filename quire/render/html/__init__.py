"""HTML renderer: the web edition, a static site with a download page and one page per chapter.

It runs after the PDF and the EPUB: the download page offers copies of both (with the PDF's
page count), its page markers are the PDF's page starts (the EPUB's page-list), and its
accessibility metadata is the EPUB's.
"""

from __future__ import annotations

from pathlib import Path

from quire import press
from quire.language.words import book_words
from quire.load.manuscript import REPO_STYLES
from quire.render import Output
from quire.render.contents import sections
from quire.render.epub import _starts_by_chapter, cover_image
from quire.render.html.assets import WOFF2, favicon, font_cache, web_fonts
from quire.render.html.chapters import chapter_pages, web_name
from quire.render.html.download import Download, download_page, epub_accessibility, reader_files
from quire.render.html.layout import SiteLink
from quire.render.html.search import TEXT_INDEX, search_index, text_index
from quire.transform import Book, ascii_slug

SCRIPT = Path(__file__).with_name("site.js")
# What each file is called on the page, its media type, and its schema.org bookFormat (the
# print kit's files are for the printer, not editions a reader picks: they have none).
FORMATS = {
    "epub": ("EPUB", "application/epub+zip", "EBook"),
    "pdf": ("PDF", "application/pdf", "EBook"),
    "interior": ("print interior (PDF)", "application/pdf", ""),
    "cover": ("print cover (PDF)", "application/pdf", ""),
}


def book_slug(book: Book) -> str:
    """The name of the book's files: the same as the pipeline gives the EPUB and the PDF."""
    return ascii_slug(book.config.title or "") or "book"


def style_sheet(book: Book) -> bytes:
    """The book's web.css, or Quire's when the book's own styles/ folder has none."""
    own = book.styles / "web.css"
    return (own if own.is_file() else REPO_STYLES / "web.css").read_bytes()


class HtmlRenderer:
    """Builds the web edition as a set of files, by path inside `dist/<slug>/`."""

    format = "html"

    def __init__(self, cache: Path | None = None) -> None:
        self.cache = cache  # the build cache folder, for the encoded fonts (assets.font_cache)

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """Render every page, copy the downloads beside them and index the text for search."""
        pdf = earlier.get("pdf")
        page_starts = pdf.page_starts if pdf else ()
        depth = book.config.toc_depth or 1  # without `toc-depth`: chapters only
        contents = [
            SiteLink(web_name(c), c.title, tuple(sections(c, depth, web_name(c))))
            for c in book.chapters
        ]
        downloads = self._downloads(book, earlier)
        starts = _starts_by_chapter(book, page_starts)
        files = reader_files(downloads, book_words(book.config))
        pages = chapter_pages(book, starts, contents, files)
        cover = cover_image(book)
        epub = earlier.get("epub")
        a11y = epub_accessibility(epub.data) if epub and epub.data else {}
        files: dict[str, bytes] = {p.href: p.html.encode("utf-8") for p in pages}
        index = download_page(book, cover.href, downloads, a11y, contents)
        files["index.html"] = index.encode("utf-8")
        files.update(search_index(files, book.config.lang or ""))
        files[TEXT_INDEX] = text_index({p.href: p.html for p in pages})
        cache = font_cache(self.cache)
        fonts, fonts_css = web_fonts(book, [p.html for p in pages] + [index], cache)
        files.update(fonts)
        files["fonts.css"] = fonts_css.encode("utf-8")
        files["web.css"] = style_sheet(book)
        files["site.js"] = SCRIPT.read_bytes()
        files[cover.href] = cover.data
        files["favicon.png"] = favicon(cover.data)
        for asset in book.assets:
            files[asset.href] = asset.path.read_bytes()
        for download in downloads:
            files[download.href] = earlier[download.source].ready().data
        notes = () if page_starts else ("no page markers: the print layout was not made",)
        return Output(
            "html", b"", files=files, notes=notes,
            cache_files=tuple(sorted(cache.new.items())), cache_kept=frozenset(cache.used),
            cache_kinds=(WOFF2,),
        )  # fmt: skip

    def _downloads(self, book: Book, earlier: dict[str, Output]) -> list[Download]:
        """The files this build made that a reader can download: EPUB, PDF, then the print kit."""
        found = []
        for fmt, (name, media_type, book_format) in FORMATS.items():
            output = earlier.get(fmt)
            if output is None:
                continue
            output = output.ready()  # the PDF may still be being joined
            if not output.data:  # a PDF not made in this build (its page map was reused)
                continue
            slug = book_slug(book)  # named as the package stage names the file beside the site
            href = press.file_name(slug, fmt) if fmt in press.PRESS_FORMATS else f"{slug}.{fmt}"
            pages = output.pages if fmt != "cover" else None
            found.append(
                Download(href, name, media_type, len(output.data), pages, book_format, fmt)
            )
        return found
