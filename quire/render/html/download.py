"""The download page: cover, title, authors, description, a button per file, and its metadata."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

from lxml import etree

from quire.language.words import Words, book_words
from quire.render.contents import book_lists, contents_title
from quire.render.html.chapters import web_name
from quire.render.html.layout import (
    SiteLink,
    contents_html,
    footer_html,
    head_html,
    header_html,
    public_url,
    x,
)
from quire.transform import Book

OPF_NS = {"opf": "http://www.idpf.org/2007/opf"}
# The EPUB's schema.org accessibility properties, repeated in the page's JSON-LD.
A11Y_PROPERTIES = (
    "accessMode",
    "accessModeSufficient",
    "accessibilityFeature",
    "accessibilityHazard",
    "accessibilitySummary",
)


@dataclass(frozen=True)
class Download:
    """One file offered on the page."""

    href: str
    name: str  # what the button says, e.g. "EPUB"
    media_type: str
    size: int
    pages: int | None = None
    format: str = ""  # schema.org bookFormat; none for the printer's files
    source: str = ""  # the output it copies: epub, pdf, interior, cover


def reader_files(downloads: list[Download], words: Words) -> list[SiteLink]:
    """The editions a reader downloads (not the printer's files), named with their size."""
    return [
        SiteLink(d.href, f"{words.download(d.name)} ({button_facts(d, words)})")
        for d in downloads
        if d.format
    ]


def epub_accessibility(epub: bytes) -> dict[str, list[str]]:
    """The schema.org accessibility metadata of the EPUB's package document, by property."""
    with zipfile.ZipFile(io.BytesIO(epub)) as archive:
        opf = etree.fromstring(archive.read("EPUB/package.opf"))
    found: dict[str, list[str]] = {}
    for meta in opf.iterfind(".//opf:meta[@property]", OPF_NS):
        name = meta.get("property").removeprefix("schema:")
        if name in A11Y_PROPERTIES:
            found.setdefault(name, []).append(meta.text or "")
    return found


def human_size(size: int) -> str:
    """A file size as people read it: 457 KB, 1.2 MB."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def book_json_ld(
    book: Book, cover_href: str, downloads: list[Download], a11y: dict[str, list[str]]
) -> dict:
    """schema.org Book: the work, each file as an edition, and the EPUB's accessibility."""
    config = book.config
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Book",
        "name": config.title,
        "inLanguage": config.lang,
        "image": public_url(book, cover_href) or cover_href,
    }
    if config.site_url:
        data["url"] = config.site_url
    if config.subtitle:
        data["alternativeHeadline"] = config.subtitle
    data["author"] = [{"@type": "Person", "name": a} for a in config.authors]
    identifier = config.identifier or ""
    if identifier.startswith("urn:isbn:"):
        data["isbn"] = identifier.removeprefix("urn:isbn:")
    data["identifier"] = identifier
    for key, value in (
        ("datePublished", config.date),
        ("description", config.description),
    ):
        if value:
            data[key] = value
    if config.publisher:
        data["publisher"] = {"@type": "Organization", "name": config.publisher}
    for name, values in a11y.items():
        data[name] = values[0] if name == "accessibilitySummary" else values
    data["workExample"] = [_edition(book, d) for d in downloads if d.format]
    return data


def _edition(book: Book, download: Download) -> dict:
    edition = {
        "@type": "Book",
        "bookFormat": f"https://schema.org/{download.format}",
        "encodingFormat": download.media_type,
        "url": public_url(book, download.href) or download.href,
        "contentSize": human_size(download.size),
    }
    if download.pages:
        edition["numberOfPages"] = download.pages
    return edition


def open_graph(book: Book, cover_href: str) -> str:
    """Open Graph tags, for the preview a link to the page gets when it is shared."""
    config = book.config
    tags = [("og:type", "book"), ("og:title", config.title or "")]
    # Open Graph wants absolute addresses: given only with the site's public address.
    if config.site_url:
        tags += [
            ("og:url", public_url(book, "index.html")),
            ("og:image", public_url(book, cover_href)),
        ]
    tags.append(("og:locale", (config.lang or "").replace("-", "_")))
    if config.description:
        tags.append(("og:description", config.description))
    tags += [("book:author", a) for a in config.authors]
    if (config.identifier or "").startswith("urn:isbn:"):
        tags.append(("book:isbn", config.identifier.removeprefix("urn:isbn:")))
    if config.date:
        tags.append(("book:release_date", config.date))
    return "".join(f'<meta property="{x(k)}" content="{x(v)}">\n' for k, v in tags)


