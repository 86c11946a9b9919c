"""Assembly: the units' PDFs joined with pikepdf into one book, as one layout would have made it.

What one document would have had once and the units have each: the page sequence (with the
blank versos that put each chapter on a recto), page labels, named destinations and the links
to them, the outline, the font programs (one per face, see shared_fonts.py), and the PDF/UA
structure tree. The tree is rebuilt as one Document
element holding every unit's elements; the keys of the ParentTree (which maps each page's
marked content and each link annotation back to its structure element) are renumbered, and
each page's /StructParents and each annotation's /StructParent with them.

The join is fed as the units come: each unit's PDF goes to the join's process, and is opened
there and its fonts' subsets read (add_unit), as soon as it is laid out or found in the cache,
while the others are still being laid out; once the last one is, finish_join copies them into the book in reading order
and joins what the units have once. A rebuild after a one-word edit finds all but one unit in
the cache, so the join has read the rest of the book by the time that one is laid out.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, String

from quire.render.pdf.html import ANCHOR_SCHEME
from quire.render.pdf.shared_fonts import Parsed, read_subsets, share_font_programs

FOLIO_XOBJECT = "/QuireFolio"
CATALOG_KEYS = ("/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata", "/OutputIntents")


# The book being joined in this process: the join runs in a process of its own
# (parallel.Workers.apart), which takes its calls one at a time in the order they were made.
_books: list[_Book] = []


def begin_join() -> None:
    """Begin a new book in this process, dropping any earlier one (a build that failed)."""
    _books[:] = [_Book(pikepdf.new())]


def add_unit(unit: int, data: bytes) -> None:
    """Open a unit's PDF for the book begun, and read its fonts' subsets (a unit added again,
    laid out again in a later round, replaces its earlier PDF)."""
    book = _books[-1]
    if unit in book.sources:
        book.sources[unit].close()
    book.sources[unit] = pikepdf.open(io.BytesIO(data))
    read_subsets(book.sources[unit], book.subsets)


def finish_join(
    sequence: list[tuple[int, int] | None],
    body_start: int,
    stamps: dict[int, tuple[bytes, int]],
    blank: bytes,
    outline: list[str] | None = None,
    direction: str = "ltr",
) -> bytes:
    """The book's PDF, from the units added: sequence[i] is (unit, page in unit) or None for a
    blank verso; stamps maps a page index to (sheet PDF, page of the sheet) whose folio is
    drawn over it; a right-to-left book's viewer preferences say so.

    The units are copied in reading order, whatever order they came in: the saved file
    numbers its objects partly in the order they were made, and must not depend on which
    worker finished first. Each is closed as soon as it is copied (see _detach): with every
    unit's copies still reading from it, joining a long book took more memory than any other
    step of the build."""
    book = _books.pop()
    out = book.out
    order = [unit for unit, _ in groupby(e[0] for e in sequence if e is not None)]
    units = _copied_in_order(book, order)
    for unit in order:
        shown = [e[1] for e in sequence if e is not None and e[0] == unit]
        if shown != list(range(len(units[unit].pages))):  # every page of it, in its order
            raise RuntimeError(f"unit {unit}: pages {shown} of {len(units[unit].pages)}")
    for entry in sequence:
        if entry is None:
            _append_blank(out, blank)
        else:
            out.pages.append(pikepdf.Page(units[entry[0]].pages[entry[1]]))
    # Each unit's place in the outline (units.Unit.outline): a part's chapters go under it.
    places = outline or [""] * (max(order, default=-1) + 1)
    _join_shares(out, [units[unit] for unit in order], [places[unit] for unit in order])
    _point_links_home(out)
    _stamp_folios(out, stamps)
    _label_pages(out, body_start)
    if direction == "rtl":
        set_right_to_left(out)
    share_font_programs(out, book.subsets)
    buffer = io.BytesIO()
    out.save(
        buffer,
        deterministic_id=True,
        min_version=units[order[0]].version,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    return buffer.getvalue()


@dataclass
class _Unit:
    """A unit copied into the book: its pages (not yet in the book's page tree) and its share
    of what one document has once."""

    version: str
    pages: list[pikepdf.Object]
    tagged: bool
    elements: list[pikepdf.Object]  # its structure elements, children of the one Document
    parent_tree: list[tuple[int, pikepdf.Object]]  # its ParentTree's (key, value) pairs
    role_map: dict[str, pikepdf.Object]
    destinations: list[tuple[str, pikepdf.Object]]
    outline: list[OutlineItem]


@dataclass
class _Book:
    out: pikepdf.Pdf
    sources: dict[int, pikepdf.Pdf] = field(default_factory=dict)  # unit -> its PDF, opened
    subsets: Parsed = field(default_factory=dict)  # its fonts' subsets, read ahead


def _copied_in_order(book: _Book, order: list[int]) -> dict[int, _Unit]:
    """The units copied into the book in this order, each PDF closed once copied; the first
    unit's catalog entries and information are the book's."""
    out, units = book.out, {}
    for unit in order:
        with _opened(out, book.sources.pop(unit)) as source:
            units[unit] = _copied_unit(out, source)
            if unit == order[0]:
                for key in CATALOG_KEYS:
                    if key in source.Root:
                        out.Root[key] = _copy(out, source, source.Root[key])
                out.trailer.Info = _copy(out, source, source.trailer.Info)
    for source in book.sources.values():  # units laid out again in a later round
        source.close()
    return units


def _copied_unit(out: pikepdf.Pdf, source: pikepdf.Pdf) -> _Unit:
    """A unit's pages and share, copied into `out`: what they refer to (pages, structure
    elements) becomes the book's copies of it."""
    pages = [out.copy_foreign(page.obj) for page in source.pages]  # without their /Parent
    root = source.Root.get("/StructTreeRoot")
    elements, parent_tree, role_map = [], [], {}
    if root is not None:
        root = out.copy_foreign(root)
        elements = [kid for old in root.K for kid in old.get("/K", Array())]
        nums = root.ParentTree.Nums
        parent_tree = [(int(nums[n]), nums[n + 1]) for n in range(0, len(nums), 2)]
        role_map = dict(root.get("/RoleMap", Dictionary()).items())
    names = source.Root.get("/Names", Dictionary()).get("/Dests", Dictionary())
    flat = names.get("/Names", Array())
    destinations = [(str(flat[n]), _copy(out, source, flat[n + 1])) for n in range(0, len(flat), 2)]
    with source.open_outline() as outline:
        items = [_copy_item(out, source, item) for item in outline.root]
    return _Unit(
        source.pdf_version, pages, root is not None, elements, parent_tree, role_map,
        destinations, items,
    )  # fmt: skip


