"""The package document (metadata, manifest, spine) and the reproducible zip."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import quoteattr

from quire.language.scripts import direction
from quire.load.config import BookConfig
from quire.render.epub.accessibility import accessibility_metadata
from quire.render.epub.document import CoverImage, Page, author_sheets, x
from quire.render.epub.fonts import EmbeddedFont
from quire.transform import Book

CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles>
<rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
</rootfiles>
</container>
"""


def package_document(
    book: Book,
    pages: list[Page],
    cover: CoverImage,
    page_list: bool,
    fonts: tuple[EmbeddedFont, ...] = (),
) -> str:
    """The OPF package document: metadata, manifest and spine."""
    config = book.config
    meta = [
        f'<dc:identifier id="pub-id">{x(config.identifier)}</dc:identifier>',
        f'<dc:title id="title">{x(config.title)}</dc:title>',
        '<meta refines="#title" property="title-type">main</meta>',
        f"<dc:language>{x(config.lang)}</dc:language>",
    ]
    meta += [
        f'<dc:creator id="creator-{i}">{x(a)}</dc:creator>' for i, a in enumerate(config.authors, 1)
    ]
    for tag, value in (
        ("date", config.date),
        ("publisher", config.publisher),
        ("rights", config.rights),
        ("description", config.description),
    ):
        if value:
            meta.append(f"<dc:{tag}>{x(value)}</dc:{tag}>")
    meta += [f"<dc:subject>{x(s)}</dc:subject>" for s in config.subjects]
    meta += pandoc_metadata(config)
    if config.subtitle:
        meta.append(f'<dc:title id="subtitle">{x(config.subtitle)}</dc:title>')
        meta.append('<meta refines="#subtitle" property="title-type">subtitle</meta>')
    meta.append(f'<meta property="dcterms:modified">{book.modified}</meta>')
    meta.append('<meta name="cover" content="cover-image"/>')
    meta += accessibility_metadata(book, pages, page_list)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="pub-id"'
        f" xml:lang={quoteattr(config.lang or 'und')}>\n"
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        + "\n".join(meta)
        + "\n</metadata>\n<manifest>\n"
        + "\n".join(_manifest(book, pages, cover, fonts))
        + "\n</manifest>\n"
        f'<spine toc="ncx"{_progression(config)}>\n'
        + "\n".join(f'<itemref idref="p{n}"/>' for n in range(1, len(pages) + 1))
        + "\n</spine>\n</package>\n"
    )


def _progression(config: BookConfig) -> str:
    """The spine's page-progression-direction, for a book set right to left (`dir: rtl`, or
    a right-to-left `lang`)."""
    return ' page-progression-direction="rtl"' if direction(config) == "rtl" else ""


def pandoc_metadata(config: BookConfig) -> list[str]:
    """Contributors with their roles, other identifiers and the series, as pandoc writes them."""
    meta = []
    for i, (name, role) in enumerate(config.contributors, 1):
        meta.append(f'<dc:contributor id="contributor-{i}">{x(name)}</dc:contributor>')
        if role:
            meta.append(
                f'<meta refines="#contributor-{i}" property="role" scheme="marc:relators">'
                f"{x(role)}</meta>"
            )
    meta += [
        f'<dc:identifier id="identifier-{i}">{x(value)}</dc:identifier>'
        for i, (_scheme, value) in enumerate(config.identifiers[1:], 2)
    ]
    if config.collection:
        meta.append(
            f'<meta property="belongs-to-collection" id="collection">{x(config.collection)}</meta>'
        )
        meta.append('<meta refines="#collection" property="collection-type">series</meta>')
        if config.group_position:
            meta.append(
                f'<meta refines="#collection" property="group-position">{config.group_position}</meta>'
            )
    return meta


def _manifest(
    book: Book, pages: list[Page], cover: CoverImage, fonts: tuple[EmbeddedFont, ...]
) -> list[str]:
    """The manifest items: NCX, style sheets, pages in spine order, cover, images and fonts."""
    items = [
        '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>',
        '<item id="css" href="styles/epub.css" media-type="text/css"/>',
    ]
    if book.config.embed_fonts:
        items.append('<item id="css-fonts" href="styles/fonts.css" media-type="text/css"/>')
    items += [
        f'<item id="css-book-{n}" href="styles/{name}" media-type="text/css"/>'
        for n, name in enumerate(author_sheets(book), 1)
    ]
    for n, page in enumerate(pages, 1):
        props = f' properties="{page.properties}"' if page.properties else ""
        items.append(
            f'<item id="p{n}" href="{page.href}" media-type="application/xhtml+xml"{props}/>'
        )
    items.append(
        f'<item id="cover-image" href="{cover.href}" media-type="{cover.media_type}"'
        ' properties="cover-image"/>'
    )
    items += [
        f'<item id="img{n}" href="{a.href}" media-type="{a.media_type}"/>'
        for n, a in enumerate(book.assets, 1)
    ]
    items += [
        f'<item id="font{n}" href="{f.href}" media-type="{f.media_type}"/>'
        for n, f in enumerate(fonts, 1)
    ]
    return items


def zip_package(files: dict[str, bytes], modified: str) -> bytes:
    """Zip the package reproducibly: mimetype first and stored, fixed times, fixed order."""
    stamp = (int(modified[:4]), int(modified[5:7]), int(modified[8:10]), 0, 0, 0)
    stamp = max(stamp, (1980, 1, 1, 0, 0, 0))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = [
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", CONTAINER.encode()),
        ]
        entries += sorted(files.items())
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data, compresslevel=9 if name != "mimetype" else None)
    return buffer.getvalue()
