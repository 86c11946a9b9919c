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

import io

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
    page index to (sheet PDF, page of the sheet) whose folio is drawn over it."""
    out = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(data)) for data in units]
    unit_pages: list[list[pikepdf.Page]] = [[] for _ in sources]
    for entry in sequence:
        if entry is None:
            blank_source = pikepdf.open(io.BytesIO(blank))  # a fresh copy for each blank page
            out.pages.append(blank_source.pages[1])
            if "/StructParents" in out.pages[-1].obj:
                del out.pages[-1].obj["/StructParents"]
            continue
        unit, index = entry
        out.pages.append(sources[unit].pages[index])
        unit_pages[unit].append(out.pages[-1])
    _join_structure(out, sources, unit_pages)
    _join_destinations(out, sources)
    _join_outlines(out, sources)
    _point_links_home(out)
    _stamp_folios(out, stamps)
    _label_pages(out, body_start)
    share_font_programs(out)
    for key in CATALOG_KEYS:
        if key in sources[0].Root:
            out.Root[key] = _copy(out, sources[0], sources[0].Root[key])
    out.trailer.Info = _copy(out, sources[0], sources[0].trailer.Info)
    buffer = io.BytesIO()
    out.save(
        buffer,
        deterministic_id=True,
        min_version=sources[0].pdf_version,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    return buffer.getvalue()


def _join_structure(
    out: pikepdf.Pdf, sources: list[pikepdf.Pdf], unit_pages: list[list[pikepdf.Page]]
) -> None:
    """One StructTreeRoot with one Document element over every unit's structure elements."""
    roots = [source.Root.get("/StructTreeRoot") for source in sources]
    if any(root is None for root in roots):
        return  # not a tagged PDF (pdf-variant: none)
    tree = out.make_indirect(Dictionary(Type=Name.StructTreeRoot))
    document = out.make_indirect(
        Dictionary(Type=Name.StructElem, S=Name.Document, K=Array(), P=tree)
    )
    nums, role_map = Array(), Dictionary()
    for root, pages in zip(roots, unit_pages, strict=True):
        root = out.copy_foreign(root)
        for old in root.K:
            for kid in old.get("/K", Array()):
                kid.P = document
                document.K.append(kid)
        keys = {}
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
            role_map[key] = value
    tree.K = Array([document])
    tree.ParentTree = out.make_indirect(Dictionary(Nums=nums))
    tree.ParentTreeNextKey = len(nums) // 2
    if role_map:
        tree.RoleMap = role_map
    out.Root.StructTreeRoot = tree


def _join_destinations(out: pikepdf.Pdf, sources: list[pikepdf.Pdf]) -> None:
    """One name tree of destinations (every element id), sorted as WeasyPrint sorts it."""
    found: dict[str, pikepdf.Object] = {}
    for source in sources:
        names = source.Root.get("/Names", Dictionary()).get("/Dests", Dictionary())
        flat = names.get("/Names", Array())
        for n in range(0, len(flat), 2):
            if str(flat[n]) not in found:
                found[str(flat[n])] = _copy(out, source, flat[n + 1])
    flat = Array()
    for name in sorted(found):
        flat.extend([String(name), found[name]])
    if flat:
        out.Root.Names = Dictionary(Dests=Dictionary(Names=flat))


def _join_outlines(out: pikepdf.Pdf, sources: list[pikepdf.Pdf]) -> None:
    """The units' bookmarks, in order, as one outline."""
    items = []
    for source in sources:
        with source.open_outline() as outline:
            items += [_copy_item(out, source, item) for item in outline.root]
    if items:
        with out.open_outline() as outline:
            outline.root.extend(items)


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


def _label_pages(out: pikepdf.Pdf, body_start: int) -> None:
    """PDF page labels that match the printed folios: i, ii, ... then 1, 2, ..."""
    nums = Array([0, Dictionary(S=Name.r)])
    if body_start:
        nums.extend([body_start, Dictionary(S=Name.D, St=1)])
    out.Root.PageLabels = Dictionary(Nums=nums)
