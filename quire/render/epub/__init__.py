"""EPUB renderer: one XHTML file per chapter, package document, nav, NCX, in a reproducible zip.

The package is split by concern: `document` (what every XHTML file shares), `content` (cover,
title page, chapters), `page_breaks` (the print edition's page markers), `navigation` (nav and
NCX), `accessibility` (schema.org metadata), `fonts` (embedded subsets) and `package` (OPF, zip).
"""

from __future__ import annotations

from quire.render import Output, PageStart
from quire.render.epub.content import (
    _epub_notes,
    _rewrite_links,
    _starts_by_chapter,
    chapter_page,
    cover_image,
    cover_page,
    link_owners,
    title_page,
)
from quire.render.epub.document import PRINT_FRONT, CoverImage, Page, author_sheets, xhtml_page
from quire.render.epub.fonts import (
    EmbeddedFont,
    embedded_fonts,
    encryption_document,
    family_text,
    obfuscate,
    obfuscation_key,
)
from quire.render.epub.index import with_page_locators
from quire.render.epub.navigation import _contents_position, nav_page, ncx_document
from quire.render.epub.package import package_document, zip_package
from quire.render.epub.page_breaks import insert_page_breaks
from quire.transform import Book

# What the web edition and the tests take from the EPUB renderer.
__all__ = [
    "EpubRenderer",
    "Page",
    "_epub_notes",
    "insert_page_breaks",
    "_rewrite_links",
    "_starts_by_chapter",
    "cover_image",
    "family_text",
    "link_owners",
    "obfuscate",
    "obfuscation_key",
    "xhtml_page",
]


class EpubRenderer:
    """Builds an EPUB 3 package (with an EPUB 2 NCX) from a Book."""

    format = "epub"

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """Render the whole package as zip bytes."""
        pdf = earlier.get("pdf")
        page_starts = pdf.page_starts if pdf else ()
        cover = cover_image(book)
        pages = self._pages(book, cover, page_starts)
        pages = with_page_locators(book, pages, page_starts)  # the index's printed pages
        nav = nav_page(book, pages, page_starts)
        pages.insert(_contents_position(pages), nav)
        files = {"EPUB/" + p.href: p.xhtml.encode("utf-8") for p in pages}
        files["EPUB/toc.ncx"] = ncx_document(book, pages).encode("utf-8")
        files["EPUB/styles/epub.css"] = (book.styles / "epub.css").read_bytes()
        for name, path in zip(author_sheets(book), book.epub_css, strict=True):
            files[f"EPUB/styles/{name}"] = path.read_bytes()
        fonts: tuple[EmbeddedFont, ...] = ()
        if book.config.embed_fonts:
            fonts, css = embedded_fonts(book, pages)
            files["EPUB/styles/fonts.css"] = css.encode("utf-8")
            key = obfuscation_key(book.config.identifier or "")
            files.update({"EPUB/" + f.href: obfuscate(f.data, key) for f in fonts})
            files["META-INF/encryption.xml"] = encryption_document(fonts).encode("utf-8")
        for asset in book.assets:
            files["EPUB/" + asset.href] = asset.path.read_bytes()
        files["EPUB/" + cover.href] = cover.data
        page_list = any(p.page_labels for p in pages)
        opf = package_document(book, pages, cover, page_list, fonts)
        files["EPUB/package.opf"] = opf.encode("utf-8")
        notes = () if page_list else ("no page-list: the print layout was not made in this build",)
        return Output("epub", zip_package(files, book.modified), notes=notes)

    def _pages(
        self, book: Book, cover: CoverImage, page_starts: tuple[PageStart, ...]
    ) -> list[Page]:
        """Cover, title page and chapters, with the print pages' markers in them."""
        pages = [cover_page(book, cover)]
        front = [s for s in page_starts if PRINT_FRONT.get(s.element_id) == "title-page"]
        pages.append(title_page(book, front))
        owners = link_owners(book)
        starts_in = _starts_by_chapter(book, page_starts)
        for chapter in book.chapters:
            pages.append(chapter_page(book, chapter, owners, starts_in.get(chapter.id, [])))
        return pages
