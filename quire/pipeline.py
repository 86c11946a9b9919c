"""The build: load → parse → transform → render → validate → package, with data between stages."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from quire import incremental, press
from quire.ahead import ahead, begin_build
from quire.bounds import check_book, check_bounds
from quire.errors import BuildError, Finding, Findings, report_again
from quire.load import load
from quire.load import manuscript as load_stage
from quire.load.config import BookConfig
from quire.load.confine import file_digest, kind_of, read_file, touched_since
from quire.package import (
    CACHE_FOLDER,
    Written,
    check_output_folder,
    package,
    page_map_signed,
    write_cache,
    write_cache_file,
)
from quire.parse import html as pandoc_html
from quire.parse import pandoc
from quire.render import Output, PageStart, Renderer
from quire.render.pages import PAGE_MAP_VERSION
from quire.transform import Book, ascii_slug, transform
from quire.transform.sources import check_book_styles

if TYPE_CHECKING:
    from quire.render.pdf.compose import Progress

# The PDF first: the EPUB's page-list comes from its layout, the print kit from its pages.
# The web edition last: it offers the other files for download.
FORMATS = ("pdf", "epub", "html")
RENDER_ORDER = ("pdf", *press.PRESS_FORMATS, "epub", "html")
# Where each format's renderer lives.
RENDERERS = {
    "pdf": ("quire.render.pdf", "PdfRenderer"),
    "interior": ("quire.press.interior", "InteriorRenderer"),
    "cover": ("quire.press.cover", "CoverRenderer"),
    "epub": ("quire.render.epub", "EpubRenderer"),
    "html": ("quire.render.html", "HtmlRenderer"),
}
NEEDED = {"html": ("pdf", "epub")}  # formats a format is made from, rendered even if not asked for
# The cache's folders of pandoc's work, whose entries each build keeps or drops (the PDF's
# layout cache names its own folders in its Output).
PANDOC_KINDS = (pandoc.PARSED, pandoc_html.HTML)
Report = Callable[[str, float, str], None]
WARNINGS_FILE = "warnings.json"  # the last build's warnings, reported again when it is up to date


def renderers_for(
    formats: tuple[str, ...], cache: Path | None = None, progress: Progress | None = None
) -> list[Renderer]:
    """The renderers for the requested formats, in the order they must run."""
    # Imported here, not above, and only those wanted: a build with nothing to do needs none
    # (see incremental.py), and an EPUB-only build need not load the print machinery.
    renderers: list[Renderer] = []
    wanted = _wanted(formats)
    for name in (f for f in RENDER_ORDER if f in wanted):
        module, class_name = RENDERERS[name]
        renderer = getattr(importlib.import_module(module), class_name)
        # The PDF keeps its layouts in the build cache and reports its progress; the web
        # edition keeps its encoded fonts there.
        arguments = {"pdf": (cache, progress), "html": (cache,)}.get(name, ())
        renderers.append(renderer(*arguments))
    return renderers


def _wanted(formats: tuple[str, ...]) -> set[str]:
    """The formats asked for and those they are made from."""
    return set(formats).union(*(NEEDED.get(f, ()) for f in formats))


def timed(report: Report, name: str, func: Callable[..., Any], *args: Any) -> Any:
    """Run one stage and report how long it took."""
    start = time.perf_counter()
    result = func(*args)
    detail = _describe(result)
    report(name, time.perf_counter() - start, detail)
    return result


def _describe(result: Any) -> str:
    if isinstance(result, list) and result and isinstance(result[0], pandoc.Parsed):
        return _read_by_pandoc(result)
    if isinstance(result, load_stage.Manuscript):
        return f"{_count(len(result.files), 'file')} from {result.project}"
    if isinstance(result, Book):
        return f"{_count(len(result.chapters), 'chapter')}, {_count(len(result.assets), 'image')}"
    if isinstance(result, Output) and result.pages:
        return f"{result.pages} pages" + _laid_out(result.laid_out)
    return ""


def _read_by_pandoc(parsed: list[pandoc.Parsed]) -> str:
    """Which files pandoc read again (the others came from the cache), as the report says it."""
    read = [Path(item.source.name).name + _parts(item) for item in parsed if not item.from_cache]
    files = _count(len(parsed), "file")
    if len(read) == len(parsed) and not any(_parts(item) for item in parsed):
        return f"{files}; read: all"  # a cold build: the report need not list them
    return f"{files}; read: " + (", ".join(read) or "nothing (all from the cache)")


def _parts(item: pandoc.Parsed) -> str:
    """Of a file read in parts (parse/parts.py), how many pandoc read, if not all."""
    if item.parts is None or item.parts[0] == item.parts[1]:
        return ""
    return f" ({item.parts[0]} of {item.parts[1]} parts)"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _laid_out(parts: tuple[str, ...] | None) -> str:
    """What the PDF renderer laid out again, as the report says it."""
    if parts is None:
        return ""
    return "; laid out: " + (", ".join(parts) if parts else "nothing (all from the cache)")


def build(
    source: Path,
    out: Path,
    formats: tuple[str, ...],
    report: Report,
    progress: Progress | None = None,
    strict: bool = False,
) -> list[Written]:
    """Build the requested formats of one manuscript into `out`; write nothing on failure.

    Under `strict` (or the book's `strict: true`) a warning is an error: the build stops
    before anything is written, with every warning it found."""
    touched_since(reset=True)  # what this build reads, for the next one's digest
    with Findings() as findings:
        check_output_folder(out)
        manuscript = timed(report, "load", load, source)
        strict = strict or manuscript.config.strict
        used = incremental.used_by_last_build(out / CACHE_FOLDER)
        inputs = incremental.input_digest(manuscript, formats, out, used)
        done = incremental.unchanged(out / CACHE_FOLDER, inputs)
        if done is not None:
            _report_again(out / CACHE_FOLDER / WARNINGS_FILE)
            if strict and findings.about_the_book:
                raise findings.as_error()
            report("up to date", 0.0, "nothing changed since the last build; outputs untouched")
            return _written_again(done, manuscript.config, out)
        written = _build(manuscript, out, formats, report, progress, inputs, findings, strict)
    return written


def _report_again(path: Path) -> None:
    """Log again the warnings of the last build, which an up-to-date build would repeat."""
    try:
        kept = json.loads(read_file(path, "cache", file=str(path)))
        found = [Finding.from_json(item) for item in kept]
    except (BuildError, OSError, ValueError, TypeError, KeyError):
        return  # none kept, or a damaged file: the outputs are still those of a good build
    for finding in found:
        report_again(finding)  # placed at the author's line when it was found


def _build(
    manuscript: load_stage.Manuscript,
    out: Path,
    formats: tuple[str, ...],
    report: Report,
    progress: Progress | None,
    inputs: str,
    findings: Findings,
    strict: bool,
) -> list[Written]:
    """Parse, transform, render, validate and package a loaded manuscript."""
    warming = warm_up(manuscript, formats)
    pandoc_cache = pandoc.pandoc_cache(out / CACHE_FOLDER)
    parsed = timed(report, "parse", pandoc.parse_all, manuscript.files, pandoc_cache)
    check_bounds(parsed)
    book = timed(report, "transform", transform, manuscript, parsed, pandoc_cache)
    del parsed  # the book holds what it needs: the ASTs would double the build's memory
    check_book(book)
    warming.join()
    press.check_settings(book.config)
    formats = (*formats, *press.press_formats(book.config, formats))
    slug = ascii_slug(book.config.title or "") or "book"
    fingerprint = source_fingerprint(book)
    outputs: dict[str, Output] = {}
    if "pdf" not in formats:
        cached = load_page_map(out, slug, fingerprint)
        if cached:
            outputs["pdf"] = Output("pdf", b"", page_starts=cached)
    try:
        for renderer in renderers_for(formats, out / CACHE_FOLDER, progress):
            outputs[renderer.format] = timed(
                report, f"render {renderer.format}", renderer.render, book, outputs
            )
        for fmt, made in list(outputs.items()):  # the PDF's join, while the EPUB was rendered
            if made.pending is not None:
                if not made.pending.done:  # (the web edition waits for the PDF it offers)
                    timed(report, f"join {fmt}", made.pending.result)
                outputs[fmt] = made.ready()
    except BaseException:
        for made in outputs.values():
            if made.pending is not None:
                made.pending.cancel()
        raise
    timed(report, "validate", validate_outputs, {f: outputs[f] for f in formats})
    if strict and findings.about_the_book:  # before anything is written
        raise findings.as_error()
    written = timed(
        report, "package", package, out, slug, fingerprint, {f: outputs[f] for f in formats}
    )
    config = book.config
    # Only print files have a bleed; an EPUB-only build need not load the print renderer for it.
    printed = any(f in ("pdf", *press.PRESS_FORMATS) for f in formats)
    bleed = _bleed(config) if printed else 0.0
    uses = incremental.used_files(manuscript.root, touched_since(), out)
    if manuscript.single_file:  # its digest covers what it used, known only now
        inputs = incremental.input_digest(manuscript, formats, out, tuple(uses))
    record = incremental.record(
        inputs, [(w.path, w.format, w.size, w.pages, w.notes) for w in written], bleed, uses
    )
    with contextlib.suppress(OSError):  # without the cache the next build only takes longer
        for made in outputs.values():  # a PDF taken from the last build's page map has none
            if made.cache_kinds:
                write_cache(out / CACHE_FOLDER, made.cache_files, made.cache_kept, made.cache_kinds)
        pandoc_made = tuple(sorted(pandoc_cache.new.items()))
        write_cache(out / CACHE_FOLDER, pandoc_made, frozenset(pandoc_cache.used), PANDOC_KINDS)
        kept = json.dumps([f.to_json() for f in findings.found]).encode()
        write_cache_file(out / CACHE_FOLDER / WARNINGS_FILE, kept)
        write_cache_file(out / CACHE_FOLDER / incremental.RECORD, record)  # last: all is written
    return [
        replace(w, trim=config.trim, bleed=bleed, printer=config.printer, paper=config.paper)
        if w.format in ("pdf", *press.PRESS_FORMATS)
        else w
        for w in written
    ]


def warm_up(manuscript: load_stage.Manuscript, formats: tuple[str, ...]) -> threading.Thread:
    """Start what needs only the loaded manuscript, while pandoc parses it and the build's
    process mostly waits: pandoc's abbreviations, the style sheets' check and the drawn cover
    (ahead.py), the layout server (which imports WeasyPrint for the workers), and the
    renderers' imports, in the background; the thread that imports.

    WeasyPrint is imported here too only for the print kit, whose cover is laid out here."""
    begin_build()
    # Its own pandoc process (30 ms), needed before the files are read in two halves.
    ahead(pandoc.abbreviations)
    ahead(check_book_styles, manuscript.root, manuscript.styles)
    wanted = _wanted(formats)
    modules = [RENDERERS[name][0] for name in RENDER_ORDER if name in wanted]
    if set(formats) & {"pdf", "html", *press.PRESS_FORMATS}:
        from quire.render.pdf.parallel import LAYOUT_MODULES, start_layout_server

        start_layout_server()
        modules.append("pikepdf")
        if set(formats) & set(press.PRESS_FORMATS):
            modules.extend(LAYOUT_MODULES)
    drawn = set(formats) & {"epub", "html"} and not manuscript.config.cover_image

    def load() -> None:
        for name in modules:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        if drawn:  # the typographic cover (epub/content.py), when the book names no image
            _draw_cover_ahead(manuscript.config, manuscript.styles / "fonts")

    thread = threading.Thread(target=load, name="quire-warm-up", daemon=True)
    thread.start()
    return thread


def _draw_cover_ahead(config: BookConfig, fonts: Path) -> None:
    from quire.cover import cover_png
    from quire.fonts import load_fonts

    ahead(load_fonts, fonts)
    ahead(cover_png, config.title or "", config.subtitle, config.authors, fonts)


def _bleed(config: BookConfig) -> float:
    from quire.render.pdf.layout import effective_bleed

    return effective_bleed(config)


def _written_again(items: list[dict], config: BookConfig, out: Path) -> list[Written]:
    """What an up-to-date build reports: the files the last build wrote, named under `out` as
    this build was asked (the record keeps where they were written, perhaps by another path)."""
    printed = ("pdf", *press.PRESS_FORMATS)
    written = [
        Written(out / Path(i["path"]).name, i["format"], i["size"], i["pages"], tuple(i["notes"]))
        for i in items
    ]
    return [
        replace(w, trim=config.trim, bleed=i["bleed"], printer=config.printer, paper=config.paper)
        if w.format in printed
        else w
        for w, i in zip(written, items, strict=True)
    ]


def validate_outputs(outputs: dict[str, Output]) -> None:
    """Check what was made before anything is written: every XML file of the EPUB parses."""
    import io
    import zipfile

    epub = outputs.get("epub")
    if epub is not None:
        with zipfile.ZipFile(io.BytesIO(epub.data)) as archive:
            for name in archive.namelist():
                if name.endswith((".xhtml", ".opf", ".ncx", ".xml")):
                    try:
                        etree.fromstring(archive.read(name))
                    except etree.XMLSyntaxError as exc:
                        raise BuildError(
                            f"internal error: {name} is not well-formed: {exc}", kind="bug"
                        ) from None
    for fmt in ("pdf", *press.PRESS_FORMATS):
        made = outputs.get(fmt)
        if made is not None and not made.data.startswith(b"%PDF-"):
            raise BuildError(f"internal error: the {fmt} renderer made no PDF", kind="bug")


def source_fingerprint(book: Book) -> str:
    """A hash of everything the print layout depends on, to reuse it for an EPUB-only build."""
    digest = hashlib.sha256(PAGE_MAP_VERSION.encode() + repr(book.config).encode())
    # Files are digested in chunks within their kinds' size caps, never read whole.
    for asset in book.assets:  # an image's size changes the layout
        digest.update(asset.href.encode() + _digest_of(asset.path))
    for chapter in book.chapters:
        digest.update(chapter.source.text.encode())
    for css in sorted(book.styles.rglob("*")):
        if css.is_file():
            digest.update(css.name.encode() + _digest_of(css))
    for css in book.print_css:  # the book's own print styles change the layout too
        digest.update(css.name.encode() + _digest_of(css))
    return digest.hexdigest()


def _digest_of(path: Path) -> bytes:
    return bytes.fromhex(file_digest(path, kind_of(path), file=str(path)))


def load_page_map(out: Path, slug: str, fingerprint: str) -> tuple[PageStart, ...]:
    """The page starts of the last PDF layout of the same sources, if there is one."""
    path = out / CACHE_FOLDER / f"{slug}.pages.json"
    try:
        data = json.loads(read_file(path, "cache", file=str(path)))  # never a FIFO or /dev/zero
        if data.get("fingerprint") != fingerprint or not page_map_signed(data):
            return ()  # another layout's, or not written by this user's Quire
        return tuple(PageStart(**item) for item in data["starts"])
    except (BuildError, OSError, ValueError, TypeError, KeyError, AttributeError):
        return ()  # no cache, or one from another version of Quire: lay the book out again