def _join_shares(out: pikepdf.Pdf, units: list[_Unit], places: list[str]) -> None:
    """Put the units' shares in the book, in reading order: one structure tree (and the
    renumbered ParentTree keys on their pages), the named destinations, the outline."""
    if all(unit.tagged for unit in units):  # every unit tagged (no pdf-variant: none)
        _join_structure(out, units)
    destinations: dict[str, pikepdf.Object] = {}
    for unit in units:
        for name, destination in unit.destinations:
            destinations.setdefault(name, destination)  # the first unit's, as one layout's
    # Made whole, then put in an Array: extending an Array item by item costs its length each time.
    flat = [x for name in sorted(destinations) for x in (String(name), destinations[name])]
    if flat:  # sorted, as WeasyPrint sorts them
        out.Root.Names = Dictionary(Dests=Dictionary(Names=Array(flat)))
    outline_items = _nested_outline(units, places)
    if outline_items:
        with out.open_outline() as outline:
            outline.root.extend(outline_items)


def _nested_outline(units: list[_Unit], places: list[str]) -> list[OutlineItem]:
    """The units' bookmarks in reading order, a part's chapters' under the part's own."""
    roots: list[OutlineItem] = []
    part: OutlineItem | None = None
    for unit, place in zip(units, places, strict=True):
        for item in unit.outline:
            (part.children if place == "in-part" and part is not None else roots).append(item)
        if place == "part" and unit.outline:
            part = unit.outline[-1]
        elif place != "in-part":
            part = None
    return roots


def _join_structure(out: pikepdf.Pdf, units: list[_Unit]) -> None:
    """One Document element holding every unit's elements; the keys of each unit's
    ParentTree renumbered after those of the units before it, and its pages' and
    annotations' keys with them."""
    document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document))
    kids, nums, role_map = [], [], Dictionary()  # lists, made whole into Arrays (see above)
    for unit in units:
        for kid in unit.elements:
            kid.P = document
            kids.append(kid)
        keys = {}
        for old, value in unit.parent_tree:
            keys[old] = len(nums) // 2
            nums += [len(nums) // 2, value]
        for page in unit.pages:
            if "/StructParents" in page:
                page.StructParents = keys[int(page.StructParents)]
            for annotation in page.get("/Annots", Array()):
                if "/StructParent" in annotation:
                    annotation.StructParent = keys[int(annotation.StructParent)]
        for key, value in unit.role_map.items():
            role_map[key] = value
    document.K = Array(kids)
    tree = out.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=Array([document])))
    document.P = tree
    tree.ParentTree = out.make_indirect(Dictionary(Nums=Array(nums)))
    tree.ParentTreeNextKey = len(nums) // 2
    if role_map:
        tree.RoleMap = role_map
    out.Root.StructTreeRoot = tree


@contextlib.contextmanager
def _opened(out: pikepdf.Pdf, data: bytes | pikepdf.Pdf) -> Iterator[pikepdf.Pdf]:
    """A PDF to copy from into `out` (opened already, or its bytes), closed once the copies
    no longer need it (_detach)."""
    first = _next_number(out)
    source = data if isinstance(data, pikepdf.Pdf) else pikepdf.open(io.BytesIO(data))
    try:
        yield source
        _detach(out, range(first, _next_number(out)))
    finally:
        source.close()