def script_json(text: str) -> str:
    """JSON safe inside a <script> element: `<`, `>` and `&` as JSON escapes, so that neither
    `</script>` nor `<!--` (which would make the parser swallow the rest of the page) can occur."""
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def button_facts(download: Download, words: Words) -> str:
    """A file's size, and its pages when it has pages: "487 KB, 57 pages"."""
    pages = words["PageCount"].format(n=download.pages) if download.pages else ""
    return ", ".join(fact for fact in (human_size(download.size), pages) if fact)


def button_html(download: Download, words: Words) -> str:
    """One download: a large link with the format, and its size and pages underneath."""
    kind = "button" if download.format else "button secondary"  # the printer's files: quieter
    return (
        f'<li><a class="{kind}" href="{x(download.href)}" download type="{x(download.media_type)}">'
        f'<span class="format">{x(words.download(download.name))}</span>'
        f'<span class="facts">{x(button_facts(download, words))}</span></a></li>'
    )


def _list_navs(book: Book) -> list[str]:
    """The lists of figures and tables that `lof: true` and `lot: true` ask for."""
    navs = []
    for kind, title, entries in book_lists(book):
        items = "".join(
            f'<li><a href="{x(web_name(e.chapter))}#{x(e.id)}">{x(e.text)}</a></li>'
            for e in entries
        )
        navs.append(
            f'<nav class="toc index-toc {kind}" aria-labelledby="{kind}-title">\n'
            f'<h2 id="{kind}-title">{x(title)}</h2>\n<ol>{items}</ol>\n</nav>\n'
        )
    return navs


def download_page(
    book: Book,
    cover_href: str,
    downloads: list[Download],
    a11y: dict[str, list[str]],
    contents: list[SiteLink],
) -> str:
    """index.html: the book's page, to download it or start reading it."""
    config = book.config
    alternates = "".join(
        f'<link rel="alternate" type="{x(d.media_type)}" href="{x(d.href)}"'
        f' title="{x(config.title)} ({x(d.name)})">\n'
        for d in downloads
    )
    ld = json.dumps(book_json_ld(book, cover_href, downloads, a11y), ensure_ascii=False, indent=1)
    ld = script_json(ld)
    extra = (
        (
            f'<meta name="description" content="{x(config.description)}">\n'
            if config.description
            else ""
        )
        + alternates
        + open_graph(book, cover_href)
        + f'<script type="application/ld+json">\n{ld}\n</script>\n'
    )
    authors = ", ".join(config.authors)
    words = book_words(config)
    cover_alt = f"{words['Cover']}: {config.title}" + (f" — {authors}" if authors else "")
    first = contents[0].href if contents else "index.html"
    return (
        head_html(book, config.title or "", "index.html", extra)
        + '<body class="download-page">\n'
        + header_html(book)
        + '<main id="text">\n<div class="book">\n'
        + f'<img class="cover" src="{x(cover_href)}" alt="{x(cover_alt)}">\n'
        + '<div class="about">\n'
        + f"<h1>{x(config.title)}</h1>\n"
        + (f'<p class="subtitle">{x(config.subtitle)}</p>\n' if config.subtitle else "")
        + (f'<p class="authors">{x(authors)}</p>\n' if authors else "")
        + '<section id="downloads" aria-labelledby="downloads-title">\n'
        + f'<h2 id="downloads-title">{x(words["Downloads"])}</h2>\n<ul class="buttons">\n'
        + "\n".join(button_html(d, words) for d in downloads)
        + "\n</ul>\n</section>\n"
        + f'<p class="read"><a class="button secondary" href="{x(first)}">'
        + f"{x(words['ReadHere'])}</a></p>\n"
        + (f'<p class="description">{x(config.description)}</p>\n' if config.description else "")
        + "</div>\n</div>\n"
        + '<nav class="toc index-toc" aria-labelledby="contents-title">\n'
        + f'<h2 id="contents-title">{x(contents_title(book))}</h2>\n'
        + contents_html(contents, "")
        + "\n</nav>\n"
        + "".join(_list_navs(book))
        + "</main>\n"
        + footer_html(book, reader_files(downloads, words))
        + "</body>\n</html>\n"
    )
