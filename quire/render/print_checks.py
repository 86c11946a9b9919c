"""Nothing lost in print: wide tables made to fit, metadata glyphs checked, every word in the PDF.

WeasyPrint lays a table wider than the page out past the page's edge, where it is cut off: the
EPUB has every column and the PDF silently lacks some. Each layout pass names the tables that do
not fit; the next pass sets them smaller, then splits their columns into several tables (the
first column repeated in each, as the row labels). A table that still does not fit stops the
build with its file:line. After the PDF is written, its text layer is read back and the book's
text must be in it, in order (text_check.py).
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_right
from itertools import accumulate
from typing import Any

from lxml import etree

from quire.errors import BuildError, warn
from quire.fonts import FontSet, book_fonts, describe_characters
from quire.render import text_check
from quire.transform import Book, Chapter, locate

TABLE_NAME = "data-quire-table"
SMALL = "small"  # print.css: table.table-small
SPLIT = "split:"  # then column groups, e.g. "split:1,2,3;4,5"
TOLERANCE_PX = 1.0
PRINTED_SETTINGS = (("title", "title"), ("subtitle", "subtitle"), ("author", "authors"))
PRINTED_SETTINGS += (("publisher", "publisher"),)


def check_metadata_coverage(book: Book, fonts: FontSet) -> None:
    """Warn about a printed setting (title, author, ...) with a character no font has: it
    prints as a box (an error under --strict)."""
    config = book.config
    for key, name in PRINTED_SETTINGS:
        value = getattr(config, name)
        text = " ".join(value) if isinstance(value, tuple) else value or ""
        missing = fonts.uncovered(text)
        if missing:
            warn(
                f"`{key}` has the {describe_characters(missing)}, which no font has",
                file=config.origin,
                line=config.line_of(key) or config.line_of(f"{key}s"),
                hint="it prints as a box; change the setting, or add a .ttf or .otf font that "
                "has it to the book's fonts/ folder",
                group="characters no font has",
            )


# Line and paragraph separators: no font draws them (they are layout, not text), and
# WeasyPrint, unlike a browser, prints them as a box. In print they become line breaks.
SEPARATORS = re.compile("[\u2028\u2029]")


def separators_as_breaks(body: etree._Element) -> None:
    """Replace each line or paragraph separator in the text by a line break (<br>)."""
    for element in list(body.iter(etree.Element)):
        if element.text and SEPARATORS.search(element.text):
            element.text, *rest = SEPARATORS.split(element.text)
            for position, part in enumerate(rest):
                element.insert(position, _break(part))
        if element is not body and element.tail and SEPARATORS.search(element.tail):
            element.tail, *rest = SEPARATORS.split(element.tail)
            for part in reversed(rest):
                element.addnext(_break(part))


def _break(tail: str) -> etree._Element:
    """A <br> followed by text."""
    br = etree.Element("br")
    br.tail = tail
    return br


def fit_tables(chapter: Chapter, body: etree._Element, fixes: dict[str, str]) -> None:
    """Name each table for the layout passes, and set smaller or split those that did not fit."""
    for n, table in enumerate(list(body.iter("table"))):
        name = f"t{chapter.index}.{n}"
        table.set(TABLE_NAME, name)
        fix = fixes.get(name, "")
        if fix:
            table.set("class", (table.get("class", "") + " table-small").strip())
        if fix.startswith(SPLIT):
            groups = [[int(c) for c in group.split(",")] for group in fix[len(SPLIT) :].split(";")]
            _split_columns(table, groups)


def _split_columns(table: etree._Element, groups: list[list[int]]) -> None:
    """Replace a table by one table per column group, each led by the first column."""
    parts = []
    for number, group in enumerate(groups):
        part = copy.deepcopy(table)
        part.tail = None
        keep = {0, *group}
        for row in part.iter("tr"):
            for index, cell in enumerate(list(row)):
                if index not in keep:
                    row.remove(cell)
        for col in [*part.iter("col"), *part.iter("colgroup")]:
            col.getparent().remove(col)  # widths were for all the columns
        if number:
            for caption in part.findall("caption"):
                part.remove(caption)
            part.set("class", part.get("class", "") + " table-continued")
        parts.append(part)
    parts[-1].tail = table.tail
    for part in reversed(parts):
        table.addnext(part)
    table.getparent().remove(table)


def wide_table_faults(document: Any, fixes: dict[str, str]) -> dict[str, str]:
    """Tables wider than the page in a layout, each with the fix the next pass should try."""
    faults = {}
    for name, box, limit in _tables(document):
        if name in faults or box.position_x + box.margin_width() <= limit + TOLERANCE_PX:
            continue
        if name not in fixes:
            faults[name] = SMALL
        elif fixes[name] == SMALL and not _has_spans(box):
            groups = _column_groups(box, limit)
            if groups:
                faults[name] = SPLIT + ";".join(",".join(map(str, g)) for g in groups)
    return faults


def check_tables_fit(book: Book, document: Any) -> None:
    """Stop the build if a table is still wider than the page after every fix was tried."""
    for name, box, limit in _tables(document):
        if box.position_x + box.margin_width() > limit + TOLERANCE_PX:
            chapter = next(c for c in book.chapters if name.startswith(f"t{c.index}."))
            cell = next((t.strip() for t in box.element.itertext() if t.strip()), "")
            raise BuildError(
                "a table is too wide for the printed page, even set smaller and split",
                file=chapter.source.name,
                line=locate(chapter.source, cell) if cell else None,
                hint="give it fewer columns or shorter cells, or turn it into a list",
            )


def _tables(document: Any) -> list[tuple[str, Any, float]]:
    """(name, table box, right edge of the page's text area) for each named table laid out."""
    from weasyprint.formatting_structure.boxes import TableBox

    found = []
    for page in document.pages:
        root = page._page_box.children[0]
        limit = root.content_box_x() + root.width
        stack = [root]
        while stack:
            box = stack.pop()
            if isinstance(box, TableBox) and box.element is not None:
                name = box.element.get(TABLE_NAME)
                if name:
                    found.append((name, box, limit))
                    continue
            stack.extend(getattr(box, "children", ()))
    return found


def _has_spans(box: Any) -> bool:
    """True if any cell spans columns or rows: such a table cannot be split by columns."""
    cells = [e for e in box.element.iter() if str(e.tag).rsplit("}", 1)[-1] in ("td", "th")]
    return any(
        int(c.get("colspan", "1") or 1) > 1 or int(c.get("rowspan", "1") or 1) > 1 for c in cells
    )


def _column_groups(box: Any, limit: float) -> list[list[int]]:
    """Columns 1..n in groups that fit beside column 0, from the widths the layout gave them."""
    from weasyprint.formatting_structure.boxes import TableRowBox

    stack, row = [box], None
    while stack and row is None:
        current = stack.pop()
        if isinstance(current, TableRowBox):
            row = current
        stack.extend(reversed(getattr(current, "children", ())))
    if row is None or len(row.children) < 2:
        return []
    widths = [cell.margin_width() for cell in row.children]
    room = limit - box.position_x - widths[0]
    groups: list[list[int]] = [[]]
    for index, width in enumerate(widths[1:], start=1):
        if width > room:
            return []  # one column alone does not fit
        used = sum(widths[i] for i in groups[-1])
        if groups[-1] and used + width > room:
            groups.append([])
        groups[-1].append(index)
    return groups


def check_no_loss(book: Book, pdf: bytes) -> None:
    """Every word of the book's text must be in the PDF's text layer, in order (text_check);
    name the first run of text that is not. For the layout of the book as one document."""
    parts = [(chapter.id, chapter.body) for chapter in book.chapters]
    lost = text_check.losses(text_check.stream(parts, _printed), pdf_text(pdf))
    error = loss_error(book, lost) if lost else None
    if error:
        raise error


def pdf_text(pdf: bytes) -> str:
    """A PDF's text layer, page after page, with words hyphenated at a line's end joined."""
    import pymupdf

    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        flags = pymupdf.TEXT_DEHYPHENATE | pymupdf.TEXT_PRESERVE_WHITESPACE
        return "\n".join(page.get_text("text", flags=flags) for page in document)


def _printed(element: etree._Element) -> bool:
    """False for what print.css hides: the number of a chapter's heading (it prints
    "Chapter N" instead)."""
    parent = element.getparent()
    return not (
        parent is not None
        and parent.tag == "h1"
        and "header-section-number" in (element.get("class") or "").split()
    )


TITLE_PAGES = ("half-title", "title-page")  # render/pdf/html.py's ids


def loss_error(book: Book, lost: list[text_check.Loss]) -> BuildError | None:
    """The error for text missing from the PDF, named at the line of the first run lost; None
    if each run has a character no font has: such text prints as boxes, which the text layer
    reads as some other character, and the glyph check has warned about it."""
    fonts = book_fonts(book)
    lost = [loss for loss in lost if not fonts.uncovered(loss.words)]
    if not lost:
        return None
    first = lost[0]
    chapter = next((c for c in book.chapters if c.id == first.owner), None)
    file, line, where = None, None, ""
    if chapter is not None:
        file, line = _where(chapter, first)
    elif first.owner in TITLE_PAGES:  # printed from the settings
        file, where = str(book.config.origin) if book.config.origin else None, " title page"
    else:
        where = f" {first.owner or 'front matter'}"  # the contents, a list of figures
    more = f" (and {len(lost) - 1} more)" if len(lost) > 1 else ""
    return BuildError(
        f"the text `{first.words}` is missing from the PDF{where} (cut off or not drawn){more}",
        file=file,
        line=line,
        hint="this is a layout problem: shorten what holds it, or report it as a bug",
    )


def _where(chapter: Chapter, loss: text_check.Loss) -> tuple[str, int | None]:
    """The file and line of a chapter's source where a lost run of text stands: of the places
    its letters are, the one whose letters before it are most like the text before it."""
    wanted, before = text_check.letters(loss.words), text_check.letters(loss.before)[-60:]
    best: tuple[int, str, int] | None = None  # (letters agreeing before it, file, line)
    for source in (chapter.source, *chapter.more_sources):
        lines = [text_check.letters(line) for line in source.text.splitlines()]
        starts = list(accumulate((len(x) for x in lines), initial=0))
        joined = "".join(lines)
        at = joined.find(wanted) if wanted else -1
        while at >= 0:
            agree = _common_suffix(joined[max(0, at - len(before)) : at], before)
            if best is None or agree > best[0]:
                best = (agree, source.name, bisect_right(starts, at))
            at = joined.find(wanted, at + 1)
    if best is None:
        return chapter.where(loss.words.split()[0] if loss.words.split() else "")
    return best[1], best[2]


def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n
