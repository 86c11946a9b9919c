"""Assembly: the units' PDFs joined with pikepdf into one book, as one layout would have made it.

What one document would have had once and the units have each: the page sequence (with the
blank versos that put each chapter on a recto), page labels, named destinations and the links
to them, the outline, the font programs (one per face, see shared_fonts.py), and the PDF/UA
structure tree. The tree is rebuilt as one Document
element holding every unit's elements; the keys of the ParentTree (which maps each page's
marked content and each link annotation back to its structure element) are renumbered, and
each page's /StructParents and each annotation's /StructParent with them.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from itertools import groupby

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, String

from quire.render.pdf.html import ANCHOR_SCHEME
from quire.render.pdf.shared_fonts import share_font_programs

FOLIO_XOBJECT = "/QuireFolio"
CATALOG_KEYS = ("/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata", "/OutputIntents")


def assemble(
    units: list[bytes],
    sequence: list[tuple[int, int] | None],
    body_start: int,
    stamps: dict[int, tuple[bytes, int]],
    blank: bytes,
) -> bytes:
    """One PDF: sequence[i] is (unit, page in unit) or None for a blank verso; stamps maps a
    page index to (sheet PDF, page of the sheet) whose folio is drawn over it.

    The units are taken one at a time, in order, and each is closed as soon as what the book
    needs of it is copied (see _detach): with every unit open at once, as before, joining a
    long book took more memory than any other step of the build."""
    out = pikepdf.new()
    joined = _Joined(out)
    for unit, entries in groupby(sequence, key=lambda entry: None if entry is None else entry[0]):
        if unit is None:
            for _blank in entries:
                _append_blank(out, blank)
        else:
            with _opened(out, units[unit]) as source:
                pages = []
                for _unit, index in entries:
                    out.pages.append(source.pages[index])
                    pages.append(out.pages[-1])
                joined.take(source, pages)
    joined.finish()
    _point_links_home(out)
    _stamp_folios(out, stamps)
    _label_pages(out, body_start)
    share_font_programs(out)
    buffer = io.BytesIO()
    out.save(
        buffer,
        deterministic_id=True,
        min_version=joined.version,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    return buffer.getvalue()


@contextlib.contextmanager
def _opened(out: pikepdf.Pdf, data: bytes) -> Iterator[pikepdf.Pdf]:
    """A PDF to copy from into `out`, closed once the copies no longer need it (_detach)."""
    first = _next_number(out)
    source = pikepdf.open(io.BytesIO(data))
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


class _Joined:
    """What one document would have once and each unit has: the structure tree, the named
    destinations, the outline and the catalog's entries; gathered unit by unit."""

    def __init__(self, out: pikepdf.Pdf) -> None:
        self.out = out
        self.version = ""  # the first unit's PDF version: the book's least
        self.untagged = False
        self.document = out.make_indirect(
            Dictionary(Type=Name.StructElem, S=Name.Document, K=Array())
        )
        self.nums, self.role_map = Array(), Dictionary()
        self.destinations: dict[str, pikepdf.Object] = {}
        self.outline: list[OutlineItem] = []

    def take(self, source: pikepdf.Pdf, pages: list[pikepdf.Page]) -> None:
        """Gather a unit's share, its pages being already in the book."""
        if not self.version:
            self.version = source.pdf_version
            for key in CATALOG_KEYS:
                if key in source.Root:
                    self.out.Root[key] = _copy(self.out, source, source.Root[key])
            self.out.trailer.Info = _copy(self.out, source, source.trailer.Info)
        self._structure(source, pages)
        names = source.Root.get("/Names", Dictionary()).get("/Dests", Dictionary())
        flat = names.get("/Names", Array())
        for n in range(0, len(flat), 2):
            if str(flat[n]) not in self.destinations:  # the first unit's, as one layout's
                self.destinations[str(flat[n])] = _copy(self.out, source, flat[n + 1])
        with source.open_outline() as outline:
            self.outline += [_copy_item(self.out, source, item) for item in outline.root]

    def finish(self) -> None:
        """Put the gathered structure tree, destinations and outline in the book."""
        out = self.out
        if not self.untagged:  # every unit tagged (no pdf-variant: none)
            tree = out.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=Array([self.document])))
            self.document.P = tree
            tree.ParentTree = out.make_indirect(Dictionary(Nums=self.nums))
            tree.ParentTreeNextKey = len(self.nums) // 2
            if self.role_map:
                tree.RoleMap = self.role_map
            out.Root.StructTreeRoot = tree
        flat = Array()
        for name in sorted(self.destinations):  # sorted, as WeasyPrint sorts them
            flat.extend([String(name), self.destinations[name]])
        if flat:
            out.Root.Names = Dictionary(Dests=Dictionary(Names=flat))
        if self.outline:
            with out.open_outline() as outline:
                outline.root.extend(self.outline)

    def _structure(self, source: pikepdf.Pdf, pages: list[pikepdf.Page]) -> None:
        """The unit's structure elements become children of the one Document element; the
        keys of its ParentTree are renumbered after those of the units before it."""
        root = source.Root.get("/StructTreeRoot")
        if root is None:
            self.untagged = True
            return
        root = self.out.copy_foreign(root)
        for old in root.K:
            for kid in old.get("/K", Array()):
                kid.P = self.document
                self.document.K.append(kid)
        keys, nums = {}, self.nums
        parent_nums = root.ParentTree.Nums
        for n in range(0, len(parent_nums), 2):
            keys[int(parent_nums[n])] = len(nums) // 2
            nums.extend([len(nums) // 2, parent_nums[n + 1]])
        for page in pages:
            if "/StructParents" in page.obj:
                page.obj.StructParents = keys[int(page.obj.StructParents)]
            for annotation in page.obj.get("/Annots", Array()):
                if "/StructParent" in annotation:
                    annotation.StructParent = keys[int(annotation.StructParent)]
        for key, value in root.get("/RoleMap", Dictionary()).items():
            self.role_map[key] = value


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


def _label_pages(out: pikepdf.Pdf, body_start: int) -> None:
    """PDF page labels that match the printed folios: i, ii, ... then 1, 2, ..."""
    nums = Array([0, Dictionary(S=Name.r)])
    if body_start:
        nums.extend([body_start, Dictionary(S=Name.D, St=1)])
    out.Root.PageLabels = Dictionary(Nums=nums)
