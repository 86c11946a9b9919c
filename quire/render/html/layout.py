"""The frame every page of the site shares: head, header with search, contents, previous/next."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape

from lxml import etree

from quire.language.scripts import dir_attribute
from quire.language.words import book_words, script_words
from quire.render.contents import contents_title, nested_list
from quire.transform import Book

# Nothing outside the site: no CDN, no web fonts from elsewhere, no analytics. Pagefind's search
# runs WebAssembly, which needs 'wasm-unsafe-eval' (not 'unsafe-eval': no eval of strings).
CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'{styles};"
    " img-src 'self'; font-src 'self'; connect-src 'self'; worker-src 'self'; base-uri 'none';"
    " form-action 'self'"
)


@dataclass(frozen=True)
class SiteLink:
    """A link to a page of the site: where, and what it is called."""

    href: str
    title: str
    # (href, title, level) of the chapter's sections listed under it (toc-depth)
    sections: tuple[tuple[str, str, int], ...] = ()


def x(text: str | None) -> str:
    """Text escaped for HTML content and for a double-quoted attribute value: `&`, `<`, `>`
    and both quotes, so that no value of the book's settings can end an attribute early."""
    return escape(text or "", quote=True)


def style_hashes(main: etree._Element | None) -> str:
    """CSP sources allowing exactly the page's own style attributes (pandoc's column widths).

    They were checked with the rest of the text in the transform stage; hashing each one
    lets them through while any other inline style stays blocked.
    """
    if main is None:
        return ""
    values = sorted(
        {e.get("style") for e in main.iter() if isinstance(e.tag, str) and e.get("style")}
    )
    if not values:
        return ""
    hashes = [base64.b64encode(hashlib.sha256(v.encode()).digest()).decode() for v in values]
    return " 'unsafe-hashes'" + "".join(f" 'sha256-{h}'" for h in hashes)


def public_url(book: Book, href: str) -> str | None:
    """A file's absolute address on the public site (`site-url`), or None without one."""
    site = book.config.site_url
    return None if site is None else site + ("" if href == "index.html" else href)


def head_html(
    book: Book, title: str, href: str, extra: str = "", main: etree._Element | None = None
) -> str:
    """The document start: language, viewport, CSP, canonical address, style sheets, script."""
    lang = f'"{x(book.config.lang or "und")}"'
    csp = CSP.format(styles=style_hashes(main))
    canonical = public_url(book, href)
    if canonical:
        extra = f'<link rel="canonical" href="{x(canonical)}">\n' + extra
    return (
        f'<!DOCTYPE html>\n<html lang={lang}{dir_attribute(book.config)}>\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{x(title)}</title>\n"
        '<link rel="icon" type="image/png" href="favicon.png">\n'
        '<link rel="stylesheet" href="fonts.css">\n<link rel="stylesheet" href="web.css">\n'
        '<script src="site.js" defer></script>\n'
        # The words site.js says, in the book's language (data, not a script: CSP allows it).
        f'<script type="application/json" id="quire-words">'
        f"{script_words(book_words(book.config))}</script>\n"
        f"{extra}</head>\n"
    )


def header_html(book: Book) -> str:
    """The bar at the top: skip link, the book's name linking home, and the search form.

    The search form stays hidden until the script shows it: without JavaScript it could not work.
    """
    words = book_words(book.config)
    return (
        f'<a class="skip" href="#text">{x(words["SkipToText"])}</a>\n'
        '<header class="bar">\n'
        f'<a class="home" href="index.html">{x(book.config.title)}</a>\n'
        '<div class="search" hidden>\n'
        f'<form action="index.html" role="search" aria-label="{x(words["SearchBook"])}">\n'
        f'<label for="q">{x(words["Search"])}</label>\n'
        '<input id="q" name="q" type="search" autocomplete="off">\n'
        f'<button type="submit">{x(words["Find"])}</button>\n'
        "</form>\n"
        '<div class="results" aria-live="polite"></div>\n'
        "</div>\n</header>\n"
    )


def contents_html(contents: list[SiteLink], current: str) -> str:
    """The book's contents, the current chapter marked for the eye and for screen readers."""
    items = []
    for link in contents:
        here = ' aria-current="page"' if link.href == current else ""
        items.append(
            f'<li><a href="{x(link.href)}"{here}>{x(link.title)}</a>'
            f"{nested_list(list(link.sections))}</li>"
        )
    return "<ol>\n" + "\n".join(items) + "\n</ol>"


def pager_html(book: Book, prev: SiteLink | None, after: SiteLink | None) -> str:
    """Previous and next chapter links."""
    words = book_words(book.config)
    parts = [f'<nav class="pager" aria-label="{x(words["Pager"])}">']
    for rel, link, word in (("prev", prev, words["Previous"]), ("next", after, words["Next"])):
        if link:
            parts.append(
                f'<a rel="{rel}" href="{x(link.href)}"><span>{x(word)}</span> {x(link.title)}</a>'
            )
    return "\n".join(parts) + "\n</nav>\n"


def page_html(
    book: Book,
    title: str,
    main: etree._Element,
    contents: list[SiteLink],
    current: str,
    prev: SiteLink | None,
    after: SiteLink | None,
    files: list[SiteLink],
) -> str:
    """A whole chapter page; `files` are the downloads its footer offers."""
    links = "".join(
        f'<link rel="{rel}" href="{x(link.href)}">\n'
        for rel, link in (("prev", prev), ("next", after))
        if link
    )
    markup = etree.tostring(main, method="html", encoding="unicode", with_tail=False)
    return (
        head_html(book, f"{title} · {book.config.title}", current, links, main)
        + '<body class="chapter-page">\n'
        + header_html(book)
        + '<div class="layout">\n'
        + f'<nav class="toc" aria-label="{x(contents_title(book))}">\n<details>\n'
        + f"<summary>{x(contents_title(book))}</summary>\n"
        + contents_html(contents, current)
        + "\n</details>\n</nav>\n"
        + f'<main id="text" data-pagefind-body>\n{markup}\n</main>\n'
        + "</div>\n"
        + pager_html(book, prev, after)
        + footer_html(book, files)
        + "</body>\n</html>\n"
    )


def footer_html(book: Book, downloads: list[SiteLink]) -> str:
    """The foot of every page: the book, who made it, its files and its rights line."""
    config = book.config
    year = (config.date or "")[:4]
    made = list(dict.fromkeys([", ".join(config.authors), config.publisher or "", year]))
    identifier = config.identifier or ""
    isbn = identifier.removeprefix("urn:isbn:") if identifier.startswith("urn:isbn:") else ""
    files = "".join(f'<li><a href="{x(d.href)}" download>{x(d.title)}</a></li>' for d in downloads)
    lines = [
        f'<p class="foot-title"><a href="index.html">{x(config.title)}</a></p>',
        f"<p>{x(' · '.join(m for m in made if m))}</p>" if any(made) else "",
        f"<p>ISBN {x(isbn)}</p>" if isbn else "",
        f"<p>{x(config.rights)}</p>" if config.rights else "",
    ]
    return (
        '<footer class="foot">\n<div class="foot-book">\n'
        + "\n".join(line for line in lines if line)
        + "\n</div>\n"
        + (
            f'<nav class="foot-files" aria-label="{x(book_words(config)["Downloads"])}">'
            f"<ul>{files}</ul></nav>\n"
            if files
            else ""
        )
        + "</footer>\n"
    )