def _next_number(out: pikepdf.Pdf) -> int:
    """The object number the next new object of `out` takes: objects are numbered in the
    order they are made. (Asked by making an empty one, which the save leaves out, as it
    leaves out every object nothing refers to; `len(out.objects)` lists them all.)"""
    return out.make_indirect(Dictionary()).objgen[0] + 1


def _detach(out: pikepdf.Pdf, numbers: range) -> None:
    """Give the streams copied into `out` as objects `numbers` their data now.

    pikepdf copies a stream's dictionary at once but its data only when the book is saved,
    reading it from the PDF it came from, which must stay open (and in memory) until then."""
    for number in numbers:
        obj = out.get_object(number, 0)
        if isinstance(obj, pikepdf.Stream):
            raw = obj.read_raw_bytes()
            filters, parameters = obj.get("/Filter"), obj.get("/DecodeParms")
            obj.write(raw, filter=filters, decode_parms=parameters, type_check=False)


def _append_blank(out: pikepdf.Pdf, blank: bytes) -> None:
    """A blank verso, from a fresh copy of the blank layout (the second page is the verso)."""
    with _opened(out, blank) as source:
        out.pages.append(source.pages[1])
    if "/StructParents" in out.pages[-1].obj:
        del out.pages[-1].obj["/StructParents"]


def _copy_item(out: pikepdf.Pdf, source: pikepdf.Pdf, item: OutlineItem) -> OutlineItem:
    destination = item.destination
    if isinstance(destination, pikepdf.Array):
        destination = Array(list(_copy(out, source, destination)))
    copy = OutlineItem(item.title, destination)
    copy.is_closed = item.is_closed
    copy.children.extend(_copy_item(out, source, child) for child in item.children)
    return copy


def _copy(out: pikepdf.Pdf, source: pikepdf.Pdf, value: pikepdf.Object) -> pikepdf.Object:
    """An object of a unit's PDF copied into the book (pikepdf copies only indirect ones);
    the pages it refers to become the book's copies of them."""
    if not value.is_indirect:
        value = source.make_indirect(value)
    return out.copy_foreign(value)


def _point_links_home(out: pikepdf.Pdf) -> None:
    """A link a unit made to another unit (a quire-anchor: URI) becomes a link to the
    destination, as a link inside one document is."""
    for page in out.pages:
        for annotation in page.obj.get("/Annots", Array()):
            action = annotation.get("/A")
            if action is None or action.get("/S") != Name.URI:
                continue
            uri = str(action.URI)
            if uri.startswith(ANCHOR_SCHEME):
                name = uri.removeprefix(ANCHOR_SCHEME)
                del annotation["/A"]
                annotation.Dest = String(name)
                annotation.Contents = String(name)


def _stamp_folios(out: pikepdf.Pdf, stamps: dict[int, tuple[bytes, int]]) -> None:
    """Draw each folio from its sheet page over the book's page, marked as an artifact."""
    first = _next_number(out)
    sheets: dict[int, pikepdf.Pdf] = {}
    for index, (data, sheet_page) in sorted(stamps.items()):
        sheet = sheets.get(id(data))
        if sheet is None:
            sheet = sheets[id(data)] = pikepdf.open(io.BytesIO(data))
        form = out.copy_foreign(sheet.pages[sheet_page].as_form_xobject())
        page = out.pages[index]
        resources = Dictionary({k: v for k, v in page.obj.Resources.items()})
        xobjects = Dictionary({k: v for k, v in resources.get("/XObject", Dictionary()).items()})
        xobjects[FOLIO_XOBJECT] = form
        resources.XObject = xobjects
        page.obj.Resources = resources
        # The page's own content leaves a flipped coordinate system behind: q ... Q resets it.
        page.contents_add(b"q\n", prepend=True)
        page.contents_add(f"\nQ\n/Artifact BMC\nq\n{FOLIO_XOBJECT} Do\nQ\nEMC\n".encode())
    _detach(out, range(first, _next_number(out)))
    for sheet in sheets.values():
        sheet.close()


def set_right_to_left(out: pikepdf.Pdf) -> None:
    """Viewer preferences that show a right-to-left book's spreads right page first
    (/Direction /R2L, PDF 32000-1 12.2), beside the ones WeasyPrint wrote."""
    prefs = out.Root.get("/ViewerPreferences")
    if prefs is None:
        out.Root.ViewerPreferences = prefs = Dictionary()
    prefs.Direction = Name.R2L


def _label_pages(out: pikepdf.Pdf, body_start: int) -> None:
    """PDF page labels that match the printed folios: i, ii, ... then 1, 2, ..."""
    nums = Array([0, Dictionary(S=Name.r)])
    if body_start:
        nums.extend([body_start, Dictionary(S=Name.D, St=1)])
    out.Root.PageLabels = Dictionary(Nums=nums)
